"""The sandbox's HTTP surface: the page at /sandbox and the JSON API it drives Mend through.

Every action on the page becomes what Slack itself would send (a signed slash command, block_actions,
view_submission, message_action or event, to Mend's own /slack/events), through the double's `Person`.
The API then waits for Mend's background work, so the answer already shows the result.
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import logging
from collections.abc import Awaitable, Callable
from datetime import timedelta
from pathlib import Path
from typing import Any

from aiohttp import web

from sandbox.manifest import AppManifest
from sandbox.world import Sandbox
from slack_double import AppResponse, ElementNotFound, Person
from slack_double.state import Json

log = logging.getLogger(__name__)

STATIC_DIR = Path(__file__).with_name("static")
PAGE_PATH = "/sandbox"
API_PATH = "/sandbox/api"
MAX_TIME_TRAVEL = timedelta(days=90)
SURFACES = ("message", "ephemeral", "modal", "home")
# A strict policy for the page: everything comes from this server, nothing from the network.
CONTENT_SECURITY_POLICY = (
    "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "connect-src 'self'; font-src 'self'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'"
)


class BadRequest(Exception):
    pass


def _field(body: Json, key: str, *, required: bool = True) -> str | None:
    value = body.get(key)
    if value is None or value == "":
        if required:
            raise BadRequest(f"{key} is required")
        return None
    if not isinstance(value, str):
        raise BadRequest(f"{key} must be a string")
    return value


def _ack_problem(what: str, response: AppResponse | None) -> str | None:
    """What Slack would show when the app's ack is missing or wrong."""
    if response is None or (response.status == 200 and not response.timed_out):
        return None
    code = "operation_timeout" if response.timed_out else "dispatch_failed"
    return f'{what} failed with the error "{code}"'


class SandboxApi:
    """The endpoints the page calls; `as` names the persona acting (a Slack user id)."""

    def __init__(self, sandbox: Sandbox, manifest: AppManifest) -> None:
        self.sandbox = sandbox
        self.manifest = manifest
        # One action at a time, as one person at one keyboard would: results never interleave.
        self._lock = asyncio.Lock()
        # view_id -> {block_id: message}: what Mend answered the last submission of that modal with.
        self._field_errors: dict[str, dict[str, str]] = {}

    def add_routes(self, app: web.Application) -> None:
        router = app.router
        router.add_get("/", self.redirect_to_page)
        router.add_get(PAGE_PATH, self.page)
        router.add_get(PAGE_PATH + "/", self.page)
        router.add_static(PAGE_PATH + "/static", STATIC_DIR)
        router.add_get(API_PATH + "/state", self.get_state)
        for name, handler in (
            ("persona", self.switch_persona),
            ("message", self.post_message),
            ("command", self.run_command),
            ("shortcut", self.run_shortcut),
            ("click", self.click),
            ("submit", self.submit_view),
            ("close", self.close_view),
            ("home", self.open_home),
            ("clock/advance", self.advance_clock),
            ("clock/next-due", self.next_due),
        ):
            router.add_post(f"{API_PATH}/{name}", self._guarded(handler))

    # ---- the page ------------------------------------------------------------------------------

    async def redirect_to_page(self, _request: web.Request) -> web.StreamResponse:
        raise web.HTTPFound(PAGE_PATH)

    async def page(self, _request: web.Request) -> web.StreamResponse:
        return web.FileResponse(
            STATIC_DIR / "index.html",
            headers={"Cache-Control": "no-cache", "Content-Security-Policy": CONTENT_SECURITY_POLICY},
        )

    # ---- state ---------------------------------------------------------------------------------

    async def get_state(self, request: web.Request) -> web.StreamResponse:
        try:
            user_id = self._user(request.query.get("as"))
        except BadRequest as exc:
            return web.json_response({"ok": False, "error": str(exc)}, status=400)
        state = self.state(user_id)
        etag = f'"{state["version"]}"'
        if request.headers.get("If-None-Match") == etag:
            return web.Response(status=304, headers={"ETag": etag})
        return web.json_response(state, headers={"ETag": etag, "Cache-Control": "no-cache"})

    def state(self, user_id: str) -> Json:
        """Everything `user_id` can see in the workspace, in Slack's own shapes (blocks as Mend sent them)."""
        double = self.sandbox.double
        ws = double.workspace
        channels: list[Json] = []
        for channel in ws.channels.values():
            if user_id not in channel.members or (channel.is_im and channel.im_user != user_id):
                continue
            channels.append(
                {
                    "id": channel.id,
                    "name": self.manifest.name if channel.is_im else channel.name,
                    "is_im": channel.is_im,
                    "is_private": channel.is_private,
                    "purpose": channel.purpose,
                    "messages": [
                        {
                            **_message(m),
                            "replies": [_message(r) for r in ws.thread(channel.id, m["ts"])[1:]],
                        }
                        for m in ws.top_level(channel.id)
                    ],
                }
            )
        stack = double.open_views(user_id)
        modal: Json | None = None
        if stack:
            top = stack[-1]
            modal = {**top, "errors": self._field_errors.get(top["id"], {}), "depth": len(stack)}
        state: Json = {
            "me": user_id,
            "team": {"id": ws.team_id, "name": ws.team_name, "domain": ws.team_domain},
            "bot_user_id": ws.bot_user_id,
            "app": self.manifest.to_json(),
            "personas": [p.__dict__ for p in self.sandbox.personas],
            "users": {
                u.id: {"id": u.id, "name": u.name, "real_name": u.real_name, "is_bot": u.is_bot}
                for u in ws.users.values()
                if not u.deleted
            },
            "channels": channels,
            "support_channel": self.sandbox.support_channel,
            "recovery_channel": self.sandbox.recovery_channel,
            "ephemerals": [
                {
                    "channel": e.channel,
                    "ts": e.ts,
                    "text": e.text,
                    "blocks": e.blocks,
                    "thread_ts": e.thread_ts,
                    "user": ws.bot_user_id,
                }
                for e in double.ephemerals(user_id=user_id)
            ],
            "modal": modal,
            "home": double.home_tab(user_id),
            # How far the clock has travelled since the sandbox started (seed history is before that).
            "clock": {
                "offset_seconds": (self.sandbox.clock.offset - self.sandbox.start_offset).total_seconds()
            },
        }
        # The version covers everything but the ticking time, so an unchanged workspace polls as 304.
        state["version"] = hashlib.sha1(
            json.dumps(state, sort_keys=True, default=str).encode(), usedforsecurity=False
        ).hexdigest()[:16]
        state["clock"]["now"] = self.sandbox.clock.now().isoformat()
        return state

    # ---- actions -------------------------------------------------------------------------------

    def _guarded(
        self, handler: Callable[[str, Json], Awaitable[str | None]]
    ) -> Callable[[web.Request], Awaitable[web.StreamResponse]]:
        """Parse the JSON body, run one action under the lock, let Mend settle, answer with the new state."""

        async def handle(request: web.Request) -> web.StreamResponse:
            # JSON only: a cross-site form post can't send it without a CORS preflight, which this refuses.
            if request.content_type != "application/json":
                return web.json_response({"ok": False, "error": "send application/json"}, status=415)
            try:
                body = await request.json()
                if not isinstance(body, dict):
                    raise BadRequest("the body must be a JSON object")
                user_id = self._user(body.get("as"))
                async with self._lock:
                    try:
                        notice = await handler(user_id, body)
                    except ElementNotFound:
                        notice = "That is no longer there: the message or form has changed."
                    except ValueError as exc:  # what the Slack client itself would refuse to send
                        notice = str(exc)
                    settled = await self.sandbox.settle()
            except BadRequest as exc:
                return web.json_response({"ok": False, "error": str(exc)}, status=400)
            except json.JSONDecodeError:
                return web.json_response({"ok": False, "error": "the body is not JSON"}, status=400)
            if not settled:
                notice = notice or "Mend is still working on that; the page will catch up."
            return web.json_response({"ok": notice is None, "notice": notice, "state": self.state(user_id)})

        return handle

    def _user(self, raw: Any) -> str:
        if raw is None or raw == "":
            return self.sandbox.default_persona
        user = self.sandbox.double.workspace.users.get(str(raw))
        if user is None or user.is_bot or user.deleted:
            raise BadRequest(f"no person {raw!r} in the sandbox")
        return user.id

    def _person(self, user_id: str) -> Person:
        return self.sandbox.person(user_id)

    def _channel(self, user_id: str, body: Json) -> str:
        channel_id = _field(body, "channel")
        assert channel_id is not None
        channel = self.sandbox.double.workspace.channels.get(channel_id)
        if channel is None or user_id not in channel.members:
            raise BadRequest(f"{user_id} is not in channel {channel_id}")
        return channel_id

    async def switch_persona(self, user_id: str, _body: Json) -> str | None:
        self.sandbox.default_persona = user_id
        return None

    async def post_message(self, user_id: str, body: Json) -> str | None:
        """A message typed in a channel or thread; Mend hears of it only if it subscribed to such messages."""
        channel_id = self._channel(user_id, body)
        text = _field(body, "text") or ""
        thread_ts = _field(body, "thread_ts", required=False)
        channel = self.sandbox.double.channel(channel_id)
        if channel.is_im and self.manifest.messages_tab_read_only:
            return "Sending messages to this app has been turned off."
        if self.manifest.subscribes_to_messages_in(is_im=channel.is_im, is_private=channel.is_private):
            _log_event_answer(
                "message", await self._person(user_id).say(channel_id, text, thread_ts=thread_ts)
            )
            return None
        self.sandbox.double.post_as_user(user_id, channel_id, text, thread_ts=thread_ts)
        return None

    async def run_command(self, user_id: str, body: Json) -> str | None:
        """`/command text` typed in the composer: sent only if the app declares the command, as in Slack."""
        channel_id = self._channel(user_id, body)
        line = (_field(body, "text") or "").strip()
        command, _, text = line.partition(" ")
        if self.manifest.command(command) is None:
            return (
                f"{command} is not a valid command. In Slack, all messages that start with the "
                '"/" character are interpreted as commands.'
            )
        response = await self._person(user_id).slash_command(command, text.strip(), channel_id)
        return _ack_problem(command, response)

    async def run_shortcut(self, user_id: str, body: Json) -> str | None:
        callback_id = _field(body, "callback_id")
        assert callback_id is not None
        shortcut = self.manifest.shortcut(callback_id)
        if shortcut is None:
            raise BadRequest(f"the app has no shortcut {callback_id!r}")
        person = self._person(user_id)
        if shortcut.type == "message":
            channel_id = self._channel(user_id, body)
            ts = _field(body, "ts")
            assert ts is not None
            response = await person.message_shortcut(callback_id, channel_id, ts)
        else:
            response = await person.global_shortcut(callback_id)
        return _ack_problem(shortcut.name, response)

    async def click(self, user_id: str, body: Json) -> str | None:
        """A button, menu or picker the person used, identified as the page rendered it."""
        surface = _field(body, "surface")
        if surface not in SURFACES:
            raise BadRequest(f"surface must be one of {', '.join(SURFACES)}")
        action_id = _field(body, "action_id")
        assert action_id is not None
        values = body.get("values")
        response = await self._person(user_id).click(
            action_id,
            block_id=_field(body, "block_id", required=False),
            surface=surface,  # type: ignore[arg-type]
            channel_id=_field(body, "channel", required=False),
            message_ts=_field(body, "ts", required=False),
            view_id=_field(body, "view_id", required=False),
            choose=body.get("choose"),
            values=values if isinstance(values, dict) else None,
        )
        return _ack_problem("That action", response)

    async def submit_view(self, user_id: str, body: Json) -> str | None:
        view_id = _field(body, "view_id")
        assert view_id is not None
        values = body.get("values")
        response = await self._person(user_id).submit_view(
            values if isinstance(values, dict) else {}, view_id=view_id
        )
        if response.field_errors:
            self._field_errors[view_id] = response.field_errors
        else:
            self._field_errors.pop(view_id, None)
        problem = _ack_problem("Submitting the form", response)
        return "We had some trouble connecting. Try again?" if problem else None

    async def close_view(self, user_id: str, body: Json) -> str | None:
        view_id = _field(body, "view_id")
        response = await self._person(user_id).close_view(view_id=view_id)
        if view_id is not None:
            self._field_errors.pop(view_id, None)
        return _ack_problem("Closing the form", response)

    async def open_home(self, user_id: str, _body: Json) -> str | None:
        """Opening the app's Home tab: Mend hears app_home_opened only if it subscribed to it."""
        if not self.manifest.home_tab or "app_home_opened" not in self.manifest.bot_events:
            return None
        _log_event_answer("app_home_opened", await self._person(user_id).open_home())
        return None

    async def advance_clock(self, _user_id: str, body: Json) -> str | None:
        seconds = body.get("seconds")
        if not isinstance(seconds, int | float) or isinstance(seconds, bool) or seconds <= 0:
            raise BadRequest("seconds must be a positive number")
        delta = timedelta(seconds=seconds)
        if delta > MAX_TIME_TRAVEL:
            raise BadRequest(f"travel at most {MAX_TIME_TRAVEL.days} days at a time")
        await self.sandbox.advance(delta)
        return None

    async def next_due(self, _user_id: str, _body: Json) -> str | None:
        """Jump to the next moment something is due (in its recipient's working hours) and send it."""
        at = await self.sandbox.next_due()
        if at is None:
            return "Nothing is waiting to be sent: no nudge, reminder or escalation is due."
        delta = at - self.sandbox.clock.now()
        if delta > MAX_TIME_TRAVEL:
            return (
                f"The next thing due is more than {MAX_TIME_TRAVEL.days} days away ({at:%d %b %Y %H:%M} UTC)."
            )
        await self.sandbox.advance(max(delta, timedelta(0)))
        return None


def _log_event_answer(event: str, response: AppResponse) -> None:
    """Slack shows people nothing when an event is not acked (it retries instead); the log says it."""
    if response.status != 200 or response.timed_out:
        log.debug(
            "Mend answered the %s event with %s (timed out: %s)", event, response.status, response.timed_out
        )


def _message(message: Json) -> Json:
    keys = (
        "ts",
        "user",
        "text",
        "blocks",
        "thread_ts",
        "reply_count",
        "edited",
        "subtype",
        "bot_id",
        "metadata",
    )
    return {k: message[k] for k in keys if k in message}
