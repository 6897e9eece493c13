"""One entry per kind of case follow-up, the edge half: what its nudge says and its own buttons. When it is
due and what its buttons mean are the domain half, `bot.followups.case_kinds.CASE_KIND_RULES`; Snooze and
Reassign are added after a kind's own buttons wherever its rules accept them (handlers/blocks/followups.py
builds the message)."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta

from bot.cases import Case
from bot.followups import FollowUp, FollowUpKind, NudgeAction, Promise
from handlers.blocks import fields
from handlers.blocks.text import age_words, date_token, mention, safe_mrkdwn
from handlers.ids import FollowUpAction


@dataclass(frozen=True)
class Nudge:
    """What a nudge's words are made of."""

    item: FollowUp
    case: Case
    to: str | None
    promise: Promise | None
    ack_after: timedelta | None = None
    at: datetime | None = None  # when it is sent (or was: a redraw), for ages in its words

    @property
    def age(self) -> str | None:
        """The case's real age when the nudge went out ("3 weeks"), if known."""
        at = self.at or self.item.attempted_at
        return age_words(at - self.case.created_at) if at is not None else None

    @property
    def who(self) -> str:
        return f"{person} " if (person := mention(self.to, "")) else ""

    @property
    def ref(self) -> str:
        return f"*{self.case.reference}*"

    @property
    def customer(self) -> str:
        return fields.customer_of(self.case)


@dataclass(frozen=True)
class CaseKindBlocks:
    """A kind's words (also the notification text) and its own buttons, the first primary."""

    text: Callable[[Nudge], str]
    buttons: tuple[tuple[FollowUpAction, str], ...] = ((FollowUpAction.DONE, "Done"),)


#: Which of the domain's nudge actions each button is (Snooze and Reassign are built alike for every kind).
BUTTON_ACTIONS: Mapping[FollowUpAction, NudgeAction] = {
    FollowUpAction.DONE: NudgeAction.DONE,
    FollowUpAction.SATISFIED: NudgeAction.ANSWER,
    FollowUpAction.NOT_YET: NudgeAction.ANSWER,
    FollowUpAction.RECORD_OUTCOME: NudgeAction.RECORD_OUTCOME,
    FollowUpAction.SNOOZE: NudgeAction.SNOOZE,
    FollowUpAction.REASSIGN: NudgeAction.REASSIGN,
}


def due(n: Nudge) -> str:
    """The words of a follow-up whose own facts are gone (a promise deleted meanwhile)."""
    return f"{n.who}{n.ref}: a follow-up is due."


def _ack_nudge(n: Nudge) -> str:
    return (
        f"{n.who}:hourglass_flowing_sand: {n.ref} has no apology yet, reported {date_token(n.case.created_at)}. "
        f"{n.customer} is waiting to hear from us: acknowledge and apologize now."
    )


def _ack_escalation(n: Nudge) -> str:
    late = f" {n.age} after it was reported" if n.age else f", reported {date_token(n.case.created_at)}"
    return (
        f"{n.who}:rotating_light: {n.ref} still has no apology{late}. Owner: {mention(n.case.owner_user_id)}. "
        f"{n.customer} is waiting; please make sure someone acknowledges them."
    )


def _promise_reminder(n: Nudge) -> str:
    if n.promise is None:
        return due(n)
    return (
        f"{n.who}:alarm_clock: Promise to {n.customer} ({n.ref}) due {date_token(n.promise.due_at)}:\n"
        f"> {safe_mrkdwn(n.promise.text, 600)}"
    )


def _promise_due(n: Nudge) -> str:
    if n.promise is None:
        return due(n)
    return (
        f":warning: {mention(n.case.owner_user_id)} The promise to {n.customer} ({n.ref}) was due "
        f"{date_token(n.promise.due_at)} and is not marked kept:\n> {safe_mrkdwn(n.promise.text, 600)}"
    )


def _customer_follow_up(n: Nudge) -> str:
    return (
        f"{n.who}:telephone_receiver: The fix for {n.ref} went in a while ago. Check in with {n.customer}: "
        "*Is the customer satisfied?*"
    )


def _scheduled_follow_up(n: Nudge) -> str:
    note = n.item.payload.get("note")
    extra = f"\n> {safe_mrkdwn(str(note), 600)}" if note else ""
    return f"{n.who}:telephone_receiver: Time to follow up with {n.customer} ({n.ref}), as planned.{extra}"


def _promise_made(n: Nudge) -> str:
    if n.promise is None:
        return due(n)
    remind_at = n.item.payload.get("remind_at")
    owner = mention(n.case.owner_user_id)
    remind = (
        f"I'll remind {owner} {date_token(datetime.fromisoformat(remind_at))}."
        if remind_at
        else f"It is too close for a reminder; I'll flag the case if it passes unkept, {owner}."
    )
    return (
        f":handshake: Promise to {n.customer} ({n.ref}), due {date_token(n.promise.due_at)}:\n"
        f"> {safe_mrkdwn(n.promise.text, 600)}\n{remind}"
    )


def _follow_up_planned(n: Nudge) -> str:
    note = n.item.payload.get("note")
    extra = f"\n> {safe_mrkdwn(str(note), 600)}" if note else ""
    at = n.item.payload.get("at")
    when = date_token(datetime.fromisoformat(at)) if at else "later"
    by = mention(str(n.item.payload.get("by") or n.case.owner_user_id))
    return f":calendar: Follow-up with {n.customer} ({n.ref}) planned {when}; I'll remind {by} then.{extra}"


def _resurvey(n: Nudge) -> str:
    return (
        f"{n.who}:bar_chart: {n.ref} was closed {date_token(n.case.closed_at or n.case.updated_at)}. "
        f"How is {n.customer} now? Record the outcome: did the recovery work?"
    )


CASE_KIND_BLOCKS: Mapping[str, CaseKindBlocks] = {
    FollowUpKind.ACK_NUDGE: CaseKindBlocks(_ack_nudge, ((FollowUpAction.DONE, "Apology sent"),)),
    FollowUpKind.ACK_ESCALATION: CaseKindBlocks(_ack_escalation),
    FollowUpKind.PROMISE_REMINDER: CaseKindBlocks(_promise_reminder, ((FollowUpAction.DONE, "Kept"),)),
    FollowUpKind.PROMISE_DUE: CaseKindBlocks(_promise_due, ((FollowUpAction.DONE, "Mark kept"),)),
    FollowUpKind.CUSTOMER_FOLLOW_UP: CaseKindBlocks(
        _customer_follow_up, ((FollowUpAction.SATISFIED, "Satisfied"), (FollowUpAction.NOT_YET, "Not yet"))
    ),
    FollowUpKind.SCHEDULED_FOLLOW_UP: CaseKindBlocks(_scheduled_follow_up),
    FollowUpKind.RESURVEY: CaseKindBlocks(_resurvey, ((FollowUpAction.RECORD_OUTCOME, "Record outcome…"),)),
    FollowUpKind.PROMISE_MADE: CaseKindBlocks(_promise_made, ((FollowUpAction.DONE, "Mark kept"),)),
    FollowUpKind.FOLLOW_UP_PLANNED: CaseKindBlocks(_follow_up_planned, ()),
}
