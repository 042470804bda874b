"""Interest accrual (计提): daily interest on balances (积数计息), penalty and compound interest, suspense.

What a loan earns between two dates, computed so that end-of-day can post it day by day, or catch up
many days at once, and get the same fen:

* `InterestAccumulator` — 积数计息 on one balance that may change any day (随借随还 drawn balance,
  overdue principal, unpaid interest). It keeps the unrounded interest of closed balance segments and
  computes the open segment in one call of the day count, so `accrued(until)` does not depend on how
  often it was asked. `post(until)` returns round(accrued) − already posted: the daily postings of a
  period add up to the period's rounded interest exactly, and a catch-up equals day-by-day.
* `penalty_rate` — 罚息利率 = contract rate × (1 + uplift); the uplift is the dated regulatory default
  (`penalty_uplift`, +50%, 银发〔2003〕251号) or a product value inside the band
  (`penalty_uplift_min` … `penalty_uplift_max`, +30% … +50%).
* `penalty_interest` — 罚息 on overdue principal, and 复利 on overdue interest, both at the penalty rate
  (251号: 对不能按时支付的利息，按罚息利率计收复利). Penalty and compound interest themselves bear no
  further compound interest (no interest on interest-on-interest).
* `LoanAccrual` — the three accumulators of one loan (contract interest on principal not yet due; 罚息
  on overdue principal; 复利 on overdue interest) and the **suspense** rule: while the loan is more than
  `non_accrual_dpd` days past due (90, "超过" excludes the boundary), accrued interest goes to suspense
  (表外/挂账) instead of income — `AccrualPosting.suspense` says which.
* `days_past_due` — 逾期天数 from the oldest unpaid (rolled) due date: paying on the due date is on time,
  the next day is 1 dpd, and penalty days equal dpd (算头不算尾: overdue from the due date).
* `line_interest_accrued` — how much of a scheduled line's interest is earned by a date: by the day count
  for DAILY lines, and straight-line over the period's days for MONTHLY lines (按日摊销), so that either
  way the accrual reaches the line's interest exactly on its accrual end.

End-of-day usage: when an instalment is unpaid at the end of its due date D, `rebalance(D, …)` moves its
principal to `overdue_principal` and its interest to `overdue_interest`; 罚息 and 复利 then run from D.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal

from puhui.core.daycount import DayCount
from puhui.core.errors import PolicyViolation, ValidationError
from puhui.core.money import DEFAULT_ROUNDING, MINOR_UNIT, Money, Number, Rounding, to_decimal
from puhui.core.rates import RATE_CONTEXT, AnnualRate
from puhui.core.regulatory import REGULATORY, SettingsBook
from puhui.lending.schedule import Schedule, ScheduleLine, _money, period_interest, periods
from puhui.lending.terms import InterestBasis

_ZERO = Decimal(0)
_DAY = timedelta(days=1)


# ---- days past due, penalty rate, suspense -----------------------------------------------------------


def days_past_due(oldest_unpaid_due: date | None, on: date) -> int:
    """逾期天数 on `on`: days since the oldest unpaid (rolled) due date; 0 if none or not yet past."""
    if oldest_unpaid_due is None or on <= oldest_unpaid_due:
        return 0
    return (on - oldest_unpaid_due).days


def penalty_uplift(on: date, uplift: Number | None = None, *, settings: SettingsBook = REGULATORY) -> Decimal:
    """The 罚息 uplift in force: the product's `uplift` if inside the regulatory band, else the default."""
    if uplift is None:
        return settings.get("penalty_uplift", on)
    u = to_decimal(uplift, field="penalty_uplift")
    low, high = settings.get("penalty_uplift_min", on), settings.get("penalty_uplift_max", on)
    if not low <= u <= high:
        raise PolicyViolation(
            f"penalty uplift {u} is outside the band {low}–{high} in force on {on} (银发〔2003〕251号)",
            code="penalty_uplift_out_of_band", uplift=str(u), min=str(low), max=str(high),
        )
    return u


def penalty_rate(
    contract: AnnualRate, on: date, *, uplift: Number | None = None, settings: SettingsBook = REGULATORY
) -> AnnualRate:
    """罚息利率 = contract rate × (1 + uplift) (银发〔2003〕251号); uplift from `penalty_uplift`."""
    return contract.scaled(RATE_CONTEXT.add(Decimal(1), penalty_uplift(on, uplift, settings=settings)))


def is_non_accrual(dpd: int, on: date, *, settings: SettingsBook = REGULATORY) -> bool:
    """True when interest goes to suspense: more than `non_accrual_dpd` days past due ("超过": 90 → False)."""
    return dpd > int(settings.get("non_accrual_dpd", on))


def penalty_interest(
    amount: Money | Decimal,
    contract: AnnualRate,
    start: date,
    end: date,
    *,
    day_count: DayCount = DayCount.ACT_360,
    uplift: Number | None = None,
    settings: SettingsBook = REGULATORY,
) -> Decimal:
    """Unrounded 罚息 (on overdue principal) or 复利 (on overdue interest) over [start, end).

    amount × contract × (1 + uplift) × day-count fraction, the uplift read on `start`.
    """
    base = amount.amount if isinstance(amount, Money) else to_decimal(amount, field="amount")
    rate = penalty_rate(contract, start, uplift=uplift, settings=settings)
    return _interest(base, rate, day_count, start, end)


def _interest(balance: Decimal, rate: AnnualRate, day_count: DayCount, start: date, end: date) -> Decimal:
    if balance == 0 or rate.value == 0 or start == end:
        return _ZERO
    return day_count.interest(balance, rate, start, end)


# ---- 积数计息 --------------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class InterestAccumulator:
    """Interest on one balance that may change on any day (积数计息), posted without rounding drift.

    `since` starts the open segment, over which `balance` and `rate` are constant; `closed` is the
    unrounded interest of the segments before it and `closed_balance_days` their 积数 (Σ balance × days);
    `posted` is what has been posted so far (rounded). Dates are half-open: `accrued(until)` covers the
    days before `until` (算头不算尾).
    """

    rate: AnnualRate
    day_count: DayCount
    balance: Decimal
    since: date
    closed: Decimal = _ZERO
    closed_balance_days: Decimal = _ZERO
    posted: Decimal = _ZERO

    @classmethod
    def open(
        cls, balance: Money | Decimal, rate: AnnualRate, on: date, day_count: DayCount = DayCount.ACT_360
    ) -> InterestAccumulator:
        b = balance.amount if isinstance(balance, Money) else to_decimal(balance, field="balance")
        if b < 0:
            raise ValidationError(f"balance must not be negative, got {b}", code="negative_amount", field="balance")
        return cls(AnnualRate.of(rate), DayCount.parse(day_count), b, on)

    def _check(self, until: date) -> None:
        if until < self.since:
            raise ValidationError(
                f"cannot accrue to {until}: the accumulator is already at {self.since}",
                code="accrual_date_in_past", until=until.isoformat(), since=self.since.isoformat(),
            )

    def accrued(self, until: date) -> Decimal:
        """Unrounded interest from the first segment's start to `until` (exclusive)."""
        self._check(until)
        return self.closed + _interest(self.balance, self.rate, self.day_count, self.since, until)

    def balance_days(self, until: date) -> Decimal:
        """积数: Σ balance × actual days up to `until` (the base Chinese banks quote interest on)."""
        self._check(until)
        return self.closed_balance_days + self.balance * (until - self.since).days

    def _close(self, on: date) -> tuple[Decimal, Decimal]:
        return self.accrued(on), self.balance_days(on)

    def rebalance(self, on: date, balance: Money | Decimal) -> InterestAccumulator:
        """The balance is `balance` from `on` (a drawdown, a repayment, an amount falling overdue)."""
        b = balance.amount if isinstance(balance, Money) else to_decimal(balance, field="balance")
        if b < 0:
            raise ValidationError(f"balance must not be negative, got {b}", code="negative_amount", field="balance")
        closed, days = self._close(on)
        return InterestAccumulator(self.rate, self.day_count, b, on, closed, days, self.posted)

    def reprice(self, on: date, rate: AnnualRate) -> InterestAccumulator:
        """The rate is `rate` from `on` (LPR repricing of a floating loan)."""
        closed, days = self._close(on)
        return InterestAccumulator(AnnualRate.of(rate), self.day_count, self.balance, on, closed, days, self.posted)

    def post(self, until: date, rounding: Rounding = DEFAULT_ROUNDING, currency: str = "CNY"
             ) -> tuple[InterestAccumulator, Decimal]:
        """Rounded interest to post for the days up to `until`: round(accrued(until)) − posted."""
        total = self.accrued(until).quantize(MINOR_UNIT[currency], rounding=rounding.value)
        delta = total - self.posted
        return (
            InterestAccumulator(self.rate, self.day_count, self.balance, self.since, self.closed,
                                self.closed_balance_days, total),
            delta,
        )

    def settle(self, on: date, rounding: Rounding = DEFAULT_ROUNDING, currency: str = "CNY"
               ) -> tuple[InterestAccumulator, Decimal, Decimal]:
        """结息 on `on`: (fresh accumulator from `on`, interest settled, part of it not yet posted).

        The settled amount is round(accrued(on)); post the third value first if the accrual had not
        reached `on`. The new accumulator carries the same balance and rate with nothing accrued.
        """
        total = self.accrued(on).quantize(MINOR_UNIT[currency], rounding=rounding.value)
        return InterestAccumulator(self.rate, self.day_count, self.balance, on), total, total - self.posted


# ---- one loan ------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class LoanBalances:
    """The interest-bearing balances of a loan on a day."""

    principal: Money
    """正常本金: principal not yet due — bears contract interest."""
    overdue_principal: Money
    """逾期本金 — bears 罚息 at the penalty rate."""
    overdue_interest: Money
    """欠息: contract interest past due and unpaid — bears 复利 at the penalty rate."""


@dataclass(frozen=True)
class AccrualPosting:
    """What to post for the days up to `until`: each amount rounded, income or suspense."""

    until: date
    interest: Money
    penalty: Money
    compound: Money
    dpd: int
    suspense: bool
    """True: the loan is more than `non_accrual_dpd` days past due — post to suspense, not income."""

    @property
    def total(self) -> Money:
        return self.interest + self.penalty + self.compound


@dataclass(frozen=True)
class LoanAccrual:
    """The accrual state of one loan: contract interest, 罚息 and 复利 accumulators."""

    interest: InterestAccumulator
    penalty: InterestAccumulator
    compound: InterestAccumulator
    rounding: Rounding = DEFAULT_ROUNDING
    currency: str = "CNY"

    @classmethod
    def open(
        cls,
        balances: LoanBalances,
        *,
        on: date,
        rate: AnnualRate,
        day_count: DayCount = DayCount.ACT_360,
        uplift: Number | None = None,
        rounding: Rounding = DEFAULT_ROUNDING,
        settings: SettingsBook = REGULATORY,
    ) -> LoanAccrual:
        """Start accruing on `on`; the penalty rate is fixed from the uplift in force that day."""
        rate = AnnualRate.of(rate)
        prate = penalty_rate(rate, on, uplift=uplift, settings=settings)
        return cls(
            InterestAccumulator.open(balances.principal, rate, on, day_count),
            InterestAccumulator.open(balances.overdue_principal, prate, on, day_count),
            InterestAccumulator.open(balances.overdue_interest, prate, on, day_count),
            rounding,
            balances.principal.currency,
        )

    def rebalance(self, on: date, balances: LoanBalances) -> LoanAccrual:
        """New balances from `on` (a repayment, an instalment falling overdue, a drawdown)."""
        return LoanAccrual(
            self.interest.rebalance(on, balances.principal),
            self.penalty.rebalance(on, balances.overdue_principal),
            self.compound.rebalance(on, balances.overdue_interest),
            self.rounding,
            self.currency,
        )

    def accrue(self, until: date, *, dpd: int, settings: SettingsBook = REGULATORY
               ) -> tuple[LoanAccrual, AccrualPosting]:
        """Post everything accrued before `until`; `dpd` is the loan's days past due on the last such day."""
        interest, i = self.interest.post(until, self.rounding, self.currency)
        penalty, p = self.penalty.post(until, self.rounding, self.currency)
        compound, c = self.compound.post(until, self.rounding, self.currency)
        cur = self.currency
        posting = AccrualPosting(
            until, _money(i, cur), _money(p, cur), _money(c, cur), dpd,
            is_non_accrual(dpd, until - _DAY, settings=settings),
        )
        return LoanAccrual(interest, penalty, compound, self.rounding, cur), posting

    def accrue_day(self, day: date, *, dpd: int, settings: SettingsBook = REGULATORY
                   ) -> tuple[LoanAccrual, AccrualPosting]:
        """End-of-day for business date `day`: accrue the day [day, day + 1)."""
        return self.accrue(day + _DAY, dpd=dpd, settings=settings)


# ---- scheduled loans --------------------------------------------------------------------------------------


def line_interest_accrued(schedule: Schedule, line: ScheduleLine, until: date) -> Decimal:
    """Interest of `line` earned before `until` (unrounded); equals `line.interest` from its accrual end on.

    DAILY lines: the day count on the line's opening balance (积数). MONTHLY regular lines: the line's
    interest spread evenly over the period's actual days (按日摊销), because a month's interest there
    does not depend on its days.
    """
    if until >= line.accrual_end:
        return line.interest.amount
    if until <= line.accrual_start:
        return _ZERO
    terms = schedule.terms
    months = next((p.months for p in periods(terms) if p.index == line.period), 0)
    if months and terms.interest_basis is InterestBasis.MONTHLY:
        elapsed, total = (until - line.accrual_start).days, line.days
        return RATE_CONTEXT.divide(line.interest.amount * elapsed, Decimal(total))
    return period_interest(terms, line.opening_balance.amount, line.accrual_start, until)
