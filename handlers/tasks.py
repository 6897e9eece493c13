"""Work that runs after Slack has its ack: tracked, so shutdown can wait for it, and under the error policy."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Coroutine
from typing import Any

from handlers.errors import ErrorPolicy

log = logging.getLogger(__name__)


class BackgroundTasks:
    def __init__(self, policy: ErrorPolicy) -> None:
        self._policy = policy
        self._tasks: set[asyncio.Task[None]] = set()

    def spawn(
        self, work: Coroutine[Any, Any, Any], *, user_id: str | None, channel_id: str | None, name: str
    ) -> asyncio.Task[None]:
        task = asyncio.create_task(self._run(work, user_id, channel_id), name=name)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)
        return task

    async def _run(self, work: Coroutine[Any, Any, Any], user_id: str | None, channel_id: str | None) -> None:
        try:
            await work
        except asyncio.CancelledError:
            raise
        except Exception as exc:
            await self._policy.handle(exc, user_id=user_id, channel_id=channel_id)

    @property
    def pending(self) -> int:
        return len(self._tasks)

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
