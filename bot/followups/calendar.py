"""Time for follow-ups: people's time zones (DST included), working hours, snoozing, and durations."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from enum import StrEnum
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError


def format_duration(delta: timedelta) -> str:
    seconds = int(delta.total_seconds())
    for unit, size in (("d", 86400), ("h", 3600), ("m", 60)):
        if seconds >= size and seconds % size == 0:
            return f"{seconds // size}{unit}"
    return f"{delta.total_seconds():g}s"


def zone(name: str | None) -> ZoneInfo:
    """A person's time zone by IANA name; an unknown or missing one is UTC, never an error."""
    try:
        return ZoneInfo(name) if name else ZoneInfo("UTC")
    except (ZoneInfoNotFoundError, ValueError):
        return ZoneInfo("UTC")


def local_moment(day: date, at: time, tz: ZoneInfo) -> datetime:
    """Wall-clock `day at` in `tz`, as UTC.

    fold=0 picks the first of two moments when clocks go back, and maps a time that does not exist
    (clocks going forward skip it) to the same distance past the gap, e.g. 02:30 -> 03:30.
    """
    return datetime.combine(day, at).replace(tzinfo=tz, fold=0).astimezone(UTC)


def local_to_utc(day: date, at: time, tz_name: str | None) -> datetime:
    return local_moment(day, at, zone(tz_name))


_DAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
_HOURS = re.compile(r"^\s*(\d{1,2}):(\d{2})\s*-\s*(\d{1,2}):(\d{2})\s*(.*)$")


def _parse_days(text: str) -> frozenset[int]:
    days: set[int] = set()
    for part in (p.strip().lower() for p in text.split(",")):
        if not part:
            continue
        first, sep, last = part.partition("-")
        try:
            a = _DAYS.index(first.strip()[:3])
            b = _DAYS.index(last.strip()[:3]) if sep else a
        except ValueError:
            raise ValueError(f"{part!r} is not a day or range of days like Mon-Fri") from None
        i = a
        while True:  # ranges may wrap the week: Sun-Thu
            days.add(i)
            if i == b:
                break
            i = (i + 1) % 7
    if not days:
        raise ValueError("name at least one day, e.g. Mon-Fri")
    return frozenset(days)


@dataclass(frozen=True)
class WorkingHours:
    """When nudges may reach a person, in their own time zone: `09:00-18:00 Mon-Fri`, or `always`."""

    start: time | None = time(9)
    end: time | None = time(18)
    days: frozenset[int] = frozenset(range(5))

    @classmethod
    def parse(cls, text: str) -> WorkingHours:
        if text.strip().lower() in {"always", "any", "24/7"}:
            return ALWAYS
        match = _HOURS.match(text)
        if not match:
            raise ValueError(f"{text!r} is not working hours; write e.g. '09:00-18:00 Mon-Fri' or 'always'")
        h1, m1, h2, m2, rest = match.groups()
        try:
            start, end = time(int(h1), int(m1)), time(int(h2), int(m2))
        except ValueError:
            raise ValueError(f"{text!r} has a time that does not exist") from None
        if start >= end:
            raise ValueError("working hours must start before they end on the same day (no overnight shifts)")
        days = _parse_days(rest) if rest.strip() else frozenset(range(5))
        return cls(start=start, end=end, days=days)

    @property
    def always(self) -> bool:
        return self.start is None or self.end is None

    def _window(self, day: date, tz: ZoneInfo) -> tuple[datetime, datetime] | None:
        if self.start is None or self.end is None or day.weekday() not in self.days:
            return None
        return local_moment(day, self.start, tz), local_moment(day, self.end, tz)

    def is_open(self, at: datetime, tz_name: str | None) -> bool:
        return self.next_open(at, tz_name) == at

    def next_open(self, at: datetime, tz_name: str | None) -> datetime:
        """`at` if it is inside working hours, else the next start of working hours (UTC)."""
        if self.always:
            return at
        tz = zone(tz_name)
        today = at.astimezone(tz).date()
        for offset in range(8):
            window = self._window(today + timedelta(days=offset), tz)
            if window is None:
                continue
            opens, closes = window
            if opens <= at < closes:
                return at
            if opens > at:
                return opens
        raise AssertionError("working hours always have a day in the week")  # pragma: no cover

    def last_open_before(self, at: datetime, tz_name: str | None) -> datetime:
        """`at` if inside working hours, else the last minute of the latest window before it."""
        if self.always:
            return at
        tz = zone(tz_name)
        today = at.astimezone(tz).date()
        for offset in range(8):
            window = self._window(today - timedelta(days=offset), tz)
            if window is None:
                continue
            opens, closes = window
            if opens <= at < closes:
                return at
            if closes <= at:
                return closes - timedelta(minutes=1)
        raise AssertionError("working hours always have a day in the week")  # pragma: no cover

    def next_morning(self, at: datetime, tz_name: str | None) -> datetime:
        """The start of working hours on a later day than today, in the person's zone ("tomorrow morning")."""
        tz = zone(tz_name)
        tomorrow = at.astimezone(tz).date() + timedelta(days=1)
        if self.always:
            return local_moment(tomorrow, time(9), tz)
        return self.next_open(local_moment(tomorrow, time(0), tz), tz_name)

    def describe(self) -> str:
        if self.always:
            return "always"
        assert self.start is not None and self.end is not None
        days = ",".join(_DAYS[d].title() for d in sorted(self.days))
        return f"{self.start:%H:%M}-{self.end:%H:%M} {days}"


ALWAYS = WorkingHours(start=None, end=None, days=frozenset(range(7)))
DEFAULT_WORKING_HOURS = WorkingHours()


class SnoozeChoice(StrEnum):
    HOUR = "1h"
    TOMORROW = "tomorrow"
    PICK = "pick"

    @property
    def label(self) -> str:
        return {
            SnoozeChoice.HOUR: "1 hour",
            SnoozeChoice.TOMORROW: "Tomorrow morning",
            SnoozeChoice.PICK: "Pick a time…",
        }[self]


def snooze_until(choice: SnoozeChoice, now: datetime, hours: WorkingHours, tz_name: str | None) -> datetime:
    if choice is SnoozeChoice.HOUR:
        return now + timedelta(hours=1)
    if choice is SnoozeChoice.TOMORROW:
        return hours.next_morning(now, tz_name)
    raise ValueError("a picked time comes from the person, not from a rule")
