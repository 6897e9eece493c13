"""Exporting cases and amends as CSV for a date range: who may, which range, and safe cells."""

from __future__ import annotations

import csv
import io
from collections.abc import Awaitable, Callable, Iterable, Sequence
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any, Protocol

from pydantic import BaseModel, ConfigDict

from bot.clock import Clock
from bot.errors import MendError, NotAllowed

DEFAULT_DAYS = 30
MAX_DAYS = 366

CASE_COLUMNS = (
    "reference",
    "created_at",
    "state",
    "severity",
    "category",
    "customer_name",
    "customer_ref",
    "summary",
    "reporter",
    "owner",
    "root_cause",
    "acknowledged_at",
    "minutes_to_acknowledge",
    "closed_at",
    "hours_to_resolve",
    "reopened",
)
AMENDS_COLUMNS = (
    "case",
    "requested_at",
    "kind",
    "offered",
    "state",
    "final",
    "requester",
    "decided_by",
    "decided_at",
    "reasons",
    "justification",
)


class ExportRange(BaseModel):
    """Cases opened (and amends requested) from `start` (inclusive) to `end` (exclusive), in UTC days."""

    model_config = ConfigDict(frozen=True)

    first_day: date
    last_day: date

    @property
    def start(self) -> datetime:
        return datetime.combine(self.first_day, datetime.min.time(), tzinfo=UTC)

    @property
    def end(self) -> datetime:
        return datetime.combine(self.last_day + timedelta(days=1), datetime.min.time(), tzinfo=UTC)

    @property
    def label(self) -> str:
        return f"{self.first_day:%Y-%m-%d}_to_{self.last_day:%Y-%m-%d}"


USAGE = "Use `/recover export` (the last 30 days) or `/recover export 2026-10-01 2026-10-31`."


def parse_range(text: str, today: date) -> ExportRange:
    """`""`: the last 30 days; `FROM`: from that day to today; `FROM TO`: both days included."""
    parts = text.split()
    if len(parts) > 2:
        raise MendError(f"Too many dates. {USAGE}")
    try:
        days = [date.fromisoformat(p) for p in parts]
    except ValueError:
        raise MendError(f"I can't read {' '.join(parts)!r} as dates (YYYY-MM-DD). {USAGE}") from None
    first = days[0] if days else today - timedelta(days=DEFAULT_DAYS - 1)
    last = days[1] if len(days) == 2 else today
    if first > last:
        raise MendError(f"The first date comes after the last. {USAGE}")
    if (last - first).days >= MAX_DAYS:
        raise MendError(f"Export at most {MAX_DAYS} days at a time. {USAGE}")
    return ExportRange(first_day=first, last_day=last)


def safe_cell(value: Any) -> str:
    """A cell a spreadsheet will show as text: customer words starting with = + - @ never become formulas."""
    if value is None:
        return ""
    text = value.isoformat() if isinstance(value, datetime | date) else str(value)
    if text[:1] in {"=", "+", "-", "@", "\t", "\r"}:
        return "'" + text
    return text


def to_csv(columns: Sequence[str], rows: Iterable[dict[str, Any]]) -> str:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(columns)
    for row in rows:
        writer.writerow([safe_cell(row.get(c)) for c in columns])
    return out.getvalue()


class ExportFile(BaseModel):
    model_config = ConfigDict(frozen=True)

    filename: str
    title: str
    content: str
    rows: int


class ExportRepository(Protocol):
    async def cases_between(
        self, team_id: str | None, start: datetime, end: datetime
    ) -> list[dict[str, Any]]: ...

    async def amends_between(
        self, team_id: str | None, start: datetime, end: datetime
    ) -> list[dict[str, Any]]: ...


class ExportService:
    def __init__(
        self, repo: ExportRepository, clock: Clock, may_export: Callable[[str], Awaitable[bool]]
    ) -> None:
        self._repo = repo
        self._clock = clock
        self._may_export = may_export

    def parse(self, text: str) -> ExportRange:
        return parse_range(text, self._clock.now().date())

    async def export(self, *, team_id: str | None, export_range: ExportRange) -> list[ExportFile]:
        cases = await self._repo.cases_between(team_id, export_range.start, export_range.end)
        amends = await self._repo.amends_between(team_id, export_range.start, export_range.end)
        return [
            ExportFile(
                filename=f"mend-cases-{export_range.label}.csv",
                title=f"Mend cases {export_range.first_day} to {export_range.last_day}",
                content=to_csv(CASE_COLUMNS, cases),
                rows=len(cases),
            ),
            ExportFile(
                filename=f"mend-amends-{export_range.label}.csv",
                title=f"Mend amends {export_range.first_day} to {export_range.last_day}",
                content=to_csv(AMENDS_COLUMNS, amends),
                rows=len(amends),
            ),
        ]

    async def export_for(self, user_id: str, team_id: str, text: str) -> tuple[ExportRange, list[ExportFile]]:
        """An export asked for in Slack: only approvers may have it, checked at the moment they ask."""
        if not await self._may_export(user_id):
            raise NotAllowed("Exports are for approvers only: they hold customers' details and money.")
        export_range = self.parse(text)
        return export_range, await self.export(team_id=team_id, export_range=export_range)


def write_files(files: Sequence[ExportFile], folder: Path) -> list[Path]:
    """Write an export's files into `folder` (the command-line entry point for admins)."""
    folder.mkdir(parents=True, exist_ok=True)
    written = []
    for file in files:
        path = folder / file.filename
        path.write_text(file.content, encoding="utf-8")
        written.append(path)
    return written
