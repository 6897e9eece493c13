"""What follow-ups need from outside: the table (the queue), Slack, people's time zones, and the cases."""

from __future__ import annotations

from collections.abc import Sequence
from contextlib import AbstractAsyncContextManager
from datetime import datetime
from typing import Any, Protocol

from bot.cases import Case, MessageRef
from bot.followup_request import FollowUpRequest
from bot.followups.models import (
    Deliver,
    FollowUp,
    FollowUpState,
    NewPromise,
    OutgoingMessage,
    Promise,
    Verdict,
)
from bot.permissions import CaseChange
from bot.playbook import CaseStep


class FollowUpHandler(Protocol):
    """One kind of follow-up: is it still due, and what does its message say."""

    async def check(self, item: FollowUp) -> Verdict: ...

    def render(self, item: FollowUp, deliver: Deliver) -> OutgoingMessage: ...


class FollowUpEffect(FollowUpHandler, Protocol):
    """A kind that delivers through a call of its own rather than the engine's post of `render`'s message:
    a redraw in place, a post under the feature's own metadata, or a step that stages further rows.

    The engine gives it the same lease, UNKNOWN marking, retries and reconciliation as a post."""

    async def perform(self, item: FollowUp, deliver: Deliver, message: OutgoingMessage) -> MessageRef | None:
        """Do it once; raise NotPosted (certainly not done) or OutcomeUnknown (may have been done)."""
        ...

    async def find(self, item: FollowUp, deliver: Deliver, since: datetime) -> MessageRef | None:
        """After an unknown outcome: the message an earlier attempt left, if it landed. None means "do it
        again", which is all an idempotent effect (a redraw, a staging step) ever answers."""
        ...


class NotPosted(Exception):
    """Slack certainly did not post it (429, refused, could not connect); safe to try again later."""

    def __init__(self, reason: str, *, retry_after: float | None = None, permanent: bool = False) -> None:
        super().__init__(reason)
        self.reason = reason
        self.retry_after = retry_after
        self.permanent = permanent


class OutcomeUnknown(Exception):
    """The post may or may not have landed (5xx, timeout, dropped connection): reconcile before resending."""


class FollowUpMessenger(Protocol):
    def turn(self, channel_id: str) -> AbstractAsyncContextManager[None]:
        """Wait for this channel's next posting slot (Slack's per-channel rate) and hold it."""
        ...

    async def post(
        self, channel_id: str, thread_ts: str | None, message: OutgoingMessage, key: str
    ) -> MessageRef:
        """Post once with `key` in the message metadata; raise NotPosted or OutcomeUnknown on failure."""
        ...

    async def find(
        self, channel_id: str, thread_ts: str | None, key: str, since: datetime
    ) -> MessageRef | None:
        """The message carrying `key`, if a post that looked failed did land."""
        ...

    async def update(self, ref: MessageRef, message: OutgoingMessage) -> None: ...


class PeopleDirectory(Protocol):
    async def timezone(self, user_id: str) -> str | None: ...


class RecoveryActions(Protocol):
    """What acting on a case nudge may change in the case's playbook (RecoveryService)."""

    async def complete_apology(self, case_id: int, *, actor_user_id: str, team_id: str) -> None: ...

    async def reopen_fix(self, case_id: int, *, actor_user_id: str, team_id: str, reason: str) -> Any: ...

    async def check(self, case: Case, change: CaseChange, actor_user_id: str) -> None:
        """Refuse a change to the case this person may not make (CASE_EDITORS)."""
        ...

    async def check_addressed(self, case: Case, addressee: str | None, actor_user_id: str) -> None:
        """Refuse a click on a nudge addressed to someone else, unless by an approver."""
        ...

    async def sync(self, case_id: int) -> None: ...


class FollowUpQueue(Protocol):
    """The table as the engine uses it: claims with a lease, and every way a claimed row is settled."""

    async def claim(self, now: datetime, limit: int, lease_until: datetime, token: str) -> list[FollowUp]: ...

    async def renew(self, tokens: Sequence[str], lease_until: datetime) -> int:
        """Extend the leases of rows this process still holds (queued behind a busy channel, or posting)."""
        ...

    async def begin_send(self, item: FollowUp, now: datetime, lease_until: datetime) -> bool:
        """Renew the lease and mark the row UNKNOWN; False if another process holds it now."""
        ...

    async def claim_staged(
        self,
        case_id: int | None,
        key_prefix: str,
        now: datetime,
        limit: int,
        lease_until: datetime,
        token: str,
    ) -> list[FollowUp]:
        """Like `claim`, for the due rows whose key starts with `key_prefix` (what one change just staged)."""
        ...

    async def mark_sent(self, item: FollowUp, ref: MessageRef | None, now: datetime) -> bool:
        """Done; `ref` is the message it left (None for an effect that leaves none)."""
        ...

    async def retry_later(
        self, item: FollowUp, due_at: datetime, error: str, *, state: FollowUpState, now: datetime
    ) -> None: ...

    async def postpone(self, item: FollowUp, due_at: datetime, reason: str, now: datetime) -> None: ...

    async def release(self, item: FollowUp) -> None: ...

    async def cancel(self, item: FollowUp, reason: str, now: datetime) -> bool: ...


class FollowUpRepository(FollowUpQueue, Protocol):
    """The whole table: the queue, plus what acting on a row and recording promises change."""

    async def get(self, follow_up_id: int) -> FollowUp | None: ...

    async def resolve(
        self,
        follow_up_id: int,
        round_: int,
        *,
        resolution: str,
        actor_user_id: str,
        now: datetime,
        data: dict[str, Any] | None = None,
    ) -> FollowUp | None:
        """SENT -> RESOLVED if the row is still at `round_`; writes a case event. None: nothing changed."""
        ...

    async def rearm(
        self,
        follow_up_id: int,
        round_: int,
        *,
        due_at: datetime,
        exact: bool,
        recipient_user_id: str | None,
        actor_user_id: str,
        now: datetime,
        event_kind: str,
        event_data: dict[str, Any],
    ) -> FollowUp | None:
        """SENT -> PENDING at the next round (snooze, reassign); None if the row moved on meanwhile."""
        ...

    async def stage(self, requests: Sequence[FollowUpRequest], case_id: int | None, now: datetime) -> None:
        """Stage follow-ups in a transaction of their own (for changes that are nothing but scheduling)."""
        ...

    async def add_promise(self, new: NewPromise) -> Promise:
        """Store the promise with its reminder and deadline flag; idempotent on `view_key`."""
        ...

    async def promise(self, promise_id: int) -> Promise | None: ...

    async def for_case(self, case_id: int) -> list[FollowUp]: ...

    async def keep_promise(self, promise_id: int, actor_user_id: str, now: datetime) -> bool: ...

    async def break_promise(self, promise_id: int, now: datetime) -> bool: ...


class CaseLoader(Protocol):
    async def load(self, case_id: int) -> tuple[Case, list[CaseStep]] | None: ...
