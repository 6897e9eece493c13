"""One entry per step role, the edge half: the role's own buttons on its step's prompt and what its finished
prompt shows. What finishing it means for the case is the domain half, `bot.step_roles.STEP_ROLE_RULES`;
what each button does is its listener in `handlers/__init__.py`'s index."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass

from bot.cases import Case, Category
from bot.playbook import CaseStep, StepRole
from handlers.blocks.text import escape_mrkdwn, mention, quote, safe_mrkdwn
from handlers.ids import AmendsAction, FollowUpAction, StepAction

#: What a done step of this role shows under its heading (None: nothing more than who and when).
Finished = Callable[[Case, CaseStep, Sequence[Category]], "str | None"]


def nothing_more(case: Case, step: CaseStep, root_causes: Sequence[Category]) -> str | None:
    return None


@dataclass(frozen=True)
class StepRoleBlocks:
    # The role's own buttons (action id, label), the first primary; at most two, beside the promise, Done
    # and Skip that every live prompt has.
    buttons: tuple[tuple[str, str], ...] = ()
    finished: Finished = nothing_more


def _apology(case: Case, step: CaseStep, root_causes: Sequence[Category]) -> str | None:
    if not step.note:
        return None
    return f"*Apology to the customer:*\n{quote(safe_mrkdwn(step.note, 2800))}"


def _owner(case: Case, step: CaseStep, root_causes: Sequence[Category]) -> str | None:
    return f"Owner: {mention(case.owner_user_id)}"


def _root_cause(case: Case, step: CaseStep, root_causes: Sequence[Category]) -> str | None:
    if not case.root_cause_category:
        return None
    label = next(
        (c.label for c in root_causes if c.key == case.root_cause_category), case.root_cause_category
    )
    details = safe_mrkdwn(case.root_cause_details or "", 2800)
    return f"*Root cause:* {escape_mrkdwn(label)}\n{details}"


def _amends(case: Case, step: CaseStep, root_causes: Sequence[Category]) -> str | None:
    return f"*Amends granted:* {safe_mrkdwn(step.note, 2800)}" if step.note else None


def _record(case: Case, step: CaseStep, root_causes: Sequence[Category]) -> str | None:
    return f"*What happened:* {safe_mrkdwn(step.note, 2800)}" if step.note else None


STEP_ROLE_BLOCKS: Mapping[StepRole, StepRoleBlocks] = {
    StepRole.APOLOGY: StepRoleBlocks(((StepAction.DRAFT_APOLOGY, "Draft apology"),), _apology),
    StepRole.OWNERSHIP: StepRoleBlocks(
        ((StepAction.TAKE_OWNERSHIP, "Take ownership"), (StepAction.ASSIGN_OWNER, "Assign someone…")), _owner
    ),
    StepRole.ROOT_CAUSE: StepRoleBlocks(((StepAction.RECORD_ROOT_CAUSE, "Record root cause"),), _root_cause),
    # No button: finishing the step is what schedules "Is the customer satisfied?".
    StepRole.FIX: StepRoleBlocks(),
    StepRole.AMENDS: StepRoleBlocks(((AmendsAction.OFFER, "Offer amends"),), _amends),
    StepRole.FOLLOW_UP: StepRoleBlocks(((FollowUpAction.SCHEDULE_FOLLOW_UP, "Schedule follow-up…"),)),
    StepRole.RECORD: StepRoleBlocks(((StepAction.WRITE_RECORD, "Write the record"),), _record),
}
