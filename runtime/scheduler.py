"""The process's clock: one in-memory APScheduler that ticks the follow-up poller and the periodic jobs."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime, timedelta
from typing import Any, Protocol

from apscheduler.executors.asyncio import AsyncIOExecutor
from apscheduler.jobstores.memory import MemoryJobStore
from apscheduler.schedulers.asyncio import AsyncIOScheduler
from apscheduler.triggers.base import BaseTrigger
from apscheduler.triggers.cron import CronTrigger
from apscheduler.triggers.interval import IntervalTrigger

from bot.errors import StorageUnavailable
from bot.followups import FollowUp
from handlers.tasks import BackgroundTasks

log = logging.getLogger("mend.scheduler")

# Lagging Slack posts are looked for every 15 s; overdue amends requests every 30 s.
CATCH_UP_EVERY = timedelta(seconds=15)

Job = Callable[[], Awaitable[Any]]


class FollowUpSource(Protocol):
    """The follow-up engine (`bot.followups.FollowUpService`), as the clock sees it."""

    async def claim_due(self) -> list[FollowUp]: ...

    async def process(self, item: FollowUp) -> None: ...

    def stop_claiming(self) -> None: ...


class CatchUp(Protocol):
    """Re-syncs cases whose Slack side lags (`bot.outbox.CatchUpService`)."""

    async def run_once(self) -> int: ...


class Digest(Protocol):
    """Stages the weekly digest (`bot.insights.DigestService`)."""

    async def stage_weekly(self) -> int: ...


class Scheduler:
    """APScheduler is only the clock (principle 9): in-memory jobs, nothing pickled. The follow-up tick claims
    due rows from the table and hands each to BackgroundTasks, so SIGTERM waits for sends in flight; overdue
    rows are claimed by the first tick, right after start-up. The same clock runs the Slack catch-up and the
    weekly digest; amends reminders and escalations are follow-up kinds, so the tick delivers them too."""

    FOLLOW_UPS = "follow-up-poller"
    CATCH_UP = "slack-catch-up"
    DIGEST = "weekly-digest"

    def __init__(
        self,
        followups: FollowUpSource,
        tasks: BackgroundTasks,
        every: timedelta,
        *,
        catch_up: CatchUp | None = None,
        digest: Digest | None = None,
    ) -> None:
        self._followups = followups
        self._tasks = tasks
        self._every = every
        self._catch_up = catch_up
        self._digest = digest
        self._scheduler: AsyncIOScheduler | None = None
        self._running: set[asyncio.Task[Any]] = set()

    def start(self, *, follow_ups: bool = True) -> None:
        """`follow_ups` ticks the poller, the catch-up and the digest; without it nothing runs by itself
        (tests and the sandbox tick by hand)."""
        jobs: list[tuple[str, Job, BaseTrigger, bool]] = []
        if follow_ups:
            jobs.append((self.FOLLOW_UPS, self.tick, _every(self._every), True))
            if self._catch_up is not None:  # cases whose Slack side lags get synced again
                jobs.append((self.CATCH_UP, self.catch_up, _every(CATCH_UP_EVERY), False))
            if self._digest is not None:  # every process runs it; the digest's per-week dedupe key wins
                jobs.append((self.DIGEST, self.stage_digest, _mondays_at_nine(), False))
        if not jobs or self._scheduler is not None:
            return
        self._scheduler = AsyncIOScheduler(
            jobstores={"default": MemoryJobStore()},
            executors={"default": AsyncIOExecutor()},
            # A slow run is skipped, never queued up behind itself; a late one just runs.
            job_defaults={"coalesce": True, "max_instances": 1, "misfire_grace_time": None},
            timezone=UTC,
        )
        for job_id, job, trigger, at_once in jobs:
            extra = {"next_run_time": datetime.now(UTC)} if at_once else {}
            self._scheduler.add_job(
                self._tracked, trigger, args=[job_id, job], id=job_id, name=job_id, **extra
            )
        self._scheduler.start()

    async def tick(self) -> int:
        """Claim what is due and start sending it; returns how many rows were claimed."""
        try:
            items = await self._followups.claim_due()
        except StorageUnavailable:
            log.warning("follow-ups: database unavailable; trying again at the next tick")
            return 0
        for item in items:
            self._tasks.spawn(
                self._followups.process(item),
                user_id=None,
                channel_id=None,
                name=f"follow-up-{item.id}",
                bulk=True,  # a tick may claim hundreds: they must not all run ahead of the next ack
            )
        return len(items)

    async def catch_up(self) -> int:
        if self._catch_up is None:
            return 0
        try:
            return await self._catch_up.run_once()
        except StorageUnavailable:
            log.warning("Slack catch-up: database unavailable; trying again shortly")
            return 0

    async def stage_digest(self) -> int:
        """The weekly job's work (tests and the sandbox call it by hand): stage this week's digest."""
        return await self._digest.stage_weekly() if self._digest is not None else 0

    def digest_runs(self, after: datetime, until: datetime) -> list[datetime]:
        """When the weekly job fires in (after, until]: the sandbox's time travel runs it at each moment."""
        if self._digest is None:
            return []
        trigger, runs, at = _mondays_at_nine(), [], after
        while (at := trigger.get_next_fire_time(None, at + timedelta(microseconds=1))) <= until:
            runs.append(at)
        return runs

    async def stop(self, grace_seconds: float) -> None:
        """No new claims or runs from here on; a job already running may finish within `grace_seconds`.

        Rows claimed but not yet posting are handed back at once (`stop_claiming`). APScheduler's own
        shutdown would cancel a running job mid-transaction and log that as a crash, so the clock is
        paused first and the jobs in flight are awaited.
        """
        self._followups.stop_claiming()
        if self._scheduler is None:
            return
        if self._scheduler.running:
            self._scheduler.pause()
        await asyncio.sleep(0)  # a run submitted just now starts, so it is awaited below, not cut off
        late: set[asyncio.Task[Any]] = set()
        if self._running:
            _done, late = await asyncio.wait(set(self._running), timeout=grace_seconds)
            for task in late:
                log.warning("cancelling %s at shutdown", task.get_name())
        if self._scheduler.running:
            self._scheduler.shutdown(wait=False)  # cancels what is still running after the grace
        await asyncio.gather(*late, return_exceptions=True)
        self._scheduler = None

    async def _tracked(self, name: str, job: Job) -> None:
        task = asyncio.current_task()
        if task is not None:
            task.set_name(name)
            self._running.add(task)
        try:
            await job()
        finally:
            if task is not None:
                self._running.discard(task)


def _every(interval: timedelta) -> IntervalTrigger:
    return IntervalTrigger(seconds=interval.total_seconds(), timezone=UTC)


def _mondays_at_nine() -> CronTrigger:
    return CronTrigger(day_of_week="mon", hour=9, timezone=UTC)
