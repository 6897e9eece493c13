"""Amends rules without Slack or SQL: money, the policy file, and what needs an approver."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal
from pathlib import Path

import pytest

from bot.amends import (
    DEFAULT_POLICY,
    AmendsKind,
    AmountError,
    Money,
    Offer,
    OfferField,
    Percent,
    PolicyError,
    ReasonCode,
    assess,
    load_policy,
    parse_amount,
    policy_from_data,
    validate_offer,
)
from bot.cases import Severity
from bot.clock import parse_duration

EUR = "EUR"


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("25", Money(minor=2500, currency=EUR)),
        ("25.50", Money(minor=2550, currency=EUR)),
        ("25,50", Money(minor=2550, currency=EUR)),
        ("€25", Money(minor=2500, currency=EUR)),
        ("25 €", Money(minor=2500, currency=EUR)),
        ("usd 40", Money(minor=4000, currency="USD")),
        ("£1,250.00", Money(minor=125000, currency="GBP")),
        ("1.250,75 EUR", Money(minor=125075, currency=EUR)),
        ("¥3000", Money(minor=3000, currency="JPY")),
        ("1.234 KWD", Money(minor=1234, currency="KWD")),
        ("10%", Percent(basis_points=1000)),
        ("12.5 %", Percent(basis_points=1250)),
    ],
)
def test_amounts_people_type(text: str, expected: Money | Percent) -> None:
    assert parse_amount(text, EUR) == expected


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("", "Give an amount"),
        ("-5", "negative"),
        ("0", "more than zero"),
        ("0.00", "more than zero"),
        ("abc", "isn't an amount"),
        ("1e5", "isn't an amount"),
        ("NaN", "isn't an amount"),
        ("25 XYZ", "isn't a currency"),
        ("€25 EUR", "once"),
        ("101%", "more than 100%"),
        ("0%", "more than 0%"),
        ("1000000000", "absurdly large"),
        ("12.345", "2 decimal places"),
        ("¥10.5", "no decimals"),
    ],
)
def test_amounts_refused_with_a_reason(text: str, message: str) -> None:
    with pytest.raises(AmountError, match=message):
        parse_amount(text, EUR)


def test_money_is_exact_and_formatted_per_currency() -> None:
    assert Money(minor=1, currency=EUR).amount == Decimal("0.01")
    assert str(Money(minor=123456, currency=EUR)) == "€1,234.56"
    assert str(Money(minor=3000, currency="JPY")) == "¥3,000"
    assert str(Money(minor=1234, currency="KWD")) == "1.234 KWD"
    assert Money.of("0.1", EUR).minor + Money.of("0.2", EUR).minor == Money.of("0.3", EUR).minor
    assert str(Percent(basis_points=1250)) == "12.5%"


def test_percent_only_where_the_kind_takes_one() -> None:
    raw = {OfferField.KIND: "refund", OfferField.AMOUNT: "10%", OfferField.JUSTIFICATION: "why"}
    offer, errors = validate_offer(raw, DEFAULT_POLICY)
    assert offer is None and "not a percentage" in errors[OfferField.AMOUNT]
    offer, errors = validate_offer({**raw, OfferField.KIND: "discount"}, DEFAULT_POLICY)
    assert errors == {} and offer is not None and offer.offered == Percent(basis_points=1000)


def _assess(
    amount: str,
    severity: Severity = Severity.MAJOR,
    *,
    kind: AmendsKind = AmendsKind.REFUND,
    prior: int = 0,
    spent: int = 0,
):  # type: ignore[no-untyped-def]
    offer = Offer(kind=kind, offered=parse_amount(amount, EUR), justification="x")
    return assess(
        offer,
        policy=DEFAULT_POLICY,
        severity=severity,
        prior_claims=prior,
        month_spend=Money(minor=spent, currency=EUR),
    )


def test_within_limit_and_guidance_is_granted() -> None:
    result = _assess("45")
    assert not result.needs_approval and result.value == Money(minor=4500, currency=EUR)


def test_every_reason_to_ask_an_approver() -> None:
    assert [r.code for r in _assess("120").reasons] == [ReasonCode.ABOVE_LIMIT]
    assert [r.code for r in _assess("200").reasons] == [ReasonCode.ABOVE_LIMIT, ReasonCode.ABOVE_GUIDANCE]
    low = _assess("2")
    assert [r.code for r in low.reasons] == [ReasonCode.BELOW_GUIDANCE] and "insult" in low.reasons[0].text
    assert [r.code for r in _assess("45", prior=2).reasons] == [ReasonCode.REPEAT_CLAIMS]
    assert [r.code for r in _assess("45", spent=199_000).reasons] == [ReasonCode.OVER_BUDGET]
    assert [r.code for r in _assess("45 USD").reasons] == [ReasonCode.NO_RATE]
    assert [r.code for r in _assess("30%", kind=AmendsKind.DISCOUNT).reasons] == [ReasonCode.ABOVE_LIMIT]
    assert [r.code for r in _assess("2%", kind=AmendsKind.DISCOUNT).reasons] == [ReasonCode.BELOW_GUIDANCE]
    gifts = policy_from_data({"approval_required_kinds": ["gift"]})
    offer = Offer(kind=AmendsKind.GIFT, offered=Money(minor=1000, currency=EUR), justification="x")
    result = assess(
        offer, policy=gifts, severity=Severity.MINOR, prior_claims=0, month_spend=Money(minor=0, currency=EUR)
    )
    assert [r.code for r in result.reasons] == [ReasonCode.KIND_NEEDS_APPROVAL]


def test_exchange_rates_convert_exactly() -> None:
    policy = policy_from_data({"currencies": ["USD"], "exchange_rates": {"USD": "0.92"}})
    assert policy.in_default(Money(minor=5000, currency="USD")) == Money(minor=4600, currency=EUR)


def test_policy_file_toml_and_yaml(tmp_path: Path) -> None:
    toml = tmp_path / "p.toml"
    toml.write_text(
        'currency = "gbp"\nagent_limit = "40"\n[guidance.minor]\nmin = 1\nmax = 10\n'
        '[[guarantees]]\ncategory = "Wait time"\ntitle = "Ten minutes or a free coffee"\nkind = "gift"\nremedy = 3\n'
    )
    policy = load_policy(toml)
    assert policy.currency == "GBP" and str(policy.agent_limit) == "£40.00"
    assert str(policy.guidance[Severity.MINOR].high) == "£10.00"
    guarantee = policy.guarantee_for("wait_time")
    assert guarantee is not None and guarantee.remedy == Money(minor=300, currency="GBP")
    yaml_file = tmp_path / "p.yaml"
    yaml_file.write_text("monthly_budget: 500\nrepeat_claims:\n  count: 4\n  days: 30\n")
    assert load_policy(yaml_file).repeat_count == 4


@pytest.mark.parametrize(
    ("name", "text", "expected"),
    [
        ("p.toml", 'currency = "EUR"\nagent_limt = 40\n', ["line 2", "agent_limt", "not a policy field"]),
        (
            "p.toml",
            "[guidance.major]\nmin = 200\nmax = 100\n",
            ["line 1", "guidance.major", "min is more than max"],
        ),
        ("p.toml", 'currency = "XXX"\n', ["line 1", "currency", "not an ISO currency"]),
        (
            "p.toml",
            "[[guarantees]]\ncategory = 'x'\ntitle = 't'\nkind = 'refund'\nremedy = '-3'\n",
            ["guarantees[0]", "negative"],
        ),
        (
            "p.toml",
            "[[guarantees]]\ncategory = 'x'\ntitle = 't'\nkind = 'hug'\nremedy = '3'\n",
            ["line 4", "kind", "refund"],
        ),
        ("p.toml", "agent_limit = 9000\n", ["agent_limit", "max_amount"]),
        ("p.toml", "agent_limit = [", ["not valid TOML"]),
        ("p.yaml", "guidance:\n  major:\n    min: 1\n    max: lots\n", ["line 4", "guidance.major.max"]),
        ("p.yaml", "guidance:\n  huge: {min: 1, max: 2}\n", ["guidance.huge", "critical"]),
        ("p.yaml", "- not a table\n", ["must be a table"]),
        ("p.json", "{}", ["use a .toml"]),
    ],
)
def test_policy_file_errors_name_the_line_and_field(
    tmp_path: Path, name: str, text: str, expected: list[str]
) -> None:
    path = tmp_path / name
    path.write_text(text)
    with pytest.raises(PolicyError) as info:
        load_policy(path)
    for part in expected:
        assert part in str(info.value), str(info.value)


def test_durations() -> None:
    assert parse_duration("90s") == timedelta(seconds=90)
    assert parse_duration("15m") == timedelta(minutes=15)
    assert parse_duration("4h") == timedelta(hours=4)
    assert parse_duration("1d") == timedelta(days=1)
    assert parse_duration("1h 30m") == timedelta(minutes=90)
    for bad in ("", "4", "soon", "0m", "-4h", "400d"):
        with pytest.raises(ValueError):
            parse_duration(bad)
