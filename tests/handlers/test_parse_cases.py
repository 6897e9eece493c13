"""Parsing `/recover` text and the report modal's state, including malformed payloads."""

from __future__ import annotations

from typing import Any

import pytest

from bot.cases import ReportField
from handlers.cases import RecoverCommand, parse_recover_command, parse_report_form
from handlers.ids import ReportBlock


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (None, RecoverCommand("report", "")),
        ("", RecoverCommand("report", "")),
        ("help", RecoverCommand("help")),
        ("  HELP ", RecoverCommand("help")),
        ("hepl", RecoverCommand("unknown", "hepl")),
        ("stats", RecoverCommand("unknown", "stats")),
        ("report parcel lost", RecoverCommand("report", "parcel lost")),
        ("parcel never arrived", RecoverCommand("report", "parcel never arrived")),
        ("Refund", RecoverCommand("report", "Refund")),
        ("#4411", RecoverCommand("report", "#4411")),
        ("help me, the order is late", RecoverCommand("report", "help me, the order is late")),
    ],
)
def test_parse_recover_command(text: str | None, expected: RecoverCommand) -> None:
    assert parse_recover_command(text) == expected


def state(**values: Any) -> dict[str, Any]:
    return {ReportBlock(k).value: {ReportBlock(k).action_id: v} for k, v in values.items()}


def test_parse_report_form_reads_each_element_type() -> None:
    parsed = parse_report_form(
        state(
            customer_name={"type": "plain_text_input", "value": "Dana"},
            summary={"type": "plain_text_input", "value": "Late"},
            severity={"type": "radio_buttons", "selected_option": {"value": "major"}},
            category={"type": "static_select", "selected_option": None},
        )
    )
    assert parsed[ReportField.CUSTOMER_NAME] == "Dana"
    assert parsed[ReportField.SEVERITY] == "major"
    assert parsed[ReportField.CATEGORY] is None
    assert parsed[ReportField.IMPACT] is None


@pytest.mark.parametrize("values", [None, [], "x", {"summary": "x"}, {"summary": {"summary_input": 5}}])
def test_parse_report_form_tolerates_garbage(values: Any) -> None:
    parsed = parse_report_form(values)
    assert set(parsed) == set(ReportField)
    assert all(v is None for v in parsed.values())
