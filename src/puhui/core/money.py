"""Money on `Decimal`: an amount with its currency, rounded to the fen by one documented rule.

Rounding rule: every *posted* amount (a schedule line, an accrual, a repayment, a journal posting) is
rounded once, to the currency's minor unit (CNY: 0.01, the fen), with ROUND_HALF_UP unless the product
overrides it (`Rounding`). Intermediate results (rates × days × balances) stay unrounded `Decimal`
until that posting. Floats are refused at the boundary: `Money("0.1")` or `Money(Decimal(...))`, never
`Money(0.1)`, because a binary float cannot carry a fen exactly.
"""

from __future__ import annotations

import decimal
from dataclasses import dataclass
from decimal import Decimal
from enum import StrEnum

from puhui.core.errors import ValidationError

Number = Decimal | int | str

#: minor unit of each supported currency (ISO 4217 exponent).
MINOR_UNIT: dict[str, Decimal] = {"CNY": Decimal("0.01"), "USD": Decimal("0.01"), "HKD": Decimal("0.01")}


class Rounding(StrEnum):
    """Rounding modes a product may choose; HALF_UP (四舍五入) is the default."""

    HALF_UP = decimal.ROUND_HALF_UP
    HALF_EVEN = decimal.ROUND_HALF_EVEN
    DOWN = decimal.ROUND_DOWN
    UP = decimal.ROUND_UP
    FLOOR = decimal.ROUND_FLOOR
    CEILING = decimal.ROUND_CEILING

    @classmethod
    def parse(cls, text: str) -> Rounding:
        """`half_up`, `HALF_UP` or `ROUND_HALF_UP` → `Rounding.HALF_UP`; anything else is a ValidationError."""
        if isinstance(text, Rounding):
            return text
        if not isinstance(text, str):
            raise ValidationError(
                f"rounding mode must be text, not {type(text).__name__}", code="unknown_rounding_mode", field="rounding"
            )
        key = text.strip().upper().removeprefix("ROUND_")
        try:
            return cls[key]
        except KeyError:
            raise ValidationError(
                f"unknown rounding mode {text!r}; use one of {[m.name.lower() for m in cls]}",
                code="unknown_rounding_mode",
                field="rounding",
            ) from None


DEFAULT_ROUNDING = Rounding.HALF_UP


def to_decimal(value: Number, *, field: str = "amount") -> Decimal:
    """Exact conversion to Decimal; floats, NaN and infinities are refused with a ValidationError."""
    if isinstance(value, (bool, float)):
        raise ValidationError(
            f"{field}: pass money and rates as str, int or Decimal, not {type(value).__name__}",
            code="float_not_allowed",
            field=field,
        )
    try:
        d = value if isinstance(value, Decimal) else Decimal(str(value).strip())
    except decimal.InvalidOperation:
        raise ValidationError(f"{field}: {value!r} is not a number", code="not_a_number", field=field) from None
    if not d.is_finite():
        raise ValidationError(f"{field}: {value!r} is not finite", code="not_a_number", field=field)
    return d


def quantize(value: Decimal, currency: str = "CNY", rounding: Rounding = DEFAULT_ROUNDING) -> Decimal:
    """Round a Decimal to the currency's minor unit with the given rule (never a negative zero)."""
    try:
        q = value.quantize(MINOR_UNIT[currency], rounding=rounding.value)
    except decimal.InvalidOperation:
        raise ValidationError(
            f"amount {value} is too large to hold at the minor unit", code="amount_out_of_range", field="amount"
        ) from None
    return q.copy_abs() if q.is_zero() else q


@dataclass(frozen=True, slots=True)
class Money:
    """An amount in a currency, always held at the currency's minor unit (CNY: the fen)."""

    amount: Decimal
    currency: str = "CNY"

    def __init__(self, amount: Number, currency: str = "CNY", rounding: Rounding = DEFAULT_ROUNDING) -> None:
        if currency not in MINOR_UNIT:
            raise ValidationError(f"unsupported currency {currency!r}", code="unknown_currency", field="currency")
        object.__setattr__(self, "amount", quantize(to_decimal(amount), currency, rounding))
        object.__setattr__(self, "currency", currency)

    @classmethod
    def zero(cls, currency: str = "CNY") -> Money:
        return cls(0, currency)

    @classmethod
    def from_fen(cls, fen: int, currency: str = "CNY") -> Money:
        """From an integer count of minor units (分)."""
        if isinstance(fen, bool) or not isinstance(fen, int):
            raise ValidationError(
                f"fen must be an int count of minor units, not {type(fen).__name__}",
                code="not_integer_fen",
                field="fen",
            )
        return cls(Decimal(fen) * MINOR_UNIT[currency], currency)

    @property
    def fen(self) -> int:
        """The amount as an integer count of minor units (分)."""
        return int(self.amount / MINOR_UNIT[self.currency])

    def _same(self, other: Money) -> None:
        if not isinstance(other, Money):
            raise TypeError(f"cannot combine Money with {type(other).__name__}")
        if other.currency != self.currency:
            raise ValidationError(f"currency mismatch: {self.currency} vs {other.currency}", code="currency_mismatch")

    # Ordering only within one currency: CNY 1 < USD 2 is a question without an answer.
    def __lt__(self, other: Money) -> bool:
        if not isinstance(other, Money):
            return NotImplemented
        self._same(other)
        return self.amount < other.amount

    def __le__(self, other: Money) -> bool:
        if not isinstance(other, Money):
            return NotImplemented
        self._same(other)
        return self.amount <= other.amount

    def __gt__(self, other: Money) -> bool:
        if not isinstance(other, Money):
            return NotImplemented
        self._same(other)
        return self.amount > other.amount

    def __ge__(self, other: Money) -> bool:
        if not isinstance(other, Money):
            return NotImplemented
        self._same(other)
        return self.amount >= other.amount

    def __add__(self, other: Money) -> Money:
        self._same(other)
        return Money(self.amount + other.amount, self.currency)

    def __sub__(self, other: Money) -> Money:
        self._same(other)
        return Money(self.amount - other.amount, self.currency)

    def __neg__(self) -> Money:
        return Money(-self.amount, self.currency)

    def __abs__(self) -> Money:
        return Money(abs(self.amount), self.currency)

    def times(self, factor: Number, rounding: Rounding = DEFAULT_ROUNDING) -> Money:
        """Multiply by an exact factor (a rate × days, a share) and round once to the fen."""
        return Money(self.amount * to_decimal(factor, field="factor"), self.currency, rounding)

    def allocate(self, weights: list[Number]) -> list[Money]:
        """Split into parts proportional to `weights` that sum exactly to self (largest remainder)."""
        ws = [to_decimal(w, field="weight") for w in weights]
        if not ws or any(w < 0 for w in ws) or sum(ws) == 0:
            raise ValidationError("allocate needs non-negative weights with a positive sum", code="bad_weights")
        total_fen, total_w = self.fen, sum(ws)
        raw = [Decimal(total_fen) * w / total_w for w in ws]
        base = [int(r.to_integral_value(rounding=decimal.ROUND_FLOOR)) for r in raw]
        order = sorted(range(len(ws)), key=lambda i: raw[i] - base[i], reverse=True)
        for i in order[: total_fen - sum(base)]:
            base[i] += 1
        return [Money.from_fen(b, self.currency) for b in base]

    def is_zero(self) -> bool:
        return self.amount == 0

    def is_negative(self) -> bool:
        return self.amount < 0

    def __str__(self) -> str:
        return f"{self.currency} {self.amount:,.2f}"

    def __repr__(self) -> str:
        return f"Money('{self.amount}', '{self.currency}')"
