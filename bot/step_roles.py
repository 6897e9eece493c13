"""One entry per step role (a playbook step's `action`), the domain half: what finishing a step with that
role means for the case beyond the step itself. Its own buttons and how its finished prompt reads are the
edge half, `handlers.blocks.step_roles.STEP_ROLE_BLOCKS`; a follow-up kind a role's step schedules says so
in its own rules (`bot.followups.case_kinds`: the FIX role's customer follow-up).

Adding a role (docs/playbook.md#adding-a-step-action): its value in `StepRole` (bot/playbook.py), its rules
here, its blocks in handlers/blocks/step_roles.py. tests/test_dispatch.py fails until all three agree.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from bot.playbook import CaseStep, Step, StepRole, role_of


@dataclass(frozen=True)
class StepRoleRules:
    # Done on the step ends the case's "time to acknowledge" (the apology went out).
    acknowledges: bool = False
    # The moment the closing summary's timeline names after the step, when it was done.
    moment: str | None = None


#: Every role, in the order the closing summary's timeline names their moments.
STEP_ROLE_RULES: Mapping[StepRole, StepRoleRules] = {
    StepRole.APOLOGY: StepRoleRules(acknowledges=True, moment="Apologised"),
    StepRole.OWNERSHIP: StepRoleRules(),
    StepRole.ROOT_CAUSE: StepRoleRules(),
    StepRole.FIX: StepRoleRules(moment="Fixed"),
    StepRole.AMENDS: StepRoleRules(moment="Amends"),
    StepRole.FOLLOW_UP: StepRoleRules(moment="Followed up"),
    StepRole.RECORD: StepRoleRules(),
}

NO_ROLE = StepRoleRules()


def rules_of(step: Step | CaseStep) -> StepRoleRules:
    """The rules of a step's role (a step without one: none of them apply)."""
    role = role_of(step.step if isinstance(step, CaseStep) else step)
    return NO_ROLE if role is None else STEP_ROLE_RULES[role]
