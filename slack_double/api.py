"""Semantics of the Web API methods the double implements, on top of the workspace state."""

from __future__ import annotations

import base64
import copy
import json
import mimetypes
from collections.abc import Callable
from typing import Any

from slack_double.blocks import MAX_MESSAGE_TEXT, iter_elements, validate_message_blocks, validate_view
from slack_double.state import Channel, Clock, Ephemeral, IdFactory, Json, TriggerId, UploadedFile, Workspace

TRIGGER_TTL_SECONDS = 3.0
MAX_MODAL_STACK = 3
DEFAULT_PAGE = 100

# Methods that take the app-level token (xapp-) and refuse the bot token; every other method is the reverse.
APP_TOKEN_METHODS = frozenset({"apps.connections.open"})

# Errors that mean "the app sent a payload Slack would refuse": tests assert none of these happened.
REJECTION_ERRORS = frozenset(
    {"invalid_blocks", "invalid_blocks_format", "invalid_arguments", "invalid_metadata_format", "no_text"}
)


class ApiError(Exception):
    """A Slack `{"ok": false, "error": ...}` answer, with any extra top-level fields."""

    def __init__(self, error: str, **extra: Any) -> None:
        super().__init__(error)
        self.error = error
        self.extra = extra

    def body(self) -> Json:
        return {"ok": False, "error": self.error, **self.extra}


def invalid_blocks(errors: list[str]) -> ApiError:
    return ApiError(
        "invalid_blocks",
        errors=errors,
        response_metadata={"messages": [f"[ERROR] {e}" for e in errors]},
    )


def invalid_view(errors: list[str]) -> ApiError:
    return ApiError("invalid_arguments", response_metadata={"messages": [f"[ERROR] {e}" for e in errors]})


def as_bool(value: Any) -> bool:
    if isinstance(value, str):
        return value.lower() in ("1", "true", "yes")
    return bool(value)


def json_arg(args: Json, key: str, error: str) -> Any:
    """Arguments slack_sdk sends as JSON strings inside form data (blocks, view, metadata, files)."""
    value = args.get(key)
    if isinstance(value, str):
        try:
            return json.loads(value)
        except json.JSONDecodeError as exc:
            raise ApiError(error, errors=[f"{key} is not valid JSON: {exc}"]) from exc
    return value


def require(args: Json, key: str) -> str:
    value = args.get(key)
    if value in (None, ""):
        raise ApiError(
            "invalid_arguments", response_metadata={"messages": [f"[ERROR] missing required field: {key}"]}
        )
    return str(value)


class WebApi:
    """One instance per double; `handlers` maps Slack method names to functions of the request args."""

    def __init__(
        self,
        ws: Workspace,
        ids: IdFactory,
        clock: Clock,
        public_url: Callable[[], str],
        socket_url: Callable[[], str] | None = None,
    ) -> None:
        self.ws = ws
        self.ids = ids
        self.clock = clock
        self._public_url = public_url  # root URL of the running server, for upload URLs
        self._socket_url = socket_url  # a fresh Socket Mode URL (see slack_double.socket_mode)
        self.handlers: dict[str, Callable[[Json], Json]] = {
            "api.test": self.api_test,
            "apps.connections.open": self.apps_connections_open,
            "auth.test": self.auth_test,
            "team.info": self.team_info,
            "users.info": self.users_info,
            "conversations.info": self.conversations_info,
            "conversations.join": self.conversations_join,
            "conversations.open": self.conversations_open,
            "conversations.history": self.conversations_history,
            "conversations.replies": self.conversations_replies,
            "chat.postMessage": self.chat_post_message,
            "chat.update": self.chat_update,
            "chat.delete": self.chat_delete,
            "chat.postEphemeral": self.chat_post_ephemeral,
            "chat.getPermalink": self.chat_get_permalink,
            "views.open": self.views_open,
            "views.push": self.views_push,
            "views.update": self.views_update,
            "views.publish": self.views_publish,
            "reactions.add": self.reactions_add,
            "usergroups.users.list": self.usergroups_users_list,
            "files.getUploadURLExternal": self.files_get_upload_url_external,
            "files.completeUploadExternal": self.files_complete_upload_external,
        }

    # ---- lookups -------------------------------------------------------------------------------

    @property
    def bot(self) -> str:
        return self.ws.bot_user_id

    def channel(self, channel_id: str) -> Channel:
        """A conversation the bot can see: private ones it is not in do not exist for it, as in Slack."""
        channel = self.ws.channels.get(channel_id) or self.ws.channel_by_name(channel_id)
        if channel is None or (channel.is_private and self.bot not in channel.members):
            raise ApiError("channel_not_found")
        return channel

    def open_im(self, user_id: str) -> tuple[Channel, bool]:
        existing = self.ws.im_with(user_id)
        if existing is not None:
            return existing, True
        user = self.ws.users.get(user_id)
        if user is None or user.deleted:
            raise ApiError("user_not_found")
        channel = Channel(
            id=self.ids.new("D"),
            name=user_id,
            is_private=True,
            is_im=True,
            members={user_id, self.bot},
            im_user=user_id,
            created=int(self.clock.now()),
        )
        self.ws.channels[channel.id] = channel
        return channel, False

    def postable_channel(self, channel_arg: str) -> Channel:
        """chat.postMessage's `channel`: an id, a #name, or a user id meaning the app's DM with them."""
        if channel_arg.startswith(("U", "W")) and channel_arg in self.ws.users:
            try:
                return self.open_im(channel_arg)[0]
            except ApiError as exc:
                raise ApiError("channel_not_found") from exc
        channel = self.channel(channel_arg)
        if channel.is_archived:
            raise ApiError("is_archived")
        if self.bot not in channel.members:
            raise ApiError("not_in_channel")
        return channel

    def message(self, channel: Channel, ts: str) -> Json:
        message = channel.messages.get(ts)
        if message is None:
            raise ApiError("message_not_found")
        return message

    # ---- payload checks ------------------------------------------------------------------------

    def message_content(self, args: Json, *, require_content: bool = True) -> tuple[str, list[Json] | None]:
        blocks = json_arg(args, "blocks", "invalid_blocks_format")
        if blocks is not None:
            errors = validate_message_blocks(blocks)
            if errors:
                raise invalid_blocks(errors)
            blocks = self.with_ids(blocks)
        text = args.get("text")
        text = "" if text is None else str(text)
        has_attachments = bool(args.get("attachments"))
        if require_content and not text and not blocks and not has_attachments:
            raise ApiError("no_text")
        # Slack cuts overlong text instead of refusing it.
        return text[:MAX_MESSAGE_TEXT], blocks

    def metadata(self, args: Json) -> Json | None:
        metadata = json_arg(args, "metadata", "invalid_metadata_format")
        if metadata is None:
            return None
        if (
            not isinstance(metadata, dict)
            or not isinstance(metadata.get("event_type"), str)
            or not isinstance(metadata.get("event_payload", {}), dict)
        ):
            raise ApiError("invalid_metadata_format")
        return {"event_type": metadata["event_type"], "event_payload": metadata.get("event_payload", {})}

    def with_ids(self, blocks: list[Json]) -> list[Json]:
        """Slack fills in missing block_id/action_id with random ones; state.values is keyed by them."""
        blocks = copy.deepcopy(blocks)
        for block in blocks:
            block.setdefault("block_id", self.ids.hex(5))
            for _, element in iter_elements(block):
                if element.get("type") not in ("image", "mrkdwn", "plain_text"):
                    element.setdefault("action_id", self.ids.hex(5))
        return blocks

    def view_spec(self, args: Json) -> Json:
        view = json_arg(args, "view", "invalid_arguments")
        errors = validate_view(view)
        if errors:
            raise invalid_view(errors)
        assert isinstance(view, dict)
        return view

    # ---- messages ------------------------------------------------------------------------------

    def bot_message(self, text: str, blocks: list[Json] | None, ts: str) -> Json:
        message: Json = {
            "user": self.bot,
            "type": "message",
            "ts": ts,
            "bot_id": self.ws.bot_id,
            "app_id": self.ws.app_id,
            "text": text,
            "team": self.ws.team_id,
            "bot_profile": {
                "id": self.ws.bot_id,
                "app_id": self.ws.app_id,
                "name": self.ws.users[self.bot].real_name,
                "icons": {"image_36": "https://avatars.example/bot_36.png"},
                "deleted": False,
                "updated": 1700000000,
                "team_id": self.ws.team_id,
            },
        }
        if blocks is not None:
            message["blocks"] = blocks
        return message

    def add_message(
        self, channel: Channel, message: Json, thread_ts: str | None, broadcast: bool = False
    ) -> Json:
        """Store a message (from the bot or a person), threading it under `thread_ts` if given."""
        if thread_ts:
            parent = channel.messages.get(thread_ts)
            if parent is None:
                raise ApiError("thread_not_found")
            root_ts: str = parent.get("thread_ts") or parent["ts"]  # replying to a reply joins its thread
            parent = channel.messages[root_ts]
            message["thread_ts"] = root_ts
            message["parent_user_id"] = parent.get("user")
            if broadcast:
                message["subtype"] = "thread_broadcast"
            parent["thread_ts"] = root_ts
            parent["reply_count"] = parent.get("reply_count", 0) + 1
            users = parent.setdefault("reply_users", [])
            if message.get("user") not in users:
                users.append(message.get("user"))
            parent["reply_users_count"] = len(users)
            parent["latest_reply"] = message["ts"]
        channel.messages[message["ts"]] = message
        return message

    @staticmethod
    def public_message(message: Json, *, with_metadata: bool) -> Json:
        """What the API shows: metadata only when asked for (include_all_metadata)."""
        shown = copy.deepcopy(message)
        if not with_metadata:
            shown.pop("metadata", None)
        return shown

    def chat_post_message(self, args: Json) -> Json:
        channel = self.postable_channel(require(args, "channel"))
        text, blocks = self.message_content(args)
        metadata = self.metadata(args)
        message = self.bot_message(text, blocks, self.ids.ts())
        if metadata is not None:
            message["metadata"] = metadata
        thread_ts = args.get("thread_ts") or None
        self.add_message(channel, message, thread_ts, broadcast=as_bool(args.get("reply_broadcast")))
        return {
            "ok": True,
            "channel": channel.id,
            "ts": message["ts"],
            "message": self.public_message(message, with_metadata=False),
        }

    def chat_update(self, args: Json) -> Json:
        channel = self.channel(require(args, "channel"))
        message = self.message(channel, require(args, "ts"))
        if message.get("user") != self.bot:
            raise ApiError("cant_update_message")
        text, blocks = self.message_content(args, require_content=False)
        metadata = self.metadata(args)
        if "text" in args or blocks is not None:
            message["text"] = text
        if blocks is not None:
            message["blocks"] = blocks
        if metadata is not None:
            message["metadata"] = metadata
        message["edited"] = {"user": self.bot, "ts": self.ids.ts()}
        return {
            "ok": True,
            "channel": channel.id,
            "ts": message["ts"],
            "text": message["text"],
            "message": self.public_message(message, with_metadata=False),
        }

    def chat_delete(self, args: Json) -> Json:
        channel = self.channel(require(args, "channel"))
        message = self.message(channel, require(args, "ts"))
        if message.get("user") != self.bot:
            raise ApiError("cant_delete_message")
        del channel.messages[message["ts"]]
        return {"ok": True, "channel": channel.id, "ts": message["ts"]}

    def chat_post_ephemeral(self, args: Json) -> Json:
        channel = self.channel(require(args, "channel"))
        user_id = require(args, "user")
        if user_id not in channel.members:
            raise ApiError("user_not_in_channel")
        text, blocks = self.message_content(args)
        return {
            "ok": True,
            "message_ts": self.add_ephemeral(channel.id, user_id, text, blocks, args.get("thread_ts")),
        }

    def add_ephemeral(
        self,
        channel_id: str,
        user_id: str,
        text: str,
        blocks: list[Json] | None,
        thread_ts: str | None = None,
    ) -> str:
        ts = self.ids.ts()
        self.ws.ephemerals.append(Ephemeral(channel_id, user_id, ts, text, blocks or [], thread_ts or None))
        return ts

    def chat_get_permalink(self, args: Json) -> Json:
        channel = self.channel(require(args, "channel"))
        message = self.message(channel, require(args, "message_ts"))
        return {"ok": True, "channel": channel.id, "permalink": self.permalink(channel.id, message)}

    def permalink(self, channel_id: str, message: Json) -> str:
        url = (
            f"https://{self.ws.team_domain}.slack.com/archives/{channel_id}/p{message['ts'].replace('.', '')}"
        )
        thread_ts = message.get("thread_ts")
        if thread_ts and thread_ts != message["ts"]:
            url += f"?thread_ts={thread_ts}&cid={channel_id}"
        return url

    def apps_connections_open(self, args: Json) -> Json:
        """A one-time WebSocket URL for Socket Mode (the caller's app-level token is checked before this)."""
        if self._socket_url is None:
            raise ApiError("not_allowed_token_type")
        return {"ok": True, "url": self._socket_url()}

    def reactions_add(self, args: Json) -> Json:
        channel = self.channel(require(args, "channel"))
        message = self.message(channel, require(args, "timestamp"))
        name = require(args, "name").strip(":")
        reactions = message.setdefault("reactions", [])
        reaction = next((r for r in reactions if r["name"] == name), None)
        if reaction is None:
            reaction = {"name": name, "users": [], "count": 0}
            reactions.append(reaction)
        if self.bot in reaction["users"]:
            raise ApiError("already_reacted")
        reaction["users"].append(self.bot)
        reaction["count"] += 1
        return {"ok": True}

    # ---- conversations -------------------------------------------------------------------------

    def conversations_info(self, args: Json) -> Json:
        channel = self.channel(require(args, "channel"))
        with_count = as_bool(args.get("include_num_members"))
        return {"ok": True, "channel": channel.to_api(self.bot, num_members=with_count)}

    def conversations_join(self, args: Json) -> Json:
        channel = self.channel(require(args, "channel"))
        if channel.is_private or channel.is_im:
            raise ApiError("method_not_supported_for_channel_type")
        if channel.is_archived:
            raise ApiError("is_archived")
        body: Json = {"ok": True}
        if self.bot in channel.members:
            body["warning"] = "already_in_channel"
            body["response_metadata"] = {"warnings": ["already_in_channel"]}
        channel.members.add(self.bot)
        body["channel"] = channel.to_api(self.bot)
        return body

    def conversations_open(self, args: Json) -> Json:
        if args.get("channel"):
            channel = self.channel(str(args["channel"]))
            already = True
        else:
            users = [u for u in require(args, "users").split(",") if u]
            if len(users) != 1:
                raise ApiError("not_implemented", detail="the double opens DMs with one user only")
            channel, already = self.open_im(users[0])
        body: Json = {"ok": True}
        if already:
            body.update(no_op=True, already_open=True)
        body["channel"] = channel.to_api(self.bot) if as_bool(args.get("return_im")) else {"id": channel.id}
        return body

    def readable_channel(self, channel_id: str) -> Channel:
        channel = self.channel(channel_id)
        if not channel.is_im and channel.is_private and self.bot not in channel.members:
            raise ApiError("channel_not_found")
        if not channel.is_im and self.bot not in channel.members:
            raise ApiError("not_in_channel")
        return channel

    @staticmethod
    def _page(items: list[Json], args: Json) -> tuple[list[Json], str | None]:
        """Cursor pagination: the cursor is the index to resume from, opaque as Slack's are."""
        limit = int(args.get("limit") or DEFAULT_PAGE)
        cursor = args.get("cursor")
        start = int(base64.b64decode(str(cursor)).decode().split(":")[1]) if cursor else 0
        page = items[start : start + limit]
        more = start + limit < len(items)
        next_cursor = base64.b64encode(f"next:{start + limit}".encode()).decode() if more else None
        return page, next_cursor

    def conversations_history(self, args: Json) -> Json:
        channel = self.readable_channel(require(args, "channel"))
        inclusive = as_bool(args.get("inclusive"))
        oldest = float(args.get("oldest") or 0)
        latest = float(args["latest"]) if args.get("latest") else None
        with_metadata = as_bool(args.get("include_all_metadata"))

        def in_range(ts: float) -> bool:
            low = ts >= oldest if inclusive else ts > oldest
            high = latest is None or (ts <= latest if inclusive else ts < latest)
            return low and high

        messages = [m for m in reversed(self.ws.top_level(channel.id)) if in_range(float(m["ts"]))]
        page, next_cursor = self._page(messages, args)
        return {
            "ok": True,
            "messages": [self.public_message(m, with_metadata=with_metadata) for m in page],
            "has_more": next_cursor is not None,
            "pin_count": 0,
            "channel_actions_ts": None,
            "channel_actions_count": 0,
            "response_metadata": {"next_cursor": next_cursor or ""},
        }

    def conversations_replies(self, args: Json) -> Json:
        channel = self.readable_channel(require(args, "channel"))
        ts = require(args, "ts")
        message = channel.messages.get(ts)
        if message is None:
            raise ApiError("thread_not_found")
        thread = self.ws.thread(channel.id, message.get("thread_ts", ts))
        page, next_cursor = self._page(thread, args)
        with_metadata = as_bool(args.get("include_all_metadata"))
        body: Json = {
            "ok": True,
            "messages": [self.public_message(m, with_metadata=with_metadata) for m in page],
            "has_more": next_cursor is not None,
        }
        if next_cursor:
            body["response_metadata"] = {"next_cursor": next_cursor}
        return body

    # ---- workspace -----------------------------------------------------------------------------

    def api_test(self, args: Json) -> Json:
        return {"ok": True, "args": {k: v for k, v in args.items() if k != "token"}}

    def auth_test(self, args: Json) -> Json:
        return {
            "ok": True,
            "url": f"https://{self.ws.team_domain}.slack.com/",
            "team": self.ws.team_name,
            "user": self.ws.users[self.bot].name,
            "team_id": self.ws.team_id,
            "user_id": self.bot,
            "bot_id": self.ws.bot_id,
            "app_id": self.ws.app_id,
            "is_enterprise_install": False,
        }

    def team_info(self, args: Json) -> Json:
        return {
            "ok": True,
            "team": {
                "id": self.ws.team_id,
                "name": self.ws.team_name,
                "domain": self.ws.team_domain,
                "email_domain": "",
                "icon": {"image_34": "https://avatars.example/team_34.png", "image_default": True},
                "url": f"https://{self.ws.team_domain}.slack.com/",
                "is_verified": False,
                "avatar_base_url": "https://avatars.example/",
            },
        }

    def users_info(self, args: Json) -> Json:
        user = self.ws.users.get(require(args, "user"))
        if user is None:
            raise ApiError("user_not_found")
        return {"ok": True, "user": user.to_api(self.ws.app_id)}

    def usergroups_users_list(self, args: Json) -> Json:
        users = self.ws.usergroups.get(require(args, "usergroup"))
        if users is None:
            raise ApiError("no_such_subteam")
        return {"ok": True, "users": list(users)}

    # ---- views ---------------------------------------------------------------------------------

    def consume_trigger(self, args: Json) -> TriggerId:
        """A trigger_id works once, for 3 seconds, as Slack documents: one Slack never issued is
        `invalid_trigger_id`, a used one `exchanged_trigger_id`, an old one `expired_trigger_id`."""
        value = require(args, "trigger_id")
        trigger = self.ws.triggers.get(value)
        if trigger is None:
            raise ApiError("invalid_trigger_id")
        if trigger.used:
            raise ApiError("exchanged_trigger_id")
        if self.clock.now() - trigger.issued_at > TRIGGER_TTL_SECONDS:
            raise ApiError("expired_trigger_id")
        trigger.used = True
        return trigger

    def materialize_view(
        self, spec: Json, view_id: str, user_id: str, *, root: str, previous: str | None
    ) -> Json:
        """A view as Slack stores and returns it: ids filled in, a fresh hash, state emptied."""

        def text_obj(value: Any) -> Json | None:
            if value is None:
                return None
            obj = dict(value)
            if obj.get("type") == "plain_text":
                obj.setdefault("emoji", True)
            return obj

        view: Json = {
            "id": view_id,
            "team_id": self.ws.team_id,
            "type": spec["type"],
            "blocks": self.with_ids(spec.get("blocks", [])),
            "private_metadata": spec.get("private_metadata", ""),
            "callback_id": spec.get("callback_id", ""),
            "state": {"values": {}},
            "hash": self.ids.view_hash(),
            "title": text_obj(spec.get("title")),
            "clear_on_close": bool(spec.get("clear_on_close", False)),
            "notify_on_close": bool(spec.get("notify_on_close", False)),
            "close": text_obj(spec.get("close")),
            "submit": text_obj(spec.get("submit")),
            "previous_view_id": previous,
            "root_view_id": root,
            "app_id": self.ws.app_id,
            "external_id": spec.get("external_id", ""),
            "app_installed_team_id": self.ws.team_id,
            "bot_id": self.ws.bot_id,
        }
        if spec["type"] == "modal":
            view["submit_disabled"] = False
        external_id = view["external_id"]
        if external_id and any(
            v["external_id"] == external_id and vid != view_id for vid, v in self.ws.views.items()
        ):
            raise ApiError("duplicate_external_id")
        self.ws.views[view_id] = view
        self.ws.view_owner[view_id] = user_id
        return view

    def views_open(self, args: Json) -> Json:
        spec = self.view_spec(args)
        if spec["type"] != "modal":
            raise invalid_view(["views.open takes a modal view [json-pointer:/view/type]"])
        trigger = self.consume_trigger(args)
        view_id = self.ids.new("V")
        view = self.materialize_view(spec, view_id, trigger.user_id, root=view_id, previous=None)
        self.ws.modal_stacks[trigger.user_id] = [view_id]
        return {"ok": True, "view": copy.deepcopy(view)}

    def push_view(self, user_id: str, spec: Json) -> Json:
        stack = self.ws.modal_stacks.get(user_id) or []
        if not stack:
            raise ApiError("not_found", detail="no modal is open to push onto")
        if len(stack) >= MAX_MODAL_STACK:
            raise ApiError("push_limit_reached")
        view_id = self.ids.new("V")
        view = self.materialize_view(spec, view_id, user_id, root=stack[0], previous=stack[-1])
        stack.append(view_id)
        return view

    def views_push(self, args: Json) -> Json:
        spec = self.view_spec(args)
        if spec["type"] != "modal":
            raise invalid_view(["views.push takes a modal view [json-pointer:/view/type]"])
        trigger = self.consume_trigger(args)
        return {"ok": True, "view": copy.deepcopy(self.push_view(trigger.user_id, spec))}

    def replace_view(self, view_id: str, spec: Json) -> Json:
        old = self.ws.views[view_id]
        if spec["type"] != old["type"]:
            raise invalid_view(
                [f"cannot change a {old['type']} view into a {spec['type']} [json-pointer:/view/type]"]
            )
        return self.materialize_view(
            spec,
            view_id,
            self.ws.view_owner[view_id],
            root=old["root_view_id"],
            previous=old["previous_view_id"],
        )

    def views_update(self, args: Json) -> Json:
        view_id = args.get("view_id")
        external_id = args.get("external_id")
        if not view_id and not external_id:
            raise ApiError(
                "invalid_arguments", response_metadata={"messages": ["[ERROR] view_id or external_id"]}
            )
        if not view_id:
            view_id = next((vid for vid, v in self.ws.views.items() if v["external_id"] == external_id), None)
        if view_id not in self.ws.views:
            raise ApiError("not_found")
        assert isinstance(view_id, str)
        spec = self.view_spec(args)
        expected = args.get("hash")
        if expected and expected != self.ws.views[view_id]["hash"]:
            raise ApiError("hash_conflict")
        return {"ok": True, "view": copy.deepcopy(self.replace_view(view_id, spec))}

    def views_publish(self, args: Json) -> Json:
        user_id = require(args, "user_id")
        user = self.ws.users.get(user_id)
        if user is None or user.deleted:
            raise ApiError("user_not_found")
        spec = self.view_spec(args)
        if spec["type"] != "home":
            raise invalid_view(["views.publish takes a home view [json-pointer:/view/type]"])
        view_id = self.ws.home_views.get(user_id)
        expected = args.get("hash")
        if view_id is not None and expected and expected != self.ws.views[view_id]["hash"]:
            raise ApiError("hash_conflict")
        view_id = view_id or self.ids.new("V")
        view = self.materialize_view(spec, view_id, user_id, root=view_id, previous=None)
        self.ws.home_views[user_id] = view_id
        return {"ok": True, "view": copy.deepcopy(view)}

    # ---- files ---------------------------------------------------------------------------------

    def files_get_upload_url_external(self, args: Json) -> Json:
        filename = require(args, "filename")
        try:
            length = int(require(args, "length"))
        except ValueError as exc:
            raise ApiError("invalid_arguments") from exc
        file_id = self.ids.new("F")
        self.ws.files[file_id] = UploadedFile(
            id=file_id,
            filename=filename,
            length=length,
            alt_txt=args.get("alt_txt"),
            created=int(self.clock.now()),
        )
        return {"ok": True, "upload_url": f"{self._public_url()}upload/v1/{file_id}", "file_id": file_id}

    def files_complete_upload_external(self, args: Json) -> Json:
        entries = json_arg(args, "files", "invalid_arguments")
        if not isinstance(entries, list) or not entries:
            raise ApiError("invalid_arguments")
        channel_id = args.get("channel_id") or (str(args.get("channels") or "").split(",")[0] or None)
        channel = self.postable_channel(channel_id) if channel_id else None
        done: list[UploadedFile] = []
        for entry in entries:
            uploaded = self.ws.files.get(str(entry.get("id")))
            if uploaded is None or uploaded.content is None or uploaded.completed:
                raise ApiError("file_not_found")
            uploaded.title = entry.get("title") or uploaded.filename
            done.append(uploaded)
        for uploaded in done:
            uploaded.completed = True
            uploaded.channel_id = channel.id if channel else None
        if channel is not None:
            message = self.bot_message(str(args.get("initial_comment") or ""), None, self.ids.ts())
            message["files"] = [self.file_object(f) for f in done]
            message["upload"] = True
            self.add_message(channel, message, args.get("thread_ts") or None)
        return {"ok": True, "files": [self.file_object(f) for f in done]}

    def file_object(self, f: UploadedFile) -> Json:
        mimetype = mimetypes.guess_type(f.filename)[0] or "application/octet-stream"
        filetype = f.filename.rsplit(".", 1)[-1] if "." in f.filename else "binary"
        base = f"https://files.slack.com/files-pri/{self.ws.team_id}-{f.id}/{f.filename}"
        return {
            "id": f.id,
            "created": f.created,
            "timestamp": f.created,
            "name": f.filename,
            "title": f.title or f.filename,
            "mimetype": mimetype,
            "filetype": filetype,
            "pretty_type": filetype.upper(),
            "user": self.bot,
            "user_team": self.ws.team_id,
            "editable": False,
            "size": len(f.content or b""),
            "mode": "hosted",
            "is_external": False,
            "external_type": "",
            "is_public": bool(f.channel_id and not self.ws.channels[f.channel_id].is_private),
            "public_url_shared": False,
            "display_as_bot": False,
            "username": "",
            "url_private": base,
            "url_private_download": f"{base}?download=1",
            "permalink": f"https://{self.ws.team_domain}.slack.com/files/{self.bot}/{f.id}/{f.filename}",
            "permalink_public": f"https://slack-files.com/{self.ws.team_id}-{f.id}",
            "alt_txt": f.alt_txt or "",
            "comments_count": 0,
            "is_starred": False,
            "shares": {},
            "channels": [f.channel_id] if f.channel_id else [],
            "groups": [],
            "ims": [],
            "has_rich_preview": False,
            "file_access": "visible",
        }
