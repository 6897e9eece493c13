"""The Slack app manifest is valid against Slack's published schema and matches what Mend listens for."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from handlers.ids import Command, Shortcut

ROOT = Path(__file__).resolve().parents[1]
SCHEMA = ROOT.parent / "shared" / "slack-reference" / "manifest-schema" / "manifest.schema.1.0.0.json"


def manifest() -> dict:  # type: ignore[type-arg]
    return json.loads((ROOT / "manifest.json").read_text())


def test_manifest_validates_against_slacks_schema() -> None:
    if not SCHEMA.exists():
        pytest.skip(f"Slack's manifest schema is not beside this checkout ({SCHEMA})")
    jsonschema = pytest.importorskip("jsonschema")
    schema = json.loads(SCHEMA.read_text())
    validator = jsonschema.Draft7Validator(schema)
    errors = sorted(validator.iter_errors(manifest()), key=lambda e: list(e.path))
    assert not errors, "\n".join(f"{list(e.path)}: {e.message}" for e in errors)


def test_manifest_matches_the_registered_surface() -> None:
    data = manifest()
    assert [c["command"] for c in data["features"]["slash_commands"]] == [c.value for c in Command]
    assert [s["callback_id"] for s in data["features"]["shortcuts"]] == [s.value for s in Shortcut]
    urls = {
        data["settings"]["event_subscriptions"]["request_url"],
        data["settings"]["interactivity"]["request_url"],
        *(c["url"] for c in data["features"]["slash_commands"]),
    }
    assert len(urls) == 1 and urls.pop().endswith("/slack/events")
