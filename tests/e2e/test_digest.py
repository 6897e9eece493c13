"""End to end: the weekly digest is posted once to DIGEST_CHANNEL, however many processes stage it."""

from __future__ import annotations

from collections.abc import Callable
from contextlib import AbstractAsyncContextManager
from datetime import UTC, datetime, timedelta

from app import build
from bot.clock import FrozenClock
from tests.e2e.conftest import Stack

StackFactory = Callable[..., AbstractAsyncContextManager[Stack]]


async def test_digest_once_with_two_processes(make_stack: StackFactory) -> None:
    monday_9 = datetime(2026, 11, 30, 9, 0, tzinfo=UTC)
    clock = FrozenClock(monday_9 - timedelta(days=5))  # the cases are reported last week
    async with make_stack(clock=clock, digest_channel="CDIGEST01", working_hours="always") as stack:
        digest = stack.double.add_channel("digest", channel_id="CDIGEST01", members=[stack.alice.id])
        await stack.report_case()
        await stack.report_case(customer_name="Lee Park")
        clock.advance(timedelta(days=5))
        # A second Mend process on the same database, as when several run behind a load balancer.
        second = build(stack.mend.settings, clock=clock)
        try:
            assert await stack.mend.poller.stage_digest() == 1
            assert await second.poller.stage_digest() == 1
            await stack.mend.tick_follow_ups()
            await second.tick_follow_ups()
            await stack.settle()
            await second.tasks.wait_idle()
        finally:
            await second.db.dispose()
        [posted] = stack.double.messages(digest)
        assert "Mend weekly digest" in posted["text"] and "Cases opened: 2 (+2" in posted["text"]


async def test_digest_carries_the_share_recovered_and_whether_they_stayed(make_stack: StackFactory) -> None:
    import json

    from handlers.ids import FollowUpAction, StepAction
    from tests.e2e.test_followups import click, nudges, walk_to, walk_to_end

    clock = FrozenClock(datetime(2026, 11, 24, 10, 0, tzinfo=UTC))
    async with make_stack(
        clock=clock,
        digest_channel="CDIGEST01",
        working_hours="always",
        ack_nudge_after="60d",
        follow_up_after="1d",
        resurvey_after="14d",
    ) as stack:
        digest = stack.double.add_channel("digest", channel_id="CDIGEST01", members=[stack.alice.id])
        case = await stack.report_case()
        await walk_to(stack, "fix", case.id)
        clock.advance(timedelta(days=1))
        assert await stack.tick() == 1
        await click(stack, FollowUpAction.SATISFIED.value, message_ts=nudges(stack)[-1]["ts"])
        amends = json.dumps({"c": case.id, "s": "amends"}, separators=(",", ":"))
        await click(stack, StepAction.DONE.value, value=amends)
        await walk_to_end(stack, case.id)
        await click(stack, StepAction.CLOSE_CASE.value)
        clock.advance(timedelta(days=14))
        assert await stack.tick() == 1
        await click(stack, FollowUpAction.RECORD_OUTCOME.value)
        recorded = await stack.alice.submit_view(
            {"The customer…": "stayed_satisfied", "Satisfaction (1 = very unhappy, 5 = delighted)": "4"}
        )
        assert recorded.field_errors == {}
        await stack.settle()
        clock.advance(datetime(2026, 12, 14, 9, 0, tzinfo=UTC) - clock.now())  # the Monday after
        assert await stack.mend.poller.stage_digest() == 1
        await stack.mend.tick_follow_ups()
        await stack.settle()
        [posted] = stack.double.messages(digest)
        text = posted["text"]
        assert "Share recovered (customer satisfied at follow-up): 100% (1 of 1)" in text, text
        assert (
            "Stayed (re-survey): 100% (1 of 1) (1 stayed, 0 neutral, 0 left, score 4.0) · 4 weeks before: –"
            in text
        ), text
        assert (
            "By category: Delivery 100% (1 of 1) recovered · re-survey: 1 stayed, 0 neutral, 0 left, score 4.0"
            in text
        ), text
        assert "4 weeks before: –" in text, text  # nothing closed in the period before
