"""Amends requests and what became of them, as the service, storage and the Slack edge exchange them."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum

from pydantic import BaseModel, ConfigDict

from bot.amends.money import Money, Percent
from bot.amends.policy import AmendsKind, AmendsPolicy, Guarantee, Guidance
from bot.amends.rules import Reason, Tally
from bot.cases import Case, MessageRef


class AmendsState(StrEnum):
    PENDING = "pending"
    GRANTED = "granted"  # within the agent's power, or a guarantee: no approver needed
    APPROVED = "approved"
    ADJUSTED = "adjusted"  # approved with a different amount
    REJECTED = "rejected"

    @property
    def given(self) -> bool:
        return self in {AmendsState.GRANTED, AmendsState.APPROVED, AmendsState.ADJUSTED}


class Decision(StrEnum):
    APPROVE = "approve"
    REJECT = "reject"
    ADJUST = "adjust"


class AmendsSource(StrEnum):
    AGENT = "agent"
    GUARANTEE = "guarantee"


class Amends(BaseModel):
    """One amends request and what became of it."""

    model_config = ConfigDict(frozen=True)

    id: int
    case_id: int
    team_id: str
    customer_key: str
    kind: AmendsKind
    offered: Money | Percent
    value: Money | None
    justification: str
    customer_cost: str | None = None
    source: AmendsSource = AmendsSource.AGENT
    reasons: tuple[Reason, ...] = ()
    requester_user_id: str
    addressed_approver_id: str | None = None
    state: AmendsState
    requested_at: datetime
    decided_by: str | None = None
    decided_at: datetime | None = None
    decision_reason: str | None = None
    final: Money | Percent | None = None
    final_value: Money | None = None
    version: int = 1
    request_notice: MessageRef | None = None
    outcome_notice: MessageRef | None = None
    requester_told: bool = False
    escalation_level: int = 0

    @property
    def given(self) -> Money | Percent | None:
        return self.final if self.state.given else None

    def describe(self, offered: Money | Percent | None = None) -> str:
        amount = offered or self.offered
        return f"{amount} · {self.kind.label.lower()}"


class ApprovalCopy(BaseModel):
    """One copy of an approval request: in the approvals channel, or in one approver's DM."""

    model_config = ConfigDict(frozen=True)

    id: int
    amends_id: int
    recipient: str  # a channel id, or the user id whose DM it is
    backup: bool = False
    ref: MessageRef | None = None
    rendered_version: int = 0


class NewAmends(BaseModel):
    """A request to record. With a `Ruling`, `state` and `reasons` are what the ruling decides when it is recorded."""

    model_config = ConfigDict(frozen=True)

    case_id: int
    team_id: str
    customer_key: str
    kind: AmendsKind
    offered: Money | Percent
    value: Money | None
    justification: str
    customer_cost: str | None
    source: AmendsSource
    reasons: tuple[Reason, ...]
    requester_user_id: str
    addressed_approver_id: str | None
    state: AmendsState
    at: datetime
    submission_key: str | None
    # When it is stored pending: who gets a copy of the approval request.
    recipients: tuple[str, ...] = ()
    # When it is stored granted: the playbook step it finishes (if still pending) and the note it leaves there.
    step_key: str | None = None
    # When pending: when the approvers are reminded (staged with the request; see effects.py).
    remind_at: datetime | None = None


@dataclass(frozen=True)
class Verdict:
    state: AmendsState
    reasons: tuple[Reason, ...] = ()


@dataclass(frozen=True)
class Ruling:
    """The rules a request must pass, applied at the moment it is recorded.

    Storage records a workspace's requests one at a time; under that lock it counts the `Tally` (the month's
    spend since `month_since`, the customer's claims and agents' grants since `window_since`, the case's
    grants) and stores the request as `decide(tally)` says, in the same transaction. So a rule that a
    concurrent grant has just made apply turns this grant into an approval request instead of being missed.
    `decide` is pure and quick, and may raise a `MendError` to record nothing.
    """

    currency: str
    month_since: datetime
    window_since: datetime
    decide: Callable[[Tally], Verdict]


class Outcome(BaseModel):
    """A decision to store: conditional on the request still pending and its case still open."""

    model_config = ConfigDict(frozen=True)

    amends_id: int
    state: AmendsState
    actor_user_id: str
    at: datetime
    reason: str | None = None
    final: Money | Percent | None = None
    final_value: Money | None = None
    step_key: str | None = None


class DecideResult(StrEnum):
    DECIDED = "decided"
    ALREADY_DECIDED = "already_decided"
    CASE_CLOSED = "case_closed"


class LedgerEntry(BaseModel):
    model_config = ConfigDict(frozen=True)

    amends: Amends
    case_reference: str


@dataclass(frozen=True)
class Approvers:
    """Who may decide: named approvers, a Slack user group, and the backups asked when nobody answers."""

    ids: tuple[str, ...] = ()
    group_id: str | None = None
    backup_ids: tuple[str, ...] = ()
    channel_id: str | None = None
    escalate_after: timedelta = timedelta(hours=4)

    @property
    def configured(self) -> bool:
        return bool(self.ids or self.group_id or self.backup_ids)


@dataclass(frozen=True)
class OfferContext:
    """What the Offer amends form shows: guidance for the case, the agent's limit, the customer's history."""

    case: Case
    step_key: str | None
    guidance: Guidance
    policy: AmendsPolicy
    history: tuple[LedgerEntry, ...]
    month_spend: Money
    guarantee: Guarantee | None
    guarantee_used: bool = False


class AmendsHomeSummary(BaseModel):
    model_config = ConfigDict(frozen=True)

    spent: Money
    budget: Money | None
    waiting: tuple[tuple[Amends, Case], ...] = ()


def granted_summary(granted: Sequence[Amends]) -> str | None:
    """One line for the case card: what the customer was given."""
    parts = [f"{a.given} {a.kind.label.lower()}" for a in granted if a.given is not None]
    return "; ".join(parts) or None
