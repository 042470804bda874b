"""Interest rates as exact Decimals: annual, monthly and daily rates and their conversions.

The People's Bank convention (人民币利率管理规定, 1999) converts **日利率 = 年利率 / 360 = 月利率 / 30** and
**月利率 = 年利率 / 12**; an `AnnualRate` is the anchor and the others derive from it. Rates are held as
plain fractions (`Decimal("0.0345")` is 3.45%), never floats, and are **not rounded**: a daily rate keeps
the full precision of `RATE_CONTEXT` (34 significant digits), so accruals round only once, at posting,
in `Money`. Negative rates and rates above 100% a year are refused: the first never occur in CNY
lending, the second almost always mean a percent was passed where a fraction was expected (use
`AnnualRate.from_percent("3.45")` or `AnnualRate.of("3.45%")`).
"""

from __future__ import annotations

import decimal
from dataclasses import dataclass
from decimal import Decimal

from puhui.core.errors import ValidationError
from puhui.core.money import Number, to_decimal

#: Decimal context for rate arithmetic, independent of the caller's thread context.
RATE_CONTEXT = decimal.Context(prec=34, rounding=decimal.ROUND_HALF_EVEN)

_HUNDRED = Decimal(100)
_BP = Decimal(10000)
_MAX_ANNUAL = Decimal(1)


def _rate_value(x: Number, field: str) -> Decimal:
    if isinstance(x, str):
        text = x.strip()
        if text.endswith("%"):
            return RATE_CONTEXT.divide(to_decimal(text[:-1], field=field), _HUNDRED)
        return to_decimal(text, field=field)
    return to_decimal(x, field=field)


def _check_range(value: Decimal, field: str, upper: Decimal) -> None:
    if value < 0:
        raise ValidationError(f"{field}: rate {value} is negative", code="negative_rate", field=field)
    if value > upper:
        raise ValidationError(
            f"{field}: rate {value} exceeds {upper}; pass 3.45% as Decimal('0.0345'), '3.45%' or from_percent",
            code="rate_out_of_range",
            field=field,
        )


@dataclass(frozen=True, order=True)
class AnnualRate:
    """年利率 as a fraction: `AnnualRate(Decimal("0.0345"))` is 3.45% a year."""

    value: Decimal

    def __post_init__(self) -> None:
        value = to_decimal(self.value, field="rate")
        _check_range(value, "rate", _MAX_ANNUAL)
        object.__setattr__(self, "value", value)

    @classmethod
    def of(cls, x: Number | AnnualRate) -> AnnualRate:
        """From a fraction (`"0.0345"`, `Decimal`, `0`) or a percent string (`"3.45%"`)."""
        if isinstance(x, AnnualRate):
            return x
        return cls(_rate_value(x, "rate"))

    @classmethod
    def from_percent(cls, x: Number) -> AnnualRate:
        """From a percent: `from_percent("3.45")` is 3.45% a year."""
        return cls(RATE_CONTEXT.divide(to_decimal(x, field="rate"), _HUNDRED))

    @classmethod
    def from_monthly(cls, monthly: Number) -> AnnualRate:
        """From a 月利率 fraction (× 12)."""
        return cls(RATE_CONTEXT.multiply(to_decimal(monthly, field="monthly_rate"), Decimal(12)))

    @classmethod
    def from_daily(cls, daily: Number, basis: int = 360) -> AnnualRate:
        """From a 日利率 fraction (× 360 by default): 日息万分之二 = `from_daily("0.0002")` = 7.2%."""
        return cls(RATE_CONTEXT.multiply(to_decimal(daily, field="daily_rate"), Decimal(_basis(basis))))

    @property
    def percent(self) -> Decimal:
        """The rate in percent (`Decimal("3.45")` for 3.45%)."""
        return _plain(RATE_CONTEXT.multiply(self.value, _HUNDRED))

    def daily(self, basis: int = 360) -> Decimal:
        """日利率 = 年利率 / basis (360 by the PBoC convention), unrounded."""
        return RATE_CONTEXT.divide(self.value, Decimal(_basis(basis)))

    def monthly(self) -> Decimal:
        """月利率 = 年利率 / 12, unrounded."""
        return RATE_CONTEXT.divide(self.value, Decimal(12))

    def daily_rate(self, basis: int = 360) -> DailyRate:
        return DailyRate(self.daily(basis))

    def monthly_rate(self) -> MonthlyRate:
        return MonthlyRate(self.monthly())

    def plus_bp(self, bp: int) -> AnnualRate:
        """Add basis points (1 bp = 0.01%): LPR + spread. Negative bp lowers the rate (never below 0)."""
        if isinstance(bp, bool) or not isinstance(bp, int):
            raise ValidationError(f"bp must be an int, not {type(bp).__name__}", code="invalid_bp", field="bp")
        return AnnualRate(RATE_CONTEXT.add(self.value, RATE_CONTEXT.divide(Decimal(bp), _BP)))

    def scaled(self, factor: Number) -> AnnualRate:
        """Multiply by an exact factor: the 罚息 rate is `contract.scaled("1.5")` (银发〔2003〕251号)."""
        return AnnualRate(RATE_CONTEXT.multiply(self.value, to_decimal(factor, field="factor")))

    def is_zero(self) -> bool:
        return self.value == 0

    def __str__(self) -> str:
        return f"{self.percent}%"


@dataclass(frozen=True, order=True)
class MonthlyRate:
    """月利率 as a fraction. Chinese contracts often quote it in ‰ (厘): 月息 5‰ = `from_permille("5")`."""

    value: Decimal

    def __post_init__(self) -> None:
        value = to_decimal(self.value, field="monthly_rate")
        _check_range(value, "monthly_rate", RATE_CONTEXT.divide(_MAX_ANNUAL, Decimal(12)))
        object.__setattr__(self, "value", value)

    @classmethod
    def from_permille(cls, x: Number) -> MonthlyRate:
        return cls(RATE_CONTEXT.divide(to_decimal(x, field="monthly_rate"), Decimal(1000)))

    def annual(self) -> AnnualRate:
        """年利率 = 月利率 × 12."""
        return AnnualRate(RATE_CONTEXT.multiply(self.value, Decimal(12)))

    def daily(self) -> Decimal:
        """日利率 = 月利率 / 30."""
        return RATE_CONTEXT.divide(self.value, Decimal(30))


@dataclass(frozen=True, order=True)
class DailyRate:
    """日利率 as a fraction. Often quoted in ‱ (万分之): 日息万分之二 = `from_per_myriad("2")`."""

    value: Decimal

    def __post_init__(self) -> None:
        value = to_decimal(self.value, field="daily_rate")
        _check_range(value, "daily_rate", RATE_CONTEXT.divide(_MAX_ANNUAL, Decimal(360)))
        object.__setattr__(self, "value", value)

    @classmethod
    def from_per_myriad(cls, x: Number) -> DailyRate:
        return cls(RATE_CONTEXT.divide(to_decimal(x, field="daily_rate"), _BP))

    def annual(self, basis: int = 360) -> AnnualRate:
        """年利率 = 日利率 × basis (360)."""
        return AnnualRate(RATE_CONTEXT.multiply(self.value, Decimal(_basis(basis))))

    def monthly(self) -> Decimal:
        """月利率 = 日利率 × 30."""
        return RATE_CONTEXT.multiply(self.value, Decimal(30))


def _plain(d: Decimal) -> Decimal:
    """Drop trailing zeros without switching to exponent notation (3.4500 → 3.45, 100 stays 100)."""
    n = d.normalize(RATE_CONTEXT)
    return n.quantize(Decimal(1)) if n.as_tuple().exponent > 0 else n  # type: ignore[operator]


def _basis(basis: int) -> int:
    if isinstance(basis, bool) or not isinstance(basis, int) or basis <= 0:
        raise ValidationError(
            f"day basis must be a positive int such as 360 or 365, not {basis!r}", code="invalid_basis"
        )
    return basis
