"""The HTTP surface: Slack's Request URL and a health check, on one aiohttp application."""

from __future__ import annotations

import logging
import re
from collections.abc import Awaitable, Callable, Mapping

from aiohttp import web
from slack_bolt.adapter.aiohttp import to_aiohttp_response
from slack_bolt.async_app import AsyncApp
from slack_bolt.request.async_request import AsyncBoltRequest
from slack_bolt.response import BoltResponse
from slack_sdk.signature import SignatureVerifier

from handlers.payloads import bolt_can_read

log = logging.getLogger(__name__)

SLACK_EVENTS_PATH = "/slack/events"
HEALTH_PATH = "/healthz"
# Slack's payloads are small; a modal full of 3000-character fields is well under this.
MAX_BODY_BYTES = 1024 * 1024
# What parsing a payload that is not JSON, or not Slack's shape, raises inside Bolt.
UNREADABLE = (ValueError, RecursionError, TypeError, KeyError, IndexError, AttributeError)
# Slack's timestamps are Unix seconds; anything else (`now`, `1e9`, `-1`, 20 digits) is not Slack's.
_TIMESTAMP = re.compile(r"[0-9]{1,12}")


def is_signed_by_slack(verifier: SignatureVerifier, raw: bytes, headers: Mapping[str, str]) -> bool:
    """Whether Slack signed this request, without ever raising: slack_sdk's verifier calls `int()` on the
    timestamp header, and an exception there used to hand the unverified body to Bolt's error path."""
    timestamp = headers.get("X-Slack-Request-Timestamp", "")
    signature = headers.get("X-Slack-Signature", "")
    if not _TIMESTAMP.fullmatch(timestamp) or not signature.startswith("v0=") or len(signature) > 100:
        return False
    try:
        return verifier.is_valid(body=raw, timestamp=timestamp, signature=signature)
    except (ValueError, TypeError, OverflowError):
        return False


async def dispatch_if_readable(bolt: AsyncApp, make_request: Callable[[], AsyncBoltRequest]) -> BoltResponse:
    """Hand Bolt an authenticated Slack request, whichever transport brought it, if Bolt can read it.

    A payload not shaped like Slack's would crash Bolt before any error handler: it is acked (200, empty)
    and nothing runs, nobody is told (there is nobody to tell). What Bolt reads but nothing handles is
    acked 200 by the error policy.
    """
    try:
        bolt_request: AsyncBoltRequest | None = make_request()
    except UNREADABLE:  # the constructor parses the body and reads ids out of it, unchecked
        bolt_request = None
    if bolt_request is None or not bolt_can_read(bolt_request.body):
        log.info("ignored an authenticated request that is not shaped like a Slack payload")
        return BoltResponse(status=200, body="")
    return await bolt.async_dispatch(bolt_request)


def build_web_app(
    bolt: AsyncApp, check_database: Callable[[], Awaitable[None]], signing_secret: str
) -> web.Application:
    verifier = SignatureVerifier(signing_secret)

    async def slack_events(request: web.Request) -> web.Response:
        raw = await request.read()
        # Verify before anything reads the body: an unverified request gets a bare 401 and nothing else
        # (no listener, no error policy, no log of its content).
        if not is_signed_by_slack(verifier, raw, request.headers):
            log.debug("rejected a request without a valid Slack signature (%d bytes)", len(raw))
            return web.Response(status=401, text="")
        try:
            text = raw.decode("utf-8")
        except UnicodeDecodeError:
            return web.Response(status=400, text="Request body is not UTF-8.")
        bolt_response = await dispatch_if_readable(
            bolt,
            lambda: AsyncBoltRequest(
                body=text,
                query=request.query_string,
                headers=request.headers,  # type: ignore[arg-type]
            ),
        )
        return await to_aiohttp_response(bolt_response)

    async def healthz(_request: web.Request) -> web.Response:
        try:
            await check_database()
        except Exception:
            log.warning("health check: database unreachable", exc_info=True)
            return web.json_response({"ok": False, "database": "unreachable"}, status=503)
        return web.json_response({"ok": True, "database": "ok"})

    app = web.Application(client_max_size=MAX_BODY_BYTES)
    app.router.add_post(SLACK_EVENTS_PATH, slack_events)
    app.router.add_get(HEALTH_PATH, healthz)
    return app
