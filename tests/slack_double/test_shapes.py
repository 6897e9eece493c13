"""What the double sends and answers has Slack's shapes, checked against shared/slack-reference."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator, Callable
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs

import aiohttp
import pytest
from aiohttp import web
from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient

from slack_double import SlackDouble, SlackSender
from tests.slack_double.conftest import load_reference

# Keys Slack sends that the java-slack-sdk samples happen to lack, each documented by Slack.
KNOWN_EXTRA = {
    "view_submission": {"response_urls"},  # api.slack.com/reference/interaction-payloads/views
    "view": {"blocks"},  # the samples blank out view.blocks; views.open's sample has it
}

BUTTON_BLOCKS: list[dict[str, Any]] = [
    {"type": "section", "text": {"type": "mrkdwn", "text": "Case 7"}},
    {
        "type": "actions",
        "elements": [
            {
                "type": "button",
                "action_id": "resolve",
                "text": {"type": "plain_text", "text": "Resolve"},
                "value": "7",
            },
            {
                "type": "static_select",
                "action_id": "sev",
                "placeholder": {"type": "plain_text", "text": "Severity"},
                "options": [{"text": {"type": "plain_text", "text": "High"}, "value": "high"}],
            },
        ],
    },
]

MODAL: dict[str, Any] = {
    "type": "modal",
    "callback_id": "recover",
    "title": {"type": "plain_text", "text": "Recover"},
    "submit": {"type": "plain_text", "text": "Start"},
    "notify_on_close": True,
    "blocks": [
        {
            "type": "input",
            "block_id": "summary",
            "label": {"type": "plain_text", "text": "Summary"},
            "element": {"type": "plain_text_input", "action_id": "text"},
        },
        {
            "type": "actions",
            "elements": [
                {"type": "button", "action_id": "more", "text": {"type": "plain_text", "text": "More"}}
            ],
        },
    ],
}


def assert_subset(
    ours: dict[str, Any], theirs: dict[str, Any], where: str, extra: set[str] | None = None
) -> None:
    unknown = set(ours) - set(theirs) - (extra or set())
    assert not unknown, f"{where}: keys Slack never sends/answers: {sorted(unknown)}"


def assert_nested_subset(ours: Any, theirs: Any, where: str) -> None:
    """Every key at every level of `ours` exists at the same place in the reference (lists: first item)."""
    if isinstance(ours, dict) and isinstance(theirs, dict):
        if not theirs:  # the reference leaves free-form objects ({}) open
            return
        assert_subset(ours, theirs, where, KNOWN_EXTRA["view"] if where.endswith("view") else None)
        for key, value in ours.items():
            if key in theirs:
                assert_nested_subset(value, theirs[key], f"{where}.{key}")
    elif isinstance(ours, list) and isinstance(theirs, list) and theirs and where.split(".")[-1] != "blocks":
        for item in ours:
            assert_nested_subset(item, theirs[0], f"{where}[]")


class Capture:
    def __init__(self) -> None:
        self.bodies: list[tuple[str, bytes]] = []

    async def handle(self, request: web.Request) -> web.Response:
        self.bodies.append((request.content_type, await request.read()))
        return web.Response()

    def last(self) -> dict[str, Any]:
        content_type, body = self.bodies[-1]
        if content_type == "application/json":
            return dict(json.loads(body))
        form = {k: v[0] for k, v in parse_qs(body.decode(), keep_blank_values=True).items()}
        return dict(json.loads(form["payload"])) if "payload" in form else form


@pytest.fixture
async def capture(double: SlackDouble) -> AsyncIterator[tuple[Capture, SlackSender]]:
    capture = Capture()
    app = web.Application()
    app.router.add_post("/slack/events", capture.handle)
    runner = web.AppRunner(app)
    await runner.setup()
    await web.TCPSite(runner, "127.0.0.1", 0).start()
    async with SlackSender(f"http://127.0.0.1:{runner.addresses[0][1]}/slack/events", "s", double) as sender:
        yield capture, sender
    await runner.cleanup()


async def test_inbound_payloads_match_slacks(
    double: SlackDouble, client: AsyncWebClient, capture: tuple[Capture, SlackSender], reference: Path
) -> None:
    cap, sender = capture
    alice = sender.person(double.add_user("alice"))
    channel = double.add_channel("ops", members=[alice.id])
    posted = await client.chat_postMessage(channel=channel, text="Case 7", blocks=BUTTON_BLOCKS)

    await alice.slash_command("/recover", "db down", channel)
    slash = cap.last()
    await alice.message_shortcut("open_case", channel, posted["ts"])
    shortcut = cap.last()
    await alice.click("resolve")
    click_message = cap.last()
    await alice.click("sev", choose="high")
    select = cap.last()
    await client.views_open(trigger_id=double.issue_trigger_id(alice.id), view=MODAL)
    await alice.click("more", values={"Summary": "typing"})
    click_view = cap.last()
    await alice.submit_view({"Summary": "db down"})
    submission = cap.last()
    await client.views_open(trigger_id=double.issue_trigger_id(alice.id), view=MODAL)
    await alice.close_view()
    closed = cap.last()

    ref: Callable[[str], dict[str, Any]] = lambda name: load_reference(reference, f"inbound/{name}.json")  # noqa: E731
    cases = [
        # enterprise_id/enterprise_name only come with Enterprise Grid installs.
        (
            slash,
            ref("SlashCommandPayload"),
            set(ref("SlashCommandPayload")) - {"enterprise_id", "enterprise_name"},
            None,
        ),
        (
            shortcut,
            ref("MessageShortcutPayload"),
            {
                "type",
                "callback_id",
                "trigger_id",
                "message_ts",
                "message",
                "response_url",
                "user",
                "team",
                "channel",
                "action_ts",
            },
            None,
        ),
        (
            click_message,
            ref("BlockActionPayload"),
            {
                "type",
                "user",
                "api_app_id",
                "token",
                "container",
                "trigger_id",
                "team",
                "channel",
                "message",
                "response_url",
                "actions",
            },
            None,
        ),
        (select, ref("BlockActionPayload"), {"actions", "container", "state"}, None),
        (
            click_view,
            ref("BlockActionPayload"),
            {"type", "user", "view", "container", "trigger_id", "actions"},
            None,
        ),
        (
            submission,
            ref("ViewSubmissionPayload"),
            {"type", "team", "user", "api_app_id", "token", "trigger_id", "view"},
            "view_submission",
        ),
        (
            closed,
            ref("ViewClosedPayload"),
            {"type", "team", "user", "api_app_id", "token", "view", "is_cleared"},
            None,
        ),
    ]
    for ours, theirs, required, extra_key in cases:
        kind = str(ours.get("type") or "slash_command")
        assert_subset(ours, theirs, kind, KNOWN_EXTRA.get(extra_key or ""))
        assert required <= set(ours), f"{kind}: missing {sorted(required - set(ours))}"
        for key in ("user", "team", "container", "channel", "message", "view"):
            if key in ours and isinstance(ours[key], dict):
                assert_nested_subset(ours[key], theirs[key], f"{kind}.{key}")
        for action in ours.get("actions", []):
            assert_nested_subset(action, theirs["actions"][0], f"{kind}.actions[]")

    assert submission["view"]["state"]["values"] == {
        "summary": {"text": {"type": "plain_text_input", "value": "db down"}}
    }
    assert select["actions"][0]["selected_option"]["value"] == "high"
    assert click_view["view"]["state"]["values"]["summary"]["text"]["value"] == "typing"


async def test_event_envelopes_match_slacks(
    double: SlackDouble, client: AsyncWebClient, capture: tuple[Capture, SlackSender], reference: Path
) -> None:
    cap, sender = capture
    alice = sender.person(double.add_user("alice"))
    await client.views_publish(user_id=alice.id, view={"type": "home", "blocks": BUTTON_BLOCKS[:1]})

    await alice.open_home()
    home = cap.last()
    await sender.app_uninstalled()
    uninstalled = cap.last()
    await sender.tokens_revoked()
    revoked = cap.last()

    for ours, name in ((home, "AppHomeOpened"), (uninstalled, "AppUninstalled"), (revoked, "TokensRevoked")):
        theirs = load_reference(reference, f"events/{name}Payload.json")
        assert_subset(ours, theirs, name)
        required = {
            "token",
            "team_id",
            "api_app_id",
            "event",
            "type",
            "event_id",
            "event_time",
            "authorizations",
        }
        assert required <= set(ours), name
        assert ours["event"]["type"] == theirs["event"]["type"]
        assert_nested_subset(ours["event"], theirs["event"], f"{name}.event")
        assert_nested_subset(ours["authorizations"], theirs["authorizations"], f"{name}.authorizations")


async def test_api_responses_match_slacks(
    double: SlackDouble, client: AsyncWebClient, reference: Path
) -> None:
    alice = double.add_user("alice")
    channel = double.add_channel("ops", members=[alice])
    public = double.add_channel("support", bot_member=False)
    group = double.add_usergroup("oncall", [alice])
    ts = (await client.chat_postMessage(channel=channel, text="x"))["ts"]
    opened = await client.views_open(trigger_id=double.issue_trigger_id(alice), view=MODAL)
    upload = await client.files_getUploadURLExternal(filename="a.txt", length=1)

    responses: dict[str, Any] = {
        "auth.test": await client.auth_test(),
        "team.info": await client.team_info(),
        "users.info": await client.users_info(user=alice),
        "conversations.info": await client.conversations_info(channel=channel),
        "conversations.join": await client.conversations_join(channel=public),
        "chat.postEphemeral": await client.chat_postEphemeral(channel=channel, user=alice, text="e"),
        "chat.getPermalink": await client.chat_getPermalink(channel=channel, message_ts=ts),
        "reactions.add": await client.reactions_add(channel=channel, timestamp=ts, name="eyes"),
        "usergroups.users.list": await client.usergroups_users_list(usergroup=group),
        "views.open": opened,
        "views.push": await client.views_push(trigger_id=double.issue_trigger_id(alice), view=MODAL),
        "views.update": await client.views_update(view_id=opened["view"]["id"], view=MODAL),
        "views.publish": await client.views_publish(
            user_id=alice, view={"type": "home", "blocks": BUTTON_BLOCKS[:1]}
        ),
        "files.getUploadURLExternal": upload,
        "chat.delete": await client.chat_delete(channel=channel, ts=ts),
    }
    async with aiohttp.ClientSession() as session:
        await session.post(upload["upload_url"], data=b"x")
    responses["files.completeUploadExternal"] = await client.files_completeUploadExternal(
        files=[{"id": upload["file_id"], "title": "A"}], channel_id=channel
    )

    for method, response in responses.items():
        theirs = load_reference(reference, f"api-responses/{method}.json")
        assert response["ok"] is True
        assert_nested_subset(response.data, theirs, method)


def test_openapi_knows_every_method_the_double_implements(double: SlackDouble, reference: Path) -> None:
    spec = load_reference(reference, "openapi/slack_web_openapi_v2.json")
    # The spec is from 2020: the upload flow and Socket Mode (2021) came later.
    newer_than_the_spec = {
        "files.getUploadURLExternal",
        "files.completeUploadExternal",
        "apps.connections.open",
    }
    missing = {m for m in double.api.handlers if f"/{m}" not in spec["paths"]} - newer_than_the_spec
    assert not missing


async def test_openapi_required_arguments_are_required(
    double: SlackDouble, client: AsyncWebClient, reference: Path
) -> None:
    spec = load_reference(reference, "openapi/slack_web_openapi_v2.json")
    alice = double.add_user("alice")
    channel = double.add_channel("ops", members=[alice])
    group = double.add_usergroup("oncall", [alice])
    home = {"type": "home", "blocks": BUTTON_BLOCKS[:1]}

    def ts() -> str:
        return double.api.chat_post_message({"channel": channel, "text": "x"})["ts"]

    valid: dict[str, Callable[[], dict[str, Any]]] = {
        "chat.postMessage": lambda: {"channel": channel, "text": "x"},
        "chat.update": lambda: {"channel": channel, "ts": ts(), "text": "y"},
        "chat.postEphemeral": lambda: {"channel": channel, "user": alice, "text": "x"},
        "chat.getPermalink": lambda: {"channel": channel, "message_ts": ts()},
        "views.open": lambda: {"trigger_id": double.issue_trigger_id(alice), "view": MODAL},
        "views.publish": lambda: {"user_id": alice, "view": home},
        "reactions.add": lambda: {"channel": channel, "timestamp": ts(), "name": "eyes"},
        "usergroups.users.list": lambda: {"usergroup": group},
    }
    for method, make_args in valid.items():
        operation = next(iter(spec["paths"][f"/{method}"].values()))
        required = [p["name"] for p in operation["parameters"] if p.get("required") and p["name"] != "token"]
        assert required, method
        assert (await client.api_call(method, json=make_args()))["ok"] is True
        for name in required:
            args = {k: v for k, v in make_args().items() if k != name}
            with pytest.raises(SlackApiError, match="'ok': False"):
                await client.api_call(method, json=args)
