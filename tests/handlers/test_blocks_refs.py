"""Refs in button values and private_metadata: what Mend wrote reads back, anything else reads as nothing."""

from __future__ import annotations

import pytest

from handlers.blocks.amends import AmendsRef
from handlers.blocks.followups import FollowUpRef
from handlers.blocks.learning import decode_alert, encode_alert
from handlers.blocks.recovery import StepRef
from handlers.blocks.refs import json_int, json_object

# Each is something a tampered or broken client could send back instead of what Mend wrote.
HOSTILE = [
    None,
    5,
    "",
    "not json",
    "[1, 2]",
    '"a string"',
    "[" * 999 + "]" * 999,  # nested past the JSON parser's recursion limit, within every length cap
    '{"c": true, "f": true, "a": true, "s": "x", "r": 0}',
    '{"c": 0, "f": 0, "a": 0, "r": 0}',
    '{"c": -1, "f": -1, "a": -1, "r": -1}',
    '{"c": 9007199254740992, "f": 9007199254740992, "a": 9007199254740992, "r": 0}',
    '{"c": 1.5, "f": 1.5, "a": 1.5, "r": 0}',
    '{"c": "1", "f": "1", "a": "1", "r": "0"}',
]


def test_refs_read_back_what_they_wrote() -> None:
    for step in (StepRef(7, "apology"), StepRef(7, "", 3), StepRef(2**53 - 1, "x" * 40, 999)):
        assert StepRef.decode(step.encode()) == step
    for follow_up in (FollowUpRef(1, 0), FollowUpRef(2**53 - 1, 12)):
        assert FollowUpRef.decode(follow_up.encode()) == follow_up
    assert AmendsRef.decode(AmendsRef(9).encode()) == AmendsRef(9)
    assert decode_alert(encode_alert(4)) == 4


def test_refs_are_compact_enough_for_a_button_value() -> None:
    assert StepRef(12, "apology").encode() == '{"c":12,"s":"apology"}'
    assert FollowUpRef(3, 1).encode() == '{"f":3,"r":1}'
    assert AmendsRef(5).encode() == '{"a":5}'


@pytest.mark.parametrize("raw", HOSTILE)
def test_anything_mend_did_not_write_reads_as_no_ref(raw: object) -> None:
    assert StepRef.decode(raw) is None
    assert FollowUpRef.decode(raw) is None
    assert AmendsRef.decode(raw) is None
    assert decode_alert(raw) is None


def test_too_long_values_are_refused_before_parsing() -> None:
    padded = '{"c": 1, "s": "x"' + " " * 2000 + "}"
    assert json_object(padded, 2000) is None
    assert json_object(padded, 3000) == {"c": 1, "s": "x"}
    assert StepRef.decode(padded) is None


def test_a_step_ref_with_a_bad_version_keeps_its_case_and_step() -> None:
    for version in ("1", True, -1, 1000):
        raw = '{"c": 3, "s": "fix", "v": %s}' % ('"1"' if version == "1" else str(version).lower())
        assert StepRef.decode(raw) == StepRef(3, "fix", 0)
    assert StepRef.decode('{"c": 3, "s": "' + "x" * 41 + '"}') is None


def test_json_int_bounds() -> None:
    assert json_int(1) == 1
    assert json_int(0) is None
    assert json_int(0, 0) == 0
    assert json_int(999, 0, 1000) == 999
    assert json_int(1000, 0, 1000) is None
    assert json_int(False, 0) is None
