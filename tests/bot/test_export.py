"""Export rules: date ranges people type, and cells a spreadsheet cannot turn into formulas."""

from __future__ import annotations

import csv
import io
from datetime import UTC, date, datetime

import pytest

from bot.errors import MendError
from bot.export import CASE_COLUMNS, parse_range, safe_cell, to_csv

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
