"""The sender signs like Slack: a verifier built on slack_sdk's SignatureVerifier accepts it, and only it."""

from __future__ import annotations

import json
import time
from collections.abc import AsyncIterator
from typing import Any
from urllib.parse import parse_qs

import pytest
from aiohttp import web
from slack_sdk.signature import SignatureVerifier

from slack_double import SlackDouble, SlackSender

SECRET = "s3cret"


class Receiver:
    """A tiny app that verifies signatures as Bolt does and keeps what it received."""

    def __init__(self) -> None:
        self.verifier = SignatureVerifier(SECRET)
        self.received: list[tuple[dict[str, str], bytes]] = []

    async def handle(self, request: web.Request) -> web.Response:
        body = await request.read()
        if not self.verifier.is_valid_request(body, dict(request.headers)):
            return web.Response(status=401, text="invalid signature")
        self.received.append((dict(request.headers), body))
        if request.content_type == "application/json" and json.loads(body).get("type") == "url_verification":
            return web.json_response({"challenge": json.loads(body)["challenge"]})
        return web.json_response({"text": "ack"})


@pytest.fixture
async def receiver_url() -> AsyncIterator[tuple[Receiver, str]]:
    receiver = Receiver()
    app = web.Application()
    app.router.add_post("/slack/events", receiver.handle)
    runner = web.AppRunner(app)
    await runner.setup()
    await web.TCPSite(runner, "127.0.0.1", 0).start()
    yield receiver, f"http://127.0.0.1:{runner.addresses[0][1]}/slack/events"
    await runner.cleanup()


@pytest.fixture
async def sender(double: SlackDouble, receiver_url: tuple[Receiver, str]) -> AsyncIterator[SlackSender]:
    async with SlackSender(receiver_url[1], SECRET, double) as running:
        yield running


def test_signature_matches_slacks_documented_example(double: SlackDouble) -> None:
    # The worked example from Slack's "Verifying requests from Slack" guide.
    sender = SlackSender("http://unused", "8f742231b10e8888abcd99yyyzzz85a5", double)
    body = (
        b"token=xyzz0WbapA4vBCDEFasx0q6G&team_id=T1DC2JH3J&team_domain=testteamnow&channel_id=G8PSS9T3V"
        b"&channel_name=foobar&user_id=U2CERLKJA&user_name=roadrunner&command=%2Fwebhook-collect&text="
        b"&response_url=https%3A%2F%2Fhooks.slack.com%2Fcommands%2FT1DC2JH3J%2F397700885554%2F96rGlfmibIGlgcZRskXaIFfN"
        b"&trigger_id=398738663015.47445629121.803a0bc887a14d10d2c447fce8b6703c"
    )
    assert (
        sender.sign(body, 1531420618) == "v0=a2114d57b48eac39b9ad189dd8316235a7b4a8d21a10bd27519666489c69b503"
    )


async def test_valid_requests_pass_forged_stale_and_unsigned_fail(
    double: SlackDouble, sender: SlackSender, receiver_url: tuple[Receiver, str]
) -> None:
    receiver, _ = receiver_url
    alice = sender.person(double.add_user("alice"))

    ok = await alice.slash_command("/recover", "db down")
    forged = await alice.slash_command("/recover", "x", signature="forged")
    stale = await alice.slash_command("/recover", "x", timestamp=int(time.time()) - 6 * 60)
    unsigned = await alice.slash_command("/recover", "x", signature="missing")

    assert (ok.status, forged.status, stale.status, unsigned.status) == (200, 401, 401, 401)
    [(headers, body)] = receiver.received
    form = {k: v[0] for k, v in parse_qs(body.decode(), keep_blank_values=True).items()}
    assert headers["Content-Type"] == "application/x-www-form-urlencoded"
    assert (form["command"], form["text"], form["user_id"]) == ("/recover", "db down", alice.id)
    assert form["trigger_id"] in double.workspace.triggers
    assert form["response_url"].startswith(double.url + "response/")


async def test_events_are_json_envelopes_with_retry_headers(
    double: SlackDouble, sender: SlackSender, receiver_url: tuple[Receiver, str]
) -> None:
    receiver, _ = receiver_url

    await sender.app_uninstalled(retry_num=2, retry_reason="http_timeout", event_id="Ev0DUP")

    [(headers, body)] = receiver.received
    envelope: dict[str, Any] = json.loads(body)
    assert (headers["X-Slack-Retry-Num"], headers["X-Slack-Retry-Reason"]) == ("2", "http_timeout")
    assert envelope["type"] == "event_callback" and envelope["event"] == {"type": "app_uninstalled"}
    assert (envelope["event_id"], envelope["team_id"], envelope["api_app_id"]) == (
        "Ev0DUP",
        "T0MEND",
        "A0MEND",
    )
    challenge = await sender.url_verification("abc")
    assert challenge.json == {"challenge": "abc"}


async def test_interactions_are_form_encoded_payload_json(
    double: SlackDouble, sender: SlackSender, receiver_url: tuple[Receiver, str]
) -> None:
    receiver, _ = receiver_url
    alice = double.add_user("alice")
    channel = double.add_channel("ops", members=[alice])
    message = double.api.bot_message(
        "x",
        double.api.with_ids([{"type": "section", "text": {"type": "mrkdwn", "text": "x"}}]),
        double.ids.ts(),
    )
    double.api.add_message(double.channel(channel), message, None)

    await sender.person(alice).message_shortcut("open_case", channel, message["ts"])

    [(_, body)] = receiver.received
    payload = json.loads(parse_qs(body.decode())["payload"][0])
    assert (payload["type"], payload["callback_id"], payload["message_ts"]) == (
        "message_action",
        "open_case",
        message["ts"],
    )


async def test_slow_acks_are_reported_as_timeouts(double: SlackDouble) -> None:
    import asyncio

    async def slow(request: web.Request) -> web.Response:
        await asyncio.sleep(0.5)
        return web.Response()

    app = web.Application()
    app.router.add_post("/slack/events", slow)
    runner = web.AppRunner(app, shutdown_timeout=0.1)
    await runner.setup()
    await web.TCPSite(runner, "127.0.0.1", 0).start()
    url = f"http://127.0.0.1:{runner.addresses[0][1]}/slack/events"
    async with SlackSender(url, SECRET, double, ack_timeout=0.1) as impatient:
        response = await impatient.person(double.add_user("alice")).slash_command("/recover")
    await runner.cleanup()
    assert response.timed_out and response.status == 0
