"""SQL for trends and the Home tab: counts and durations over time windows, and a person's open cases."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import and_, case, func, select

from bot.cases import CaseState, Severity
from bot.insights import OpenCase
from bot.playbook import StepStatus
from storage.cases import case_from_row
from storage.db import Database
from storage.tables import CaseRow, CaseStepRow

_SEVERITY_RANK = case(
    {s.value: s.rank for s in Severity},
    value=CaseRow.severity,
    else_=0,
)


class SqlInsightsRepository:
    def __init__(self, db: Database) -> None:
        self._db = db

    async def counts(self, team_id: str, start: datetime, end: datetime) -> tuple[int, int]:
        async with self._db.transaction() as session:
            opened = await session.scalar(
                select(func.count()).where(
                    CaseRow.team_id == team_id, CaseRow.created_at >= start, CaseRow.created_at < end
                )
            )
            closed = await session.scalar(
                select(func.count()).where(
                    CaseRow.team_id == team_id, CaseRow.closed_at >= start, CaseRow.closed_at < end
                )
            )
            return int(opened or 0), int(closed or 0)

    async def acknowledge_durations(self, team_id: str, start: datetime, end: datetime) -> list[timedelta]:
        seconds = self._epoch(CaseRow.acknowledged_at) - self._epoch(CaseRow.created_at)
        async with self._db.transaction() as session:
            rows = await session.execute(
                select(seconds).where(
                    CaseRow.team_id == team_id,
                    CaseRow.created_at >= start,
                    CaseRow.created_at < end,
                    CaseRow.acknowledged_at.is_not(None),
                )
            )
            return [timedelta(seconds=round(float(s))) for (s,) in rows]

    async def resolve_durations(self, team_id: str, start: datetime, end: datetime) -> list[timedelta]:
        seconds = self._epoch(CaseRow.closed_at) - self._epoch(CaseRow.created_at)
        async with self._db.transaction() as session:
            rows = await session.execute(
                select(seconds).where(
                    CaseRow.team_id == team_id, CaseRow.closed_at >= start, CaseRow.closed_at < end
                )
            )
            return [timedelta(seconds=round(float(s))) for (s,) in rows]

    async def root_cause_counts(
        self, team_id: str, starts: Sequence[datetime], end: datetime
    ) -> dict[str, list[int]]:
        """One grouped query: each case falls in the bucket of the last start at or before it."""
        if not starts:
            return {}
        first, width = starts[0], (starts[1] - starts[0]) if len(starts) > 1 else (end - starts[0])
        bucket = func.floor((self._epoch(CaseRow.created_at) - first.timestamp()) / width.total_seconds())
        async with self._db.transaction() as session:
            rows = await session.execute(
                select(CaseRow.root_cause_category, bucket, func.count())
                .where(
                    CaseRow.team_id == team_id,
                    CaseRow.created_at >= first,
                    CaseRow.created_at < end,
                    CaseRow.root_cause_category.is_not(None),
                )
                .group_by(CaseRow.root_cause_category, bucket)
            )
            counts: dict[str, list[int]] = {}
            for category, index, count in rows:
                slot = min(max(int(index), 0), len(starts) - 1)
                counts.setdefault(str(category), [0] * len(starts))[slot] += int(count)
            return counts

    def _epoch(self, column: Any) -> Any:
        """Seconds since 1970 of a timestamp column, computed by the database (no datetime parsing here)."""
        if self._db.dialect == "sqlite":
            return (func.julianday(column) - 2440587.5) * 86400.0
        return func.extract("epoch", column)

    async def open_cases(self, team_id: str, owner_user_id: str, limit: int) -> list[OpenCase]:
        async with self._db.transaction() as session:
            rows = list(
                (
                    await session.execute(
                        select(CaseRow)
                        .where(
                            CaseRow.team_id == team_id,
                            CaseRow.owner_user_id == owner_user_id,
                            CaseRow.state == CaseState.OPEN.value,
                        )
                        .order_by(_SEVERITY_RANK.desc(), CaseRow.created_at, CaseRow.id)
                        .limit(limit)
                    )
                ).scalars()
            )
            if not rows:
                return []
            first_pending = (
                select(CaseStepRow.case_id, func.min(CaseStepRow.position).label("position"))
                .where(
                    CaseStepRow.case_id.in_([r.id for r in rows]),
                    CaseStepRow.status == StepStatus.PENDING.value,
                )
                .group_by(CaseStepRow.case_id)
                .subquery()
            )
            steps = await session.execute(
                select(CaseStepRow.case_id, CaseStepRow.definition).join(
                    first_pending,
                    and_(
                        CaseStepRow.case_id == first_pending.c.case_id,
                        CaseStepRow.position == first_pending.c.position,
                    ),
                )
            )
            titles = {case_id: str(definition.get("title", "")) for case_id, definition in steps}
            return [OpenCase(case=case_from_row(r), next_step=titles.get(r.id)) for r in rows]

    async def count_open_cases(self, team_id: str, owner_user_id: str) -> int:
        async with self._db.transaction() as session:
            count = await session.scalar(
                select(func.count()).where(
                    CaseRow.team_id == team_id,
                    CaseRow.owner_user_id == owner_user_id,
                    CaseRow.state == CaseState.OPEN.value,
                )
            )
            return int(count or 0)

    async def team_ids(self) -> list[str]:
        async with self._db.transaction() as session:
            return [str(t) for t in (await session.execute(select(CaseRow.team_id).distinct())).scalars()]
