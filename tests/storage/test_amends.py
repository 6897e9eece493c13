"""Repository tests for amends on a real database: one decision under concurrency, ledger, spend, the follow-up
rows each change stages in its own transaction, and the money rules (budget, cumulative agent limit, repeat
claims) holding when people act at the same moment."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta

import pytest
from alembic import command
from alembic.script import ScriptDirectory
from sqlalchemy import insert, select

from bot.amends import (
    Amends,
    AmendsKind,
    AmendsPolicy,
    AmendsService,
    AmendsSource,
    AmendsState,
    Approvers,
    DecideResult,
    Money,
    NewAmends,
    Offer,
    Outcome,
    ReasonCode,
    parse_amount,
    policy_from_data,
)
from bot.cases import CaseReport, NewCase, Severity
from bot.clock import FrozenClock
from bot.errors import InvalidInput
from bot.playbook import DEFAULT_STEPS
from storage.amends import AmendsRow, SqlAmendsRepository
from storage.cases import SqlCaseRepository
from storage.db import Database
from storage.followups import FollowUpRow
from storage.migrate import alembic_config, upgrade_to_head
from storage.recovery import SqlRecoveryRepository
from storage.tables import CaseRow

NOW = datetime(2026, 11, 23, 9, 30, tzinfo=UTC)
FOLD_REVISION = "0008"  # the migration that folds stored customer keys
EUR = "EUR"


async def open_case(
    db: Database, customer_ref: str = "#4411", severity: Severity = Severity.MAJOR, category: str = "delivery"
) -> int:
    case, _ = await SqlCaseRepository(db).add(
        NewCase(
            team_id="T1",
            report=CaseReport(
                customer_ref=customer_ref, summary="Late", severity=severity, category=category
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


# ---- the money rules when people act at the same moment ----------------------------------------------

APPROVER = "UAPPROVER"


class _Directory:
    async def group_members(self, group_id: str) -> list[str]:
        return []

    async def is_user(self, user_id: str) -> bool:
        return True


class _Deliveries:
    """The engine's deliver-at-once, as the service calls it: these tests read the staged rows instead."""

    async def deliver_now(self, case_id: int | None, key_prefix: str) -> int:
        return 0


def amends_service(db: Database, policy: AmendsPolicy) -> AmendsService:
    """The real service on the real repository; offering and guarantees post nothing to Slack."""
    return AmendsService(
        SqlAmendsRepository(db),
        directory=_Directory(),
        deliveries=_Deliveries(),
        clock=FrozenClock(NOW),
        policy=policy,
        approvers=Approvers(ids=(APPROVER,)),
    )


def offer_of(amount: str) -> Offer:
    return Offer(kind=AmendsKind.REFUND, offered=parse_amount(amount, EUR), justification="x")


async def offer_at_once(service: AmendsService, case_ids: list[int], amount: str) -> list[Amends]:
    """Six (or more) agents submit at the same moment, each in its own transaction on its own connection."""
    return list(
        await asyncio.gather(
            *(
                service.offer(
                    case_id, offer_of(amount), actor_user_id=f"U{i}", team_id="T1", submission_key=f"V{i}"
                )
                for i, case_id in enumerate(case_ids)
            )
        )
    )


def codes(amends: Amends) -> set[ReasonCode]:
    return {r.code for r in amends.reasons}


async def assert_recorded_as_decided(db: Database, results: list[Amends]) -> None:
    """What the agents were told is what is stored, and each approval request has its approver's copy."""
    repo = SqlAmendsRepository(db)
    for amends in results:
        stored = await repo.get(amends.id)
        assert stored is not None and stored.state is amends.state and stored.reasons == amends.reasons
        recipients = [c.recipient for c in await repo.copies(amends.id)]
        assert recipients == ([APPROVER] if amends.state is AmendsState.PENDING else [])


async def assert_each_grant_kept_the_budget(db: Database, budget_minor: int) -> None:
    """In the order they were recorded, no agent's grant took the month over the budget, and each request
    that went to an approver instead would have."""
    async with db.transaction() as session:
        rows = list((await session.execute(select(AmendsRow).order_by(AmendsRow.id))).scalars())
    spent = 0
    for row in rows:
        value = row.value_minor or 0
        if row.state == AmendsState.GRANTED.value:
            assert row.source == AmendsSource.GUARANTEE.value or spent + value <= budget_minor
            spent += value
        else:
            assert row.state == AmendsState.PENDING.value and spent + value > budget_minor


async def test_six_agents_granting_at_once_stay_within_the_budget(db: Database) -> None:
    service = amends_service(db, policy_from_data({"agent_limit": 50, "monthly_budget": 150}))
    cases = [await open_case(db, f"order #{4400 + i}") for i in range(6)]
    results = await offer_at_once(service, cases, "50")
    granted = [a for a in results if a.state is AmendsState.GRANTED]
    pending = [a for a in results if a.state is AmendsState.PENDING]
    assert len(granted) == 3 and len(pending) == 3
    assert all(codes(a) == {ReasonCode.OVER_BUDGET} for a in pending)
    assert all("over the €150.00 budget" in a.reasons[0].text for a in pending)
    assert await SqlAmendsRepository(db).month_spend("T1", EUR, NOW.replace(day=1)) == 15000
    await assert_each_grant_kept_the_budget(db, 15000)
    await assert_recorded_as_decided(db, results)
    # Each approval request gets its reminder, exactly as an above-limit offer does.
    reminders = sorted(key for kind, key, _ in await staged(db) if kind == "amends_remind")
    assert reminders == sorted(f"case:{a.case_id}:amends:{a.id}:remind" for a in pending)


async def test_grants_on_one_case_at_once_stay_within_the_cumulative_limit(db: Database) -> None:
    policy = policy_from_data({"agent_limit": 50, "monthly_budget": None, "repeat_claims": {"count": 100}})
    service = amends_service(db, policy)
    case_id = await open_case(db, severity=Severity.MODERATE)
    results = await offer_at_once(service, [case_id] * 6, "25")
    granted = [a for a in results if a.state is AmendsState.GRANTED]
    pending = [a for a in results if a.state is AmendsState.PENDING]
    assert len(granted) == 2 and len(pending) == 4
    assert all(codes(a) == {ReasonCode.ABOVE_LIMIT} for a in pending)
    assert all("already given on this case" in a.reasons[0].text for a in pending)
    await assert_recorded_as_decided(db, results)
    loaded = await SqlAmendsRepository(db).load_case(case_id)
    assert loaded is not None and loaded[0].amends_note == "€25.00 refund; €25.00 refund"


async def test_two_grants_on_one_case_make_one_total_under_the_limit(db: Database) -> None:
    policy = policy_from_data({"agent_limit": 50, "repeat_claims": {"count": 100}})
    service = amends_service(db, policy)
    case_id = await open_case(db)
    first = await service.offer(case_id, offer_of("50"), actor_user_id="U1", team_id="T1")
    second = await service.offer(case_id, offer_of("50"), actor_user_id="U2", team_id="T1")
    assert (first.state, second.state) == (AmendsState.GRANTED, AmendsState.PENDING)
    assert codes(second) == {ReasonCode.ABOVE_LIMIT}
    assert "€100.00" in second.reasons[0].text and "agent limit of €50.00" in second.reasons[0].text


async def test_grants_to_one_customer_at_once_stay_within_the_cumulative_limit(db: Database) -> None:
    policy = policy_from_data({"agent_limit": 50, "monthly_budget": None, "repeat_claims": {"count": 100}})
    service = amends_service(db, policy)
    cases = [await open_case(db, "order #4411", severity=Severity.MODERATE) for _ in range(6)]
    other = await open_case(db, "order #9000", severity=Severity.MODERATE)
    results = await offer_at_once(service, cases, "25")
    assert [a.state for a in results].count(AmendsState.GRANTED) == 2
    pending = [a for a in results if a.state is AmendsState.PENDING]
    assert len(pending) == 4 and all(codes(a) == {ReasonCode.ABOVE_LIMIT} for a in pending)
    assert all("given to this customer in the last 90 days" in a.reasons[0].text for a in pending)
    await assert_recorded_as_decided(db, results)
    # Another customer is not held to this one's total.
    assert (
        await service.offer(other, offer_of("50"), actor_user_id="U9", team_id="T1")
    ).state is AmendsState.GRANTED


async def test_one_customer_is_one_customer_however_the_reference_is_typed(db: Database) -> None:
    policy = policy_from_data({"agent_limit": 100, "repeat_claims": {"count": 2, "days": 90}})
    service = amends_service(db, policy)
    first = await open_case(db, "order #4411")
    again = await open_case(db, "Order #4411\u200b")  # a zero-width space pasted from a chat
    first_amends = await service.offer(first, offer_of("50"), actor_user_id="U1", team_id="T1")
    second = await service.offer(again, offer_of("45"), actor_user_id="U2", team_id="T1")
    assert first_amends.state is AmendsState.GRANTED and second.customer_key == first_amends.customer_key
    assert second.state is AmendsState.PENDING and codes(second) == {ReasonCode.REPEAT_CLAIMS}
    context = await service.offer_context(again, "T1")
    assert [e.amends.id for e in context.history] == [second.id, first_amends.id]


GUARANTEE_POLICY = {
    "agent_limit": 50,
    "monthly_budget": 150,
    "guarantees": [{"category": "delivery", "title": "Late: €30 back", "kind": "refund", "remedy": 30}],
}


async def test_a_guarantee_invoked_while_agents_grant_counts_against_the_budget(db: Database) -> None:
    service = amends_service(db, policy_from_data(GUARANTEE_POLICY))
    guaranteed = await open_case(db, "order #1")
    cases = [await open_case(db, f"order #{4400 + i}", category="quality") for i in range(6)]
    guarantee, *offers = await asyncio.gather(
        service.invoke_guarantee(guaranteed, actor_user_id="U9", team_id="T1"),
        *(
            service.offer(c, offer_of("50"), actor_user_id=f"U{i}", team_id="T1", submission_key=f"V{i}")
            for i, c in enumerate(cases)
        ),
    )
    assert guarantee.state is AmendsState.GRANTED  # a promise made in advance is kept at once
    granted = [a for a in offers if a.state is AmendsState.GRANTED]
    # Recorded one at a time: an agent's grant sees the guarantee if it came first, and never the budget broken.
    before = 3000 if guarantee.id < max(a.id for a in granted) else 0
    assert len(granted) == (2 if before else 3)
    assert all(codes(a) == {ReasonCode.OVER_BUDGET} for a in offers if a.state is AmendsState.PENDING)
    await assert_each_grant_kept_the_budget(db, 15000)
    spend = await SqlAmendsRepository(db).month_spend("T1", EUR, NOW.replace(day=1))
    assert spend == 3000 + 5000 * len(granted) and (
        spend <= 15000 or codes(guarantee) == {ReasonCode.OVER_BUDGET}
    )


async def test_a_guarantee_over_the_budget_is_granted_and_flagged(db: Database) -> None:
    policy = policy_from_data({**GUARANTEE_POLICY, "repeat_claims": {"count": 2, "days": 90}})
    service = amends_service(db, policy)
    earlier = await open_case(db, "order #4411", category="quality")
    first, second = [
        await service.offer(earlier, offer_of("40"), actor_user_id=f"U{i}", team_id="T1") for i in range(2)
    ]
    assert (first.state, second.state) == (AmendsState.GRANTED, AmendsState.PENDING)
    forty = Money(minor=4000, currency=EUR)
    await SqlAmendsRepository(db).decide(  # an approver lets the second through: €80 of €150 spent
        Outcome(
            amends_id=second.id,
            state=AmendsState.APPROVED,
            actor_user_id=APPROVER,
            at=NOW,
            final=forty,
            final_value=forty,
        )
    )
    # The customer's third claim: the guarantee is still kept at once, and its record says it repeats.
    guarantee = await service.invoke_guarantee(
        await open_case(db, "order #4411"), actor_user_id="U9", team_id="T1"
    )
    assert guarantee.state is AmendsState.GRANTED and codes(guarantee) == {ReasonCode.REPEAT_CLAIMS}
    more = await open_case(db, "order #77", category="quality")
    assert (await service.offer(more, offer_of("40"), actor_user_id="U1", team_id="T1")).state is (
        AmendsState.GRANTED  # €150 of €150: the guarantee's €30 counted
    )
    late = await service.invoke_guarantee(await open_case(db, "order #78"), actor_user_id="U9", team_id="T1")
    assert late.state is AmendsState.GRANTED and codes(late) == {ReasonCode.OVER_BUDGET}
    assert "€180.00, over the €150.00 budget" in late.reasons[0].text
    assert await SqlAmendsRepository(db).month_spend("T1", EUR, NOW.replace(day=1)) == 18000
    after = await open_case(db, "order #79", category="quality")
    refused = await service.offer(after, offer_of("40"), actor_user_id="U1", team_id="T1")
    assert refused.state is AmendsState.PENDING and codes(refused) == {ReasonCode.OVER_BUDGET}


async def test_the_migration_folds_the_keys_already_stored(database_url: str) -> None:
    """Requests recorded before the customer key was folded are found under the folded key afterwards."""
    script = ScriptDirectory.from_config(alembic_config())
    before = script.get_revision(FOLD_REVISION)
    assert before is not None and isinstance(before.down_revision, str)
    db = Database(database_url)
    try:
        async with db.engine.begin() as conn:
            await conn.run_sync(lambda c: command.upgrade(alembic_config(c), before.down_revision))
            for ref, key in [("Order #4411\u200b", "order #4411\u200b"), ("ORDER  #4411", "order #4411")]:
                case_id = (
                    await conn.execute(
                        insert(CaseRow.__table__)
                        .values(
                            team_id="T1",
                            state="open",
                            severity="major",
                            category="delivery",
                            customer_ref=ref,
                            summary="Late",
                            reporter_user_id="U1",
                            owner_user_id="U1",
                            created_at=NOW,
                            updated_at=NOW,
                        )
                        .returning(CaseRow.__table__.c.id)
                    )
                ).scalar_one()
                await conn.execute(
                    insert(AmendsRow.__table__).values(
                        case_id=case_id,
                        team_id="T1",
                        customer_key=key,
                        kind="refund",
                        offered_minor=5000,
                        offered_currency=EUR,
                        justification="x",
                        source="agent",
                        reasons=[],
                        requester_user_id="U1",
                        state="granted",
                        requested_at=NOW,
                    )
                )
        await upgrade_to_head(db)
        ledger = await SqlAmendsRepository(db).ledger("T1", "order 4411")
        assert len(ledger) == 2
    finally:
        await db.dispose()


async def test_without_approvers_a_grant_a_rule_stops_is_refused_and_nothing_is_recorded(
    db: Database,
) -> None:
    service = AmendsService(
        SqlAmendsRepository(db),
        directory=_Directory(),
        deliveries=_Deliveries(),
        clock=FrozenClock(NOW),
        policy=policy_from_data({"agent_limit": 50, "repeat_claims": {"count": 100}}),
        approvers=Approvers(),
    )
    case_id = await open_case(db)
    assert (await service.offer(case_id, offer_of("45"), actor_user_id="U1", team_id="T1")).state is (
        AmendsState.GRANTED
    )
    with pytest.raises(InvalidInput) as refused:
        await service.offer(case_id, offer_of("45"), actor_user_id="U2", team_id="T1", submission_key="V2")
    assert "already given on this case" in refused.value.user_message
    assert "no approver is set up" in refused.value.user_message
    assert len(await SqlAmendsRepository(db).ledger("T1", "4411")) == 1
