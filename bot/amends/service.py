"""`AmendsService`: offers, grants and approvals of amends (their Slack side and escalation: effects.py)."""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from bot.amends.effects import key_prefix
from bot.amends.models import (
    Amends,
    AmendsHomeSummary,
    AmendsSource,
    AmendsState,
    Approvers,
    DecideResult,
    Decision,
    NewAmends,
    OfferContext,
    Outcome,
    Ruling,
    Verdict,
)
from bot.amends.money import AmountError, Money, Percent
from bot.amends.policy import AmendsPolicy
from bot.amends.ports import AmendsRepository, ApproverDirectory, StagedDelivery
from bot.amends.rules import (
    MAX_TEXT,
    Offer,
    OfferField,
    Tally,
    assess,
    check_amount,
    customer_key,
    guarantee_notes,
    month_start,
)
from bot.cases import Case
from bot.clock import Clock
from bot.errors import CaseNotFound, InvalidInput, MendError, NotAllowed, Person
from bot.events import AmendsChanged, Events
from bot.playbook import CaseStep, StepRole, step_with


class AlreadyDecided(MendError):
    def __init__(self, amends: Amends) -> None:
        by = (" by ", Person(amends.decided_by)) if amends.decided_by else ()
        super().__init__(f"This amends request was already {amends.state.value}", *by, ". Nothing changed.")


NOT_AN_APPROVER = "Only approvers can decide this amends request, so nothing changed. Your attempt was noted."


@dataclass
class _Cache:
    members: tuple[str, ...] = ()
    at: datetime | None = None
    lock: asyncio.Lock = field(default_factory=asyncio.Lock)


GROUP_CACHE = timedelta(minutes=1)


class AmendsService:
    """Offers, grants and approvals of amends; Slack shows the result through the rows each change stages,
    which `sync` delivers at once and the follow-up engine retries."""

    def __init__(
        self,
        repo: AmendsRepository,
        directory: ApproverDirectory,
        deliveries: StagedDelivery,
        clock: Clock,
        policy: AmendsPolicy,
        approvers: Approvers,
        events: Events | None = None,
    ) -> None:
        self._repo = repo
        self._directory = directory
        self._deliveries = deliveries
        self._clock = clock
        self.policy = policy
        self.approvers = approvers
        self._events = events or Events()  # told AmendsChanged after each sync (see bot/events.py)
        self._group = _Cache()

    # ---- who decides ---------------------------------------------------------------------------

    async def approver_ids(self) -> tuple[str, ...]:
        """The named approvers and the group's members now (cached for a minute), without backups."""
        ids = list(self.approvers.ids)
        if self.approvers.group_id:
            ids += await self._group_members()
        return tuple(dict.fromkeys(ids))

    async def _group_members(self) -> tuple[str, ...]:
        assert self.approvers.group_id is not None
        async with self._group.lock:
            now = self._clock.now()
            if self._group.at is None or now - self._group.at > GROUP_CACHE:
                self._group.members = tuple(await self._directory.group_members(self.approvers.group_id))
                self._group.at = now
            return self._group.members

    async def may_decide(self, user_id: str) -> bool:
        return user_id in self.approvers.backup_ids or user_id in await self.approver_ids()

    # ---- offering ------------------------------------------------------------------------------

    async def _case(self, case_id: int, team_id: str) -> tuple[Case, list[CaseStep]]:
        loaded = await self._repo.load_case(case_id)
        if loaded is None:
            raise CaseNotFound(case_id)
        case, steps = loaded
        if case.team_id != team_id:
            raise NotAllowed("That case belongs to another workspace.")
        if not case.is_open:
            raise MendError(f"Case {case.reference} is closed, so no amends can be offered on it.")
        return case, steps

    async def offer_context(self, case_id: int, team_id: str) -> OfferContext:
        case, steps = await self._case(case_id, team_id)
        key = customer_key(case)
        history = await self._repo.ledger(team_id, key)
        spend = await self._repo.month_spend(team_id, self.policy.currency, month_start(self._clock.now()))
        guarantee = self.policy.guarantee_for(case.report.category)
        used = any(e.amends.source is AmendsSource.GUARANTEE and e.amends.case_id == case.id for e in history)
        return OfferContext(
            case=case,
            step_key=_amends_step(steps),
            guidance=self.policy.guidance[case.report.severity],
            policy=self.policy,
            history=tuple(history),
            month_spend=Money(minor=spend, currency=self.policy.currency),
            guarantee=guarantee,
            guarantee_used=used,
        )

    async def offer(
        self,
        case_id: int,
        offer: Offer,
        *,
        actor_user_id: str,
        team_id: str,
        approver_user_id: str | None = None,
        submission_key: str | None = None,
    ) -> Amends:
        """Grant an offer within the agent's power at once; anything else becomes an approval request."""
        case, steps = await self._case(case_id, team_id)
        if approver_user_id:
            if not await self._directory.is_user(approver_user_id):
                raise InvalidInput(
                    OfferField.APPROVER, "That isn't a person in this workspace. Pick someone from the list."
                )
            if not await self.may_decide(approver_user_id):
                raise InvalidInput(
                    OfferField.APPROVER,
                    "That person isn't one of the approvers. Pick one, or leave this empty to ask them all.",
                )
            if approver_user_id == actor_user_id:
                raise InvalidInput(OfferField.APPROVER, "Another approver decides on your own request.")
        now = self._clock.now()
        # Who would be asked is worked out first: the rules are applied only when the request is recorded,
        # and any of them (the budget, a claim or grant made a moment ago) may send it to an approver.
        recipients = await self._recipients(actor_user_id, approver_user_id)
        severity = case.report.severity

        def decide(tally: Tally) -> Verdict:
            assessment = assess(offer, policy=self.policy, severity=severity, tally=tally)
            if not assessment.needs_approval:
                return Verdict(AmendsState.GRANTED)
            if not recipients:
                raise InvalidInput(
                    OfferField.AMOUNT,
                    "This needs an approver ("
                    + "; ".join(r.text for r in assessment.reasons)
                    + "), but no approver is set up. Ask a Mend admin to set APPROVER_IDS or APPROVER_GROUP.",
                )
            return Verdict(AmendsState.PENDING, assessment.reasons)

        amends, _ = await self._repo.add(
            NewAmends(
                case_id=case.id,
                team_id=team_id,
                customer_key=customer_key(case),
                kind=offer.kind,
                offered=offer.offered,
                value=self.policy.in_default(offer.offered) if isinstance(offer.offered, Money) else None,
                justification=offer.justification,
                customer_cost=offer.customer_cost,
                source=AmendsSource.AGENT,
                reasons=(),
                requester_user_id=actor_user_id,
                addressed_approver_id=approver_user_id,
                state=AmendsState.GRANTED,  # what the agent asks for; the ruling may make it a request
                at=now,
                submission_key=submission_key,
                recipients=recipients,
                step_key=_amends_step(steps),
                # Staged only if the ruling makes it a request (storage stages it with the verdict).
                remind_at=now + self.approvers.escalate_after,
            ),
            self._ruling(now, decide),
        )
        return amends

    def _ruling(self, now: datetime, decide: Callable[[Tally], Verdict]) -> Ruling:
        return Ruling(
            currency=self.policy.currency,
            month_since=month_start(now),
            window_since=now - timedelta(days=self.policy.repeat_days),
            decide=decide,
        )

    async def _recipients(self, requester: str, addressed: str | None) -> tuple[str, ...]:
        if self.approvers.channel_id:
            return (self.approvers.channel_id,)
        if addressed:
            return (addressed,)
        # Nobody approves their own request, so the requester gets no copy to click.
        return tuple(a for a in await self.approver_ids() if a != requester)

    async def invoke_guarantee(self, case_id: int, *, actor_user_id: str, team_id: str) -> Amends:
        """The case's failure category has a guarantee: its remedy is granted at once, once per case."""
        case, steps = await self._case(case_id, team_id)
        guarantee = self.policy.guarantee_for(case.report.category)
        if guarantee is None:
            raise MendError(f"Case {case.reference}'s kind of failure has no service guarantee.")
        remedy = guarantee.remedy
        value = self.policy.in_default(remedy) if isinstance(remedy, Money) else None
        now = self._clock.now()

        def decide(tally: Tally) -> Verdict:
            return Verdict(AmendsState.GRANTED, guarantee_notes(value, self.policy, tally))

        amends, created = await self._repo.add(
            NewAmends(
                case_id=case.id,
                team_id=team_id,
                customer_key=customer_key(case),
                kind=guarantee.kind,
                offered=remedy,
                value=value,
                justification=f"Service guarantee: {guarantee.title}",
                customer_cost=None,
                source=AmendsSource.GUARANTEE,
                reasons=(),
                requester_user_id=actor_user_id,
                addressed_approver_id=None,
                state=AmendsState.GRANTED,
                at=now,
                submission_key=f"guarantee:{case.id}",
                step_key=_amends_step(steps),
            ),
            self._ruling(now, decide),
        )
        if not created:
            raise MendError(
                f"The guarantee was already invoked on {case.reference} by ",
                Person(amends.requester_user_id),
                ".",
            )
        return amends

    # ---- deciding ------------------------------------------------------------------------------

    async def get(self, amends_id: int, team_id: str) -> Amends:
        amends = await self._repo.get(amends_id)
        if amends is None:
            raise MendError("I can't find that amends request; it may have been removed.")
        if amends.team_id != team_id:
            raise NotAllowed("That amends request belongs to another workspace.")
        return amends

    async def case_for(self, amends: Amends) -> Case:
        loaded = await self._repo.load_case(amends.case_id)
        if loaded is None:
            raise CaseNotFound(amends.case_id)
        return loaded[0]

    async def check_decider(self, amends_id: int, *, actor_user_id: str, team_id: str) -> Amends:
        """May this person decide this request now? Outsiders are refused and the attempt is audited."""
        amends = await self.get(amends_id, team_id)
        if not await self.may_decide(actor_user_id):
            await self._repo.audit(
                amends.case_id,
                "amends_decision_refused",
                actor_user_id,
                self._clock.now(),
                amends_id=amends.id,
            )
            raise NotAllowed(NOT_AN_APPROVER)
        if actor_user_id == amends.requester_user_id:
            raise NotAllowed("You asked for these amends, so another approver decides. Nothing changed.")
        if amends.state is not AmendsState.PENDING:
            raise AlreadyDecided(amends)
        return amends

    async def decide(
        self,
        amends_id: int,
        decision: Decision,
        *,
        actor_user_id: str,
        team_id: str,
        reason: str | None = None,
        new_amount: str | None = None,
    ) -> Amends:
        amends = await self.check_decider(amends_id, actor_user_id=actor_user_id, team_id=team_id)
        reason = (reason or "").strip() or None
        if decision is not Decision.APPROVE and not reason:
            raise InvalidInput(OfferField.REASON, "Say why, so the requester can explain it to the customer.")
        if reason and len(reason) > MAX_TEXT:
            raise InvalidInput(OfferField.REASON, f"Please keep this under {MAX_TEXT} characters.")
        final: Money | Percent | None = amends.offered
        final_value = amends.value
        state = {Decision.APPROVE: AmendsState.APPROVED, Decision.REJECT: AmendsState.REJECTED}.get(
            decision, AmendsState.ADJUSTED
        )
        if decision is Decision.ADJUST:
            try:
                final = check_amount(new_amount, self.policy, amends.kind)
            except AmountError as exc:
                raise InvalidInput(OfferField.AMOUNT, str(exc)) from None
            if final == amends.offered:
                raise InvalidInput(OfferField.AMOUNT, "That is the amount asked for: use Approve instead.")
            final_value = self.policy.in_default(final) if isinstance(final, Money) else None
        elif decision is Decision.REJECT:
            final, final_value = None, None
        loaded = await self._repo.load_case(amends.case_id)
        steps = loaded[1] if loaded else []
        result = await self._repo.decide(
            Outcome(
                amends_id=amends.id,
                state=state,
                actor_user_id=actor_user_id,
                at=self._clock.now(),
                reason=reason,
                final=final,
                final_value=final_value,
                step_key=_amends_step(steps) if state.given else None,
            )
        )
        if result is DecideResult.CASE_CLOSED:
            case = loaded[0] if loaded else None
            ref = case.reference if case else f"case {amends.case_id}"
            raise MendError(
                f"{ref} was closed before this decision, so it was not recorded and nothing is owed. "
                "Reopening is a conversation with the case owner."
            )
        if result is DecideResult.ALREADY_DECIDED:
            latest = await self._repo.get(amends.id)
            raise AlreadyDecided(latest or amends)
        decided = await self._repo.get(amends.id)
        assert decided is not None
        return decided

    # ---- showing it in Slack -------------------------------------------------------------------

    async def sync(self, amends_id: int) -> None:
        """Show a request's change in Slack now: deliver the rows its offer or decision staged (each approver's
        copy, the thread, the requester's DM). What fails stays queued, so the engine retries it with
        back-off and reconciles it; safe to rerun any number of times."""
        amends = await self._repo.get(amends_id)
        if amends is None:
            return
        await self._deliveries.deliver_now(amends.case_id, key_prefix(amends.id))
        await self._events.publish(AmendsChanged(amends))

    # ---- the Home tab ---------------------------------------------------------------------------

    async def home_summary(self, team_id: str, user_id: str, limit: int = 5) -> AmendsHomeSummary:
        """This month's spend against the budget, and, for an approver, what waits for their decision."""
        spent = await self._repo.month_spend(team_id, self.policy.currency, month_start(self._clock.now()))
        waiting: list[tuple[Amends, Case]] = []
        if await self.may_decide(user_id):
            waiting = [
                (a, c)
                for a, c in await self._repo.pending(team_id, limit + 5)
                if a.requester_user_id != user_id
            ][:limit]
        return AmendsHomeSummary(
            spent=Money(minor=spent, currency=self.policy.currency),
            budget=self.policy.monthly_budget,
            waiting=tuple(waiting),
        )


def _amends_step(steps: Sequence[CaseStep]) -> str | None:
    step = step_with(steps, StepRole.AMENDS)
    return step.key if step is not None else None
