"""SQL storage of follow-ups (the queue) and promises: staging inside other transactions, atomic claims with
a lease (`FOR UPDATE SKIP LOCKED` on PostgreSQL, `BEGIN IMMEDIATE` on SQLite), and lease-holder-only updates.

Other repositories schedule follow-ups with `stage(session, requests, case_id=..., now=...)` INSIDE their own
transaction; the unique `dedupe_key` makes a retried change stage nothing twice.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import (
    JSON,
    Boolean,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    and_,
    or_,
    select,
    text,
    update,
)
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import Mapped, mapped_column

from bot.cases import MessageRef
from bot.followup_request import FollowUpRequest
from bot.followups import (
    CLAIMABLE,
    FollowUp,
    FollowUpState,
    NewPromise,
    Promise,
    PromiseState,
    case_kind,
    promise_requests,
)
from storage.db import Database, is_sqlite
from storage.tables import Base, BigId, CaseEventRow, CaseRow, UtcDateTime

_CLAIMABLE = [s.value for s in CLAIMABLE]


class FollowUpRow(Base):
    """One follow-up: a generic queue row (kind + JSON payload + due_at + dedupe key + lease + outcome)."""

    __tablename__ = "follow_ups"

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    kind: Mapped[str] = mapped_column(String(48))
    case_id: Mapped[int | None] = mapped_column(ForeignKey("cases.id", ondelete="CASCADE"), index=True)
    dedupe_key: Mapped[str] = mapped_column(String(200), unique=True)
    payload: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    due_at: Mapped[datetime] = mapped_column(UtcDateTime)
    exact: Mapped[bool] = mapped_column(Boolean, default=False)
    state: Mapped[str] = mapped_column(String(16))
    # Bumped by snooze and reassign: each round has its own message and metadata key.
    round: Mapped[int] = mapped_column(Integer, default=0)
    recipient_user_id: Mapped[str | None] = mapped_column(String(32))
    lease_token: Mapped[str | None] = mapped_column(String(64))
    lease_until: Mapped[datetime | None] = mapped_column(UtcDateTime)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    attempted_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    last_error: Mapped[str | None] = mapped_column(Text)
    outcome: Mapped[str | None] = mapped_column(String(200))
    message_channel_id: Mapped[str | None] = mapped_column(String(32))
    message_ts: Mapped[str | None] = mapped_column(String(32))
    sent_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    resolution: Mapped[str | None] = mapped_column(String(32))
    resolution_data: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    resolved_by: Mapped[str | None] = mapped_column(String(32))
    resolved_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime)
    updated_at: Mapped[datetime] = mapped_column(UtcDateTime)

    __table_args__ = (
        # The poller's only query: a partial index keeps it fast with any number of sent rows behind it.
        Index(
            "ix_follow_ups_due",
            "due_at",
            postgresql_where=text("state IN ('pending', 'unknown')"),
            sqlite_where=text("state IN ('pending', 'unknown')"),
        ),
    )


class PromiseRow(Base):
    __tablename__ = "promises"

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("cases.id", ondelete="CASCADE"), index=True)
    text: Mapped[str] = mapped_column(Text)
    due_at: Mapped[datetime] = mapped_column(UtcDateTime)
    state: Mapped[str] = mapped_column(String(16))
    view_key: Mapped[str | None] = mapped_column(String(64), unique=True)
    created_by: Mapped[str] = mapped_column(String(32))
    created_at: Mapped[datetime] = mapped_column(UtcDateTime)
    resolved_by: Mapped[str | None] = mapped_column(String(32))
    resolved_at: Mapped[datetime | None] = mapped_column(UtcDateTime)


def event_row(case_id: int, kind: str, actor: str | None, at: datetime, **data: Any) -> CaseEventRow:
    return CaseEventRow(case_id=case_id, kind=kind, actor_user_id=actor, at=at, data=data)


async def redraw_card(session: AsyncSession, case_id: int | None) -> None:
    """The case card lists open promises and planned check-ins: a change to one bumps the case's version,
    so the next sync redraws the card (RecoveryService.sync)."""
    if case_id is not None:
        await session.execute(
            update(CaseRow).where(CaseRow.id == case_id).values(version=CaseRow.version + 1)
        )


def _on_card(kind: str) -> bool:
    rules = case_kind(kind)
    return rules is not None and rules.on_card


def dedupe_key(request: FollowUpRequest, case_id: int | None) -> str:
    return case_key(request.key, case_id)


def case_key(key: str, case_id: int | None) -> str:
    return f"case:{case_id}:{key}" if case_id is not None else key


async def stage(
    session: AsyncSession, requests: Sequence[FollowUpRequest], *, case_id: int | None, now: datetime
) -> None:
    """Add follow-ups inside the caller's transaction; one whose dedupe key exists already is left as it is."""
    if not requests:
        return
    rows = [
        {
            "kind": str(r.kind),
            "case_id": case_id,
            "dedupe_key": dedupe_key(r, case_id),
            "payload": dict(r.payload),
            "due_at": r.due_at,
            "exact": r.exact,
            "state": FollowUpState.PENDING.value,
            "round": 0,
            "recipient_user_id": r.recipient_user_id,
            "attempts": 0,
            "created_at": now,
            "updated_at": now,
        }
        for r in requests
    ]
    dialect = session.bind.dialect.name if session.bind is not None else "sqlite"
    insert = pg_insert if dialect == "postgresql" else sqlite_insert
    await session.execute(
        insert(FollowUpRow).values(rows).on_conflict_do_nothing(index_elements=["dedupe_key"])
    )


def follow_up_from_row(row: FollowUpRow) -> FollowUp:
    return FollowUp(
        id=row.id,
        kind=row.kind,
        case_id=row.case_id,
        dedupe_key=row.dedupe_key,
        payload=row.payload or {},
        due_at=row.due_at,
        exact=row.exact,
        state=FollowUpState(row.state),
        round=row.round,
        recipient_user_id=row.recipient_user_id,
        lease_token=row.lease_token,
        attempts=row.attempts,
        attempted_at=row.attempted_at,
        message=MessageRef(channel_id=row.message_channel_id, ts=row.message_ts)
        if row.message_channel_id and row.message_ts
        else None,
        sent_at=row.sent_at,
        outcome=row.outcome,
        resolution=row.resolution,
        resolved_by=row.resolved_by,
        created_at=row.created_at,
    )


def promise_from_row(row: PromiseRow) -> Promise:
    return Promise(
        id=row.id,
        case_id=row.case_id,
        text=row.text,
        due_at=row.due_at,
        state=PromiseState(row.state),
        created_by=row.created_by,
        created_at=row.created_at,
    )


def _held(item: FollowUp) -> Any:
    """Only the holder of the current lease may change a claimed row."""
    return and_(FollowUpRow.id == item.id, FollowUpRow.lease_token == item.lease_token)


class SqlFollowUpRepository:
    def __init__(self, db: Database) -> None:
        self._db = db
        self._sqlite = is_sqlite(db.url)

    async def claim(self, now: datetime, limit: int, lease_until: datetime, token: str) -> list[FollowUp]:
        return await self._claim(now, limit, lease_until, token)

    async def claim_staged(
        self,
        case_id: int | None,
        key_prefix: str,
        now: datetime,
        limit: int,
        lease_until: datetime,
        token: str,
    ) -> list[FollowUp]:
        staged = [FollowUpRow.dedupe_key.startswith(case_key(key_prefix, case_id), autoescape=True)]
        if case_id is not None:
            staged.append(FollowUpRow.case_id == case_id)  # indexed: the prefix alone would scan
        # In the order they were staged: a change's effects go out as it listed them.
        return await self._claim(now, limit, lease_until, token, *staged, order=FollowUpRow.id)

    async def _claim(
        self, now: datetime, limit: int, lease_until: datetime, token: str, *where: Any, order: Any = None
    ) -> list[FollowUp]:
        order = FollowUpRow.due_at if order is None else order
        due = (
            select(FollowUpRow.id)
            .where(
                FollowUpRow.state.in_(_CLAIMABLE),
                FollowUpRow.due_at <= now,
                or_(FollowUpRow.lease_until.is_(None), FollowUpRow.lease_until <= now),
                *where,
            )
            .order_by(order)
            .limit(limit)
        )
        async with self._db.transaction() as session:
            if self._sqlite:
                # Take SQLite's write lock before reading, so two processes never pick the same rows.
                await session.execute(text("BEGIN IMMEDIATE"))
            else:
                # Rows another process is claiming right now are skipped, not waited for.
                due = due.with_for_update(skip_locked=True)
            ids = list((await session.execute(due)).scalars())
            if not ids:
                return []
            await session.execute(
                update(FollowUpRow)
                .where(FollowUpRow.id.in_(ids))
                .values(lease_token=token, lease_until=lease_until)
            )
            rows = (
                await session.execute(
                    select(FollowUpRow)
                    .where(FollowUpRow.id.in_(ids))
                    .order_by(order)
                    .execution_options(populate_existing=True)
                )
            ).scalars()
            return [follow_up_from_row(r) for r in rows]

    async def next_pending(self, limit: int) -> list[FollowUp]:
        """The earliest rows still to send, by due_at (the sandbox's "Next due" reads them; nothing is claimed)."""
        query = (
            select(FollowUpRow)
            .where(FollowUpRow.state.in_(_CLAIMABLE))
            .order_by(FollowUpRow.due_at, FollowUpRow.id)
            .limit(limit)
        )
        async with self._db.transaction() as session:
            return [follow_up_from_row(r) for r in (await session.execute(query)).scalars()]

    async def renew(self, tokens: Sequence[str], lease_until: datetime) -> int:
        async with self._db.transaction() as session:
            result = await session.execute(
                update(FollowUpRow)
                .where(FollowUpRow.lease_token.in_(list(tokens)), FollowUpRow.state.in_(_CLAIMABLE))
                .values(lease_until=lease_until)
            )
            return int(result.rowcount)  # type: ignore[attr-defined]

    async def begin_send(self, item: FollowUp, now: datetime, lease_until: datetime) -> bool:
        async with self._db.transaction() as session:
            result = await session.execute(
                update(FollowUpRow)
                .where(_held(item), FollowUpRow.state.in_(_CLAIMABLE))
                .values(
                    state=FollowUpState.UNKNOWN.value,
                    lease_until=lease_until,
                    attempted_at=now,
                    attempts=FollowUpRow.attempts + 1,
                    updated_at=now,
                )
            )
            return bool(result.rowcount)  # type: ignore[attr-defined]

    async def mark_sent(self, item: FollowUp, ref: MessageRef | None, now: datetime) -> bool:
        async with self._db.transaction() as session:
            result = await session.execute(
                update(FollowUpRow)
                .where(_held(item))
                .values(
                    state=FollowUpState.SENT.value,
                    lease_token=None,
                    lease_until=None,
                    message_channel_id=ref.channel_id if ref else None,
                    message_ts=ref.ts if ref else None,
                    sent_at=now,
                    outcome="sent",
                    last_error=None,
                    updated_at=now,
                )
            )
            return bool(result.rowcount)  # type: ignore[attr-defined]

    async def retry_later(
        self, item: FollowUp, due_at: datetime, error: str, *, state: FollowUpState, now: datetime
    ) -> None:
        async with self._db.transaction() as session:
            await session.execute(
                update(FollowUpRow)
                .where(_held(item))
                .values(
                    state=state.value,
                    due_at=due_at,
                    lease_token=None,
                    lease_until=None,
                    last_error=error[:1000],
                    outcome="failed" if state is FollowUpState.FAILED else None,
                    updated_at=now,
                )
            )

    async def postpone(self, item: FollowUp, due_at: datetime, reason: str, now: datetime) -> None:
        async with self._db.transaction() as session:
            await session.execute(
                update(FollowUpRow)
                .where(_held(item))
                .values(
                    due_at=due_at,
                    lease_token=None,
                    lease_until=None,
                    outcome=f"waiting: {reason}"[:200],
                    updated_at=now,
                )
            )

    async def release(self, item: FollowUp) -> None:
        async with self._db.transaction() as session:
            await session.execute(
                update(FollowUpRow).where(_held(item)).values(lease_token=None, lease_until=None)
            )

    async def cancel(self, item: FollowUp, reason: str, now: datetime) -> bool:
        async with self._db.transaction() as session:
            result = await session.execute(
                update(FollowUpRow)
                .where(_held(item), FollowUpRow.state.in_(_CLAIMABLE))
                .values(
                    state=FollowUpState.CANCELLED.value,
                    lease_token=None,
                    lease_until=None,
                    outcome=f"cancelled: {reason}"[:200],
                    updated_at=now,
                )
            )
            if result.rowcount and _on_card(item.kind):  # type: ignore[attr-defined]
                await redraw_card(session, item.case_id)
            return bool(result.rowcount)  # type: ignore[attr-defined]

    async def get(self, follow_up_id: int) -> FollowUp | None:
        async with self._db.transaction() as session:
            row = await session.get(FollowUpRow, follow_up_id)
            return follow_up_from_row(row) if row else None

    async def for_case(self, case_id: int) -> list[FollowUp]:
        async with self._db.transaction() as session:
            rows = (
                await session.execute(
                    select(FollowUpRow).where(FollowUpRow.case_id == case_id).order_by(FollowUpRow.id)
                )
            ).scalars()
            return [follow_up_from_row(r) for r in rows]

    async def resolve(
        self,
        follow_up_id: int,
        round_: int,
        *,
        resolution: str,
        actor_user_id: str,
        now: datetime,
        data: dict[str, Any] | None = None,
    ) -> FollowUp | None:
        async with self._db.transaction() as session:
            result = await session.execute(
                update(FollowUpRow)
                .where(
                    FollowUpRow.id == follow_up_id,
                    FollowUpRow.round == round_,
                    FollowUpRow.state == FollowUpState.SENT.value,
                )
                .values(
                    state=FollowUpState.RESOLVED.value,
                    resolution=resolution,
                    resolution_data=data,
                    resolved_by=actor_user_id,
                    resolved_at=now,
                    updated_at=now,
                )
            )
            if not result.rowcount:  # type: ignore[attr-defined]
                return None
            row = await session.get(FollowUpRow, follow_up_id, populate_existing=True)
            assert row is not None
            if _on_card(row.kind):
                await redraw_card(session, row.case_id)
            if row.case_id is not None:
                session.add(
                    event_row(
                        row.case_id,
                        f"{row.kind}_{resolution}",
                        actor_user_id,
                        now,
                        follow_up=row.id,
                        **(data or {}),
                    )
                )
            return follow_up_from_row(row)

    async def rearm(
        self,
        follow_up_id: int,
        round_: int,
        *,
        due_at: datetime,
        exact: bool,
        recipient_user_id: str | None,
        actor_user_id: str,
        now: datetime,
        event_kind: str,
        event_data: dict[str, Any],
    ) -> FollowUp | None:
        values: dict[str, Any] = {
            "state": FollowUpState.PENDING.value,
            "round": FollowUpRow.round + 1,
            "due_at": due_at,
            "exact": exact,
            "attempts": 0,
            "attempted_at": None,
            "outcome": event_kind.removeprefix("follow_up_"),
            "updated_at": now,
        }
        if recipient_user_id is not None:
            values["recipient_user_id"] = recipient_user_id
        async with self._db.transaction() as session:
            result = await session.execute(
                update(FollowUpRow)
                .where(
                    FollowUpRow.id == follow_up_id,
                    FollowUpRow.round == round_,
                    FollowUpRow.state == FollowUpState.SENT.value,
                )
                .values(**values)
            )
            if not result.rowcount:  # type: ignore[attr-defined]
                return None
            row = await session.get(FollowUpRow, follow_up_id, populate_existing=True)
            assert row is not None
            if _on_card(row.kind):
                await redraw_card(session, row.case_id)
            if row.case_id is not None:
                session.add(
                    event_row(
                        row.case_id,
                        event_kind,
                        actor_user_id,
                        now,
                        follow_up=row.id,
                        follow_up_kind=row.kind,
                        **event_data,
                    )
                )
            item = follow_up_from_row(row)
            # The message the person acted on is the previous round's: keep pointing at it for the update.
            return item

    async def stage(self, requests: Sequence[FollowUpRequest], case_id: int | None, now: datetime) -> None:
        async with self._db.transaction() as session:
            await stage(session, requests, case_id=case_id, now=now)
            if any(_on_card(str(r.kind)) for r in requests):
                await redraw_card(session, case_id)
            if case_id is not None:
                for r in requests:
                    session.add(
                        event_row(
                            case_id,
                            "follow_up_scheduled",
                            r.payload.get("by"),
                            now,
                            follow_up_kind=str(r.kind),
                            due_at=r.due_at.isoformat(),
                        )
                    )

    async def add_promise(self, new: NewPromise) -> Promise:
        row = PromiseRow(
            case_id=new.case_id,
            text=new.text,
            due_at=new.due_at,
            state=PromiseState.OPEN.value,
            view_key=new.view_key,
            created_by=new.created_by,
            created_at=new.at,
        )
        try:
            async with self._db.transaction() as session:
                session.add(row)
                await session.flush()
                requests = promise_requests(row.id, new.due_at, new.remind_at, made_at=new.at)
                await stage(session, requests, case_id=new.case_id, now=new.at)
                await redraw_card(session, new.case_id)
                session.add(
                    event_row(
                        new.case_id,
                        "promise_recorded",
                        new.created_by,
                        new.at,
                        promise=row.id,
                        due_at=new.due_at.isoformat(),
                    )
                )
            return promise_from_row(row)
        except IntegrityError:
            if new.view_key is None:
                raise
            async with self._db.transaction() as session:
                existing = (
                    await session.execute(select(PromiseRow).where(PromiseRow.view_key == new.view_key))
                ).scalar_one()
                return promise_from_row(existing)

    async def promise(self, promise_id: int) -> Promise | None:
        async with self._db.transaction() as session:
            row = await session.get(PromiseRow, promise_id)
            return promise_from_row(row) if row else None

    async def promises(self, case_id: int) -> list[Promise]:
        async with self._db.transaction() as session:
            rows = (
                await session.execute(
                    select(PromiseRow).where(PromiseRow.case_id == case_id).order_by(PromiseRow.id)
                )
            ).scalars()
            return [promise_from_row(r) for r in rows]

    async def open_commitments(self, case_id: int) -> tuple[list[Promise], list[FollowUp]]:
        """What the case card lists: promises not yet kept, and the planned check-ins still waiting."""
        waiting = [FollowUpState.PENDING.value, FollowUpState.UNKNOWN.value, FollowUpState.SENT.value]
        async with self._db.transaction() as session:
            promises = (
                await session.execute(
                    select(PromiseRow)
                    .where(PromiseRow.case_id == case_id, PromiseRow.state != PromiseState.KEPT.value)
                    .order_by(PromiseRow.due_at, PromiseRow.id)
                )
            ).scalars()
            rows = (
                await session.execute(
                    select(FollowUpRow)
                    .where(FollowUpRow.case_id == case_id, FollowUpRow.state.in_(waiting))
                    .order_by(FollowUpRow.due_at, FollowUpRow.id)
                )
            ).scalars()
            planned = [follow_up_from_row(r) for r in rows if _on_card(r.kind)]
            return [promise_from_row(p) for p in promises], planned

    async def keep_promise(self, promise_id: int, actor_user_id: str, now: datetime) -> bool:
        return await self._set_promise(
            promise_id,
            PromiseState.KEPT,
            from_states=(PromiseState.OPEN, PromiseState.BROKEN),
            actor_user_id=actor_user_id,
            now=now,
        )

    async def break_promise(self, promise_id: int, now: datetime) -> bool:
        return await self._set_promise(
            promise_id, PromiseState.BROKEN, from_states=(PromiseState.OPEN,), actor_user_id=None, now=now
        )

    async def _set_promise(
        self,
        promise_id: int,
        state: PromiseState,
        *,
        from_states: Sequence[PromiseState],
        actor_user_id: str | None,
        now: datetime,
    ) -> bool:
        async with self._db.transaction() as session:
            result = await session.execute(
                update(PromiseRow)
                .where(PromiseRow.id == promise_id, PromiseRow.state.in_([s.value for s in from_states]))
                .values(state=state.value, resolved_by=actor_user_id, resolved_at=now)
            )
            if not result.rowcount:  # type: ignore[attr-defined]
                return False
            row = await session.get(PromiseRow, promise_id)
            assert row is not None
            if state is PromiseState.KEPT:  # kept before its reminder went: the reminder is not sent
                await session.execute(
                    update(FollowUpRow)
                    .where(
                        FollowUpRow.dedupe_key == case_key(f"promise:{promise_id}:remind", row.case_id),
                        FollowUpRow.state == FollowUpState.PENDING.value,
                    )
                    .values(
                        state=FollowUpState.CANCELLED.value, outcome="cancelled: promise kept", updated_at=now
                    )
                )
            await redraw_card(session, row.case_id)
            session.add(
                event_row(row.case_id, f"promise_{state.value}", actor_user_id, now, promise=promise_id)
            )
            return True
