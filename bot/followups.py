"""Follow-ups: time-bound nudges kept as rows (the table is the queue), the rules of when they are due, and
`FollowUpService`, which claims due rows and delivers each exactly once.

How a follow-up lives
---------------------
1. Something that causes a follow-up (a case opened, the fix step done, a case closed, a promise recorded)
   carries `FollowUpRequest`s computed here by `FollowUpPolicy`; storage writes them as rows in the SAME
   transaction as the change, under a unique dedupe key, so a retried click cannot create two.
2. Every process ticks `FollowUpService.claim_due()` (APScheduler, in app.py, is only the clock). Due rows
   are claimed atomically with a lease; each claimed row goes to `process()`, which asks the kind's
   `FollowUpHandler` whether it is still due (`Cancel`, `Defer`) or to whom and where it goes (`Deliver`),
   waits for the person's working hours, then posts through the `FollowUpMessenger` port.
3. Exactly once: just before posting, the lease holder marks the row UNKNOWN ("a post may be under way")
   while renewing its lease; then SENT once Slack answers. A crash, a timeout or a 5xx leaves it UNKNOWN;
   whoever claims an UNKNOWN row first looks for the message's metadata key in Slack (reconciliation)
   and only posts if it is not there. Nothing is retried blindly.
4. Acting on a sent nudge (Done, Snooze, Reassign, the kind's own buttons) changes the row conditionally
   on its `round`, so a stale or double click changes nothing; Snooze and Reassign re-arm the row with
   the next round, whose message gets a new metadata key.

Adding a kind (e.g. the amends feature's approval escalation)
-------------------------------------------------------------
- Pick a kind string (`"approval_escalation"`), and make your change carry `FollowUpRequest(kind=...,
  key=..., due_at=..., payload={...}, recipient_user_id=...)`; in your repository call
  `storage.followups.stage(session, requests, case_id=...)` inside your own transaction. `key` must be
  unique per case (the row's dedupe key is `case:<id>:<key>`, or just `<key>` without a case).
- Implement `FollowUpHandler` (`check` -> `Deliver | Cancel | Defer`, and `render` -> `OutgoingMessage`),
  usually in `handlers/` because it renders Block Kit, and register it in the composition root:
  `followups.register("approval_escalation", handler)`.
- Buttons: reuse `handlers.blocks.followups.build_nudge_actions` for Done/Snooze/Reassign; Done calls the
  handler's optional `on_done(item, actor_user_id, team_id)` hook.
"""

from __future__ import annotations

import asyncio
import logging
import re
import uuid
from collections import Counter
from collections.abc import Sequence
from contextlib import AbstractAsyncContextManager
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from enum import StrEnum
from typing import Any, Protocol
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import BaseModel, ConfigDict, Field

from bot.cases import Case, MessageRef
from bot.clock import Clock
from bot.errors import InvalidInput, MendError
from bot.followup_request import FollowUpRequest
from bot.playbook import CaseStep, Step, StepAction, StepStatus

log = logging.getLogger(__name__)


# ---- kinds and states ---------------------------------------------------------------------------


class FollowUpKind(StrEnum):
    """The kinds Mend itself schedules; other features add their own kind strings."""

    ACK_NUDGE = "ack_nudge"  # the apology step is late: nudge the owner
    ACK_ESCALATION = "ack_escalation"  # still late after a second period: tell an approver
    PROMISE_REMINDER = "promise_reminder"  # before a promise's deadline
    PROMISE_DUE = "promise_due"  # the deadline passed: flag the case unless the promise was kept
    CUSTOMER_FOLLOW_UP = "customer_follow_up"  # after the fix: "Is the customer satisfied?"
    SCHEDULED_FOLLOW_UP = "scheduled_follow_up"  # the agent's own "follow up with the customer at ..."
    RESURVEY = "resurvey"  # weeks after closing: did the recovery work?
    NOTICE = "notice"  # a plain message to post exactly once (the outbox)


CASE_KINDS = frozenset(k for k in FollowUpKind if k is not FollowUpKind.NOTICE)


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


# ---- durations ----------------------------------------------------------------------------------


def format_duration(delta: timedelta) -> str:
    seconds = int(delta.total_seconds())
    for unit, size in (("d", 86400), ("h", 3600), ("m", 60)):
        if seconds >= size and seconds % size == 0:
            return f"{seconds // size}{unit}"
    return f"{delta.total_seconds():g}s"


# ---- time zones and working hours ---------------------------------------------------------------


def zone(name: str | None) -> ZoneInfo:
    """A person's time zone by IANA name; an unknown or missing one is UTC, never an error."""
    try:
        return ZoneInfo(name) if name else ZoneInfo("UTC")
    except (ZoneInfoNotFoundError, ValueError):
        return ZoneInfo("UTC")


def local_moment(day: date, at: time, tz: ZoneInfo) -> datetime:
    """Wall-clock `day at` in `tz`, as UTC.

    fold=0 picks the first of two moments when clocks go back, and maps a time that does not exist
    (clocks going forward skip it) to the same distance past the gap, e.g. 02:30 -> 03:30.
    """
    return datetime.combine(day, at).replace(tzinfo=tz, fold=0).astimezone(UTC)


def local_to_utc(day: date, at: time, tz_name: str | None) -> datetime:
    return local_moment(day, at, zone(tz_name))


_DAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
_HOURS = re.compile(r"^\s*(\d{1,2}):(\d{2})\s*-\s*(\d{1,2}):(\d{2})\s*(.*)$")


def _parse_days(text: str) -> frozenset[int]:
    days: set[int] = set()
    for part in (p.strip().lower() for p in text.split(",")):
        if not part:
            continue
        first, sep, last = part.partition("-")
        try:
            a = _DAYS.index(first.strip()[:3])
            b = _DAYS.index(last.strip()[:3]) if sep else a
        except ValueError:
            raise ValueError(f"{part!r} is not a day or range of days like Mon-Fri") from None
        i = a
        while True:  # ranges may wrap the week: Sun-Thu
            days.add(i)
            if i == b:
                break
            i = (i + 1) % 7
    if not days:
        raise ValueError("name at least one day, e.g. Mon-Fri")
    return frozenset(days)


@dataclass(frozen=True)
class WorkingHours:
    """When nudges may reach a person, in their own time zone: `09:00-18:00 Mon-Fri`, or `always`."""

    start: time | None = time(9)
    end: time | None = time(18)
    days: frozenset[int] = frozenset(range(5))

    @classmethod
    def parse(cls, text: str) -> WorkingHours:
        if text.strip().lower() in {"always", "any", "24/7"}:
            return ALWAYS
        match = _HOURS.match(text)
        if not match:
            raise ValueError(f"{text!r} is not working hours; write e.g. '09:00-18:00 Mon-Fri' or 'always'")
        h1, m1, h2, m2, rest = match.groups()
        try:
            start, end = time(int(h1), int(m1)), time(int(h2), int(m2))
        except ValueError:
            raise ValueError(f"{text!r} has a time that does not exist") from None
        if start >= end:
            raise ValueError("working hours must start before they end on the same day (no overnight shifts)")
        days = _parse_days(rest) if rest.strip() else frozenset(range(5))
        return cls(start=start, end=end, days=days)

    @property
    def always(self) -> bool:
        return self.start is None or self.end is None

    def _window(self, day: date, tz: ZoneInfo) -> tuple[datetime, datetime] | None:
        if self.start is None or self.end is None or day.weekday() not in self.days:
            return None
        return local_moment(day, self.start, tz), local_moment(day, self.end, tz)

    def is_open(self, at: datetime, tz_name: str | None) -> bool:
        return self.next_open(at, tz_name) == at

    def next_open(self, at: datetime, tz_name: str | None) -> datetime:
        """`at` if it is inside working hours, else the next start of working hours (UTC)."""
        if self.always:
            return at
        tz = zone(tz_name)
        today = at.astimezone(tz).date()
        for offset in range(8):
            window = self._window(today + timedelta(days=offset), tz)
            if window is None:
                continue
            opens, closes = window
            if opens <= at < closes:
                return at
            if opens > at:
                return opens
        raise AssertionError("working hours always have a day in the week")  # pragma: no cover

    def last_open_before(self, at: datetime, tz_name: str | None) -> datetime:
        """`at` if inside working hours, else the last minute of the latest window before it."""
        if self.always:
            return at
        tz = zone(tz_name)
        today = at.astimezone(tz).date()
        for offset in range(8):
            window = self._window(today - timedelta(days=offset), tz)
            if window is None:
                continue
            opens, closes = window
            if opens <= at < closes:
                return at
            if closes <= at:
                return closes - timedelta(minutes=1)
        raise AssertionError("working hours always have a day in the week")  # pragma: no cover

    def next_morning(self, at: datetime, tz_name: str | None) -> datetime:
        """The start of working hours on a later day than today, in the person's zone ("tomorrow morning")."""
        tz = zone(tz_name)
        tomorrow = at.astimezone(tz).date() + timedelta(days=1)
        if self.always:
            return local_moment(tomorrow, time(9), tz)
        return self.next_open(local_moment(tomorrow, time(0), tz), tz_name)

    def describe(self) -> str:
        if self.always:
            return "always"
        assert self.start is not None and self.end is not None
        days = ",".join(_DAYS[d].title() for d in sorted(self.days))
        return f"{self.start:%H:%M}-{self.end:%H:%M} {days}"


ALWAYS = WorkingHours(start=None, end=None, days=frozenset(range(7)))
DEFAULT_WORKING_HOURS = WorkingHours()


# ---- snoozing -----------------------------------------------------------------------------------


class SnoozeChoice(StrEnum):
    HOUR = "1h"
    TOMORROW = "tomorrow"
    PICK = "pick"

    @property
    def label(self) -> str:
        return {
            SnoozeChoice.HOUR: "1 hour",
            SnoozeChoice.TOMORROW: "Tomorrow morning",
            SnoozeChoice.PICK: "Pick a time…",
        }[self]


def snooze_until(choice: SnoozeChoice, now: datetime, hours: WorkingHours, tz_name: str | None) -> datetime:
    if choice is SnoozeChoice.HOUR:
        return now + timedelta(hours=1)
    if choice is SnoozeChoice.TOMORROW:
        return hours.next_morning(now, tz_name)
    raise ValueError("a picked time comes from the person, not from a rule")


# ---- what gets scheduled ------------------------------------------------------------------------


def is_fix_step(step: Step) -> bool:
    # Cases opened before the FIX role existed carry the default step without it; its key still says so.
    return step.action is StepAction.FIX or (step.action is None and step.key == "fix")


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


# ---- the rows as the domain sees them -----------------------------------------------------------


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


# ---- verdicts: is it still due, and where does it go? -------------------------------------------


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


class FollowUpHandler(Protocol):
    """One kind of follow-up: is it still due, and what does its message say."""

    async def check(self, item: FollowUp) -> Verdict: ...

    def render(self, item: FollowUp, deliver: Deliver) -> OutgoingMessage: ...


# ---- ports --------------------------------------------------------------------------------------


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

    async def sync(self, case_id: int) -> None: ...


class FollowUpRepository(Protocol):
    async def claim(self, now: datetime, limit: int, lease_until: datetime, token: str) -> list[FollowUp]: ...

    async def renew(self, tokens: Sequence[str], lease_until: datetime) -> int:
        """Extend the leases of rows this process still holds (queued behind a busy channel, or posting)."""
        ...

    async def begin_send(self, item: FollowUp, now: datetime, lease_until: datetime) -> bool:
        """Renew the lease and mark the row UNKNOWN; False if another process holds it now."""
        ...

    async def mark_sent(self, item: FollowUp, ref: MessageRef, now: datetime) -> bool: ...

    async def retry_later(
        self, item: FollowUp, due_at: datetime, error: str, *, state: FollowUpState, now: datetime
    ) -> None: ...

    async def postpone(self, item: FollowUp, due_at: datetime, reason: str, now: datetime) -> None: ...

    async def release(self, item: FollowUp) -> None: ...

    async def cancel(self, item: FollowUp, reason: str, now: datetime) -> bool: ...

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

    async def keep_promise(self, promise_id: int, actor_user_id: str, now: datetime) -> bool: ...

    async def break_promise(self, promise_id: int, now: datetime) -> bool: ...


# ---- "is it still due?" rules for case follow-ups -----------------------------------------------


def step_with(steps: Sequence[CaseStep], action: StepAction) -> CaseStep | None:
    return next((s for s in steps if s.step.action is action), None)


def fix_step(steps: Sequence[CaseStep]) -> CaseStep | None:
    return next((s for s in steps if is_fix_step(s.step)), None)


def cancel_reason(
    kind: str, case: Case, steps: Sequence[CaseStep], promise: Promise | None, now: datetime
) -> str | None:
    """Why a case follow-up should no longer be sent, or None if it is still due."""
    if kind in (FollowUpKind.ACK_NUDGE, FollowUpKind.ACK_ESCALATION):
        if not case.is_open:
            return "case closed"
        apology = step_with(steps, StepAction.APOLOGY)
        if apology is None:
            return "playbook has no apology step"
        if apology.finished:
            return f"apology {apology.status.value}"
        return None
    if kind in (FollowUpKind.CUSTOMER_FOLLOW_UP, FollowUpKind.SCHEDULED_FOLLOW_UP):
        return None if case.is_open else "case closed"
    if kind in (FollowUpKind.PROMISE_REMINDER, FollowUpKind.PROMISE_DUE):
        if promise is None:
            return "promise not found"
        if kind == FollowUpKind.PROMISE_DUE:
            # Only keeping the promise takes the flag away; a broken promise is flagged even if late.
            return "promise kept" if promise.state is PromiseState.KEPT else None
        if promise.state is not PromiseState.OPEN:
            return f"promise {promise.state.value}"
        if now >= promise.due_at:
            return "deadline passed before the reminder could go"
        return None
    if kind == FollowUpKind.RESURVEY:
        return None
    return None


class CaseLoader(Protocol):
    async def load(self, case_id: int) -> tuple[Case, list[CaseStep]] | None: ...


@dataclass(frozen=True)
class CaseContext:
    case: Case
    steps: tuple[CaseStep, ...]
    promise: Promise | None


class CaseFollowUpRules:
    """`check` for every case kind: cancelled when its reason went away; to the owner (or whoever it was
    reassigned to) in the case thread; deferred while the case thread does not exist yet."""

    def __init__(self, cases: CaseLoader, repo: FollowUpRepository, clock: Clock) -> None:
        self._cases = cases
        self._repo = repo
        self._clock = clock

    async def context(self, item: FollowUp) -> CaseContext | Cancel:
        if item.case_id is None:
            return Cancel("not about a case")
        loaded = await self._cases.load(item.case_id)
        if loaded is None:
            return Cancel("case not found")
        case, steps = loaded
        promise = None
        if "promise_id" in item.payload:
            promise = await self._repo.promise(int(item.payload["promise_id"]))
        return CaseContext(case, tuple(steps), promise)

    async def check(self, item: FollowUp) -> Verdict:
        now = self._clock.now()
        ctx = await self.context(item)
        if isinstance(ctx, Cancel):
            return ctx
        reason = cancel_reason(item.kind, ctx.case, ctx.steps, ctx.promise, now)
        if reason:
            return Cancel(reason)
        if ctx.case.card is None or not ctx.case.thread_opened:
            return Defer(now + timedelta(minutes=1), "case thread not open yet")
        to: str | None = item.recipient_user_id or ctx.case.owner_user_id
        if item.kind == FollowUpKind.PROMISE_DUE:
            to = None  # the deadline is a fact about the case, flagged when it passes, whoever is working
            if ctx.promise is not None:
                await self._repo.break_promise(ctx.promise.id, now)
        return Deliver(
            channel_id=ctx.case.card.channel_id,
            thread_ts=ctx.case.card.ts,
            to=to,
            context={"case": ctx.case, "steps": ctx.steps, "promise": ctx.promise, "to": to},
        )


# ---- the service --------------------------------------------------------------------------------

MAX_ATTEMPTS = 8
RETRY_BASE = timedelta(seconds=5)
RETRY_CAP = timedelta(hours=1)
UNKNOWN_HANDLER_DELAY = timedelta(minutes=10)
SETTLE_MARGIN = timedelta(seconds=2)


@dataclass
class _Attempt:
    began: bool = False  # a post may have gone out: the row is UNKNOWN until Slack's answer is recorded


class StaleFollowUp(MendError):
    def __init__(self) -> None:
        super().__init__("That reminder was already handled, so nothing changed.")


class FollowUpService:
    """Claims due follow-ups and delivers each exactly once; handles what people do with them."""

    def __init__(
        self,
        repo: FollowUpRepository,
        messenger: FollowUpMessenger,
        people: PeopleDirectory,
        clock: Clock,
        policy: FollowUpPolicy,
        *,
        lease: timedelta = timedelta(seconds=60),
        batch: int = 200,
        max_in_flight: int = 1000,
        owner: str | None = None,
        cases: CaseLoader | None = None,
        recovery: RecoveryActions | None = None,
        send_timeout: timedelta = timedelta(seconds=5),
    ) -> None:
        # One post attempt is abandoned (outcome unknown) after `send_timeout`; an unknown row is not
        # looked for in Slack before `settle` has passed since its attempt, so a post still on the wire
        # (a slow process, a stalled lease renewal) is never mistaken for a lost one and sent again.
        self.send_timeout = send_timeout
        self.settle = send_timeout + SETTLE_MARGIN
        self._cases = cases
        self._recovery = recovery
        self._repo = repo
        self._messenger = messenger
        self._people = people
        self._clock = clock
        self.policy = policy
        self.lease = lease
        self.batch = batch
        self.max_in_flight = max_in_flight
        self.owner = owner or uuid.uuid4().hex[:12]
        self._handlers: dict[str, FollowUpHandler] = {}
        self._in_flight = 0
        self._tokens: Counter[str] = Counter()  # lease tokens of the claims still being worked on
        self._stopping = False
        self._waiting: set[asyncio.Task[Any]] = set()
        self._claim_lock = asyncio.Lock()

    # ---- wiring ---------------------------------------------------------------------------------

    def register(self, kind: str, handler: FollowUpHandler) -> None:
        if kind in self._handlers:
            raise ValueError(f"a handler for follow-up kind {kind!r} is registered already")
        self._handlers[kind] = handler

    def handler(self, kind: str) -> FollowUpHandler | None:
        return self._handlers.get(kind)

    @property
    def in_flight(self) -> int:
        return self._in_flight

    @property
    def stopping(self) -> bool:
        return self._stopping

    def stop_claiming(self) -> None:
        """SIGTERM: claim nothing more; claimed rows that have not started posting are handed back."""
        self._stopping = True
        for task in list(self._waiting):
            task.cancel()

    # ---- the poller -----------------------------------------------------------------------------

    async def claim_due(self) -> list[FollowUp]:
        """Claim what this process can send soon (bounded by `max_in_flight`); the caller runs `process`."""
        async with self._claim_lock:
            room = min(self.batch, self.max_in_flight - self._in_flight)
            if self._stopping or room <= 0:
                return []
            now = self._clock.now()
            if self._tokens:
                # A live process keeps what it holds; only a dead one's leases run out for others to take.
                await self._repo.renew(list(self._tokens), now + self.lease)
            token = f"{self.owner}:{uuid.uuid4().hex[:12]}"
            items = await self._repo.claim(now, room, now + self.lease, token)
            self._in_flight += len(items)
            if items:
                self._tokens[token] += len(items)
            return items

    async def process(self, item: FollowUp) -> None:
        """Decide and deliver one claimed follow-up; always ends by releasing or settling the row."""
        attempt = _Attempt()
        task = asyncio.current_task()
        if task is not None:
            self._waiting.add(task)
        try:
            await self._process(item, task, attempt)
        except asyncio.CancelledError:
            if not attempt.began:
                # Handed back at shutdown before any post started: another process may take it at once.
                await asyncio.shield(self._repo.release(item))
            raise
        except Exception as exc:
            # Once a post may have gone out, the row must stay UNKNOWN (reconciled before any resend),
            # whatever failed after it (e.g. the database, while recording it as sent).
            state = FollowUpState.UNKNOWN if attempt.began else FollowUpState(item.state)
            await self._retry(item, f"error: {exc!r}"[:500], state)
            raise
        finally:
            if task is not None:
                self._waiting.discard(task)
            self._in_flight -= 1
            if item.lease_token is not None:
                self._tokens[item.lease_token] -= 1
                if self._tokens[item.lease_token] <= 0:
                    del self._tokens[item.lease_token]

    async def _process(self, item: FollowUp, task: asyncio.Task[Any] | None, attempt: _Attempt) -> None:
        handler = self._handlers.get(item.kind)
        now = self._clock.now()
        if handler is None:
            # A kind another version of Mend knows (a newer deploy, a feature switched off): leave it be.
            log.warning("no handler for follow-up kind %r (id %s); retrying later", item.kind, item.id)
            await self._repo.postpone(item, now + UNKNOWN_HANDLER_DELAY, "no handler for this kind", now)
            return
        verdict = await handler.check(item)
        if isinstance(verdict, Cancel):
            await self._repo.cancel(item, verdict.reason, now)
            return
        if isinstance(verdict, Defer):
            await self._repo.postpone(item, verdict.until, verdict.reason, now)
            return
        if verdict.to and not item.exact and not self.policy.hours.always:
            opens = self.policy.hours.next_open(now, await self._people.timezone(verdict.to))
            if opens > now:
                await self._repo.postpone(item, opens, "outside working hours", now)
                return
        message = handler.render(item, verdict)
        if item.state is FollowUpState.UNKNOWN and item.attempted_at is not None:
            settled_at = item.attempted_at + self.settle
            if now < settled_at:
                await self._repo.postpone(item, settled_at, "a post may still be under way", now)
                return
            # An earlier attempt may have posted: look before posting again.
            found = await self._messenger.find(
                verdict.channel_id,
                verdict.thread_ts,
                item.message_key,
                item.attempted_at - timedelta(minutes=1),
            )
            if found is not None:
                await self._repo.mark_sent(item, found, self._clock.now())
                return
        async with self._messenger.turn(verdict.channel_id):
            if self._stopping:
                await self._repo.release(item)
                return
            now = self._clock.now()
            if not await self._repo.begin_send(item, now, now + max(self.lease, self.settle)):
                return  # our lease ran out while waiting and someone else has it now
            attempt.began = True
            if task is not None:
                self._waiting.discard(task)  # from here on, shutdown waits for the post to finish
            try:
                async with asyncio.timeout(self.send_timeout.total_seconds()):
                    ref = await self._messenger.post(
                        verdict.channel_id, verdict.thread_ts, message, item.message_key
                    )
            except TimeoutError:
                await self._retry(
                    item, "outcome unknown: Slack did not answer in time", FollowUpState.UNKNOWN
                )
                return
            except NotPosted as exc:
                state = FollowUpState.FAILED if exc.permanent else FollowUpState.PENDING
                delay = timedelta(seconds=exc.retry_after) if exc.retry_after is not None else None
                await self._retry(item, exc.reason, state, delay=delay, counted=exc.retry_after is None)
                return
            except OutcomeUnknown as exc:
                await self._retry(item, f"outcome unknown: {exc}"[:500], FollowUpState.UNKNOWN)
                return
            await self._repo.mark_sent(item, ref, self._clock.now())
            return

    async def _retry(
        self,
        item: FollowUp,
        error: str,
        state: FollowUpState,
        *,
        delay: timedelta | None = None,
        counted: bool = True,
    ) -> None:
        now = self._clock.now()
        attempts = item.attempts + 1
        if counted and attempts >= MAX_ATTEMPTS and state is FollowUpState.PENDING:
            state = FollowUpState.FAILED
        if delay is None:
            delay = min(RETRY_BASE * (2 ** min(attempts, 12)), RETRY_CAP)
        log.warning("follow-up %s (%s): %s; next try in %s", item.id, item.kind, error, delay)
        await self._repo.retry_later(item, now + delay, error, state=state, now=now)

    # ---- what people do with a nudge ------------------------------------------------------------

    async def get(self, follow_up_id: int) -> FollowUp:
        item = await self._repo.get(follow_up_id)
        if item is None:
            raise MendError("I can't find that reminder any more.")
        return item

    async def acted_on(self, follow_up_id: int, round_: int, team_id: str) -> FollowUp:
        """The follow-up a button is about, if it still waits for someone of `team_id` to act on it."""
        item = await self.get(follow_up_id)
        if item.case_id is not None and self._cases is not None:
            loaded = await self._cases.load(item.case_id)
            if loaded is None or loaded[0].team_id != team_id:
                raise MendError("That reminder belongs to another workspace.")
        if item.state is not FollowUpState.SENT or item.round != round_:
            raise StaleFollowUp()
        return item

    async def done(self, follow_up_id: int, round_: int, *, actor_user_id: str, team_id: str) -> FollowUp:
        """Done on a nudge: what it asked for happened (the apology sent, the promise kept, ...)."""
        item = await self.acted_on(follow_up_id, round_, team_id)
        resolution = "done"
        if item.kind == FollowUpKind.ACK_NUDGE and item.case_id is not None and self._recovery is not None:
            await self._recovery.complete_apology(item.case_id, actor_user_id=actor_user_id, team_id=team_id)
        if item.kind in (FollowUpKind.PROMISE_REMINDER, FollowUpKind.PROMISE_DUE):
            await self.keep_promise(int(item.payload["promise_id"]), actor_user_id=actor_user_id)
            resolution = "kept"
        return await self.resolve(item.id, item.round, resolution, actor_user_id=actor_user_id)

    async def customer_answer(
        self, follow_up_id: int, round_: int, *, satisfied: bool, actor_user_id: str, team_id: str
    ) -> FollowUp:
        """Is the customer satisfied? Not yet reopens the fix step, so the case cannot close on it."""
        item = await self.acted_on(follow_up_id, round_, team_id)
        if not satisfied and item.case_id is not None and self._recovery is not None:
            await self._recovery.reopen_fix(
                item.case_id,
                actor_user_id=actor_user_id,
                team_id=team_id,
                reason="customer not satisfied yet",
            )
        return await self.resolve(
            item.id, item.round, "satisfied" if satisfied else "not_yet", actor_user_id=actor_user_id
        )

    async def record_resurvey(
        self,
        follow_up_id: int,
        round_: int,
        *,
        outcome: str | None,
        score: str | None,
        actor_user_id: str,
        team_id: str,
    ) -> FollowUp:
        """The outcome weeks later: stayed and satisfied / neutral / left, and an optional 1-5 score."""
        try:
            chosen = ResurveyOutcome(outcome or "")
        except ValueError:
            raise InvalidInput("outcome", "Choose what became of the customer.") from None
        parsed = parse_score(score)
        item = await self.acted_on(follow_up_id, round_, team_id)
        return await self.resolve(
            item.id,
            item.round,
            "recorded",
            actor_user_id=actor_user_id,
            data={"outcome": chosen.value, "score": parsed},
        )

    async def resolve(
        self,
        follow_up_id: int,
        round_: int,
        resolution: str,
        *,
        actor_user_id: str,
        data: dict[str, Any] | None = None,
    ) -> FollowUp:
        done = await self._repo.resolve(
            follow_up_id,
            round_,
            resolution=resolution,
            actor_user_id=actor_user_id,
            now=self._clock.now(),
            data=data,
        )
        if done is None:
            raise StaleFollowUp()
        return done

    async def snooze(
        self,
        follow_up_id: int,
        round_: int,
        choice: SnoozeChoice,
        *,
        actor_user_id: str,
        team_id: str,
        day: date | None = None,
        at: time | None = None,
    ) -> FollowUp:
        await self.acted_on(follow_up_id, round_, team_id)
        now = self._clock.now()
        if choice is SnoozeChoice.PICK:
            until, exact = await self._deadline(actor_user_id, day, at), True
        else:
            until = snooze_until(choice, now, self.policy.hours, await self._people.timezone(actor_user_id))
            exact = False
        item = await self._repo.rearm(
            follow_up_id,
            round_,
            due_at=until,
            exact=exact,
            recipient_user_id=None,
            actor_user_id=actor_user_id,
            now=now,
            event_kind="follow_up_snoozed",
            event_data={"until": until.isoformat(), "choice": choice.value},
        )
        if item is None:
            raise StaleFollowUp()
        return item

    async def reassign(
        self, follow_up_id: int, round_: int, *, to_user_id: str | None, actor_user_id: str, team_id: str
    ) -> FollowUp:
        if not to_user_id:
            raise InvalidInput("assignee", "Choose who should take this on.")
        await self.acted_on(follow_up_id, round_, team_id)
        now = self._clock.now()
        item = await self._repo.rearm(
            follow_up_id,
            round_,
            due_at=now,
            exact=False,
            recipient_user_id=to_user_id,
            actor_user_id=actor_user_id,
            now=now,
            event_kind="follow_up_reassigned",
            event_data={"to": to_user_id},
        )
        if item is None:
            raise StaleFollowUp()
        return item

    # ---- promises and the agent's own follow-ups ------------------------------------------------

    async def record_promise(
        self,
        case: Case,
        *,
        actor_user_id: str,
        text: str | None,
        day: date | None,
        at: time | None,
        view_key: str | None,
    ) -> Promise:
        """A promise made to the customer, its deadline read in the agent's own time zone."""
        text = (text or "").strip()
        if not text:
            raise InvalidInput("text", "Say what you promised the customer.")
        if len(text) > 500:
            raise InvalidInput("text", "Please keep the promise under 500 characters.")
        if not case.is_open:
            raise MendError(f"Case {case.reference} is closed, so nothing was recorded.")
        deadline = await self._deadline(actor_user_id, day, at)
        now = self._clock.now()
        tz = await self._people.timezone(case.owner_user_id)
        return await self._repo.add_promise(
            NewPromise(
                case_id=case.id,
                text=text,
                due_at=deadline,
                created_by=actor_user_id,
                at=now,
                view_key=view_key,
                remind_at=self.policy.promise_reminder_at(deadline, now, tz),
            )
        )

    async def schedule_follow_up(
        self,
        case: Case,
        *,
        actor_user_id: str,
        day: date | None,
        at: time | None,
        note: str | None,
        view_key: str | None,
    ) -> datetime:
        note = (note or "").strip() or None
        if note and len(note) > 500:
            raise InvalidInput("note", "Please keep the note under 500 characters.")
        if not case.is_open:
            raise MendError(f"Case {case.reference} is closed, so nothing was scheduled.")
        when = await self._deadline(actor_user_id, day, at)
        key = f"{FollowUpKind.SCHEDULED_FOLLOW_UP.value}:{view_key or int(when.timestamp())}"
        await self._repo.stage(
            [
                FollowUpRequest(
                    kind=FollowUpKind.SCHEDULED_FOLLOW_UP,
                    key=key,
                    due_at=when,
                    payload={"note": note, "by": actor_user_id},
                    recipient_user_id=actor_user_id,
                    exact=True,  # the agent chose the moment
                )
            ],
            case.id,
            self._clock.now(),
        )
        return when

    async def _deadline(self, actor_user_id: str, day: date | None, at: time | None) -> datetime:
        if day is None:
            raise InvalidInput("date", "Pick the date.")
        if at is None:
            raise InvalidInput("time", "Pick the time.")
        when = local_to_utc(day, at, await self._people.timezone(actor_user_id))
        if when <= self._clock.now():
            raise InvalidInput("date", "That moment has passed: pick a time in the future.")
        return when

    async def keep_promise(self, promise_id: int, *, actor_user_id: str) -> bool:
        return await self._repo.keep_promise(promise_id, actor_user_id, self._clock.now())

    async def break_promise(self, promise_id: int) -> bool:
        return await self._repo.break_promise(promise_id, self._clock.now())

    async def promise(self, promise_id: int) -> Promise | None:
        return await self._repo.promise(promise_id)

    async def update_message(self, item: FollowUp, message: OutgoingMessage) -> None:
        if item.message is not None:
            await self._messenger.update(item.message, message)


def parse_score(raw: str | None) -> int | None:
    if raw is None or not str(raw).strip():
        return None
    try:
        score = int(str(raw).strip())
    except ValueError:
        raise InvalidInput("score", "The score is a number from 1 to 5.") from None
    if not 1 <= score <= 5:
        raise InvalidInput("score", "The score is a number from 1 to 5.")
    return score
