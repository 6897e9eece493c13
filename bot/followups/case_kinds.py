"""One entry per kind of case follow-up, the domain half: which case change schedules it, when it is still
due, who it is for, and what acting on it means. Everything in Mend that depends on the kind looks it up in
`CASE_KIND_RULES`; what it says in Slack and its buttons are the edge half, `handlers.blocks.case_kinds`.

Adding a kind (docs/followups.md#adding-a-kind): its value in `FollowUpKind` (models.py), its rules here,
its words and buttons in handlers/blocks/case_kinds.py. tests/test_dispatch.py fails until all three agree.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from typing import TYPE_CHECKING, Protocol

from bot.cases import Case
from bot.followup_request import FollowUpRequest
from bot.followups.models import FollowUp, FollowUpKind, Promise, PromiseState
from bot.permissions import CaseChange
from bot.playbook import CaseStep, Step, StepRole, StepStatus, role_of, step_with

if TYPE_CHECKING:
    from bot.followups.policy import FollowUpPolicy
    from bot.followups.ports import FollowUpRepository


@dataclass(frozen=True)
class CaseContext:
    """What a case follow-up is about, read when it falls due."""

    case: Case
    steps: tuple[CaseStep, ...]
    promise: Promise | None


class NudgeAction(StrEnum):
    """What someone may do with a sent case nudge. A kind accepts some of them; its buttons offer exactly
    those, and a click on anything else (a forged or outdated button) changes nothing."""

    DONE = "done"  # what it asked for happened (the apology sent, the promise kept, ...)
    SNOOZE = "snooze"
    REASSIGN = "reassign"
    ANSWER = "answer"  # "Is the customer satisfied?": Satisfied / Not yet
    RECORD_OUTCOME = "record_outcome"  # the re-survey: what became of the customer


class DoneEffects(Protocol):
    """What Done on a nudge may change besides the nudge itself (CaseFollowUpActions)."""

    async def complete_apology(self, case_id: int, *, actor_user_id: str, team_id: str) -> None: ...

    async def keep_promise(self, promise_id: int, *, actor_user_id: str) -> bool: ...


#: What Done means for a kind: its effects, and the resolution recorded on the row.
Done = Callable[[DoneEffects, FollowUp, str, str], Awaitable[str]]
#: Why the follow-up should no longer be sent (None: it is still due).
CancelReason = Callable[[CaseContext, datetime], "str | None"]


async def just_done(effects: DoneEffects, item: FollowUp, actor_user_id: str, team_id: str) -> str:
    return "done"


def never_scheduled(*_args: object) -> Iterable[FollowUpRequest]:
    return ()


@dataclass(frozen=True)
class CaseKindRules:
    """One kind of case follow-up, as the domain sees it.

    `on_open`, `on_step_finished` and `on_close` say what each of those case changes schedules (written in
    the change's own transaction); a kind scheduled by something else (a promise, the agent's own check-in)
    leaves them empty and is staged by that action."""

    cancel_reason: CancelReason
    accepts: frozenset[NudgeAction]
    done: Done = just_done
    # To the owner, or whoever it was addressed or reassigned to; False: a fact about the case, to nobody.
    for_owner: bool = True
    # Done once it falls due, before it is delivered (e.g. the missed deadline is recorded).
    when_due: Callable[[FollowUpRepository, CaseContext, datetime], Awaitable[object]] | None = None
    on_open: Callable[[FollowUpPolicy, datetime], Iterable[FollowUpRequest]] = never_scheduled
    on_step_finished: Callable[[FollowUpPolicy, Step, StepStatus, datetime], Iterable[FollowUpRequest]] = (
        never_scheduled
    )
    on_close: Callable[[FollowUpPolicy, datetime], Iterable[FollowUpRequest]] = never_scheduled
    # A change to the case its buttons make, so they work only for those CASE_EDITORS names (and approvers).
    guarded_by: CaseChange | None = None
    # Listed on the case card while it waits (the agent's planned check-in), and the card redrawn when it goes.
    on_card: bool = False


# ---- when each kind is still due ------------------------------------------------------------------


def _apology_late(ctx: CaseContext, now: datetime) -> str | None:
    if not ctx.case.is_open:
        return "case closed"
    apology = step_with(ctx.steps, StepRole.APOLOGY)
    if apology is None:
        return "playbook has no apology step"
    if apology.finished:
        return f"apology {apology.status.value}"
    return None


def _case_open(ctx: CaseContext, now: datetime) -> str | None:
    return None if ctx.case.is_open else "case closed"


def _always(ctx: CaseContext, now: datetime) -> str | None:
    return None


def _promise_open(ctx: CaseContext, now: datetime) -> str | None:
    if ctx.promise is None:
        return "promise not found"
    if ctx.promise.state is not PromiseState.OPEN:
        return f"promise {ctx.promise.state.value}"
    if now >= ctx.promise.due_at:
        return "deadline passed before the reminder could go"
    return None


def _promise_exists(ctx: CaseContext, now: datetime) -> str | None:
    return "promise not found" if ctx.promise is None else None


def _promise_not_kept(ctx: CaseContext, now: datetime) -> str | None:
    if ctx.promise is None:
        return "promise not found"
    # Only keeping the promise takes the flag away; a broken promise is flagged even if late.
    return "promise kept" if ctx.promise.state is PromiseState.KEPT else None


# ---- what Done means ------------------------------------------------------------------------------


async def _apology_sent(effects: DoneEffects, item: FollowUp, actor_user_id: str, team_id: str) -> str:
    if item.case_id is not None:
        await effects.complete_apology(item.case_id, actor_user_id=actor_user_id, team_id=team_id)
    return "done"


async def _promise_kept(effects: DoneEffects, item: FollowUp, actor_user_id: str, team_id: str) -> str:
    await effects.keep_promise(int(item.payload["promise_id"]), actor_user_id=actor_user_id)
    return "kept"


async def _flag_broken_promise(repo: FollowUpRepository, ctx: CaseContext, now: datetime) -> None:
    if ctx.promise is not None:
        await repo.break_promise(ctx.promise.id, now)


# ---- what schedules each kind ---------------------------------------------------------------------


def _ack_nudge(policy: FollowUpPolicy, at: datetime) -> Iterable[FollowUpRequest]:
    kind = FollowUpKind.ACK_NUDGE
    yield FollowUpRequest(kind=kind, key=kind.value, due_at=at + policy.ack_nudge_after)


def _ack_escalations(policy: FollowUpPolicy, at: datetime) -> Iterable[FollowUpRequest]:
    kind = FollowUpKind.ACK_ESCALATION
    for approver in policy.approver_ids:
        yield FollowUpRequest(
            kind=kind,
            key=f"{kind.value}:{approver}",
            due_at=at + 2 * policy.ack_nudge_after,
            recipient_user_id=approver,
        )


def _after_the_fix(
    policy: FollowUpPolicy, step: Step, status: StepStatus, at: datetime
) -> Iterable[FollowUpRequest]:
    if status is StepStatus.DONE and role_of(step) is StepRole.FIX:
        # A reopened fix step is finished again later: each finishing asks again, under its own key.
        kind, stamp = FollowUpKind.CUSTOMER_FOLLOW_UP, int(at.timestamp() * 1_000_000)
        yield FollowUpRequest(kind=kind, key=f"{kind.value}:{stamp}", due_at=at + policy.follow_up_after)


def _resurvey(policy: FollowUpPolicy, at: datetime) -> Iterable[FollowUpRequest]:
    kind = FollowUpKind.RESURVEY
    yield FollowUpRequest(kind=kind, key=kind.value, due_at=at + policy.resurvey_after)


_NUDGE = frozenset({NudgeAction.DONE, NudgeAction.SNOOZE, NudgeAction.REASSIGN})
_LATER = frozenset({NudgeAction.SNOOZE, NudgeAction.REASSIGN})

#: Every kind of case follow-up, in the order a change schedules them.
CASE_KIND_RULES: Mapping[str, CaseKindRules] = {
    FollowUpKind.ACK_NUDGE: CaseKindRules(_apology_late, _NUDGE, done=_apology_sent, on_open=_ack_nudge),
    FollowUpKind.ACK_ESCALATION: CaseKindRules(_apology_late, _NUDGE, on_open=_ack_escalations),
    FollowUpKind.PROMISE_REMINDER: CaseKindRules(_promise_open, _NUDGE, done=_promise_kept),
    FollowUpKind.PROMISE_DUE: CaseKindRules(
        _promise_not_kept,
        frozenset({NudgeAction.DONE}),  # a deadline is not snoozed or handed on: it passed
        done=_promise_kept,
        for_owner=False,  # flagged when it passes, whoever is working
        when_due=_flag_broken_promise,
    ),
    FollowUpKind.CUSTOMER_FOLLOW_UP: CaseKindRules(
        _case_open, _LATER | {NudgeAction.ANSWER}, on_step_finished=_after_the_fix
    ),
    FollowUpKind.SCHEDULED_FOLLOW_UP: CaseKindRules(_case_open, _NUDGE, on_card=True),
    # The confirmations, each posted once as the promise or check-in is made, for nobody in particular.
    FollowUpKind.PROMISE_MADE: CaseKindRules(
        _promise_exists,
        frozenset({NudgeAction.DONE}),  # Mark kept, before the deadline or after it
        done=_promise_kept,
        for_owner=False,
        guarded_by=CaseChange.KEEP_PROMISE,
    ),
    FollowUpKind.FOLLOW_UP_PLANNED: CaseKindRules(_case_open, frozenset(), for_owner=False),
    FollowUpKind.RESURVEY: CaseKindRules(_always, _LATER | {NudgeAction.RECORD_OUTCOME}, on_close=_resurvey),
}

#: The kinds the case handler delivers (every other kind belongs to another feature, or is the outbox).
CASE_KINDS = frozenset(CASE_KIND_RULES)


def case_kind(kind: str) -> CaseKindRules | None:
    return CASE_KIND_RULES.get(kind)


def cancel_reason(
    kind: str, case: Case, steps: Iterable[CaseStep], promise: Promise | None, now: datetime
) -> str | None:
    """Why a case follow-up should no longer be sent, or None if it is still due."""
    rules = case_kind(kind)
    if rules is None:
        return f"not a case follow-up: {kind}"
    return rules.cancel_reason(CaseContext(case, tuple(steps), promise), now)
