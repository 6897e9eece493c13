"""What the amends service needs from outside: storage, the approver directory and the follow-up engine."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any, Protocol

from bot.amends.models import Amends, ApprovalCopy, DecideResult, LedgerEntry, NewAmends, Outcome, Ruling
from bot.cases import Case, MessageRef
from bot.playbook import CaseStep


class AmendsRepository(Protocol):
    async def load_case(self, case_id: int) -> tuple[Case, list[CaseStep]] | None: ...

    async def add(self, new: NewAmends, ruling: Ruling | None = None) -> tuple[Amends, bool]:
        """Store a request (and, when granted, finish the amends step and bump the case); idempotent on key.

        A workspace's requests are recorded one at a time; with a `ruling`, what it decides from the figures
        counted then is what is stored, in the same transaction, which also stages its Slack side
        (`effects.offer_requests`).
        """
        ...

    async def get(self, amends_id: int) -> Amends | None: ...

    async def decide(self, outcome: Outcome) -> DecideResult:
        """`UPDATE … WHERE state = 'pending'` on the request, in one transaction with the case still open,
        which also stages the decision's Slack side (`effects.decision_requests`)."""
        ...

    async def copies(self, amends_id: int) -> list[ApprovalCopy]: ...

    async def add_copies(
        self, amends_id: int, recipients: Sequence[str], *, backup: bool, level: int, at: datetime
    ) -> bool:
        """Add copies for more approvers (staging their posts) and raise the escalation level, unless it is
        there already; audited as an escalation."""
        ...

    async def remind(self, amends_id: int, at: datetime, backups_at: datetime | None) -> bool:
        """Stage a reminder per approver's copy (and the backups at `backups_at`) while still pending."""
        ...

    async def record_copy(self, copy_id: int, ref: MessageRef, version: int) -> bool:
        """Where a copy was posted, showing `version`; False if it was recorded already."""
        ...

    async def record_render(self, copy_id: int, version: int) -> bool:
        """A copy now shows `version`; False when it showed that version already."""
        ...

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


class ApproverDirectory(Protocol):
    async def group_members(self, group_id: str) -> list[str]: ...

    async def is_user(self, user_id: str) -> bool: ...


class StagedDelivery(Protocol):
    """The follow-up engine as amends uses it: deliver what a change staged now, not at the next tick."""

    async def deliver_now(self, case_id: int | None, key_prefix: str) -> int: ...
