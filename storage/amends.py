"""SQL storage of amends: requests and decisions (one decision, by conditional update), copies, ledger; each
change stages its Slack side as follow-up rows in its own transaction (bot/amends/effects.py)."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
    and_,
    case,
    func,
    select,
    update,
)
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import Mapped, mapped_column

from bot.amends import (
    Amends,
    AmendsKind,
    AmendsSource,
    AmendsState,
    ApprovalCopy,
    DecideResult,
    LedgerEntry,
    Money,
    NewAmends,
    Outcome,
    Percent,
    Reason,
    Ruling,
    Tally,
    granted_summary,
)
from bot.amends.effects import copy_requests, decision_requests, offer_requests, reminder_requests
from bot.cases import Case, CaseState, MessageRef, format_reference
from bot.errors import MendError
from bot.playbook import CaseStep, StepStatus
from storage.cases import case_from_row, event_row
from storage.db import Database
from storage.followups import stage
from storage.recovery import SqlRecoveryRepository
from storage.tables import Base, BigId, CaseRow, CaseStepRow, UtcDateTime

GIVEN = tuple(s.value for s in AmendsState if s.given)


class AmendsRow(Base):
    """One amends request and its decision; money as integer minor units with its ISO currency."""

    __tablename__ = "amends"

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("cases.id", ondelete="CASCADE"), index=True)
    team_id: Mapped[str] = mapped_column(String(32))
    customer_key: Mapped[str] = mapped_column(String(200))
    kind: Mapped[str] = mapped_column(String(32))
    offered_minor: Mapped[int | None] = mapped_column(BigInteger)
    offered_currency: Mapped[str | None] = mapped_column(String(3))
    offered_bp: Mapped[int | None] = mapped_column(Integer)
    # The offer in the policy's default currency (None for percentages and currencies without a rate).
    value_minor: Mapped[int | None] = mapped_column(BigInteger)
    value_currency: Mapped[str | None] = mapped_column(String(3))
    justification: Mapped[str] = mapped_column(Text)
    customer_cost: Mapped[str | None] = mapped_column(Text)
    source: Mapped[str] = mapped_column(String(16))
    reasons: Mapped[list[dict[str, Any]]] = mapped_column(JSON, default=list)
    requester_user_id: Mapped[str] = mapped_column(String(32))
    addressed_approver_id: Mapped[str | None] = mapped_column(String(32))
    state: Mapped[str] = mapped_column(String(16))
    requested_at: Mapped[datetime] = mapped_column(UtcDateTime)
    decided_by: Mapped[str | None] = mapped_column(String(32))
    decided_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    decision_reason: Mapped[str | None] = mapped_column(Text)
    final_minor: Mapped[int | None] = mapped_column(BigInteger)
    final_currency: Mapped[str | None] = mapped_column(String(3))
    final_bp: Mapped[int | None] = mapped_column(Integer)
    final_value_minor: Mapped[int | None] = mapped_column(BigInteger)
    # Bumped by the decision; each copy of the approval request records the version it shows.
    version: Mapped[int] = mapped_column(Integer, default=1, server_default="1")
    escalation_level: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    request_notice_channel_id: Mapped[str | None] = mapped_column(String(32))
    request_notice_ts: Mapped[str | None] = mapped_column(String(32))
    outcome_channel_id: Mapped[str | None] = mapped_column(String(32))
    outcome_ts: Mapped[str | None] = mapped_column(String(32))
    requester_told_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    # The modal's view id (or `guarantee:<case>`): a replayed submission makes no second request.
    submission_key: Mapped[str | None] = mapped_column(String(80), unique=True)

    __table_args__ = (
        Index("ix_amends_team_customer", "team_id", "customer_key", "requested_at"),
        Index("ix_amends_team_state_decided", "team_id", "state", "decided_at"),
    )


class AmendsCopyRow(Base):
    """Where one copy of an approval request was posted, and which version of the request it shows."""

    __tablename__ = "amends_copies"

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    amends_id: Mapped[int] = mapped_column(ForeignKey("amends.id", ondelete="CASCADE"))
    recipient: Mapped[str] = mapped_column(String(32))
    backup: Mapped[bool] = mapped_column(Boolean, default=False)
    channel_id: Mapped[str | None] = mapped_column(String(32))
    ts: Mapped[str | None] = mapped_column(String(32))
    rendered_version: Mapped[int] = mapped_column(Integer, default=0, server_default="0")

    __table_args__ = (UniqueConstraint("amends_id", "recipient"),)


def _offered(minor: int | None, currency: str | None, bp: int | None) -> Money | Percent | None:
    if bp is not None:
        return Percent(basis_points=bp)
    if minor is not None and currency:
        return Money(minor=minor, currency=currency)
    return None


def _ref(channel_id: str | None, ts: str | None) -> MessageRef | None:
    return MessageRef(channel_id=channel_id, ts=ts) if channel_id and ts else None


def amends_from_row(row: AmendsRow) -> Amends:
    offered = _offered(row.offered_minor, row.offered_currency, row.offered_bp)
    assert offered is not None, "every request has an amount or a percentage"
    value_currency = row.value_currency
    return Amends(
        id=row.id,
        case_id=row.case_id,
        team_id=row.team_id,
        customer_key=row.customer_key,
        kind=AmendsKind(row.kind),
        offered=offered,
        value=Money(minor=row.value_minor, currency=value_currency)
        if row.value_minor is not None and value_currency
        else None,
        justification=row.justification,
        customer_cost=row.customer_cost,
        source=AmendsSource(row.source),
        reasons=tuple(Reason.model_validate(r) for r in row.reasons or []),
        requester_user_id=row.requester_user_id,
        addressed_approver_id=row.addressed_approver_id,
        state=AmendsState(row.state),
        requested_at=row.requested_at,
        decided_by=row.decided_by,
        decided_at=row.decided_at,
        decision_reason=row.decision_reason,
        final=_offered(row.final_minor, row.final_currency, row.final_bp),
        final_value=Money(minor=row.final_value_minor, currency=value_currency)
        if row.final_value_minor is not None and value_currency
        else None,
        version=row.version,
        request_notice=_ref(row.request_notice_channel_id, row.request_notice_ts),
        outcome_notice=_ref(row.outcome_channel_id, row.outcome_ts),
        requester_told=row.requester_told_at is not None,
        escalation_level=row.escalation_level,
    )


def _money_columns(prefix: str, offered: Money | Percent | None) -> dict[str, Any]:
    if isinstance(offered, Percent):
        return {f"{prefix}_minor": None, f"{prefix}_currency": None, f"{prefix}_bp": offered.basis_points}
    if isinstance(offered, Money):
        return {
            f"{prefix}_minor": offered.minor,
            f"{prefix}_currency": offered.currency,
            f"{prefix}_bp": None,
        }
    return {f"{prefix}_minor": None, f"{prefix}_currency": None, f"{prefix}_bp": None}


def _new_row(new: NewAmends) -> AmendsRow:
    row = AmendsRow(
        case_id=new.case_id,
        team_id=new.team_id,
        customer_key=new.customer_key,
        kind=new.kind.value,
        **_money_columns("offered", new.offered),
        value_minor=new.value.minor if new.value else None,
        value_currency=new.value.currency if new.value else None,
        justification=new.justification,
        customer_cost=new.customer_cost,
        source=new.source.value,
        reasons=[r.model_dump(mode="json") for r in new.reasons],
        requester_user_id=new.requester_user_id,
        addressed_approver_id=new.addressed_approver_id,
        state=new.state.value,
        requested_at=new.at,
        version=1,
        escalation_level=1 if new.state is AmendsState.PENDING and new.recipients else 0,
        submission_key=new.submission_key,
    )
    if new.state.given:
        row.decided_by = new.requester_user_id
        row.decided_at = new.at
        for column, value in _money_columns("final", new.offered).items():
            setattr(row, column, value)
        row.final_value_minor = new.value.minor if new.value else None
    return row


async def _month_spend(session: AsyncSession, team_id: str, currency: str, since: datetime) -> int:
    """Given this month (since `since`), agents' grants, approvals and guarantees alike."""
    total = (
        await session.execute(
            select(func.coalesce(func.sum(AmendsRow.final_value_minor), 0)).where(
                AmendsRow.team_id == team_id,
                AmendsRow.state.in_(GIVEN),
                AmendsRow.value_currency == currency,
                AmendsRow.decided_at >= since,
            )
        )
    ).scalar_one()
    return int(total or 0)


class _Abort(Exception):
    def __init__(self, result: DecideResult = DecideResult.ALREADY_DECIDED) -> None:
        self.result = result


def _rowcount(result: Any) -> int:
    return int(result.rowcount)


class SqlAmendsRepository:
    def __init__(self, db: Database) -> None:
        self._db = db
        self._cases = SqlRecoveryRepository(db)

    async def load_case(self, case_id: int) -> tuple[Case, list[CaseStep]] | None:
        return await self._cases.load(case_id)

    async def add(self, new: NewAmends, ruling: Ruling | None = None) -> tuple[Amends, bool]:
        try:
            # One request at a time per workspace: what the ruling counts can't change until this commits.
            async with self._db.transaction(serialise=f"amends:{new.team_id}") as session:
                if new.submission_key is not None:
                    replayed = (
                        await session.execute(
                            select(AmendsRow).where(AmendsRow.submission_key == new.submission_key)
                        )
                    ).scalar_one_or_none()
                    if replayed is not None:
                        return amends_from_row(replayed), False
                if ruling is not None:
                    verdict = ruling.decide(await self._tally(session, new, ruling))
                    new = new.model_copy(update={"state": verdict.state, "reasons": verdict.reasons})
                given = new.state.given
                # The case row first among the writes, as every change to a case does: it must be open, and
                # on PostgreSQL its row lock orders this against a concurrent close or decision.
                values: dict[str, Any] = {"updated_at": new.at}
                if given:
                    values["version"] = CaseRow.version + 1
                bumped = await session.execute(
                    update(CaseRow)
                    .where(CaseRow.id == new.case_id, CaseRow.state == CaseState.OPEN.value)
                    .values(**values)
                )
                if not _rowcount(bumped):
                    raise MendError("The case was closed meanwhile, so no amends were recorded.")
                row = _new_row(new)
                session.add(row)
                await session.flush()
                recipients = new.recipients if new.state is AmendsState.PENDING else ()
                copies = [AmendsCopyRow(amends_id=row.id, recipient=r, backup=False) for r in recipients]
                session.add_all(copies)
                session.add(
                    event_row(
                        new.case_id,
                        "amends_granted" if given else "amends_requested",
                        new.requester_user_id,
                        new.at,
                        amends_id=row.id,
                        amends_kind=new.kind.value,
                        offered=str(new.offered),
                        source=new.source.value,
                        reasons=[r.code.value for r in new.reasons],
                    )
                )
                announced = given and await self._after_given(
                    session, new.case_id, new.step_key, new.requester_user_id, new.at, row.id
                )
                await self._stage_offer(session, new, row, copies, announced=announced)
            return amends_from_row(row), True
        except IntegrityError:
            if new.submission_key is None:
                raise
            async with self._db.transaction() as session:
                existing = (
                    await session.execute(
                        select(AmendsRow).where(AmendsRow.submission_key == new.submission_key)
                    )
                ).scalar_one()
                return amends_from_row(existing), False

    async def _tally(self, session: AsyncSession, new: NewAmends, ruling: Ruling) -> Tally:
        """What the rules count for `new`, inside the transaction that records it."""
        currency = ruling.currency
        by_agents = and_(
            AmendsRow.state.in_(GIVEN),
            AmendsRow.source == AmendsSource.AGENT.value,
            AmendsRow.value_currency == currency,
        )
        agents_gave = func.coalesce(func.sum(case((by_agents, AmendsRow.final_value_minor), else_=0)), 0)
        claimed = func.coalesce(
            func.sum(case((AmendsRow.state != AmendsState.REJECTED.value, 1), else_=0)), 0
        )
        claims, customer_given = (
            await session.execute(
                select(claimed, agents_gave).where(
                    AmendsRow.team_id == new.team_id,
                    AmendsRow.customer_key == new.customer_key,
                    AmendsRow.requested_at >= ruling.window_since,
                )
            )
        ).one()
        case_given = (
            await session.execute(select(agents_gave).where(AmendsRow.case_id == new.case_id))
        ).scalar_one()
        spent = await _month_spend(session, new.team_id, currency, ruling.month_since)
        return Tally(
            month_spend=Money(minor=spent, currency=currency),
            prior_claims=int(claims),
            case_given=Money(minor=int(case_given), currency=currency),
            customer_given=Money(minor=int(customer_given), currency=currency),
        )

    @staticmethod
    async def _stage_offer(
        session: AsyncSession,
        new: NewAmends,
        row: AmendsRow,
        copies: Sequence[AmendsCopyRow],
        *,
        announced: bool,
    ) -> None:
        """The request's Slack side, staged in its transaction: lost neither to Slack nor to a crash."""
        await session.flush()  # the copies' ids
        requests = offer_requests(
            row.id, new.state, [c.id for c in copies], new.at, new.remind_at, announced=announced
        )
        await stage(session, requests, case_id=new.case_id, now=new.at)

    async def _after_given(
        self,
        session: AsyncSession,
        case_id: int,
        step_key: str | None,
        actor: str,
        at: datetime,
        amends_id: int,
    ) -> bool:
        """In the granting transaction: finish the playbook's amends step and refresh the card's summary.
        True when that finished a step whose prompt is in the case thread: its redraw announces the grant."""
        given = [
            amends_from_row(r)
            for r in (
                await session.execute(
                    select(AmendsRow)
                    .where(AmendsRow.case_id == case_id, AmendsRow.state.in_(GIVEN))
                    .order_by(AmendsRow.id)
                )
            ).scalars()
        ]
        summary = granted_summary(given)
        await session.execute(update(CaseRow).where(CaseRow.id == case_id).values(amends_note=summary))
        if step_key is None:
            return False
        finished = await session.execute(
            update(CaseStepRow)
            .where(
                CaseStepRow.case_id == case_id,
                CaseStepRow.step_key == step_key,
                CaseStepRow.status == StepStatus.PENDING.value,
            )
            .values(status=StepStatus.DONE.value, actor_user_id=actor, at=at, note=summary)
            .returning(CaseStepRow.prompt_ts)
        )
        prompts = list(finished.scalars())
        if prompts:
            session.add(event_row(case_id, "step_done", actor, at, step=step_key, amends_id=amends_id))
        return any(ts is not None for ts in prompts)

    async def get(self, amends_id: int) -> Amends | None:
        async with self._db.transaction() as session:
            row = await session.get(AmendsRow, amends_id)
            return amends_from_row(row) if row else None

    async def decide(self, outcome: Outcome) -> DecideResult:
        given = outcome.state.given
        try:
            async with self._db.transaction() as session:
                case_id = (
                    await session.execute(select(AmendsRow.case_id).where(AmendsRow.id == outcome.amends_id))
                ).scalar_one_or_none()
                if case_id is None:
                    raise _Abort(DecideResult.ALREADY_DECIDED)
                values: dict[str, Any] = {"updated_at": outcome.at}
                if given:
                    values["version"] = CaseRow.version + 1
                bumped = await session.execute(
                    update(CaseRow)
                    .where(CaseRow.id == case_id, CaseRow.state == CaseState.OPEN.value)
                    .values(**values)
                )
                if not _rowcount(bumped):
                    raise _Abort(DecideResult.CASE_CLOSED)
                # The one-decision guarantee: only the transaction that finds it pending changes it.
                decided = await session.execute(
                    update(AmendsRow)
                    .where(AmendsRow.id == outcome.amends_id, AmendsRow.state == AmendsState.PENDING.value)
                    .values(
                        state=outcome.state.value,
                        decided_by=outcome.actor_user_id,
                        decided_at=outcome.at,
                        decision_reason=outcome.reason,
                        **_money_columns("final", outcome.final),
                        final_value_minor=outcome.final_value.minor if outcome.final_value else None,
                        version=AmendsRow.version + 1,
                    )
                )
                if not _rowcount(decided):
                    raise _Abort(DecideResult.ALREADY_DECIDED)
                await self._stage_decision(session, case_id, outcome)
                session.add(
                    event_row(
                        case_id,
                        "amends_decided",
                        outcome.actor_user_id,
                        outcome.at,
                        amends_id=outcome.amends_id,
                        outcome=outcome.state.value,
                        reason=outcome.reason,
                        final=str(outcome.final) if outcome.final else None,
                    )
                )
                if given:
                    await self._after_given(
                        session,
                        case_id,
                        outcome.step_key,
                        outcome.actor_user_id,
                        outcome.at,
                        outcome.amends_id,
                    )
        except _Abort as abort:
            if abort.result is DecideResult.CASE_CLOSED:
                current = await self.get(outcome.amends_id)
                if current is not None and current.state is not AmendsState.PENDING:
                    return DecideResult.ALREADY_DECIDED
            return abort.result
        return DecideResult.DECIDED

    @staticmethod
    async def _stage_decision(session: AsyncSession, case_id: int, outcome: Outcome) -> None:
        """After the request's row is locked by the decision, so a backup copy added concurrently is
        either here (and redrawn) or never added."""
        version = (
            await session.execute(select(AmendsRow.version).where(AmendsRow.id == outcome.amends_id))
        ).scalar_one()
        copy_ids = (
            await session.execute(
                select(AmendsCopyRow.id)
                .where(AmendsCopyRow.amends_id == outcome.amends_id)
                .order_by(AmendsCopyRow.id)
            )
        ).scalars()
        requests = decision_requests(outcome.amends_id, list(copy_ids), version, outcome.at)
        await stage(session, requests, case_id=case_id, now=outcome.at)

    async def copies(self, amends_id: int) -> list[ApprovalCopy]:
        async with self._db.transaction() as session:
            rows = (
                await session.execute(
                    select(AmendsCopyRow)
                    .where(AmendsCopyRow.amends_id == amends_id)
                    .order_by(AmendsCopyRow.id)
                )
            ).scalars()
            return [
                ApprovalCopy(
                    id=r.id,
                    amends_id=r.amends_id,
                    recipient=r.recipient,
                    backup=r.backup,
                    ref=_ref(r.channel_id, r.ts),
                    rendered_version=r.rendered_version,
                )
                for r in rows
            ]

    async def add_copies(
        self, amends_id: int, recipients: Sequence[str], *, backup: bool, level: int, at: datetime
    ) -> bool:
        async with self._db.transaction() as session:
            raised = await session.execute(
                update(AmendsRow)
                .where(
                    AmendsRow.id == amends_id,
                    AmendsRow.state == AmendsState.PENDING.value,
                    AmendsRow.escalation_level < level,
                )
                .values(escalation_level=level)
            )
            if not _rowcount(raised):
                return False
            row = await session.get(AmendsRow, amends_id)
            assert row is not None
            existing = set(
                (
                    await session.execute(
                        select(AmendsCopyRow.recipient).where(AmendsCopyRow.amends_id == amends_id)
                    )
                ).scalars()
            )
            added = [
                AmendsCopyRow(amends_id=amends_id, recipient=r, backup=backup)
                for r in dict.fromkeys(recipients)
                if r not in existing
            ]
            session.add_all(added)
            await session.flush()
            requests = copy_requests(amends_id, [c.id for c in added], row.version, at, post=True)
            await stage(session, requests, case_id=row.case_id, now=at)
            session.add(
                event_row(row.case_id, "amends_escalated", None, at, amends_id=amends_id, to=list(recipients))
            )
            return True

    async def remind(self, amends_id: int, at: datetime, backups_at: datetime | None) -> bool:
        async with self._db.transaction() as session:
            row = (
                await session.execute(
                    select(AmendsRow).where(
                        AmendsRow.id == amends_id, AmendsRow.state == AmendsState.PENDING.value
                    )
                )
            ).scalar_one_or_none()
            if row is None:
                return False
            copy_ids = (
                await session.execute(
                    select(AmendsCopyRow.id)
                    .where(AmendsCopyRow.amends_id == amends_id, AmendsCopyRow.backup.is_(False))
                    .order_by(AmendsCopyRow.id)
                )
            ).scalars()
            await stage(
                session,
                reminder_requests(amends_id, list(copy_ids), at, backups_at),
                case_id=row.case_id,
                now=at,
            )
            session.add(event_row(row.case_id, "amends_reminded", None, at, amends_id=amends_id))
            return True

    async def record_copy(self, copy_id: int, ref: MessageRef, version: int) -> bool:
        async with self._db.transaction() as session:
            result = await session.execute(
                update(AmendsCopyRow)
                .where(AmendsCopyRow.id == copy_id, AmendsCopyRow.ts.is_(None))
                .values(channel_id=ref.channel_id, ts=ref.ts, rendered_version=version)
            )
            return bool(_rowcount(result))

    async def record_render(self, copy_id: int, version: int) -> bool:
        async with self._db.transaction() as session:
            result = await session.execute(
                update(AmendsCopyRow)
                .where(AmendsCopyRow.id == copy_id, AmendsCopyRow.rendered_version < version)
                .values(rendered_version=version)
            )
            return bool(_rowcount(result))

    async def record_notice(self, amends_id: int, which: str, ref: MessageRef | None) -> bool:
        async with self._db.transaction() as session:
            query = update(AmendsRow).where(AmendsRow.id == amends_id)
            if which == "request" and ref is not None:
                query = query.where(AmendsRow.request_notice_ts.is_(None)).values(
                    request_notice_channel_id=ref.channel_id, request_notice_ts=ref.ts
                )
            elif which == "outcome" and ref is not None:
                query = query.where(AmendsRow.outcome_ts.is_(None)).values(
                    outcome_channel_id=ref.channel_id, outcome_ts=ref.ts
                )
            elif which == "requester":
                query = query.where(AmendsRow.requester_told_at.is_(None)).values(
                    requester_told_at=func.now()
                )
            else:
                raise ValueError(f"unknown notice {which!r}")
            return bool(_rowcount(await session.execute(query)))

    async def ledger(
        self, team_id: str, customer_key: str, since: datetime | None = None
    ) -> list[LedgerEntry]:
        async with self._db.transaction() as session:
            query = select(AmendsRow).where(
                AmendsRow.team_id == team_id, AmendsRow.customer_key == customer_key
            )
            if since is not None:
                query = query.where(AmendsRow.requested_at >= since)
            rows = (
                await session.execute(query.order_by(AmendsRow.requested_at.desc(), AmendsRow.id.desc()))
            ).scalars()
            return [
                LedgerEntry(amends=amends_from_row(r), case_reference=format_reference(r.case_id))
                for r in rows
            ]

    async def month_spend(self, team_id: str, currency: str, since: datetime) -> int:
        async with self._db.transaction() as session:
            return await _month_spend(session, team_id, currency, since)

    async def pending(self, team_id: str, limit: int) -> list[tuple[Amends, Case]]:
        async with self._db.transaction() as session:
            rows = await session.execute(
                select(AmendsRow, CaseRow)
                .join(CaseRow, CaseRow.id == AmendsRow.case_id)
                .where(
                    AmendsRow.team_id == team_id,
                    AmendsRow.state == AmendsState.PENDING.value,
                    CaseRow.state == CaseState.OPEN.value,
                )
                .order_by(AmendsRow.id)
                .limit(limit)
            )
            return [(amends_from_row(a), case_from_row(c)) for a, c in rows]

    async def audit(
        self, case_id: int, kind: str, actor_user_id: str | None, at: datetime, **data: Any
    ) -> None:
        async with self._db.transaction() as session:
            session.add(event_row(case_id, kind, actor_user_id, at, **data))
