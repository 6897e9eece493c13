"""SQL for trends and the Home tab: counts and durations over time windows, and a person's open cases."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import and_, case, func, select

from bot.amends.models import AmendsState
from bot.cases import Case, CaseState, Severity
from bot.followups.models import FollowUpKind, FollowUpState, PromiseState
from bot.insights import CaseAmends, CasePromise, OpenCase, Outcome, OutcomeRow
from bot.playbook import StepStatus
from storage.amends import AmendsRow, amends_from_row
from storage.cases import case_from_row
from storage.db import Database
from storage.followups import FollowUpRow, PromiseRow, promise_from_row
from storage.tables import CaseRow, CaseStepRow

_SEVERITY_RANK = case(
    {s.value: s.rank for s in Severity},
    value=CaseRow.severity,
    else_=0,
)


class SqlInsightsRepository:
    def __init__(self, db: Database) -> None:
        self._db = db

    async def window_figures(
        self, team_id: str, start: datetime, end: datetime
    ) -> tuple[int, int, timedelta | None, timedelta | None]:
        """Cases opened and closed in [start, end), the median report-to-apology of those opened and the
        median report-to-close of those closed: medians computed by the database, no rows fetched."""
        ack = self._epoch(CaseRow.acknowledged_at) - self._epoch(CaseRow.created_at)  # NULL if not acked
        resolve = self._epoch(CaseRow.closed_at) - self._epoch(CaseRow.created_at)
        async with self._db.transaction() as session:
            opened, median_ack = await self._count_and_median(
                session, ack, CaseRow.team_id == team_id, CaseRow.created_at >= start, CaseRow.created_at < end
            )
            closed, median_resolve = await self._count_and_median(
                session, resolve, CaseRow.team_id == team_id, CaseRow.closed_at >= start, CaseRow.closed_at < end
            )
        return opened, closed, median_ack, median_resolve

    async def _count_and_median(self, session: Any, value: Any, *where: Any) -> tuple[int, timedelta | None]:
        if self._db.dialect == "postgresql":  # one aggregate: percentile_cont ignores the NULLs
            count, middle = (
                await session.execute(
                    select(func.count(), func.percentile_cont(0.5).within_group(value)).where(*where)
                )
            ).one()
            return int(count or 0), None if middle is None else timedelta(seconds=round(float(middle)))
        # SQLite has no percentile: count, then read the middle one or two values through the index order.
        count, known = (await session.execute(select(func.count(), func.count(value)).where(*where))).one()
        if not known:
            return int(count or 0), None
        known = int(known)
        middle = (
            select(value.label("v"))
            .where(*where, value.is_not(None))
            .order_by(value)
            .limit(2 - known % 2)
            .offset((known - 1) // 2)
            .subquery()
        )
        avg = await session.scalar(select(func.avg(middle.c.v)))
        return int(count or 0), timedelta(seconds=round(float(avg)))

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

    async def weekly_counts(
        self, team_id: str, starts: Sequence[datetime], end: datetime
    ) -> tuple[list[int], list[int]]:
        """Two grouped queries (opened by created_at, closed by closed_at), bucketed by the database."""
        result: list[list[int]] = []
        if not starts:
            return [], []
        first = starts[0]
        width = (starts[1] - starts[0]) if len(starts) > 1 else (end - starts[0])
        async with self._db.transaction() as session:
            for column in (CaseRow.created_at, CaseRow.closed_at):
                bucket = func.floor((self._epoch(column) - first.timestamp()) / width.total_seconds())
                rows = await session.execute(
                    select(bucket, func.count())
                    .where(CaseRow.team_id == team_id, column >= first, column < end)
                    .group_by(bucket)
                )
                counts = [0] * len(starts)
                for index, count in rows:
                    counts[min(max(int(index), 0), len(starts) - 1)] += int(count)
                result.append(counts)
        return result[0], result[1]

    async def outcomes(
        self, team_id: str, starts: Sequence[datetime], end: datetime
    ) -> list[list[OutcomeRow]]:
        """One grouped query over the cases closed in [start, end): each case's latest "Is the customer
        satisfied?" answer and latest re-survey, each found through ix_follow_ups_answers (one index probe
        per case, never a scan of the whole queue), then counted by category, root cause and answer."""

        if not starts:
            return []
        kinds = [FollowUpKind.CUSTOMER_FOLLOW_UP.value, FollowUpKind.RESURVEY.value]
        # The period each case closed in: 0 for the first start, 1 for the next... (one pass for all periods).
        period = case(
            *[(CaseRow.closed_at >= at, len(starts) - 1 - i) for i, at in enumerate(reversed(starts))], else_=0
        )
        newest_first = func.row_number().over(
            partition_by=(FollowUpRow.case_id, FollowUpRow.kind), order_by=FollowUpRow.id.desc()
        )
        answers = (
            select(
                period.label("period"),
                CaseRow.category.label("category"),
                CaseRow.root_cause_category.label("root_cause"),
                FollowUpRow.kind.label("kind"),
                FollowUpRow.resolution.label("resolution"),
                FollowUpRow.resolution_data["outcome"].as_string().label("outcome"),
                FollowUpRow.resolution_data["score"].as_integer().label("score"),
                newest_first.label("newest"),
            )
            .join(FollowUpRow, FollowUpRow.case_id == CaseRow.id)
            .where(
                CaseRow.team_id == team_id,
                CaseRow.closed_at >= starts[0],
                CaseRow.closed_at < end,
                FollowUpRow.kind.in_(kinds),
                FollowUpRow.state == FollowUpState.RESOLVED.value,
            )
            .subquery()
        )
        names = ("period", "category", "root_cause", "kind", "resolution", "outcome", "score")
        columns = [answers.c[name] for name in names]
        query = select(*columns, func.count()).where(answers.c.newest == 1).group_by(*columns)
        stayed = {"stayed_satisfied": "stayed", "neutral": "neutral", "left": "left"}
        grouped: dict[tuple[int, str, str | None], Outcome] = {}
        async with self._db.transaction() as session:
            rows: list[tuple[Any, ...]] = [tuple(r) for r in await session.execute(query)]
            for slot, category, root, kind, resolution, chosen, points, count in rows:
                n = int(count)
                add = Outcome()
                if kind == FollowUpKind.CUSTOMER_FOLLOW_UP.value:
                    add = Outcome(asked=n, recovered=n if resolution == "satisfied" else 0)
                elif resolution == "recorded" and chosen in stayed:
                    add = Outcome(
                        **{stayed[chosen]: n},
                        score_total=int(points) * n if points is not None else 0,
                        scored=n if points is not None else 0,
                    )
                key = (int(slot), str(category), str(root) if root else None)
                grouped[key] = grouped.get(key, Outcome()) + add
        periods: list[list[OutcomeRow]] = [[] for _ in starts]
        for (slot, category, root), outcome in grouped.items():
            periods[slot].append(OutcomeRow(category=category, root_cause=root, outcome=outcome))
        return periods

    async def unacknowledged(self, team_id: str, limit: int) -> tuple[list[Case], int]:
        where = (
            CaseRow.team_id == team_id,
            CaseRow.state == CaseState.OPEN.value,
            CaseRow.acknowledged_at.is_(None),
        )
        # Ordered by an expression, not the column: otherwise SQLite walks ix_cases_team_created through
        # all 100,000 cases to find the few open ones (340 ms); this way it reads the team's open cases.
        oldest = func.coalesce(CaseRow.created_at, CaseRow.updated_at)
        async with self._db.transaction() as session:
            rows = (
                await session.execute(select(CaseRow).where(*where).order_by(oldest).limit(limit))
            ).scalars()
            cases = [case_from_row(r) for r in rows]
            count = await session.scalar(select(func.count()).where(*where))
            return cases, int(count or 0)

    async def broken_promises(self, team_id: str, limit: int) -> list[CasePromise]:
        return await self._promises(
            [CaseRow.team_id == team_id, PromiseRow.state == PromiseState.BROKEN.value],
            PromiseRow.due_at.desc(),
            limit,
        )

    async def open_promises(self, team_id: str, owner_user_id: str, limit: int) -> list[CasePromise]:
        return await self._promises(
            [
                CaseRow.team_id == team_id,
                CaseRow.owner_user_id == owner_user_id,
                PromiseRow.state == PromiseState.OPEN.value,
            ],
            PromiseRow.due_at,
            limit,
        )

    async def _promises(self, where: list[Any], order: Any, limit: int) -> list[CasePromise]:
        async with self._db.transaction() as session:
            rows = await session.execute(
                select(PromiseRow, CaseRow)
                .join(CaseRow, CaseRow.id == PromiseRow.case_id)
                .where(*where, CaseRow.state == CaseState.OPEN.value)
                .order_by(order, PromiseRow.id)
                .limit(limit)
            )
            return [CasePromise(case=case_from_row(c), promise=promise_from_row(p)) for p, c in rows]

    async def amends_waiting(
        self, team_id: str, limit: int, requester_user_id: str | None = None
    ) -> list[CaseAmends]:
        where = [
            AmendsRow.team_id == team_id,
            AmendsRow.state == AmendsState.PENDING.value,
            CaseRow.state == CaseState.OPEN.value,
        ]
        if requester_user_id is not None:
            where.append(AmendsRow.requester_user_id == requester_user_id)
        async with self._db.transaction() as session:
            rows = await session.execute(
                select(AmendsRow, CaseRow)
                .join(CaseRow, CaseRow.id == AmendsRow.case_id)
                .where(*where)
                .order_by(AmendsRow.requested_at, AmendsRow.id)
                .limit(limit)
            )
            return [CaseAmends(case=case_from_row(c), amends=amends_from_row(a)) for a, c in rows]

    async def open_loads(self, team_id: str, limit: int) -> list[tuple[str, int]]:
        count = func.count()
        async with self._db.transaction() as session:
            rows = await session.execute(
                select(CaseRow.owner_user_id, count)
                .where(CaseRow.team_id == team_id, CaseRow.state == CaseState.OPEN.value)
                .group_by(CaseRow.owner_user_id)
                .order_by(count.desc(), CaseRow.owner_user_id)
                .limit(limit)
            )
            return [(str(owner), int(n)) for owner, n in rows]
