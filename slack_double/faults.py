"""Fault injection for the Slack double: 429s, 5xx, Slack's refusals, timeouts, dropped connections, and the
per-channel post rate."""

from __future__ import annotations

import math
import random
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Literal

FaultKind = Literal["ratelimited", "server_error", "error", "timeout", "disconnect"]
FAULT_KINDS: tuple[str, ...] = ("ratelimited", "server_error", "error", "timeout", "disconnect")


@dataclass
class Fault:
    """One injected failure rule.

    `applied` decides whether the call takes effect before the failure: True models the ambiguous
    case (the message was posted, the client saw an error), False a clean failure. An "error" fault is
    Slack refusing the call the way it refuses any: HTTP 200 with `{"ok": false, "error": error}` (for
    instance `exchanged_trigger_id` from views.open, or `user_not_visible` from users.info).
    """

    kind: FaultKind
    method: str | None = None  # None matches every Web API method
    times: int | None = 1  # None: every matching call, forever
    retry_after: int = 1
    status: int = 500
    probability: float | None = None
    applied: bool = False
    delay: float = 10.0  # for "timeout": how long the double waits before answering
    error: str = "fatal_error"  # for "error": the error code Slack answers with
    fired: int = 0

    @property
    def exhausted(self) -> bool:
        return self.times is not None and self.fired >= self.times


@dataclass
class FaultPlan:
    """The faults a double will inject, consulted in order of addition; seedable for reproducible chaos."""

    seed: int | None = None
    faults: list[Fault] = field(default_factory=list)

    def __post_init__(self) -> None:
        self._rng = random.Random(self.seed)

    def add(
        self,
        method: str | None = None,
        kind: FaultKind = "server_error",
        *,
        times: int | None = 1,
        retry_after: int = 1,
        status: int = 500,
        probability: float | None = None,
        applied: bool = False,
        delay: float = 10.0,
        seed: int | None = None,
        error: str = "fatal_error",
    ) -> Fault:
        if kind not in FAULT_KINDS:
            raise ValueError(f"unknown fault kind {kind!r}; expected one of {FAULT_KINDS}")
        if probability is not None and not 0.0 <= probability <= 1.0:
            raise ValueError("probability must be between 0 and 1")
        if seed is not None:
            self._rng = random.Random(seed)
        fault = Fault(
            kind=kind,
            method=method,
            times=times,
            retry_after=retry_after,
            status=status,
            probability=probability,
            applied=applied,
            delay=delay,
            error=error,
        )
        self.faults.append(fault)
        return fault

    def clear(self) -> None:
        self.faults.clear()

    def pick(self, method: str) -> Fault | None:
        """The fault to inject into this call, if any (and count it as fired)."""
        for fault in self.faults:
            if fault.exhausted or fault.method not in (None, method):
                continue
            if fault.probability is not None and self._rng.random() >= fault.probability:
                continue
            fault.fired += 1
            return fault
        return None


class PostRateLimiter:
    """Token bucket per channel, like Slack's special tier for chat.postMessage (about 1 per second)."""

    def __init__(self, now: Callable[[], float], per_second: float, burst: int) -> None:
        if per_second <= 0 or burst < 1:
            raise ValueError("per_second must be > 0 and burst >= 1")
        self._now = now
        self.per_second = per_second
        self.burst = burst
        self._buckets: dict[str, tuple[float, float]] = {}  # channel -> (tokens, updated_at)

    def take(self, channel: str) -> int | None:
        """None if the post may go ahead, else the Retry-After seconds to answer with."""
        now = self._now()
        tokens, updated = self._buckets.get(channel, (float(self.burst), now))
        tokens = min(float(self.burst), tokens + (now - updated) * self.per_second)
        if tokens >= 1.0:
            self._buckets[channel] = (tokens - 1.0, now)
            return None
        self._buckets[channel] = (tokens, now)
        return max(1, math.ceil((1.0 - tokens) / self.per_second))
