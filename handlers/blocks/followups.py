"""Block Kit for follow-ups: nudge messages with Done / Snooze / Reassign, their settled form, and the
snooze, reassign, promise, schedule and re-survey modals."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any

from slack_sdk.models.blocks import (
    ActionsBlock,
    Block,
    ButtonElement,
    ContextBlock,
    DatePickerElement,
    InputBlock,
    MarkdownTextObject,
    Option,
    PlainTextInputElement,
    PlainTextObject,
    RadioButtonsElement,
    SectionBlock,
    StaticSelectElement,
    TimePickerElement,
    UserSelectElement,
)
from slack_sdk.models.views import View

from bot.cases import Case
from bot.followups import FollowUp, FollowUpKind, Promise, ResurveyOutcome, SnoozeChoice, format_duration
from bot.playbook import CaseStep
from handlers.blocks.recovery import StepRef
from handlers.blocks.refs import encode_ref, json_int, json_object
from handlers.blocks.text import date_token, safe_mrkdwn
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
        options=[Option(value=f"{c.value}|{ref}", text=PlainTextObject(text=c.label)) for c in SnoozeChoice],
    )


def build_nudge_actions(
    item: FollowUp, *, done_label: str | None = "Done", snooze: bool = True, reassign: bool = True
) -> ActionsBlock:
    """Done / Snooze / Reassign for any kind of nudge (the amends escalation may reuse this)."""
    ref = FollowUpRef.of(item).encode()
    elements: list[Any] = []
    if done_label:
        elements.append(
            ButtonElement(action_id=FollowUpAction.DONE.value, text=done_label, value=ref, style="primary")
        )
    if snooze:
        elements.append(_snooze_select(ref))
    if reassign:
        elements.append(ButtonElement(action_id=FollowUpAction.REASSIGN.value, text="Reassign…", value=ref))
    return ActionsBlock(block_id=FollowUpBlock.NUDGE_ACTIONS.value, elements=elements)


def _customer_actions(item: FollowUp) -> ActionsBlock:
    ref = FollowUpRef.of(item).encode()
    return ActionsBlock(
        block_id=FollowUpBlock.NUDGE_ACTIONS.value,
        elements=[
            ButtonElement(
                action_id=FollowUpAction.SATISFIED.value, text="Satisfied", value=ref, style="primary"
            ),
            ButtonElement(action_id=FollowUpAction.NOT_YET.value, text="Not yet", value=ref),
            _snooze_select(ref),
            ButtonElement(action_id=FollowUpAction.REASSIGN.value, text="Reassign…", value=ref),
        ],
    )


def _resurvey_actions(item: FollowUp) -> ActionsBlock:
    ref = FollowUpRef.of(item).encode()
    return ActionsBlock(
        block_id=FollowUpBlock.NUDGE_ACTIONS.value,
        elements=[
            ButtonElement(
                action_id=FollowUpAction.RECORD_OUTCOME.value,
                text="Record outcome…",
                value=ref,
                style="primary",
            ),
            _snooze_select(ref),
            ButtonElement(action_id=FollowUpAction.REASSIGN.value, text="Reassign…", value=ref),
        ],
    )


def nudge_text(
    item: FollowUp, case: Case, to: str | None, promise: Promise | None, *, ack_after: timedelta | None = None
) -> str:
    """The words of a case nudge (also its notification text)."""
    who = f"<@{to}> " if to else ""
    ref = f"*{case.reference}*"
    customer = safe_mrkdwn(case.report.customer_display, 200)
    kind = item.kind
    if kind == FollowUpKind.ACK_NUDGE:
        return (
            f"{who}:hourglass_flowing_sand: {ref} has no apology yet, reported {date_token(case.created_at)}. "
            f"{customer} is waiting to hear from us: acknowledge and apologize now."
        )
    if kind == FollowUpKind.ACK_ESCALATION:
        late = f" {format_duration(2 * ack_after)} after it was reported" if ack_after else ""
        return (
            f"{who}:rotating_light: {ref} still has no apology{late}. Owner: <@{case.owner_user_id}>. "
            f"{customer} is waiting; please make sure someone acknowledges them."
        )
    if kind == FollowUpKind.PROMISE_REMINDER and promise is not None:
        return (
            f"{who}:alarm_clock: Promise to {customer} ({ref}) due {date_token(promise.due_at)}:\n"
            f"> {safe_mrkdwn(promise.text, 600)}"
        )
    if kind == FollowUpKind.PROMISE_DUE and promise is not None:
        return (
            f":warning: <@{case.owner_user_id}> The promise to {customer} ({ref}) was due "
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
    blocks: list[Block] = [SectionBlock(text=MarkdownTextObject(text=text[:SECTION_LIMIT]))]
    if note is not None:
        blocks.append(ContextBlock(elements=[MarkdownTextObject(text=note[:2000])]))
        return blocks
    kind = item.kind
    if kind == FollowUpKind.CUSTOMER_FOLLOW_UP:
        blocks.append(_customer_actions(item))
    elif kind == FollowUpKind.RESURVEY:
        blocks.append(_resurvey_actions(item))
    elif kind == FollowUpKind.ACK_NUDGE:
        blocks.append(build_nudge_actions(item, done_label="Apology sent"))
    elif kind == FollowUpKind.PROMISE_REMINDER:
        blocks.append(build_nudge_actions(item, done_label="Kept"))
    elif kind == FollowUpKind.PROMISE_DUE:
        blocks.append(build_nudge_actions(item, done_label="Mark kept", snooze=False, reassign=False))
    else:
        blocks.append(build_nudge_actions(item))
    return blocks


def build_notice(text: str) -> list[Block]:
    return [SectionBlock(text=MarkdownTextObject(text=text[:SECTION_LIMIT]))]


# ---- modals -------------------------------------------------------------------------------------


def _when_inputs(day: date, tz_label: str, *, date_label: str, time_label: str, hhmm: str) -> list[Block]:
    return [
        InputBlock(
            block_id=FollowUpBlock.DATE.value,
            label=date_label,
            element=DatePickerElement(action_id=FollowUpBlock.DATE.action_id, initial_date=day.isoformat()),
        ),
        InputBlock(
            block_id=FollowUpBlock.TIME.value,
            label=time_label,
            element=TimePickerElement(action_id=FollowUpBlock.TIME.action_id, initial_time=hhmm),
            hint=f"In your time zone ({tz_label}).",
        ),
    ]


def build_promise_modal(case: Case, step: CaseStep, *, today: date, tz_label: str) -> View:
    return View(
        type="modal",
        callback_id=FollowUpView.PROMISE.value,
        title="Record a promise",
        submit="Record",
        close="Cancel",
        private_metadata=StepRef(case.id, step.key).encode(),
        blocks=[
            SectionBlock(
                text=MarkdownTextObject(
                    text=f"*{case.reference}* · {safe_mrkdwn(case.report.customer_display, 200)}\n"
                    "Mend reminds the owner before the deadline and flags the case if it passes unkept."
                )
            ),
            InputBlock(
                block_id=FollowUpBlock.PROMISE_TEXT.value,
                label="What did you promise?",
                element=PlainTextInputElement(
                    action_id=FollowUpBlock.PROMISE_TEXT.action_id,
                    max_length=500,
                    placeholder="Call back with the refund confirmation",
                ),
            ),
            *_when_inputs(today, tz_label, date_label="By (date)", time_label="By (time)", hhmm="15:00"),
        ],
    )


def build_schedule_modal(case: Case, step: CaseStep, *, today: date, tz_label: str) -> View:
    return View(
        type="modal",
        callback_id=FollowUpView.SCHEDULE.value,
        title="Schedule follow-up",
        submit="Schedule",
        close="Cancel",
        private_metadata=StepRef(case.id, step.key).encode(),
        blocks=[
            SectionBlock(
                text=MarkdownTextObject(
                    text=f"*{case.reference}* · when should you check in with "
                    f"{safe_mrkdwn(case.report.customer_display, 200)}? Mend reminds you then, in this thread."
                )
            ),
            *_when_inputs(today, tz_label, date_label="Date", time_label="Time", hhmm="10:00"),
            InputBlock(
                block_id=FollowUpBlock.NOTE.value,
                label="Note",
                optional=True,
                element=PlainTextInputElement(action_id=FollowUpBlock.NOTE.action_id, max_length=500),
            ),
        ],
    )


def build_snooze_modal(ref: FollowUpRef, *, today: date, tz_label: str) -> View:
    return View(
        type="modal",
        callback_id=FollowUpView.SNOOZE.value,
        title="Snooze until…",
        submit="Snooze",
        close="Cancel",
        private_metadata=ref.encode(),
        blocks=_when_inputs(today, tz_label, date_label="Date", time_label="Time", hhmm="09:00"),
    )


def build_reassign_modal(ref: FollowUpRef, current: str | None) -> View:
    return View(
        type="modal",
        callback_id=FollowUpView.REASSIGN.value,
        title="Reassign",
        submit="Reassign",
        close="Cancel",
        private_metadata=ref.encode(),
        blocks=[
            InputBlock(
                block_id=FollowUpBlock.ASSIGNEE.value,
                label="Who should take this on?",
                element=UserSelectElement(action_id=FollowUpBlock.ASSIGNEE.action_id, initial_user=current),
            )
        ],
    )


def build_resurvey_modal(ref: FollowUpRef, case: Case) -> View:
    return View(
        type="modal",
        callback_id=FollowUpView.RESURVEY.value,
        title="Did the recovery work?",
        submit="Record",
        close="Cancel",
        private_metadata=ref.encode(),
        blocks=[
            SectionBlock(
                text=MarkdownTextObject(
                    text=f"*{case.reference}* · {safe_mrkdwn(case.report.customer_display, 200)}\n"
                    f"{safe_mrkdwn(case.report.summary, 600)}"
                )
            ),
            InputBlock(
                block_id=FollowUpBlock.OUTCOME.value,
                label="The customer…",
                element=RadioButtonsElement(
                    action_id=FollowUpBlock.OUTCOME.action_id,
                    options=[
                        Option(value=o.value, text=PlainTextObject(text=o.label)) for o in ResurveyOutcome
                    ],
                ),
            ),
            InputBlock(
                block_id=FollowUpBlock.SCORE.value,
                label="Satisfaction (1 = very unhappy, 5 = delighted)",
                optional=True,
                element=StaticSelectElement(
                    action_id=FollowUpBlock.SCORE.action_id,
                    placeholder="Score",
                    options=[Option(value=str(n), text=PlainTextObject(text=str(n))) for n in range(1, 6)],
                ),
            ),
        ],
    )


def settled_note(what: str, actor_user_id: str, at: datetime) -> str:
    return f"{what} by <@{actor_user_id}> · {date_token(at)}"
