"""Block Kit for follow-ups: nudge messages with Done / Snooze / Reassign, their settled form, and the
snooze, reassign, promise, schedule and re-survey modals."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from slack_sdk.models.blocks import (
    ActionsBlock,
    Block,
    StaticSelectElement,
)
from slack_sdk.models.views import View

from bot.cases import Case
from bot.followups import FollowUp, NudgeAction, ResurveyOutcome, SnoozeChoice, case_kind
from bot.playbook import CaseStep
from handlers.blocks import fields
from handlers.blocks.case_kinds import CASE_KIND_BLOCKS, Nudge, due
from handlers.blocks.kit import button, button_row, context, section
from handlers.blocks.recovery import StepRef
from handlers.blocks.refs import encode_ref, json_int, json_object
from handlers.blocks.text import date_token, mention
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
    """Done / Snooze / Reassign for a nudge of another feature's kind (case kinds get theirs from their table)."""
    done = [(FollowUpAction.DONE, done_label)] if done_label else []
    return _nudge_actions(item, *done, snooze=snooze, reassign=reassign)


def nudge_text(nudge: Nudge) -> str:
    """The words of a case nudge (also its notification text): its kind's own, from CASE_KIND_BLOCKS."""
    blocks = CASE_KIND_BLOCKS.get(nudge.item.kind)
    return blocks.text(nudge) if blocks is not None else due(nudge)


def _case_nudge_actions(item: FollowUp) -> ActionsBlock:
    """A case kind's own buttons, then Snooze and Reassign where its rules accept them."""
    blocks, rules = CASE_KIND_BLOCKS.get(item.kind), case_kind(item.kind)
    if blocks is None or rules is None:
        return build_nudge_actions(item)
    return _nudge_actions(
        item,
        *blocks.buttons,
        snooze=NudgeAction.SNOOZE in rules.accepts,
        reassign=NudgeAction.REASSIGN in rules.accepts,
    )


def build_case_nudge(nudge: Nudge, *, note: str | None = None) -> list[Block]:
    """A nudge in the case thread; with `note` it is the settled version (no buttons, what happened)."""
    text = nudge_text(nudge)
    blocks: list[Block] = [section(text[:SECTION_LIMIT])]
    if note is not None:
        blocks.append(context(note[:2000]))
        return blocks
    actions = _case_nudge_actions(nudge.item)
    if actions.elements:  # a confirmation with nothing to click (a planned check-in) has no actions block
        blocks.append(actions)
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
