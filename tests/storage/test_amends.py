"""Repository tests for amends on a real database: one decision under concurrency, ledger, spend, and the
follow-up rows each change stages in its own transaction."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta

from bot.amends import (
    AmendsKind,
    AmendsSource,
    AmendsState,
    DecideResult,
    Money,
    NewAmends,
    Outcome,
)
from bot.cases import CaseReport, NewCase, Severity
from bot.playbook import DEFAULT_STEPS
from sqlalchemy import select

from storage.amends import SqlAmendsRepository
from storage.cases import SqlCaseRepository
from storage.db import Database
from storage.followups import FollowUpRow
from storage.recovery import SqlRecoveryRepository

NOW = datetime(2026, 11, 23, 9, 30, tzinfo=UTC)
EUR = "EUR"


async def open_case(db: Database) -> int:
    case, _ = await SqlCaseRepository(db).add(
        NewCase(
            team_id="T1",
            report=CaseReport(
                customer_ref="#4411", summary="Late", severity=Severity.MAJOR, category="delivery"
            ),
            reporter_user_id="U1",
            origin_channel_id="C1",
            report_key=None,
            at=NOW,
            steps=DEFAULT_STEPS,
        )
    )
    return case.id


def request(case_id: int, minor: int, state: AmendsState, key: str | None = None) -> NewAmends:
    return NewAmends(
        case_id=case_id,
        team_id="T1",
        customer_key="#4411",
        kind=AmendsKind.REFUND,
        offered=Money(minor=minor, currency=EUR),
        value=Money(minor=minor, currency=EUR),
        justification="x",
        customer_cost=None,
        source=AmendsSource.AGENT,
        reasons=(),
        requester_user_id="U1",
        addressed_approver_id=None,
        state=state,
        at=NOW,
        submission_key=key,
        recipients=("U7", "U8") if state is AmendsState.PENDING else (),
        step_key="amends" if state.given else None,
    )


async def test_twenty_concurrent_decisions_make_one(db: Database) -> None:
    repo = SqlAmendsRepository(db)
    case_id = await open_case(db)
    amends, created = await repo.add(request(case_id, 12000, AmendsState.PENDING, key="V1"))
    assert created and (await repo.add(request(case_id, 12000, AmendsState.PENDING, key="V1")))[1] is False

    def outcome(i: int) -> Outcome:
        state = AmendsState.APPROVED if i % 2 else AmendsState.REJECTED
        return Outcome(amends_id=amends.id, state=state, actor_user_id=f"U{i}", at=NOW, step_key="amends")

    results = await asyncio.gather(*(repo.decide(outcome(i)) for i in range(20)))
    assert results.count(DecideResult.DECIDED) == 1
    assert results.count(DecideResult.ALREADY_DECIDED) == 19
    decided = await repo.get(amends.id)
    assert decided is not None and decided.version == 2 and decided.state is not AmendsState.PENDING
    loaded = await SqlRecoveryRepository(db).load(case_id)
    assert loaded is not None
    step = next(s for s in loaded[1] if s.key == "amends")
    assert (step.status.value == "done") is decided.state.given


async def test_decision_on_a_closed_case_is_refused(db: Database) -> None:
    repo = SqlAmendsRepository(db)
    case_id = await open_case(db)
    amends, _ = await repo.add(request(case_id, 12000, AmendsState.PENDING))
    assert await SqlRecoveryRepository(db).close(case_id, "U1", NOW)
    result = await repo.decide(
        Outcome(amends_id=amends.id, state=AmendsState.APPROVED, actor_user_id="U7", at=NOW)
    )
    assert result is DecideResult.CASE_CLOSED
    assert (await repo.get(amends.id)).state is AmendsState.PENDING  # type: ignore[union-attr]


async def test_grant_finishes_the_step_and_counts_in_the_ledger_and_spend(db: Database) -> None:
    repo = SqlAmendsRepository(db)
    case_id = await open_case(db)
    await repo.add(request(case_id, 4550, AmendsState.GRANTED))
    await repo.add(request(case_id, 9999, AmendsState.PENDING))
    loaded = await repo.load_case(case_id)
    assert loaded is not None and loaded[0].amends_note == "€45.50 refund"
    assert loaded[0].version == 2  # the card is redrawn
    ledger = await repo.ledger("T1", "#4411")
    assert [e.amends.state for e in ledger] == [AmendsState.PENDING, AmendsState.GRANTED]
    assert await repo.month_spend("T1", EUR, NOW.replace(day=1)) == 4550
    assert await repo.month_spend("T1", EUR, NOW + timedelta(days=1)) == 0
    assert await repo.month_spend("T2", EUR, NOW.replace(day=1)) == 0


async def test_copies_render_once_and_backups_are_added_once(db: Database) -> None:
    repo = SqlAmendsRepository(db)
    case_id = await open_case(db)
    amends, _ = await repo.add(request(case_id, 12000, AmendsState.PENDING))
    copies = await repo.copies(amends.id)
    assert [c.recipient for c in copies] == ["U7", "U8"]
    assert await repo.record_render(copies[0].id, 2)
    assert not await repo.record_render(copies[0].id, 2)
    assert await repo.add_copies(amends.id, ["U9", "U7"], backup=True, level=2, at=NOW)
    assert not await repo.add_copies(amends.id, ["U9"], backup=True, level=2, at=NOW)
    assert [(c.recipient, c.backup) for c in await repo.copies(amends.id)] == [
        ("U7", False),
        ("U8", False),
        ("U9", True),
    ]


async def staged(db: Database) -> list[tuple[str, str, str]]:
    async with db.transaction() as session:
        rows = (await session.execute(select(FollowUpRow).order_by(FollowUpRow.id))).scalars()
        return [(r.kind, r.dedupe_key, r.state) for r in rows if r.kind.startswith("amends_")]


async def test_each_change_stages_its_slack_side_once(db: Database) -> None:
    repo = SqlAmendsRepository(db)
    case_id = await open_case(db)
    new = request(case_id, 12000, AmendsState.PENDING, key="V1").model_copy(
        update={"remind_at": NOW + timedelta(hours=4)}
    )
    amends, _ = await repo.add(new)
    assert (await repo.add(new))[1] is False  # a replayed submission stages nothing more
    c7, c8 = [c.id for c in await repo.copies(amends.id)]
    prefix = f"case:{case_id}:amends:{amends.id}:"
    assert await staged(db) == [
        ("amends_notice", f"{prefix}notice", "pending"),
        ("amends_copy", f"{prefix}copy:{c7}:v1", "pending"),
        ("amends_copy", f"{prefix}copy:{c8}:v1", "pending"),
        ("amends_remind", f"{prefix}remind", "pending"),
    ]
    async with db.transaction() as session:
        remind = (
            await session.execute(select(FollowUpRow).where(FollowUpRow.kind == "amends_remind"))
        ).scalar_one()
        assert remind.due_at == NOW + timedelta(hours=4) and remind.payload == {"amends_id": amends.id}

    assert await repo.add_copies(amends.id, ["U9"], backup=True, level=2, at=NOW)
    [c9] = [c.id for c in await repo.copies(amends.id) if c.backup]
    assert (await staged(db))[-1] == ("amends_copy", f"{prefix}copy:{c9}:v1", "pending")

    outcome = Outcome(
        amends_id=amends.id, state=AmendsState.REJECTED, actor_user_id="U7", at=NOW, reason="no"
    )
    assert await repo.decide(outcome) is DecideResult.DECIDED
    assert await repo.decide(outcome) is DecideResult.ALREADY_DECIDED  # and stages nothing
    assert (await staged(db))[5:] == [
        ("amends_copy", f"{prefix}copy:{c7}:v2", "pending"),
        ("amends_copy", f"{prefix}copy:{c8}:v2", "pending"),
        ("amends_copy", f"{prefix}copy:{c9}:v2", "pending"),
        ("amends_outcome", f"{prefix}outcome", "pending"),
        ("amends_tell_requester", f"{prefix}requester", "pending"),
    ]
    assert not await repo.remind(amends.id, NOW, None)  # decided: nobody to remind


async def test_a_grant_stages_its_outcome_and_a_closed_case_stages_nothing(db: Database) -> None:
    repo = SqlAmendsRepository(db)
    case_id = await open_case(db)
    granted, _ = await repo.add(request(case_id, 4550, AmendsState.GRANTED))
    assert await staged(db) == [("amends_outcome", f"case:{case_id}:amends:{granted.id}:outcome", "pending")]
    pending, _ = await repo.add(request(case_id, 12000, AmendsState.PENDING))
    before = await staged(db)
    assert await SqlRecoveryRepository(db).close(case_id, "U1", NOW)
    refused = Outcome(amends_id=pending.id, state=AmendsState.APPROVED, actor_user_id="U7", at=NOW)
    assert await repo.decide(refused) is DecideResult.CASE_CLOSED
    assert await staged(db) == before  # rolled back with the refused decision
