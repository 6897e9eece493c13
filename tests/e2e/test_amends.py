"""End to end: amends offered in the case thread, granted within limits or decided by approvers over HTTP."""

from __future__ import annotations

import asyncio
import json
import os
import subprocess
import sys
from collections import Counter
from collections.abc import AsyncIterator, Callable
from contextlib import AbstractAsyncContextManager
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select

from bot.clock import FrozenClock
from handlers.ids import AmendsAction, AmendsBlock
from slack_double.server import SlackDouble
from slack_double.user import Person
from storage.amends import AmendsCopyRow, AmendsRow
from storage.followups import FollowUpRow
from storage.tables import CaseEventRow, CaseRow, CaseStepRow
from tests.e2e.conftest import Stack, running_stack

ROOT = Path(__file__).resolve().parents[2]
MakeStack = Callable[..., AbstractAsyncContextManager[Stack]]


def text_of(message: Any) -> str:
    blocks = message.get("blocks") if isinstance(message, dict) else message.blocks
    return json.dumps(blocks or [], ensure_ascii=False)


def with_approvers(double: SlackDouble) -> dict[str, Any]:
    carol = double.add_user("carol", real_name="Carol Lead")
    dave = double.add_user("dave", real_name="Dave Manager")
    erin = double.add_user("erin", real_name="Erin Backup")
    double.add_user("mallory", real_name="Mallory Outsider")
    group = double.add_usergroup("support-leads", [dave])
    return {"approver_ids": carol, "approver_group": group, "backup_approver_ids": erin}


def with_approvals_channel(double: SlackDouble) -> dict[str, Any]:
    settings = with_approvers(double)
    users = double.workspace.users
    members = [u.id for u in users.values() if not u.is_bot]
    settings["approvals_channel"] = double.add_channel("approvals", members=members)
    return settings


@pytest.fixture
def make(database_url: str) -> MakeStack:
    def factory(**kwargs: Any) -> AbstractAsyncContextManager[Stack]:
        kwargs.setdefault("configure", with_approvers)
        return running_stack(database_url, **kwargs)

    return factory


@pytest.fixture
async def stack(make: MakeStack) -> AsyncIterator[Stack]:
    async with make() as running:
        yield running


def card(stack: Stack) -> dict[str, Any]:
    assert stack.recovery is not None
    return next(
        m
        for m in stack.double.messages(stack.recovery)
        if (m.get("metadata") or {}).get("event_type") == "mend_case_card"
    )


def thread(stack: Stack) -> list[dict[str, Any]]:
    assert stack.recovery is not None
    return stack.double.thread(stack.recovery, card(stack)["ts"])


def kind_of(message: dict[str, Any]) -> str | None:
    return (message.get("metadata") or {}).get("event_type")


async def amends_rows(stack: Stack) -> list[AmendsRow]:
    async with stack.mend.db.transaction() as session:
        return list((await session.execute(select(AmendsRow).order_by(AmendsRow.id))).scalars())


async def copy_rows(stack: Stack) -> list[AmendsCopyRow]:
    async with stack.mend.db.transaction() as session:
        return list((await session.execute(select(AmendsCopyRow).order_by(AmendsCopyRow.id))).scalars())


async def event_kinds(stack: Stack, case_id: int) -> list[str]:
    async with stack.mend.db.transaction() as session:
        query = select(CaseEventRow.kind).where(CaseEventRow.case_id == case_id).order_by(CaseEventRow.id)
        return list((await session.execute(query)).scalars())


async def amends_step(stack: Stack, case_id: int) -> CaseStepRow:
    async with stack.mend.db.transaction() as session:
        query = select(CaseStepRow).where(CaseStepRow.case_id == case_id, CaseStepRow.step_key == "amends")
        return (await session.execute(query)).scalar_one()


async def open_offer(stack: Stack, person: Person | None = None) -> dict[str, Any]:
    """Offer amends from the case card (the step prompt's button is tested on its own)."""
    person = person or stack.alice
    assert stack.recovery is not None
    response = await person.click(AmendsAction.OFFER.value, message_ts=card(stack)["ts"])
    assert response.status == 200
    await stack.settle()
    return person.current_view()


async def offer(
    stack: Stack, amount: str, kind: str = "refund", person: Person | None = None, **more: Any
) -> Any:
    await open_offer(stack, person)
    values = {
        AmendsBlock.KIND.value: kind,
        AmendsBlock.AMOUNT.value: amount,
        AmendsBlock.JUSTIFICATION.value: "The cake was the centre of a child's party; the delay spoilt it.",
        **more,
    }
    response = await (person or stack.alice).submit_view(values)
    await stack.settle()
    return response


def approval_messages(stack: Stack, person: Person) -> list[dict[str, Any]]:
    dm = stack.double.dm_channel_id(person.id)
    return [m for m in stack.double.messages(dm) if kind_of(m) == "mend_amends_request"] if dm else []


async def test_within_the_agents_limit_it_is_granted_at_once(stack: Stack) -> None:
    row = await stack.report_case()
    view = await open_offer(stack)
    shown = text_of(view)
    assert "between *€40.00* and *€150.00*" in shown and "Your own limit is *€50.00*" in shown
    assert "No amends for this customer before" in shown
    response = await stack.alice.submit_view(
        {
            AmendsBlock.KIND.value: "refund",
            AmendsBlock.AMOUNT.value: "€45.50",
            AmendsBlock.JUSTIFICATION.value: "Refund the delivery and the cake: they paid for a party.",
        }
    )
    assert response.field_errors == {}
    await stack.settle()
    [amends] = await amends_rows(stack)
    assert (amends.state, amends.offered_minor, amends.offered_currency) == ("granted", 4550, "EUR")
    assert amends.decided_by == stack.alice.id and amends.final_value_minor == 4550
    assert [m for m in thread(stack) if kind_of(m) == "mend_amends_outcome"]
    assert "€45.50" in text_of(thread(stack)[-2]) or any("€45.50" in text_of(m) for m in thread(stack))
    assert "Amends granted" in text_of(card(stack)) and "€45.50 refund" in text_of(card(stack))
    step = await amends_step(stack, row.id)
    assert step.status == "done" and step.actor_user_id == stack.alice.id
    assert await copy_rows(stack) == []  # nobody was asked
    assert "amends_granted" in await event_kinds(stack, row.id)
    # The ledger shows it the next time anyone offers amends to this customer.
    assert "€45.50" in text_of(await open_offer(stack, stack.bob)) and "R-0001" in text_of(
        stack.bob.current_view()
    )
    stack.double.assert_no_rejections()


async def test_offer_amends_from_the_step_prompt(stack: Stack) -> None:
    row = await stack.report_case()
    async with stack.mend.db.transaction() as session:  # the first five steps done elsewhere
        for step in (
            await session.execute(select(CaseStepRow).where(CaseStepRow.case_id == row.id))
        ).scalars():
            if step.position < 5:
                step.status = "done"
    await stack.mend.recovery.sync(row.id)
    prompt = thread(stack)[-1]
    assert "Make amends" in text_of(prompt) and "Offer amends" in text_of(prompt)
    await stack.alice.click(AmendsAction.OFFER.value, message_ts=prompt["ts"])
    await stack.settle()
    await stack.alice.submit_view(
        {
            AmendsBlock.KIND.value: "gift",
            AmendsBlock.AMOUNT.value: "40",
            AmendsBlock.JUSTIFICATION.value: "Flowers",
        }
    )
    await stack.settle()
    assert (await amends_step(stack, row.id)).status == "done"
    redrawn = stack.double.message(stack.recovery or "", prompt["ts"])
    assert "Amends granted" in text_of(redrawn) and '"type": "button"' not in text_of(redrawn)
    assert "Follow up" in text_of(thread(stack)[-1])  # the playbook moved on


async def test_above_the_limit_an_approver_approves(stack: Stack) -> None:
    row = await stack.report_case()
    response = await offer(
        stack, "120", **{AmendsBlock.CUSTOMER_COST.value: "Two hours waiting, a second cake at full price"}
    )
    assert response.field_errors == {}
    [amends] = await amends_rows(stack)
    assert amends.state == "pending"
    assert {r["code"] for r in amends.reasons} == {"above_limit"}
    carol, dave = stack.people["carol"], stack.people["dave"]
    # Each approver (named, and through the user group) has a copy in their DM; the requester has none.
    [carol_copy], [dave_copy] = approval_messages(stack, carol), approval_messages(stack, dave)
    assert "above the agent limit of €50.00" in text_of(carol_copy) and "second cake" in text_of(carol_copy)
    assert "Amends to approve" in text_of(carol_copy)
    assert dave_copy["text"] == carol_copy["text"] and "second cake" in text_of(dave_copy)
    assert approval_messages(stack, stack.alice) == []
    assert any(kind_of(m) == "mend_amends_notice" for m in thread(stack))

    assert (await carol.click(AmendsAction.APPROVE.value)).status == 200
    await stack.settle()
    [amends] = await amends_rows(stack)
    assert (amends.state, amends.decided_by, amends.final_minor) == ("approved", carol.id, 12000)
    for person in (carol, dave):  # every copy now says who decided, and has no buttons
        [message] = approval_messages(stack, person)
        assert f"Approved* by <@{carol.id}>" in text_of(message) and '"type": "button"' not in text_of(
            message
        )
        assert "Amends request approved" in text_of(message) and "Amends to approve" not in text_of(message)
    outcome = [m for m in thread(stack) if kind_of(m) == "mend_amends_outcome"]
    assert len(outcome) == 1 and "approved" in text_of(outcome[0])
    told = stack.double.messages(stack.double.dm_channel_id(stack.alice.id) or "")
    assert any("were approved" in (m.get("text") or "") for m in told)
    assert (await amends_step(stack, row.id)).status == "done"
    assert "€120.00 refund" in text_of(card(stack))
    stack.double.assert_no_rejections()


async def test_rejection_needs_a_reason_and_reaches_the_requester(stack: Stack) -> None:
    row = await stack.report_case()
    await offer(stack, "300")
    carol = stack.people["carol"]
    await carol.click(AmendsAction.REJECT.value)
    await stack.settle()
    blank = await carol.submit_view({}, enforce_required=False)
    assert AmendsBlock.REASON.value in blank.field_errors
    done = await carol.submit_view({AmendsBlock.REASON.value: "A full refund plus a new cake covers it."})
    assert done.field_errors == {}
    await stack.settle()
    [amends] = await amends_rows(stack)
    assert (amends.state, amends.decision_reason) == ("rejected", "A full refund plus a new cake covers it.")
    assert amends.final_minor is None
    assert "Rejected* by" in text_of(approval_messages(stack, stack.people["dave"])[0])
    told = stack.double.messages(stack.double.dm_channel_id(stack.alice.id) or "")
    assert any("were rejected" in (m.get("text") or "") and "new cake" in (m.get("text") or "") for m in told)
    assert (await amends_step(stack, row.id)).status == "pending"
    assert "Amends granted" not in text_of(card(stack))


async def test_adjust_sets_a_new_amount(stack: Stack) -> None:
    await stack.report_case()
    await offer(stack, "200")
    dave = stack.people["dave"]
    await dave.click(AmendsAction.ADJUST.value)
    await stack.settle()
    bad = await dave.submit_view({AmendsBlock.NEW_AMOUNT.value: "lots", AmendsBlock.REASON.value: "x"})
    assert "isn't an amount" in bad.field_errors[AmendsBlock.NEW_AMOUNT.value]
    same = await dave.submit_view({AmendsBlock.NEW_AMOUNT.value: "200", AmendsBlock.REASON.value: "x"})
    assert "use Approve" in same.field_errors[AmendsBlock.NEW_AMOUNT.value]
    ok = await dave.submit_view(
        {AmendsBlock.NEW_AMOUNT.value: "€90", AmendsBlock.REASON.value: "Guidance tops at 150"}
    )
    assert ok.field_errors == {}
    await stack.settle()
    [amends] = await amends_rows(stack)
    assert (amends.state, amends.final_minor, amends.offered_minor) == ("adjusted", 9000, 20000)
    assert any("adjusted to €90.00" in text_of(m) for m in thread(stack))
    assert "€90.00 refund" in text_of(card(stack))


async def test_outsiders_cannot_decide_and_are_audited(make: MakeStack) -> None:
    async with make(configure=with_approvals_channel) as stack:
        row = await stack.report_case()
        await offer(stack, "120")
        mallory = stack.people["mallory"]
        for action in (AmendsAction.APPROVE, AmendsAction.REJECT, AmendsAction.ADJUST):
            assert (await mallory.click(action.value)).status == 200
            await stack.settle()
        [amends] = await amends_rows(stack)
        assert amends.state == "pending" and amends.decided_by is None
        told = [e.text for e in stack.double.ephemerals(user_id=mallory.id)]
        assert len(told) == 3 and all("Only approvers can decide" in t for t in told)
        assert stack.double.open_views(mallory.id) == []
        assert (await event_kinds(stack, row.id)).count("amends_decision_refused") == 3
        # The requester can't approve their own request either, even from the channel copy.
        await stack.alice.click(AmendsAction.APPROVE.value)
        await stack.settle()
        assert (await amends_rows(stack))[0].state == "pending"


async def test_twenty_concurrent_approvals_make_one_decision(stack: Stack) -> None:
    row = await stack.report_case()
    await offer(stack, "120")
    carol, dave = stack.people["carol"], stack.people["dave"]
    # Every click is aimed before any state changes, as twenty impatient clicks in two Slack clients are.
    for person in (carol, dave):
        found = person.find(AmendsAction.APPROVE.value)
        person.find = lambda *args, _found=found, **kwargs: _found  # type: ignore[method-assign]
    updates_before = len(stack.double.calls_to("chat.update"))
    responses = await asyncio.gather(*(p.click(AmendsAction.APPROVE.value) for p in [carol, dave] * 10))
    await stack.settle()
    assert [r.status for r in responses] == [200] * 20
    [amends] = await amends_rows(stack)
    assert amends.state == "approved" and amends.decided_by in {carol.id, dave.id} and amends.version == 2
    assert (await event_kinds(stack, row.id)).count("amends_decided") == 1
    assert len([m for m in thread(stack) if kind_of(m) == "mend_amends_outcome"]) == 1
    copies = await copy_rows(stack)
    updated = Counter(
        (c.args.get("channel"), c.args.get("ts"))
        for c in stack.double.calls_to("chat.update")[updates_before:]
    )
    assert all(updated[(c.channel_id, c.ts)] == 1 for c in copies) and len(copies) == 2
    told = [e.text for p in (carol, dave) for e in stack.double.ephemerals(user_id=p.id)]
    assert len(told) == 19 and all("already approved" in t for t in told)


async def run_due(stack: Stack) -> None:
    """Tick the follow-up engine until a tick finds nothing due (a reminder step stages one per copy)."""
    for _ in range(5):
        if not await stack.tick():
            return
    raise AssertionError("the engine was still finding due rows after five ticks")


async def amends_follow_ups(stack: Stack) -> Counter[tuple[str, str]]:
    """(kind, state) of the amends rows on the follow-up engine."""
    async with stack.mend.db.transaction() as session:
        query = select(FollowUpRow.kind, FollowUpRow.state).where(FollowUpRow.kind.startswith("amends_"))
        return Counter((kind, state) for kind, state in await session.execute(query))


def reminders(stack: Stack, person: Person) -> list[dict[str, Any]]:
    [copy] = approval_messages(stack, person)
    dm = stack.double.dm_channel_id(person.id) or ""
    return [m for m in stack.double.thread(dm, copy["ts"]) if kind_of(m) == "mend_amends_reminder"]


async def test_escalation_reminds_then_asks_the_backup(make: MakeStack) -> None:
    """On the follow-up engine: the reminder and the backups are rows, run by the poller's ticks."""
    clock = FrozenClock(datetime(2026, 3, 2, 9, 0, tzinfo=UTC))
    async with make(clock=clock, approval_escalate_after="4h") as stack:
        row = await stack.report_case()
        await offer(stack, "120")
        carol, dave, erin = stack.people["carol"], stack.people["dave"], stack.people["erin"]
        await run_due(stack)
        assert (await amends_follow_ups(stack))[("amends_remind", "pending")] == 1
        assert [reminders(stack, p) for p in (carol, dave)] == [[], []]
        clock.advance(timedelta(hours=4, minutes=1))
        await run_due(stack)
        rows = await amends_follow_ups(stack)
        # The reminder step ran, staged a reminder in each approver's copy, and the backups for later.
        assert rows[("amends_remind", "sent")] == 1 and rows[("amends_copy_reminder", "sent")] == 2
        assert rows[("amends_backups", "pending")] == 1
        for person in (carol, dave):
            [reminder] = reminders(stack, person)
            assert "Reminder" in text_of(reminder)
        assert approval_messages(stack, erin) == []  # the backup is asked only after another wait
        await run_due(stack)
        assert [len(reminders(stack, p)) for p in (carol, dave)] == [1, 1]
        clock.advance(timedelta(hours=4))
        await run_due(stack)
        [backup_copy] = approval_messages(stack, erin)
        assert "asked as backup" in text_of(backup_copy)
        assert [len(reminders(stack, p)) for p in (carol, dave)] == [1, 1]
        assert (await event_kinds(stack, row.id)).count("amends_escalated") == 1
        await erin.click(AmendsAction.APPROVE.value)
        await stack.settle()
        [amends] = await amends_rows(stack)
        assert (amends.state, amends.decided_by, amends.escalation_level) == ("approved", erin.id, 2)
        assert all(
            '"type": "button"' not in text_of(m)
            for p in stack.people.values()
            for m in approval_messages(stack, p)
        )
        clock.advance(timedelta(days=1))
        await run_due(stack)
        rows = await amends_follow_ups(stack)
        assert {state for _, state in rows} == {"sent"}, rows  # nothing left waiting, nothing failed
        assert [len(reminders(stack, p)) for p in (carol, dave)] == [1, 1]


POLICY = """
currency = "EUR"
agent_limit = 60
approval_required_kinds = ["gift"]

[repeat_claims]
count = 2
days = 90

[[guarantees]]
category = "Delivery"
title = "Late or damaged delivery: the delivery fee back"
kind = "refund"
remedy = "7.50"
"""


async def test_guarantee_is_granted_at_once(make: MakeStack, tmp_path: Path) -> None:
    policy = tmp_path / "policy.toml"
    policy.write_text(POLICY)
    async with make(policy_file=policy) as stack:
        row = await stack.report_case()
        view = await open_offer(stack)
        assert "Service guarantee" in text_of(view) and "€7.50" in text_of(view)
        await stack.alice.click(AmendsAction.INVOKE_GUARANTEE.value)
        await stack.settle()
        assert "granted under the service guarantee" in text_of(stack.alice.current_view())
        [amends] = await amends_rows(stack)
        assert (amends.state, amends.source, amends.offered_minor) == ("granted", "guarantee", 750)
        assert any("under the service guarantee" in text_of(m) for m in thread(stack))
        assert (await amends_step(stack, row.id)).status == "done"
        await stack.alice.close_view()
        again = await open_offer(stack)
        assert "Invoked already" in text_of(again) and AmendsAction.INVOKE_GUARANTEE.value not in text_of(
            again
        )


async def test_repeat_claims_and_kinds_are_flagged_for_the_approver(make: MakeStack, tmp_path: Path) -> None:
    policy = tmp_path / "policy.yaml"
    policy.write_text(
        "agent_limit: 60\nrepeat_claims: {count: 2, days: 90}\napproval_required_kinds: [gift]\n"
    )
    async with make(policy_file=policy) as stack:
        await stack.report_case()
        await offer(stack, "50")  # the first claim: granted
        await stack.report_case()  # the same customer (order #4411) again
        await offer(stack, "45", kind="gift")
        rows = await amends_rows(stack)
        assert [r.state for r in rows] == ["granted", "pending"]
        # €45 after €50 (both offered from the first case's card) is over the €60 agent limit in total.
        assert {r["code"] for r in rows[1].reasons} == {"repeat_claims", "kind_needs_approval", "above_limit"}
        request = text_of(approval_messages(stack, stack.people["carol"])[0])
        assert "repeat claims" in request and "amends number 2" in request
        assert "always needs an approver" in request
        assert "with the €50.00 already given on this case it makes €95.00" in request


async def test_bad_input_gets_field_errors(stack: Stack) -> None:
    await stack.report_case()
    await open_offer(stack)
    for amount, kind, expected in [
        ("-5", "refund", "can't be negative"),
        ("0", "refund", "more than zero"),
        ("twenty", "refund", "isn't an amount"),
        ("9999999999999", "refund", "absurdly large"),
        ("50000", "refund", "more than any single amends"),
        ("25 XYZ", "refund", "isn't a currency"),
        ("25 USD", "refund", "in EUR only"),
        ("150%", "discount", "more than 100%"),
        ("10%", "refund", "not a percentage"),
        ("12.345", "refund", "2 decimal places"),
    ]:
        response = await stack.alice.submit_view(
            {
                AmendsBlock.KIND.value: kind,
                AmendsBlock.AMOUNT.value: amount,
                AmendsBlock.JUSTIFICATION.value: "x",
            }
        )
        assert expected in response.field_errors.get(AmendsBlock.AMOUNT.value, ""), (
            amount,
            response.field_errors,
        )
    # An approver id no Slack client would send (forged), and a person who isn't an approver.
    view = stack.alice.current_view()
    values = {
        AmendsBlock.KIND.value: {
            AmendsBlock.KIND.action_id: {"type": "static_select", "selected_option": {"value": "refund"}}
        },
        AmendsBlock.AMOUNT.value: {
            AmendsBlock.AMOUNT.action_id: {"type": "plain_text_input", "value": "120"}
        },
        AmendsBlock.JUSTIFICATION.value: {
            AmendsBlock.JUSTIFICATION.action_id: {"type": "plain_text_input", "value": "x"}
        },
        AmendsBlock.APPROVER.value: {
            AmendsBlock.APPROVER.action_id: {"type": "users_select", "selected_user": "U0NOBODY"}
        },
    }
    forged = await stack.forge_view_submission(stack.alice, view, values)
    assert "isn't a person in this workspace" in forged.field_errors[AmendsBlock.APPROVER.value]
    values[AmendsBlock.APPROVER.value][AmendsBlock.APPROVER.action_id]["selected_user"] = stack.bob.id
    not_approver = await stack.forge_view_submission(stack.alice, view, values)
    assert "isn't one of the approvers" in not_approver.field_errors[AmendsBlock.APPROVER.value]
    assert await amends_rows(stack) == []


async def test_under_compensation_goes_to_an_approver_with_the_warning(stack: Stack) -> None:
    await stack.report_case()
    await offer(stack, "2", kind="credit")
    [amends] = await amends_rows(stack)
    assert amends.state == "pending" and [r["code"] for r in amends.reasons] == ["below_guidance"]
    assert "can read as an insult" in text_of(approval_messages(stack, stack.people["carol"])[0])


async def test_a_decision_on_a_closed_case_is_refused(stack: Stack) -> None:
    row = await stack.report_case()
    await offer(stack, "120")
    async with stack.mend.db.transaction() as session:  # closed by someone else meanwhile
        case = await session.get(CaseRow, row.id)
        assert case is not None
        case.state = "closed"
    carol = stack.people["carol"]
    await carol.click(AmendsAction.APPROVE.value)
    await stack.settle()
    assert (await amends_rows(stack))[0].state == "pending"
    assert any("was closed before this decision" in e.text for e in stack.double.ephemerals(user_id=carol.id))


def test_bad_policy_file_stops_start_up(tmp_path: Path) -> None:
    bad = tmp_path / "policy.toml"
    bad.write_text(
        'currency = "EUR"\n\n[guidance.major]\nmin = 200\nmax = 100\n\n[[guarantees]]\ncategory = "x"\n'
    )
    env = {k: v for k, v in os.environ.items() if not k.startswith("SLACK_")}
    env.update(SLACK_BOT_TOKEN="xoxb-1", SLACK_SIGNING_SECRET="0123456789abcdef", POLICY_FILE=str(bad))
    result = subprocess.run(
        [sys.executable, str(ROOT / "app.py")],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 2, result.stderr
    assert "POLICY_FILE" in result.stderr and "line 3" in result.stderr and "guidance.major" in result.stderr
    assert "Traceback" not in result.stderr


async def test_approver_decides_from_the_home_tab(stack: Stack) -> None:
    """Issue 6: the Home tab lists amends waiting for an approver, with the request's own buttons."""
    await stack.report_case()
    await offer(stack, "€120")
    carol = stack.people["carol"]
    await carol.open_home()
    await stack.settle()
    home = stack.double.home_tab(carol.id)
    assert home is not None
    shown = json.dumps(home["blocks"], ensure_ascii=False)
    assert "Amends waiting for your decision* (1)" in shown and "€120.00" in shown
    assert "Amends granted this month:* €0.00 of €2,000.00 budget" in shown
    # The requester sees the budget but no decisions to make.
    await stack.alice.open_home()
    await stack.settle()
    alice_home = json.dumps(stack.double.home_tab(stack.alice.id)["blocks"], ensure_ascii=False)  # type: ignore[index]
    assert "waiting for your decision" not in alice_home

    response = await carol.click(AmendsAction.APPROVE.value, surface="home")
    assert response.status == 200
    await stack.settle()
    async with stack.mend.db.transaction() as session:
        [row] = list((await session.execute(select(AmendsRow))).scalars())
    assert (row.state, row.decided_by) == ("approved", carol.id)
    refreshed = json.dumps(stack.double.home_tab(carol.id)["blocks"], ensure_ascii=False)  # type: ignore[index]
    assert "waiting for your decision" not in refreshed and "€120.00 of €2,000.00" in refreshed


def with_agents_and_approvers(double: SlackDouble) -> dict[str, Any]:
    for name in ("fay", "gus", "hal", "ivy"):
        double.add_user(name, real_name=f"{name.title()} Agent")
    return with_approvers(double)


async def test_six_people_granting_at_once_stay_within_the_budget(make: MakeStack, tmp_path: Path) -> None:
    """Six agents submit €50 on six cases at the same moment under a €150 budget: three are granted, and
    the other three go to the approvers as over budget, as any request that needs an approver does."""
    policy = tmp_path / "policy.toml"
    policy.write_text("agent_limit = 50\nmonthly_budget = 150\n")
    async with make(policy_file=policy, configure=with_agents_and_approvers) as stack:
        agents = [stack.alice, stack.bob, *(stack.people[n] for n in ("fay", "gus", "hal", "ivy"))]
        assert stack.recovery is not None
        stack.double.channel(stack.recovery).members.update(p.id for p in agents)
        cards = []
        for i in range(6):
            await stack.report_case(customer_ref=f"order #{5500 + i}")
            cards.append(
                [m for m in stack.double.messages(stack.recovery) if kind_of(m) == "mend_case_card"][-1]["ts"]
            )
        for person, ts in zip(agents, cards, strict=True):
            assert (await person.click(AmendsAction.OFFER.value, message_ts=ts)).status == 200
        await stack.settle()
        values = {
            AmendsBlock.KIND.value: "refund",
            AmendsBlock.AMOUNT.value: "50",
            AmendsBlock.JUSTIFICATION.value: "Two hours late for a party.",
        }
        responses = await asyncio.gather(*(person.submit_view(values) for person in agents))
        await stack.settle()
        assert [(r.status, r.field_errors) for r in responses] == [(200, {})] * 6
        rows = await amends_rows(stack)
        assert len(rows) == 6 and sum(r.final_value_minor or 0 for r in rows if r.state == "granted") == 15000
        pending = [r for r in rows if r.state == "pending"]
        assert len(pending) == 3 and all([x["code"] for x in r.reasons] == ["over_budget"] for r in pending)
        # The approvers are asked about exactly those three, and each case's thread says why.
        asked = approval_messages(stack, stack.people["carol"])
        assert len(asked) == 3 and all("over the €150.00 budget" in text_of(m) for m in asked)
        assert len(approval_messages(stack, stack.people["dave"])) == 3
        for row in pending:
            ts = cards[[r.id for r in await stack.case_rows()].index(row.case_id)]
            notices = [
                m for m in stack.double.thread(stack.recovery, ts) if kind_of(m) == "mend_amends_notice"
            ]
            assert len(notices) == 1 and "an approver decides because" in text_of(notices[0])
        stack.double.assert_no_rejections()
