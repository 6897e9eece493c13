"""Block Kit for follow-ups: nudge messages with Done / Snooze / Reassign, their settled form, and the
snooze, reassign, promise, schedule and re-survey modals."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any

from slack_sdk.models.blocks import (
    ActionsBlock,
    Block,
    StaticSelectElement,
)
from slack_sdk.models.views import View

from bot.cases import Case
from bot.followups import FollowUp, FollowUpKind, Promise, ResurveyOutcome, SnoozeChoice, format_duration
from bot.playbook import CaseStep
from handlers.blocks import fields
from handlers.blocks.kit import button, button_row, context, section
from handlers.blocks.recovery import StepRef
from handlers.blocks.refs import encode_ref, json_int, json_object
from handlers.blocks.text import date_token, mention, safe_mrkdwn
from handlers.ids import FollowUpAction, FollowUpBlock, FollowUpView

SECTION_LIMIT = 3000


@dataclass(frozen=True)
class FollowUpRef:
    """Which round of which follow-up a button or modal is about; a click on an older round changes nothing."""

    follow_up_id: int
    round: int

    def encode(self) -> str:
        return encode_ref({"f": self.follow_up_id, "r": self.round})

    @classmethod
    def decode(cls, raw: Any) -> FollowUpRef | None:
        data = json_object(raw, 200)
        if data is None:
            return None
        fid, rnd = json_int(data.get("f")), json_int(data.get("r"), 0)
        return None if fid is None or rnd is None else cls(fid, rnd)

    @classmethod
    def of(cls, item: FollowUp) -> FollowUpRef:
        return cls(item.id, item.round)


def _snooze_select(ref: str) -> StaticSelectElement:
    return StaticSelectElement(
        action_id=FollowUpAction.SNOOZE.value,
        placeholder="Snooze…",
        options=fields.options((f"{c.value}|{ref}", c.label) for c in SnoozeChoice),
    )


def _nudge_actions(
    item: FollowUp, *own: tuple[FollowUpAction, str], snooze: bool = True, reassign: bool = True
) -> ActionsBlock:
    """The nudge's own buttons (the first of them primary), then Snooze and Reassign."""
    ref = FollowUpRef.of(item).encode()
    elements: list[Any] = button_row(ref, *own)
    if snooze:
        elements.append(_snooze_select(ref))
    if reassign:
        elements.append(button(FollowUpAction.REASSIGN, "Reassign…", ref))
    return ActionsBlock(block_id=FollowUpBlock.NUDGE_ACTIONS.value, elements=elements)


def build_nudge_actions(
    item: FollowUp, *, done_label: str | None = "Done", snooze: bool = True, reassign: bool = True
) -> ActionsBlock:
    """Done / Snooze / Reassign for any kind of nudge (the amends escalation may reuse this)."""
    done = [(FollowUpAction.DONE, done_label)] if done_label else []
    return _nudge_actions(item, *done, snooze=snooze, reassign=reassign)


#: The buttons under each kind of case nudge; a kind not listed gets Done / Snooze / Reassign.
_NUDGE_BUTTONS: dict[str, Callable[[FollowUp], ActionsBlock]] = {
    FollowUpKind.CUSTOMER_FOLLOW_UP: lambda item: _nudge_actions(
        item, (FollowUpAction.SATISFIED, "Satisfied"), (FollowUpAction.NOT_YET, "Not yet")
    ),
    FollowUpKind.RESURVEY: lambda item: _nudge_actions(
        item, (FollowUpAction.RECORD_OUTCOME, "Record outcome…")
    ),
    FollowUpKind.ACK_NUDGE: lambda item: build_nudge_actions(item, done_label="Apology sent"),
    FollowUpKind.PROMISE_REMINDER: lambda item: build_nudge_actions(item, done_label="Kept"),
    FollowUpKind.PROMISE_DUE: lambda item: build_nudge_actions(
        item, done_label="Mark kept", snooze=False, reassign=False
    ),
}


def nudge_text(
    item: FollowUp, case: Case, to: str | None, promise: Promise | None, *, ack_after: timedelta | None = None
) -> str:
    """The words of a case nudge (also its notification text)."""
    who = f"{person} " if (person := mention(to, "")) else ""
    ref = f"*{case.reference}*"
    customer = fields.customer_of(case)
    kind = item.kind
    if kind == FollowUpKind.ACK_NUDGE:
        return (
            f"{who}:hourglass_flowing_sand: {ref} has no apology yet, reported {date_token(case.created_at)}. "
            f"{customer} is waiting to hear from us: acknowledge and apologize now."
        )
    if kind == FollowUpKind.ACK_ESCALATION:
        late = f" {format_duration(2 * ack_after)} after it was reported" if ack_after else ""
        return (
            f"{who}:rotating_light: {ref} still has no apology{late}. Owner: {mention(case.owner_user_id)}. "
            f"{customer} is waiting; please make sure someone acknowledges them."
        )
    if kind == FollowUpKind.PROMISE_REMINDER and promise is not None:
        return (
            f"{who}:alarm_clock: Promise to {customer} ({ref}) due {date_token(promise.due_at)}:\n"
            f"> {safe_mrkdwn(promise.text, 600)}"
        )
    if kind == FollowUpKind.PROMISE_DUE and promise is not None:
        return (
            f":warning: {mention(case.owner_user_id)} The promise to {customer} ({ref}) was due "
            f"{date_token(promise.due_at)} and is not marked kept:\n> {safe_mrkdwn(promise.text, 600)}"
        )
    if kind == FollowUpKind.CUSTOMER_FOLLOW_UP:
        return (
            f"{who}:telephone_receiver: The fix for {ref} went in a while ago. Check in with {customer}: "
            "*Is the customer satisfied?*"
        )
    if kind == FollowUpKind.SCHEDULED_FOLLOW_UP:
        note = item.payload.get("note")
        extra = f"\n> {safe_mrkdwn(str(note), 600)}" if note else ""
        return f"{who}:telephone_receiver: Time to follow up with {customer} ({ref}), as planned.{extra}"
    if kind == FollowUpKind.RESURVEY:
        return (
            f"{who}:bar_chart: {ref} was closed {date_token(case.closed_at or case.updated_at)}. "
            f"How is {customer} now? Record the outcome: did the recovery work?"
        )
    return f"{who}{ref}: a follow-up is due."


def build_case_nudge(
    item: FollowUp,
    case: Case,
    to: str | None,
    promise: Promise | None,
    *,
    ack_after: timedelta | None = None,
    note: str | None = None,
) -> list[Block]:
    """A nudge in the case thread; with `note` it is the settled version (no buttons, what happened)."""
    text = nudge_text(item, case, to, promise, ack_after=ack_after)
    blocks: list[Block] = [section(text[:SECTION_LIMIT])]
    if note is not None:
        blocks.append(context(note[:2000]))
        return blocks
    blocks.append(_NUDGE_BUTTONS.get(item.kind, build_nudge_actions)(item))
    return blocks


def build_notice(text: str) -> list[Block]:
    return [section(text[:SECTION_LIMIT])]


# ---- modals -------------------------------------------------------------------------------------


def _when_inputs(
    day: date, tz_label: str, hhmm: str, labels: tuple[str, str] = ("Date", "Time")
) -> list[Block]:
    return fields.date_time_inputs(FollowUpBlock.DATE, FollowUpBlock.TIME, day, hhmm, tz_label, labels)


def build_promise_modal(case: Case, step: CaseStep, *, today: date, tz_label: str) -> View:
    return fields.modal(
        FollowUpView.PROMISE.value,
        "Record a promise",
        [
            fields.case_header(
                case,
                fields.customer_of(case),
                "Mend reminds the owner before the deadline and flags the case if it passes unkept.",
            ),
            fields.text_input(
                FollowUpBlock.PROMISE_TEXT,
                "What did you promise?",
                max_length=500,
                placeholder="Call back with the refund confirmation",
            ),
            *_when_inputs(today, tz_label, "15:00", ("By (date)", "By (time)")),
        ],
        submit="Record",
        private_metadata=StepRef(case.id, step.key).encode(),
    )


def build_schedule_modal(case: Case, step: CaseStep, *, today: date, tz_label: str) -> View:
    ask = f"when should you check in with {fields.customer_of(case)}? Mend reminds you then, in this thread."
    return fields.modal(
        FollowUpView.SCHEDULE.value,
        "Schedule follow-up",
        [
            fields.case_header(case, ask),
            *_when_inputs(today, tz_label, "10:00"),
            fields.text_input(FollowUpBlock.NOTE, "Note", optional=True, max_length=500),
        ],
        submit="Schedule",
        private_metadata=StepRef(case.id, step.key).encode(),
    )


def build_snooze_modal(ref: FollowUpRef, *, today: date, tz_label: str) -> View:
    return fields.modal(
        FollowUpView.SNOOZE.value,
        "Snooze until…",
        _when_inputs(today, tz_label, "09:00"),
        submit="Snooze",
        private_metadata=ref.encode(),
    )


def build_reassign_modal(ref: FollowUpRef, current: str | None) -> View:
    return fields.modal(
        FollowUpView.REASSIGN.value,
        "Reassign",
        [fields.person_input(FollowUpBlock.ASSIGNEE, "Who should take this on?", initial=current)],
        submit="Reassign",
        private_metadata=ref.encode(),
    )


def build_resurvey_modal(ref: FollowUpRef, case: Case) -> View:
    return fields.modal(
        FollowUpView.RESURVEY.value,
        "Did the recovery work?",
        [
            fields.case_header(case, fields.customer_of(case), fields.summary_of(case, 600)),
            fields.radio_input(
                FollowUpBlock.OUTCOME,
                "The customer…",
                fields.options((o.value, o.label) for o in ResurveyOutcome),
            ),
            fields.select_input(
                FollowUpBlock.SCORE,
                "Satisfaction (1 = very unhappy, 5 = delighted)",
                fields.options((str(n), str(n)) for n in range(1, 6)),
                placeholder="Score",
                optional=True,
            ),
        ],
        submit="Record",
        private_metadata=ref.encode(),
    )


def settled_note(what: str, actor_user_id: str, at: datetime) -> str:
    return f"{what} by {mention(actor_user_id)} · {date_token(at)}"
