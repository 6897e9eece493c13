"""`FollowUpPolicy`: what a case change schedules and when, from the settings; pure rules on a clock.

Which kinds a change schedules is each kind's own rule (`case_kinds.CASE_KIND_RULES`); this holds the
settings they read and asks every kind."""

from __future__ import annotations

from datetime import datetime, timedelta

from pydantic import BaseModel, ConfigDict

from bot.followup_request import FollowUpRequest
from bot.followups.calendar import DEFAULT_WORKING_HOURS, WorkingHours
from bot.followups.case_kinds import CASE_KIND_RULES
from bot.followups.models import FollowUpKind
from bot.playbook import Step, StepStatus


class FollowUpPolicy(BaseModel):
    """What to schedule and when, from the settings; pure, so every rule is testable on a frozen clock."""

    model_config = ConfigDict(frozen=True, arbitrary_types_allowed=True)

    ack_nudge_after: timedelta = timedelta(minutes=15)
    follow_up_after: timedelta = timedelta(days=1)
    resurvey_after: timedelta = timedelta(days=14)
    promise_reminder_lead: timedelta = timedelta(hours=1)
    hours: WorkingHours = DEFAULT_WORKING_HOURS
    approver_ids: tuple[str, ...] = ()

    def on_new_case(self, at: datetime) -> tuple[FollowUpRequest, ...]:
        return tuple(r for kind in CASE_KIND_RULES.values() for r in kind.on_open(self, at))

    def on_step_finished(self, step: Step, status: StepStatus, at: datetime) -> tuple[FollowUpRequest, ...]:
        return tuple(
            r for kind in CASE_KIND_RULES.values() for r in kind.on_step_finished(self, step, status, at)
        )

    def on_close(self, at: datetime) -> tuple[FollowUpRequest, ...]:
        return tuple(r for kind in CASE_KIND_RULES.values() for r in kind.on_close(self, at))

    def promise_reminder_at(self, deadline: datetime, now: datetime, tz_name: str | None) -> datetime | None:
        """When to remind before a deadline: `lead` before it, moved EARLIER into the owner's working hours
        (a reminder after the deadline is useless); None when there is no time left to remind."""
        ideal = self.hours.last_open_before(deadline - self.promise_reminder_lead, tz_name)
        at = max(ideal, now)
        return at if at < deadline else None


def promise_requests(
    promise_id: int, deadline: datetime, remind_at: datetime | None, made_at: datetime | None = None
) -> tuple[FollowUpRequest, ...]:
    """A promise's confirmation in the case thread (when `made_at` is given), its reminder (if there is
    time for one) and its deadline flag, which is never moved."""
    payload = {"promise_id": promise_id}
    confirmation: tuple[FollowUpRequest, ...] = ()
    if made_at is not None:
        made = {**payload, "remind_at": remind_at.isoformat() if remind_at else None}
        confirmation = (
            FollowUpRequest(
                kind=FollowUpKind.PROMISE_MADE,
                key=f"promise:{promise_id}:made",
                due_at=made_at,
                payload=made,
                exact=True,  # a confirmation of what was just said waits for nobody's working hours
            ),
        )
    due = FollowUpRequest(
        kind=FollowUpKind.PROMISE_DUE,
        key=f"promise:{promise_id}:due",
        due_at=deadline,
        payload=payload,
        exact=True,
    )
    if remind_at is None:
        return (*confirmation, due)
    reminder = FollowUpRequest(
        kind=FollowUpKind.PROMISE_REMINDER,
        key=f"promise:{promise_id}:remind",
        due_at=remind_at,
        payload=payload,
    )
    return (*confirmation, reminder, due)
