"""Exporting cases and amends as CSV for a date range: who may, which range, and cells people can use.

The files are for people with a spreadsheet: names rather than Slack ids (the ids follow, for joining),
labels rather than keys, amounts as numbers with their currency in a column of its own, and what became
of the customer.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Awaitable, Callable, Collection, Iterable, Mapping, Sequence
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any, Protocol

from pydantic import BaseModel, ConfigDict, Field

from bot.amends.money import Money, Percent
from bot.amends.policy import AmendsKind
from bot.cases import (
    DEFAULT_CATEGORY_LABELS,
    DEFAULT_ROOT_CAUSE_LABELS,
    Category,
    categories_from_labels,
)
from bot.clock import Clock
from bot.errors import MendError, NotAllowed
from bot.followups.models import ResurveyOutcome

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
    "lesson",
    "acknowledged_at",
    "minutes_to_acknowledge",
    "closed_at",
    "hours_to_resolve",
    "reopened",
    "satisfied_after_fix",
    "outcome",
    "satisfaction_score",
    "reporter_id",
    "owner_id",
)
AMENDS_COLUMNS = (
    "case",
    "requested_at",
    "kind",
    "offered",
    "final",
    "currency",
    "offered_percent",
    "final_percent",
    "state",
    "requester",
    "decided_by",
    "decided_at",
    "hours_to_decide",
    "reasons",
    "justification",
    "requester_id",
    "decided_by_id",
)
#: Columns holding a Slack user id, and the column that gets the person's name.
_PEOPLE = {
    "reporter_id": "reporter",
    "owner_id": "owner",
    "requester_id": "requester",
    "decided_by_id": "decided_by",
}
_SATISFIED = {"satisfied": "yes", "not_yet": "not yet"}


class ExportLabels(BaseModel):
    """What the team calls its failure and root-cause categories; keys it no longer lists read as words."""

    model_config = ConfigDict(frozen=True)

    categories: tuple[Category, ...] = Field(
        default_factory=lambda: categories_from_labels(DEFAULT_CATEGORY_LABELS)
    )
    root_causes: tuple[Category, ...] = Field(
        default_factory=lambda: categories_from_labels(DEFAULT_ROOT_CAUSE_LABELS)
    )

    def category(self, key: str | None) -> str:
        return _label(self.categories, key)

    def root_cause(self, key: str | None) -> str:
        return _label(self.root_causes, key)


def _label(known: Sequence[Category], key: str | None) -> str:
    if not key:
        return ""
    found = next((c.label for c in known if c.key == key), None)
    return found or key.replace("_", " ").capitalize()


class NameLookup(Protocol):
    """People's names for their Slack ids (the Slack edge asks users.info); unknown ids are left out."""

    async def names(self, user_ids: Collection[str]) -> Mapping[str, str]: ...


def _number(amount: Money | Percent | None) -> tuple[str, str, str]:
    """(amount, currency, percent): "45.00" and "EUR" for money, "12.5" for a percentage off."""
    if isinstance(amount, Money):
        return f"{amount.amount:.{amount.exponent}f}", amount.currency, ""
    if isinstance(amount, Percent):
        return "", "", f"{(Decimal(amount.basis_points) / 100).normalize():f}"
    return "", "", ""


def _case_row(row: Mapping[str, Any], labels: ExportLabels) -> dict[str, Any]:
    outcome = row.get("outcome")
    try:
        outcome_label = ResurveyOutcome(outcome).label if outcome else ""
    except ValueError:
        outcome_label = str(outcome)
    return {
        **row,
        "category": labels.category(row.get("category")),
        "root_cause": labels.root_cause(row.get("root_cause")),
        "satisfied_after_fix": _SATISFIED.get(str(row.get("satisfied_after_fix")), ""),
        "outcome": outcome_label,
    }


def _amends_row(row: Mapping[str, Any]) -> dict[str, Any]:
    offered, offered_currency, offered_percent = _number(row.get("offered"))
    final, final_currency, final_percent = _number(row.get("final"))
    try:
        kind = AmendsKind(str(row.get("kind") or "")).label
    except ValueError:
        kind = str(row.get("kind") or "")
    return {
        **row,
        "kind": kind,
        "offered": offered,
        "final": final,
        "currency": offered_currency or final_currency,
        "offered_percent": offered_percent,
        "final_percent": final_percent,
    }


async def _add_names(lookup: NameLookup | None, *tables: list[dict[str, Any]]) -> None:
    """Fill each name column from its id column, asking for everyone in the export at once."""
    if lookup is None:
        return
    ids = {str(row[c]) for rows in tables for row in rows for c in _PEOPLE if row.get(c)}
    names = await lookup.names(sorted(ids)) if ids else {}
    for rows in tables:
        for row in rows:
            for id_column, name_column in _PEOPLE.items():
                if id_column in row:
                    row[name_column] = names.get(str(row.get(id_column) or ""), "")


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
        self,
        repo: ExportRepository,
        clock: Clock,
        may_export: Callable[[str], Awaitable[bool]],
        labels: ExportLabels | None = None,
    ) -> None:
        self._repo = repo
        self._clock = clock
        self._may_export = may_export
        self._labels = labels or ExportLabels()

    def parse(self, text: str) -> ExportRange:
        return parse_range(text, self._clock.now().date())

    async def export(
        self, *, team_id: str | None, export_range: ExportRange, names: NameLookup | None = None
    ) -> list[ExportFile]:
        """The two files. Without `names` (the command line has no Slack) the name columns stay empty and
        the `*_id` columns say who."""
        raw_cases = await self._repo.cases_between(team_id, export_range.start, export_range.end)
        raw_amends = await self._repo.amends_between(team_id, export_range.start, export_range.end)
        cases = [_case_row(r, self._labels) for r in raw_cases]
        amends = [_amends_row(r) for r in raw_amends]
        await _add_names(names, cases, amends)
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

    async def export_for(
        self, user_id: str, team_id: str, text: str, names: NameLookup | None = None
    ) -> tuple[ExportRange, list[ExportFile]]:
        """An export asked for in Slack: only approvers may have it, checked at the moment they ask."""
        if not await self._may_export(user_id):
            raise NotAllowed("Exports are for approvers only: they hold customers' details and money.")
        export_range = self.parse(text)
        return export_range, await self.export(team_id=team_id, export_range=export_range, names=names)


def write_files(files: Sequence[ExportFile], folder: Path) -> list[Path]:
    """Write an export's files into `folder` (the command-line entry point for admins)."""
    folder.mkdir(parents=True, exist_ok=True)
    written = []
    for file in files:
        path = folder / file.filename
        path.write_text(file.content, encoding="utf-8")
        written.append(path)
    return written
