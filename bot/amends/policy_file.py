"""The policy file as people write it (TOML or YAML), checked and turned into an `AmendsPolicy`."""

from __future__ import annotations

import re
import tomllib
from collections.abc import Callable, Sequence
from decimal import Decimal
from pathlib import Path
from typing import Any

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from bot.amends.money import CURRENCY_EXPONENTS, AmountError, Money, parse_amount
from bot.amends.policy import AmendsKind, AmendsPolicy, Guarantee, Guidance
from bot.cases import Severity


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
            message = "is not a policy field (see the README's policy example)"
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
