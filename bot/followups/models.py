"""Follow-up rows as the domain sees them: kinds, states, promises, and a handler's verdict on a row."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from bot.cases import MessageRef


class FollowUpKind(StrEnum):
    """The kinds Mend itself schedules; other features add their own kind strings. Each case kind has its
    rules in `case_kinds.CASE_KIND_RULES` and its blocks in `handlers.blocks.case_kinds`."""

    ACK_NUDGE = "ack_nudge"  # the apology step is late: nudge the owner
    ACK_ESCALATION = "ack_escalation"  # still late after a second period: tell an approver
    PROMISE_REMINDER = "promise_reminder"  # before a promise's deadline
    PROMISE_DUE = "promise_due"  # the deadline passed: flag the case unless the promise was kept
    CUSTOMER_FOLLOW_UP = "customer_follow_up"  # after the fix: "Is the customer satisfied?"
    SCHEDULED_FOLLOW_UP = "scheduled_follow_up"  # the agent's own "follow up with the customer at ..."
    RESURVEY = "resurvey"  # weeks after closing: did the recovery work?
    PROMISE_MADE = "promise_made"  # the promise, confirmed in the case thread once, with Mark kept
    FOLLOW_UP_PLANNED = "follow_up_planned"  # the agent's check-in, confirmed in the case thread once
    NOTICE = "notice"  # a plain message to post exactly once (the outbox)


class FollowUpState(StrEnum):
    PENDING = "pending"  # waiting for due_at (and a claim)
    UNKNOWN = "unknown"  # a post was attempted and its outcome is not known: reconcile before any resend
    SENT = "sent"  # the message is in Slack; its buttons may still be clicked
    RESOLVED = "resolved"  # someone acted on it (Done, Satisfied, outcome recorded, ...)
    CANCELLED = "cancelled"  # its reason went away before it was sent
    FAILED = "failed"  # Slack refused it for good (e.g. the channel is gone)


CLAIMABLE = (FollowUpState.PENDING, FollowUpState.UNKNOWN)


class PromiseState(StrEnum):
    OPEN = "open"
    KEPT = "kept"
    BROKEN = "broken"


class ResurveyOutcome(StrEnum):
    STAYED_SATISFIED = "stayed_satisfied"
    NEUTRAL = "neutral"
    LEFT = "left"

    @property
    def label(self) -> str:
        return {
            ResurveyOutcome.STAYED_SATISFIED: "Stayed, and is satisfied",
            ResurveyOutcome.NEUTRAL: "Stayed, neutral",
            ResurveyOutcome.LEFT: "Left us",
        }[self]


class FollowUp(BaseModel):
    model_config = ConfigDict(frozen=True)

    id: int
    kind: str
    case_id: int | None
    dedupe_key: str
    payload: dict[str, Any] = Field(default_factory=dict)
    due_at: datetime
    exact: bool = False
    state: FollowUpState
    round: int = 0
    recipient_user_id: str | None = None
    lease_token: str | None = None
    attempts: int = 0
    attempted_at: datetime | None = None
    message: MessageRef | None = None
    thread_ts: str | None = None
    sent_at: datetime | None = None
    outcome: str | None = None
    resolution: str | None = None
    resolved_by: str | None = None
    created_at: datetime

    @property
    def message_key(self) -> str:
        """The metadata key of this round's message: what reconciliation looks for in Slack."""
        return f"fu:{self.id}:{self.round}"


class Promise(BaseModel):
    model_config = ConfigDict(frozen=True)

    id: int
    case_id: int
    text: str
    due_at: datetime
    state: PromiseState
    created_by: str
    created_at: datetime


class NewPromise(BaseModel):
    model_config = ConfigDict(frozen=True)

    case_id: int
    text: str
    due_at: datetime
    created_by: str
    at: datetime
    view_key: str | None  # Slack's view id: a replayed submission records no second promise
    remind_at: datetime | None


@dataclass(frozen=True)
class Cancel:
    reason: str


@dataclass(frozen=True)
class Defer:
    """Not yet (e.g. the case thread does not exist yet); the row is claimed again at `until`."""

    until: datetime
    reason: str


@dataclass(frozen=True)
class Deliver:
    channel_id: str
    thread_ts: str | None = None
    to: str | None = None  # the person it is for: their working hours apply unless the row is exact
    context: dict[str, Any] = field(default_factory=dict)  # whatever the handler's render needs


Verdict = Deliver | Cancel | Defer


@dataclass(frozen=True)
class OutgoingMessage:
    text: str
    blocks: Sequence[Any] = ()  # Block Kit, built at the edge; the domain only carries it
