"""What Mend declares to Slack in manifest.json: the commands, shortcuts and events the sandbox offers."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import app as composition_root

MANIFEST_PATH = Path(composition_root.__file__).resolve().with_name("manifest.json")


@dataclass(frozen=True)
class SlashCommand:
    command: str
    description: str = ""
    usage_hint: str = ""


@dataclass(frozen=True)
class Shortcut:
    name: str
    callback_id: str
    type: str  # "message" or "global"
    description: str = ""


@dataclass(frozen=True)
class AppManifest:
    """The parts of the manifest that decide what Slack lets people do and what it sends the app."""

    name: str = "Mend"
    commands: tuple[SlashCommand, ...] = ()
    shortcuts: tuple[Shortcut, ...] = ()
    bot_events: frozenset[str] = field(default_factory=frozenset)
    home_tab: bool = True
    messages_tab: bool = True
    messages_tab_read_only: bool = False

    def command(self, name: str) -> SlashCommand | None:
        return next((c for c in self.commands if c.command == name), None)

    def shortcut(self, callback_id: str) -> Shortcut | None:
        return next((s for s in self.shortcuts if s.callback_id == callback_id), None)

    def subscribes_to_messages_in(self, *, is_im: bool, is_private: bool) -> bool:
        """Slack sends `message` events only for the conversation types the app subscribed to."""
        wanted = "message.im" if is_im else ("message.groups" if is_private else "message.channels")
        return wanted in self.bot_events

    def to_json(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "commands": [c.__dict__ for c in self.commands],
            "shortcuts": [s.__dict__ for s in self.shortcuts],
            "home_tab": self.home_tab,
            "messages_tab": self.messages_tab,
            "messages_tab_read_only": self.messages_tab_read_only,
        }


def parse_manifest(data: dict[str, Any]) -> AppManifest:
    features = data.get("features") or {}
    home = features.get("app_home") or {}
    events = ((data.get("settings") or {}).get("event_subscriptions") or {}).get("bot_events") or []
    return AppManifest(
        name=str((data.get("display_information") or {}).get("name") or "Mend"),
        commands=tuple(
            SlashCommand(
                command=str(c["command"]),
                description=str(c.get("description") or ""),
                usage_hint=str(c.get("usage_hint") or ""),
            )
            for c in features.get("slash_commands") or []
        ),
        shortcuts=tuple(
            Shortcut(
                name=str(s["name"]),
                callback_id=str(s["callback_id"]),
                type=str(s.get("type") or "global"),
                description=str(s.get("description") or ""),
            )
            for s in features.get("shortcuts") or []
        ),
        bot_events=frozenset(str(e) for e in events),
        home_tab=bool(home.get("home_tab_enabled", False)),
        messages_tab=bool(home.get("messages_tab_enabled", True)),
        messages_tab_read_only=bool(home.get("messages_tab_read_only_enabled", False)),
    )


def load_manifest(path: Path = MANIFEST_PATH) -> AppManifest:
    return parse_manifest(json.loads(path.read_text(encoding="utf-8")))
