"""The written record of a recovery ("document and learn") and the timeline a closing summary tells."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta
from enum import StrEnum
from typing import Any

from pydantic import BaseModel, ConfigDict

from bot.cases import Case, Category
from bot.playbook import CaseStep, StepStatus, step_with
from bot.step_roles import STEP_ROLE_RULES

MAX_RECORD_TEXT = 3000


class RecordField(StrEnum):
    ROOT_CAUSE = "root_cause"
    WHAT_HAPPENED = "what_happened"
    WHAT_FIXED = "what_fixed"
    PREVENTION = "prevention"
    PROCESS_OWNER = "process_owner"
    LESSON = "lesson"


class CaseRecord(BaseModel):
    """What happened, what fixed it, how to prevent it, and the lesson: the case's written record."""

    model_config = ConfigDict(frozen=True)

    case_id: int
    root_cause_category: str
    what_happened: str
    what_fixed: str
    prevention: str | None = None
    process_owner_user_id: str | None = None
    lesson: str | None = None
    recorded_by: str
    recorded_at: datetime


def _text(raw: Any) -> str | None:
    if not isinstance(raw, str):
        return None
    cleaned = raw.replace("\x00", "").strip()
    return cleaned or None


def validate_record(
    raw: dict[RecordField, Any],
    root_causes: Sequence[Category],
    *,
    case_id: int,
    actor_user_id: str,
    at: datetime,
) -> tuple[CaseRecord | None, dict[RecordField, str]]:
    values = {field: _text(raw.get(field)) for field in RecordField}
    errors: dict[RecordField, str] = {}
    if values[RecordField.ROOT_CAUSE] not in {c.key for c in root_causes}:
        errors[RecordField.ROOT_CAUSE] = "Choose the root cause from the list."
    if not values[RecordField.WHAT_HAPPENED]:
        errors[RecordField.WHAT_HAPPENED] = "Say what happened, in a sentence or two."
    if not values[RecordField.WHAT_FIXED]:
        errors[RecordField.WHAT_FIXED] = "Say what fixed it for the customer."
    for field in (
        RecordField.WHAT_HAPPENED,
        RecordField.WHAT_FIXED,
        RecordField.PREVENTION,
        RecordField.LESSON,
    ):
        text = values[field]
        if text and len(text) > MAX_RECORD_TEXT:
            errors[field] = f"Please keep this under {MAX_RECORD_TEXT} characters (it has {len(text)})."
    owner = values[RecordField.PROCESS_OWNER]
    if owner is not None and not owner.isalnum():
        errors[RecordField.PROCESS_OWNER] = "Choose a person from the list."
    if errors:
        return None, errors
    return (
        CaseRecord(
            case_id=case_id,
            root_cause_category=values[RecordField.ROOT_CAUSE] or "",
            what_happened=values[RecordField.WHAT_HAPPENED] or "",
            what_fixed=values[RecordField.WHAT_FIXED] or "",
            prevention=values[RecordField.PREVENTION],
            process_owner_user_id=owner,
            lesson=values[RecordField.LESSON],
            recorded_by=actor_user_id,
            recorded_at=at,
        ),
        {},
    )


class TimelineEntry(BaseModel):
    model_config = ConfigDict(frozen=True)

    label: str
    at: datetime
    since_report: timedelta


def timeline_of(case: Case, steps: Sequence[CaseStep]) -> list[TimelineEntry]:
    """Reported, apologised, fixed, amends, followed up, closed: the moments that happened, with durations."""
    entries = [TimelineEntry(label="Reported", at=case.created_at, since_report=timedelta(0))]
    # Each step role that names a moment of the recovery (STEP_ROLE_RULES), when its step was done.
    for role, rules in STEP_ROLE_RULES.items():
        step = step_with(steps, role)
        if rules.moment and step is not None and step.status is StepStatus.DONE and step.at is not None:
            entries.append(
                TimelineEntry(label=rules.moment, at=step.at, since_report=step.at - case.created_at)
            )
    if case.closed_at is not None:
        entries.append(
            TimelineEntry(label="Closed", at=case.closed_at, since_report=case.closed_at - case.created_at)
        )
    return sorted(entries, key=lambda e: e.at)


def human_duration(delta: timedelta) -> str:
    seconds = int(delta.total_seconds())
    if seconds < 60:
        return f"{seconds}s"
    minutes = seconds // 60
    if minutes < 60:
        return f"{minutes}m"
    hours, minutes = divmod(minutes, 60)
    if hours < 48:
        return f"{hours}h {minutes:02d}m" if minutes else f"{hours}h"
    days, hours = divmod(hours, 24)
    return f"{days}d {hours}h" if hours else f"{days}d"
