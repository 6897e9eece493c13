"""Work that runs after Slack has its ack: tracked, so shutdown can wait for it, and under the error policy."""

from __future__ import annotations

import asyncio
import logging
from collections import deque
from collections.abc import Coroutine
from typing import Any

from handlers.errors import ErrorPolicy

log = logging.getLogger(__name__)

# Bulk work started per turn of the event loop. Between two turns the loop reads its sockets, so a request
# that arrives during a burst waits behind at most this many first steps (each well under a millisecond).
BULK_STARTS_PER_TURN = 4


class BackgroundTasks:
    """Two lanes, so that an ack never waits behind a pile of background work on the event loop.

    - Work someone is waiting for (the modal a `/recover` opens on a 3-second trigger, the answer to a
      click) starts at once: it comes one piece per request, at the rate requests are acked.
    - Bulk work nobody is watching (`bulk=True`: a poller tick's hundred follow-ups, a fan-out of Home
      tabs) starts a few pieces per turn of the loop, in order. Started pieces are not counted against a
      limit: one that waits on Slack (a 429, a busy channel) holds nothing back.
    """

    def __init__(self, policy: ErrorPolicy, *, bulk_starts_per_turn: int = BULK_STARTS_PER_TURN) -> None:
        if bulk_starts_per_turn < 1:
            raise ValueError("bulk_starts_per_turn must be at least 1")
        self._policy = policy
        self._tasks: set[asyncio.Task[None]] = set()
        self._per_turn = bulk_starts_per_turn
        self._bulk_waiting: deque[asyncio.Future[None]] = deque()
        self._admitting = False

    def spawn(
        self,
        work: Coroutine[Any, Any, Any],
        *,
        user_id: str | None,
        channel_id: str | None,
        name: str,
        bulk: bool = False,
    ) -> asyncio.Task[None]:
        turn = self._queue_for_turn() if bulk else None
        task = asyncio.create_task(self._run(work, user_id, channel_id, turn), name=name)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)
        return task

    async def _run(
        self,
        work: Coroutine[Any, Any, Any],
        user_id: str | None,
        channel_id: str | None,
        turn: asyncio.Future[None] | None,
    ) -> None:
        if turn is not None:
            try:
                await turn
            except asyncio.CancelledError:
                work.close()  # cancelled (shutdown) before it started: it never will
                raise
        try:
            await work
        except asyncio.CancelledError:
            raise
        except Exception as exc:
            await self._policy.handle(exc, user_id=user_id, channel_id=channel_id)

    def _queue_for_turn(self) -> asyncio.Future[None]:
        loop = asyncio.get_running_loop()
        admitted: asyncio.Future[None] = loop.create_future()
        self._bulk_waiting.append(admitted)
        if not self._admitting:
            self._admitting = True
            loop.call_soon(self._admit)
        return admitted

    def _admit(self) -> None:
        """Start the next few bulk pieces, then come back on the loop's next turn for more."""
        started = 0
        while self._bulk_waiting and started < self._per_turn:
            admitted = self._bulk_waiting.popleft()
            if not admitted.done():  # a cancelled waiter gives its place to the next one
                admitted.set_result(None)
                started += 1
        if self._bulk_waiting:
            asyncio.get_running_loop().call_soon(self._admit)
        else:
            self._admitting = False

    @property
    def pending(self) -> int:
        return len(self._tasks)

    @property
    def bulk_waiting(self) -> int:
        """Bulk pieces spawned but not started yet."""
        return sum(1 for admitted in self._bulk_waiting if not admitted.done())

    async def drain(self, grace_seconds: float) -> None:
        """Let in-flight work finish (SIGTERM); what is still running after `grace_seconds` is cancelled."""
        if not self._tasks:
            return
        _done, pending = await asyncio.wait(set(self._tasks), timeout=grace_seconds)
        for task in pending:
            log.warning("cancelling %s at shutdown", task.get_name())
            task.cancel()
        if pending:
            await asyncio.gather(*pending, return_exceptions=True)

    async def wait_idle(self) -> None:
        """Wait until no background work is left, including work that work started (tests, the sandbox)."""
        while self._tasks:
            await asyncio.gather(*set(self._tasks), return_exceptions=True)
