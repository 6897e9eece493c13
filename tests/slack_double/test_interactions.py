"""A real Bolt app wired to the double: people drive it only through what it posted."""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any

import pytest
from aiohttp import web
from slack_bolt.async_app import AsyncAck, AsyncApp, AsyncRespond
from slack_sdk.web.async_client import AsyncWebClient

from slack_double import ElementNotFound, SlackDouble, SlackSender

SECRET = "test-signing-secret"

MODAL: dict[str, Any] = {
    "type": "modal",
    "callback_id": "recover",
    "title": {"type": "plain_text", "text": "Recover"},
    "submit": {"type": "plain_text", "text": "Start"},
    "notify_on_close": True,
    "private_metadata": "case-1",
    "blocks": [
        {
            "type": "input",
            "block_id": "summary",
            "label": {"type": "plain_text", "text": "Summary"},
            "element": {"type": "plain_text_input", "action_id": "text"},
        },
        {
            "type": "input",
            "block_id": "sev",
            "label": {"type": "plain_text", "text": "Severity"},
            "element": {
                "type": "static_select",
                "action_id": "pick",
                "options": [
                    {"text": {"type": "plain_text", "text": "High"}, "value": "high"},
                    {"text": {"type": "plain_text", "text": "Low"}, "value": "low"},
                ],
            },
        },
        {
            "type": "input",
            "block_id": "owner",
            "optional": True,
            "label": {"type": "plain_text", "text": "Owner"},
            "element": {"type": "users_select", "action_id": "who"},
        },
        {
            "type": "input",
            "block_id": "due",
            "optional": True,
            "label": {"type": "plain_text", "text": "Due"},
            "element": {"type": "datepicker", "action_id": "day", "initial_date": "2024-05-01"},
        },
    ],
}


@dataclass
class Harness:
    double: SlackDouble
    sender: SlackSender
    channel: str
    alice: str
    seen: list[dict[str, Any]]


def build_app(double: SlackDouble, seen: list[dict[str, Any]]) -> AsyncApp:
    client = AsyncWebClient(token=double.bot_token, base_url=double.api_url)
    app = AsyncApp(token=double.bot_token, signing_secret=SECRET, client=client)

    @app.command("/recover")
    async def recover(ack: AsyncAck, body: dict[str, Any], client: AsyncWebClient) -> None:
        await ack()
        await client.views_open(trigger_id=body["trigger_id"], view=MODAL)

    @app.command("/ping")
    async def ping(ack: AsyncAck) -> None:
        await ack(
            text="pong",
            blocks=[
                {
                    "type": "actions",
                    "elements": [
                        {
                            "type": "button",
                            "action_id": "dismiss",
                            "text": {"type": "plain_text", "text": "OK"},
                        }
                    ],
                }
            ],
        )

    @app.view("recover")
    async def submitted(
        ack: AsyncAck, view: dict[str, Any], body: dict[str, Any], client: AsyncWebClient
    ) -> None:
        seen.append(body)
        summary = view["state"]["values"]["summary"]["text"]["value"]
        if len(summary) < 5:
            await ack(response_action="errors", errors={"summary": "Say a little more"})
            return
        await ack()
        severity = view["state"]["values"]["sev"]["pick"]["selected_option"]["value"]
        await client.chat_postMessage(
            channel=view["private_metadata"] and body["user"]["id"],
            text=f"Case opened: {summary} ({severity})",
            blocks=[
                {"type": "section", "text": {"type": "mrkdwn", "text": f"*{summary}*"}},
                {
                    "type": "actions",
                    "block_id": "case",
                    "elements": [
                        {
                            "type": "button",
                            "action_id": "resolve",
                            "text": {"type": "plain_text", "text": "Resolve"},
                            "value": "case-1",
                        },
                        {
                            "type": "button",
                            "action_id": "details",
                            "text": {"type": "plain_text", "text": "Details"},
                        },
                    ],
                },
            ],
        )

    @app.view_closed("recover")
    async def closed(ack: AsyncAck, body: dict[str, Any]) -> None:
        seen.append(body)
        await ack()

    @app.action("resolve")
    async def resolve(ack: AsyncAck, body: dict[str, Any], respond: AsyncRespond) -> None:
        await ack()
        seen.append(body)
        await respond(replace_original=True, text=f"Resolved {body['actions'][0]['value']}")

    @app.action("details")
    async def details(ack: AsyncAck, body: dict[str, Any], client: AsyncWebClient) -> None:
        await ack()
        seen.append(body)
        await client.views_open(
            trigger_id=body["trigger_id"],
            view={
                "type": "modal",
                "title": {"type": "plain_text", "text": "Details"},
                "blocks": [{"type": "section", "text": {"type": "mrkdwn", "text": "All good"}}],
            },
        )

    @app.action("dismiss")
    async def dismiss(ack: AsyncAck, body: dict[str, Any], respond: AsyncRespond) -> None:
        await ack()
        seen.append(body)
        await respond(delete_original=True)

    @app.event("app_home_opened")
    async def home(event: dict[str, Any], client: AsyncWebClient) -> None:
        await client.views_publish(
            user_id=event["user"],
            view={
                "type": "home",
                "blocks": [
                    {
                        "type": "actions",
                        "elements": [
                            {
                                "type": "static_select",
                                "action_id": "filter",
                                "options": [
                                    {"text": {"type": "plain_text", "text": "Open"}, "value": "open"}
                                ],
                            }
                        ],
                    }
                ],
            },
        )

    @app.action("filter")
    async def filter_(ack: AsyncAck, body: dict[str, Any]) -> None:
        seen.append(body)
        await ack()

    return app


@pytest.fixture
async def harness(double: SlackDouble) -> AsyncIterator[Harness]:
    seen: list[dict[str, Any]] = []
    runner = web.AppRunner(build_app(double, seen).web_app(path="/slack/events"))
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = runner.addresses[0][1]
    alice = double.add_user("alice", real_name="Alice Liddell")
    channel = double.add_channel("ops", members=[alice])
    # A roomy ack timeout: on a loaded machine 3 s can pass; speed is for bench/, not this test.
    async with SlackSender(f"http://127.0.0.1:{port}/slack/events", SECRET, double, ack_timeout=15) as sender:
        yield Harness(double, sender, channel, alice, seen)
    await runner.cleanup()


async def test_slash_command_opens_modal_and_submission_errors_keep_it_open(harness: Harness) -> None:
    double, alice = harness.double, harness.sender.person(harness.alice)

    ack = await alice.slash_command("/recover", "db down", harness.channel)
    await double.wait_for_call("views.open")  # the toy app acks first, then opens the modal

    # Speed is measured by bench/, not asserted: a loaded machine must not fail this test.
    assert ack.status == 200 and not ack.timed_out
    [modal] = double.open_views(alice.id)
    assert modal["callback_id"] == "recover"
    response = await alice.submit_view({"Summary": "db", "Severity": "High"})
    assert response.field_errors == {"summary": "Say a little more"}
    assert [v["id"] for v in double.open_views(alice.id)] == [modal["id"]]
    state = harness.seen[-1]["view"]["state"]["values"]
    assert state["sev"]["pick"]["selected_option"]["value"] == "high"
    assert state["owner"]["who"] == {"type": "users_select", "selected_user": None}
    assert state["due"]["day"] == {"type": "datepicker", "selected_date": "2024-05-01"}
    double.assert_no_rejections()


async def test_valid_submission_closes_modal_and_posts_a_clickable_message(harness: Harness) -> None:
    double, alice = harness.double, harness.sender.person(harness.alice)
    await alice.slash_command("/recover", "", harness.channel)
    await double.wait_for_call("views.open")  # the toy app acks first, then opens the modal

    await alice.submit_view({"summary": "database is down", "sev": {"pick": "Low"}, "Owner": harness.alice})

    await double.wait_for_call("chat.postMessage")
    assert double.open_views(alice.id) == []
    dm = double.dm_channel_id(alice.id)
    assert dm is not None
    [posted] = double.messages(dm)
    assert posted["text"] == "Case opened: database is down (low)"

    await alice.click("resolve", text="Resolve")

    await double.wait_for_call("response_url")
    body = harness.seen[-1]
    assert body["actions"][0]["value"] == "case-1"
    assert body["container"] == {
        "type": "message",
        "message_ts": posted["ts"],
        "channel_id": dm,
        "is_ephemeral": False,
    }
    assert double.message(dm, posted["ts"])["text"] == "Resolved case-1"
    assert "blocks" not in double.message(dm, posted["ts"])


async def test_click_uses_a_fresh_trigger_that_views_open_accepts_once(harness: Harness) -> None:
    double, alice = harness.double, harness.sender.person(harness.alice)
    await alice.slash_command("/recover", "", harness.channel)
    await double.wait_for_call("views.open")  # the toy app acks first, then opens the modal
    await alice.submit_view({"summary": "database is down", "sev": "high"})
    await double.wait_for_call("chat.postMessage")

    await alice.click("details")

    await double.wait_for_call("views.open", count=2)
    [details] = double.open_views(alice.id)
    assert details["title"]["text"] == "Details"
    trigger = harness.seen[-1]["trigger_id"]
    assert double.workspace.triggers[trigger].used


async def test_required_fields_and_unknown_options_are_refused_like_the_slack_client(
    harness: Harness,
) -> None:
    alice = harness.sender.person(harness.alice)
    await alice.slash_command("/recover", "", harness.channel)
    await harness.double.wait_for_call("views.open")  # the toy app acks first, then opens the modal

    with pytest.raises(ValueError, match="'Severity' is required"):
        await alice.submit_view({"summary": "database is down"})
    with pytest.raises(ValueError, match="not an option"):
        await alice.submit_view({"summary": "database is down", "sev": "medium"})
    with pytest.raises(KeyError, match="no input 'nope'"):
        await alice.submit_view({"nope": "x"})


async def test_close_view_notifies_when_asked(harness: Harness) -> None:
    double, alice = harness.double, harness.sender.person(harness.alice)
    await alice.slash_command("/recover", "", harness.channel)
    await double.wait_for_call("views.open")  # the toy app acks first, then opens the modal

    response = await alice.close_view()

    assert response is not None and response.status == 200
    assert harness.seen[-1]["type"] == "view_closed"
    assert double.open_views(alice.id) == []


async def test_ack_body_becomes_an_ephemeral_that_can_be_clicked_and_deleted(harness: Harness) -> None:
    double, alice = harness.double, harness.sender.person(harness.alice)

    ack = await alice.slash_command("/ping", "", harness.channel)

    assert ack.json["text"] == "pong"
    [ephemeral] = double.ephemerals(alice.id)
    assert (ephemeral.channel, ephemeral.text) == (harness.channel, "pong")
    await alice.click("dismiss")
    await double.wait_for_call("response_url")
    body = harness.seen[-1]
    assert body["container"]["is_ephemeral"] is True
    assert "message" not in body
    assert double.ephemerals(alice.id) == []


async def test_home_tab_select(harness: Harness) -> None:
    double, alice = harness.double, harness.sender.person(harness.alice)

    await alice.open_home()
    await double.wait_for_call("views.publish")
    assert double.home_tab(alice.id) is not None

    with pytest.raises(ValueError, match="choose="):
        await alice.click("filter")
    await alice.click("filter", choose="Open")
    action = harness.seen[-1]["actions"][0]
    assert action["selected_option"]["value"] == "open"
    assert harness.seen[-1]["container"]["type"] == "view"


async def test_elements_are_found_only_through_what_the_app_showed(harness: Harness) -> None:
    alice = harness.sender.person(harness.alice)
    with pytest.raises(ElementNotFound, match="sees no element 'resolve'"):
        await alice.click("resolve")


async def test_block_id_narrows_a_click_to_the_block_the_person_clicked(harness: Harness) -> None:
    double = harness.double
    button = {"type": "button", "action_id": "done", "text": {"type": "plain_text", "text": "Done"}}
    blocks = [
        {"type": "actions", "block_id": "step_1", "elements": [button]},
        {"type": "actions", "block_id": "step_2", "elements": [button]},
    ]
    channel = double.channel(harness.channel)
    double.api.add_message(channel, double.api.bot_message("steps", blocks, double.ids.ts()), None)
    alice = harness.sender.person(harness.alice)
    with pytest.raises(ElementNotFound, match="2 elements match"):
        alice.find("done")
    assert alice.find("done", block_id="step_2").block["block_id"] == "step_2"
