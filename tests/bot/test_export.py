"""Export rules: date ranges people type, and cells a spreadsheet cannot turn into formulas."""

from __future__ import annotations

import csv
import io
from collections.abc import Collection, Mapping
from datetime import UTC, date, datetime

import pytest

from bot.amends.money import Money, Percent
from bot.cases import categories_from_labels
from bot.clock import FrozenClock
from bot.errors import MendError
from bot.export import CASE_COLUMNS, ExportLabels, ExportService, parse_range, safe_cell, to_csv

TODAY = date(2026, 11, 23)


def test_ranges() -> None:
    default = parse_range("", TODAY)
    assert (default.first_day, default.last_day) == (date(2026, 10, 25), TODAY)
    assert parse_range("2026-10-01", TODAY).last_day == TODAY
    both = parse_range(" 2026-10-01  2026-10-31 ", TODAY)
    assert both.start == datetime(2026, 10, 1, tzinfo=UTC) and both.end == datetime(2026, 11, 1, tzinfo=UTC)
    assert both.label == "2026-10-01_to_2026-10-31"


@pytest.mark.parametrize(
    ("text", "needle"),
    [
        ("yesterday", "YYYY-MM-DD"),
        ("2026-13-01", "YYYY-MM-DD"),
        ("2026-10-31 2026-10-01", "comes after"),
        ("2024-01-01 2026-01-01", "at most 366"),
        ("2026-01-01 2026-01-02 2026-01-03", "Too many"),
    ],
)
def test_bad_ranges_are_explained(text: str, needle: str) -> None:
    with pytest.raises(MendError, match=needle):
        parse_range(text, TODAY)


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ('=HYPERLINK("http://evil")', '\'=HYPERLINK("http://evil")'),
        ("+1 555 0100", "'+1 555 0100"),
        ("-5", "'-5"),
        ("@SUM(A1)", "'@SUM(A1)"),
        ("plain text", "plain text"),
        (None, ""),
        (3, "3"),
        (datetime(2026, 1, 2, 3, 4, tzinfo=UTC), "2026-01-02T03:04:00+00:00"),
    ],
)
def test_cells_never_become_formulas(value: object, expected: str) -> None:
    assert safe_cell(value) == expected


def test_csv_round_trips_awkward_text() -> None:
    row = {
        "reference": "R-0001",
        "summary": 'Line one,\nline "two" — 包裹 😀',
        "customer_name": "=cmd|' /C calc'!A0",
    }
    parsed = list(csv.reader(io.StringIO(to_csv(CASE_COLUMNS, [row]))))
    assert parsed[0] == list(CASE_COLUMNS)
    values = dict(zip(parsed[0], parsed[1], strict=True))
    assert values["summary"] == 'Line one,\nline "two" — 包裹 😀'
    assert values["customer_name"].startswith("'=")


class _Repo:
    def __init__(self, cases: list[dict[str, object]], amends: list[dict[str, object]]) -> None:
        self._cases, self._amends = cases, amends

    async def cases_between(
        self, team_id: str | None, start: datetime, end: datetime
    ) -> list[dict[str, object]]:
        return [dict(c) for c in self._cases]

    async def amends_between(
        self, team_id: str | None, start: datetime, end: datetime
    ) -> list[dict[str, object]]:
        return [dict(a) for a in self._amends]


class _Names:
    def __init__(self) -> None:
        self.asked: list[list[str]] = []

    async def names(self, user_ids: Collection[str]) -> Mapping[str, str]:
        self.asked.append(sorted(user_ids))
        return {"U1": "Alice Agent"}  # U2 is someone Slack couldn't tell us about


async def _export(repo: _Repo, names: _Names | None = None) -> dict[str, list[dict[str, str]]]:
    labels = ExportLabels(root_causes=categories_from_labels(["Carrier / logistics"]))
    service = ExportService(repo, FrozenClock(datetime(2026, 11, 23, tzinfo=UTC)), _never, labels)
    files = await service.export(team_id="T1", export_range=parse_range("", TODAY), names=names)
    return {f.filename.split("-")[1]: list(csv.DictReader(io.StringIO(f.content))) for f in files}


async def _never(_user_id: str) -> bool:
    return False


async def test_export_cells_are_labels_numbers_and_names() -> None:
    case = {
        "reference": "R-0001",
        "category": "delivery",
        "root_cause": "carrier_logistics",
        "reporter_id": "U1",
        "owner_id": "U2",
        "satisfied_after_fix": "not_yet",
        "outcome": "left",
        "satisfaction_score": 2,
    }
    amends = [
        {
            "case": "R-0001",
            "kind": "refund",
            "offered": Money.of("45", "EUR"),
            "final": None,
            "requester_id": "U1",
        },
        {"case": "R-0001", "kind": "discount", "offered": Percent(basis_points=1250), "final": None},
        {
            "case": "R-0001",
            "kind": "gift",
            "offered": Money.of("3000", "JPY"),
            "final": Money.of("2500", "JPY"),
        },
    ]
    names = _Names()
    out = await _export(_Repo([case], amends), names)
    [row] = out["cases"]
    assert (row["category"], row["root_cause"]) == ("Delivery", "Carrier / logistics")
    assert (row["reporter"], row["owner"], row["owner_id"]) == ("Alice Agent", "", "U2")
    assert (row["satisfied_after_fix"], row["outcome"], row["satisfaction_score"]) == (
        "not yet",
        "Left us",
        "2",
    )
    refund, discount, gift = out["amends"]
    assert (refund["kind"], refund["offered"], refund["currency"], refund["final"]) == (
        "Refund",
        "45.00",
        "EUR",
        "",
    )
    assert (discount["offered"], discount["currency"], discount["offered_percent"]) == ("", "", "12.5")
    assert (gift["offered"], gift["final"], gift["currency"]) == ("3000", "2500", "JPY")
    assert names.asked == [["U1", "U2"]]  # one lookup for the whole export


async def test_without_slack_names_stay_empty_and_keys_no_longer_configured_read_as_words() -> None:
    case = {"reference": "R-0001", "category": "lost_in_space", "root_cause": None, "owner_id": "U2"}
    [row] = (await _export(_Repo([case], [])))["cases"]
    assert (row["category"], row["root_cause"], row["owner"], row["owner_id"]) == (
        "Lost in space",
        "",
        "",
        "U2",
    )
