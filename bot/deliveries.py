"""Deliveries from Slack that must be handled once: the log of what was handled, and how long it is kept."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Protocol

from bot.clock import Clock

# Slack retries an event delivery three times within about an hour; a day covers that with a wide margin.
DELIVERY_RETENTION = timedelta(hours=24)
# Pruning is a delete over an index: cheap, but there is no reason to do it on every delivery.
PRUNE_INTERVAL = timedelta(minutes=10)


class DeliveryLog(Protocol):
    """Shared by every Mend process, so a delivery claimed by one is seen as handled by the others."""

    async def claim(self, delivery_id: str, *, team_id: str | None, at: datetime) -> bool:
        """Record `delivery_id` as handled; True only for the first caller, whichever process it is."""
        ...

    async def forget_before(self, cutoff: datetime) -> int:
        """Drop records older than `cutoff`; returns how many."""
        ...


class Deliveries:
    """Decides whether a delivery is the first of its kind, and keeps the log bounded."""

    def __init__(
        self,
        log: DeliveryLog,
        clock: Clock,
        *,
        retention: timedelta = DELIVERY_RETENTION,
        prune_interval: timedelta = PRUNE_INTERVAL,
    ) -> None:
        self._log = log
        self._clock = clock
        self._retention = retention
        self._prune_interval = prune_interval
        self._next_prune_at: datetime | None = None

    async def first_time(self, delivery_id: str, *, team_id: str | None) -> bool:
        now = self._clock.now()
        if self._next_prune_at is None or now >= self._next_prune_at:
            self._next_prune_at = now + self._prune_interval
            await self._log.forget_before(now - self._retention)
        return await self._log.claim(delivery_id, team_id=team_id, at=now)
