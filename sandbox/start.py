"""When the sandbox's clock starts: a weekday 09:00 in the personas' zone, so time travel lands in working hours."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

# The personas' time zone (the Slack double's default for every user it adds).
PERSONAS_ZONE = "Europe/London"
MORNING = time(9)
NOON = time(12)


def default_start(now: datetime, zone: str = PERSONAS_ZONE) -> datetime:
    """Today 09:00 if it is a weekday morning in `zone`, else the next weekday's 09:00 (UTC)."""
    tz = ZoneInfo(zone)
    local = now.astimezone(tz)
    day = local.date()
    if day.weekday() < 5 and local.time() < NOON:
        return _at_nine(day, tz)
    day += timedelta(days=1)
    while day.weekday() >= 5:
        day += timedelta(days=1)
    return _at_nine(day, tz)


def parse_start(text: str, zone: str = PERSONAS_ZONE) -> datetime:
    """`--start`: an ISO date (09:00 that day) or datetime (in `zone` unless it has an offset), as UTC."""
    raw = text.strip()
    tz = ZoneInfo(zone)
    try:
        if len(raw) == 10:
            return _at_nine(date.fromisoformat(raw), tz)
        moment = datetime.fromisoformat(raw)
    except ValueError:
        raise ValueError(
            f"--start {text!r} is not a date or time; write e.g. 2026-03-02 or 2026-03-02T09:00"
        ) from None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=tz)
    return moment.astimezone(UTC)


def _at_nine(day: date, tz: ZoneInfo) -> datetime:
    return datetime.combine(day, MORNING, tzinfo=tz).astimezone(UTC)
