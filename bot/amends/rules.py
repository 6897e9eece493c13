"""The rules of amends: checking an offer, and whether it is within the agent's power or needs an approver."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum

from pydantic import BaseModel, ConfigDict

from bot.amends.money import AmountError, Money, Offered, Percent, parse_amount
from bot.amends.policy import AmendsKind, AmendsPolicy
from bot.cases import Case, Severity, fold_customer

MAX_TEXT = 3000


class ReasonCode(StrEnum):
    ABOVE_LIMIT = "above_limit"
    ABOVE_GUIDANCE = "above_guidance"
    BELOW_GUIDANCE = "below_guidance"
    KIND_NEEDS_APPROVAL = "kind_needs_approval"
    OVER_BUDGET = "over_budget"
    REPEAT_CLAIMS = "repeat_claims"
    NO_RATE = "no_rate"


class Reason(BaseModel):
    """Why a request goes to an approver, worded for the approver and the requester."""

    model_config = ConfigDict(frozen=True)

    code: ReasonCode
    text: str


UNDER_COMPENSATION = "a token this small can read as an insult; consider an apology alone, or more"


class Offer(BaseModel):
    """What an agent offers, validated."""

    model_config = ConfigDict(frozen=True)

    kind: AmendsKind
    offered: Money | Percent
    justification: str
    customer_cost: str | None = None


class OfferField(StrEnum):
    KIND = "kind"
    AMOUNT = "amount"
    JUSTIFICATION = "justification"
    CUSTOMER_COST = "customer_cost"
    APPROVER = "approver"
    REASON = "reason"


def validate_offer(
    raw: dict[OfferField, str | None], policy: AmendsPolicy
) -> tuple[Offer | None, dict[OfferField, str]]:
    """Check the Offer amends form; returns the offer or, per field, a message the agent can act on."""
    errors: dict[OfferField, str] = {}
    kind: AmendsKind | None = None
    try:
        kind = AmendsKind((raw.get(OfferField.KIND) or "").strip())
    except ValueError:
        errors[OfferField.KIND] = "Choose what you are offering."
    offered: Offered | None = None
    try:
        offered = check_amount(raw.get(OfferField.AMOUNT), policy, kind)
    except AmountError as exc:
        errors[OfferField.AMOUNT] = str(exc)
    justification = (raw.get(OfferField.JUSTIFICATION) or "").strip()
    if not justification:
        errors[OfferField.JUSTIFICATION] = "Say why this is the right amends for this customer."
    elif len(justification) > MAX_TEXT:
        errors[OfferField.JUSTIFICATION] = f"Please keep this under {MAX_TEXT} characters."
    cost = (raw.get(OfferField.CUSTOMER_COST) or "").strip() or None
    if cost and len(cost) > MAX_TEXT:
        errors[OfferField.CUSTOMER_COST] = f"Please keep this under {MAX_TEXT} characters."
    if errors or kind is None or offered is None:
        return None, errors
    return Offer(kind=kind, offered=offered, justification=justification, customer_cost=cost), {}


def check_amount(text: str | None, policy: AmendsPolicy, kind: AmendsKind | None) -> Offered:
    offered = parse_amount(text, policy.currency, allow_percent=kind is None or kind.allows_percent)
    if isinstance(offered, Money):
        if offered.currency not in policy.currencies:
            allowed = ", ".join(policy.currencies)
            raise AmountError(f"This team's policy takes amounts in {allowed} only.")
        in_default = policy.in_default(offered)
        if in_default is not None and in_default.minor > policy.max_amount.minor:
            raise AmountError(
                f"That is more than any single amends this policy allows ({policy.max_amount}). "
                "Check the number; truly exceptional cases are for a manager outside Mend."
            )
    return offered


@dataclass(frozen=True)
class Assessment:
    needs_approval: bool
    reasons: tuple[Reason, ...]
    value: Money | None  # in the default currency; None for a percentage, or a currency without a rate


class Tally(BaseModel):
    """What the rules count for one request, in the policy's currency, as it stands when the request is recorded.

    `case_given` and `customer_given` are what agents (not guarantees) have already given on this case, and to
    this customer within the repeat-claim window: the agent limit applies to the total, not to each grant.
    """

    model_config = ConfigDict(frozen=True)

    month_spend: Money
    prior_claims: int
    case_given: Money
    customer_given: Money

    @classmethod
    def nothing(cls, currency: str) -> Tally:
        zero = Money(minor=0, currency=currency)
        return cls(month_spend=zero, prior_claims=0, case_given=zero, customer_given=zero)


def assess(
    offer: Offer | tuple[AmendsKind, Offered],
    *,
    policy: AmendsPolicy,
    severity: Severity,
    tally: Tally,
) -> Assessment:
    """Decide whether an offer is within the agent's power, and why not when it isn't.

    Guidance is advice, not a wall: anything outside it (above, or so low it insults) goes to an approver
    with the reason shown, as does anything that takes what agents gave on the case or to the customer above
    the agent's limit, a kind that always needs approval, an amount that would break the month's budget, or
    a customer who claims again and again.
    """
    kind, offered = (offer.kind, offer.offered) if isinstance(offer, Offer) else offer
    reasons: list[Reason] = []
    value: Money | None = None
    guidance = policy.guidance[severity]
    if isinstance(offered, Percent):
        low, high = Percent(basis_points=policy.percent_low), Percent(basis_points=policy.percent_high)
        if offered.basis_points > policy.percent_high:
            reasons.append(
                Reason(
                    code=ReasonCode.ABOVE_LIMIT,
                    text=f"{offered} is above the {high} discount agents may give",
                )
            )
        elif offered.basis_points < policy.percent_low:
            reasons.append(
                Reason(
                    code=ReasonCode.BELOW_GUIDANCE,
                    text=f"{offered} is below the usual {low}–{high}: {UNDER_COMPENSATION}",
                )
            )
    else:
        value = policy.in_default(offered)
        if value is None:
            reasons.append(
                Reason(
                    code=ReasonCode.NO_RATE,
                    text=f"it is in {offered.currency}, and the policy's limits are in {policy.currency} "
                    f"with no rate for {offered.currency}",
                )
            )
        else:
            limit = _limit_reason(offered, value, policy, tally)
            if limit is not None:
                reasons.append(limit)
            if value.minor > guidance.high.minor:
                reasons.append(
                    Reason(
                        code=ReasonCode.ABOVE_GUIDANCE,
                        text=f"{offered} is above the guidance for a {severity.value} failure "
                        f"({guidance.low}–{guidance.high})",
                    )
                )
            elif value.minor < guidance.low.minor:
                reasons.append(
                    Reason(
                        code=ReasonCode.BELOW_GUIDANCE,
                        text=f"{offered} is below the guidance for a {severity.value} failure "
                        f"({guidance.low}–{guidance.high}): {UNDER_COMPENSATION}",
                    )
                )
            budget = _budget_reason(value, policy, tally)
            if budget is not None:
                reasons.append(budget)
    if kind in policy.approval_kinds:
        reasons.append(
            Reason(
                code=ReasonCode.KIND_NEEDS_APPROVAL,
                text=f"“{kind.label}” always needs an approver under this policy",
            )
        )
    repeat = _repeat_reason(policy, tally)
    if repeat is not None:
        reasons.append(repeat)
    return Assessment(needs_approval=bool(reasons), reasons=tuple(reasons), value=value)


def guarantee_notes(value: Money | None, policy: AmendsPolicy, tally: Tally) -> tuple[Reason, ...]:
    """What a guarantee breaks when it is invoked. It is granted at once all the same (the remedy was promised
    in advance); the notes go on its record, and its value on the month's spend, for the approvers to see."""
    notes = [
        _budget_reason(value, policy, tally) if value is not None else None,
        _repeat_reason(policy, tally),
    ]
    return tuple(n for n in notes if n is not None)


def _limit_reason(offered: Money, value: Money, policy: AmendsPolicy, tally: Tally) -> Reason | None:
    limit = policy.agent_limit
    if value.minor > limit.minor:
        return Reason(code=ReasonCode.ABOVE_LIMIT, text=f"{offered} is above the agent limit of {limit}")
    for given, where in (
        (tally.case_given, "already given on this case"),
        (tally.customer_given, f"given to this customer in the last {policy.repeat_days} days"),
    ):
        total = Money(minor=given.minor + value.minor, currency=policy.currency)
        if total.minor > limit.minor:
            return Reason(
                code=ReasonCode.ABOVE_LIMIT,
                text=f"with the {given} {where} it makes {total}, above the agent limit of {limit}",
            )
    return None


def _budget_reason(value: Money, policy: AmendsPolicy, tally: Tally) -> Reason | None:
    budget = policy.monthly_budget
    after = Money(minor=tally.month_spend.minor + value.minor, currency=policy.currency)
    if budget is None or after.minor <= budget.minor:
        return None
    return Reason(
        code=ReasonCode.OVER_BUDGET,
        text=f"it would take this month's amends to {after}, over the {budget} budget",
    )


def _repeat_reason(policy: AmendsPolicy, tally: Tally) -> Reason | None:
    claim = tally.prior_claims + 1
    if claim < policy.repeat_count:
        return None
    return Reason(
        code=ReasonCode.REPEAT_CLAIMS,
        text=f"repeat claims: this would be amends number {claim} for this customer in {policy.repeat_days} days",
    )


def customer_key(case: Case) -> str:
    """Who the ledger is about: the customer's reference when given, else their name, folded (`fold_customer`)."""
    report = case.report
    for raw in (report.customer_ref, report.customer_name):
        key = fold_customer(raw or "")
        if key:
            return key
    return f"case:{case.id}"


def month_start(at: datetime) -> datetime:
    return at.replace(day=1, hour=0, minute=0, second=0, microsecond=0)
