"""Repayment schedules (还款计划): due dates, principal, interest and balance of every instalment.

`build_schedule(terms)` turns `LoanTerms` into a `Schedule` of `ScheduleLine`s. Pure and exact: Decimal
throughout, each posted amount rounded **once** to the fen with the product's rounding mode, and the last
line absorbing the residual so the principal column sums **exactly** to the loan.

Conventions (each one is tested):

* **Due dates.** The k-th contractual date is `add_months(start, k)` (民法典 Art 202: the corresponding
  day, or the month's last day — computed from the start every time, so 31 Jan → 28 Feb → 31 Mar), or,
  with a fixed `repayment_day`, that day in the k-th month after the start (the first period is then
  irregular: 首期按实际天数计息). The payment date is the contractual date rolled by `terms.roll` on
  `terms.calendar` (FOLLOWING: 民法典 Art 203). Interest runs between the **unrolled** dates unless
  `terms.accrue_to_rolled_date` (see `LoanTerms`), so a holiday never costs the borrower interest.
* **Interest of a period.** MONTHLY basis and a regular period: balance × 年利率 × months / 12.
  Otherwise `DayCount.interest(balance, rate, start, end)` on the actual days [start, end) (算头不算尾).
  The same function (`period_interest`) serves the schedule and `lending.accrual`.
* **等额本息.** M = P·r·(1+r)^n / ((1+r)^n − 1), r = 年利率 / 12 (cn_domain §1.10), computed at 34 digits,
  then rounded to the fen — or to `multiples_of` — with the product rounding. Each line: interest as
  above, principal = M − interest, last line principal = remaining balance. If rounding M up would repay
  the loan before the last period, M is rounded down instead (the last instalment is then a little
  larger, never a run of empty instalments). With DAILY basis M uses the same r; only the lines differ.
* **等额本金.** principal = P / n rounded (to the fen or `multiples_of`; rounded down when rounding up
  would overshoot), interest on the opening balance, last line absorbs.
* **按月付息到期还本 / 到期一次还本付息.** Interest each period (or once), principal P on the last line.
* **随借随还.** A drawdown's projected schedule: interest settles on every settlement day (`repayment_day`,
  default the start's day of month) strictly between the drawdown and its maturity
  (`add_months(start, term)`), the last line pays principal and the remaining interest. The real
  interest comes from daily accrual on the actual balance (`lending.accrual`); this is the projection.
* Principal per line is clamped to [0, opening balance], so no balance is ever negative and balances
  never rise.
"""

from __future__ import annotations

import calendar as _cal
import weakref
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from functools import lru_cache
from typing import Any

from puhui.core.calendar import ChinaCalendar, RollRule
from puhui.core.dates import add_months
from puhui.core.errors import ValidationError
from puhui.core.money import MINOR_UNIT, Money, Rounding
from puhui.core.rates import RATE_CONTEXT
from puhui.lending.terms import InterestBasis, LoanTerms, RepaymentMethod

_ZERO = Decimal(0)
_FEN_ZERO = Decimal("0.00")
_ONE = Decimal(1)
_TWELVE = Decimal(12)


def _money(amount: Decimal, currency: str) -> Money:
    """A Money from an amount already rounded to the minor unit (skips re-validation on the hot path)."""
    m = object.__new__(Money)
    object.__setattr__(m, "amount", amount)
    object.__setattr__(m, "currency", currency)
    return m


@dataclass(frozen=True, slots=True)
class Period:
    """One interest period of a schedule: accrual [start, end) and the (rolled) payment date."""

    index: int
    start: date
    end: date
    due: date
    months: int
    """Whole regular months the period spans (MONTHLY basis charges balance × rate × months / 12);
    0 for an irregular period, which is charged on its actual days."""


@dataclass(frozen=True, slots=True)
class ScheduleLine:
    """One instalment (期): what falls due on `due_date` and the principal left after paying it."""

    period: int
    due_date: date
    accrual_start: date
    accrual_end: date
    principal: Money
    interest: Money
    balance: Money
    """Principal outstanding after this instalment is paid."""

    @property
    def instalment(self) -> Money:
        """月供: principal + interest of this line."""
        return _money(self.principal.amount + self.interest.amount, self.principal.currency)

    @property
    def opening_balance(self) -> Money:
        """Principal outstanding during this period (before the instalment is paid)."""
        return _money(self.balance.amount + self.principal.amount, self.principal.currency)

    @property
    def days(self) -> int:
        """Actual days of the interest period [accrual_start, accrual_end)."""
        return (self.accrual_end - self.accrual_start).days

    def to_row(self) -> dict[str, Any]:
        """JSON-ready row: money as strings with two decimals, dates ISO."""
        return {
            "period": self.period,
            "due_date": self.due_date.isoformat(),
            "principal": str(self.principal.amount),
            "interest": str(self.interest.amount),
            "instalment": str(self.instalment.amount),
            "balance": str(self.balance.amount),
        }


@dataclass(frozen=True)
class Schedule:
    """A repayment schedule: the terms it was built from and its lines in period order.

    For a new loan `opening_balance` is the principal and the lines run 1 … n. After a prepayment
    (`lending.prepayment`) it is the remaining schedule: the lines keep their original period numbers
    and `opening_balance` is the principal left when the first of them began.
    """

    terms: LoanTerms
    lines: tuple[ScheduleLine, ...]
    opening_balance: Money
    level: Money | None = None
    """The level amount: 等额本息 the instalment M, 等额本金 the principal part; None for other methods."""

    @property
    def currency(self) -> str:
        return self.terms.currency

    @property
    def total_principal(self) -> Money:
        return _money(sum((ln.principal.amount for ln in self.lines), _FEN_ZERO), self.currency)

    @property
    def total_interest(self) -> Money:
        return _money(sum((ln.interest.amount for ln in self.lines), _FEN_ZERO), self.currency)

    @property
    def total_payment(self) -> Money:
        return _money(self.total_principal.amount + self.total_interest.amount, self.currency)

    @property
    def maturity(self) -> date | None:
        """The last payment date (None when nothing is left to pay)."""
        return self.lines[-1].due_date if self.lines else None

    @property
    def calendar_covered(self) -> bool:
        """True when every due date lies in years the holiday calendar has data for.

        Beyond the data the calendar knows weekends only; a caller fixing dates for a contract should
        refuse or flag such a schedule (see `puhui.core.calendar`).
        """
        return all(self.terms.calendar.covers(ln.due_date) for ln in self.lines)

    def line(self, period: int) -> ScheduleLine:
        for ln in self.lines:
            if ln.period == period:
                return ln
        raise ValidationError(
            f"the schedule has no period {period} (periods {self._span()})", code="unknown_period", period=period
        )

    def _span(self) -> str:
        return f"{self.lines[0].period}–{self.lines[-1].period}" if self.lines else "none"

    def to_rows(self) -> list[dict[str, Any]]:
        """The lines as JSON-ready dicts (period, due_date, principal, interest, instalment, balance)."""
        return [ln.to_row() for ln in self.lines]

    def __len__(self) -> int:
        return len(self.lines)


# ---- interest ------------------------------------------------------------------------------------


def period_interest(terms: LoanTerms, balance: Decimal, start: date, end: date, months: int = 0) -> Decimal:
    """Unrounded interest on `balance` over [start, end): the one formula shared by schedule and accrual.

    MONTHLY basis and `months` > 0 (a regular period): balance × 年利率 × months / 12. Otherwise the
    day count on actual days. One division at the end, so an exact result stays exact.
    """
    if months and terms.interest_basis is InterestBasis.MONTHLY:
        ctx = RATE_CONTEXT
        return ctx.divide(ctx.multiply(ctx.multiply(balance, terms.annual_rate.value), Decimal(months)), _TWELVE)
    if balance == 0 or start == end:
        return _ZERO
    return terms.day_count.interest(balance, terms.annual_rate, start, end)


def annuity_payment(principal: Decimal, monthly_rate: Decimal, n: int) -> Decimal:
    """等额本息 M = P·r·(1+r)^n / ((1+r)^n − 1), unrounded (34 significant digits); P / n when r = 0."""
    ctx = RATE_CONTEXT
    if monthly_rate == 0:
        return ctx.divide(principal, Decimal(n))
    growth = ctx.power(ctx.add(_ONE, monthly_rate), n)
    return ctx.divide(ctx.multiply(ctx.multiply(principal, monthly_rate), growth), ctx.subtract(growth, _ONE))


def _round_level(value: Decimal, terms: LoanTerms, rounding: Rounding) -> Decimal:
    unit = MINOR_UNIT[terms.currency]
    m = terms.multiples_of
    if m is None:
        return value.quantize(unit, rounding=rounding.value)
    return (RATE_CONTEXT.divide(value, m).quantize(_ONE, rounding=rounding.value) * m).quantize(unit)


# ---- periods -------------------------------------------------------------------------------------


@lru_cache(maxsize=65536)
def _day_in_month(index: int, day: int) -> date:
    year, month0 = divmod(index, 12)
    return date(year, month0 + 1, min(day, _cal.monthrange(year, month0 + 1)[1]))


def _contract_dates(terms: LoanTerms) -> list[tuple[date, int]]:
    """Unrolled period end dates with the regular months each period spans."""
    start, n, rd = terms.start, terms.term_months, terms.repayment_day
    base = start.year * 12 + start.month - 1
    if terms.method is RepaymentMethod.REVOLVING:
        maturity = add_months(start, n)
        day = rd if rd is not None else start.day
        out: list[tuple[date, int]] = []
        k = 0
        while True:
            d = _day_in_month(base + k, day)
            k += 1
            if d <= start:
                continue
            if d >= maturity:
                break
            out.append((d, 0))
        out.append((maturity, 0))
        return out
    if rd is None:
        # add_months(start, k) (民法典 Art 202), inlined: the same day in month base + k, or its last day
        dates = [_day_in_month(base + k, start.day) for k in range(1, n + 1)]
        first_regular = True
    else:
        dates = [_day_in_month(base + k, rd) for k in range(1, n + 1)]
        first_regular = _day_in_month(base, rd) == start
    if terms.method is RepaymentMethod.BULLET:
        return [(dates[-1], n if first_regular else 0)]
    return [(d, 1 if (k > 0 or first_regular) else 0) for k, d in enumerate(dates)]


def periods(terms: LoanTerms) -> tuple[Period, ...]:
    """The interest periods of a loan, in order: accrual [start, end), payment date, regular months.

    Cached per `LoanTerms` (a frozen value) and calendar, so accrual and prepayment ask cheaply.
    """
    return _cached_periods(terms, terms.calendar)


@lru_cache(maxsize=1024)
def _cached_periods(terms: LoanTerms, calendar: ChinaCalendar) -> tuple[Period, ...]:
    # the calendar is part of the key: LoanTerms equality ignores it (compare=False)
    return _periods(terms)


_ROLLS: weakref.WeakKeyDictionary[ChinaCalendar, dict[tuple[RollRule, date], date]] = weakref.WeakKeyDictionary()


class _Roller:
    """`calendar.roll` memoised per calendar (a calendar's data never changes after loading)."""

    __slots__ = ("cache", "calendar")

    def __init__(self, calendar: ChinaCalendar) -> None:
        self.calendar = calendar
        cache = _ROLLS.get(calendar)
        if cache is None:
            cache = _ROLLS[calendar] = {}
        self.cache = cache

    def roll(self, d: date, rule: RollRule) -> date:
        key = (rule, d)
        out = self.cache.get(key)
        if out is None:
            out = self.cache[key] = self.calendar.roll(d, rule)
        return out


def _periods(terms: LoanTerms) -> tuple[Period, ...]:
    cal, rule, to_rolled = _Roller(terms.calendar), terms.roll, terms.accrue_to_rolled_date
    revolving = terms.method is RepaymentMethod.REVOLVING
    contract = _contract_dates(terms)
    out: list[Period] = []
    prev = terms.start
    last = len(contract) - 1
    final_due = cal.roll(contract[-1][0], rule)
    for k, (end, months) in enumerate(contract):
        due = cal.roll(end, rule)
        if revolving and k < last and not terms.start < due < final_due:
            # a settlement day rolled onto the drawdown day, or onto the maturity's payment day, settles
            # nothing of its own: its days go to the next settlement
            continue
        if due <= prev:
            # a backward roll never moves a payment onto or before its period's start: roll forward
            due = cal.roll(end, RollRule.FOLLOWING)
        acc_end = due if to_rolled else end
        if acc_end <= prev:
            raise ValidationError(
                f"period ending {end} (paid {due}) does not end after its start {prev}: choose another "
                f"roll rule or repayment day",
                code="invalid_schedule_dates", period=len(out) + 1,
            )
        out.append(Period(len(out) + 1, prev, acc_end, due, months))
        prev = acc_end
    return tuple(out)


# ---- building ------------------------------------------------------------------------------------


def build_schedule(terms: LoanTerms) -> Schedule:
    """The full schedule of a new loan (see the module docstring for every convention)."""
    return amortise(terms, _periods(terms), terms.principal.amount)


def amortise(
    terms: LoanTerms,
    pers: Sequence[Period],
    balance: Decimal,
    *,
    level: Decimal | None = None,
    until_repaid: bool = False,
    carry: Decimal = _ZERO,
) -> Schedule:
    """Schedule `balance` over `pers` by `terms.method` (the engine behind build and re-amortisation).

    `level`: keep this level amount (M for 等额本息, the principal part for 等额本金) instead of computing
    it — with `until_repaid`, lines stop once the balance is repaid (prepayment "reduce term").
    `carry`: unrounded interest added to the first line before rounding (随借随还: interest on principal
    repaid mid-period settles with the next settlement, 积数计息).
    """
    if not pers:
        raise ValidationError("no periods left to schedule", code="empty_schedule")
    method = terms.method
    if balance <= 0:
        return Schedule(terms, (), _money(_FEN_ZERO, terms.currency), None)
    if method is RepaymentMethod.EQUAL_INSTALMENT:
        if level is None:
            exact = annuity_payment(balance, terms.annual_rate.monthly(), len(pers))
            level = _round_level(exact, terms, terms.rounding)
            lines, early = _lines(terms, pers, balance, level, until_repaid, carry)
            if early:
                level = _round_level(exact, terms, Rounding.DOWN)
                lines, _ = _lines(terms, pers, balance, level, until_repaid, carry)
        else:
            lines, _ = _lines(terms, pers, balance, level, until_repaid, carry)
    elif method is RepaymentMethod.EQUAL_PRINCIPAL:
        if level is None:
            exact = RATE_CONTEXT.divide(balance, Decimal(len(pers)))
            level = _round_level(exact, terms, terms.rounding)
            if level * (len(pers) - 1) > balance:
                level = _round_level(exact, terms, Rounding.DOWN)
        lines, _ = _lines(terms, pers, balance, level, until_repaid, carry)
    else:
        level = None
        lines, _ = _lines(terms, pers, balance, None, False, carry)
    cur = terms.currency
    return Schedule(terms, tuple(lines), _money(balance, cur), None if level is None else _money(level, cur))


def _lines(
    terms: LoanTerms,
    pers: Sequence[Period],
    balance: Decimal,
    level: Decimal | None,
    until_repaid: bool,
    carry: Decimal,
) -> tuple[list[ScheduleLine], bool]:
    """Lines for one pass; the flag says the balance was repaid before the last period (over-amortised)."""
    cur = terms.currency
    unit = MINOR_UNIT[cur]
    mode = terms.rounding.value
    annuity = terms.method is RepaymentMethod.EQUAL_INSTALMENT
    fixed_principal = terms.method is RepaymentMethod.EQUAL_PRINCIPAL
    last = len(pers) - 1
    bal = balance
    out: list[ScheduleLine] = []
    early = False
    for j, p in enumerate(pers):
        raw = period_interest(terms, bal, p.start, p.end, p.months)
        if j == 0 and carry:
            raw += carry
        interest = raw.quantize(unit, rounding=mode)
        if j == last:
            principal = bal
        elif annuity:
            principal = level - interest  # type: ignore[operator]
            if principal < 0:
                principal = _FEN_ZERO
            elif principal >= bal:
                principal = bal
        elif fixed_principal:
            principal = level if level < bal else bal  # type: ignore[operator]
        else:
            principal = _FEN_ZERO
        bal -= principal
        out.append(ScheduleLine(
            p.index, p.due, p.start, p.end, _money(principal, cur), _money(interest, cur), _money(bal, cur)
        ))
        if bal == 0 and j < last:
            if until_repaid:
                break
            early = True
    return out, early
