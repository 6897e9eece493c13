"""When a case follow-up is still due, and where it goes: the `check` shared by every case kind."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from bot.cases import Case
from bot.clock import Clock
from bot.followups.models import (
    Cancel,
    Defer,
    Deliver,
    FollowUp,
    FollowUpKind,
    Promise,
    PromiseState,
    Verdict,
)
from bot.followups.policy import is_fix_step
from bot.followups.ports import CaseLoader, FollowUpRepository
from bot.playbook import CaseStep, StepRole


def step_with(steps: Sequence[CaseStep], action: StepRole) -> CaseStep | None:
    return next((s for s in steps if s.step.action is action), None)


def fix_step(steps: Sequence[CaseStep]) -> CaseStep | None:
    return next((s for s in steps if is_fix_step(s.step)), None)


def addressee(item: FollowUp, case: Case) -> str | None:
    """Who a case nudge is for: whoever it was given to, else the case's owner now. A promise's deadline
    flag is a fact about the case, flagged whoever is working, so it is nobody's in particular."""
    if item.kind == FollowUpKind.PROMISE_DUE:
        return None
    return item.recipient_user_id or case.owner_user_id


def cancel_reason(
    kind: str, case: Case, steps: Sequence[CaseStep], promise: Promise | None, now: datetime
) -> str | None:
    """Why a case follow-up should no longer be sent, or None if it is still due."""
    if kind in (FollowUpKind.ACK_NUDGE, FollowUpKind.ACK_ESCALATION):
        if not case.is_open:
            return "case closed"
        apology = step_with(steps, StepRole.APOLOGY)
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
        to = addressee(item, ctx.case)
        if item.kind == FollowUpKind.PROMISE_DUE and ctx.promise is not None:
            await self._repo.break_promise(ctx.promise.id, now)
        return Deliver(
            channel_id=ctx.case.card.channel_id,
            thread_ts=ctx.case.card.ts,
            to=to,
            context={"case": ctx.case, "steps": ctx.steps, "promise": ctx.promise, "to": to},
        )
