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
    Tally,
    assess,
    fold_customer,
    load_policy,
    parse_amount,
    policy_from_data,
    validate_offer,
)
from bot.amends.rules import guarantee_notes
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
    on_case: int = 0,
    to_customer: int = 0,
):  # type: ignore[no-untyped-def]
    offer = Offer(kind=kind, offered=parse_amount(amount, EUR), justification="x")
    tally = Tally(
        month_spend=Money(minor=spent, currency=EUR),
        prior_claims=prior,
        case_given=Money(minor=on_case, currency=EUR),
        customer_given=Money(minor=to_customer, currency=EUR),
    )
    return assess(offer, policy=DEFAULT_POLICY, severity=severity, tally=tally)


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
    result = assess(offer, policy=gifts, severity=Severity.MINOR, tally=Tally.nothing(EUR))
    assert [r.code for r in result.reasons] == [ReasonCode.KIND_NEEDS_APPROVAL]


def test_the_agent_limit_applies_to_the_total_on_the_case_and_to_the_customer() -> None:
    assert not _assess("45", on_case=500, to_customer=500).needs_approval  # €50.00 in all: at the limit
    on_case = _assess("45", on_case=600, to_customer=600)
    assert [r.code for r in on_case.reasons] == [ReasonCode.ABOVE_LIMIT]
    assert on_case.reasons[0].text == (
        "with the €6.00 already given on this case it makes €51.00, above the agent limit of €50.00"
    )
    customer = _assess("45", to_customer=4500)  # given on the customer's other cases, within 90 days
    assert customer.reasons[0].text == (
        "with the €45.00 given to this customer in the last 90 days it makes €90.00, "
        "above the agent limit of €50.00"
    )
    # A percentage has no money total to add to; it keeps its own limit.
    assert not _assess("10%", kind=AmendsKind.DISCOUNT, on_case=5000, to_customer=5000).needs_approval


def test_a_guarantee_notes_what_it_breaks_but_is_not_assessed_against_the_agent_limit() -> None:
    policy = policy_from_data({"monthly_budget": 100, "repeat_claims": {"count": 2}})
    remedy = Money(minor=3000, currency=EUR)
    quiet = Tally.nothing(EUR).model_copy(update={"case_given": Money(minor=5000, currency=EUR)})
    assert guarantee_notes(remedy, policy, quiet) == ()
    busy = Tally(
        month_spend=Money(minor=8000, currency=EUR),
        prior_claims=1,
        case_given=Money(minor=0, currency=EUR),
        customer_given=Money(minor=0, currency=EUR),
    )
    assert [r.code for r in guarantee_notes(remedy, policy, busy)] == [
        ReasonCode.OVER_BUDGET,
        ReasonCode.REPEAT_CLAIMS,
    ]
    assert [r.code for r in guarantee_notes(None, policy, busy)] == [ReasonCode.REPEAT_CLAIMS]


@pytest.mark.parametrize(
    "typed",
    [
        "order #4411",
        "order #4411\u200b",  # a zero-width space pasted from a chat
        "\ufeffORDER  #4411 ",  # a byte-order mark, capitals, doubled and trailing spaces
        "Order\u00a0#4411",  # a no-break space
        "order\t#4411\n",
        "ｏｒｄｅｒ ＃４４１１",  # full-width letters and digits
        "order #\u20604411\u2063",  # word joiner, invisible separator
        "order #44\u00ad11",  # a soft hyphen
        "order #4411.",
        "order: #4411!",
        "ORDER # 4411",
        "order #4411\ufe0f",  # a variation selector
        "order #4411\U000e0041",  # a tag character
    ],
)
def test_one_customer_is_one_customer(typed: str) -> None:
    assert fold_customer(typed) == "order 4411"


def test_different_customers_stay_different() -> None:
    keys = {
        fold_customer(t) for t in ["order #4411", "order #4412", "order #44111", "Dana Cole", "Dana Coles"]
    }
    assert len(keys) == 5
    assert fold_customer("Straße") == fold_customer("STRASSE")
    assert fold_customer("José") == fold_customer("Jose\u0301")  # composed or not
    assert fold_customer("\u200b#!") == "" and len(fold_customer("x " * 500)) <= 200


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
