"""The HTTP surface: Slack's Request URL and a health check, on one aiohttp application."""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable

from aiohttp import web
from slack_bolt.adapter.aiohttp import to_aiohttp_response
from slack_bolt.async_app import AsyncApp
from slack_bolt.request.async_request import AsyncBoltRequest
from slack_sdk.signature import SignatureVerifier

from handlers.payloads import bolt_can_read

log = logging.getLogger(__name__)

SLACK_EVENTS_PATH = "/slack/events"
HEALTH_PATH = "/healthz"
# Slack's payloads are small; a modal full of 3000-character fields is well under this.
MAX_BODY_BYTES = 1024 * 1024
# What parsing a payload that is not JSON, or not Slack's shape, raises inside Bolt.
UNREADABLE = (ValueError, RecursionError, TypeError, KeyError, IndexError, AttributeError)


def build_web_app(
    bolt: AsyncApp, check_database: Callable[[], Awaitable[None]], signing_secret: str
) -> web.Application:
    verifier = SignatureVerifier(signing_secret)

    async def slack_events(request: web.Request) -> web.Response:
        raw = await request.read()
        try:
            text = raw.decode("utf-8")
        except UnicodeDecodeError:
            return web.Response(status=400, text="Request body is not UTF-8.")
        try:
            bolt_request: AsyncBoltRequest | None = AsyncBoltRequest(
                body=text,
                query=request.query_string,
                headers=request.headers,  # type: ignore[arg-type]
            )
        except UNREADABLE:  # the constructor parses the body and reads ids out of it, unchecked
            bolt_request = None
        if bolt_request is None or not bolt_can_read(bolt_request.body):
            # Not Slack's shape: Bolt would crash on it before any error handler. Signed or not, nothing
            # runs; a forged one still gets Bolt's 401, a signed one an empty ack (nobody to tell).
            if not verifier.is_valid_request(raw, dict(request.headers)):
                return web.Response(status=401, text="")
            log.info("ignored a signed request that is not shaped like a Slack payload")
            return web.Response(status=200, text="")
        bolt_response = await bolt.async_dispatch(bolt_request)
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
