"""The policy file as people write it (TOML or YAML), checked and turned into an `AmendsPolicy`."""

from __future__ import annotations

import re
from collections.abc import Sequence
from decimal import Decimal
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from bot.amends.money import CURRENCY_EXPONENTS, AmountError, Money, parse_amount
from bot.amends.policy import AmendsKind, AmendsPolicy, Guarantee, Guidance
from bot.cases import Severity
from bot.config_file import ConfigFileError, LineFinder, field_problems, line_of, read_config_file


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


class PolicyError(ConfigFileError):
    """A policy file that cannot be used; the message names the file, the line or field, and the fix."""


def policy_from_data(data: Any, *, source: str = "policy", lines: LineFinder | None = None) -> AmendsPolicy:
    """Check a policy as parsed from a file (or given in code); `lines` says where each field was written."""
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
    file = read_config_file(path, what="policy", error=PolicyError)
    return policy_from_data(file.data, source=file.source, lines=file.line)


def _explain(source: str, exc: ValidationError, lines: LineFinder | None) -> str:
    parts = []
    for problem in field_problems(
        exc, unknown_field="is not a policy field (see the example in docs/amends.md)", whole="policy"
    ):
        parts.append(f"{_line_text(lines, problem.loc)} {problem}".strip())
    return f"{source}: " + "; ".join(parts)


def _line_text(lines: LineFinder | None, loc: Sequence[Any]) -> str:
    line = line_of(lines, loc)
    return f" line {line}:" if line else ""
