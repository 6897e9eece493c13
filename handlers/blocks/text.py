"""Making user text safe and short enough for Block Kit: mrkdwn escaping and limit-aware shortening."""

from __future__ import annotations

import re
from datetime import datetime, timedelta
from typing import Any

from handlers import payloads

ELLIPSIS = "…"
_ENTITY_TAIL = re.compile(r"&[a-z]{0,3}$")
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")


def escape_mrkdwn(text: str) -> str:
    """Escape the three characters Slack treats as control sequences.

    With `<`, `>` and `&` escaped, `<!channel>`, `<@U123>` and `<https://x|label>` typed by anyone show as
    text: no ping, no forged link.
    """
    text = _CONTROL.sub("", text)
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def mention(user_id: Any, otherwise: str = "someone") -> str:
    """A person in mrkdwn: `<@U123>` for an id of a person's shape (U…, W…), else `otherwise` as plain text.

    The one way Mend writes a mention: whatever a row or a payload holds, nothing but a checked id ever goes
    between `<@` and `>`, so a forged id such as `U1><!channel>` can't ping a channel or forge a link.
    """
    checked = payloads.user_id(user_id)
    return f"<@{checked}>" if checked else escape_mrkdwn(otherwise)


def channel_mention(channel_id: Any, otherwise: str = "that channel") -> str:
    """A channel in mrkdwn: `<#C123>` for an id of a channel's shape (C…, G…, D…), else `otherwise`."""
    checked = payloads.channel_id(channel_id)
    return f"<#{checked}>" if checked else escape_mrkdwn(otherwise)


def shorten(text: str, limit: int) -> str:
    """Cut text to at most `limit` characters, ending with an ellipsis when cut, never inside an entity."""
    if len(text) <= limit:
        return text
    cut = text[: max(limit - 1, 0)]
    cut = _ENTITY_TAIL.sub("", cut)
    return cut.rstrip() + ELLIPSIS


def safe_mrkdwn(text: str, limit: int) -> str:
    return shorten(escape_mrkdwn(text), limit)


def plain(text: str, limit: int) -> str:
    """For plain_text objects: nothing is parsed there, but control characters and length still matter."""
    return shorten(_CONTROL.sub("", text), limit)


def quote(text: str) -> str:
    """Render (already escaped) text as a mrkdwn block quote."""
    return "\n".join(f">{line}" for line in text.splitlines() or [""])


def safe_quote(text: str, limit: int) -> str:
    """User text as a block quote within `limit`: quoting adds a character per line, so it is cut after."""
    return shorten(quote(escape_mrkdwn(text)), limit)


def date_token(at: datetime) -> str:
    """A date Slack shows in each reader's own time zone (UTC where the client cannot)."""
    return f"<!date^{int(at.timestamp())}^{{date_short_pretty}} at {{time}}|{at:%Y-%m-%d %H:%M} UTC>"


def age_words(delta: timedelta) -> str:
    """How old something is, as people say it: "3 weeks", "1 day", "5 hours", "40 minutes" (rounded down)."""
    seconds = max(int(delta.total_seconds()), 0)
    for unit, size in (("week", 7 * 86400), ("day", 86400), ("hour", 3600), ("minute", 60)):
        if seconds >= size:
            n = seconds // size
            return f"{n} {unit}{'' if n == 1 else 's'}"
    return "moments"


def is_slack_permalink(url: str | None) -> bool:
    # Only links Slack itself gave us go into mrkdwn links; anything with | or > could forge a label.
    return (
        bool(url)
        and re.fullmatch(r"https://[A-Za-z0-9.-]+/archives/[A-Z0-9]+/p\d+(\?[A-Za-z0-9=&.%_-]*)?", url or "")
        is not None
    )
