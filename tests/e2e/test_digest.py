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
