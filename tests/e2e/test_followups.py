"""End to end: every kind of nudge and its buttons, through the Slack double, on a frozen clock."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator, Callable
from contextlib import AbstractAsyncContextManager
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import select

from bot.clock import FrozenClock
from bot.followups import FollowUpState
from handlers.ids import FollowUpAction, MessageMetadata, StepAction
from storage.followups import FollowUpRow, PromiseRow
from storage.tables import CaseEventRow, CaseStepRow
from tests.e2e.conftest import APOLOGY, Stack

# A Tuesday, 10:00 in London (where Alice works) and 05:00 in New York (where Bob does).
TUESDAY_10_LONDON = datetime(2026, 11, 24, 10, 0, tzinfo=UTC)


@pytest.fixture
def clock() -> FrozenClock:
    return FrozenClock(TUESDAY_10_LONDON)


@pytest.fixture
async def fstack(
    make_stack: Callable[..., AbstractAsyncContextManager[Stack]], clock: FrozenClock
) -> AsyncIterator[Stack]:
    async with make_stack(clock=clock, approver_ids="") as running:
        yield running


def text_of(message: dict[str, Any]) -> str:
    return json.dumps(message.get("blocks") or [], ensure_ascii=False) + str(message.get("text"))


def thread(stack: Stack) -> list[dict[str, Any]]:
    assert stack.recovery is not None
    card = next(
        m
        for m in stack.double.messages(stack.recovery)
        if (m.get("metadata") or {}).get("event_type") == MessageMetadata.CASE_CARD.value
    )
    return stack.double.thread(stack.recovery, card["ts"])


def nudges(stack: Stack) -> list[dict[str, Any]]:
    return [
        m
        for m in thread(stack)
        if (m.get("metadata") or {}).get("event_type") == MessageMetadata.FOLLOW_UP.value
    ]


async def rows(stack: Stack, kind: str | None = None) -> list[FollowUpRow]:
    async with stack.mend.db.transaction() as session:
        query = select(FollowUpRow).order_by(FollowUpRow.id)
        if kind:
            query = query.where(FollowUpRow.kind == kind)
        return list((await session.execute(query)).scalars())


async def event_kinds(stack: Stack, case_id: int) -> list[str]:
    async with stack.mend.db.transaction() as session:
        query = select(CaseEventRow.kind).where(CaseEventRow.case_id == case_id).order_by(CaseEventRow.id)
        return list((await session.execute(query)).scalars())


async def step_status(stack: Stack, case_id: int, key: str) -> str:
    async with stack.mend.db.transaction() as session:
        row = (
            await session.execute(
                select(CaseStepRow).where(CaseStepRow.case_id == case_id, CaseStepRow.step_key == key)
            )
        ).scalar_one()
        return row.status


async def click(stack: Stack, action_id: str, person: Any = None, **kwargs: Any) -> None:
    response = await (person or stack.alice).click(action_id, **kwargs)
    assert response.status == 200
    await stack.settle()


async def test_ack_nudge_goes_to_the_owner_after_the_period_and_done_finishes_the_apology(
    fstack: Stack, clock: FrozenClock
) -> None:
    case = await fstack.report_case()
    [nudge_row] = await rows(fstack, "ack_nudge")
    assert nudge_row.due_at == TUESDAY_10_LONDON + timedelta(minutes=15)
    assert await fstack.tick() == 0  # not due yet
    clock.advance(timedelta(minutes=16))
    assert await fstack.tick() == 1
    [nudge] = nudges(fstack)
    assert f"<@{fstack.alice.id}>" in text_of(nudge) and "no apology yet" in text_of(nudge)
    assert (await rows(fstack, "ack_nudge"))[0].state == FollowUpState.SENT
    assert await fstack.tick() == 0  # sent once, never again

    await click(fstack, FollowUpAction.DONE.value)  # "Apology sent" opens the apology form
    assert await step_status(fstack, case.id, "apologize") == "pending"
    assert (await fstack.alice.submit_view({"Your message to the customer": APOLOGY})).field_errors == {}
    await fstack.settle()
    assert await step_status(fstack, case.id, "apologize") == "done"
    [nudge] = nudges(fstack)
    assert "Apology sent" in text_of(nudge) and FollowUpAction.DONE.value not in text_of(
        nudge
    )  # updated in place
    row = (await rows(fstack, "ack_nudge"))[0]
    assert (row.state, row.resolution, row.resolved_by) == ("resolved", "done", fstack.alice.id)
    assert "ack_nudge_done" in await event_kinds(fstack, case.id)
    fstack.double.assert_no_rejections()


async def test_ack_nudge_is_cancelled_when_the_apology_was_done_meanwhile(
    fstack: Stack, clock: FrozenClock
) -> None:
    await fstack.report_case()
    await fstack.apologise()  # the apology step, done from its prompt
    clock.advance(timedelta(hours=1))
    assert await fstack.tick() == 1
    assert nudges(fstack) == []
    row = (await rows(fstack, "ack_nudge"))[0]
    assert row.state == "cancelled" and row.outcome == "cancelled: apology done"


async def promise_row(stack: Stack) -> PromiseRow:
    async with stack.mend.db.transaction() as session:
        return (await session.execute(select(PromiseRow).order_by(PromiseRow.id.desc()))).scalars().first()  # type: ignore[return-value]


async def walk_to(stack: Stack, last_step: str, case_id: int) -> None:
    """Click Done on each step prompt up to and including `last_step`."""
    order = ["apologize", "listen", "own", "root_cause", "fix", "amends", "follow_up", "record"]
    await stack.apologise(case_id)
    for key in order[1 : order.index(last_step) + 1]:
        await click(
            stack, StepAction.DONE.value, value=json.dumps({"c": case_id, "s": key}, separators=(",", ":"))
        )


async def test_an_escalation_says_the_cases_real_age(
    make_stack: Callable[..., AbstractAsyncContextManager[Stack]], clock: FrozenClock
) -> None:
    """A case left untouched for three weeks (Mend down, or its nudges snoozed away) is escalated in words
    that say so, not in the policy's "30m" (which read as if it had been reported half an hour ago)."""
    async with make_stack(clock=clock, approvers=("bob",), working_hours="always") as stack:
        await stack.report_case()
        clock.advance(timedelta(weeks=3, hours=2))
        await stack.tick()
        await stack.tick()
        sent = nudges(stack)
        escalation = next(m for m in sent if "still has no apology" in text_of(m))
        assert "3 weeks after it was reported" in text_of(escalation)
        assert "30m" not in text_of(escalation)
        # Both fell due long ago: the owner's nudge still comes first, then the manager's escalation.
        assert "has no apology yet" in text_of(sent[0]) and sent.index(escalation) > 0


async def test_unanswered_ack_escalates_to_the_approvers(
    make_stack: Callable[..., AbstractAsyncContextManager[Stack]], clock: FrozenClock
) -> None:
    async with make_stack(clock=clock, approvers=("bob",), working_hours="always") as stack:
        await stack.report_case()
        clock.advance(timedelta(minutes=16))
        assert await stack.tick() == 1  # the owner first
        clock.advance(timedelta(minutes=15))
        assert await stack.tick() == 1  # then the approver
        first, second = nudges(stack)
        assert f"<@{stack.alice.id}>" in text_of(first)
        assert f"<@{stack.bob.id}>" in text_of(second) and "still has no apology" in text_of(second)
        assert "31 minutes after it was reported" in text_of(second)  # its real age when it went out
        # Bob acknowledges the escalation: it settles in place; Alice's nudge is still hers to act on.
        await click(stack, FollowUpAction.DONE.value, person=stack.bob, message_ts=second["ts"])
        assert FollowUpAction.DONE.value not in text_of(nudges(stack)[1])
        assert FollowUpAction.DONE.value in text_of(nudges(stack)[0])


async def test_nudges_wait_for_the_recipients_working_hours_in_their_time_zone(
    fstack: Stack, clock: FrozenClock
) -> None:
    await fstack.report_case()
    clock.advance(timedelta(minutes=16))
    await fstack.tick()
    # Alice hands the nudge to Bob, who is in New York, where it is 05:16: it waits for his 09:00.
    await click(fstack, FollowUpAction.REASSIGN.value)
    response = await fstack.alice.submit_view({"Who should take this on?": fstack.bob.id})
    assert response.field_errors == {}
    await fstack.settle()
    assert "Reassigned to" in text_of(nudges(fstack)[0])
    assert await fstack.tick() == 1  # claimed, and put back until his morning
    assert len(nudges(fstack)) == 1
    [row] = await rows(fstack, "ack_nudge")
    assert row.due_at == datetime(2026, 11, 24, 14, 0, tzinfo=UTC)  # 09:00 in New York
    assert row.outcome == "waiting: outside working hours"
    clock.advance(timedelta(hours=3, minutes=50))
    assert await fstack.tick() == 1
    latest = nudges(fstack)[-1]
    assert len(nudges(fstack)) == 2 and f"<@{fstack.bob.id}>" in text_of(latest)
    # Bob's copy has the buttons; a click on Alice's old one changes nothing.
    await click(fstack, FollowUpAction.DONE.value, person=fstack.bob, message_ts=latest["ts"])
    assert (await fstack.bob.submit_view({"Your message to the customer": APOLOGY})).field_errors == {}
    await fstack.settle()
    [row] = await rows(fstack, "ack_nudge")
    assert (row.state, row.round, row.resolved_by) == ("resolved", 1, fstack.bob.id)


async def test_snooze_an_hour_tomorrow_morning_or_a_picked_time(fstack: Stack, clock: FrozenClock) -> None:
    await fstack.report_case()
    clock.advance(timedelta(minutes=16))
    await fstack.tick()
    await click(fstack, FollowUpAction.SNOOZE.value, choose="1 hour")
    [row] = await rows(fstack, "ack_nudge")
    assert (row.state, row.round, row.due_at) == ("pending", 1, clock.now() + timedelta(hours=1))
    assert "Snoozed until" in text_of(nudges(fstack)[0]) and FollowUpAction.SNOOZE.value not in text_of(
        nudges(fstack)[0]
    )
    assert await fstack.tick() == 0
    clock.advance(timedelta(hours=1))
    assert await fstack.tick() == 1 and len(nudges(fstack)) == 2

    await click(
        fstack, FollowUpAction.SNOOZE.value, choose="Tomorrow morning", message_ts=nudges(fstack)[-1]["ts"]
    )
    [row] = await rows(fstack, "ack_nudge")
    assert row.due_at == datetime(2026, 11, 25, 9, 0, tzinfo=UTC)  # 09:00 Wednesday in London

    clock.advance(timedelta(days=1))  # Wednesday 11:16
    assert await fstack.tick() == 1
    await click(
        fstack, FollowUpAction.SNOOZE.value, choose="Pick a time…", message_ts=nudges(fstack)[-1]["ts"]
    )
    refused = await fstack.alice.submit_view({"Date": "2026-11-20", "Time": "09:00"})
    assert "future" in str(refused.field_errors)
    picked = await fstack.alice.submit_view({"Date": "2026-11-28", "Time": "20:30"})  # a Saturday evening
    assert picked.field_errors == {}
    await fstack.settle()
    [row] = await rows(fstack, "ack_nudge")
    # A time the person picked is kept as it is, outside working hours or not.
    assert (row.due_at, row.exact) == (datetime(2026, 11, 28, 20, 30, tzinfo=UTC), True)
    clock.advance(datetime(2026, 11, 28, 20, 30, tzinfo=UTC) - clock.now())
    assert await fstack.tick() == 1 and len(nudges(fstack)) == 4


async def test_a_promise_is_reminded_before_and_flagged_when_it_passes_unkept(
    make_stack: Callable[..., AbstractAsyncContextManager[Stack]], clock: FrozenClock
) -> None:
    async with make_stack(clock=clock, ack_nudge_after="2d") as stack:
        case = await stack.report_case()
        await click(stack, FollowUpAction.RECORD_PROMISE.value)
        empty = await stack.alice.submit_view(
            {"What did you promise?": " ", "By (date)": "2026-11-24"}, enforce_required=False
        )
        assert "promised" in str(empty.field_errors)
        recorded = await stack.alice.submit_view(
            {
                "What did you promise?": "Call back with the refund",
                "By (date)": "2026-11-24",
                "By (time)": "15:00",
            }
        )
        assert recorded.field_errors == {}
        await stack.settle()
        promise = await promise_row(stack)
        assert promise.due_at == datetime(
            2026, 11, 24, 15, 0, tzinfo=UTC
        )  # 15:00 in London is 15:00 UTC in November
        reminder, due = await rows(stack, "promise_reminder") + await rows(stack, "promise_due")
        assert reminder.due_at == datetime(2026, 11, 24, 14, 0, tzinfo=UTC) and due.due_at == promise.due_at
        clock.advance(timedelta(hours=4))
        assert await stack.tick() == 1
        assert "Promise to" in text_of(nudges(stack)[-1]) and "Call back with the refund" in text_of(
            nudges(stack)[-1]
        )
        clock.advance(timedelta(hours=1))
        assert await stack.tick() == 1
        flag = nudges(stack)[-1]
        assert ":warning:" in text_of(flag) and "is not marked kept" in text_of(flag)
        assert (await promise_row(stack)).state == "broken"
        assert "promise_broken" in await event_kinds(stack, case.id)
        # Kept late after all: the flag's button says so, and the reminder's button is gone with it.
        await click(stack, FollowUpAction.DONE.value, message_ts=flag["ts"])
        assert (await promise_row(stack)).state == "kept"


async def test_a_kept_promise_is_never_flagged(
    make_stack: Callable[..., AbstractAsyncContextManager[Stack]], clock: FrozenClock
) -> None:
    async with make_stack(clock=clock, ack_nudge_after="2d") as stack:
        await stack.report_case()
        await click(stack, FollowUpAction.RECORD_PROMISE.value)
        await stack.alice.submit_view(
            {"What did you promise?": "Send the new cake", "By (date)": "2026-11-24", "By (time)": "17:00"}
        )
        await stack.settle()
        clock.advance(timedelta(hours=6))  # 16:00: the reminder is due
        assert await stack.tick() == 1
        await click(stack, FollowUpAction.DONE.value, message_ts=nudges(stack)[-1]["ts"])
        assert (await promise_row(stack)).state == "kept"
        clock.advance(timedelta(hours=2))
        assert await stack.tick() == 1  # the deadline row, cancelled rather than sent
        assert len(nudges(stack)) == 2  # the confirmation, then the reminder; no flag
        [due] = await rows(stack, "promise_due")
        assert (due.state, due.outcome) == ("cancelled", "cancelled: promise kept")


async def test_customer_follow_up_after_the_fix_satisfied_or_not_yet(
    make_stack: Callable[..., AbstractAsyncContextManager[Stack]], clock: FrozenClock
) -> None:
    async with make_stack(
        clock=clock, ack_nudge_after="5d", follow_up_after="1d", working_hours="always"
    ) as stack:
        case = await stack.report_case()
        await walk_to(stack, "fix", case.id)
        [row] = await rows(stack, "customer_follow_up")
        assert row.due_at == TUESDAY_10_LONDON + timedelta(days=1)
        clock.advance(timedelta(days=1))
        assert await stack.tick() == 1
        asked = nudges(stack)[-1]
        assert "Is the customer satisfied?" in text_of(asked)
        await click(stack, FollowUpAction.NOT_YET.value, message_ts=asked["ts"])
        assert await step_status(stack, case.id, "fix") == "pending"  # reopened
        assert "Not yet" in text_of(nudges(stack)[-1])
        # The fix again: a new question a day later, and this time the customer is happy.
        await click(
            stack, StepAction.DONE.value, value=json.dumps({"c": case.id, "s": "fix"}, separators=(",", ":"))
        )
        clock.advance(timedelta(days=1))
        assert await stack.tick() == 1
        await click(stack, FollowUpAction.SATISFIED.value, message_ts=nudges(stack)[-1]["ts"])
        first, second = await rows(stack, "customer_follow_up")
        assert (first.resolution, second.resolution) == ("not_yet", "satisfied")
        kinds = await event_kinds(stack, case.id)
        assert "step_reopened" in kinds and "customer_follow_up_satisfied" in kinds


async def test_schedule_follow_up_from_step_seven_and_the_resurvey_after_closing(
    make_stack: Callable[..., AbstractAsyncContextManager[Stack]], clock: FrozenClock
) -> None:
    async with make_stack(
        clock=clock,
        ack_nudge_after="60d",
        follow_up_after="30d",
        resurvey_after="14d",
        working_hours="always",
    ) as stack:
        case = await stack.report_case()
        await walk_to(stack, "amends", case.id)
        await click(stack, FollowUpAction.SCHEDULE_FOLLOW_UP.value)
        scheduled = await stack.alice.submit_view(
            {"Date": "2026-11-26", "Time": "11:30", "Note": "Ask about the refund"}
        )
        assert scheduled.field_errors == {}
        await stack.settle()
        [row] = await rows(stack, "scheduled_follow_up")
        assert row.due_at == datetime(2026, 11, 26, 11, 30, tzinfo=UTC)
        clock.advance(row.due_at - clock.now())
        assert await stack.tick() == 1
        assert "Ask about the refund" in text_of(nudges(stack)[-1])

        await walk_to_end(stack, case.id)
        await click(stack, StepAction.CLOSE_CASE.value)
        [resurvey] = await rows(stack, "resurvey")
        assert resurvey.due_at == clock.now() + timedelta(days=14)
        assert [r.state for r in await rows(stack, "customer_follow_up")] == ["pending"]  # cancelled when due
        clock.advance(timedelta(days=14))
        assert await stack.tick() == 1
        assert "did the recovery work" in text_of(nudges(stack)[-1])
        await click(stack, FollowUpAction.RECORD_OUTCOME.value)
        missing = await stack.alice.submit_view({}, enforce_required=False)
        assert "Choose what became" in str(missing.field_errors)
        recorded = await stack.alice.submit_view(
            {"The customer…": "stayed_satisfied", "Satisfaction (1 = very unhappy, 5 = delighted)": "4"}
        )
        assert recorded.field_errors == {}
        await stack.settle()
        [resurvey] = await rows(stack, "resurvey")
        assert resurvey.resolution == "recorded"
        assert resurvey.resolution_data == {"outcome": "stayed_satisfied", "score": 4}
        assert "Outcome: Stayed, and is satisfied, satisfaction 4/5" in text_of(nudges(stack)[-1])


async def walk_to_end(stack: Stack, case_id: int) -> None:
    for key in ("follow_up", "record"):
        await click(
            stack, StepAction.DONE.value, value=json.dumps({"c": case_id, "s": key}, separators=(",", ":"))
        )


async def test_open_nudges_are_cancelled_when_the_case_closes(
    make_stack: Callable[..., AbstractAsyncContextManager[Stack]], clock: FrozenClock
) -> None:
    async with make_stack(clock=clock, follow_up_after="1h", working_hours="always") as stack:
        case = await stack.report_case()
        await walk_to(stack, "record", case.id)
        await click(stack, StepAction.CLOSE_CASE.value)
        clock.advance(timedelta(hours=2))
        assert await stack.tick() == 2  # the ack nudge and the customer follow-up, both claimed ...
        assert nudges(stack) == []  # ... and neither sent
        states = {r.kind: (r.state, r.outcome) for r in await rows(stack)}
        assert states["ack_nudge"] == ("cancelled", "cancelled: case closed")
        assert states["customer_follow_up"] == ("cancelled", "cancelled: case closed")
        assert states["resurvey"][0] == "pending"


async def test_a_double_clicked_nudge_button_acts_once(fstack: Stack, clock: FrozenClock) -> None:
    case = await fstack.report_case()
    clock.advance(timedelta(minutes=16))
    await fstack.tick()
    first, second = await asyncio.gather(
        fstack.alice.click(FollowUpAction.SNOOZE.value, choose="1 hour"),
        fstack.alice.click(FollowUpAction.SNOOZE.value, choose="1 hour"),
    )
    assert first.status == second.status == 200
    await fstack.settle()
    [row] = await rows(fstack, "ack_nudge")
    assert row.round == 1  # snoozed once, not twice
    assert (await event_kinds(fstack, case.id)).count("follow_up_snoozed") == 1
    told = [e.text for e in fstack.double.ephemerals(user_id=fstack.alice.id)]
    assert any("already handled" in t for t in told)


async def test_a_button_a_nudge_never_showed_changes_nothing(
    make_stack: Callable[..., AbstractAsyncContextManager[Stack]], clock: FrozenClock
) -> None:
    """A missed deadline offers only Mark kept: a forged Snooze or Reassign on it is refused by the kind's
    rules, not only left out of its buttons."""
    async with make_stack(clock=clock, ack_nudge_after="2d") as stack:
        await stack.report_case()
        await click(stack, FollowUpAction.RECORD_PROMISE.value)
        await stack.alice.submit_view(
            {"What did you promise?": "Call back", "By (date)": "2026-11-24", "By (time)": "10:30"}
        )
        await stack.settle()
        clock.advance(timedelta(hours=1))
        assert await stack.tick() == 2  # the reminder (sent at once: it was due in half an hour) and the flag
        flag = next(m for m in nudges(stack) if "is not marked kept" in text_of(m))
        assert FollowUpAction.SNOOZE.value not in text_of(flag)
        done = stack.alice.find(FollowUpAction.DONE.value, message_ts=flag["ts"]).element["value"]
        for action_id, element in (
            (
                FollowUpAction.SNOOZE.value,
                {"type": "static_select", "selected_option": {"value": "1h|" + done}},
            ),
            (FollowUpAction.REASSIGN.value, {"type": "button", "value": done}),
        ):
            payload = {
                "type": "block_actions",
                "team": {"id": stack.double.team_id},
                "user": {"id": stack.alice.id, "team_id": stack.double.team_id},
                "trigger_id": stack.double.issue_trigger_id(stack.alice.id),
                "container": {"type": "message", "channel_id": stack.recovery, "message_ts": flag["ts"]},
                "channel": {"id": stack.recovery},
                "actions": [
                    {"action_id": action_id, "block_id": "nudge_actions", "action_ts": "1", **element}
                ],
            }
            assert (await stack.sender.post_interaction(payload)).status == 200
            await stack.settle()
        [due] = await rows(stack, "promise_due")
        assert (due.state, due.round, due.due_at) == ("sent", 0, datetime(2026, 11, 24, 10, 30, tzinfo=UTC))
        told = [e.text for e in stack.double.ephemerals(user_id=stack.alice.id)]
        assert sum("no such button" in t for t in told) == 2
