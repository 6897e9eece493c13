"""Nothing happens for a request Slack did not sign: a 401, no Web API call, no row, whatever it carries.

Each malformed `X-Slack-Request-Timestamp` below once made slack_sdk's verifier raise inside Bolt, which
handed the unverified body to the error policy, which then messaged the `user_id` the body named.
"""

from __future__ import annotations

import json
import time
from urllib.parse import urlencode

import pytest

from tests.e2e.conftest import Stack

MALFORMED_TIMESTAMPS = ["now", "abc", "1e9", "", "-1", "1" * 20, " 1700000000", "0x10", "١٢٣"]


def bodies(stack: Stack) -> list[tuple[str, bytes, str]]:
    alice = stack.alice.id
    command = urlencode(
        {
            "command": "/recover",
            "text": "forged",
            "user_id": alice,
            "channel_id": stack.support,
            "team_id": stack.double.team_id,
            "trigger_id": "1.2.forged",
            "response_url": "https://hooks.slack.com/commands/T1/1/forged",
        }
    ).encode()
    interaction = urlencode(
        {
            "payload": json.dumps(
                {
                    "type": "block_actions",
                    "user": {"id": alice},
                    "team": {"id": stack.double.team_id},
                    "channel": {"id": stack.support},
                    "actions": [{"action_id": "no_such_action", "block_id": "b", "type": "button"}],
                    "trigger_id": "1.2.forged",
                }
            )
        }
    ).encode()
    event = json.dumps(
        {
            "type": "event_callback",
            "team_id": stack.double.team_id,
            "event_id": "Ev0FORGED",
            "event": {"type": "app_home_opened", "user": alice, "channel": "D0FORGED", "tab": "home"},
        }
    ).encode()
    form = "application/x-www-form-urlencoded"
    return [("command", command, form), ("interaction", interaction, form), ("event", event, "application/json")]


@pytest.mark.parametrize("timestamp", MALFORMED_TIMESTAMPS)
async def test_a_malformed_timestamp_is_a_401_with_no_effect(stack: Stack, timestamp: str) -> None:
    before = len(stack.double.calls)
    cases_before = await stack.count_cases()
    for name, body, content_type in bodies(stack):
        for signature in ("v0=" + "0" * 64, "", "garbage"):
            response = await stack.sender.post(
                stack.sender.app_url,
                body,
                content_type,
                signature="missing",
                headers={"X-Slack-Request-Timestamp": timestamp, "X-Slack-Signature": signature},
            )
            assert response.status == 401, (name, timestamp, signature, response.body)
    await stack.settle()
    assert stack.double.calls[before:] == []
    assert await stack.count_cases() == cases_before


async def test_a_well_formed_but_wrong_signature_is_a_401_with_no_effect(stack: Stack) -> None:
    before = len(stack.double.calls)
    for _name, body, content_type in bodies(stack):
        forged = await stack.sender.post(stack.sender.app_url, body, content_type, signature="forged")
        stale = await stack.sender.post(
            stack.sender.app_url, body, content_type, timestamp=int(time.time()) - 3600
        )
        missing = await stack.sender.post(stack.sender.app_url, body, content_type, signature="missing")
        assert (forged.status, stale.status, missing.status) == (401, 401, 401)
    await stack.settle()
    assert stack.double.calls[before:] == []
