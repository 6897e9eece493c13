"""Money for amends: exact amounts in ISO currencies, percentages, and reading what a person typed."""

from __future__ import annotations

import re
from decimal import Decimal, InvalidOperation

from pydantic import BaseModel, ConfigDict

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
