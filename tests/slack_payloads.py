"""Reading what Mend sent to Slack, the way Slack would interpret it."""

from __future__ import annotations

from typing import Any

LIVE_MARKUP = ("<!channel>", "<!here>", "<!everyone>", "<@U0BOSS>", "<https://evil.example")


def mrkdwn_texts(payload: Any) -> list[str]:
    """Every mrkdwn string in a payload: the only text in which Slack turns <...> into mentions and links."""
    found: list[str] = []
    if isinstance(payload, dict):
        if payload.get("type") == "mrkdwn" and isinstance(payload.get("text"), str):
            found.append(payload["text"])
        for value in payload.values():
            found += mrkdwn_texts(value)
    elif isinstance(payload, list):
        for item in payload:
            found += mrkdwn_texts(item)
    return found


def live_markup_in(message: dict[str, Any]) -> list[str]:
    """Hostile markup that would ping or forge a link in a posted message (its blocks and its `text`)."""
    texts = [*mrkdwn_texts(message.get("blocks") or []), str(message.get("text") or "")]
    return [needle for needle in LIVE_MARKUP for text in texts if needle in text]
