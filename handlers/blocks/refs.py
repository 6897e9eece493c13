"""Reading back the small JSON Mend puts in button values and private_metadata: it returns from the client."""

from __future__ import annotations

import json
from typing import Any

#: The largest integer a JSON number carries exactly everywhere (Slack's client is JavaScript).
JSON_SAFE_INT = 2**53


def encode_ref(data: dict[str, Any]) -> str:
    return json.dumps(data, separators=(",", ":"))


def json_object(raw: object, max_chars: int) -> dict[str, Any] | None:
    """The JSON object in `raw`, or None for anything else: not a string, too long, not JSON, not an object."""
    if not isinstance(raw, str) or len(raw) > max_chars:
        return None
    try:
        data = json.loads(raw)
    except (ValueError, RecursionError):  # RecursionError: "[[[[...]]]]" nested past the parser's limit
        return None
    return data if isinstance(data, dict) else None


def json_int(value: object, low: int = 1, high: int = JSON_SAFE_INT) -> int | None:
    """`value` if it is a whole number with low <= value < high; JSON `true` is not one."""
    if isinstance(value, int) and not isinstance(value, bool) and low <= value < high:
        return value
    return None
