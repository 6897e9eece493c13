"""Reading Slack payloads that may not be what they promise: typed lookups and Slack id checks.

Signed requests come from Slack, but a payload still carries whatever a client put in `value`,
`private_metadata` or `state`, and code must not assume a key holds a dict because it usually does.
"""

from __future__ import annotations

import re
from typing import Any

# Team, user, channel, view and bot ids: an uppercase letter, then uppercase letters and digits.
_SLACK_ID = re.compile(r"[A-Z][A-Z0-9]{1,31}")
# Each kind of id by its first letter, as Slack hands them out: people U (W for Enterprise Grid), channels
# C (G for older private channels and group DMs, D for DMs), user groups S, workspaces T (E an enterprise).
_USER_ID = re.compile(r"[UW][A-Z0-9]{1,31}")
_CHANNEL_ID = re.compile(r"[CGD][A-Z0-9]{1,31}")
_USERGROUP_ID = re.compile(r"S[A-Z0-9]{1,31}")
_TEAM_ID = re.compile(r"[TE][A-Z0-9]{1,31}")
_MESSAGE_TS = re.compile(r"\d{1,12}\.\d{1,9}")
MAX_OPAQUE = 512  # trigger ids and the like are far shorter


def field(obj: Any, *path: str) -> Any:
    """`obj[path[0]][path[1]]...`, or None as soon as a step is not a dict or lacks the key."""
    for key in path:
        if not isinstance(obj, dict):
            return None
        obj = obj.get(key)
    return obj


def text_field(obj: Any, *path: str) -> str | None:
    value = field(obj, *path)
    return value if isinstance(value, str) else None


def slack_id(value: Any) -> str | None:
    return value if isinstance(value, str) and _SLACK_ID.fullmatch(value) else None


def id_field(obj: Any, *path: str) -> str | None:
    return slack_id(field(obj, *path))


def _of_kind(pattern: re.Pattern[str], value: Any) -> str | None:
    return value if isinstance(value, str) and pattern.fullmatch(value) else None


def user_id(value: Any) -> str | None:
    """A person's id (U…, W…), or None: the only shape Mend stores as someone or writes into a mention."""
    return _of_kind(_USER_ID, value)


def channel_id(value: Any) -> str | None:
    """A conversation's id (C…, G…, D…), or None."""
    return _of_kind(_CHANNEL_ID, value)


def usergroup_id(value: Any) -> str | None:
    """A user group's id (S…), or None."""
    return _of_kind(_USERGROUP_ID, value)


def team_id(value: Any) -> str | None:
    """A workspace's (T…) or an enterprise's (E…) id, or None."""
    return _of_kind(_TEAM_ID, value)


def message_ts(value: Any) -> str | None:
    return value if isinstance(value, str) and _MESSAGE_TS.fullmatch(value) else None


def opaque_field(obj: Any, *path: str) -> str | None:
    """A short token Slack hands out and takes back (trigger ids): passed on as it came, if plausible."""
    value = text_field(obj, *path)
    return value if value and len(value) <= MAX_OPAQUE and value.isprintable() else None


# ---- the shape Bolt itself relies on ------------------------------------------------------------
# Bolt reads these keys while building its context and matching listeners, indexing without checks:
# a signed payload with `actions: []` or `user: 5` would crash it before any listener or error handler
# runs (a bare 500). Only what Bolt touches is checked here; Mend's listeners read the rest defensively.
IdLike = (str, dict)
_TOP: dict[str, tuple[type, ...]] = {
    "type": (str,),
    "callback_id": (str,),
    "command": (str,),
    "team": IdLike,
    "user": IdLike,
    "channel": IdLike,
    "enterprise": IdLike,
    "view": (dict,),
    "event": (dict,),
    "message": (dict,),
    "container": (dict,),
    "actions": (list,),
    "authorizations": (list,),
    "response_url": (str,),
    "response_urls": (list,),
    "function_data": (dict,),
    "assistant_thread": (dict,),
    "is_enterprise_install": (bool, str),
}
_NESTED: dict[str, dict[str, tuple[type, ...]]] = {
    "team": {"id": (str,), "enterprise_id": (str,)},
    "user": {"id": (str,), "team_id": (str,)},
    "channel": {"id": (str,)},
    "enterprise": {"id": (str,)},
    "view": {"id": (str,), "callback_id": (str,), "team_id": (str,), "app_installed_team_id": (str,)},
    "container": {"channel_id": (str,)},
    "function_data": {"execution_id": (str,), "inputs": (dict,)},
}
# Objects Bolt looks into for the acting user, channel and thread (events, message events, reactions).
_CARRIERS = ("event", "message", "previous_message", "item", "assistant_thread")
_CARRIER: dict[str, tuple[type, ...]] = {
    "type": (str,),
    "subtype": (str,),
    "user": IdLike,
    "team": IdLike,
    "channel": IdLike,
    "enterprise": IdLike,
    "thread_ts": (str,),
    "channel_id": (str,),
    "function_execution_id": (str,),
    "bot_access_token": (str,),
    "inputs": (dict,),
    **{key: (dict,) for key in _CARRIERS},
}
_LIST_ITEMS: dict[str, dict[str, tuple[type, ...]]] = {
    "actions": {"action_id": (str,), "block_id": (str,), "type": (str,)},
    "authorizations": {"team_id": (str,), "enterprise_id": (str,), "user_id": (str,)},
    "response_urls": {"response_url": (str,)},
}
_REQUIRED_FOR_TYPE: dict[str, tuple[str, ...]] = {
    "block_actions": ("actions",),
    "view_submission": ("view",),
    "view_closed": ("view",),
    "shortcut": ("callback_id",),
    "message_action": ("callback_id",),
    "event_callback": ("event",),
}


def _types_ok(obj: dict[str, Any], spec: dict[str, tuple[type, ...]]) -> bool:
    return all(obj.get(key) is None or isinstance(obj[key], types) for key, types in spec.items())


def _carrier_ok(obj: Any, depth: int = 0) -> bool:
    if not isinstance(obj, dict) or depth > 3 or not _types_ok(obj, _CARRIER):
        return False
    for key in ("user", "team", "channel", "enterprise"):
        if isinstance(obj.get(key), dict) and not _types_ok(obj[key], _NESTED[key]):
            return False
    return all(obj.get(key) is None or _carrier_ok(obj[key], depth + 1) for key in _CARRIERS)


def bolt_can_read(body: Any) -> bool:
    """Whether `body` has the shape Slack's payloads have wherever Bolt looks."""
    if not isinstance(body, dict) or not _types_ok(body, _TOP):
        return False
    for key, spec in _NESTED.items():
        if isinstance(body.get(key), dict) and not _types_ok(body[key], spec):
            return False
    for key, spec in _LIST_ITEMS.items():
        items = body.get(key)
        if items is not None and not all(isinstance(i, dict) and _types_ok(i, spec) for i in items):
            return False
    if any(body.get(key) is not None and not _carrier_ok(body[key]) for key in _CARRIERS):
        return False
    kind = body.get("type")
    if kind == "block_actions" and not all(
        isinstance(a.get("action_id"), str) for a in body.get("actions") or []
    ):
        return False
    if kind == "event_callback" and not isinstance(field(body, "event", "type"), str):
        return False
    if kind in ("view_submission", "view_closed") and not isinstance(field(body, "view", "callback_id"), str):
        return False
    if "type" not in body and body.get("command") is None and body:
        return "ssl_check" in body  # a form that is neither a command nor an interaction
    return all(body.get(key) for key in _REQUIRED_FOR_TYPE.get(str(kind), ()))
