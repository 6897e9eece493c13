"""The double's Socket Mode: URLs from apps.connections.open, hello, envelopes, acks, disconnects, reconnects."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator, Callable
from typing import Any

import aiohttp
import pytest
from slack_sdk.errors import SlackApiError
from slack_sdk.socket_mode.aiohttp import SocketModeClient
from slack_sdk.socket_mode.async_client import AsyncBaseSocketModeClient
from slack_sdk.socket_mode.request import SocketModeRequest
from slack_sdk.socket_mode.response import SocketModeResponse
from slack_sdk.web.async_client import AsyncWebClient

from slack_double import SlackDouble, SlackSender

Acker = Callable[[dict[str, Any]], dict[str, Any] | None]


class RawApp:
    """An app speaking Socket Mode by hand over aiohttp, to see every frame the double sends."""

    def __init__(self, double: SlackDouble, session: aiohttp.ClientSession) -> None:
        self.double = double
        self.session = session
        self.received: list[dict[str, Any]] = []
        self.links: list[aiohttp.ClientWebSocketResponse] = []
        self.ack: Acker | None = lambda envelope: {"envelope_id": envelope["envelope_id"]}
        self._readers: list[asyncio.Task[None]] = []

    async def url(self) -> str:
        client = AsyncWebClient(base_url=self.double.api_url, retry_handlers=[])
        return str((await client.apps_connections_open(app_token=self.double.app_token))["url"])

    async def connect(self, url: str | None = None) -> aiohttp.ClientWebSocketResponse:
        ws = await self.session.ws_connect(url or await self.url())
        hello = await ws.receive_json()
        self.received.append(hello)
        self.links.append(ws)
        self._readers.append(asyncio.create_task(self._read(ws)))
        return ws

    async def _read(self, ws: aiohttp.ClientWebSocketResponse) -> None:
        async for message in ws:
            if message.type != aiohttp.WSMsgType.TEXT:
                continue
            frame = json.loads(message.data)
            self.received.append(frame)
            if "envelope_id" in frame and self.ack is not None:
                ack = self.ack(frame)
                if ack is not None:
                    await ws.send_json(ack)

    def frames(self, kind: str) -> list[dict[str, Any]]:
        return [f for f in self.received if f.get("type") == kind]

    async def close(self) -> None:
        for ws in self.links:
            await ws.close()
        for task in self._readers:
            task.cancel()
        await asyncio.gather(*self._readers, return_exceptions=True)


@pytest.fixture
async def raw_app(double: SlackDouble) -> AsyncIterator[RawApp]:
    async with aiohttp.ClientSession() as session:
        app = RawApp(double, session)
        yield app
        await app.close()


@pytest.fixture
async def sender(double: SlackDouble) -> AsyncIterator[SlackSender]:
    async with SlackSender("http://unused", "unused-secret", double, ack_timeout=3, transport="socket") as s:
        yield s


async def test_apps_connections_open_takes_the_app_level_token_only(
    double: SlackDouble, client: AsyncWebClient
) -> None:
    with pytest.raises(SlackApiError) as bot_token:
        await client.apps_connections_open(app_token=double.bot_token)
    assert bot_token.value.response["error"] == "not_allowed_token_type"
    with pytest.raises(SlackApiError) as made_up:
        await client.apps_connections_open(app_token="xapp-1-A0MEND-1-made-up")
    assert made_up.value.response["error"] == "invalid_auth"
    opened = await client.apps_connections_open(app_token=double.app_token)
    assert opened["ok"] is True
    assert opened["url"].startswith(double.url.replace("http://", "ws://") + "link/?ticket=")
    # ... and the app-level token does no bot work.
    with pytest.raises(SlackApiError) as wrong_kind:
        await AsyncWebClient(token=double.app_token, base_url=double.api_url).auth_test()
    assert wrong_kind.value.response["error"] == "not_allowed_token_type"


async def test_a_url_opens_one_link_which_says_hello(double: SlackDouble, raw_app: RawApp) -> None:
    url = await raw_app.url()
    await raw_app.connect(url)
    [hello] = raw_app.frames("hello")
    assert hello["num_connections"] == 1 and hello["connection_info"] == {"app_id": double.app_id}
    assert set(hello["debug_info"]) == {"host", "build_number", "approximate_connection_time"}
    with pytest.raises(aiohttp.WSServerHandshakeError) as refused:
        await raw_app.connect(url)  # the ticket was used
    assert refused.value.status == 401
    assert len(double.socket_mode.links) == 1 and len(double.socket_mode.refused_tickets) == 1


async def test_each_kind_of_request_comes_in_its_envelope(
    double: SlackDouble, raw_app: RawApp, sender: SlackSender
) -> None:
    alice = double.add_user("alice")
    await raw_app.connect()
    person = sender.person(alice)
    await person.slash_command("/recover", "cake crushed")
    await sender.send_event({"type": "app_mention", "user": alice, "text": "hi"}, event_id="Ev0SHAPE1")
    await sender.send_event({"type": "app_mention", "user": alice}, event_id="Ev0SHAPE1", retry_num=1)
    await sender.post_interaction({"type": "block_actions", "user": {"id": alice}, "actions": []})
    await sender.post_interaction({"type": "view_submission", "user": {"id": alice}, "view": {}})
    command, event, retry, click, submission = [f for f in raw_app.received if "envelope_id" in f]

    assert set(command) == {"envelope_id", "payload", "type", "accepts_response_payload"}
    assert (command["type"], command["accepts_response_payload"]) == ("slash_commands", True)
    # The same fields as the HTTP form, as a JSON object of strings.
    assert command["payload"]["command"] == "/recover" and command["payload"]["text"] == "cake crushed"
    assert command["payload"]["user_id"] == alice and command["payload"]["trigger_id"]
    assert command["payload"]["response_url"].startswith(double.url + "response/")

    assert (event["type"], event["accepts_response_payload"]) == ("events_api", False)
    assert (event["retry_attempt"], event["retry_reason"]) == (0, "")
    assert event["payload"]["type"] == "event_callback" and event["payload"]["event_id"] == "Ev0SHAPE1"
    assert (retry["retry_attempt"], retry["retry_reason"]) == (1, "http_timeout")

    assert (click["type"], click["accepts_response_payload"]) == ("interactive", False)
    assert (submission["type"], submission["accepts_response_payload"]) == ("interactive", True)
    assert "retry_attempt" not in click
    ids = [e.envelope_id for e in double.socket_mode.envelopes]
    assert len(set(ids)) == 5 and all(e.acked for e in double.socket_mode.envelopes)


async def test_the_ack_payload_is_the_response(
    double: SlackDouble, raw_app: RawApp, sender: SlackSender
) -> None:
    alice = double.add_user("alice")
    raw_app.ack = lambda e: {"envelope_id": e["envelope_id"], "payload": {"text": "Working on it"}}
    await raw_app.connect()
    response = await sender.person(alice).slash_command("/recover", "")
    assert (response.status, response.body, response.transport) == (200, {"text": "Working on it"}, "socket")
    assert response.envelope_id == double.socket_mode.envelopes[0].envelope_id
    # As over HTTP, acked text is what the person sees, only to them.
    [shown] = double.ephemerals(user_id=alice)
    assert shown.text == "Working on it"


async def test_no_ack_is_a_timeout_and_a_late_ack_is_stray(
    double: SlackDouble, raw_app: RawApp, sender: SlackSender
) -> None:
    raw_app.ack = None
    ws = await raw_app.connect()
    sender.ack_timeout = 0.2
    response = await sender.send_envelope("events_api", {"type": "event_callback"})
    assert (response.status, response.timed_out) == (0, True)
    [envelope] = double.socket_mode.envelopes
    assert not envelope.acked
    await ws.send_json({"envelope_id": envelope.envelope_id})
    await ws.send_str("not json")
    await double.wait_for(lambda: len(double.socket_mode.stray_acks) == 2)
    assert not envelope.acked


async def test_without_any_link_a_request_waits_for_one(double: SlackDouble, raw_app: RawApp) -> None:
    nobody = await double.socket_mode.deliver("events_api", {}, within=0.1)
    assert nobody.timed_out and nobody.envelope is None
    waiting = asyncio.create_task(
        double.socket_mode.deliver("events_api", {"type": "event_callback"}, within=5)
    )
    await raw_app.connect()
    delivered = await waiting
    assert not delivered.timed_out and delivered.envelope is not None and delivered.envelope.link_id == "L1"


async def test_an_ack_counts_on_any_of_the_apps_links(double: SlackDouble, raw_app: RawApp) -> None:
    raw_app.ack = None
    first = await raw_app.connect()
    second = await raw_app.connect()
    await double.socket_mode.disconnect("warning", link=double.socket_mode.links[1])  # only L1 gets it
    waiting = asyncio.create_task(double.socket_mode.deliver("events_api", {"type": "event_callback"}))
    envelope = await double.wait_for(lambda: next(iter(double.socket_mode.envelopes), None))
    assert envelope.link_id == "L1"
    await second.send_json({"envelope_id": envelope.envelope_id})  # slack_sdk does this after a reconnect
    delivered = await waiting
    assert not delivered.timed_out and envelope.acked_on == "L2"
    assert first is not second


async def test_slack_sdk_reconnects_on_disconnect_and_nothing_is_lost(double: SlackDouble) -> None:
    handled: list[str] = []

    async def on_request(client: AsyncBaseSocketModeClient, request: SocketModeRequest) -> None:
        handled.append(request.payload["event_id"])
        await client.send_socket_mode_response(SocketModeResponse(envelope_id=request.envelope_id))

    web_client = AsyncWebClient(base_url=double.api_url, retry_handlers=[])
    client = SocketModeClient(app_token=double.app_token, web_client=web_client, ping_interval=1)
    client.socket_mode_request_listeners.append(on_request)  # type: ignore[arg-type]
    try:
        await client.connect()
        [old] = double.socket_mode.links
        await double.socket_mode.disconnect("refresh_requested")
        results = await asyncio.gather(
            *(
                double.socket_mode.deliver("events_api", {"type": "event_callback", "event_id": f"Ev{n}"})
                for n in range(5)
            )
        )
        assert [r.timed_out for r in results] == [False] * 5
        assert sorted(handled) == [f"Ev{n}" for n in range(5)]
        new = await double.socket_mode.wait_for_links(opened=2)
        assert {r.envelope.link_id for r in results if r.envelope} == {new.id}
        await double.wait_for(lambda: old.closed)  # closed by the client, not by the double's grace timer
        assert old.sent == [] and double.socket_mode.disconnects == [("L1", "refresh_requested")]
    finally:
        await client.close()


async def test_a_link_told_to_go_is_closed_after_the_grace(double: SlackDouble, raw_app: RawApp) -> None:
    ws = await raw_app.connect()
    await double.socket_mode.disconnect("warning", close_after=0.05)
    disconnect = await ws.receive_json()
    assert set(disconnect) == {"type", "reason", "debug_info"}
    assert (disconnect["type"], disconnect["reason"]) == ("disconnect", "warning")
    closing = await ws.receive()
    assert closing.type in (aiohttp.WSMsgType.CLOSE, aiohttp.WSMsgType.CLOSED, aiohttp.WSMsgType.CLOSING)
    await double.wait_for(lambda: double.socket_mode.links[0].closed)


async def test_link_disabled_closes_at_once(double: SlackDouble, raw_app: RawApp) -> None:
    raw_app.ack = None
    await raw_app.connect()
    await double.socket_mode.disconnect("link_disabled")
    await double.wait_for(lambda: double.socket_mode.links[0].closed)
    assert raw_app.frames("disconnect")[0]["reason"] == "link_disabled"


async def test_http_only_arguments_are_refused_over_socket_mode(
    double: SlackDouble, sender: SlackSender
) -> None:
    alice = double.add_user("alice")
    with pytest.raises(TypeError, match="signature"):
        await sender.person(alice).slash_command("/recover", "", signature="forged")
    with pytest.raises(TypeError, match="headers"):
        await sender.send_event({"type": "app_mention"}, headers={"X-Slack-Retry-Num": "1"})


async def test_a_held_method_answers_once_released(double: SlackDouble, client: AsyncWebClient) -> None:
    gate = double.hold("auth.test")
    call = asyncio.ensure_future(client.auth_test())
    with pytest.raises(TimeoutError):
        await asyncio.wait_for(asyncio.shield(call), 0.2)
    assert double.calls_to("auth.test") == []
    gate.set()
    assert (await call)["ok"] is True
