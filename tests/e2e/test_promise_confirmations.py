"""End to end: a promise or a planned check-in is confirmed once in the case thread and listed on the card with
its due time; Mark kept keeps the promise before its deadline (for those who may), cancels its reminder and
redraws the confirmation, the card and a deadline flag already posted."""

from __future__ import annotations

from collections.abc import Callable
from contextlib import AbstractAsyncContextManager
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from bot.clock import FrozenClock
from handlers.ids import FollowUpAction, MessageMetadata
from tests.e2e.conftest import Stack
from tests.e2e.test_followups import click, nudges, promise_row, rows, text_of, walk_to

TUESDAY_10_LONDON = datetime(2026, 11, 24, 10, 0, tzinfo=UTC)
DUE_15 = datetime(2026, 11, 24, 15, 0, tzinfo=UTC)


@pytest.fixture
def clock() -> FrozenClock:
    return FrozenClock(TUESDAY_10_LONDON)


def token(at: datetime) -> str:
    return f"<!date^{int(at.timestamp())}^"


def card(stack: Stack) -> dict[str, Any]:
    assert stack.recovery is not None
    return next(
        m
        for m in stack.double.messages(stack.recovery)
        if (m.get("metadata") or {}).get("event_type") == MessageMetadata.CASE_CARD.value
    )


def confirmations(stack: Stack, words: str) -> list[dict[str, Any]]:
    return [m for m in nudges(stack) if words in text_of(m)]


async def promise(stack: Stack, text: str = "Call back with the refund", at: str = "15:00") -> None:
    await click(stack, FollowUpAction.RECORD_PROMISE.value)
    recorded = await stack.alice.submit_view(
        {"What did you promise?": text, "By (date)": "2026-11-24", "By (time)": at}
    )
    assert recorded.field_errors == {}
    await stack.settle()


async def test_a_promise_is_confirmed_once_and_listed_on_the_card_with_its_due_time(
    make_stack: Callable[..., AbstractAsyncContextManager[Stack]], clock: FrozenClock
) -> None:
    async with make_stack(clock=clock, ack_nudge_after="2d") as stack:
        await stack.report_case()
        await promise(stack)
        [confirmation] = confirmations(stack, "Promise to")
        words = text_of(confirmation)
        assert "Call back with the refund" in words and token(DUE_15) in words
        # Reminded an hour before: the confirmation says when, and to whom (the owner, Alice).
        assert token(DUE_15 - timedelta(hours=1)) in words and f"<@{stack.alice.id}>" in words
        assert FollowUpAction.DONE.value in words and "Mark kept" in words
        assert await stack.tick() == 0  # posted once: nothing left for the poller
        [made] = await rows(stack, "promise_made")
        assert made.state == "sent"
        listed = text_of(card(stack))
        assert "Open promises" in listed and "Call back with the refund" in listed and token(DUE_15) in listed
        stack.double.assert_no_rejections()


async def test_mark_kept_before_the_deadline_cancels_the_reminder_and_redraws_the_card(
    make_stack: Callable[..., AbstractAsyncContextManager[Stack]], clock: FrozenClock
) -> None:
    async with make_stack(clock=clock, ack_nudge_after="2d") as stack:
        await stack.report_case()
        await promise(stack)
        [confirmation] = confirmations(stack, "Promise to")
        # Bob is neither the owner, the reporter nor an approver: refused, and nothing changes.
        await click(stack, FollowUpAction.DONE.value, person=stack.bob, message_ts=confirmation["ts"])
        assert (await promise_row(stack)).state == "open"
        await click(stack, FollowUpAction.DONE.value, message_ts=confirmation["ts"])
        row = await promise_row(stack)
        assert (row.state, row.resolved_by) == ("kept", stack.alice.id)
        [reminder] = await rows(stack, "promise_reminder")
        assert (reminder.state, reminder.outcome) == ("cancelled", "cancelled: promise kept")
        [confirmation] = confirmations(stack, "Promise to")
        assert "Kept" in text_of(confirmation) and FollowUpAction.DONE.value not in text_of(confirmation)
        assert "Call back with the refund" not in text_of(card(stack))  # kept: no longer owed
        clock.advance(timedelta(hours=6))
        assert await stack.tick() == 1  # the deadline flag, cancelled rather than sent
        assert len(nudges(stack)) == 1
        stack.double.assert_no_rejections()


async def test_a_broken_promises_flag_is_redrawn_when_it_is_kept_after_all(
    make_stack: Callable[..., AbstractAsyncContextManager[Stack]], clock: FrozenClock
) -> None:
    async with make_stack(clock=clock, ack_nudge_after="2d") as stack:
        await stack.report_case()
        await promise(stack, at="10:30")
        [confirmation] = confirmations(stack, "Promise to")
        clock.advance(timedelta(hours=1))
        assert await stack.tick() == 2  # the reminder too late to go, and the flag
        [flag] = [m for m in nudges(stack) if "is not marked kept" in text_of(m)]
        assert (await promise_row(stack)).state == "broken"
        # Kept late, from the confirmation: the flag says so too, and neither offers the button again.
        await click(stack, FollowUpAction.DONE.value, message_ts=confirmation["ts"])
        assert (await promise_row(stack)).state == "kept"
        flag = next(m for m in nudges(stack) if m["ts"] == flag["ts"])
        assert "Kept" in text_of(flag) and FollowUpAction.DONE.value not in text_of(flag)
        [due] = await rows(stack, "promise_due")
        assert (due.state, due.resolution) == ("resolved", "kept")
        assert "overdue" not in text_of(card(stack))
        stack.double.assert_no_rejections()


async def test_a_planned_check_in_is_confirmed_once_and_listed_until_done(
    make_stack: Callable[..., AbstractAsyncContextManager[Stack]], clock: FrozenClock
) -> None:
    async with make_stack(
        clock=clock, ack_nudge_after="60d", follow_up_after="30d", working_hours="always"
    ) as stack:
        case = await stack.report_case()
        await walk_to(stack, "amends", case.id)
        await click(stack, FollowUpAction.SCHEDULE_FOLLOW_UP.value)
        scheduled = await stack.alice.submit_view(
            {"Date": "2026-11-26", "Time": "11:30", "Note": "Ask about the refund"}
        )
        assert scheduled.field_errors == {}
        await stack.settle()
        when = datetime(2026, 11, 26, 11, 30, tzinfo=UTC)
        [confirmation] = confirmations(stack, "Follow-up with")
        assert token(when) in text_of(confirmation) and "Ask about the refund" in text_of(confirmation)
        assert '"actions"' not in text_of(confirmation)  # nothing to click on a confirmation of a plan
        assert "Ask about the refund" in text_of(card(stack)) and token(when) in text_of(card(stack))
        clock.advance(when - clock.now())
        assert await stack.tick() == 1  # the check-in itself; the confirmation went at once
        assert len(confirmations(stack, "Follow-up with")) == 1
        await click(stack, FollowUpAction.DONE.value, message_ts=nudges(stack)[-1]["ts"])
        [planned] = await rows(stack, "scheduled_follow_up")
        assert planned.state == "resolved"
        assert "Ask about the refund" not in text_of(card(stack))
        stack.double.assert_no_rejections()
