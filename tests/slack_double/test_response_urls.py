"""response_url: at most 5 uses in 30 minutes, and replace/delete/ephemeral/in_channel applied to state."""

from __future__ import annotations

from typing import Any

import aiohttp
from slack_sdk.web.async_client import AsyncWebClient

from slack_double import SlackDouble


async def post(url: str, body: dict[str, Any]) -> tuple[int, str]:
    async with aiohttp.ClientSession() as session, session.post(url, json=body) as response:
        return response.status, await response.text()


async def test_replace_original_at_most_five_times(double: SlackDouble, client: AsyncWebClient) -> None:
    alice = double.add_user("alice")
    channel = double.add_channel("ops", members=[alice])
    ts = (await client.chat_postMessage(channel=channel, text="v0"))["ts"]
    url = double.issue_response_url(alice, channel, ts)

    results = [await post(url, {"replace_original": True, "text": f"v{i}"}) for i in range(1, 7)]

    assert [status for status, _ in results] == [200] * 5 + [404]
    assert results[-1][1] == "used_url"
    assert double.message(channel, ts)["text"] == "v5"


async def test_expires_after_thirty_minutes(double: SlackDouble) -> None:
    alice = double.add_user("alice")
    url = double.issue_response_url(alice, double.general_channel_id)
    double.clock.advance(30 * 60 + 1)
    assert await post(url, {"text": "late"}) == (404, "expired_url")


async def test_ephemeral_by_default_in_channel_on_request(double: SlackDouble) -> None:
    alice = double.add_user("alice")
    channel = double.add_channel("ops", members=[alice], bot_member=False)
    url = double.issue_response_url(alice, channel)

    await post(url, {"text": "just you"})
    await post(url, {"text": "everyone", "response_type": "in_channel"})

    assert [e.text for e in double.ephemerals(alice)] == ["just you"]
    assert [m["text"] for m in double.messages(channel)] == ["everyone"]


async def test_delete_original_and_invalid_blocks(double: SlackDouble, client: AsyncWebClient) -> None:
    alice = double.add_user("alice")
    channel = double.add_channel("ops", members=[alice])
    ts = (await client.chat_postMessage(channel=channel, text="bye"))["ts"]
    url = double.issue_response_url(alice, channel, ts)

    bad = await post(url, {"replace_original": True, "blocks": [{"type": "section"}] * 51})
    deleted = await post(url, {"delete_original": True})

    assert bad == (400, "invalid_blocks") and deleted == (200, "ok")
    assert double.messages(channel) == []
    assert [c.method for c in double.rejected_calls] == ["response_url"]
