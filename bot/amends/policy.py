"""The kinds of amends and a team's compensation policy, as the rules apply it (amounts in minor units)."""

from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal
from enum import StrEnum

from pydantic import BaseModel, ConfigDict

from bot.amends.money import CURRENCY_EXPONENTS, Money, Percent
from bot.cases import Severity


class AmendsKind(StrEnum):
    REFUND = "refund"
    CREDIT = "credit"
    DISCOUNT = "discount"
    FREE_SHIPPING = "free_shipping"
    FREE_MONTH = "free_month"
    EXTRA_SERVICE = "extra_service"
    GIFT = "gift"
    OTHER = "other"

    @property
    def label(self) -> str:
        return _KIND_LABELS[self]

    @property
    def allows_percent(self) -> bool:
        return self is AmendsKind.DISCOUNT


_KIND_LABELS = {
    AmendsKind.REFUND: "Refund",
    AmendsKind.CREDIT: "Account credit",
    AmendsKind.DISCOUNT: "Discount on a future purchase",
    AmendsKind.FREE_SHIPPING: "Free shipping",
    AmendsKind.FREE_MONTH: "A free month of subscription",
    AmendsKind.EXTRA_SERVICE: "An extra service",
    AmendsKind.GIFT: "A gift",
    AmendsKind.OTHER: "Other",
}


class Guidance(BaseModel):
    """What amends usually are for one severity, in the default currency."""

    model_config = ConfigDict(frozen=True)

    low: Money
    high: Money


class Guarantee(BaseModel):
    """A service guarantee: for a failure category, a remedy named in advance and granted at once."""

    model_config = ConfigDict(frozen=True)

    category: str
    title: str
    kind: AmendsKind
    remedy: Money | Percent


class AmendsPolicy(BaseModel):
    """A team's compensation policy, ready to apply (amounts already in minor units)."""

    model_config = ConfigDict(frozen=True)

    currency: str
    currencies: tuple[str, ...]
    rates: dict[str, Decimal]
    agent_limit: Money
    max_amount: Money
    guidance: dict[Severity, Guidance]
    percent_low: int  # basis points
    percent_high: int
    approval_kinds: frozenset[AmendsKind]
    monthly_budget: Money | None
    repeat_count: int
    repeat_days: int
    guarantees: tuple[Guarantee, ...]

    def with_agent_limit(self, limit: Money) -> AmendsPolicy:
        return self.model_copy(update={"agent_limit": limit})

    def guarantee_for(self, category: str) -> Guarantee | None:
        return next((g for g in self.guarantees if g.category == category), None)

    def in_default(self, money: Money) -> Money | None:
        """The amount in the default currency, rounded half-up to its minor unit; None without a rate."""
        if money.currency == self.currency:
            return money
        rate = self.rates.get(money.currency)
        if rate is None:
            return None
        value = (money.amount * rate).scaleb(CURRENCY_EXPONENTS[self.currency])
        return Money(minor=int(value.quantize(Decimal(1), rounding=ROUND_HALF_UP)), currency=self.currency)
