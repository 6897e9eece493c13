"""When a case follow-up is still due, and where it goes: the `check` shared by every case kind, each
kind's own rules looked up in `case_kinds.CASE_KIND_RULES`."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import timedelta

from bot.cases import Case
from bot.clock import Clock
from bot.followups.case_kinds import CaseContext, cancel_reason, case_kind
from bot.followups.models import Cancel, Defer, Deliver, FollowUp, Verdict
from bot.followups.ports import CaseLoader, FollowUpRepository
from bot.playbook import CaseStep, StepRole, step_with

__all__ = ["CaseContext", "CaseFollowUpRules", "addressee", "cancel_reason", "fix_step"]


def fix_step(steps: Sequence[CaseStep]) -> CaseStep | None:
    return step_with(steps, StepRole.FIX)


def addressee(item: FollowUp, case: Case) -> str | None:
    """Who a case nudge is for: whoever it was given to, else the case's owner now. A kind that is not for
    the owner (a promise's deadline flag: a fact about the case, whoever is working) is nobody's."""
    rules = case_kind(item.kind)
    if rules is None or not rules.for_owner:
        return None
    return item.recipient_user_id or case.owner_user_id


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
        rules = case_kind(item.kind)
        if rules is None:
            return Cancel(f"not a case follow-up: {item.kind}")
        ctx = await self.context(item)
        if isinstance(ctx, Cancel):
            return ctx
        reason = rules.cancel_reason(ctx, now)
        if reason:
            return Cancel(reason)
        if ctx.case.card is None or not ctx.case.thread_opened:
            return Defer(now + timedelta(minutes=1), "case thread not open yet")
        to = addressee(item, ctx.case)
        if rules.when_due is not None:
            await rules.when_due(self._repo, ctx, now)
        return Deliver(
            channel_id=ctx.case.card.channel_id,
            thread_ts=ctx.case.card.ts,
            to=to,
            context={"case": ctx.case, "steps": ctx.steps, "promise": ctx.promise, "to": to, "now": now},
        )
