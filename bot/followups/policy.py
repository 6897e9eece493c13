"""`FollowUpPolicy`: what a case change schedules and when, from the settings; pure rules on a clock."""

from __future__ import annotations

from datetime import datetime, timedelta

from pydantic import BaseModel, ConfigDict

from bot.followup_request import FollowUpRequest
from bot.followups.calendar import DEFAULT_WORKING_HOURS, WorkingHours
from bot.followups.models import FollowUpKind
from bot.playbook import Step, StepRole, StepStatus


def is_fix_step(step: Step) -> bool:
    # Cases opened before the FIX role existed carry the default step without it; its key still says so.
    return step.action is StepRole.FIX or (step.action is None and step.key == "fix")


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
        nudge = FollowUpRequest(
            kind=FollowUpKind.ACK_NUDGE, key=FollowUpKind.ACK_NUDGE.value, due_at=at + self.ack_nudge_after
        )
        escalations = tuple(
            FollowUpRequest(
                kind=FollowUpKind.ACK_ESCALATION,
                key=f"{FollowUpKind.ACK_ESCALATION.value}:{approver}",
                due_at=at + 2 * self.ack_nudge_after,
                recipient_user_id=approver,
            )
            for approver in self.approver_ids
        )
        return (nudge, *escalations)

    def on_step_finished(self, step: Step, status: StepStatus, at: datetime) -> tuple[FollowUpRequest, ...]:
        if status is StepStatus.DONE and is_fix_step(step):
            # A reopened fix step is finished again later: each finishing asks again, under its own key.
            stamp = int(at.timestamp() * 1_000_000)
            return (
                FollowUpRequest(
                    kind=FollowUpKind.CUSTOMER_FOLLOW_UP,
                    key=f"{FollowUpKind.CUSTOMER_FOLLOW_UP.value}:{stamp}",
                    due_at=at + self.follow_up_after,
                ),
            )
        return ()

    def on_close(self, at: datetime) -> tuple[FollowUpRequest, ...]:
        return (
            FollowUpRequest(
                kind=FollowUpKind.RESURVEY, key=FollowUpKind.RESURVEY.value, due_at=at + self.resurvey_after
            ),
        )

    def promise_reminder_at(self, deadline: datetime, now: datetime, tz_name: str | None) -> datetime | None:
        """When to remind before a deadline: `lead` before it, moved EARLIER into the owner's working hours
        (a reminder after the deadline is useless); None when there is no time left to remind."""
        ideal = self.hours.last_open_before(deadline - self.promise_reminder_lead, tz_name)
        at = max(ideal, now)
        return at if at < deadline else None


def promise_requests(
    promise_id: int, deadline: datetime, remind_at: datetime | None
) -> tuple[FollowUpRequest, ...]:
    """A promise's reminder (if there is time for one) and its deadline flag, which is never moved."""
    payload = {"promise_id": promise_id}
    due = FollowUpRequest(
        kind=FollowUpKind.PROMISE_DUE,
        key=f"promise:{promise_id}:due",
        due_at=deadline,
        payload=payload,
        exact=True,
    )
    if remind_at is None:
        return (due,)
    reminder = FollowUpRequest(
        kind=FollowUpKind.PROMISE_REMINDER,
        key=f"promise:{promise_id}:remind",
        due_at=remind_at,
        payload=payload,
    )
    return (reminder, due)
