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


_DURATION_PART = re.compile(r"(\d+)\s*([smhd])")
_UNIT_SECONDS = {"s": 1, "m": 60, "h": 3600, "d": 86400}


def parse_duration(text: str) -> timedelta:
    """A human duration: '90s', '15m', '4h', '1d', or parts together ('1h30m'); more than zero."""
    raw = text.strip().lower().replace(" ", "")
    if not raw or _DURATION_PART.sub("", raw):
        raise ValueError(f"{text!r} is not a duration; write it like 90s, 15m, 4h or 1d")
    seconds = sum(int(n) * _UNIT_SECONDS[unit] for n, unit in _DURATION_PART.findall(raw))
    if seconds <= 0:
        raise ValueError("must be longer than zero")
    if seconds > 90 * 86400:
        raise ValueError("must be at most 90 days")
    return timedelta(seconds=seconds)
