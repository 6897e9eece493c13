"""The Slack side of amends as follow-up kinds: each approver's copy (posted, then redrawn), the notices in the
case thread, the requester's DM and the reminders, each delivered once by the follow-up engine."""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import aiohttp
from slack_sdk.errors import SlackApiError
from slack_sdk.models.blocks import Block, MarkdownTextObject, SectionBlock
from slack_sdk.web.async_client import AsyncWebClient

from bot.amends import Amends, AmendsEffect, AmendsEffects, AmendsState, ApprovalCopy
from bot.cases import Case, MessageRef
from bot.followups import Deliver, FollowUp, NotPosted, OutgoingMessage, Verdict
from handlers.blocks.amends import (
    build_approval_request,
    build_outcome,
    build_reminder,
    build_request_notice,
    requester_text,
)
from handlers.ids import MessageMetadata
from handlers.slack_api import PERMANENT_ERRORS, ExactlyOnce, Keyed, error_code, retry_after_seconds

log = logging.getLogger(__name__)

#: Refusals that will not change by trying again: the row fails and the error is kept on it. A DM or a
#: redraw adds its own to the posts' (a person gone, a message deleted).
PERMANENT = PERMANENT_ERRORS | {"user_not_found", "message_not_found", "cant_update_message"}


@dataclass(frozen=True)
class Spec:
    """One kind: the metadata its message carries (so a post that looked failed can be found) and its words."""

    event_type: MessageMetadata
    key: Callable[[FollowUp, dict[str, Any]], str]
    render: Callable[[dict[str, Any]], tuple[str, list[Block]]]


def _copy(ctx: dict[str, Any]) -> tuple[str, list[Block]]:
    amends: Amends = ctx["amends"]
    case: Case = ctx["case"]
    text = (
        f"Amends to approve for {case.reference}: {amends.describe()}"
        if amends.state is AmendsState.PENDING
        else f"Amends for {case.reference}: {amends.state.value}"
    )
    others = ctx.get("others") or []
    return text, build_approval_request(
        amends, case, ctx["copy"], others=others, links=ctx.get("links") or {}
    )


def _notice(ctx: dict[str, Any]) -> tuple[str, list[Block]]:
    case: Case = ctx["case"]
    return f"Amends for {case.reference} await approval", build_request_notice(ctx["amends"], case)


def _outcome(ctx: dict[str, Any]) -> tuple[str, list[Block]]:
    amends: Amends = ctx["amends"]
    case: Case = ctx["case"]
    return f"Amends for {case.reference}: {amends.state.value}", build_outcome(amends, case)


def _requester(ctx: dict[str, Any]) -> tuple[str, list[Block]]:
    text = requester_text(ctx["amends"], ctx["case"])
    return text, [SectionBlock(text=MarkdownTextObject(text=text))]


def _reminder(ctx: dict[str, Any]) -> tuple[str, list[Block]]:
    case: Case = ctx["case"]
    copy: ApprovalCopy = ctx["copy"]
    text = f"Reminder: amends for {case.reference} await a decision"
    return text, build_reminder(ctx["amends"], case, copy.recipient)


def _amends_id(ctx: dict[str, Any]) -> int:
    amends: Amends = ctx["amends"]
    return amends.id


# The keys are the ones these messages carried before they moved onto the engine, so a request's messages
# stay findable whichever code posted them.
SPECS: dict[AmendsEffect, Spec] = {
    AmendsEffect.COPY: Spec(
        MessageMetadata.AMENDS_REQUEST, lambda _, c: f"{_amends_id(c)}:{c['copy'].recipient}", _copy
    ),
    AmendsEffect.NOTICE: Spec(MessageMetadata.AMENDS_NOTICE, lambda _, c: str(_amends_id(c)), _notice),
    AmendsEffect.OUTCOME: Spec(MessageMetadata.AMENDS_OUTCOME, lambda _, c: str(_amends_id(c)), _outcome),
    AmendsEffect.TELL_REQUESTER: Spec(
        MessageMetadata.FOLLOW_UP, lambda item, _: item.message_key, _requester
    ),
    AmendsEffect.COPY_REMINDER: Spec(
        MessageMetadata.AMENDS_REMINDER, lambda _, c: f"{_amends_id(c)}:{c['copy'].id}", _reminder
    ),
}


class AmendsEffectHandler:
    """FollowUpEffect for every amends kind: the domain (`AmendsEffects`) says whether a row is still due and
    records what was done; this renders it and makes the one Slack call, every failure classified as
    certainly not done (`NotPosted`) or maybe done (`OutcomeUnknown`, reconciled by metadata first)."""

    def __init__(self, effects: AmendsEffects, sender: AsyncWebClient, reader: AsyncWebClient) -> None:
        self._effects = effects
        self._sender = sender  # never retries by itself: each failure comes back here to be classified
        self._reader = reader  # the ordinary client, whose policy retries reads and conversations.open
        self._once = ExactlyOnce(sender, reader)  # the one post-exactly-once (handlers/slack_api.py)
        self._dms: dict[str, str] = {}
        self._links: dict[tuple[str, str], str] = {}

    async def check(self, item: FollowUp) -> Verdict:
        verdict = await self._effects.check(item)
        if isinstance(verdict, Deliver) and verdict.context.get("others"):
            verdict.context["links"] = {
                o.amends.id: link
                for o in verdict.context["others"]
                if (link := await self._permalink(o.card))
            }
        return verdict

    async def _permalink(self, card: MessageRef | None) -> str | None:
        """A link to a case thread; kept, since a message's permalink never changes (and the call is paced)."""
        if card is None:
            return None
        key = (card.channel_id, card.ts)
        if key not in self._links:
            try:
                resp = await self._reader.chat_getPermalink(channel=card.channel_id, message_ts=card.ts)
            except (SlackApiError, aiohttp.ClientError, TimeoutError):
                return None  # shown without a link this time; the next redraw tries again
            link = resp.get("permalink")
            if not isinstance(link, str):
                return None
            self._links[key] = link
        return self._links[key]

    def render(self, item: FollowUp, deliver: Deliver) -> OutgoingMessage:
        spec = SPECS.get(AmendsEffect(item.kind))
        if spec is None:  # a step: nothing of its own to show
            return OutgoingMessage(text="")
        text, blocks = spec.render(deliver.context)
        return OutgoingMessage(text=text[:3000], blocks=blocks)

    async def perform(self, item: FollowUp, deliver: Deliver, message: OutgoingMessage) -> MessageRef | None:
        kind = AmendsEffect(item.kind)
        if kind.is_step:
            await self._effects.run_step(item, deliver)
            return None
        if deliver.context.get("redraw"):
            copy: ApprovalCopy = deliver.context["copy"]
            assert copy.ref is not None
            await self._update(copy.ref, message)
            ref = copy.ref
        else:
            spec = SPECS[kind]
            ref = await self._post(
                deliver.channel_id,
                deliver.thread_ts,
                message,
                spec.event_type,
                spec.key(item, deliver.context),
            )
        await self._effects.delivered(item, deliver, ref)
        return ref

    async def find(self, item: FollowUp, deliver: Deliver, since: datetime) -> MessageRef | None:
        kind = AmendsEffect(item.kind)
        if kind.is_step or deliver.context.get("redraw"):
            return None  # idempotent: simply done again
        spec = SPECS[kind]
        channel = await self._conversation(deliver.channel_id)
        ref = await self._find(
            channel, deliver.thread_ts, spec.event_type, spec.key(item, deliver.context), since
        )
        if ref is not None:
            await self._effects.delivered(item, deliver, ref, found=True)
        return ref

    # ---- Slack ----------------------------------------------------------------------------------

    async def _conversation(self, channel_id: str) -> str:
        """A user id stands for Mend's DM with them, whose own id history and replies need."""
        if not channel_id.startswith(("U", "W")):
            return channel_id
        if channel_id not in self._dms:
            try:
                resp = await self._reader.conversations_open(users=channel_id)
            except SlackApiError as exc:
                code = error_code(exc)
                raise NotPosted(
                    f"can't open a DM with {channel_id}: {code}", permanent=code in PERMANENT
                ) from exc
            except (TimeoutError, aiohttp.ClientError) as exc:
                raise NotPosted(f"can't open a DM with {channel_id}: {type(exc).__name__}") from exc
            self._dms[channel_id] = str((resp.get("channel") or {})["id"])
        return self._dms[channel_id]

    async def _post(
        self,
        channel_id: str,
        thread_ts: str | None,
        message: OutgoingMessage,
        event_type: MessageMetadata,
        key: str,
    ) -> MessageRef:
        channel = await self._conversation(channel_id)
        keyed = Keyed(channel, event_type.value, key, thread_ts=thread_ts)
        return await self._once.post(keyed, message.text, message.blocks)

    async def _update(self, ref: MessageRef, message: OutgoingMessage) -> None:
        """chat.update lands in the same state however often it is repeated: every failure is "not done"."""
        blocks = [b.to_dict() if hasattr(b, "to_dict") else b for b in message.blocks]
        try:
            await self._sender.chat_update(
                channel=ref.channel_id, ts=ref.ts, text=message.text, blocks=blocks
            )
        except SlackApiError as exc:
            status = getattr(exc.response, "status_code", 0)
            code = error_code(exc)
            if status == 429:
                raise NotPosted("rate limited", retry_after=_retry_after(exc)) from exc
            if status >= 500:
                raise NotPosted(f"Slack answered {status}; redrawing again later") from exc
            raise NotPosted(
                f"Slack refused the redraw: {code or status}", permanent=code in PERMANENT
            ) from exc
        except (TimeoutError, aiohttp.ClientError) as exc:
            raise NotPosted(f"no answer from Slack ({type(exc).__name__}); redrawing again later") from exc

    async def _find(
        self, channel_id: str, thread_ts: str | None, event_type: MessageMetadata, key: str, since: datetime
    ) -> MessageRef | None:
        """Look for the key; a failure to look is itself unknown, so nothing is posted on a guess."""
        keyed = Keyed(channel_id, event_type.value, key, thread_ts=thread_ts)
        return await self._once.find(keyed, since.timestamp())


def _retry_after(exc: SlackApiError) -> float:
    return retry_after_seconds(dict(getattr(exc.response, "headers", {}) or {}), 1.0)
