"""Block Kit validation: what Slack refuses is refused here too, and recorded for tests to assert on."""

from __future__ import annotations

from typing import Any

import pytest
from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient

from slack_double import SlackDouble
from slack_double.blocks import validate_message_blocks, validate_view


def section(text: str, **extra: Any) -> dict[str, Any]:
    return {"type": "section", "text": {"type": "mrkdwn", "text": text}, **extra}


def button(action_id: str, value: str = "v") -> dict[str, Any]:
    return {
        "type": "button",
        "action_id": action_id,
        "text": {"type": "plain_text", "text": "Go"},
        "value": value,
    }


async def rejection(client: AsyncWebClient, channel: str, blocks: list[dict[str, Any]]) -> dict[str, Any]:
    with pytest.raises(SlackApiError) as info:
        await client.chat_postMessage(channel=channel, text="fallback", blocks=blocks)
    return dict(info.value.response.data)


@pytest.mark.parametrize(
    ("blocks", "expected"),
    [
        ([section("x")] * 51, "no more than 50 items"),
        ([section("x" * 3001)], "section text must be at most 3000"),
        (
            [{"type": "header", "text": {"type": "plain_text", "text": "h" * 151}}],
            "header text must be at most 150",
        ),
        ([section("a", block_id="b"), section("b", block_id="b")], "duplicate block_id 'b'"),
        ([section("a", block_id="b" * 256)], "block_id must be at most 255"),
        ([{"type": "actions", "elements": [button("a"), button("a")]}], "duplicate action_id 'a'"),
        ([{"type": "actions", "elements": [button("a", "v" * 2001)]}], "button value must be at most 2000"),
        (
            [{"type": "actions", "elements": [{"type": "buton", "action_id": "a"}]}],
            "unsupported type 'buton'",
        ),
        ([section("x", colour="red")], "unknown property 'colour'"),
        ([{"type": "marquee"}], "unsupported block type 'marquee'"),
        ([{"type": "carousel"}], "malformed carousel block"),
    ],
)
async def test_message_block_rejections(
    double: SlackDouble, client: AsyncWebClient, blocks: list[dict[str, Any]], expected: str
) -> None:
    channel = double.add_channel("ops")

    body = await rejection(client, channel, blocks)

    assert body["error"] == "invalid_blocks"
    assert any(expected in e for e in body["errors"]), body["errors"]
    assert double.messages(channel) == []
    assert [c.method for c in double.rejected_calls] == ["chat.postMessage"]
    with pytest.raises(AssertionError, match=expected):
        double.assert_no_rejections()


async def test_valid_message_passes_and_gets_block_ids(double: SlackDouble, client: AsyncWebClient) -> None:
    channel = double.add_channel("ops")
    await client.chat_postMessage(channel=channel, text="x", blocks=[section("x" * 3000)] * 50)
    assert len(double.messages(channel)[0]["blocks"]) == 50
    assert all(b["block_id"] for b in double.messages(channel)[0]["blocks"])
    double.assert_no_rejections()


def test_modal_limits() -> None:
    title = {"type": "plain_text", "text": "ok"}
    base: dict[str, Any] = {"type": "modal", "title": title, "blocks": [section("x")]}
    assert validate_view(base) == []
    assert (
        "title must be at most 24"
        in validate_view({**base, "title": {"type": "plain_text", "text": "t" * 25}})[0]
    )
    assert (
        "submit must be at most 24"
        in validate_view({**base, "submit": {"type": "plain_text", "text": "s" * 25}})[0]
    )
    assert "private_metadata" in validate_view({**base, "private_metadata": "p" * 3001})[0]
    assert "callback_id" in validate_view({**base, "callback_id": "c" * 256})[0]
    assert "no more than 100" in validate_view({**base, "blocks": [section("x")] * 101})[0]
    input_block = {
        "type": "input",
        "label": title,
        "element": {"type": "plain_text_input", "action_id": "a"},
    }
    assert "needs a submit" in validate_view({**base, "blocks": [input_block]})[0]
    assert validate_view({"type": "home", "blocks": [section("x")] * 100}) == []
    assert validate_message_blocks("not a list") == ["blocks must be an array [json-pointer:/blocks]"]


async def test_invalid_view_answers_invalid_arguments(double: SlackDouble, client: AsyncWebClient) -> None:
    alice = double.add_user("alice")
    view = {"type": "modal", "title": {"type": "plain_text", "text": "t" * 30}, "blocks": [section("x")]}

    with pytest.raises(SlackApiError) as info:
        await client.views_open(trigger_id=double.issue_trigger_id(alice), view=view)

    assert info.value.response["error"] == "invalid_arguments"
    assert "json-pointer:/view/title/text" in info.value.response["response_metadata"]["messages"][0]
    assert double.rejected_calls[0].method == "views.open"
