"""Logging setup: text lines for people, one JSON object a line for pipelines, secrets redacted in both."""

from __future__ import annotations

import io
import json
import logging
import re
from datetime import UTC, datetime

from runtime.logs import configure_logging

TOKEN = "xoxb-1234567890-LOGGED-TOKEN-abcdef"
SECRET = "a-signing-secret-0f1e2d3c"


def fail_with_secrets(log: logging.Logger) -> None:
    try:
        raise RuntimeError(f"Slack said no to {TOKEN} (signed with {SECRET})")
    except RuntimeError:
        log.exception("posting with %s failed", TOKEN)


def test_json_format_writes_one_object_a_line_with_the_traceback_as_text() -> None:
    out = io.StringIO()
    configure_logging("INFO", "json", [TOKEN, SECRET], stream=out)
    log = logging.getLogger("mend.test")

    log.info("case %s opened", "R-0001")
    log.debug("not at INFO")
    fail_with_secrets(log)

    lines = out.getvalue().splitlines()
    assert len(lines) == 2
    info, error = (json.loads(line) for line in lines)
    assert list(info) == ["time", "level", "logger", "message"]
    assert (info["level"], info["logger"], info["message"]) == ("INFO", "mend.test", "case R-0001 opened")
    assert datetime.fromisoformat(info["time"]).utcoffset() == UTC.utcoffset(None)
    assert set(error) == {"time", "level", "logger", "message", "exc_info"}
    assert error["level"] == "ERROR" and error["message"] == "posting with (redacted) failed"
    assert (
        error["exc_info"].startswith("Traceback")
        and "RuntimeError: Slack said no to (redacted)" in error["exc_info"]
    )
    assert TOKEN not in out.getvalue() and SECRET not in out.getvalue()


def test_text_format_is_one_readable_line_a_record_and_redacted_too() -> None:
    out = io.StringIO()
    configure_logging("WARNING", "text", [TOKEN, SECRET], stream=out)
    log = logging.getLogger("mend.test")

    log.info("not at WARNING")
    log.warning("Slack is slow")
    fail_with_secrets(log)

    written = out.getvalue()
    first, *rest = written.splitlines()
    assert re.fullmatch(r"\d{4}-\d\d-\d\d \d\d:\d\d:\d\d,\d{3} WARNING mend\.test: Slack is slow", first)
    assert (
        rest[0].endswith("ERROR mend.test: posting with (redacted) failed")
        and rest[1] == "Traceback (most recent call last):"
    )
    assert "RuntimeError: Slack said no to (redacted)" in written
    assert TOKEN not in written and SECRET not in written and "not at WARNING" not in written


def test_a_json_handler_and_a_text_handler_on_one_record_both_stay_redacted() -> None:
    # The JSON formatter renders from a copy of the record: the text handler still sees the redacted one.
    as_json, as_text = io.StringIO(), io.StringIO()
    configure_logging("INFO", "json", [TOKEN], stream=as_json)
    configure_logging("INFO", "text", [TOKEN], stream=as_text)

    fail_with_secrets(logging.getLogger("mend.test"))

    assert TOKEN not in as_json.getvalue() + as_text.getvalue()
    assert "Traceback" in json.loads(as_json.getvalue())["exc_info"] and "Traceback" in as_text.getvalue()
