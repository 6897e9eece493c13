"""Modals and home tabs: trigger ids (3 s, one use), push stacks, hash conflicts, publish."""

from __future__ import annotations

from typing import Any

import pytest
from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient

from slack_double import SlackDouble


def modal(title: str = "Recover", **extra: Any) -> dict[str, Any]:
    return {
        "type": "modal",
        "title": {"type": "plain_text", "text": title},
        "blocks": [{"type": "section", "text": {"type": "mrkdwn", "text": "hello"}}],
        **extra,
    }


async def error_of(call: object) -> str:
    with pytest.raises(SlackApiError) as info:
        await call  # type: ignore[misc]
    return str(info.value.response["error"])


async def test_trigger_id_works_once(double: SlackDouble, client: AsyncWebClient) -> None:
    alice = double.add_user("alice")
    trigger = double.issue_trigger_id(alice)

    opened = await client.views_open(trigger_id=trigger, view=modal())

    assert double.open_views(alice) == [opened["view"]]
    assert opened["view"]["id"].startswith("V") and opened["view"]["root_view_id"] == opened["view"]["id"]
    # Slack's word for a trigger used already (views.open's documented errors).
    assert await error_of(client.views_open(trigger_id=trigger, view=modal())) == "exchanged_trigger_id"


async def test_trigger_id_expires_after_three_seconds(double: SlackDouble, client: AsyncWebClient) -> None:
    alice = double.add_user("alice")
    fresh, stale = double.issue_trigger_id(alice), double.issue_trigger_id(alice)

    double.clock.advance(2.5)
    await client.views_open(trigger_id=fresh, view=modal())
    double.clock.advance(0.6)

    assert await error_of(client.views_open(trigger_id=stale, view=modal())) == "expired_trigger_id"
    assert await error_of(client.views_open(trigger_id="123.456.abc", view=modal())) == "invalid_trigger_id"


async def test_push_builds_a_stack_of_at_most_three(double: SlackDouble, client: AsyncWebClient) -> None:
    alice = double.add_user("alice")
    root = (await client.views_open(trigger_id=double.issue_trigger_id(alice), view=modal("One")))["view"]
    second = (await client.views_push(trigger_id=double.issue_trigger_id(alice), view=modal("Two")))["view"]
    await client.views_push(trigger_id=double.issue_trigger_id(alice), view=modal("Three"))

    assert (second["root_view_id"], second["previous_view_id"]) == (root["id"], root["id"])
    assert [v["title"]["text"] for v in double.open_views(alice)] == ["One", "Two", "Three"]
    push = client.views_push(trigger_id=double.issue_trigger_id(alice), view=modal("Four"))
    assert await error_of(push) == "push_limit_reached"


async def test_update_checks_hash_and_finds_views_by_external_id(
    double: SlackDouble, client: AsyncWebClient
) -> None:
    alice = double.add_user("alice")
    view = (
        await client.views_open(trigger_id=double.issue_trigger_id(alice), view=modal(external_id="case-7"))
    )["view"]

    updated = await client.views_update(
        view_id=view["id"], hash=view["hash"], view=modal("Step 2", external_id="case-7")
    )
    assert updated["view"]["id"] == view["id"] and updated["view"]["hash"] != view["hash"]

    stale = client.views_update(view_id=view["id"], hash=view["hash"], view=modal("Step 3"))
    assert await error_of(stale) == "hash_conflict"
    by_external = await client.views_update(external_id="case-7", view=modal("Step 3", external_id="case-7"))
    assert double.view(view["id"])["title"]["text"] == "Step 3" == by_external["view"]["title"]["text"]
    assert await error_of(client.views_update(view_id="V0NOPE", view=modal())) == "not_found"


async def test_publish_home_tab(double: SlackDouble, client: AsyncWebClient) -> None:
    alice = double.add_user("alice")
    home = {"type": "home", "blocks": [{"type": "section", "text": {"type": "mrkdwn", "text": "Cases: 0"}}]}

    first = (await client.views_publish(user_id=alice, view=home))["view"]
    second = (await client.views_publish(user_id=alice, view=home, hash=first["hash"]))["view"]

    assert double.home_tab(alice) == second and second["type"] == "home"
    assert (
        await error_of(client.views_publish(user_id=alice, view=home, hash=first["hash"])) == "hash_conflict"
    )
    assert await error_of(client.views_publish(user_id=alice, view=modal())) == "invalid_arguments"
