"""SQL for catching Slack up: which cases lag behind what Slack shows, leased one process at a time."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import and_, or_, select, update

from bot.cases import CaseState
from bot.catch_up import MAX_FAILURES, backoff
from storage.db import Database
from storage.tables import CaseRow

LAGGING = or_(
    CaseRow.card_ts.is_(None),
    CaseRow.thread_opened_at.is_(None),
    CaseRow.card_version < CaseRow.version,
    and_(CaseRow.state == CaseState.CLOSED.value, CaseRow.closed_notice_ts.is_(None)),
)


class SqlLaggingCases:
    def __init__(self, db: Database) -> None:
        self._db = db

    async def claim(
        self, now: datetime, quiet_since: datetime, lease_until: datetime, limit: int
    ) -> list[int]:
        free = or_(CaseRow.catch_up_lease_until.is_(None), CaseRow.catch_up_lease_until < now)
        async with self._db.transaction() as session:
            candidates = list(
                (
                    await session.execute(
                        select(CaseRow.id)
                        .where(
                            LAGGING,
                            free,
                            CaseRow.updated_at < quiet_since,
                            CaseRow.catch_up_failures < MAX_FAILURES,
                        )
                        .order_by(CaseRow.id)
                        .limit(limit)
                    )
                ).scalars()
            )
        claimed = []
        for case_id in candidates:
            # One conditional update per case: whoever sets the lease first has it.
            async with self._db.transaction() as session:
                result = await session.execute(
                    update(CaseRow)
                    .where(CaseRow.id == case_id, free)
                    .values(catch_up_lease_until=lease_until)
                )
                if result.rowcount:  # type: ignore[attr-defined]
                    claimed.append(case_id)
        return claimed

    async def is_lagging(self, case_id: int) -> bool:
        async with self._db.transaction() as session:
            return (
                await session.scalar(select(CaseRow.id).where(CaseRow.id == case_id, LAGGING))
            ) is not None

    async def caught_up(self, case_id: int) -> None:
        async with self._db.transaction() as session:
            await session.execute(
                update(CaseRow)
                .where(CaseRow.id == case_id)
                .values(catch_up_lease_until=None, catch_up_failures=0)
            )

    async def failed(self, case_id: int, now: datetime) -> None:
        async with self._db.transaction() as session:
            failures = int(
                await session.scalar(select(CaseRow.catch_up_failures).where(CaseRow.id == case_id)) or 0
            )
            await session.execute(
                update(CaseRow)
                .where(CaseRow.id == case_id)
                .values(catch_up_failures=failures + 1, catch_up_lease_until=now + backoff(failures + 1))
            )
