"""Socket Mode: Slack's requests over a WebSocket, guarded and dispatched exactly as those over HTTP are."""

from __future__ import annotations

import json
import logging
from collections.abc import Sequence
from typing import Any

from slack_bolt.async_app import AsyncApp
from slack_bolt.request.async_request import AsyncBoltRequest
from slack_bolt.response import BoltResponse
from slack_sdk.socket_mode.aiohttp import SocketModeClient
from slack_sdk.socket_mode.async_client import AsyncBaseSocketModeClient
from slack_sdk.socket_mode.response import SocketModeResponse

from handlers.web import dispatch_if_readable

log = logging.getLogger(__name__)

# slack_sdk pings the link this often and counts it stale after four missed pongs; Bolt's default.
PING_INTERVAL_SECONDS = 10.0


class SocketModeConnection:
    """Mend's link to Slack in Socket Mode, on slack_sdk's aiohttp client (reconnects and pings included).

    Bolt's own Socket Mode handler dispatches every envelope straight to Bolt; this one sends each through
    `dispatch_if_readable` first, so a malformed payload is acked and ignored as it is over HTTP. The link
    is opened with `apps.connections.open` through Bolt's Web client, so SLACK_API_URL decides where.
    """

    def __init__(
        self, bolt: AsyncApp, app_token: str, *, ping_interval: float = PING_INTERVAL_SECONDS
    ) -> None:
        self._bolt = bolt
        self.client = SocketModeClient(
            app_token=app_token,
            logger=logging.getLogger("mend.socket_mode"),
            web_client=bolt.client,
            ping_interval=ping_interval,
        )
        # A raw message listener, not a request listener: slack_sdk raises on a payload that is not an
        # object before request listeners run, and the envelope would go unacked.
        self.client.message_listeners.append(self._on_message)

    async def connect(self) -> None:
        await self.client.connect()

    async def close(self) -> None:
        """Stop taking envelopes; work already handed to background tasks carries on (Mend.stop drains it)."""
        await self.client.close()

    async def _on_message(
        self, client: AsyncBaseSocketModeClient, message: dict[str, Any], _raw: str | None
    ) -> None:
        envelope_id = message.get("envelope_id")
        if not isinstance(envelope_id, str) or not envelope_id:
            return  # hello and the like; slack_sdk handles disconnect itself
        response = await self.dispatch(message)
        ack = ack_payload(response)
        if ack is None:
            # Over HTTP this is an error status; Slack retries an Events API envelope that is not acked.
            log.info("envelope %s not acked (status %s)", envelope_id, response.status)
            return
        await client.send_socket_mode_response(
            SocketModeResponse(envelope_id=envelope_id, payload=ack or None)
        )

    async def dispatch(self, envelope: dict[str, Any]) -> BoltResponse:
        payload = envelope.get("payload")
        if not isinstance(payload, dict):
            log.info("ignored a Socket Mode envelope whose payload is not an object")
            return BoltResponse(status=200, body="")
        return await dispatch_if_readable(
            self._bolt,
            lambda: AsyncBoltRequest(mode="socket_mode", body=payload, headers=retry_headers(envelope)),
        )


def retry_headers(envelope: dict[str, Any]) -> dict[str, str | Sequence[str]]:
    """The Events API retry headers Slack sends over HTTP, from the envelope's retry fields."""
    headers: dict[str, str | Sequence[str]] = {}
    attempt, reason = envelope.get("retry_attempt"), envelope.get("retry_reason")
    if isinstance(attempt, int) and not isinstance(attempt, bool):
        headers["x-slack-retry-num"] = str(attempt)
    if isinstance(reason, str) and reason:
        headers["x-slack-retry-reason"] = reason
    return headers


def ack_payload(response: BoltResponse) -> dict[str, Any] | None:
    """What to ack an envelope with: the response body as the ack's payload ({} for none), or None for
    no ack at all when Bolt answered with an error status (as Bolt's own Socket Mode adapter does)."""
    if response.status != 200:
        return None
    body = response.body or ""
    if not body:
        return {}
    content_type = (response.headers.get("content-type") or [""])[0]
    if content_type.startswith("application/json"):
        parsed = json.loads(body)
        return parsed if isinstance(parsed, dict) else {"text": body}
    return {"text": body}


async def connect_socket_mode(bolt: AsyncApp, app_token: str) -> SocketModeConnection:
    """Open Mend's Socket Mode link (serve() calls this when SLACK_APP_TOKEN is set)."""
    connection = SocketModeConnection(bolt, app_token)
    await connection.connect()
    return connection
