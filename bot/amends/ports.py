"""What the amends service needs from outside: storage, Slack, the approver directory and a scheduler."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any, Protocol

from pydantic import BaseModel, ConfigDict

from bot.amends.models import Amends, ApprovalCopy, DecideResult, LedgerEntry, NewAmends, Outcome, Ruling
from bot.cases import Case, MessageRef
from bot.playbook import CaseStep


class AmendsRepository(Protocol):
    async def load_case(self, case_id: int) -> tuple[Case, list[CaseStep]] | None: ...

    async def add(self, new: NewAmends, ruling: Ruling | None = None) -> tuple[Amends, bool]:
        """Store a request (and, when granted, finish the amends step and bump the case); idempotent on key.

        A workspace's requests are recorded one at a time; with a `ruling`, what it decides from the figures
        counted then is what is stored, in the same transaction.
        """
        ...

    async def get(self, amends_id: int) -> Amends | None: ...

    async def decide(self, outcome: Outcome) -> DecideResult:
        """`UPDATE … WHERE state = 'pending'` on the request, in one transaction with the case still open."""
        ...

    async def copies(self, amends_id: int) -> list[ApprovalCopy]: ...

    async def add_copies(
        self, amends_id: int, recipients: Sequence[str], *, backup: bool, level: int
    ) -> bool:
        """Add copies for more approvers and raise the escalation level, unless it is there already."""
        ...

    async def record_copy(self, copy_id: int, ref: MessageRef) -> bool: ...

    async def claim_copy_render(self, copy_id: int, version: int) -> bool:
        """Claim the redraw of one copy at `version`; False when it shows that version already."""
        ...

    async def release_copy_render(self, copy_id: int, version: int) -> None: ...

    async def record_notice(self, amends_id: int, which: str, ref: MessageRef | None) -> bool: ...

    async def ledger(
        self, team_id: str, customer_key: str, since: datetime | None = None
    ) -> list[LedgerEntry]: ...

    async def month_spend(self, team_id: str, currency: str, since: datetime) -> int: ...

    async def pending(self, team_id: str, limit: int) -> list[tuple[Amends, Case]]:
        """Requests still waiting for a decision on open cases, oldest first."""
        ...

    async def audit(
        self, case_id: int, kind: str, actor_user_id: str | None, at: datetime, **data: Any
    ) -> None: ...


class AmendsNotifier(Protocol):
    async def post_approval_request(self, amends: Amends, case: Case, copy: ApprovalCopy) -> MessageRef: ...

    async def redraw_approval_request(self, amends: Amends, case: Case, copy: ApprovalCopy) -> None: ...

    async def post_request_notice(self, amends: Amends, case: Case) -> MessageRef: ...

    async def post_outcome(self, amends: Amends, case: Case) -> MessageRef: ...

    async def tell_requester(self, amends: Amends, case: Case) -> None: ...

    async def remind_approvers(self, amends: Amends, case: Case, copies: Sequence[ApprovalCopy]) -> None: ...


class ApproverDirectory(Protocol):
    async def group_members(self, group_id: str) -> list[str]: ...

    async def is_user(self, user_id: str) -> bool: ...


class Scheduler(Protocol):
    """Run something later, once: the port the durable follow-up engine will implement."""

    async def schedule(
        self, kind: str, due_at: datetime, dedupe_key: str, payload: dict[str, Any]
    ) -> None: ...


class DueJob(BaseModel):
    model_config = ConfigDict(frozen=True)

    kind: str
    dedupe_key: str
    payload: dict[str, Any]


class EscalationQueue(Scheduler, Protocol):
    """The stand-in scheduler's other half: hand out due jobs, each once."""

    async def claim_due(self, now: datetime, limit: int = 100) -> list[DueJob]: ...
