"""The other direction: signed requests from "Slack" to the app, and people who click what the app posted."""

from __future__ import annotations

import copy
import hashlib
import hmac
import json
import re
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from types import TracebackType
from typing import TYPE_CHECKING, Any, Literal
from urllib.parse import urlencode

import aiohttp

from slack_double.blocks import iter_elements
from slack_double.socket_mode import Delivery, EnvelopeType
from slack_double.state import Ephemeral, Json

if TYPE_CHECKING:
    from slack_double.server import SlackDouble

Signature = Literal["valid", "forged", "missing"]
Transport = Literal["http", "socket"]
# Interactions whose ack may carry a payload Slack acts on (response_action, options); Slack says which in
# each Socket Mode envelope.
_RESPONDS_WITH_PAYLOAD = frozenset({"view_submission", "block_suggestion"})
Surface = Literal["message", "ephemeral", "modal", "home"]

# Where each element type keeps its selection, in state.values and in block_actions' actions[0].
_SINGLE_OPTION = {"static_select", "external_select", "radio_buttons", "overflow"}
_MULTI_OPTION = {"multi_static_select", "multi_external_select", "checkboxes"}
_TEXT_VALUE = {"plain_text_input", "number_input", "email_text_input", "url_text_input"}
_ID_FIELD = {
    "users_select": ("selected_user", "initial_user"),
    "multi_users_select": ("selected_users", "initial_users"),
    "conversations_select": ("selected_conversation", "initial_conversation"),
    "multi_conversations_select": ("selected_conversations", "initial_conversations"),
    "channels_select": ("selected_channel", "initial_channel"),
    "multi_channels_select": ("selected_channels", "initial_channels"),
    "datepicker": ("selected_date", "initial_date"),
    "timepicker": ("selected_time", "initial_time"),
    "datetimepicker": ("selected_date_time", "initial_date_time"),
}


@dataclass
class AppResponse:
    """What the app answered Slack with (the ack), and how quickly.

    Over Socket Mode an ack is `status` 200 with the ack's `payload` as `body`; no ack in time is
    `timed_out` with status 0, as over HTTP.
    """

    status: int
    body: Any  # parsed JSON, text, or None for an empty body
    headers: Mapping[str, str] = field(default_factory=dict)
    elapsed: float = 0.0
    timed_out: bool = False
    transport: Transport = "http"
    envelope_id: str | None = None  # Socket Mode only

    @property
    def json(self) -> Json:
        return self.body if isinstance(self.body, dict) else {}

    @property
    def field_errors(self) -> dict[str, str]:
        """`{"response_action": "errors", "errors": {...}}` of a view submission, else empty."""
        if self.json.get("response_action") == "errors":
            return dict(self.json.get("errors") or {})
        return {}


@dataclass
class Found:
    """An interactive element a person can see, and where it is."""

    surface: Surface
    block: Json
    element: Json
    channel_id: str | None = None
    message: Json | None = None
    ephemeral: Ephemeral | None = None
    view: Json | None = None

    def describe(self) -> str:
        where = {
            "message": f"message {self.message['ts'] if self.message else '?'} in {self.channel_id}",
            "ephemeral": f"ephemeral {self.ephemeral.ts if self.ephemeral else '?'} in {self.channel_id}",
            "modal": f"modal {self.view['id'] if self.view else '?'}",
            "home": "home tab",
        }[self.surface]
        label = _plain(self.element.get("text")) or self.element.get("type")
        return f"{self.element.get('action_id')!r} ({label}) in {where}"


class ElementNotFound(LookupError):
    pass


def _plain(obj: Any) -> str | None:
    if isinstance(obj, dict):
        return obj.get("text")
    return obj if isinstance(obj, str) else None


class SlackSender:
    """Sends the app what Slack sends, over either transport: signed HTTP posts to its Request URLs, or
    envelopes down the Socket Mode link the app opened with the double (`transport="socket"`)."""

    def __init__(
        self,
        app_url: str,
        signing_secret: str,
        double: SlackDouble,
        *,
        ack_timeout: float = 3.0,
        commands_url: str | None = None,
        interactivity_url: str | None = None,
        events_url: str | None = None,
        transport: Transport = "http",
    ) -> None:
        self.app_url = app_url
        self.signing_secret = signing_secret
        self.double = double
        self.transport: Transport = transport
        self.ack_timeout = ack_timeout  # Slack gives up on an ack after 3 seconds
        self.commands_url = commands_url or app_url
        self.interactivity_url = interactivity_url or app_url
        self.events_url = events_url or app_url
        self._session: aiohttp.ClientSession | None = None

    async def close(self) -> None:
        if self._session is not None:
            await self._session.close()
            self._session = None

    async def __aenter__(self) -> SlackSender:
        return self

    async def __aexit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        await self.close()

    def person(self, user_id: str) -> Person:
        return Person(self, user_id)

    # ---- signing and transport -----------------------------------------------------------------

    def sign(self, body: bytes, timestamp: int, secret: str | None = None) -> str:
        """`v0=` + hex HMAC-SHA256(secret, "v0:{timestamp}:{body}"), Slack's request signature."""
        base = b"v0:" + str(timestamp).encode() + b":" + body
        key = (secret if secret is not None else self.signing_secret).encode()
        return "v0=" + hmac.new(key, base, hashlib.sha256).hexdigest()

    async def post(
        self,
        url: str,
        body: bytes,
        content_type: str,
        *,
        headers: Mapping[str, str] | None = None,
        signature: Signature = "valid",
        timestamp: int | None = None,
    ) -> AppResponse:
        """Send raw bytes; `signature`/`timestamp` let security tests forge or age the request."""
        ts = int(time.time()) if timestamp is None else timestamp
        all_headers = {
            "Content-Type": content_type,
            "User-Agent": "Slackbot 1.0 (+https://api.slack.com/robots)",
        }
        all_headers["X-Slack-Request-Timestamp"] = str(ts)
        if signature == "valid":
            all_headers["X-Slack-Signature"] = self.sign(body, ts)
        elif signature == "forged":
            all_headers["X-Slack-Signature"] = self.sign(body, ts, secret="not-the-" + self.signing_secret)
        all_headers.update(headers or {})
        if self._session is None:
            self._session = aiohttp.ClientSession()
        started = time.monotonic()
        try:
            async with self._session.post(
                url, data=body, headers=all_headers, timeout=aiohttp.ClientTimeout(total=self.ack_timeout)
            ) as resp:
                raw = await resp.read()
                text = raw.decode("utf-8", "replace")
                parsed: Any = None
                if text.strip():
                    try:
                        parsed = json.loads(text)
                    except json.JSONDecodeError:
                        parsed = text
                return AppResponse(resp.status, parsed, dict(resp.headers), time.monotonic() - started)
        except TimeoutError:
            return AppResponse(0, None, {}, time.monotonic() - started, timed_out=True)

    async def post_form(self, url: str, fields: Mapping[str, str], **kwargs: Any) -> AppResponse:
        return await self.post(url, urlencode(fields).encode(), "application/x-www-form-urlencoded", **kwargs)

    async def send_command(self, fields: Mapping[str, str], **kwargs: Any) -> AppResponse:
        """A slash command: a signed form over HTTP, or a `slash_commands` envelope of the same fields."""
        if self.transport == "socket":
            return await self._over_socket("slash_commands", dict(fields), True, **kwargs)
        return await self.post_form(self.commands_url, fields, **kwargs)

    async def post_interaction(self, payload: Json, **kwargs: Any) -> AppResponse:
        """Interactivity is a form with one field, `payload`, holding JSON (an `interactive` envelope)."""
        if self.transport == "socket":
            accepts = payload.get("type") in _RESPONDS_WITH_PAYLOAD
            return await self._over_socket("interactive", payload, accepts, **kwargs)
        return await self.post_form(self.interactivity_url, {"payload": json.dumps(payload)}, **kwargs)

    # ---- Socket Mode ---------------------------------------------------------------------------

    async def send_envelope(
        self,
        type: EnvelopeType | str,
        payload: Any,
        *,
        accepts_response_payload: bool = False,
        retry_attempt: int = 0,
        retry_reason: str = "",
    ) -> AppResponse:
        """Send one raw envelope down the app's Socket Mode link (any payload, to test malformed ones)."""
        delivery = await self.double.socket_mode.deliver(
            type,
            payload,
            accepts_response_payload=accepts_response_payload,
            retry_attempt=retry_attempt,
            retry_reason=retry_reason,
            within=self.ack_timeout,
        )
        return _from_delivery(delivery)

    async def _over_socket(
        self,
        type: EnvelopeType,
        payload: Json,
        accepts_response_payload: bool,
        *,
        retry_attempt: int = 0,
        retry_reason: str = "",
        **kwargs: Any,
    ) -> AppResponse:
        if kwargs:
            # Signatures, timestamps and headers belong to HTTP; a link is authenticated once, when opened.
            raise TypeError(f"{sorted(kwargs)} only apply to requests sent over HTTP")
        return await self.send_envelope(
            type,
            payload,
            accepts_response_payload=accepts_response_payload,
            retry_attempt=retry_attempt,
            retry_reason=retry_reason,
        )

    # ---- Events API ----------------------------------------------------------------------------

    def envelope(self, event: Json, *, event_id: str | None = None) -> Json:
        double = self.double
        return {
            "token": double.verification_token,
            "team_id": double.team_id,
            "api_app_id": double.app_id,
            "event": event,
            "type": "event_callback",
            "event_id": event_id or f"Ev{double.ids.hex(10).upper()}",
            "event_time": int(double.clock.now()),
            "authorizations": [
                {
                    "enterprise_id": None,
                    "team_id": double.team_id,
                    "user_id": double.bot_user_id,
                    "is_bot": True,
                    "is_enterprise_install": False,
                }
            ],
            "is_ext_shared_channel": False,
            "event_context": f"4-{double.ids.hex(24)}",
        }

    async def send_event(
        self,
        event: Json,
        *,
        retry_num: int | None = None,
        retry_reason: str = "http_timeout",
        event_id: str | None = None,
        **kwargs: Any,
    ) -> AppResponse:
        """Deliver an Events API event inside Slack's event_callback envelope (a retry if retry_num is set)."""
        if self.transport == "socket":
            return await self._over_socket(
                "events_api",
                self.envelope(event, event_id=event_id),
                False,
                retry_attempt=retry_num or 0,
                retry_reason=retry_reason if retry_num else "",
                **kwargs,
            )
        headers = dict(kwargs.pop("headers", {}) or {})
        if retry_num is not None:
            headers["X-Slack-Retry-Num"] = str(retry_num)
            headers["X-Slack-Retry-Reason"] = retry_reason
        body = json.dumps(self.envelope(event, event_id=event_id)).encode()
        return await self.post(self.events_url, body, "application/json", headers=headers, **kwargs)

    async def url_verification(
        self, challenge: str = "3eZbrw1aBm2rZgRNFdxV2595E9CY3gmdALWMmHkvFXO7tYXAYM8P"
    ) -> AppResponse:
        body = json.dumps(
            {"token": self.double.verification_token, "challenge": challenge, "type": "url_verification"}
        )
        return await self.post(self.events_url, body.encode(), "application/json")

    async def app_uninstalled(self, **kwargs: Any) -> AppResponse:
        return await self.send_event({"type": "app_uninstalled"}, **kwargs)

    async def tokens_revoked(
        self, bot: list[str] | None = None, oauth: list[str] | None = None, **kwargs: Any
    ) -> AppResponse:
        tokens = {"oauth": oauth or [], "bot": bot if bot is not None else [self.double.bot_user_id]}
        return await self.send_event({"type": "tokens_revoked", "tokens": tokens}, **kwargs)


class Person:
    """A human in the double's workspace, acting on the app only through what the app showed them."""

    def __init__(self, sender: SlackSender, user_id: str) -> None:
        if user_id not in sender.double.workspace.users:
            raise KeyError(f"no user {user_id} in the double's workspace")
        self.sender = sender
        self.double = sender.double
        self.id = user_id

    @property
    def name(self) -> str:
        return self.double.user(self.id).name

    def _user_obj(self) -> Json:
        return {"id": self.id, "username": self.name, "name": self.name, "team_id": self.double.team_id}

    def _team_obj(self) -> Json:
        return {"id": self.double.team_id, "domain": self.double.workspace.team_domain}

    def _channel_obj(self, channel_id: str) -> Json:
        channel = self.double.channel(channel_id)
        return {"id": channel_id, "name": "directmessage" if channel.is_im else channel.name}

    def _action_ts(self) -> str:
        return f"{self.double.clock.now():.6f}"

    def _common(self, kind: str) -> Json:
        return {
            "type": kind,
            "user": self._user_obj(),
            "api_app_id": self.double.app_id,
            "token": self.double.verification_token,
            "team": self._team_obj(),
            "enterprise": None,
            "is_enterprise_install": False,
        }

    # ---- slash commands and shortcuts ----------------------------------------------------------

    async def slash_command(
        self, command: str, text: str = "", channel_id: str | None = None, **kwargs: Any
    ) -> AppResponse:
        """Run `/command text` in a channel; an acked text/blocks body is shown to the person as Slack does."""
        channel_id = channel_id or self.double.general_channel_id
        channel = self.double.channel(channel_id)
        fields = {
            "token": self.double.verification_token,
            "team_id": self.double.team_id,
            "team_domain": self.double.workspace.team_domain,
            "channel_id": channel_id,
            "channel_name": "directmessage" if channel.is_im else channel.name,
            "user_id": self.id,
            "user_name": self.name,
            "command": command if command.startswith("/") else "/" + command,
            "text": text,
            "api_app_id": self.double.app_id,
            "is_enterprise_install": "false",
            "response_url": self.double.issue_response_url(self.id, channel_id),
            "trigger_id": self.double.issue_trigger_id(self.id),
        }
        response = await self.sender.send_command(fields, **kwargs)
        if response.status == 200 and response.json:
            self.double.post_ack_message(
                self.id, channel_id, response.json, source=f"ack:{fields['command']}"
            )
        return response

    async def message_shortcut(
        self, callback_id: str, channel_id: str, message_ts: str, **kwargs: Any
    ) -> AppResponse:
        message = self.double.message(channel_id, message_ts)
        payload = self._common("message_action")
        # Message shortcuts are the one payload Slack sends without api_app_id or user.username.
        del payload["api_app_id"]
        del payload["user"]["username"]
        payload.update(
            callback_id=callback_id,
            trigger_id=self.double.issue_trigger_id(self.id),
            response_url=self.double.issue_response_url(self.id, channel_id),
            message_ts=message_ts,
            message=copy.deepcopy(message),
            channel=self._channel_obj(channel_id),
            action_ts=self._action_ts(),
        )
        return await self.sender.post_interaction(payload, **kwargs)

    async def global_shortcut(self, callback_id: str, **kwargs: Any) -> AppResponse:
        payload = self._common("shortcut")
        payload.update(
            callback_id=callback_id,
            trigger_id=self.double.issue_trigger_id(self.id),
            action_ts=self._action_ts(),
        )
        return await self.sender.post_interaction(payload, **kwargs)

    # ---- events from this person ---------------------------------------------------------------

    async def say(
        self, channel_id: str, text: str, *, thread_ts: str | None = None, **kwargs: Any
    ) -> AppResponse:
        """Post a message as this person and deliver the `message` event the app would receive."""
        message = self.double.post_as_user(self.id, channel_id, text, thread_ts=thread_ts)
        channel = self.double.channel(channel_id)
        event = {k: v for k, v in message.items() if k not in ("reply_count", "reply_users", "latest_reply")}
        event.update(
            channel=channel_id,
            event_ts=message["ts"],
            channel_type="im" if channel.is_im else ("group" if channel.is_private else "channel"),
        )
        return await self.sender.send_event(event, **kwargs)

    async def open_home(self, **kwargs: Any) -> AppResponse:
        """Open the app's Home tab: the app_home_opened event, carrying the current home view if any."""
        dm, _ = self.double.api.open_im(self.id)
        event: Json = {
            "type": "app_home_opened",
            "user": self.id,
            "channel": dm.id,
            "tab": "home",
            "event_ts": self._action_ts(),
        }
        home = self.double.home_tab(self.id)
        if home is not None:
            event["view"] = copy.deepcopy(home)
        return await self.sender.send_event(event, **kwargs)

    # ---- finding what the app showed -----------------------------------------------------------

    def visible_elements(self) -> list[Found]:
        """Every interactive element this person can see right now, newest surfaces last."""
        found: list[Found] = []
        ws = self.double.workspace
        for channel in ws.channels.values():
            if self.id not in channel.members:
                continue
            for message in channel.messages.values():
                for block in message.get("blocks") or []:
                    for _, element in iter_elements(block):
                        found.append(Found("message", block, element, channel.id, message=message))
        for ephemeral in self.double.ephemerals(user_id=self.id):
            for block in ephemeral.blocks:
                for _, element in iter_elements(block):
                    found.append(Found("ephemeral", block, element, ephemeral.channel, ephemeral=ephemeral))
        home = self.double.home_tab(self.id)
        if home is not None:
            for block in home.get("blocks", []):
                for _, element in iter_elements(block):
                    found.append(Found("home", block, element, view=home))
        stack = self.double.open_views(self.id)
        if stack:
            top = stack[-1]  # only the top of a modal stack is on screen
            for block in top.get("blocks", []):
                for _, element in iter_elements(block):
                    found.append(Found("modal", block, element, view=top))
        return found

    def find(
        self,
        action_id: str,
        *,
        text: str | None = None,
        value: str | None = None,
        surface: Surface | None = None,
        channel_id: str | None = None,
        message_ts: str | None = None,
        view_id: str | None = None,
        pick: Literal["only", "latest"] = "only",
        block_id: str | None = None,
    ) -> Found:
        visible = self.visible_elements()
        matches = [
            f
            for f in visible
            if f.element.get("action_id") == action_id
            and (text is None or _plain(f.element.get("text")) == text)
            and (value is None or f.element.get("value") == value)
            and (surface is None or f.surface == surface)
            and (channel_id is None or f.channel_id == channel_id)
            and (message_ts is None or _ts_of(f) == message_ts)
            and (view_id is None or (f.view is not None and f.view["id"] == view_id))
            and (block_id is None or f.block.get("block_id") == block_id)
        ]
        if not matches:
            seen = "\n  ".join(f.describe() for f in visible) or "(nothing interactive)"
            raise ElementNotFound(
                f"{self.name} sees no element {action_id!r} matching that; visible:\n  {seen}"
            )
        if len(matches) > 1 and pick == "only":
            listed = "\n  ".join(f.describe() for f in matches)
            raise ElementNotFound(
                f"{len(matches)} elements match {action_id!r}; narrow with text=/value=/message_ts=/surface= "
                f"or pass pick='latest':\n  {listed}"
            )
        return matches[-1]

    # ---- block_actions -------------------------------------------------------------------------

    async def click(
        self,
        action_id: str,
        *,
        text: str | None = None,
        value: str | None = None,
        choose: Any = None,
        surface: Surface | None = None,
        channel_id: str | None = None,
        message_ts: str | None = None,
        view_id: str | None = None,
        values: Mapping[str, Any] | None = None,
        pick: Literal["only", "latest"] = "only",
        block_id: str | None = None,
        **kwargs: Any,
    ) -> AppResponse:
        """Click a button, or pick `choose` in a select/date/user picker, found by its action_id.

        `text`/`value` narrow buttons by label or value, `block_id` to one block (as a real click does);
        `values` fills the inputs of the modal or message first.
        """
        found = self.find(
            action_id,
            text=text,
            value=value,
            surface=surface,
            channel_id=channel_id,
            message_ts=message_ts,
            view_id=view_id,
            pick=pick,
            block_id=block_id,
        )
        action = _action_payload(found.block, found.element, choose, self._action_ts())
        payload = self._common("block_actions")
        payload["trigger_id"] = self.double.issue_trigger_id(self.id)
        if found.surface in ("modal", "home"):
            assert found.view is not None
            view = copy.deepcopy(found.view)
            view["state"] = {"values": build_state_values(found.view, values or {}, enforce_required=False)}
            payload["container"] = {"type": "view", "view_id": view["id"]}
            payload["view"] = view
        else:
            assert found.channel_id is not None
            ts = _ts_of(found)
            assert ts is not None
            container: Json = {
                "type": "message",
                "message_ts": ts,
                "channel_id": found.channel_id,
                "is_ephemeral": found.surface == "ephemeral",
            }
            thread_ts = found.message.get("thread_ts") if found.message else None
            if thread_ts:
                container["thread_ts"] = thread_ts
            payload["container"] = container
            payload["channel"] = self._channel_obj(found.channel_id)
            if found.message is not None:  # Slack sends no `message` for ephemeral messages
                payload["message"] = copy.deepcopy(found.message)
            # A message's inputs travel with its buttons, as Slack sends them (`values` types into them).
            typed = (
                build_state_values(found.message, values or {}, enforce_required=False)
                if found.message is not None
                else {}
            )
            payload["state"] = {"values": typed}
            payload["response_url"] = self.double.issue_response_url(
                self.id, found.channel_id, ts, is_ephemeral=found.surface == "ephemeral"
            )
        payload["actions"] = [action]
        return await self.sender.post_interaction(payload, **kwargs)

    # ---- modals --------------------------------------------------------------------------------

    def current_view(self, view_id: str | None = None) -> Json:
        stack = self.double.open_views(self.id)
        if not stack:
            raise ElementNotFound(f"{self.name} has no modal open")
        if view_id is None:
            return stack[-1]
        if view_id != stack[-1]["id"]:
            raise ElementNotFound(
                f"view {view_id} is not the modal {self.name} sees (that is {stack[-1]['id']})"
            )
        return stack[-1]

    async def submit_view(
        self,
        values: Mapping[str, Any] | None = None,
        *,
        view_id: str | None = None,
        enforce_required: bool = True,
        **kwargs: Any,
    ) -> AppResponse:
        """Fill in and submit the open modal; apply the app's response_action to the double's views.

        `values` maps a block_id or an input's label to a value, or a block_id to {action_id: value}.
        Values are option values/texts for selects, user ids for user pickers, "YYYY-MM-DD" for dates.
        """
        view = self.current_view(view_id)
        submitted = copy.deepcopy(view)
        submitted["state"] = {
            "values": build_state_values(view, values or {}, enforce_required=enforce_required)
        }
        payload = self._common("view_submission")
        payload.update(trigger_id=self.double.issue_trigger_id(self.id), view=submitted, response_urls=[])
        response = await self.sender.post_interaction(payload, **kwargs)
        if response.status == 200 and not response.timed_out:
            self.double.apply_view_response(self.id, response.json, source="view_submission")
        return response

    async def close_view(self, *, view_id: str | None = None, **kwargs: Any) -> AppResponse | None:
        """Press Cancel/X. Slack tells the app (view_closed) only if the view asked for notify_on_close."""
        view = self.current_view(view_id)
        cleared = bool(view.get("clear_on_close"))
        if cleared:
            self.double.clear_views(self.id)
        else:
            self.double.close_top_view(self.id)
        if not view.get("notify_on_close"):
            return None
        payload = self._common("view_closed")
        payload.update(view=copy.deepcopy(view), is_cleared=cleared)
        return await self.sender.post_interaction(payload, **kwargs)


def _from_delivery(delivery: Delivery) -> AppResponse:
    envelope_id = delivery.envelope.envelope_id if delivery.envelope is not None else None
    if delivery.timed_out:
        return AppResponse(0, None, {}, delivery.elapsed, True, "socket", envelope_id)
    return AppResponse(200, delivery.payload, {}, delivery.elapsed, False, "socket", envelope_id)


def _ts_of(found: Found) -> str | None:
    if found.message is not None:
        ts = found.message.get("ts")
        return str(ts) if ts is not None else None
    return found.ephemeral.ts if found.ephemeral is not None else None


def _options(element: Json) -> list[Json]:
    options = list(element.get("options") or [])
    for group in element.get("option_groups") or []:
        options.extend(group.get("options") or [])
    return options


def _match_option(element: Json, wanted: Any) -> Json:
    """An option by value, else by visible text; external selects take whatever option dict is given."""
    if isinstance(wanted, dict):
        return wanted
    options = _options(element)
    for key in ("value", "text"):
        for option in options:
            candidate = option.get("value") if key == "value" else _plain(option.get("text"))
            if candidate == wanted:
                return copy.deepcopy(option)
    if element.get("type") in ("external_select", "multi_external_select"):
        return {"text": {"type": "plain_text", "text": str(wanted), "emoji": True}, "value": str(wanted)}
    choices = [o.get("value") for o in options]
    raise ValueError(f"{wanted!r} is not an option of {element.get('action_id')!r}; options: {choices}")


def _selection(element: Json, wanted: Any) -> Json:
    """The type-specific selection fields for `wanted`, as both state.values and actions[] carry them."""
    kind = element.get("type")
    if kind in _SINGLE_OPTION:
        return {"selected_option": None if wanted is None else _match_option(element, wanted)}
    if kind in _MULTI_OPTION:
        return {"selected_options": [_match_option(element, w) for w in (wanted or [])]}
    if kind in _TEXT_VALUE:
        if wanted is not None and kind == "number_input":
            _check_number(element, wanted)
        return {"value": None if wanted is None else str(wanted)}
    if kind == "rich_text_input":
        if wanted is None or isinstance(wanted, dict):
            return {"rich_text_value": wanted}
        section = {"type": "rich_text_section", "elements": [{"type": "text", "text": str(wanted)}]}
        return {"rich_text_value": {"type": "rich_text", "elements": [section]}}
    if kind == "file_input":
        return {"files": list(wanted or [])}
    if kind in _ID_FIELD:
        key = _ID_FIELD[kind][0]
        if kind.startswith("multi_"):
            return {key: list(wanted or [])}
        if (
            kind == "datepicker"
            and wanted is not None
            and not re.fullmatch(r"\d{4}-\d{2}-\d{2}", str(wanted))
        ):
            raise ValueError(f"datepicker value must be YYYY-MM-DD, got {wanted!r}")
        if kind == "timepicker" and wanted is not None and not re.fullmatch(r"\d{2}:\d{2}", str(wanted)):
            raise ValueError(f"timepicker value must be HH:MM, got {wanted!r}")
        return {key: wanted}
    raise ValueError(f"the double cannot fill a {kind!r} element yet")


def _check_number(element: Json, wanted: Any) -> None:
    """The Slack client refuses to submit numbers outside the input's own rules."""
    text = str(wanted)
    pattern = r"-?\d+(\.\d+)?" if element.get("is_decimal_allowed") else r"-?\d+"
    if not re.fullmatch(pattern, text):
        raise ValueError(f"{text!r} is not a number {element.get('action_id')!r} accepts")
    number = float(text)
    low, high = element.get("min_value"), element.get("max_value")
    if (low is not None and number < float(low)) or (high is not None and number > float(high)):
        raise ValueError(f"{text} is outside [{low}, {high}] for {element.get('action_id')!r}")


def _initial(element: Json) -> Any:
    kind = element.get("type")
    if kind in _TEXT_VALUE or kind == "rich_text_input":
        return element.get("initial_value")
    if kind in _ID_FIELD:
        return element.get(_ID_FIELD[kind][1])
    return None


def _is_empty(value: Any) -> bool:
    return value is None or value == "" or value == []


def build_state_values(view: Json, values: Mapping[str, Any], *, enforce_required: bool) -> Json:
    """view.state.values as Slack builds it: every input block, keyed block_id -> action_id -> selection."""
    inputs = [
        b for b in view.get("blocks", []) if b.get("type") == "input" and isinstance(b.get("element"), dict)
    ]
    by_block = {b["block_id"]: b for b in inputs}
    by_label: dict[str, Json] = {}
    for block in inputs:
        label = _plain(block.get("label"))
        if label:
            by_label.setdefault(label.casefold(), block)

    given: dict[str, Any] = {}
    extra: dict[str, dict[str, Any]] = {}  # values for elements outside input blocks (selects in actions)
    for key, wanted in values.items():
        block = by_block.get(key) or by_label.get(key.casefold())
        if block is None:
            other = next((b for b in view.get("blocks", []) if b.get("block_id") == key), None)
            if other is not None and isinstance(wanted, dict):
                extra[key] = dict(wanted)
                continue
            labels = [_plain(b.get("label")) for b in inputs]
            raise KeyError(
                f"no input {key!r} in view {view.get('id')}; block_ids {list(by_block)}, labels {labels}"
            )
        action_id = block["element"].get("action_id")
        if isinstance(wanted, dict) and set(wanted) <= {action_id} and wanted:
            wanted = wanted[action_id]
        given[block["block_id"]] = wanted

    state: Json = {}
    for block in inputs:
        element = block["element"]
        wanted = given.get(block["block_id"])
        if block["block_id"] in given:
            selection = _selection(element, wanted)
        elif element.get("type") in _SINGLE_OPTION:  # untouched inputs submit their initial value
            selection = {"selected_option": copy.deepcopy(element.get("initial_option"))}
        elif element.get("type") in _MULTI_OPTION:
            selection = {"selected_options": copy.deepcopy(element.get("initial_options") or [])}
        else:
            selection = _selection(element, _initial(element))
        label = _plain(block.get("label")) or block["block_id"]
        if enforce_required and not block.get("optional") and all(_is_empty(v) for v in selection.values()):
            raise ValueError(f"Slack would not let the user submit: {label!r} is required")
        _check_length(element, selection, label)
        state[block["block_id"]] = {element["action_id"]: {"type": element["type"], **selection}}

    for block_id, by_action in extra.items():
        block = next(b for b in view["blocks"] if b.get("block_id") == block_id)
        elements = {el.get("action_id"): el for _, el in iter_elements(block)}
        for action_id, wanted in by_action.items():
            if action_id not in elements:
                raise KeyError(f"no element {action_id!r} in block {block_id!r}")
            element = elements[action_id]
            state.setdefault(block_id, {})[action_id] = {
                "type": element["type"],
                **_selection(element, wanted),
            }
    return state


def _check_length(element: Json, selection: Json, label: str) -> None:
    value = selection.get("value")
    if element.get("type") != "plain_text_input" or not isinstance(value, str):
        return
    low, high = element.get("min_length"), element.get("max_length")
    if (low is not None and len(value) < low) or (high is not None and len(value) > high):
        raise ValueError(f"Slack would not let the user submit: {label!r} must be {low}..{high} characters")


def _action_payload(block: Json, element: Json, choose: Any, action_ts: str) -> Json:
    """actions[0] of block_actions for this element."""
    kind = element.get("type")
    action: Json = {
        "type": kind,
        "action_id": element.get("action_id"),
        "block_id": block.get("block_id"),
        "action_ts": action_ts,
    }
    if kind == "button":
        action["text"] = copy.deepcopy(element.get("text"))
        for key in ("value", "style", "url"):
            if key in element:
                action[key] = element[key]
        return action
    if choose is None and kind not in _TEXT_VALUE:
        raise ValueError(f"{element.get('action_id')!r} is a {kind}: say what to pick with choose=")
    action.update(_selection(element, choose))
    if "placeholder" in element:
        action["placeholder"] = copy.deepcopy(element["placeholder"])
    return action
