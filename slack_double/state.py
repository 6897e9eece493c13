"""In-memory workspace state of the Slack double: users, channels, messages, views, ids and a clock."""

from __future__ import annotations

import random
import time
from dataclasses import dataclass, field
from typing import Any

Json = dict[str, Any]


class Clock:
    """Wall-clock time plus an adjustable offset, so tests can expire trigger ids without sleeping."""

    def __init__(self) -> None:
        self.offset = 0.0

    def now(self) -> float:
        return time.time() + self.offset

    def advance(self, seconds: float) -> None:
        self.offset += seconds


@dataclass
class User:
    id: str
    name: str
    real_name: str
    team_id: str
    tz: str = "Europe/London"
    tz_label: str = "Greenwich Mean Time"
    tz_offset: int = 0
    is_bot: bool = False
    deleted: bool = False
    email: str | None = None
    bot_id: str | None = None
    is_admin: bool = False

    def to_api(self, app_id: str | None = None) -> Json:
        """The `user` object of users.info."""
        profile: Json = {
            "real_name": self.real_name,
            "real_name_normalized": self.real_name,
            "display_name": self.name,
            "display_name_normalized": self.name,
            "status_text": "",
            "status_emoji": "",
            "avatar_hash": "g0000000000",
            "image_24": f"https://avatars.example/{self.id}_24.png",
            "image_48": f"https://avatars.example/{self.id}_48.png",
            "image_72": f"https://avatars.example/{self.id}_72.png",
            "team": self.team_id,
        }
        if self.email is not None:
            profile["email"] = self.email
        if self.is_bot:
            profile["bot_id"] = self.bot_id
            profile["api_app_id"] = app_id
            profile["always_active"] = True
        return {
            "id": self.id,
            "team_id": self.team_id,
            "name": self.name,
            "deleted": self.deleted,
            "color": "9f69e7",
            "real_name": self.real_name,
            "tz": self.tz,
            "tz_label": self.tz_label,
            "tz_offset": self.tz_offset,
            "profile": profile,
            "is_admin": self.is_admin,
            "is_owner": self.is_admin,
            "is_primary_owner": False,
            "is_restricted": False,
            "is_ultra_restricted": False,
            "is_bot": self.is_bot,
            "is_app_user": False,
            "updated": 1700000000,
        }


@dataclass
class Channel:
    id: str
    name: str
    is_private: bool = False
    is_im: bool = False
    members: set[str] = field(default_factory=set)
    created: int = 1700000000
    creator: str = ""
    im_user: str | None = None  # the human at the other end of a DM with the app
    is_general: bool = False
    is_archived: bool = False
    topic: str = ""
    purpose: str = ""
    # ts -> message, in posting order (ts only ever grows, so this is also ts order)
    messages: dict[str, Json] = field(default_factory=dict)

    def to_api(self, viewer: str, *, num_members: bool = False) -> Json:
        """The `channel` object of conversations.info as seen by `viewer` (the bot)."""
        if self.is_im:
            return {
                "id": self.id,
                "created": self.created,
                "is_archived": False,
                "is_im": True,
                "is_org_shared": False,
                "context_team_id": None,
                "user": self.im_user,
                "last_read": "0000000000.000000",
                "latest": None,
                "unread_count": 0,
                "unread_count_display": 0,
                "is_open": True,
                "priority": 0,
            }
        shown: Json = {
            "id": self.id,
            "name": self.name,
            "is_channel": not self.is_private,
            "is_group": self.is_private,
            "is_im": False,
            "is_mpim": False,
            "is_private": self.is_private,
            "created": self.created,
            "is_archived": self.is_archived,
            "is_general": self.is_general,
            "unlinked": 0,
            "name_normalized": self.name,
            "is_shared": False,
            "is_org_shared": False,
            "is_ext_shared": False,
            "is_pending_ext_shared": False,
            "pending_shared": [],
            "is_member": viewer in self.members,
            "creator": self.creator,
            "topic": {"value": self.topic, "creator": "", "last_set": 0},
            "purpose": {"value": self.purpose, "creator": "", "last_set": 0},
            "previous_names": [],
            "updated": self.created * 1000,
        }
        if num_members:
            shown["num_members"] = len(self.members)
        return shown


@dataclass
class Ephemeral:
    """A message only `user` sees; it never appears in conversations.history."""

    channel: str
    user: str
    ts: str
    text: str
    blocks: list[Json] = field(default_factory=list)
    thread_ts: str | None = None
    deleted: bool = False


@dataclass
class TriggerId:
    value: str
    user_id: str
    issued_at: float
    used: bool = False


@dataclass
class ResponseUrl:
    """Where the app may answer an interaction: Slack allows 5 uses within 30 minutes."""

    token: str
    user_id: str
    channel_id: str | None
    message_ts: str | None
    is_ephemeral: bool
    issued_at: float
    uses: int = 0


@dataclass
class UploadedFile:
    id: str
    filename: str
    length: int
    alt_txt: str | None = None
    content: bytes | None = None
    title: str | None = None
    channel_id: str | None = None
    completed: bool = False
    created: int = 0


@dataclass
class Call:
    """One Web API call as the double saw it."""

    method: str
    args: Json
    ok: bool
    error: str | None = None
    status: int = 200
    errors: list[str] = field(default_factory=list)
    at: float = 0.0
    fault: str | None = None  # the injected fault kind, if any
    applied: bool = True  # False when the call changed nothing (refused, or failed before taking effect)


class IdFactory:
    """Slack-looking ids and timestamps, unique and increasing within one double."""

    def __init__(self, clock: Clock, seed: int | None = None) -> None:
        self._clock = clock
        self._counters: dict[str, int] = {}
        self._last_ts_micros = 0
        self.rng = random.Random(seed)

    def new(self, prefix: str) -> str:
        n = self._counters.get(prefix, 0) + 1
        self._counters[prefix] = n
        return f"{prefix}0{n:08X}"

    def ts(self) -> str:
        """A message ts like "1700000000.000100": microseconds since the epoch, strictly increasing."""
        micros = max(int(self._clock.now() * 1_000_000), self._last_ts_micros + 1)
        self._last_ts_micros = micros
        return f"{micros // 1_000_000}.{micros % 1_000_000:06d}"

    def hex(self, n: int) -> str:
        return "".join(self.rng.choice("0123456789abcdef") for _ in range(n))

    def trigger_id(self) -> str:
        return f"{int(self._clock.now())}.{self.rng.randrange(10**11, 10**12)}.{self.hex(32)}"

    def view_hash(self) -> str:
        return f"{int(self._clock.now())}.{self.hex(8)}"


@dataclass
class Workspace:
    """Everything a test may want to look at, as plain objects and dicts."""

    team_id: str
    team_name: str
    team_domain: str
    bot_user_id: str
    bot_id: str
    app_id: str
    users: dict[str, User] = field(default_factory=dict)
    channels: dict[str, Channel] = field(default_factory=dict)
    ephemerals: list[Ephemeral] = field(default_factory=list)
    views: dict[str, Json] = field(default_factory=dict)  # view_id -> current view (as views.* returns it)
    view_owner: dict[str, str] = field(default_factory=dict)  # view_id -> user_id
    modal_stacks: dict[str, list[str]] = field(default_factory=dict)  # user_id -> view ids, root first
    home_views: dict[str, str] = field(default_factory=dict)  # user_id -> view_id of the home tab
    usergroups: dict[str, list[str]] = field(default_factory=dict)
    files: dict[str, UploadedFile] = field(default_factory=dict)
    triggers: dict[str, TriggerId] = field(default_factory=dict)
    response_urls: dict[str, ResponseUrl] = field(default_factory=dict)

    def user_by_name(self, name: str) -> User | None:
        return next((u for u in self.users.values() if u.name == name), None)

    def channel_by_name(self, name: str) -> Channel | None:
        name = name.removeprefix("#")
        return next((c for c in self.channels.values() if c.name == name and not c.is_im), None)

    def im_with(self, user_id: str) -> Channel | None:
        return next((c for c in self.channels.values() if c.is_im and c.im_user == user_id), None)

    def find_message(self, channel_id: str, ts: str) -> Json | None:
        channel = self.channels.get(channel_id)
        return None if channel is None else channel.messages.get(ts)

    def top_level(self, channel_id: str) -> list[Json]:
        """Messages as the channel shows them: thread replies stay in their threads."""
        channel = self.channels[channel_id]
        return [
            m
            for m in channel.messages.values()
            if m.get("thread_ts", m["ts"]) == m["ts"] or m.get("subtype") == "thread_broadcast"
        ]

    def thread(self, channel_id: str, thread_ts: str) -> list[Json]:
        """Parent first, then replies oldest first, as conversations.replies returns them."""
        channel = self.channels[channel_id]
        parent = channel.messages.get(thread_ts)
        replies = [
            m for m in channel.messages.values() if m.get("thread_ts") == thread_ts and m["ts"] != thread_ts
        ]
        return ([parent] if parent is not None else []) + replies
