"""Catching Slack up: cases whose card, thread or step prompts lag behind the database are re-synced.

Every case change is stored first and shown in Slack after (see RecoveryService.sync). When Slack fails in
between (down, rate-limited, a dropped connection), the database change stands and the case is left
"lagging": no card yet, a thread not opened, a card older than the case (`card_version < version`), or a
closing summary not posted. This worker finds such cases once they have been quiet for a while, claims
each with a lease (so one process works on a case at a time), and runs the same idempotent announce and
sync again, backing off after failures. Each pending update is thereby posted at most once (post-once
metadata, conditional records of what was drawn), card updates coalesce (one redraw shows the newest
version), and a case's updates stay in order (one sync at a time, which always draws the latest state).
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from datetime import datetime, timedelta
from typing import Protocol

from bot.clock import Clock

log = logging.getLogger(__name__)

QUIET_FOR = timedelta(seconds=60)  # leave a fresh change to the request that made it
LEASE = timedelta(minutes=2)
MAX_FAILURES = 8  # then a person has to look (e.g. Mend was removed from the channel)
BATCH = 20


class LaggingCases(Protocol):
    async def claim(
        self, now: datetime, quiet_since: datetime, lease_until: datetime, limit: int
    ) -> list[int]:
        """Lagging cases untouched since `quiet_since` and not leased, now leased to the caller."""
        ...

    async def is_lagging(self, case_id: int) -> bool: ...

    async def caught_up(self, case_id: int) -> None: ...

    async def failed(self, case_id: int, now: datetime) -> None:
        """Count a failed attempt and lease the case until `now + backoff(failures)`."""
        ...


def backoff(failures: int) -> timedelta:
    return min(timedelta(seconds=30) * 2**failures, timedelta(hours=1))


class CatchUpService:
    def __init__(
        self,
        repo: LaggingCases,
        clock: Clock,
        announce: Callable[[int], Awaitable[object]],
        sync: Callable[[int], Awaitable[None]],
    ) -> None:
        self._repo = repo
        self._clock = clock
        self._announce = announce
        self._sync = sync

    async def run_once(self) -> int:
        """One pass: returns how many cases were brought up to date."""
        now = self._clock.now()
        claimed = await self._repo.claim(now, now - QUIET_FOR, now + LEASE, BATCH)
        caught = 0
        for case_id in claimed:
            try:
                await self._announce(case_id)
                await self._sync(case_id)
                still = await self._repo.is_lagging(case_id)
            except Exception as exc:  # a batch worker: one case's failure must not stop the others
                log.warning("catching case %s up with Slack failed: %s", case_id, exc)
                still = True
            if still:
                await self._repo.failed(case_id, self._clock.now())
            else:
                await self._repo.caught_up(case_id)
                caught += 1
        return caught
