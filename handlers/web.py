"""The HTTP surface: Slack's Request URL and a health check, on one aiohttp application."""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable

from aiohttp import web
from slack_bolt.adapter.aiohttp import to_aiohttp_response, to_bolt_request
from slack_bolt.async_app import AsyncApp

log = logging.getLogger(__name__)

SLACK_EVENTS_PATH = "/slack/events"
HEALTH_PATH = "/healthz"
# Slack's payloads are small; a modal full of 3000-character fields is well under this.
MAX_BODY_BYTES = 1024 * 1024


def build_web_app(bolt: AsyncApp, check_database: Callable[[], Awaitable[None]]) -> web.Application:
    async def slack_events(request: web.Request) -> web.Response:
        bolt_response = await bolt.async_dispatch(await to_bolt_request(request))
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
