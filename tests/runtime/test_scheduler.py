"""The clock: APScheduler ticks the follow-ups (amends escalations included) quietly, and stops without cutting a
tick off."""

from __future__ import annotations

import asyncio
import io
import logging
from datetime import timedelta

import pytest
from slack_sdk.web.async_client import AsyncWebClient

from bot.followups import FollowUp
from handlers.errors import ErrorPolicy
from handlers.slack_api import SlackPoster
from handlers.tasks import BackgroundTasks
from runtime.logs import configure_logging
from runtime.scheduler import Scheduler

FAST = timedelta(seconds=0.02)
WAIT = 30  # generous: only a hang fails, a slow machine does not


class CountingFollowUps:
    """The follow-up engine as the clock sees it, with nothing due: it counts the ticks."""

    def __init__(self, until: int = 3) -> None:
        self.claims = 0
        self.stopped = False
        self.ticked = asyncio.Event()
        self._until = until

    async def claim_due(self) -> list[FollowUp]:
        self.claims += 1
        if self.claims >= self._until:
            self.ticked.set()
        return []

    async def process(self, item: FollowUp) -> None:
        raise AssertionError("nothing was claimed")

    def stop_claiming(self) -> None:
        self.stopped = True


class HeldFollowUps(CountingFollowUps):
    """A tick that is held mid-claim until `release` is set, as a slow database would hold it."""

    def __init__(self) -> None:
        super().__init__(until=1)
        self.finished = 0
        self.cancelled = 0
        self.started = asyncio.Event()
        self.release = asyncio.Event()

    async def claim_due(self) -> list[FollowUp]:
        self.claims += 1
        if self.claims > 1:
            return []
        self.started.set()
        try:
            await self.release.wait()
        except asyncio.CancelledError:
            self.cancelled += 1
            raise
        self.finished += 1
        return []


def tasks() -> BackgroundTasks:
    return BackgroundTasks(ErrorPolicy(SlackPoster(AsyncWebClient(token="xoxb-unused"))))


async def run_ticks(followups: CountingFollowUps) -> None:
    clock = Scheduler(followups, tasks(), FAST)
    clock.start(follow_ups=True)
    try:
        await asyncio.wait_for(followups.ticked.wait(), WAIT)
    finally:
        await clock.stop(grace_seconds=5)


async def test_apscheduler_writes_nothing_per_tick_once_logging_is_configured() -> None:
    out = io.StringIO()
    configure_logging("INFO", "text", stream=out)
    followups = CountingFollowUps(until=5)

    await run_ticks(followups)
    logging.getLogger("mend.test").info("after the ticks")

    written = out.getvalue()
    assert followups.claims >= 5
    assert "after the ticks" in written  # INFO gets through ...
    assert "Running job" not in written and "executed successfully" not in written  # ... but not the ticks
    # Its warnings (a tick skipped on a busy machine) may show; nothing below them does.
    assert not [line for line in written.splitlines() if " INFO apscheduler" in line]


async def test_unquieted_apscheduler_logs_two_lines_a_tick(caplog: pytest.LogCaptureFixture) -> None:
    # What the test above silences: without configure_logging, every tick says so twice.
    caplog.set_level(logging.INFO)
    followups = CountingFollowUps(until=3)

    await run_ticks(followups)

    messages = [r.getMessage() for r in caplog.records if r.name.startswith("apscheduler")]
    assert sum("Running job" in m for m in messages) >= 3
    assert sum("executed successfully" in m for m in messages) >= 3


async def test_without_follow_ups_nothing_runs_by_itself_but_a_tick_by_hand_does() -> None:
    followups = CountingFollowUps(until=1)
    clock = Scheduler(followups, tasks(), FAST)
    clock.start(follow_ups=False)
    assert await clock.tick() == 0
    await clock.stop(grace_seconds=5)
    assert followups.claims == 1 and followups.stopped


async def test_stop_lets_a_running_job_finish_instead_of_cancelling_it(
    caplog: pytest.LogCaptureFixture,
) -> None:
    followups = HeldFollowUps()
    clock = Scheduler(followups, tasks(), FAST)
    clock.start(follow_ups=True)
    await asyncio.wait_for(followups.started.wait(), WAIT)

    stopping = asyncio.create_task(clock.stop(grace_seconds=WAIT))
    for _ in range(20):  # let stop get going; cancelling (APScheduler's own shutdown) happens at once
        await asyncio.sleep(0)
    followups.release.set()
    await asyncio.wait_for(stopping, WAIT)

    assert (followups.finished, followups.cancelled) == (1, 0)
    assert not [r for r in caplog.records if r.levelno >= logging.ERROR]


async def test_stop_cancels_a_job_still_running_after_the_grace(caplog: pytest.LogCaptureFixture) -> None:
    followups = HeldFollowUps()
    clock = Scheduler(followups, tasks(), FAST)
    clock.start(follow_ups=True)
    await asyncio.wait_for(followups.started.wait(), WAIT)

    await asyncio.wait_for(clock.stop(grace_seconds=0.05), WAIT)

    assert (followups.finished, followups.cancelled) == (0, 1)
    assert any("cancelling follow-up-poller at shutdown" in r.getMessage() for r in caplog.records)
