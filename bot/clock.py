"""Time as the domain sees it: always timezone-aware UTC, and replaceable in tests and the sandbox."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from typing import Protocol


class Clock(Protocol):
    def now(self) -> datetime: ...


class SystemClock:
    def now(self) -> datetime:
        return datetime.now(UTC)


class FrozenClock:
    """A clock that only moves when told to; used by tests and by the sandbox's time travel."""

    def __init__(self, at: datetime) -> None:
        if at.tzinfo is None:
            raise ValueError("FrozenClock needs a timezone-aware datetime")
        self._at = at

    def now(self) -> datetime:
        return self._at

    def advance(self, delta: timedelta) -> None:
        self._at += delta


class SandboxClock:
    """Real time plus an offset that only grows: the sandbox's time travel.

    Unlike FrozenClock it keeps ticking, so a demo feels live; `advance()` jumps ahead so that follow-ups and
    nudges due tomorrow can be seen now. Starting with a negative offset lets seed data be back-dated while
    the clock still only ever moves forward.
    """

    def __init__(self, *, offset: timedelta = timedelta(0)) -> None:
        self._offset = offset

    @property
    def offset(self) -> timedelta:
        return self._offset

    def now(self) -> datetime:
        return datetime.now(UTC) + self._offset

    def advance(self, delta: timedelta) -> None:
        if delta < timedelta(0):
            raise ValueError("the sandbox clock only moves forward")
        self._offset += delta


_DURATION_PART = re.compile(r"(\d+(?:\.\d+)?)\s*(ms|s|m|h|d|w)")
_UNITS = {"ms": 0.001, "s": 1, "m": 60, "h": 3600, "d": 86400, "w": 604800}


def parse_duration(text: str) -> timedelta:
    """`90s`, `15m`, `2h`, `1d`, `1h30m`, `0.5s`: a positive duration, or a ValueError saying what works."""
    raw = str(text).strip().lower()
    compact = raw.replace(" ", "")
    parts = _DURATION_PART.findall(compact)
    if not compact or "".join(n + u for n, u in parts) != compact:
        raise ValueError(f"{text!r} is not a duration; write e.g. 90s, 15m, 2h or 1d")
    seconds = sum(float(n) * _UNITS[u] for n, u in parts)
    if seconds <= 0:
        raise ValueError(f"{text!r} must be longer than zero")
    if seconds > 90 * 86400:
        raise ValueError(f"{text!r} is too long: at most 90 days")
    return timedelta(seconds=seconds)
