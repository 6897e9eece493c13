"""What each kind of follow-up shows in Slack: case nudges, and plain notices from the outbox."""

from __future__ import annotations

from bot.cases import Case
from bot.followups import (
    Cancel,
    CaseFollowUpRules,
    Deliver,
    FollowUp,
    FollowUpPolicy,
    OutgoingMessage,
    Promise,
    Verdict,
)
from handlers.blocks.case_kinds import Nudge
from handlers.blocks.followups import build_case_nudge, build_notice, nudge_text

MAX_TEXT = 3000  # Slack's limit for a message's fallback text


class CaseFollowUpHandler:
    """FollowUpHandler for every case kind: the domain's rules decide, this renders the thread message."""

    def __init__(self, rules: CaseFollowUpRules, policy: FollowUpPolicy) -> None:
        self.rules = rules
        self._policy = policy

    async def check(self, item: FollowUp) -> Verdict:
        return await self.rules.check(item)

    def render(self, item: FollowUp, deliver: Deliver) -> OutgoingMessage:
        case: Case = deliver.context["case"]
        promise: Promise | None = deliver.context.get("promise")
        # `now`: the moment it goes out, so ages in its words are the case's real ones.
        nudge = Nudge(item, case, deliver.to, promise, self._policy.ack_nudge_after, deliver.context.get("now"))
        blocks = build_case_nudge(nudge)
        text = nudge_text(nudge)
        return OutgoingMessage(text=text[:MAX_TEXT], blocks=blocks)

    async def settled(self, item: FollowUp, note: str) -> OutgoingMessage | None:
        """The nudge as it reads once acted on: the same words, no buttons, what happened and who did it."""
        ctx = await self.rules.context(item)
        if isinstance(ctx, Cancel):
            return None
        case: Case = ctx.case
        to = item.recipient_user_id or case.owner_user_id
        blocks = build_case_nudge(Nudge(item, case, to, ctx.promise, self._policy.ack_nudge_after), note=note)
        return OutgoingMessage(text=note[:MAX_TEXT], blocks=blocks)


class NoticeHandler:
    """The outbox: a plain message (payload `channel_id`, `text`, optional `thread_ts`) posted exactly once."""

    async def check(self, item: FollowUp) -> Verdict:
        channel = item.payload.get("channel_id")
        if not channel or not item.payload.get("text"):
            return Cancel("a notice needs channel_id and text")
        return Deliver(
            channel_id=str(channel), thread_ts=item.payload.get("thread_ts"), to=item.payload.get("to")
        )

    def render(self, item: FollowUp, deliver: Deliver) -> OutgoingMessage:
        text = str(item.payload["text"])
        return OutgoingMessage(text=text[:MAX_TEXT], blocks=build_notice(text))
