"""Prepayment (提前还款): partial prepayment with a re-amortised schedule, and full payoff (提前结清).

A prepayment happens inside the *current* period — the first instalment not yet paid — and requires
the loan to be current: an instalment already past due is settled first through
`lending.allocation`, whose unapplied remainder the caller may then turn into a prepayment.

Interest follows 民法典 Art 677 (提前返还借款的，除当事人另有约定外，应当按照实际借款的期间计算利息):

* **Partial** (`prepay`): the prepaid principal x bears interest from the current period's start to the
  prepayment day, settled now; the remaining balance B − x is re-amortised from the current period's
  start, so the current instalment charges B − x for the whole period. Over the period the borrower pays
  interest on x for the days it was out and on B − x for the full period — nothing more.
  *Reduce instalment* (期限不变、减少月供) keeps the maturity and recomputes the level amount over the
  remaining periods; *reduce term* (月供不变、缩短期限) keeps the level amount and drops the periods no
  longer needed (the new last instalment absorbs the residual). Only 等额本息 and 等额本金 have a level
  amount; the other methods accept *reduce instalment* only (their maturity is fixed).
* **随借随还**: repaying principal settles no interest at once; the interest of the repaid money for the
  days it was out is carried into the next settlement line (积数计息), as the line's daily accrual would.
* **Full payoff** (`payoff`): the outstanding principal plus interest on it to the payoff day only —
  no interest for the rest of the period or the term. Paying off on a due date of a regular MONTHLY
  period charges that period's interest, as the schedule line does.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from decimal import ROUND_DOWN, Decimal
from enum import StrEnum

from puhui.core.dates import parse_date
from puhui.core.errors import PolicyViolation, ValidationError
from puhui.core.money import MINOR_UNIT, Money
from puhui.lending.schedule import (
    Period,
    Schedule,
    ScheduleLine,
    _money,
    amortise,
    period_interest,
    periods,
)
from puhui.lending.terms import RepaymentMethod


class PrepaymentMode(StrEnum):
    """What a partial prepayment shortens: the instalment or the term."""

    REDUCE_INSTALMENT = "reduce_instalment"
    """期限不变、减少月供: same maturity, smaller level amount."""
    REDUCE_TERM = "reduce_term"
    """月供不变、缩短期限: same level amount, earlier maturity."""

    def __str__(self) -> str:
        return self.value

    @classmethod
    def parse(cls, text: str | PrepaymentMode) -> PrepaymentMode:
        if isinstance(text, PrepaymentMode):
            return text
        key = str(text).strip().lower().replace("-", "_").replace(" ", "_")
        key = {"减少月供": "reduce_instalment", "reduce_installment": "reduce_instalment",
               "缩短期限": "reduce_term"}.get(key, key)
        try:
            return cls(key)
        except ValueError:
            raise ValidationError(
                f"unknown prepayment mode {text!r}; use reduce_instalment or reduce_term",
                code="unknown_prepayment_mode", field="mode",
            ) from None


@dataclass(frozen=True)
class Prepayment:
    """The outcome of a prepayment: what is paid now and the schedule that remains."""

    on: date
    mode: PrepaymentMode
    principal: Money
    """Principal repaid now."""
    interest: Money
    """Interest settled now (on the repaid principal, to `on`)."""
    schedule: Schedule
    """The remaining schedule, from the current period on (no lines when the loan is paid off)."""

    @property
    def total(self) -> Money:
        """Cash the borrower pays now."""
        return _money(self.principal.amount + self.interest.amount, self.principal.currency)

    @property
    def paid_off(self) -> bool:
        return not self.schedule.lines


def _current(schedule: Schedule, paid_through: int) -> ScheduleLine:
    if isinstance(paid_through, bool) or not isinstance(paid_through, int):
        raise ValidationError("paid_through must be a period number", code="invalid_paid_through")
    if not schedule.lines:
        raise PolicyViolation("the loan is already paid off", code="loan_paid_off")
    for ln in schedule.lines:
        if ln.period == paid_through + 1:
            return ln
    raise ValidationError(
        f"paid_through={paid_through} does not leave a current period in this schedule "
        f"(periods {schedule.lines[0].period}–{schedule.lines[-1].period})",
        code="invalid_paid_through", paid_through=paid_through,
    )


def _interest_end(current: ScheduleLine, on: date) -> date:
    if on < current.accrual_start:
        raise ValidationError(
            f"prepayment date {on} is before the current period's start {current.accrual_start}",
            code="invalid_prepayment_date", on=on.isoformat(),
        )
    if on > current.due_date:
        raise PolicyViolation(
            f"instalment {current.period} was due on {current.due_date}: settle it before prepaying on {on}",
            code="instalment_overdue", period=current.period, due_date=current.due_date.isoformat(),
        )
    return min(on, current.accrual_end)


def _period_of(schedule: Schedule, line: ScheduleLine) -> Period:
    for p in periods(schedule.terms):
        if p.index == line.period:
            return p
    raise ValidationError(f"period {line.period} is not in the terms", code="unknown_period")  # pragma: no cover


def _interest_to(schedule: Schedule, current: ScheduleLine, amount: Decimal, end: date) -> Decimal:
    """Unrounded interest on `amount` from the current period's start to `end`."""
    p = _period_of(schedule, current)
    months = p.months if end == current.accrual_end else 0
    return period_interest(schedule.terms, amount, current.accrual_start, end, months)


def _amount(value: Money | Decimal | str | int, schedule: Schedule, field: str) -> Decimal:
    money = value if isinstance(value, Money) else Money(value, schedule.currency)
    if money.currency != schedule.currency:
        raise ValidationError(
            f"{field}: currency {money.currency} differs from the loan's {schedule.currency}",
            code="currency_mismatch", field=field,
        )
    if money.amount <= 0:
        raise ValidationError(f"{field} must be positive, got {money.amount}", code="non_positive_amount",
                              field=field)
    return money.amount


def prepay(
    schedule: Schedule,
    *,
    paid_through: int,
    on: date | str,
    principal: Money | Decimal | str | int,
    mode: PrepaymentMode | str = PrepaymentMode.REDUCE_INSTALMENT,
) -> Prepayment:
    """Repay `principal` early on `on`, instalments 1…`paid_through` having been paid (see the module doc)."""
    on = parse_date(on, field="on")
    mode = PrepaymentMode.parse(mode)
    terms = schedule.terms
    current = _current(schedule, paid_through)
    end = _interest_end(current, on)
    outstanding = current.opening_balance.amount
    x = _amount(principal, schedule, "principal")
    if x > outstanding:
        raise ValidationError(
            f"prepayment {x} exceeds the outstanding principal {outstanding}",
            code="prepayment_exceeds_balance", outstanding=str(outstanding),
        )
    amortising = terms.method.amortising
    if mode is PrepaymentMode.REDUCE_TERM and not amortising:
        raise ValidationError(
            f"{terms.method.chinese} has no level instalment to keep: use reduce_instalment",
            code="prepayment_mode_not_applicable", method=terms.method.value,
        )
    unit = MINOR_UNIT[terms.currency]
    accrued = _interest_to(schedule, current, x, end)
    cur = terms.currency
    if x == outstanding:
        interest = accrued.quantize(unit, rounding=terms.rounding.value)
        empty = Schedule(terms, (), _money(Decimal("0.00"), cur), None)
        return Prepayment(on, mode, _money(x, cur), _money(interest, cur), empty)
    carry = Decimal(0)
    if terms.method is RepaymentMethod.REVOLVING:
        carry, interest = accrued, Decimal("0.00")
    else:
        interest = accrued.quantize(unit, rounding=terms.rounding.value)
    remaining = [p for p in periods(terms) if current.period <= p.index <= schedule.lines[-1].period]
    if mode is PrepaymentMode.REDUCE_TERM:
        assert schedule.level is not None
        rest = amortise(terms, remaining, outstanding - x, level=schedule.level.amount, until_repaid=True)
    else:
        rest = amortise(terms, remaining, outstanding - x, carry=carry)
    return Prepayment(on, mode, _money(x, cur), _money(interest, cur), rest)


def payoff(schedule: Schedule, *, paid_through: int, on: date | str) -> Prepayment:
    """提前结清: the outstanding principal and its interest to `on` only (民法典 Art 677)."""
    current = _current(schedule, paid_through)
    return prepay(schedule, paid_through=paid_through, on=on, principal=current.opening_balance)


def prepayment_principal_for(
    schedule: Schedule, *, paid_through: int, on: date | str, cash: Money | Decimal | str | int
) -> Money:
    """The largest principal whose prepayment (principal + interest settled now) fits in `cash`.

    Use it to turn a repayment's unapplied remainder into a prepayment; what is left of `cash` after
    `prepay(..., principal=result)` is at most a few fen (refund it or keep it as an overpayment).
    """
    on = parse_date(on, field="on")
    current = _current(schedule, paid_through)
    end = _interest_end(current, on)
    c = _amount(cash, schedule, "cash")
    terms = schedule.terms
    unit = MINOR_UNIT[terms.currency]
    outstanding = current.opening_balance.amount
    revolving = terms.method is RepaymentMethod.REVOLVING

    def cost(x: Decimal) -> Decimal:
        if revolving and x < outstanding:
            return x
        return x + _interest_to(schedule, current, x, end).quantize(unit, rounding=terms.rounding.value)

    if cost(outstanding) <= c:
        return _money(outstanding, terms.currency)
    per_yuan = _interest_to(schedule, current, Decimal(1), end)
    x = min((c / (1 + (0 if revolving else per_yuan))).quantize(unit, rounding=ROUND_DOWN), outstanding)
    while x > 0 and cost(x) > c:
        x -= unit
    while x + unit < outstanding and cost(x + unit) <= c:
        x += unit
    return _money(x, terms.currency)
