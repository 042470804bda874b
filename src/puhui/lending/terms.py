"""Loan terms (贷款要素): the settings a schedule, an accrual and a prepayment are computed from.

`LoanTerms` is one frozen value: principal, 年利率, term in months, repayment method (还款方式), day count,
rounding mode, "instalment in multiples of", start (value) date, repayment day, holiday roll rule and
calendar, and the interest basis. Every field is checked once, here, and normalised (text from a form or
the CLI becomes `Money`, `AnnualRate`, enums, dates), so code downstream never sees a float or an unknown
code. Regulation numbers are not here (they come from `puhui.core.regulatory`); these are contract and
product settings.

Interest basis (which convention each method uses by default — see `InterestBasis`):

* 等额本息 EQUAL_INSTALMENT and 等额本金 EQUAL_PRINCIPAL: **MONTHLY** — a regular monthly period bears
  balance × r with r = 年利率 / 12 (cn_domain §1.10; Fineract "SAME_AS_REPAYMENT_PERIOD"; Frappe's
  `rate / (12 × 100)`), whatever the number of calendar days. This is what Chinese bank calculators print.
* 按月付息到期还本 INTEREST_ONLY, single BULLET and 随借随还 REVOLVING: **DAILY** — balance × 年利率 × day-count
  fraction over the actual days of the period (ACT/360 by default, 日利率 = 年利率 / 360; 算头不算尾).
  REVOLVING can only be DAILY: interest there is charged on the drawn balance day by day.

A product may override the basis for the two amortising methods (MONTHLY ↔ DAILY). An irregular period
(only the first one, when a fixed `repayment_day` differs from the start day) is always charged DAILY.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from enum import StrEnum
from typing import Any

from puhui.core.calendar import CN_CALENDAR, ChinaCalendar, RollRule
from puhui.core.dates import parse_date
from puhui.core.daycount import DayCount
from puhui.core.errors import ValidationError
from puhui.core.money import DEFAULT_ROUNDING, MINOR_UNIT, Money, Rounding, to_decimal
from puhui.core.rates import AnnualRate

#: Longest term accepted, in months (50 years): beyond it a "term" is almost surely a unit mistake.
MAX_TERM_MONTHS = 600


class RepaymentMethod(StrEnum):
    """还款方式: how principal and interest fall due."""

    EQUAL_INSTALMENT = "equal_instalment"
    """等额本息: the same instalment every month, M = P·r·(1+r)^n / ((1+r)^n − 1)."""
    EQUAL_PRINCIPAL = "equal_principal"
    """等额本金: the same principal every month (P / n) plus interest on the balance."""
    INTEREST_ONLY = "interest_only"
    """按月付息、到期还本 (先息后本): interest every month, all principal at maturity."""
    REVOLVING = "revolving"
    """随借随还: daily interest on the drawn balance, settled on a set day each month; principal at the
    drawdown's maturity or any time before, without a prepayment fee."""
    BULLET = "bullet"
    """到期一次还本付息 (利随本清): principal and all interest in one payment at maturity."""

    def __str__(self) -> str:
        return self.value

    @property
    def chinese(self) -> str:
        return _CHINESE[self]

    @property
    def amortising(self) -> bool:
        """True when principal is repaid over the periods (等额本息, 等额本金)."""
        return self in (RepaymentMethod.EQUAL_INSTALMENT, RepaymentMethod.EQUAL_PRINCIPAL)

    @classmethod
    def parse(cls, text: str | RepaymentMethod) -> RepaymentMethod:
        """`equal_instalment`, `EMI`, `等额本息`, `先息后本`, `随借随还`, `利随本清` …; unknown → ValidationError."""
        if isinstance(text, RepaymentMethod):
            return text
        if not isinstance(text, str):
            raise ValidationError(
                f"repayment method must be text, not {type(text).__name__}",
                code="unknown_repayment_method", field="method",
            )
        key = text.strip().lower().replace("-", "_").replace(" ", "_")
        try:
            return _ALIASES[key]
        except KeyError:
            raise ValidationError(
                f"unknown repayment method {text!r}; use one of {[m.value for m in cls]} "
                f"(or 等额本息, 等额本金, 按月付息到期还本, 随借随还, 到期一次还本付息)",
                code="unknown_repayment_method", field="method",
            ) from None


_CHINESE = {
    RepaymentMethod.EQUAL_INSTALMENT: "等额本息",
    RepaymentMethod.EQUAL_PRINCIPAL: "等额本金",
    RepaymentMethod.INTEREST_ONLY: "按月付息到期还本",
    RepaymentMethod.REVOLVING: "随借随还",
    RepaymentMethod.BULLET: "到期一次还本付息",
}

_ALIASES: dict[str, RepaymentMethod] = {
    **{m.value: m for m in RepaymentMethod},
    **{m.name.lower(): m for m in RepaymentMethod},
    **{v: k for k, v in _CHINESE.items()},
    "equal_installment": RepaymentMethod.EQUAL_INSTALMENT,
    "equal_installments": RepaymentMethod.EQUAL_INSTALMENT,
    "equal_instalments": RepaymentMethod.EQUAL_INSTALMENT,
    "emi": RepaymentMethod.EQUAL_INSTALMENT,
    "annuity": RepaymentMethod.EQUAL_INSTALMENT,
    "french": RepaymentMethod.EQUAL_INSTALMENT,
    "linear": RepaymentMethod.EQUAL_PRINCIPAL,
    "先息后本": RepaymentMethod.INTEREST_ONLY,
    "按月付息": RepaymentMethod.INTEREST_ONLY,
    "按月付息、到期还本": RepaymentMethod.INTEREST_ONLY,
    "line_of_credit": RepaymentMethod.REVOLVING,
    "loc": RepaymentMethod.REVOLVING,
    "利随本清": RepaymentMethod.BULLET,
    "一次还本付息": RepaymentMethod.BULLET,
}


class InterestBasis(StrEnum):
    """How a period's interest is computed (计息方式)."""

    MONTHLY = "monthly"
    """按月计息: a regular monthly period bears balance × 年利率 / 12."""
    DAILY = "daily"
    """按日计息 (积数): balance × 年利率 × day-count fraction of the period's actual days."""

    def __str__(self) -> str:
        return self.value

    @classmethod
    def parse(cls, text: str | InterestBasis) -> InterestBasis:
        if isinstance(text, InterestBasis):
            return text
        try:
            return cls(str(text).strip().lower())
        except ValueError:
            raise ValidationError(
                f"unknown interest basis {text!r}; use monthly or daily",
                code="unknown_interest_basis", field="interest_basis",
            ) from None


#: The default interest basis of each method (see the module docstring for the sources).
DEFAULT_BASIS: dict[RepaymentMethod, InterestBasis] = {
    RepaymentMethod.EQUAL_INSTALMENT: InterestBasis.MONTHLY,
    RepaymentMethod.EQUAL_PRINCIPAL: InterestBasis.MONTHLY,
    RepaymentMethod.INTEREST_ONLY: InterestBasis.DAILY,
    RepaymentMethod.REVOLVING: InterestBasis.DAILY,
    RepaymentMethod.BULLET: InterestBasis.DAILY,
}


def _int(value: Any, name: str, code: str) -> int:
    if isinstance(value, bool):
        raise ValidationError(f"{name}: expected a whole number, got {value!r}", code=code, field=name)
    if isinstance(value, int):
        return value
    if isinstance(value, str) and value.strip().lstrip("+").isdigit():
        return int(value)
    raise ValidationError(f"{name}: expected a whole number, got {value!r}", code=code, field=name)


@dataclass(frozen=True)
class LoanTerms:
    """The terms of one loan or drawdown (贷款要素). Fields accept text and are normalised on creation.

    - `principal`: amount lent (本金), > 0.
    - `annual_rate`: contract 年利率 as a fraction (`"0.0435"`, `"4.35%"`, `AnnualRate`); never a float.
    - `term_months`: 1 … 600 months. Maturity = `add_months(start, term_months)` (民法典 Art 202).
    - `method`: `RepaymentMethod` (or its text/Chinese name).
    - `start`: value date (起息日): the day the money is lent.
    - `day_count`: ACT/360 default (日利率 = 年利率/360), ACT/365F, ACT/ACT, 30/360 (`DayCount.parse`).
    - `rounding`: the product's rounding mode for every posted line (HALF_UP, 四舍五入, by default).
    - `multiples_of`: "instalment in multiples of" — the level amount (等额本息: the instalment; 等额本金: the
      principal part) is rounded to this multiple with `rounding`; other methods have no level amount
      and ignore it. A multiple of the fen, > 0. None = the fen.
    - `repayment_day`: fixed 还款日 / 结息日 (1–31; 31 means month end). None = the start's day of month.
    - `roll`: how a due date on a non-working day moves (FOLLOWING by default: 民法典 Art 203).
    - `calendar`: the working-day calendar (`CN_CALENDAR`).
    - `interest_basis`: MONTHLY or DAILY; None = the method's default (`DEFAULT_BASIS`).
    - `accrue_to_rolled_date`: False (default) = interest runs between the *contractual* (unrolled) due
      dates and the roll only moves the payment day, so paying on the rolled day costs nothing extra
      (ISDA "unadjusted" accrual; the borrower is not charged for a holiday). True = interest runs to
      the rolled payment day ("adjusted"). Only DAILY periods are affected.
    """

    principal: Money
    annual_rate: AnnualRate
    term_months: int
    method: RepaymentMethod
    start: date
    day_count: DayCount = DayCount.ACT_360
    rounding: Rounding = DEFAULT_ROUNDING
    multiples_of: Decimal | None = None
    repayment_day: int | None = None
    roll: RollRule = RollRule.FOLLOWING
    calendar: ChinaCalendar = field(default=CN_CALENDAR, repr=False, compare=False)
    interest_basis: InterestBasis | None = None
    accrue_to_rolled_date: bool = False

    def __post_init__(self) -> None:
        s = object.__setattr__
        s(self, "principal", _money(self.principal))
        if self.principal.amount <= 0:
            raise ValidationError(
                f"principal must be positive, got {self.principal.amount}",
                code="non_positive_principal", field="principal",
            )
        s(self, "annual_rate", AnnualRate.of(self.annual_rate))
        term = _int(self.term_months, "term_months", "invalid_term")
        if not 1 <= term <= MAX_TERM_MONTHS:
            raise ValidationError(
                f"term_months must be 1–{MAX_TERM_MONTHS}, got {term}", code="invalid_term", field="term_months"
            )
        s(self, "term_months", term)
        s(self, "method", RepaymentMethod.parse(self.method))
        s(self, "start", parse_date(self.start, field="start"))
        s(self, "day_count", DayCount.parse(self.day_count))
        if not isinstance(self.rounding, Rounding):
            s(self, "rounding", Rounding.parse(str(self.rounding)))
        s(self, "multiples_of", self._multiple(self.multiples_of))
        if self.repayment_day is not None:
            day = _int(self.repayment_day, "repayment_day", "invalid_repayment_day")
            if not 1 <= day <= 31:
                raise ValidationError(
                    f"repayment_day must be 1–31, got {day}", code="invalid_repayment_day", field="repayment_day"
                )
            s(self, "repayment_day", day)
        s(self, "roll", RollRule.parse(self.roll))
        if not isinstance(self.calendar, ChinaCalendar):
            raise ValidationError("calendar must be a ChinaCalendar", code="invalid_calendar", field="calendar")
        basis = DEFAULT_BASIS[self.method] if self.interest_basis is None else InterestBasis.parse(
            self.interest_basis
        )
        if self.method is RepaymentMethod.REVOLVING and basis is not InterestBasis.DAILY:
            raise ValidationError(
                "随借随还 (revolving) charges interest day by day: interest_basis must be daily",
                code="invalid_interest_basis", field="interest_basis",
            )
        s(self, "interest_basis", basis)
        if not isinstance(self.accrue_to_rolled_date, bool):
            raise ValidationError(
                "accrue_to_rolled_date must be true or false", code="invalid_flag", field="accrue_to_rolled_date"
            )

    def _multiple(self, value: Any) -> Decimal | None:
        if value is None:
            return None
        m = to_decimal(value, field="multiples_of")
        unit = MINOR_UNIT[self.principal.currency]
        if m <= 0 or m % unit != 0:
            raise ValidationError(
                f"multiples_of must be a positive multiple of {unit}, got {m}",
                code="invalid_multiple", field="multiples_of",
            )
        return None if m == unit else m

    @property
    def currency(self) -> str:
        return self.principal.currency

    @property
    def basis(self) -> InterestBasis:
        """The resolved interest basis (never None after construction)."""
        assert self.interest_basis is not None
        return self.interest_basis

    def replace(self, **changes: Any) -> LoanTerms:
        """A copy with some fields changed (validated again)."""
        values = {f: getattr(self, f) for f in self.__dataclass_fields__}
        if "method" in changes and "interest_basis" not in changes:
            values["interest_basis"] = None
        values.update(changes)
        return LoanTerms(**values)


def _money(value: Any) -> Money:
    if isinstance(value, Money):
        return value
    amount = to_decimal(value, field="principal")
    if amount != amount.quantize(MINOR_UNIT["CNY"]):
        raise ValidationError(
            f"principal {amount} has fractions of a fen; amounts are in yuan with at most 2 decimals",
            code="sub_fen_amount", field="principal",
        )
    return Money(amount)
