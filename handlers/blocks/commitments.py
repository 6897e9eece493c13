"""The case card's list of what the case still owes the customer: open promises and planned check-ins, each
with its due time (in each reader's own time zone). Redrawn whenever one is made, kept, broken or goes."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Protocol

from slack_sdk.models.blocks import Block

from bot.followups import FollowUp, Promise, PromiseState
from handlers.blocks.kit import section
from handlers.blocks.text import date_token, safe_mrkdwn

MAX_LISTED = 10  # a card stays readable; the rest are counted


class Commitments(Protocol):
    async def open_commitments(self, case_id: int) -> tuple[list[Promise], list[FollowUp]]: ...


def build_card_commitments(promises: Sequence[Promise], planned: Sequence[FollowUp]) -> list[Block]:
    lines: list[str] = []
    for promise in promises:
        late = " · :warning: *overdue*" if promise.state is PromiseState.BROKEN else ""
        lines.append(
            f"• :handshake: {safe_mrkdwn(promise.text, 150)} · due {date_token(promise.due_at)}{late}"
        )
    for item in planned:
        note = item.payload.get("note")
        about = f": {safe_mrkdwn(str(note), 150)}" if note else ""
        lines.append(f"• :calendar: Follow-up {date_token(item.due_at)}{about}")
    if not lines:
        return []
    more = len(lines) - MAX_LISTED
    shown = "\n".join(lines[:MAX_LISTED]) + (f"\n…and {more} more" if more > 0 else "")
    return [section(f"*Open promises and follow-ups*\n{shown}")]
