"""SlackDouble: an aiohttp server that stands in for Slack's Web API, response URLs and file uploads."""

from __future__ import annotations

import asyncio
import copy
import json
from collections import Counter
from collections.abc import Callable
from types import TracebackType
from typing import Any, TypeVar

from aiohttp import web

from slack_double.api import APP_TOKEN_METHODS, REJECTION_ERRORS, ApiError, WebApi, as_bool
from slack_double.blocks import MAX_MESSAGE_TEXT, validate_message_blocks, validate_view
from slack_double.faults import Fault, FaultPlan, PostRateLimiter
from slack_double.socket_mode import LINK_PATH, SocketModeServer
from slack_double.state import (
    Call,
    Channel,
    Clock,
    Ephemeral,
    IdFactory,
    Json,
    ResponseUrl,
    TriggerId,
    User,
    Workspace,
)

T = TypeVar("T")

RESPONSE_URL_MAX_USES = 5
RESPONSE_URL_TTL_SECONDS = 30 * 60


# How long a test waits for the app to do something before calling it missing (see `wait_for`).
WAIT_SECONDS = 15.0

class SlackDouble:
    """A running fake Slack workspace; point slack_sdk at `api_url` and inspect state from tests.

    All state lives on the instance, so any number of doubles can run side by side.
    """

    def __init__(
        self,
        *,
        team_id: str = "T0MEND",
        team_name: str = "Mend Test",
        team_domain: str | None = None,
        bot_token: str = "xoxb-test-token",
        app_token: str = "xapp-1-A0MEND-1-test-app-level-token",
        bot_user_id: str = "U0MENDBOT",
        bot_id: str = "B0MENDBOT",
        bot_name: str = "mend",
        app_id: str = "A0MEND",
        verification_token: str = "legacy-verification-token",
        seed: int | None = None,
    ) -> None:
        self.bot_token = bot_token
        self.verification_token = verification_token
        self.clock = Clock()
        self.ids = IdFactory(self.clock, seed)
        self.workspace = Workspace(
            team_id=team_id,
            team_name=team_name,
            team_domain=team_domain or team_name.lower().replace(" ", "-"),
            bot_user_id=bot_user_id,
            bot_id=bot_id,
            app_id=app_id,
        )
        self.socket_mode = SocketModeServer(app_token, app_id, self.ids, self.clock, lambda: self.url)
        self.api = WebApi(self.workspace, self.ids, self.clock, lambda: self.url, self.socket_mode.open_url)
        self._holds: dict[str, asyncio.Event] = {}
        self.faults = FaultPlan(seed=seed)
        self.calls: list[Call] = []
        self.ratelimited: Counter[str] = Counter()  # method -> 429s answered
        self._post_rate: PostRateLimiter | None = None
        self._runner: web.AppRunner | None = None
        self._url: str | None = None
        self._bot_name = bot_name
        self._seed()

    def _seed(self) -> None:
        """A bot user and #general, which every human added later joins (the bot must be invited)."""
        ws = self.workspace
        ws.users[ws.bot_user_id] = User(
            id=ws.bot_user_id,
            name=self._bot_name,
            real_name=self._bot_name.title(),
            team_id=ws.team_id,
            is_bot=True,
            bot_id=ws.bot_id,
        )
        general = Channel(id=self.ids.new("C"), name="general", is_general=True)
        ws.channels[general.id] = general
        self.general_channel_id = general.id

    # ---- lifecycle -----------------------------------------------------------------------------

    async def start(self, host: str = "127.0.0.1", port: int = 0) -> None:
        app = web.Application(client_max_size=64 * 1024 * 1024)
        app.router.add_route("*", "/api/{method}", self._handle_api)
        app.router.add_post("/upload/v1/{file_id}", self._handle_upload)
        app.router.add_post("/response/{token}", self._handle_response_url)
        app.router.add_get(LINK_PATH, self.socket_mode.handle_link)
        # A short shutdown timeout: "timeout" faults leave handlers sleeping that stop() must not wait for.
        self._runner = web.AppRunner(app, access_log=None, shutdown_timeout=0.1)
        await self._runner.setup()
        site = web.TCPSite(self._runner, host, port)
        await site.start()
        bound_port = self._runner.addresses[0][1]
        self._url = f"http://{host}:{bound_port}/"

    async def stop(self) -> None:
        self.release_all()
        await self.socket_mode.close()
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None

    async def __aenter__(self) -> SlackDouble:
        await self.start()
        return self

    async def __aexit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        await self.stop()

    @property
    def url(self) -> str:
        if self._url is None:
            raise RuntimeError("the double is not running: await double.start() first")
        return self._url

    @property
    def app_token(self) -> str:
        """The app-level token (xapp-) that apps.connections.open takes, for Socket Mode."""
        return self.socket_mode.app_token

    @property
    def api_url(self) -> str:
        """Base URL for slack_sdk: AsyncWebClient(token=..., base_url=double.api_url)."""
        return f"{self.url}api/"

    # ---- seeding -------------------------------------------------------------------------------

    def add_user(
        self,
        name: str,
        *,
        real_name: str | None = None,
        tz: str = "Europe/London",
        tz_offset: int = 0,
        tz_label: str | None = None,
        is_bot: bool = False,
        deleted: bool = False,
        email: str | None = None,
        is_admin: bool = False,
        user_id: str | None = None,
        team_id: str | None = None,
    ) -> str:
        """Add a person (joining #general, as Slack does) and return their user id.

        `team_id` makes them someone of another workspace whom this one can see (a Slack Connect partner):
        users.info answers for them with their own `team_id`, and they don't join #general.
        """
        uid = user_id or self.ids.new("U")
        self.workspace.users[uid] = User(
            id=uid,
            name=name,
            real_name=real_name or name.title(),
            team_id=team_id or self.workspace.team_id,
            tz=tz,
            tz_label=tz_label or tz,
            tz_offset=tz_offset,
            is_bot=is_bot,
            deleted=deleted,
            email=email,
            is_admin=is_admin,
            bot_id=self.ids.new("B") if is_bot else None,
        )
        if team_id in (None, self.workspace.team_id):
            self.workspace.channels[self.general_channel_id].members.add(uid)
        return uid

    def add_channel(
        self,
        name: str,
        *,
        is_private: bool = False,
        members: tuple[str, ...] | list[str] | set[str] = (),
        bot_member: bool = True,
        channel_id: str | None = None,
    ) -> str:
        """Add a channel and return its id; the bot is in it unless `bot_member=False`."""
        if self.workspace.channel_by_name(name) is not None:
            raise ValueError(f"a channel named {name!r} exists already")
        cid = channel_id or self.ids.new("G" if is_private else "C")
        channel = Channel(
            id=cid, name=name, is_private=is_private, members=set(members), created=int(self.clock.now())
        )
        if bot_member:
            channel.members.add(self.workspace.bot_user_id)
        self.workspace.channels[cid] = channel
        return cid

    def add_usergroup(self, handle: str, members: list[str]) -> str:
        group_id = self.ids.new("S")
        self.workspace.usergroups[group_id] = list(members)
        return group_id

    def post_as_user(
        self,
        user_id: str,
        channel_id: str,
        text: str,
        *,
        thread_ts: str | None = None,
        blocks: list[Json] | None = None,
    ) -> Json:
        """Put a human's message into a channel (what the app would then hear as a `message` event)."""
        channel = self.workspace.channels[channel_id]
        if user_id not in channel.members:
            raise ValueError(f"{user_id} is not a member of {channel_id}")
        message: Json = {
            "type": "message",
            "user": user_id,
            "text": text,
            "ts": self.ids.ts(),
            "team": self.workspace.team_id,
            "client_msg_id": f"{self.ids.hex(8)}-{self.ids.hex(4)}-{self.ids.hex(4)}-{self.ids.hex(12)}",
        }
        if blocks is not None:
            message["blocks"] = blocks
        return self.api.add_message(channel, message, thread_ts)

    # ---- inspection ----------------------------------------------------------------------------

    @property
    def bot_user_id(self) -> str:
        return self.workspace.bot_user_id

    @property
    def team_id(self) -> str:
        return self.workspace.team_id

    @property
    def app_id(self) -> str:
        return self.workspace.app_id

    def user(self, user_id: str) -> User:
        return self.workspace.users[user_id]

    def channel(self, channel_id: str) -> Channel:
        return self.workspace.channels[channel_id]

    def channel_id(self, name: str) -> str:
        channel = self.workspace.channel_by_name(name)
        if channel is None:
            raise KeyError(name)
        return channel.id

    def dm_channel_id(self, user_id: str) -> str | None:
        """The app's DM with a user, if one has been opened."""
        channel = self.workspace.im_with(user_id)
        return channel.id if channel else None

    def messages(self, channel_id: str) -> list[Json]:
        """Top-level messages of a channel, oldest first (internal dicts, metadata included)."""
        return self.workspace.top_level(channel_id)

    def message(self, channel_id: str, ts: str) -> Json:
        message = self.workspace.find_message(channel_id, ts)
        if message is None:
            raise KeyError(f"no message {ts} in {channel_id}")
        return message

    def thread(self, channel_id: str, thread_ts: str) -> list[Json]:
        """Parent then replies, oldest first."""
        return self.workspace.thread(channel_id, thread_ts)

    def ephemerals(self, user_id: str | None = None, channel_id: str | None = None) -> list[Ephemeral]:
        return [
            e
            for e in self.workspace.ephemerals
            if not e.deleted and user_id in (None, e.user) and channel_id in (None, e.channel)
        ]

    def view(self, view_id: str) -> Json:
        return self.workspace.views[view_id]

    def open_views(self, user_id: str) -> list[Json]:
        """The user's modal stack, root first; the last one is what they see."""
        return [self.workspace.views[v] for v in self.workspace.modal_stacks.get(user_id, [])]

    def home_tab(self, user_id: str) -> Json | None:
        view_id = self.workspace.home_views.get(user_id)
        return None if view_id is None else self.workspace.views[view_id]

    def calls_to(self, method: str) -> list[Call]:
        return [c for c in self.calls if c.method == method]

    @property
    def rejected_calls(self) -> list[Call]:
        """Calls Slack would have refused because of their payload (bad blocks, bad view, bad metadata)."""
        return [c for c in self.calls if c.error in REJECTION_ERRORS]

    def assert_no_rejections(self) -> None:
        if self.rejected_calls:
            lines = [f"{c.method}: {c.error}: {'; '.join(c.errors) or '-'}" for c in self.rejected_calls]
            raise AssertionError("Slack would have rejected these payloads:\n" + "\n".join(lines))

    async def wait_for(
        self, predicate: Callable[[], T], *, within: float = WAIT_SECONDS, interval: float = 0.005
    ) -> T:
        """Poll until `predicate()` is truthy and return it: apps keep working after they ack.

        `within` bounds how long a test waits for something that should happen, not how fast it must: a
        condition met early returns at once, so the bound is generous enough for a loaded 2-core machine.
        """
        deadline = asyncio.get_running_loop().time() + within
        while True:
            result = predicate()
            if result:
                return result
            if asyncio.get_running_loop().time() > deadline:
                raise TimeoutError(f"condition not met within {within}s")
            await asyncio.sleep(interval)

    async def wait_for_call(self, method: str, *, count: int = 1, within: float = WAIT_SECONDS) -> Call:
        """Wait until the app has made `count` calls to `method`; returns the latest."""
        calls = await self.wait_for(lambda: self.calls_to(method)[count - 1 :], within=within)
        return calls[-1]

    @property
    def ratelimited_total(self) -> int:
        return sum(self.ratelimited.values())

    # ---- interaction plumbing (used by slack_double.user) ------------------------------------

    def issue_trigger_id(self, user_id: str) -> str:
        trigger = TriggerId(value=self.ids.trigger_id(), user_id=user_id, issued_at=self.clock.now())
        self.workspace.triggers[trigger.value] = trigger
        return trigger.value

    def issue_response_url(
        self,
        user_id: str,
        channel_id: str | None,
        message_ts: str | None = None,
        *,
        is_ephemeral: bool = False,
    ) -> str:
        token = f"{self.ids.hex(8)}{self.ids.hex(16)}"
        self.workspace.response_urls[token] = ResponseUrl(
            token=token,
            user_id=user_id,
            channel_id=channel_id,
            message_ts=message_ts,
            is_ephemeral=is_ephemeral,
            issued_at=self.clock.now(),
        )
        return f"{self.url}response/{token}"

    def hold(self, method: str) -> asyncio.Event:
        """Keep calls to `method` waiting (recorded when released) until the returned event is set."""
        gate = self._holds.setdefault(method, asyncio.Event())
        gate.clear()
        return gate

    def release_all(self) -> None:
        for gate in self._holds.values():
            gate.set()
        self._holds.clear()

    def enforce_post_rate(self, per_second: float = 1.0, burst: int = 1) -> None:
        """Answer chat.postMessage with 429 when a channel gets more than `per_second` (after a burst)."""
        self._post_rate = PostRateLimiter(self.clock.now, per_second, burst)

    def stop_enforcing_post_rate(self) -> None:
        self._post_rate = None

    def apply_view_response(self, user_id: str, response: Json, *, source: str) -> list[str]:
        """Apply a view_submission's response_action (update/push/clear/errors) to the user's modals.

        Returns payload problems (also recorded as a rejected call), empty when Slack would accept it.
        """
        stack = self.workspace.modal_stacks.get(user_id, [])
        action = response.get("response_action")
        if action in ("update", "push"):
            errors = validate_view(response.get("view"))
            if not errors and response["view"].get("type") != "modal":
                errors = ["response_action view must be a modal [json-pointer:/view/type]"]
            if errors:
                self._record(source, response, ok=False, error="invalid_arguments", errors=errors)
                return errors
            try:
                if action == "update":
                    self.api.replace_view(stack[-1], response["view"])
                else:
                    self.api.push_view(user_id, response["view"])
            except ApiError as exc:
                self._record(source, response, ok=False, error=exc.error)
                return [exc.error]
        elif action == "clear":
            self.workspace.modal_stacks[user_id] = []
        elif action == "errors":
            if not isinstance(response.get("errors"), dict) or not response["errors"]:
                errors = ["response_action errors needs a non-empty errors object [json-pointer:/errors]"]
                self._record(source, response, ok=False, error="invalid_arguments", errors=errors)
                return errors
        elif action is None:
            self.close_top_view(user_id)
        else:
            errors = [f"unknown response_action {action!r}"]
            self._record(source, response, ok=False, error="invalid_arguments", errors=errors)
            return errors
        self._record(source, response, ok=True)
        return []

    def close_top_view(self, user_id: str) -> None:
        stack = self.workspace.modal_stacks.get(user_id, [])
        if stack:
            stack.pop()

    def clear_views(self, user_id: str) -> None:
        self.workspace.modal_stacks[user_id] = []

    def post_ack_message(self, user_id: str, channel_id: str, body: Json, *, source: str) -> list[str]:
        """Show what an app acked a slash command with: ephemeral unless response_type is in_channel."""
        text = str(body.get("text") or "")[:MAX_MESSAGE_TEXT]
        blocks = body.get("blocks")
        if blocks is not None:
            errors = validate_message_blocks(blocks)
            if errors:
                self._record(source, body, ok=False, error="invalid_blocks", errors=errors)
                return errors
            blocks = self.api.with_ids(blocks)
        if not text and not blocks:
            return []
        if body.get("response_type") == "in_channel":
            message = self.api.bot_message(text, blocks, self.ids.ts())
            self.api.add_message(self.workspace.channels[channel_id], message, None)
        else:
            self.api.add_ephemeral(channel_id, user_id, text, blocks)
        self._record(source, body, ok=True)
        return []

    # ---- HTTP handlers -------------------------------------------------------------------------

    def _record(
        self,
        method: str,
        args: Json,
        *,
        ok: bool,
        error: str | None = None,
        status: int = 200,
        errors: Any = None,
    ) -> Call:
        call = Call(
            method=method,
            args={k: v for k, v in args.items() if k != "token"},
            ok=ok,
            error=error,
            status=status,
            errors=list(errors or []),
            at=self.clock.now(),
            applied=ok,
        )
        self.calls.append(call)
        return call

    @staticmethod
    async def _read_args(request: web.Request) -> Json:
        """Query string plus a form or JSON body: slack_sdk uses all three depending on the method."""
        args: Json = dict(request.query)
        if request.can_read_body:
            if request.content_type == "application/json":
                try:
                    body = await request.json()
                except json.JSONDecodeError as exc:
                    raise ApiError("invalid_json") from exc
                if isinstance(body, dict):
                    args.update(body)
            else:
                form = await request.post()
                args.update({k: v for k, v in form.items() if isinstance(v, str)})
        return args

    def _token(self, request: web.Request, args: Json) -> str | None:
        auth = request.headers.get("Authorization", "")
        if auth.lower().startswith("bearer "):
            return auth[7:].strip() or None
        token = args.get("token")
        return str(token) if token else None

    @staticmethod
    def _json(body: Json, status: int = 200, headers: dict[str, str] | None = None) -> web.Response:
        return web.json_response(body, status=status, headers=headers)

    async def _handle_api(self, request: web.Request) -> web.StreamResponse:
        method = request.match_info["method"]
        try:
            args = await self._read_args(request)
        except ApiError as exc:
            self._record(method, {}, ok=False, error=exc.error)
            return self._json(exc.body())
        handler = self.api.handlers.get(method)
        if handler is None:
            self._record(method, args, ok=False, error="unknown_method")
            return self._json({"ok": False, "error": "unknown_method", "req_method": method})
        token = self._token(request, args)
        expected = self.app_token if method in APP_TOKEN_METHODS else self.bot_token
        if token is None or token != expected:
            if token is None:
                error = "not_authed"
            elif token in (self.bot_token, self.app_token):
                error = "not_allowed_token_type"  # a real token, of the wrong kind for this method
            else:
                error = "invalid_auth"
            self._record(method, args, ok=False, error=error)
            return self._json({"ok": False, "error": error})
        gate = self._holds.get(method)
        if gate is not None:
            await gate.wait()

        fault = self.faults.pick(method)
        if fault is not None and not fault.applied:
            return await self._inject(request, self._record(method, args, ok=False), fault, None)

        if method == "chat.postMessage" and self._post_rate is not None:
            channel = self.workspace.channels.get(str(args.get("channel"))) or self.workspace.channel_by_name(
                str(args.get("channel", ""))
            )
            retry_after = self._post_rate.take(channel.id if channel else str(args.get("channel")))
            if retry_after is not None:
                return self._ratelimited(method, args, retry_after)

        try:
            body = handler(args)
            call = self._record(method, args, ok=True)
        except ApiError as exc:
            body = exc.body()
            call = self._record(method, args, ok=False, error=exc.error, errors=exc.extra.get("errors"))
            messages = exc.extra.get("response_metadata", {}).get("messages")
            if not call.errors and messages:
                call.errors = list(messages)
        if fault is not None:
            return await self._inject(request, call, fault, body)
        return self._json(body)

    def _ratelimited(self, method: str, args: Json, retry_after: int) -> web.Response:
        self.ratelimited[method] += 1
        call = self._record(method, args, ok=False, error="ratelimited", status=429)
        call.fault = "ratelimited"
        return self._ratelimited_response(retry_after)

    def _ratelimited_response(self, retry_after: int) -> web.Response:
        return self._json(
            {"ok": False, "error": "ratelimited"}, status=429, headers={"Retry-After": str(retry_after)}
        )

    async def _inject(
        self, request: web.Request, call: Call, fault: Fault, applied_body: Json | None
    ) -> web.StreamResponse:
        """Answer `call` with the fault; `applied_body` is set when the call already took effect."""
        call.fault = fault.kind
        call.ok = False
        if fault.kind == "ratelimited":
            self.ratelimited[call.method] += 1
            call.error, call.status = "ratelimited", 429
            return self._ratelimited_response(fault.retry_after)
        if fault.kind == "server_error":
            call.error, call.status = "fatal_error", fault.status
            return self._json({"ok": False, "error": "fatal_error"}, status=fault.status)
        if fault.kind == "error":
            call.error, call.status = fault.error, 200
            return self._json({"ok": False, "error": fault.error})
        call.error, call.status = fault.kind, 0  # the client never sees a status
        if fault.kind == "timeout":
            await asyncio.sleep(fault.delay)
            return self._json(applied_body or {"ok": False, "error": "request_timeout"})
        # disconnect: drop the connection without a status line, like a load balancer reset.
        transport = request.transport
        if transport is not None:
            transport.abort()
        raise asyncio.CancelledError

    async def _handle_upload(self, request: web.Request) -> web.Response:
        file_id = request.match_info["file_id"]
        uploaded = self.workspace.files.get(file_id)
        if uploaded is None:
            return web.Response(status=404, text="file_not_found")
        if request.content_type.startswith("multipart/"):
            form = await request.post()
            part = next(iter(form.values()), b"")
            data = part.file.read() if hasattr(part, "file") else str(part).encode()
        else:
            data = await request.read()
        uploaded.content = data
        return web.Response(text=f"OK - {len(data)}")

    async def _handle_response_url(self, request: web.Request) -> web.Response:
        token = request.match_info["token"]
        target = self.workspace.response_urls.get(token)
        try:
            body = await request.json()
        except json.JSONDecodeError:
            body = dict(await request.post())
        if not isinstance(body, dict):
            body = {}
        if target is None:
            self._record("response_url", body, ok=False, error="no_service", status=404)
            return web.Response(status=404, text="no_service")
        if self.clock.now() - target.issued_at > RESPONSE_URL_TTL_SECONDS:
            self._record("response_url", body, ok=False, error="expired_url", status=404)
            return web.Response(status=404, text="expired_url")
        if target.uses >= RESPONSE_URL_MAX_USES:
            self._record("response_url", body, ok=False, error="used_url", status=404)
            return web.Response(status=404, text="used_url")
        target.uses += 1
        error = self._apply_response(target, body)
        if error is not None:
            return web.Response(status=400, text=error)
        return web.Response(text="ok")

    def _apply_response(self, target: ResponseUrl, body: Json) -> str | None:
        """replace_original / delete_original / a new ephemeral or in_channel message, as Slack does."""
        blocks = body.get("blocks")
        if blocks is not None:
            errors = validate_message_blocks(blocks)
            if errors:
                self._record(
                    "response_url", body, ok=False, error="invalid_blocks", status=400, errors=errors
                )
                return "invalid_blocks"
            blocks = self.api.with_ids(blocks)
        text = str(body.get("text") or "")[:MAX_MESSAGE_TEXT]
        has_original = target.message_ts is not None and target.channel_id is not None
        if as_bool(body.get("delete_original")) and has_original:
            self._delete_original(target)
        elif as_bool(body.get("replace_original")) and has_original:
            if not self._replace_original(target, text, blocks):
                self._record("response_url", body, ok=False, error="message_not_found", status=404)
                return "message_not_found"
        elif target.channel_id is not None:
            if not text and not blocks:
                self._record("response_url", body, ok=False, error="no_text", status=400)
                return "no_text"
            if body.get("response_type") == "in_channel":
                message = self.api.bot_message(text, blocks, self.ids.ts())
                self.api.add_message(
                    self.workspace.channels[target.channel_id], message, body.get("thread_ts")
                )
            else:
                self.api.add_ephemeral(target.channel_id, target.user_id, text, blocks, body.get("thread_ts"))
        self._record("response_url", body, ok=True)
        return None

    def _original_ephemeral(self, target: ResponseUrl) -> Ephemeral | None:
        return next(
            (
                e
                for e in self.workspace.ephemerals
                if e.ts == target.message_ts and e.channel == target.channel_id and not e.deleted
            ),
            None,
        )

    def _delete_original(self, target: ResponseUrl) -> None:
        assert target.channel_id is not None and target.message_ts is not None
        if target.is_ephemeral:
            ephemeral = self._original_ephemeral(target)
            if ephemeral is not None:
                ephemeral.deleted = True
        else:
            self.workspace.channels[target.channel_id].messages.pop(target.message_ts, None)

    def _replace_original(self, target: ResponseUrl, text: str, blocks: list[Json] | None) -> bool:
        assert target.channel_id is not None and target.message_ts is not None
        if target.is_ephemeral:
            ephemeral = self._original_ephemeral(target)
            if ephemeral is None:
                return False
            ephemeral.text, ephemeral.blocks = text, copy.deepcopy(blocks or [])
            return True
        message = self.workspace.find_message(target.channel_id, target.message_ts)
        if message is None:
            return False
        message["text"] = text
        if blocks is not None:
            message["blocks"] = blocks
        else:
            message.pop("blocks", None)
        message["edited"] = {"user": self.workspace.bot_user_id, "ts": self.ids.ts()}
        return True
