"""Day-count conventions (计息基准): how many days a period has and what fraction of a year it is.

Definitions follow the 2006 ISDA Definitions §4.16:

- `ACT/360` (§4.16(e)): actual days / 360 — the CNY lending default, 日利率 = 年利率 / 360.
- `ACT/365F` (§4.16(d)): actual days / 365, leap years included.
- `ACT/ACT` (§4.16(b), "Actual/Actual (ISDA)"): days falling in a leap year / 366 + days falling in a
  non-leap year / 365.
- `30/360` (§4.16(f), "360/360", "Bond Basis"): [360·(Y2−Y1) + 30·(M2−M1) + (D2−D1)] / 360, where D1 = 31
  becomes 30, and D2 = 31 becomes 30 only if D1 (after that change) is 30. There is **no end-of-February
  rule**: this is ISDA's Bond Basis, not the SIA "30/360 US" with its February adjustments. Vectors:
  ISDA, "30/360 Day Count Conventions" (2008-12-22), Bond Basis examples.
- `30E/360` (§4.16(g), "Eurobond Basis"): as 30/360, but any D1 or D2 of 31 becomes 30.

Days are counted 算头不算尾: the start date is counted, the end date (maturity, repayment day) is not, so
the actual days of [start, end) are `end - start`. Fractions are exact (`fractions.Fraction`) and
`year_fraction`/`interest` convert to Decimal once, at 34 significant digits, unrounded; rounding to the
fen happens at posting (`Money`). "ACT/365" alone is refused as ambiguous (ISDA once used it for
Actual/Actual; Chinese practice usually means ACT/365F): say which.
"""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from enum import StrEnum
from fractions import Fraction

from puhui.core.errors import ValidationError
from puhui.core.money import Money, Number, to_decimal
from puhui.core.rates import RATE_CONTEXT, AnnualRate

_ALIASES: dict[str, str] = {
    # ACT/360
    "ACT/360": "ACT/360",
    "A/360": "ACT/360",
    "ACT360": "ACT/360",
    "FRENCH": "ACT/360",
    # ACT/365F
    "ACT/365F": "ACT/365F",
    "ACT/365FIXED": "ACT/365F",
    "ACT/365(FIXED)": "ACT/365F",
    "A/365F": "ACT/365F",
    "A/365(FIXED)": "ACT/365F",
    "ACT365F": "ACT/365F",
    "ENGLISH": "ACT/365F",
    # ACT/ACT (ISDA)
    "ACT/ACT": "ACT/ACT",
    "ACT/ACT(ISDA)": "ACT/ACT",
    "ACT/ACTISDA": "ACT/ACT",
    "A/A": "ACT/ACT",
    "ACTACT": "ACT/ACT",
    # 30/360 Bond Basis
    "30/360": "30/360",
    "360/360": "30/360",
    "BONDBASIS": "30/360",
    "30/360(BONDBASIS)": "30/360",
    "THIRTY/360": "30/360",
    "30360": "30/360",
    # 30E/360 Eurobond Basis
    "30E/360": "30E/360",
    "EUROBONDBASIS": "30E/360",
    "30E/360(EUROBONDBASIS)": "30E/360",
    "THIRTY/E/360": "30E/360",
}

_AMBIGUOUS = {"ACT/365", "A/365", "ACT365"}


def _as_date(d: date, field: str) -> date:
    if isinstance(d, datetime):
        return d.date()
    if not isinstance(d, date):
        raise ValidationError(f"{field}: expected a date, got {type(d).__name__}", code="invalid_date", field=field)
    return d


def _period(start: date, end: date) -> tuple[date, date]:
    s, e = _as_date(start, "start"), _as_date(end, "end")
    if e < s:
        raise ValidationError(
            f"period end {e} is before its start {s}", code="invalid_period", start=s.isoformat(), end=e.isoformat()
        )
    return s, e


def _is_leap(year: int) -> bool:
    return year % 4 == 0 and (year % 100 != 0 or year % 400 == 0)


class DayCount(StrEnum):
    """A day-count convention; the value is its market name ("ACT/360")."""

    ACT_360 = "ACT/360"
    ACT_365F = "ACT/365F"
    ACT_ACT = "ACT/ACT"
    THIRTY_360 = "30/360"
    THIRTY_E_360 = "30E/360"

    @classmethod
    def parse(cls, text: str | DayCount) -> DayCount:
        """`"act/360"`, `"ACT_360"`, `"Actual/365 Fixed"`, `"30/360"`, `"Bond Basis"` …; unknown → ValidationError."""
        if isinstance(text, DayCount):
            return text
        if not isinstance(text, str):
            raise ValidationError(
                f"day count must be text, not {type(text).__name__}", code="unknown_day_count", field="day_count"
            )
        upper = text.strip().upper()
        if upper in cls.__members__:
            return cls[upper]
        key = upper.replace(" ", "").replace("_", "/").replace("-", "/").replace("ACTUAL", "ACT")
        if key in _AMBIGUOUS:
            raise ValidationError(
                f"day count {text!r} is ambiguous: say ACT/365F (fixed 365) or ACT/ACT (ISDA)",
                code="unknown_day_count",
                field="day_count",
            )
        try:
            return cls(_ALIASES[key])
        except KeyError:
            raise ValidationError(
                f"unknown day count {text!r}; use one of {[m.value for m in cls]}",
                code="unknown_day_count",
                field="day_count",
            ) from None

    @property
    def basis(self) -> int | None:
        """The fixed denominator (360 or 365), or None for ACT/ACT whose denominator depends on the year."""
        return {"ACT/365F": 365, "ACT/ACT": None}.get(self.value, 360)

    def days(self, start: date, end: date) -> int:
        """Days in [start, end) under this convention (算头不算尾); actual days for the ACT family."""
        s, e = _period(start, end)
        if self in (DayCount.THIRTY_360, DayCount.THIRTY_E_360):
            return _thirty_days(s, e, euro=self is DayCount.THIRTY_E_360)
        return (e - s).days

    def fraction(self, start: date, end: date) -> Fraction:
        """The exact year fraction of [start, end) as a `Fraction`."""
        s, e = _period(start, end)
        if self is DayCount.ACT_ACT:
            total = Fraction(0)
            cursor = s
            while cursor < e:
                boundary = min(date(cursor.year + 1, 1, 1), e)
                total += Fraction((boundary - cursor).days, 366 if _is_leap(cursor.year) else 365)
                cursor = boundary
            return total
        basis = 365 if self is DayCount.ACT_365F else 360
        return Fraction(self.days(s, e), basis)

    def year_fraction(self, start: date, end: date) -> Decimal:
        """The year fraction as a Decimal (34 significant digits, unrounded otherwise)."""
        f = self.fraction(start, end)
        return RATE_CONTEXT.divide(Decimal(f.numerator), Decimal(f.denominator))

    def interest(self, principal: Number | Money, rate: AnnualRate | Number, start: date, end: date) -> Decimal:
        """principal × annual rate × year fraction, unrounded (one division at the end)."""
        p = principal.amount if isinstance(principal, Money) else to_decimal(principal, field="principal")
        r = AnnualRate.of(rate).value
        f = self.fraction(start, end)
        numerator = RATE_CONTEXT.multiply(RATE_CONTEXT.multiply(p, r), Decimal(f.numerator))
        return RATE_CONTEXT.divide(numerator, Decimal(f.denominator))


def _thirty_days(s: date, e: date, *, euro: bool) -> int:
    d1, d2 = s.day, e.day
    if d1 == 31:
        d1 = 30
    if d2 == 31 and (euro or d1 == 30):
        d2 = 30
    return 360 * (e.year - s.year) + 30 * (e.month - s.month) + (d2 - d1)
