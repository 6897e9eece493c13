"""Fixtures for testing the Slack double itself: a running double and a slack_sdk client aimed at it."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
from slack_sdk.web.async_client import AsyncWebClient

from slack_double import SlackDouble

REFERENCE = Path(__file__).resolve().parents[2] / ".." / "shared" / "slack-reference"


@pytest.fixture
async def double() -> AsyncIterator[SlackDouble]:
    async with SlackDouble(seed=7) as running:
        yield running


@pytest.fixture
def client(double: SlackDouble) -> AsyncWebClient:
    # No retry handlers: tests must see each fault exactly as the double sent it.
    return AsyncWebClient(token=double.bot_token, base_url=double.api_url, retry_handlers=[])


@pytest.fixture
def reference() -> Path:
    if not REFERENCE.is_dir():
        pytest.skip(
            f"Slack reference data not found at {REFERENCE.resolve()} (it sits beside the repo in CI)"
        )
    return REFERENCE


def load_reference(reference: Path, relative: str) -> Any:
    return json.loads((reference / relative).read_text())
