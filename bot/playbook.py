"""The recovery playbook: its steps (defaults from the doctrine, or a team's file) and a case's progress."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from enum import StrEnum
from pathlib import Path
from typing import Any

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    StrictBool,
    ValidationError,
    field_validator,
    model_validator,
)

from bot.config_file import ConfigFileError, LineFinder, field_problems, line_of, read_config_file
from bot.followup_request import FollowUpRequest


class StepRole(StrEnum):
    """The part a step plays in the recovery (a step file's `action`): mostly work it has its own button for,
    beside Done and Skip. Not `handlers.ids.StepAction`, which names the buttons' Slack action ids."""

    APOLOGY = "apology"
    OWNERSHIP = "ownership"
    ROOT_CAUSE = "root_cause"
    AMENDS = "amends"
    # A role, not a button: finishing the step with this role schedules the follow-up with the customer.
    FIX = "fix"
    FOLLOW_UP = "follow_up"
    RECORD = "record"


class Step(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    key: str = Field(pattern=r"^[a-z][a-z0-9_]{0,39}$")
    title: str = Field(min_length=1, max_length=80)
    what: str = Field(min_length=1, max_length=600)
    why: str = Field(default="", max_length=300)
    words: tuple[str, ...] = Field(default=(), max_length=5)
    required: bool = True
    action: StepRole | None = None
    # Read on the apology step (its role's rules: bot/step_roles.py): Done there opens the apology form,
    # so the coach sees every apology, unless a team turns it off here.
    coach: StrictBool = True
    # One optional line Done records on the step, asked as this (e.g. what the customer said matters most),
    # shown on the finished step and in the closing summary.
    asks: str | None = Field(default=None, min_length=1, max_length=80)

    @field_validator("title", "what", "why")
    @classmethod
    def _stripped(cls, value: str) -> str:
        return value.strip()

    @field_validator("words")
    @classmethod
    def _words(cls, value: tuple[str, ...]) -> tuple[str, ...]:
        for phrase in value:
            if not phrase.strip() or len(phrase) > 200:
                raise ValueError("each phrase must be 1 to 200 characters")
        return tuple(p.strip() for p in value)


def role_of(step: Step) -> StepRole | None:
    """The step's role; cases opened before the FIX role existed carry the default step without it, whose
    key still says so."""
    if step.action is None and step.key == "fix":
        return StepRole.FIX
    return step.action


DEFAULT_STEPS: tuple[Step, ...] = (
    Step(
        key="apologize",
        title="Acknowledge and apologize",
        what="Send a sincere, personal apology that says you care, that you understand, and what you will do next.",
        why="A prompt, sincere response is what turns a failure into loyalty.",
        words=("I'm sorry we let you down.", "I can see that …", "I will … by …"),
        action=StepRole.APOLOGY,
    ),
    Step(
        key="listen",
        title="Listen and go over the complaint",
        what="Restate the problem, ask open questions, and capture the customer's own words.",
        why="The customer must feel understood before any fix lands.",
        words=("Tell me what happened.", "So what I'm hearing is …", "What would make this right for you?"),
        asks="What the customer said matters most",
    ),
    Step(
        key="own",
        title="Take ownership",
        what="Name one owner; never pass the customer around or blame another team.",
        why="One person who owns the outcome is what makes the customer trust you.",
        words=("I'll take care of this personally.", "I'm your contact until this is fixed."),
        action=StepRole.OWNERSHIP,
    ),
    Step(
        key="root_cause",
        title="Find the root cause",
        what="Investigate yourself instead of making the customer troubleshoot.",
        why="Fixing the cause stops it happening to them, and to anyone else, again.",
        words=("Let me look into this for you.",),
        action=StepRole.ROOT_CAUSE,
    ),
    Step(
        key="fix",
        title="Fix the problem",
        what="Replace or redo what failed, quickly and fairly; don't stop until it is fixed.",
        why="An apology without a fix is only words.",
        words=("I've … and you'll have it by ….",),
        action=StepRole.FIX,
        asks="What was fixed",
    ),
    Step(
        key="amends",
        title="Make amends",
        what="Offer something extra, sized by the compensation policy.",
        why="Well-dosed generosity repairs the relationship; stinginess adds insult to injury.",
        required=False,
        action=StepRole.AMENDS,
    ),
    Step(
        key="follow_up",
        title="Follow up",
        what="Check later that the customer is satisfied, and keep every promise you made.",
        why="A promise forgotten undoes the recovery.",
        words=("I wanted to check that everything is working for you now.",),
        action=StepRole.FOLLOW_UP,
    ),
    Step(
        key="record",
        title="Document and learn",
        what="Record the problem, its root cause, the fix and the lesson.",
        why="Process recovery: every case should make the next failure less likely.",
        action=StepRole.RECORD,
    ),
)


class Playbook(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    steps: tuple[Step, ...] = Field(min_length=1, max_length=20)

    @model_validator(mode="after")
    def _unique(self) -> Playbook:
        keys = [s.key for s in self.steps]
        for key in keys:
            if keys.count(key) > 1:
                raise ValueError(f"step key {key!r} is used twice")
        actions = [s.action for s in self.steps if s.action is not None]
        for action in actions:
            if actions.count(action) > 1:
                raise ValueError(f"action {action.value!r} is given to two steps")
        return self

    def step(self, key: str) -> Step | None:
        return next((s for s in self.steps if s.key == key), None)


DEFAULT_PLAYBOOK = Playbook(steps=DEFAULT_STEPS)


class PlaybookError(ConfigFileError):
    """A playbook file that cannot be used; the message names the file, the line or field, and the fix."""


def load_playbook(path: Path) -> Playbook:
    """Read a team's playbook from TOML or YAML.

    A step whose key is a default step's key starts from that step, so a team can rename, reorder, drop
    or make optional with a line or two; other keys are new steps and need a title and a `what`.
    """
    file = read_config_file(path, what="playbook", error=PlaybookError)
    return playbook_from_data(file.data, source=file.source, lines=file.line)


def playbook_from_data(data: Any, *, source: str = "playbook", lines: LineFinder | None = None) -> Playbook:
    """Check a playbook as parsed from a file (or given in code); `lines` says where each step was written."""
    if not isinstance(data, dict) or not isinstance(data.get("steps"), list):
        raise PlaybookError(
            f"{source}: the file must have a list of `steps` (e.g. [[steps]] tables in TOML)."
        )
    defaults = {s.key: s for s in DEFAULT_STEPS}
    steps: list[Step] = []
    for index, raw in enumerate(data["steps"]):
        where = _where(source, index, lines)
        if not isinstance(raw, dict):
            raise PlaybookError(f"{where}: each step must be a table of fields such as key, title and what.")
        base = defaults.get(str(raw.get("key", "")))
        merged = {**(base.model_dump(exclude_none=True) if base else {}), **raw}
        try:
            steps.append(Step.model_validate(merged))
        except ValidationError as exc:
            raise PlaybookError(f"{where}: {_explain(exc)}") from None
    unknown = set(data) - {"steps"}
    if unknown:
        raise PlaybookError(f"{source}: unknown top-level field(s) {sorted(unknown)}; only `steps` is read.")
    try:
        return Playbook(steps=tuple(steps))
    except ValidationError as exc:
        raise PlaybookError(f"{source}: {_explain(exc)}") from None


def _where(source: str, index: int, lines: LineFinder | None) -> str:
    line = line_of(lines, ("steps", index))
    return f"{source}:{f' line {line},' if line else ''} step {index + 1}"


def _explain(exc: ValidationError) -> str:
    unknown = "is not a step field (use key, title, what, why, words, required, action, coach)"
    return "; ".join(str(p) for p in field_problems(exc, unknown_field=unknown, whole="steps"))


class StepStatus(StrEnum):
    PENDING = "pending"
    DONE = "done"
    SKIPPED = "skipped"


class CaseStep(BaseModel):
    """One step of one case: a snapshot of the playbook step when the case opened, and what happened."""

    model_config = ConfigDict(frozen=True)

    case_id: int
    position: int
    step: Step
    status: StepStatus = StepStatus.PENDING
    actor_user_id: str | None = None
    at: datetime | None = None
    note: str | None = None
    prompt_channel_id: str | None = None
    prompt_ts: str | None = None
    # What the step's Slack prompt shows now, so only prompts whose state changed are redrawn.
    rendered_status: StepStatus | None = None

    @property
    def key(self) -> str:
        return self.step.key

    @property
    def finished(self) -> bool:
        return self.status is not StepStatus.PENDING

    @property
    def reopened(self) -> bool:
        """Pending again after it was finished (who reopened it, when and why are its actor, at and note)."""
        return self.status is StepStatus.PENDING and self.at is not None


class Progress(BaseModel):
    model_config = ConfigDict(frozen=True)

    finished: int
    total: int
    current: CaseStep | None
    missing_required: tuple[CaseStep, ...]

    @property
    def label(self) -> str:
        return f"{self.finished}/{self.total}"


def step_with(steps: Sequence[CaseStep], role: StepRole) -> CaseStep | None:
    """The case's step that plays `role`, if its playbook has one (a playbook gives each role once)."""
    return next((s for s in steps if role_of(s.step) is role), None)


def progress_of(steps: Sequence[CaseStep]) -> Progress:
    ordered = sorted(steps, key=lambda s: s.position)
    return Progress(
        finished=sum(1 for s in ordered if s.finished),
        total=len(ordered),
        current=next((s for s in ordered if not s.finished), None),
        missing_required=tuple(s for s in ordered if s.step.required and not s.finished),
    )


class StepChange(BaseModel):
    """Finish one step of a case, with whatever the step's own action records on the case."""

    model_config = ConfigDict(frozen=True)

    case_id: int
    step_key: str
    status: StepStatus
    actor_user_id: str
    at: datetime
    note: str | None = None
    event_kind: str
    event_data: dict[str, Any] = Field(default_factory=dict)
    new_owner_user_id: str | None = None
    root_cause_category: str | None = None
    root_cause_details: str | None = None
    # The apology went out: the case's "time to acknowledge" ends here.
    acknowledges: bool = False
    # Written in the same transaction as the change (bot/followups/policy.py decides what they are).
    follow_ups: tuple[FollowUpRequest, ...] = ()
