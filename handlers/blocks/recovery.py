"""Block Kit for guiding a case: step prompts in the thread, the playbook's modals, the card's actions."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from slack_sdk.models.blocks import (
    ActionsBlock,
    Block,
    CheckboxesElement,
    ConfirmObject,
    DividerBlock,
    InputBlock,
    Option,
    SectionBlock,
    StaticSelectElement,
)
from slack_sdk.models.views import View

from bot.apology_templates import Situation
from bot.cases import Case, Category
from bot.playbook import CaseStep, Progress, StepStatus, role_of
from bot.records import CaseRecord, human_duration, timeline_of
from bot.recovery import MAX_ASKED_NOTE
from handlers.blocks import fields
from handlers.blocks.kit import button, button_row, context, section
from handlers.blocks.refs import encode_ref, json_int, json_object
from handlers.blocks.step_roles import STEP_ROLE_BLOCKS
from handlers.blocks.text import date_token, escape_mrkdwn, mention, plain, safe_mrkdwn
from handlers.ids import Action, AmendsAction, FollowUpAction, StepAction, StepBlock, StepView

SECTION_LIMIT = 3000


@dataclass(frozen=True)
class StepRef:
    """Which step of which case a button or modal is about; travels in button values and private_metadata."""

    case_id: int
    step_key: str
    version: int = 0
    # The acknowledgement nudge (follow-up id, round) whose "Apology sent" opened the apology form.
    nudge: tuple[int, int] | None = None

    def encode(self) -> str:
        data: dict[str, Any] = {"c": self.case_id, "s": self.step_key}
        if self.version:
            data["v"] = self.version
        if self.nudge:
            data["n"] = list(self.nudge)
        return encode_ref(data)

    @classmethod
    def decode(cls, raw: Any) -> StepRef | None:
        """Read a value that came back from Slack's client: it may be anything, so check everything."""
        data = json_object(raw, 2000)
        if data is None:
            return None
        case_id, step_key = json_int(data.get("c")), data.get("s", "")
        if case_id is None or not isinstance(step_key, str) or len(step_key) > 40:
            return None
        raw_nudge = data.get("n")
        nudge = None
        if isinstance(raw_nudge, list) and len(raw_nudge) == 2:
            fid, rnd = json_int(raw_nudge[0]), json_int(raw_nudge[1], 0)
            nudge = None if fid is None or rnd is None else (fid, rnd)
        version = json_int(data.get("v", 0), 0, 1000) or 0
        return cls(case_id=case_id, step_key=step_key, version=version, nudge=nudge)


#: The roles whose steps have buttons of their own (the others are finished with Done).
ROLES_WITH_BUTTONS = frozenset(role for role, blocks in STEP_ROLE_BLOCKS.items() if blocks.buttons)


def _step_heading(step: CaseStep, progress: Progress) -> str:
    return f"Step {step.position + 1} of {progress.total} · {escape_mrkdwn(step.step.title)}"


def build_step_prompt(case: Case, step: CaseStep, progress: Progress) -> list[Block]:
    """The live prompt for the step a case is on: what to do, why, words that help, and its buttons."""
    definition = step.step
    optional = "" if definition.required else " _(optional)_"
    text = f"*{_step_heading(step, progress)}*{optional}\n{escape_mrkdwn(definition.what)}"
    blocks: list[Block] = [section(text[:SECTION_LIMIT])]
    small_print = []
    if definition.why:
        small_print.append(f"_Why it matters:_ {safe_mrkdwn(definition.why, 1000)}")
    if definition.words:
        words = " · ".join(f"“{escape_mrkdwn(w)}”" for w in definition.words)
        small_print.append(f"_Words that help:_ {words}"[:2000])
    if step.reopened and step.at is not None:
        why = f": {safe_mrkdwn(step.note, 600)}" if step.note else ""
        who = f" by {person}" if (person := mention(step.actor_user_id, "")) else ""
        small_print.insert(0, f":leftwards_arrow_with_hook: _Reopened{who} {date_token(step.at)}{why}_")
    if small_print:
        blocks.append(context(*small_print))
    if definition.asks:  # read with Done from the message's state: no form to open
        blocks.append(
            fields.text_input(StepBlock.STEP_NOTE, definition.asks, max_length=MAX_ASKED_NOTE, optional=True)
        )
    ref = StepRef(case.id, step.key).encode()
    role = role_of(definition)
    own = STEP_ROLE_BLOCKS[role].buttons if role is not None else ()
    # At most five buttons: the step's own (two at most), a promise, Done and Skip.
    buttons = button_row(ref, *own) + button_row(
        ref,
        (FollowUpAction.RECORD_PROMISE, "Record a promise…"),
        (StepAction.DONE, "Done"),
        (StepAction.SKIP, "Skip…"),
        primary=False,
    )
    blocks.append(ActionsBlock(block_id=StepBlock.STEP_ACTIONS.value, elements=buttons))
    return blocks


def build_finished_step(
    case: Case, step: CaseStep, progress: Progress, root_causes: Sequence[Category]
) -> list[Block]:
    """A finished prompt, redrawn in place: who did it and when, what was recorded, and no buttons."""
    who = f" by {mention(step.actor_user_id)}" if step.actor_user_id else ""
    when = f" · {date_token(step.at)}" if step.at else ""
    if step.status is StepStatus.SKIPPED:
        head = f":next_track_button: ~{_step_heading(step, progress)}~ · skipped{who}{when}"
    else:
        head = f":white_check_mark: *{_step_heading(step, progress)}* · done{who}{when}"
    blocks: list[Block] = [section(head[:SECTION_LIMIT])]
    detail = _finished_detail(case, step, root_causes)
    if detail:
        blocks.append(section(detail))
    return blocks


def build_retired_step(case: Case, step: CaseStep, progress: Progress, *, reopened: bool) -> list[Block]:
    """A reopened step's old prompt, far up the thread: history now, pointing at its fresh prompt below."""
    heading = f"~{_step_heading(step, progress)}~"
    if reopened:
        note = f" ({safe_mrkdwn(step.note, 600)})" if step.note else ""
        return [section(f":leftwards_arrow_with_hook: {heading} · reopened below{note}"[:SECTION_LIMIT])]
    return [
        section(f":hourglass: {heading} · waiting: it comes again below, once the steps before it are done")
    ]


def _finished_detail(case: Case, step: CaseStep, root_causes: Sequence[Category]) -> str | None:
    if step.status is StepStatus.SKIPPED:
        return f"_Reason:_ {safe_mrkdwn(step.note, 2900)}" if step.note else None
    if step.step.asks and step.note:
        return _asked_line(step)
    role = role_of(step.step)
    return STEP_ROLE_BLOCKS[role].finished(case, step, root_causes) if role is not None else None


def _asked_line(step: CaseStep) -> str:
    return f"*{escape_mrkdwn(step.step.asks or '')}:* {safe_mrkdwn(step.note or '', 600)}"


def build_card_progress(case: Case, progress: Progress | None) -> list[Block]:
    """The case card's progress line and its actions (added under the card built by build_case_card)."""
    if progress is None:
        return []
    if case.is_open:
        nxt = (
            f"Next: *{escape_mrkdwn(progress.current.step.title)}*"
            if progress.current
            else "All steps finished"
        )
        text = f":bar_chart: Progress *{progress.label}* · {nxt}"
    else:
        closed = date_token(case.closed_at) if case.closed_at else ""
        text = f":bar_chart: Progress *{progress.label}* · closed {closed}"
    blocks: list[Block] = [section(text)]
    ref = StepRef(case.id, "").encode()
    if case.is_open:
        buttons = [
            # Amends are reachable from the card whatever the playbook says.
            button(AmendsAction.OFFER.value, "Offer amends", ref),
            button(
                StepAction.CLOSE_CASE.value,
                "Close case",
                ref,
                confirm=ConfirmObject(
                    title="Close this case?",
                    text="Every required step must be done or skipped with a reason.",
                    confirm="Close case",
                    deny="Not yet",
                ),
            ),
            button(Action.CLOSE_AS_DUPLICATE.value, "Close as duplicate…", ref),
        ]
    else:
        buttons = [button(StepAction.REOPEN_CASE.value, "Reopen…", ref)]
    blocks.append(ActionsBlock(block_id=StepBlock.CARD_ACTIONS.value, elements=buttons))
    return blocks


def build_skip_modal(case: Case, step: CaseStep) -> View:
    required = step.step.required
    return fields.modal(
        StepView.SKIP.value,
        "Skip a step",
        [
            fields.case_header(
                case,
                escape_mrkdwn(step.step.title),
                *(["This step is required, so a reason is needed."] if required else []),
            ),
            fields.long_text_input(StepBlock.REASON, "Why skip it?", optional=not required),
        ],
        submit="Skip step",
        private_metadata=StepRef(case.id, step.key).encode(),
    )


def build_apology_modal(
    case: Case,
    step: CaseStep,
    *,
    draft: str = "",
    version: int = 0,
    situation: Situation | None = None,
    nudge: tuple[int, int] | None = None,
) -> View:
    """The apology drafting modal: the case for reference, templates by situation, the draft, an override.

    Choosing a template redraws the modal with a new draft block_id (`version`): Slack keeps what was
    typed in an input unless its block_id changes.
    """
    report = case.report
    words = [f"*In their words:* {safe_mrkdwn(report.customer_words, 1000)}"] if report.customer_words else []
    template_options = fields.options((s.value, s.label) for s in Situation)
    initial = next((o for o in template_options if situation and o.value == situation.value), None)
    return fields.modal(
        StepView.APOLOGY.value,
        "Draft the apology",
        [
            fields.case_header(
                case, fields.customer_of(case), f"*What went wrong:* {fields.summary_of(case, 1200)}", *words
            ),
            context(
                "Carry the three signals: *I care* (a real, owned apology), *I understand* "
                "(their problem in specifics), *you can trust me* (a concrete next step and when)."
            ),
            DividerBlock(),
            ActionsBlock(
                block_id=StepBlock.APOLOGY_TEMPLATES.value,
                elements=[
                    StaticSelectElement(
                        action_id=StepAction.APOLOGY_TEMPLATE.value,
                        placeholder="Start from a template…",
                        options=template_options,
                        initial_option=initial,
                    )
                ],
            ),
            fields.long_text_input(
                StepBlock.APOLOGY_DRAFT,
                "Your message to the customer",
                initial_value=plain(draft, fields.LONG_TEXT_LIMIT) if draft.strip() else None,
                block_id=StepBlock.APOLOGY_DRAFT.value + (f"_{version}" if version else ""),
                # Mend sends nothing to the customer, so the form says what it does instead.
                hint="Mend doesn't send this to the customer: the coach checks it and the case records it. "
                "You send it the way you usually reach them (email, chat, phone).",
            ),
            InputBlock(
                block_id=StepBlock.APOLOGY_OVERRIDE.value,
                label="Coach",
                optional=True,
                element=CheckboxesElement(
                    action_id=StepBlock.APOLOGY_OVERRIDE.action_id,
                    options=fields.options(
                        [("send_as_written", "Record it as written, even if the coach has suggestions")]
                    ),
                ),
            ),
        ],
        submit="Check and record",
        private_metadata=StepRef(case.id, step.key, version, nudge).encode(),
    )


def build_assign_owner_modal(case: Case, step: CaseStep, current_owner: str) -> View:
    return fields.modal(
        StepView.ASSIGN_OWNER.value,
        "Assign an owner",
        [
            section(f"*{case.reference}*: one named owner sees it through."),
            fields.person_input(StepBlock.OWNER, "Owner", initial=current_owner),
        ],
        submit="Assign",
        private_metadata=StepRef(case.id, step.key).encode(),
    )


def build_root_cause_modal(case: Case, step: CaseStep, root_causes: Sequence[Category]) -> View:
    return fields.modal(
        StepView.ROOT_CAUSE.value,
        "Record the root cause",
        [
            _summary_header(case, "Investigate it yourself: don't make the customer troubleshoot."),
            fields.select_input(StepBlock.ROOT_CAUSE_CATEGORY, "Root cause", _cause_options(root_causes)),
            fields.long_text_input(StepBlock.ROOT_CAUSE_DETAILS, "What caused it"),
        ],
        submit="Record",
        private_metadata=StepRef(case.id, step.key).encode(),
    )


def _summary_header(case: Case, *more: str) -> SectionBlock:
    """Modals about the failure itself open with what went wrong."""
    return fields.case_header(case, fields.summary_of(case, 1000), *more)


def _cause_options(root_causes: Sequence[Category]) -> list[Option]:
    return fields.options((c.key, c.label) for c in root_causes)


def build_closing_summary(
    case: Case, steps: Sequence[CaseStep], record: CaseRecord | None, root_causes: Sequence[Category]
) -> list[Block]:
    """The recovery in a few lines: the timeline with durations, the root cause, the fix and the lesson."""
    lines = [
        f"*{entry.label}* · {date_token(entry.at)}"
        + (f" · +{human_duration(entry.since_report)}" if entry.since_report else "")
        for entry in timeline_of(case, steps)
    ]
    blocks: list[Block] = [
        section(
            f":white_check_mark: *Case {case.reference} is closed again* (reopened {case.reopen_count}×). "
            "Updated recovery summary:"
            if case.reopen_count
            else f":white_check_mark: *Case {case.reference} is closed.* Recovery summary:"
        ),
        section("\n".join(lines)[:SECTION_LIMIT]),
    ]
    category = record.root_cause_category if record else case.root_cause_category
    facts = []
    if category:
        label = next((c.label for c in root_causes if c.key == category), category)
        facts.append(f"*Root cause:* {escape_mrkdwn(label)}")
    # The lines the steps asked for (what mattered most to the customer, what was fixed), in step order.
    facts += [_asked_line(s) for s in steps if s.step.asks and s.note and s.status is StepStatus.DONE]
    if record is not None:
        facts.append(f"*What fixed it:* {safe_mrkdwn(record.what_fixed, 900)}")
        if record.prevention:
            owner = (
                f" (owner {mention(record.process_owner_user_id)})" if record.process_owner_user_id else ""
            )
            facts.append(f"*Prevention:* {safe_mrkdwn(record.prevention, 900)}{owner}")
        if record.lesson:
            facts.append(f"*Lesson:* {safe_mrkdwn(record.lesson, 600)}")
    if facts:
        blocks.append(section("\n".join(facts)[:SECTION_LIMIT]))
    return blocks


def build_reopened_notice(case: Case, actor_user_id: str, reason: str) -> list[Block]:
    return [
        section(
            f":arrows_counterclockwise: Case *{case.reference}* was reopened by {mention(actor_user_id)}.\n"
            f"_Reason:_ {safe_mrkdwn(reason, 2800)}"
        )
    ]


def build_record_modal(case: Case, step_key: str, root_causes: Sequence[Category]) -> View:
    """Document and learn: root cause, what happened, what fixed it, prevention (with an owner), lesson."""
    causes = _cause_options(root_causes)
    initial = next((o for o in causes if o.value == case.root_cause_category), None)
    return fields.modal(
        StepView.RECORD.value,
        "Write the record",
        [
            _summary_header(case, "Saving the record closes the case once every required step is finished."),
            fields.select_input(StepBlock.RECORD_ROOT_CAUSE, "Root cause", causes, initial=initial),
            fields.long_text_input(StepBlock.RECORD_WHAT_HAPPENED, "What happened"),
            fields.long_text_input(StepBlock.RECORD_WHAT_FIXED, "What fixed it"),
            fields.long_text_input(StepBlock.RECORD_PREVENTION, "How to prevent it", optional=True),
            fields.person_input(
                StepBlock.RECORD_PROCESS_OWNER,
                "Process owner",
                optional=True,
                hint="Who makes sure the prevention happens",
            ),
            fields.long_text_input(StepBlock.RECORD_LESSON, "Lesson learned", optional=True),
        ],
        submit="Save record",
        private_metadata=StepRef(case.id, step_key).encode(),
    )


def build_reopen_modal(case: Case, steps: Sequence[CaseStep], reopened: Sequence[str]) -> View:
    """Why, and which steps are done again (`reopened` ticked to start with: the fix and the record)."""
    choices = fields.options((s.key, f"{s.position + 1}. {s.step.title}"[:75]) for s in steps)
    return fields.modal(
        StepView.REOPEN.value,
        "Reopen the case",
        [
            _summary_header(case),
            fields.long_text_input(StepBlock.REOPEN_REASON, "Why reopen it?"),
            InputBlock(
                block_id=StepBlock.REOPEN_STEPS.value,
                label="Steps to do again",
                hint="They are open on the card again and posted again at the bottom of the thread.",
                element=CheckboxesElement(
                    action_id=StepBlock.REOPEN_STEPS.action_id,
                    options=choices,
                    initial_options=[o for o in choices if o.value in reopened] or None,
                ),
            ),
        ],
        submit="Reopen",
        private_metadata=StepRef(case.id, "").encode(),
    )
