"""Amends with well-dosed generosity: money, the team's policy, who grants what, approvals and escalation."""

from __future__ import annotations

import asyncio
import re
import tomllib
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation
from enum import StrEnum
from pathlib import Path
from typing import Any, Protocol

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from bot.cases import Case, MessageRef, Severity
from bot.clock import Clock
from bot.errors import CaseNotFound, InvalidInput, MendError, NotAllowed
from bot.playbook import CaseStep, StepAction

# ---- money ------------------------------------------------------------------------------------

#: ISO 4217 currencies Mend knows, with their minor-unit exponent (JPY has no cents, KWD has fils).
CURRENCY_EXPONENTS: dict[str, int] = {
    "AED": 2, "AUD": 2, "BHD": 3, "BRL": 2, "CAD": 2, "CHF": 2, "CLP": 0, "CNY": 2, "CZK": 2, "DKK": 2,
    "EUR": 2, "GBP": 2, "HKD": 2, "HUF": 2, "IDR": 2, "ILS": 2, "INR": 2, "ISK": 0, "JOD": 3, "JPY": 0,
    "KRW": 0, "KWD": 3, "MXN": 2, "MYR": 2, "NOK": 2, "NZD": 2, "OMR": 3, "PHP": 2, "PLN": 2, "RON": 2,
    "SAR": 2, "SEK": 2, "SGD": 2, "THB": 2, "TND": 3, "TRY": 2, "TWD": 2, "UAH": 2, "USD": 2, "VND": 0,
    "ZAR": 2,
}  # fmt: skip
SYMBOLS: dict[str, str] = {"€": "EUR", "£": "GBP", "$": "USD", "¥": "JPY", "₹": "INR", "₩": "KRW"}
_SYMBOL_OF = {"EUR": "€", "GBP": "£", "USD": "$", "JPY": "¥", "INR": "₹", "KRW": "₩"}
#: Beyond this many major units an amount is a typo or a test of the form, whatever the policy says.
ABSURD_MAJOR_UNITS = 10**9
MAX_TEXT = 3000


class Money(BaseModel):
    """An exact amount: integer minor units of an ISO currency (never a float)."""

    model_config = ConfigDict(frozen=True)

    minor: int
    currency: str

    @property
    def exponent(self) -> int:
        return CURRENCY_EXPONENTS[self.currency]

    @property
    def amount(self) -> Decimal:
        return Decimal(self.minor).scaleb(-self.exponent)

    @classmethod
    def of(cls, major: Decimal | int | str, currency: str) -> Money:
        exponent = CURRENCY_EXPONENTS[currency]
        value = Decimal(str(major)).scaleb(exponent)
        if value != value.to_integral_value():
            raise ValueError(f"{currency} has {exponent} decimal places")
        return cls(minor=int(value), currency=currency)

    def format(self) -> str:
        number = f"{self.amount:,.{self.exponent}f}"
        symbol = _SYMBOL_OF.get(self.currency)
        if symbol and not (symbol == "$" and self.currency != "USD"):
            return f"-{symbol}{number[1:]}" if number.startswith("-") else f"{symbol}{number}"
        return f"{number} {self.currency}"

    def __str__(self) -> str:
        return self.format()


class Percent(BaseModel):
    """A percentage off, exactly, in basis points (12.5% is 1250)."""

    model_config = ConfigDict(frozen=True)

    basis_points: int

    def format(self) -> str:
        value = Decimal(self.basis_points) / 100
        return f"{value.normalize():f}%"

    def __str__(self) -> str:
        return self.format()


Offered = Money | Percent

_AMOUNT = re.compile(
    r"""^\s*(?P<pre>[A-Za-z]{3}|[€£$¥₹₩])?\s*(?P<sign>[-−+])?\s*(?P<pre2>[€£$¥₹₩])?\s*
    (?P<number>[0-9][0-9.,' ]*|[.,][0-9]+)\s*(?P<post>[A-Za-z]{3}|[€£$¥₹₩%])?\s*$""",
    re.VERBOSE,
)


class AmountError(ValueError):
    """An amount that can't be used; the message says how to write it."""


def _decimal(number: str) -> Decimal:
    """'25', '25.50', '1,250.00', "1'250", '25,50' (a decimal comma) -> Decimal; anything else is refused."""
    text = number.replace(" ", "").replace("'", "")
    if re.fullmatch(r"\d+([.,]\d+)?", text) and not re.fullmatch(r"\d{1,3},\d{3}", text):
        text = text.replace(",", ".")
    elif re.fullmatch(r"\d{1,3}(,\d{3})+(\.\d+)?", text):
        text = text.replace(",", "")
    elif re.fullmatch(r"\d{1,3}(\.\d{3})+(,\d+)?", text):
        text = text.replace(".", "").replace(",", ".")
    elif not re.fullmatch(r"\d*\.\d+", text):
        raise AmountError("isn't a number I can read")
    try:
        return Decimal(text)
    except InvalidOperation as exc:
        raise AmountError("isn't a number I can read") from exc


def parse_amount(text: str | None, default_currency: str, *, allow_percent: bool = True) -> Offered:
    """Read what a person typed: '25', '25.50', '€25', '25 EUR', 'usd 40', '10%'.

    Raises AmountError with a message that can be shown on the form field as it is.
    """
    raw = (text or "").strip()
    if not raw:
        raise AmountError(
            "Give an amount, such as 25 or 25.50"
            + (", or a percentage such as 10%." if allow_percent else ".")
        )
    if len(raw) > 40:
        raise AmountError("That is far too long for an amount.")
    match = _AMOUNT.match(raw)
    if not match:
        raise AmountError(f"“{raw}” isn't an amount I can read. Write it like 25, 25.50, €25 or 25 EUR.")
    if match["sign"] in {"-", "−"}:
        raise AmountError("Amends can't be negative.")
    pre = match["pre"] or match["pre2"]
    post = match["post"]
    try:
        value = _decimal(match["number"])
    except AmountError:
        raise AmountError(
            f"“{raw}” isn't an amount I can read. Write it like 25, 25.50, €25 or 25 EUR."
        ) from None
    if post == "%":
        if pre:
            raise AmountError("Give either a currency or a percentage, not both.")
        if not allow_percent:
            raise AmountError("This kind of amends takes an amount of money, not a percentage.")
        if value <= 0:
            raise AmountError("A percentage must be more than 0%.")
        if value > 100:
            raise AmountError("A percentage can't be more than 100%.")
        bp = value * 100
        if bp != bp.to_integral_value():
            raise AmountError("Use at most two decimals in a percentage, such as 12.5%.")
        return Percent(basis_points=int(bp))
    if pre and post:
        raise AmountError("Give the currency once, before or after the number.")
    marker = pre or post
    code = SYMBOLS.get(marker, marker.upper()) if marker else default_currency
    if code not in CURRENCY_EXPONENTS:
        raise AmountError(
            f"“{pre or post}” isn't a currency I know. Use an ISO code such as EUR, USD or GBP."
        )
    if value <= 0:
        raise AmountError("Amends must be more than zero. If there is nothing to give, skip this step.")
    if value >= ABSURD_MAJOR_UNITS:
        raise AmountError("That amount is absurdly large; check the number.")
    exponent = CURRENCY_EXPONENTS[code]
    minor = value.scaleb(exponent)
    if minor != minor.to_integral_value():
        places = f"{exponent} decimal places" if exponent else "no decimals"
        raise AmountError(f"{code} amounts take {places}.")
    return Money(minor=int(minor), currency=code)


def format_offered(offered: Offered) -> str:
    return offered.format()


# ---- kinds and the policy ---------------------------------------------------------------------


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


# The policy file, as people write it: amounts as numbers or strings in the default currency's units.
class _RangeFile(BaseModel):
    model_config = ConfigDict(extra="forbid")
    min: Decimal = Field(ge=0)
    max: Decimal = Field(gt=0)

    @model_validator(mode="after")
    def _ordered(self) -> _RangeFile:
        if self.min > self.max:
            raise ValueError("min is more than max")
        return self


class _RepeatFile(BaseModel):
    model_config = ConfigDict(extra="forbid")
    count: int = Field(default=3, ge=1, le=1000)
    days: int = Field(default=90, ge=1, le=3650)


class _GuaranteeFile(BaseModel):
    model_config = ConfigDict(extra="forbid")
    category: str = Field(min_length=1, max_length=75)
    title: str = Field(min_length=1, max_length=150)
    kind: AmendsKind
    remedy: str = Field(min_length=1, max_length=40)

    @field_validator("remedy", mode="before")
    @classmethod
    def _as_text(cls, value: Any) -> Any:
        return (
            str(value) if isinstance(value, int | float | Decimal) and not isinstance(value, bool) else value
        )


class _PolicyFile(BaseModel):
    model_config = ConfigDict(extra="forbid")
    currency: str = "EUR"
    currencies: list[str] = Field(default_factory=list)
    exchange_rates: dict[str, Decimal] = Field(default_factory=dict)
    agent_limit: Decimal = Field(default=Decimal(50), gt=0)
    max_amount: Decimal = Field(default=Decimal(5000), gt=0)
    guidance: dict[Severity, _RangeFile] = Field(default_factory=dict)
    discount_percent: _RangeFile = Field(default_factory=lambda: _RangeFile(min=Decimal(5), max=Decimal(20)))
    approval_required_kinds: list[AmendsKind] = Field(default_factory=list)
    monthly_budget: Decimal | None = Field(default=Decimal(2000), ge=0)
    repeat_claims: _RepeatFile = Field(default_factory=_RepeatFile)
    guarantees: list[_GuaranteeFile] = Field(default_factory=list)

    @field_validator("currency")
    @classmethod
    def _currency(cls, value: str) -> str:
        code = value.strip().upper()
        if code not in CURRENCY_EXPONENTS:
            raise ValueError(f"{value!r} is not an ISO currency Mend knows (e.g. EUR, USD, GBP)")
        return code

    @field_validator("currencies")
    @classmethod
    def _currencies(cls, value: list[str]) -> list[str]:
        codes = [c.strip().upper() for c in value]
        unknown = [c for c in codes if c not in CURRENCY_EXPONENTS]
        if unknown:
            raise ValueError(f"unknown currency {unknown[0]!r}")
        return codes

    @field_validator("exchange_rates")
    @classmethod
    def _rates(cls, value: dict[str, Decimal]) -> dict[str, Decimal]:
        rates = {}
        for code, rate in value.items():
            if code.upper() not in CURRENCY_EXPONENTS:
                raise ValueError(f"unknown currency {code!r}")
            if rate <= 0:
                raise ValueError(f"the rate for {code} must be more than 0")
            rates[code.upper()] = rate
        return rates


DEFAULT_GUIDANCE = {
    Severity.MINOR: (5, 20),
    Severity.MODERATE: (15, 50),
    Severity.MAJOR: (40, 150),
    Severity.CRITICAL: (100, 500),
}


class PolicyError(ValueError):
    """A policy file that cannot be used; the message names the file, the line or field, and the fix."""


def policy_from_data(
    data: Any, *, source: str = "policy", lines: Callable[[Sequence[Any]], int | None] | None = None
) -> AmendsPolicy:
    if data is None:
        data = {}
    if not isinstance(data, dict):
        raise PolicyError(
            f"{source}: the policy must be a table of settings such as currency and agent_limit."
        )
    try:
        raw = _PolicyFile.model_validate(data)
    except ValidationError as exc:
        raise PolicyError(_explain(source, exc, lines)) from None
    currency = raw.currency

    def money(value: Decimal, where: str) -> Money:
        try:
            return Money.of(value, currency)
        except ValueError:
            raise PolicyError(f"{source}: `{where}` has more decimals than {currency} allows.") from None

    guidance = {}
    for severity in Severity:
        low, high = DEFAULT_GUIDANCE[severity]
        given = raw.guidance.get(severity)
        if given is not None:
            low, high = given.min, given.max  # type: ignore[assignment]
        guidance[severity] = Guidance(
            low=money(Decimal(low), f"guidance.{severity.value}.min"),
            high=money(Decimal(high), f"guidance.{severity.value}.max"),
        )
    if raw.discount_percent.max > 100:
        raise PolicyError(f"{source}: `discount_percent.max` can't be more than 100.")
    guarantees = []
    seen: set[str] = set()
    for index, g in enumerate(raw.guarantees):
        where = f"{source}:{_line_text(lines, ('guarantees', index))} guarantees[{index}]"
        try:
            remedy = parse_amount(g.remedy, currency, allow_percent=g.kind.allows_percent)
        except AmountError as exc:
            raise PolicyError(f"{where}: `remedy` {exc}") from None
        key = re.sub(r"[^a-z0-9]+", "_", g.category.strip().lower()).strip("_")
        if key in seen:
            raise PolicyError(f"{where}: category {g.category!r} has two guarantees.")
        seen.add(key)
        guarantees.append(Guarantee(category=key, title=g.title.strip(), kind=g.kind, remedy=remedy))
    agent_limit = money(raw.agent_limit, "agent_limit")
    max_amount = money(raw.max_amount, "max_amount")
    if agent_limit.minor > max_amount.minor:
        raise PolicyError(f"{source}: `agent_limit` is more than `max_amount`.")
    currencies = tuple(dict.fromkeys([currency, *raw.currencies, *raw.exchange_rates]))
    return AmendsPolicy(
        currency=currency,
        currencies=currencies,
        rates=raw.exchange_rates,
        agent_limit=agent_limit,
        max_amount=max_amount,
        guidance=guidance,
        percent_low=int(raw.discount_percent.min * 100),
        percent_high=int(raw.discount_percent.max * 100),
        approval_kinds=frozenset(raw.approval_required_kinds),
        monthly_budget=money(raw.monthly_budget, "monthly_budget") if raw.monthly_budget else None,
        repeat_count=raw.repeat_claims.count,
        repeat_days=raw.repeat_claims.days,
        guarantees=tuple(guarantees),
    )


DEFAULT_POLICY = policy_from_data({}, source="built-in policy")


def load_policy(path: Path) -> AmendsPolicy:
    """Read a team's amends policy from TOML or YAML; errors name the file, line and field."""
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise PolicyError(f"{path}: can't read the policy file ({exc.strerror or exc}).") from exc
    suffix = path.suffix.lower()
    if suffix == ".toml":
        try:
            data = tomllib.loads(text)
        except tomllib.TOMLDecodeError as exc:
            raise PolicyError(f"{path}: not valid TOML: {exc}") from None
        return policy_from_data(data, source=str(path), lines=_toml_lines(text))
    if suffix in {".yaml", ".yml"}:
        try:
            node = yaml.compose(text, Loader=yaml.SafeLoader)
            data = yaml.safe_load(text)
        except yaml.YAMLError as exc:
            raise PolicyError(f"{path}: not valid YAML: {exc}") from None
        return policy_from_data(data, source=str(path), lines=_yaml_lines(node))
    raise PolicyError(f"{path}: use a .toml, .yaml or .yml file.")


def _explain(source: str, exc: ValidationError, lines: Callable[[Sequence[Any]], int | None] | None) -> str:
    parts = []
    for error in exc.errors():
        loc = tuple(error["loc"])
        where = ".".join(str(p) for p in loc) or "policy"
        message = str(error["msg"]).removeprefix("Value error, ")
        if error["type"] == "extra_forbidden":
            message = "is not a policy field (see the example in docs/amends.md)"
        elif error["type"] == "enum":
            message = (
                f"must be one of {', '.join(k.value for k in AmendsKind)}"
                if "kind" in where or "kinds" in where
                else f"must be one of {', '.join(s.value for s in Severity)}"
            )
        parts.append(f"{_line_text(lines, loc)} `{where}` {message}".strip())
    return f"{source}: " + "; ".join(parts)


def _line_text(lines: Callable[[Sequence[Any]], int | None] | None, loc: Sequence[Any]) -> str:
    line = lines(loc) if lines else None
    return f" line {line}:" if line else ""


def _toml_lines(text: str) -> Callable[[Sequence[Any]], int | None]:
    """Where a field is in a TOML file: good enough to point a person at the right line."""
    source = text.splitlines()

    def find(loc: Sequence[Any]) -> int | None:
        table: list[str] = []
        array_counts: dict[str, int] = {}
        path = [str(p) for p in loc if not isinstance(p, int)]
        index = next((p for p in loc if isinstance(p, int)), None)
        best: int | None = None
        for number, line in enumerate(source, 1):
            stripped = line.strip()
            if m := re.fullmatch(r"\[\[\s*([\w.]+)\s*\]\]", stripped):
                table = m[1].split(".")
                array_counts[m[1]] = array_counts.get(m[1], -1) + 1
                if table == path[: len(table)] and (index is None or array_counts[m[1]] == index):
                    best = best or number
                    if len(path) == len(table):
                        return number
                continue
            if m := re.fullmatch(r"\[\s*([\w.]+)\s*\]", stripped):
                table = m[1].split(".")
                if table == path[: len(table)] and len(path) == len(table):
                    return number
                continue
            if m := re.match(r"([\w.\"]+)\s*=", stripped):
                key = [*table, *m[1].replace('"', "").split(".")]
                in_array = index is None or array_counts.get(".".join(table), -1) == index
                if in_array and (key == path or (path[: len(key)] == key and len(key) < len(path))):
                    return number
        return best

    return find


def _yaml_lines(root: Any) -> Callable[[Sequence[Any]], int | None]:
    def find(loc: Sequence[Any]) -> int | None:
        node = root
        line = None
        for part in loc:
            if isinstance(node, yaml.MappingNode):
                nxt = next(((k, v) for k, v in node.value if getattr(k, "value", None) == str(part)), None)
                if nxt is None:
                    break
                line = nxt[0].start_mark.line + 1
                node = nxt[1]
            elif isinstance(node, yaml.SequenceNode) and isinstance(part, int) and part < len(node.value):
                node = node.value[part]
                line = node.start_mark.line + 1
            else:
                break
        return line

    return find


# ---- the rules --------------------------------------------------------------------------------


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


def assess(
    offer: Offer | tuple[AmendsKind, Offered],
    *,
    policy: AmendsPolicy,
    severity: Severity,
    prior_claims: int,
    month_spend: Money,
) -> Assessment:
    """Decide whether an offer is within the agent's power, and why not when it isn't.

    Guidance is advice, not a wall: anything outside it (above, or so low it insults) goes to an approver
    with the reason shown, as does anything above the agent's limit, a kind that always needs approval,
    an amount that would break the month's budget, or a customer who claims again and again.
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
            if value.minor > policy.agent_limit.minor:
                reasons.append(
                    Reason(
                        code=ReasonCode.ABOVE_LIMIT,
                        text=f"{offered} is above the agent limit of {policy.agent_limit}",
                    )
                )
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
            budget = policy.monthly_budget
            if budget is not None and month_spend.minor + value.minor > budget.minor:
                after = Money(minor=month_spend.minor + value.minor, currency=policy.currency)
                reasons.append(
                    Reason(
                        code=ReasonCode.OVER_BUDGET,
                        text=f"it would take this month's amends to {after}, over the {budget} budget",
                    )
                )
    if kind in policy.approval_kinds:
        reasons.append(
            Reason(
                code=ReasonCode.KIND_NEEDS_APPROVAL,
                text=f"“{kind.label}” always needs an approver under this policy",
            )
        )
    if prior_claims + 1 >= policy.repeat_count:
        reasons.append(
            Reason(
                code=ReasonCode.REPEAT_CLAIMS,
                text=f"repeat claims: this would be amends number {prior_claims + 1} for this customer "
                f"in {policy.repeat_days} days",
            )
        )
    return Assessment(needs_approval=bool(reasons), reasons=tuple(reasons), value=value)


def customer_key(case: Case) -> str:
    """Who the ledger is about: the customer's reference when given, else their name, normalised."""
    report = case.report
    raw = report.customer_ref or report.customer_name or f"case:{case.id}"
    return re.sub(r"\s+", " ", raw.strip().lower())[:200]


def month_start(at: datetime) -> datetime:
    return at.replace(day=1, hour=0, minute=0, second=0, microsecond=0)


# ---- records ----------------------------------------------------------------------------------


class AmendsState(StrEnum):
    PENDING = "pending"
    GRANTED = "granted"  # within the agent's power, or a guarantee: no approver needed
    APPROVED = "approved"
    ADJUSTED = "adjusted"  # approved with a different amount
    REJECTED = "rejected"

    @property
    def given(self) -> bool:
        return self in {AmendsState.GRANTED, AmendsState.APPROVED, AmendsState.ADJUSTED}


class Decision(StrEnum):
    APPROVE = "approve"
    REJECT = "reject"
    ADJUST = "adjust"


class AmendsSource(StrEnum):
    AGENT = "agent"
    GUARANTEE = "guarantee"


class Amends(BaseModel):
    """One amends request and what became of it."""

    model_config = ConfigDict(frozen=True)

    id: int
    case_id: int
    team_id: str
    customer_key: str
    kind: AmendsKind
    offered: Money | Percent
    value: Money | None
    justification: str
    customer_cost: str | None = None
    source: AmendsSource = AmendsSource.AGENT
    reasons: tuple[Reason, ...] = ()
    requester_user_id: str
    addressed_approver_id: str | None = None
    state: AmendsState
    requested_at: datetime
    decided_by: str | None = None
    decided_at: datetime | None = None
    decision_reason: str | None = None
    final: Money | Percent | None = None
    final_value: Money | None = None
    version: int = 1
    request_notice: MessageRef | None = None
    outcome_notice: MessageRef | None = None
    requester_told: bool = False
    escalation_level: int = 0

    @property
    def given(self) -> Money | Percent | None:
        return self.final if self.state.given else None

    def describe(self, offered: Money | Percent | None = None) -> str:
        amount = offered or self.offered
        return f"{amount} · {self.kind.label.lower()}"


class ApprovalCopy(BaseModel):
    """One copy of an approval request: in the approvals channel, or in one approver's DM."""

    model_config = ConfigDict(frozen=True)

    id: int
    amends_id: int
    recipient: str  # a channel id, or the user id whose DM it is
    backup: bool = False
    ref: MessageRef | None = None
    rendered_version: int = 0


class NewAmends(BaseModel):
    model_config = ConfigDict(frozen=True)

    case_id: int
    team_id: str
    customer_key: str
    kind: AmendsKind
    offered: Money | Percent
    value: Money | None
    justification: str
    customer_cost: str | None
    source: AmendsSource
    reasons: tuple[Reason, ...]
    requester_user_id: str
    addressed_approver_id: str | None
    state: AmendsState
    at: datetime
    submission_key: str | None
    recipients: tuple[str, ...] = ()
    # When granted at once: the playbook step it finishes (if still pending) and the note it leaves there.
    step_key: str | None = None


class Outcome(BaseModel):
    """A decision to store: conditional on the request still pending and its case still open."""

    model_config = ConfigDict(frozen=True)

    amends_id: int
    state: AmendsState
    actor_user_id: str
    at: datetime
    reason: str | None = None
    final: Money | Percent | None = None
    final_value: Money | None = None
    step_key: str | None = None


class DecideResult(StrEnum):
    DECIDED = "decided"
    ALREADY_DECIDED = "already_decided"
    CASE_CLOSED = "case_closed"


class LedgerEntry(BaseModel):
    model_config = ConfigDict(frozen=True)

    amends: Amends
    case_reference: str


# ---- ports ------------------------------------------------------------------------------------


class AmendsRepository(Protocol):
    async def load_case(self, case_id: int) -> tuple[Case, list[CaseStep]] | None: ...

    async def add(self, new: NewAmends) -> tuple[Amends, bool]:
        """Store a request (and, when granted, finish the amends step and bump the case); idempotent on key."""
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


REMIND = "amends_remind"
ASK_BACKUPS = "amends_ask_backups"


@dataclass(frozen=True)
class Approvers:
    """Who may decide: named approvers, a Slack user group, and the backups asked when nobody answers."""

    ids: tuple[str, ...] = ()
    group_id: str | None = None
    backup_ids: tuple[str, ...] = ()
    channel_id: str | None = None
    escalate_after: timedelta = timedelta(hours=4)

    @property
    def configured(self) -> bool:
        return bool(self.ids or self.group_id or self.backup_ids)


@dataclass(frozen=True)
class OfferContext:
    """What the Offer amends form shows: guidance for the case, the agent's limit, the customer's history."""

    case: Case
    step_key: str | None
    guidance: Guidance
    policy: AmendsPolicy
    history: tuple[LedgerEntry, ...]
    month_spend: Money
    guarantee: Guarantee | None
    guarantee_used: bool = False


class AlreadyDecided(MendError):
    def __init__(self, amends: Amends) -> None:
        who = f" by <@{amends.decided_by}>" if amends.decided_by else ""
        super().__init__(f"This amends request was already {amends.state.value}{who}. Nothing changed.")


NOT_AN_APPROVER = "Only approvers can decide this amends request, so nothing changed. Your attempt was noted."


@dataclass
class _Cache:
    members: tuple[str, ...] = ()
    at: datetime | None = None
    lock: asyncio.Lock = field(default_factory=asyncio.Lock)


GROUP_CACHE = timedelta(minutes=1)


class AmendsHomeSummary(BaseModel):
    model_config = ConfigDict(frozen=True)

    spent: Money
    budget: Money | None
    waiting: tuple[tuple[Amends, Case], ...] = ()


class AmendsService:
    """Offers, grants, approvals and escalation of amends; Slack shows the result through `sync`."""

    def __init__(
        self,
        repo: AmendsRepository,
        notifier: AmendsNotifier,
        directory: ApproverDirectory,
        scheduler: Scheduler,
        clock: Clock,
        policy: AmendsPolicy,
        approvers: Approvers,
        after_grant: Callable[[int], Awaitable[None]] | None = None,
    ) -> None:
        self._repo = repo
        self._notifier = notifier
        self._directory = directory
        self._scheduler = scheduler
        self._clock = clock
        self.policy = policy
        self.approvers = approvers
        self._after_grant = after_grant
        self._observers: list[Callable[[Amends], Awaitable[None]]] = []
        self._locks: dict[int, asyncio.Lock] = {}
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
                    OfferField.APPROVER, f"{approver_user_id} isn't a person in this workspace."
                )
            if not await self.may_decide(approver_user_id):
                raise InvalidInput(OfferField.APPROVER, f"<@{approver_user_id}> isn't one of the approvers.")
            if approver_user_id == actor_user_id:
                raise InvalidInput(OfferField.APPROVER, "Another approver decides on your own request.")
        now = self._clock.now()
        key = customer_key(case)
        prior = await self._repo.ledger(team_id, key, since=now - timedelta(days=self.policy.repeat_days))
        claims = sum(1 for e in prior if e.amends.state is not AmendsState.REJECTED)
        spend = await self._repo.month_spend(team_id, self.policy.currency, month_start(now))
        assessment = assess(
            offer,
            policy=self.policy,
            severity=case.report.severity,
            prior_claims=claims,
            month_spend=Money(minor=spend, currency=self.policy.currency),
        )
        recipients: tuple[str, ...] = ()
        if assessment.needs_approval:
            recipients = await self._recipients(actor_user_id, approver_user_id)
            if not recipients:
                raise InvalidInput(
                    OfferField.AMOUNT,
                    "This needs an approver ("
                    + "; ".join(r.text for r in assessment.reasons)
                    + "), but no approver is set up. Ask a Mend admin to set APPROVER_IDS or APPROVER_GROUP.",
                )
        state = AmendsState.PENDING if assessment.needs_approval else AmendsState.GRANTED
        amends, created = await self._repo.add(
            NewAmends(
                case_id=case.id,
                team_id=team_id,
                customer_key=key,
                kind=offer.kind,
                offered=offer.offered,
                value=assessment.value,
                justification=offer.justification,
                customer_cost=offer.customer_cost,
                source=AmendsSource.AGENT,
                reasons=assessment.reasons,
                requester_user_id=actor_user_id,
                addressed_approver_id=approver_user_id,
                state=state,
                at=now,
                submission_key=submission_key,
                recipients=recipients,
                step_key=_amends_step(steps) if state is AmendsState.GRANTED else None,
            )
        )
        if created and amends.state is AmendsState.PENDING:
            await self._scheduler.schedule(
                REMIND,
                now + self.approvers.escalate_after,
                f"amends:{amends.id}:remind",
                {"amends_id": amends.id},
            )
        return amends

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
        amends, created = await self._repo.add(
            NewAmends(
                case_id=case.id,
                team_id=team_id,
                customer_key=customer_key(case),
                kind=guarantee.kind,
                offered=remedy,
                value=self.policy.in_default(remedy) if isinstance(remedy, Money) else None,
                justification=f"Service guarantee: {guarantee.title}",
                customer_cost=None,
                source=AmendsSource.GUARANTEE,
                reasons=(),
                requester_user_id=actor_user_id,
                addressed_approver_id=None,
                state=AmendsState.GRANTED,
                at=self._clock.now(),
                submission_key=f"guarantee:{case.id}",
                step_key=_amends_step(steps),
            )
        )
        if not created:
            raise MendError(
                f"The guarantee was already invoked on {case.reference} by <@{amends.requester_user_id}>."
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
        """Make Slack show what the database says about one request; safe to rerun any number of times."""
        lock = self._locks.setdefault(amends_id, asyncio.Lock())
        async with lock:
            amends = await self._repo.get(amends_id)
            loaded = await self._repo.load_case(amends.case_id) if amends else None
            if amends is None or loaded is None:
                return
            case = loaded[0]
            copies = await self._repo.copies(amends.id)
            if amends.state is AmendsState.PENDING:
                if amends.request_notice is None and case.card is not None:
                    ref = await self._notifier.post_request_notice(amends, case)
                    await self._repo.record_notice(amends.id, "request", ref)
                for copy in copies:
                    if copy.ref is None:
                        ref = await self._notifier.post_approval_request(amends, case, copy)
                        await self._repo.record_copy(copy.id, ref)
                return
            for copy in copies:
                if (
                    copy.ref is not None
                    and copy.rendered_version < amends.version
                    and await self._repo.claim_copy_render(copy.id, amends.version)
                ):
                    try:
                        await self._notifier.redraw_approval_request(amends, case, copy)
                    except Exception:
                        await self._repo.release_copy_render(copy.id, copy.rendered_version)
                        raise
            if amends.outcome_notice is None and case.card is not None:
                ref = await self._notifier.post_outcome(amends, case)
                await self._repo.record_notice(amends.id, "outcome", ref)
            if amends.state is not AmendsState.GRANTED and not amends.requester_told:
                await self._notifier.tell_requester(amends, case)
                await self._repo.record_notice(amends.id, "requester", None)
        if amends.state.given and self._after_grant is not None:
            await self._after_grant(amends.case_id)
        for observer in self._observers:
            await observer(amends)

    def observe(self, observer: Callable[[Amends], Awaitable[None]]) -> None:
        """Be told about a request after each sync (the Home tab keeps approvers' lists fresh this way)."""
        self._observers.append(observer)

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

    # ---- escalation ----------------------------------------------------------------------------

    async def on_due(self, kind: str, payload: dict[str, Any]) -> None:
        """A scheduled escalation is due: remind the approvers, or ask the backups next."""
        amends_id = payload.get("amends_id")
        if not isinstance(amends_id, int):
            return
        amends = await self._repo.get(amends_id)
        loaded = await self._repo.load_case(amends.case_id) if amends else None
        if (
            amends is None
            or loaded is None
            or amends.state is not AmendsState.PENDING
            or not loaded[0].is_open
        ):
            return  # decided meanwhile, or its case closed: nobody needs chasing
        case = loaded[0]
        now = self._clock.now()
        if kind == REMIND:
            copies = [c for c in await self._repo.copies(amends.id) if not c.backup]
            await self._notifier.remind_approvers(amends, case, copies)
            await self._repo.audit(case.id, "amends_reminded", None, now, amends_id=amends.id)
            if self.approvers.backup_ids:
                await self._scheduler.schedule(
                    ASK_BACKUPS,
                    now + self.approvers.escalate_after,
                    f"amends:{amends.id}:backups",
                    {"amends_id": amends.id},
                )
        elif kind == ASK_BACKUPS:
            backups = [b for b in self.approvers.backup_ids if b != amends.requester_user_id]
            if backups and await self._repo.add_copies(amends.id, backups, backup=True, level=2):
                await self._repo.audit(
                    case.id, "amends_escalated", None, now, amends_id=amends.id, to=backups
                )
            await self.sync(amends.id)

    async def escalate_due(self, now: datetime | None = None, *, queue: EscalationQueue | None = None) -> int:
        """Run every escalation due by `now` from the stand-in queue; returns how many ran."""
        source = queue or self._scheduler
        claim_due = getattr(source, "claim_due", None)
        if claim_due is None:
            return 0  # a real scheduler calls on_due itself
        jobs: list[DueJob] = await claim_due(now or self._clock.now())
        for job in jobs:
            await self.on_due(job.kind, job.payload)
        return len(jobs)


def _amends_step(steps: Sequence[CaseStep]) -> str | None:
    return next((s.key for s in steps if s.step.action is StepAction.AMENDS), None)


def granted_summary(granted: Sequence[Amends]) -> str | None:
    """One line for the case card: what the customer was given."""
    parts = [f"{a.given} {a.kind.label.lower()}" for a in granted if a.given is not None]
    return "; ".join(parts) or None
