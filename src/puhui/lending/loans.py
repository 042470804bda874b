"""The loan account (贷款分户账), pure: one drawdown's schedule, balances, overdue state and posting rules.

`LoanAccount` is the aggregate the services load, change and save. It combines the domain calculations
(`schedule`, `allocation`, `prepayment`, `accrual`, `classification`) into the events of a loan's life,
and every event returns the general-ledger legs it causes, so the sub-ledger (this account's balances)
and the GL (`ledger`) move together and can be reconciled (总分核对).

Posting rules (Dr = positive leg, Cr = negative):

* **Drawdown** (放款) P: Dr Loans:<class> P / Cr Clearing P.
* **Daily accrual** (计提) of contract interest i: Dr InterestReceivable / Cr Income:Interest; of 罚息 and
  复利 p: Dr PenaltyReceivable / Cr Income:Penalty. On a **non-accrual** loan (more than `non_accrual_dpd`
  days past due) the same amounts go off balance: Dr Memo:Suspense:Interest (or :Penalty) / Cr
  Memo:Suspense:Contra.
* **Transfer to suspense** (转表外), the day a loan becomes non-accrual: interest and penalty receivable
  already booked are reversed out of income (Dr Income / Cr Receivable) and carried off balance
  (Dr Memo:Suspense / Cr Memo:Contra).
* **Reclassification** (五级分类迁移) from class A to B: Dr Loans:B / Cr Loans:A, the whole principal.
* **Repayment** (还款) C: Dr Clearing C; principal Cr Loans:<class>; interest paid clears suspense first
  (Cr Income — cash-basis income of a non-accrual loan — with Dr Memo:Contra / Cr Memo:Suspense), then
  the receivable (Cr InterestReceivable), and anything beyond what was accrued is income at once
  (Cr Income); 罚息/复利 likewise with the penalty accounts.
* **Close** (结清): a receivable left over (interest accrued beyond what the payoff charged, 民法典 Art 677)
  is reversed (Dr Income / Cr Receivable; memo Dr Contra / Cr Suspense), so a closed loan owes nothing
  and its receivables are zero.

Accrual is cumulative and exact: the interest earned through a date is the interest of every fully
accrued instalment plus the rounded part of the accruing one (DAILY lines by the day count on the
opening balance, MONTHLY lines straight-line over the period's days — as `accrual.line_interest_accrued`);
each end of day posts *target − already posted*, so a catch-up over many days posts exactly what day by
day does. 罚息 and 复利 use `accrual.InterestAccumulator`, which has the same property.

Business dates: every event is dated by the business date it happens on; the loan's `eod_through` is the
last business date whose end of day it has been through, and a repayment is accepted only on the open
day that follows it (`check_open_day`).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date, timedelta
from decimal import Decimal
from enum import StrEnum
from typing import Any

from puhui.core.calendar import RollRule
from puhui.core.daycount import DayCount
from puhui.core.errors import Conflict, PolicyViolation, ValidationError
from puhui.core.money import MINOR_UNIT, Money, Rounding
from puhui.core.rates import RATE_CONTEXT, AnnualRate
from puhui.core.regulatory import REGULATORY, SettingsBook
from puhui.lending.accrual import InterestAccumulator, days_past_due, is_non_accrual
from puhui.lending.allocation import DEFAULT_ORDER, Allocation, Bucket, Due, allocate
from puhui.lending.classification import FiveClass, classify
from puhui.lending.contracts import parse_amount
from puhui.lending.ledger import (
    CLEARING,
    INTEREST_INCOME,
    INTEREST_RECEIVABLE,
    LOANS_BY_CLASS,
    PENALTY_INCOME,
    PENALTY_RECEIVABLE,
    SUSPENSE_CONTRA,
    SUSPENSE_INTEREST,
    SUSPENSE_PENALTY,
)
from puhui.lending.prepayment import Prepayment, PrepaymentMode, payoff, prepay, prepayment_principal_for
from puhui.lending.schedule import Schedule, ScheduleLine, build_schedule, periods
from puhui.lending.terms import InterestBasis, LoanTerms, RepaymentMethod

__all__ = [
    "AccruingLine",
    "DayOutcome",
    "Instalment",
    "InstalmentStatus",
    "Leg",
    "LoanAccount",
    "LoanEvent",
    "LoanStatus",
    "PayoffQuote",
    "RepaymentKind",
    "RepaymentOutcome",
    "open_loan",
]

_FEN = MINOR_UNIT["CNY"]
_ZERO = Decimal("0.00")
_DAY = timedelta(days=1)

#: One GL leg: (account, signed amount — debit positive, memo naming the posting rule).
Leg = tuple[str, Decimal, str]


class LoanStatus(StrEnum):
    ACTIVE = "active"
    CLOSED = "closed"


class InstalmentStatus(StrEnum):
    PENDING = "pending"
    """Not yet due (or due today and not yet through end of day)."""
    OVERDUE = "overdue"
    """Due and unpaid at the end of its due date."""
    PAID = "paid"
    SUPERSEDED = "superseded"
    """Replaced by a re-amortised line after a prepayment (kept for the record)."""


class RepaymentKind(StrEnum):
    REGULAR = "regular"
    """What is due (overdue and due today, 罚息/复利 included); a smaller amount is a partial repayment."""
    PREPAYMENT = "prepayment"
    """Everything due first, the rest prepays principal (`PrepaymentMode`)."""
    PAYOFF = "payoff"
    """提前结清: everything due plus the outstanding principal with interest to the day only."""

    @classmethod
    def parse(cls, text: str | RepaymentKind) -> RepaymentKind:
        if isinstance(text, RepaymentKind):
            return text
        try:
            return cls(str(text).strip().lower())
        except ValueError:
            raise ValidationError(
                f"unknown repayment kind {text!r}; use {[k.value for k in cls]}",
                code="unknown_repayment_kind", field="kind",
            ) from None


@dataclass(slots=True)
class Instalment:
    """One line of a loan's schedule with what has been paid on it."""

    period: int
    due_date: date
    accrual_start: date
    accrual_end: date
    principal: Decimal
    interest: Decimal
    balance: Decimal
    """Principal outstanding after this line is paid (as scheduled)."""
    monthly: bool = False
    """A regular period on the MONTHLY basis: its interest is accrued straight-line over its days."""
    carry: Decimal = Decimal(0)
    """Unrounded interest carried into this line (随借随还 principal repaid mid-period, 积数计息)."""
    paid_principal: Decimal = _ZERO
    paid_interest: Decimal = _ZERO
    status: InstalmentStatus = InstalmentStatus.PENDING
    id: int | None = None

    @property
    def owed_principal(self) -> Decimal:
        return self.principal - self.paid_principal

    @property
    def owed_interest(self) -> Decimal:
        return self.interest - self.paid_interest

    @property
    def opening(self) -> Decimal:
        return self.balance + self.principal

    @property
    def open(self) -> bool:
        return self.status in (InstalmentStatus.PENDING, InstalmentStatus.OVERDUE)


@dataclass(frozen=True, slots=True)
class AccruingLine:
    """The instalment whose interest period is running: what end of day needs to accrue it."""

    period: int
    start: date
    end: date
    opening: Decimal
    interest: Decimal
    carry: Decimal
    monthly: bool

    @classmethod
    def of(cls, line: Instalment) -> AccruingLine:
        return cls(line.period, line.accrual_start, line.accrual_end, line.opening, line.interest, line.carry,
                   line.monthly)


@dataclass(frozen=True)
class LoanEvent:
    """A sub-ledger transaction (分户账明细) worth a row of its own: drawdown, repayment, overdue, …"""

    kind: str
    business_date: date
    amount: Decimal = _ZERO
    principal: Decimal = _ZERO
    interest: Decimal = _ZERO
    penalty: Decimal = _ZERO
    compound: Decimal = _ZERO
    details: dict[str, Any] = field(default_factory=dict)


@dataclass
class DayOutcome:
    """What one end of day did to one loan: GL legs and notable events."""

    legs: list[Leg] = field(default_factory=list)
    events: list[LoanEvent] = field(default_factory=list)
    interest: Decimal = _ZERO
    penalty: Decimal = _ZERO


@dataclass
class RepaymentOutcome:
    """The split of one repayment and its effects."""

    on: date
    kind: RepaymentKind
    amount: Decimal
    applied: Decimal
    unapplied: Decimal
    principal: Decimal
    interest: Decimal
    penalty: Decimal
    compound: Decimal
    prepaid_principal: Decimal
    legs: list[Leg]
    closed: bool
    superseded: list[Instalment]
    new_lines: list[Instalment]
    allocation: Allocation | None

    def to_json(self) -> dict[str, Any]:
        return {
            "business_date": self.on.isoformat(),
            "kind": self.kind.value,
            "amount": str(self.amount),
            "applied": str(self.applied),
            "unapplied": str(self.unapplied),
            "principal": str(self.principal),
            "interest": str(self.interest),
            "penalty": str(self.penalty),
            "compound": str(self.compound),
            "prepaid_principal": str(self.prepaid_principal),
            "loan_closed": self.closed,
        }


@dataclass(frozen=True)
class PayoffQuote:
    """提前结清 amount on a day: what is due now plus the outstanding principal and its interest to the day."""

    on: date
    due_now: Decimal
    principal: Decimal
    interest: Decimal

    @property
    def total(self) -> Decimal:
        return self.due_now + self.principal + self.interest


def _q(value: Decimal, rounding: Rounding) -> Decimal:
    return value.quantize(_FEN, rounding=rounding.value)


@dataclass
class LoanAccount:
    """One loan's terms, schedule, balances and state. Mutable: the service loads, changes, saves it."""

    loan_id: int | None
    line_id: int | None
    borrower_id: str
    principal_original: Decimal
    annual_rate: AnnualRate
    penalty_rate: AnnualRate
    method: RepaymentMethod
    day_count: DayCount
    rounding: Rounding
    multiples_of: Decimal | None
    repayment_day: int | None
    roll: RollRule
    term_months: int
    start: date
    maturity: date
    allocation_order: tuple[Bucket, ...] = DEFAULT_ORDER
    status: LoanStatus = LoanStatus.ACTIVE
    level: Decimal | None = None
    # sub-ledger balances (分户账余额)
    principal: Decimal = _ZERO
    overdue_principal: Decimal = _ZERO
    overdue_interest: Decimal = _ZERO
    interest_accrued: Decimal = _ZERO
    interest_paid: Decimal = _ZERO
    interest_receivable: Decimal = _ZERO
    interest_suspense: Decimal = _ZERO
    interest_base: Decimal = _ZERO
    penalty_accrued: Decimal = _ZERO
    compound_accrued: Decimal = _ZERO
    penalty_paid: Decimal = _ZERO
    compound_paid: Decimal = _ZERO
    penalty_receivable: Decimal = _ZERO
    penalty_suspense: Decimal = _ZERO
    # state
    five_class: FiveClass = FiveClass.NORMAL
    dpd: int = 0
    non_accrual: bool = False
    oldest_unpaid_due: date | None = None
    next_due: date | None = None
    eod_through: date | None = None
    closed_on: date | None = None
    acc: AccruingLine | None = None
    penalty_acc: InterestAccumulator | None = None
    compound_acc: InterestAccumulator | None = None
    lines: list[Instalment] | None = None
    """The open instalments (pending and overdue), in period order, when loaded; None when not."""

    # ---- derived -----------------------------------------------------------------------------------

    @property
    def penalty_owed(self) -> Decimal:
        return self.penalty_accrued - self.penalty_paid

    @property
    def compound_owed(self) -> Decimal:
        return self.compound_accrued - self.compound_paid

    @property
    def loan_account(self) -> str:
        return LOANS_BY_CLASS[self.five_class]

    def terms(self) -> LoanTerms:
        """The `LoanTerms` of this loan (for the schedule, prepayment and payoff calculations)."""
        return LoanTerms(
            principal=Money(self.principal_original), annual_rate=self.annual_rate, term_months=self.term_months,
            method=self.method, start=self.start, day_count=self.day_count, rounding=self.rounding,
            multiples_of=self.multiples_of, repayment_day=self.repayment_day, roll=self.roll,
        )

    def _lines(self) -> list[Instalment]:
        if self.lines is None:
            raise RuntimeError(f"loan {self.loan_id}: instalments not loaded")
        return self.lines

    def needs_lines(self, day: date) -> bool:
        """True when end of day `day` has to look at instalments (one falls due or an interest period ends)."""
        if self.next_due is not None and self.next_due <= day:
            return True
        return self.acc is not None and self.acc.end <= day + _DAY

    # ---- accrual -----------------------------------------------------------------------------------

    def _partial(self, line: AccruingLine, until: date) -> Decimal:
        """Interest of the accruing line earned before `until`, rounded (see the module docstring)."""
        if until >= line.end:
            return line.interest
        if until <= line.start:
            return _ZERO
        if line.monthly:
            raw = RATE_CONTEXT.divide(line.interest * (until - line.start).days, Decimal((line.end - line.start).days))
        elif line.opening == 0:
            raw = line.carry
        else:
            raw = self.day_count.interest(line.opening, self.annual_rate, line.start, until) + line.carry
        return min(_q(raw, self.rounding), line.interest)

    def _advance(self, until: date) -> None:
        """Move the accruing cursor past every line fully accrued before `until`."""
        while self.acc is not None and self.acc.end <= until:
            self.interest_base += self.acc.interest
            done = self.acc.period
            nxt = next((ln for ln in self._lines() if ln.period > done and ln.status is not
                        InstalmentStatus.SUPERSEDED and ln.accrual_end > ln.accrual_start), None)
            self.acc = AccruingLine.of(nxt) if nxt is not None else None

    def interest_target(self, until: date) -> Decimal:
        """Interest earned before `until`, as end of day posts it (requires the cursor to be advanced)."""
        return self.interest_base + (self._partial(self.acc, until) if self.acc is not None else _ZERO)

    def _book(self, amount: Decimal, *, penalty: bool, legs: list[Leg], memo: str) -> None:
        """Post accrued interest (or 罚息/复利) to income, or off balance when non-accrual."""
        if amount == 0:
            return
        if self.non_accrual:
            susp = SUSPENSE_PENALTY if penalty else SUSPENSE_INTEREST
            legs += [(susp, amount, memo + " (non-accrual)"), (SUSPENSE_CONTRA, -amount, memo + " (non-accrual)")]
            if penalty:
                self.penalty_suspense += amount
            else:
                self.interest_suspense += amount
        else:
            rec, inc = (PENALTY_RECEIVABLE, PENALTY_INCOME) if penalty else (INTEREST_RECEIVABLE, INTEREST_INCOME)
            legs += [(rec, amount, memo), (inc, -amount, memo)]
            if penalty:
                self.penalty_receivable += amount
            else:
                self.interest_receivable += amount

    def end_of_day(self, day: date, *, settings: SettingsBook = REGULATORY) -> DayOutcome:
        """日终 for business date `day`: overdue, dpd, suspense, accrual. Classification is `reclassify`."""
        if self.status is not LoanStatus.ACTIVE:
            raise PolicyViolation(f"loan {self.loan_id} is closed", code="loan_closed")
        expected = self.start if self.eod_through is None else self.eod_through + _DAY
        if day != expected:
            raise Conflict(
                f"loan {self.loan_id}: end of day {day} out of order (next is {expected})",
                code="eod_out_of_order", loan_id=self.loan_id, day=day.isoformat(), expected=expected.isoformat(),
            )
        out = DayOutcome()
        until = day + _DAY
        if self.next_due is not None and self.next_due <= day:
            self._mark_overdue(day, out)
        self.dpd = days_past_due(self.oldest_unpaid_due, day)
        na = is_non_accrual(self.dpd, day, settings=settings)
        if na and not self.non_accrual:
            self._to_suspense(day, out)
        self.non_accrual = na
        self._advance(until)
        delta = self.interest_target(until) - self.interest_accrued
        self.interest_accrued += delta
        self._book(delta, penalty=False, legs=out.legs, memo="interest accrual")
        out.interest = delta
        p = c = _ZERO
        if self.penalty_acc is not None:
            self.penalty_acc, p = self.penalty_acc.post(until, self.rounding)
            self.compound_acc, c = self.compound_acc.post(until, self.rounding)  # type: ignore[union-attr]
            self.penalty_accrued += p
            self.compound_accrued += c
            self._book(p + c, penalty=True, legs=out.legs, memo="penalty accrual")
        out.penalty = p + c
        self.eod_through = day
        return out

    def _mark_overdue(self, day: date, out: DayOutcome) -> None:
        newly: list[Instalment] = []
        for ln in self._lines():
            if ln.status is InstalmentStatus.PENDING and ln.due_date <= day:
                if ln.owed_principal == 0 and ln.owed_interest == 0:
                    ln.status = InstalmentStatus.PAID
                    continue
                ln.status = InstalmentStatus.OVERDUE
                self.overdue_principal += ln.owed_principal
                self.overdue_interest += ln.owed_interest
                newly.append(ln)
        self._refresh_dates()
        if newly:
            self._rebalance_penalty(day)
            for ln in newly:
                details = {"period": ln.period, "due_date": ln.due_date.isoformat()}
                out.events.append(LoanEvent("overdue", day, ln.owed_principal + ln.owed_interest,
                                            ln.owed_principal, ln.owed_interest, details=details))

    def _refresh_dates(self) -> None:
        lines = self._lines()
        overdue = [ln.due_date for ln in lines if ln.status is InstalmentStatus.OVERDUE]
        pending = [ln.due_date for ln in lines if ln.status is InstalmentStatus.PENDING]
        self.oldest_unpaid_due = min(overdue) if overdue else None
        self.next_due = min(pending) if pending else None

    def _rebalance_penalty(self, on: date) -> None:
        """罚息 runs on overdue principal and 复利 on overdue interest from `on` (银发〔2003〕251号)."""
        if self.penalty_acc is None:
            if self.overdue_principal == 0 and self.overdue_interest == 0:
                return
            self.penalty_acc = InterestAccumulator.open(self.overdue_principal, self.penalty_rate, on, self.day_count)
            self.compound_acc = InterestAccumulator.open(self.overdue_interest, self.penalty_rate, on,
                                                         self.day_count)
            return
        self.penalty_acc = self.penalty_acc.rebalance(on, self.overdue_principal)
        self.compound_acc = self.compound_acc.rebalance(on, self.overdue_interest)  # type: ignore[union-attr]

    def _to_suspense(self, day: date, out: DayOutcome) -> None:
        """转表外: reverse booked-but-unpaid interest and penalty out of income and carry them off balance."""
        i, p = self.interest_receivable, self.penalty_receivable
        memo = "to suspense (> non-accrual dpd)"
        out.legs += [(INTEREST_INCOME, i, memo), (INTEREST_RECEIVABLE, -i, memo),
                     (SUSPENSE_INTEREST, i, memo), (SUSPENSE_CONTRA, -i, memo),
                     (PENALTY_INCOME, p, memo), (PENALTY_RECEIVABLE, -p, memo),
                     (SUSPENSE_PENALTY, p, memo), (SUSPENSE_CONTRA, -p, memo)]
        self.interest_suspense += i
        self.penalty_suspense += p
        self.interest_receivable = self.penalty_receivable = _ZERO
        out.events.append(LoanEvent("to_suspense", day, i + p, interest=i, penalty=p, details={"dpd": self.dpd}))

    def loan_class(self, day: date, *, settings: SettingsBook = REGULATORY) -> FiveClass:
        """The class this loan's own days past due give on `day` (before the borrower rule)."""
        return classify(self.dpd, day, settings=settings)

    def reclassify(self, new: FiveClass, day: date) -> tuple[list[Leg], LoanEvent | None]:
        """Move the principal to the account of class `new` (五级分类迁移)."""
        if new == self.five_class:
            return [], None
        old = self.five_class
        self.five_class = new
        memo = f"reclassify {old.key}→{new.key}"
        legs: list[Leg] = [(LOANS_BY_CLASS[new], self.principal, memo), (LOANS_BY_CLASS[old], -self.principal, memo)]
        return legs, LoanEvent("reclassify", day, self.principal, self.principal,
                               details={"from": old.key, "to": new.key, "dpd": self.dpd})

    # ---- repayment ---------------------------------------------------------------------------------

    def check_open_day(self, on: date) -> None:
        """A repayment on `on` needs end of day through `on − 1` and not yet `on` (for this loan)."""
        if self.status is not LoanStatus.ACTIVE:
            raise PolicyViolation(f"loan {self.loan_id} is closed (paid off on {self.closed_on})",
                                  code="loan_closed", loan_id=self.loan_id)
        if on < self.start:
            raise ValidationError(f"{on} is before the loan's start {self.start}", code="before_loan_start")
        done = self.eod_through
        if done is not None and on <= done:
            raise Conflict(f"business date {on} is closed for loan {self.loan_id} (end of day ran through {done})",
                           code="business_date_closed", on=on.isoformat(), eod_through=done.isoformat())
        expected = self.start if done is None else done + _DAY
        if on != expected:
            raise Conflict(f"end of day has not run through {on - _DAY} for loan {self.loan_id}: run it first",
                           code="eod_pending", on=on.isoformat(), expected=expected.isoformat())

    def dues(self, on: date) -> list[Due]:
        """What is due on `on`: open instalments due on or before it, and 罚息/复利 as a loan-level due."""
        out = [
            Due(ln.period, ln.due_date, Money(ln.owed_principal), Money(ln.owed_interest))
            for ln in self._lines()
            if ln.open and ln.due_date <= on and (ln.owed_principal or ln.owed_interest)
        ]
        if self.penalty_owed or self.compound_owed:
            anchor = self.oldest_unpaid_due or on
            out.insert(0, Due(0, anchor, Money(_ZERO), Money(_ZERO), Money(self.penalty_owed),
                              Money(self.compound_owed)))
        return out

    def due_now(self, on: date) -> Decimal:
        return sum((d.principal.amount + d.interest.amount + d.penalty.amount + d.compound.amount
                    for d in self.dues(on)), _ZERO)

    def _schedule(self, terms: LoanTerms, on: date) -> tuple[Schedule, int]:
        """The remaining schedule after everything due by `on` is paid, and the last period paid."""
        pending = [ln for ln in self._lines() if ln.status is InstalmentStatus.PENDING and ln.due_date > on]
        rows = tuple(ScheduleLine(ln.period, ln.due_date, ln.accrual_start, ln.accrual_end, Money(ln.principal),
                                  Money(ln.interest), Money(ln.balance)) for ln in pending)
        level = None if self.level is None else Money(self.level)
        return Schedule(terms, rows, rows[0].opening_balance, level), pending[0].period - 1

    def payoff_quote(self, on: date) -> PayoffQuote:
        """What paying the loan off on `on` costs (everything due plus principal and interest to the day)."""
        due = self.due_now(on)
        if not any(ln.status is InstalmentStatus.PENDING and ln.due_date > on for ln in self._lines()):
            return PayoffQuote(on, due, _ZERO, _ZERO)
        schedule, paid_through = self._schedule(self.terms(), on)
        q = payoff(schedule, paid_through=paid_through, on=on)
        return PayoffQuote(on, due, q.principal.amount, q.interest.amount)

    def repay(
        self,
        amount: Decimal | str | int,
        on: date,
        *,
        kind: RepaymentKind | str = RepaymentKind.REGULAR,
        mode: PrepaymentMode | str = PrepaymentMode.REDUCE_INSTALMENT,
    ) -> RepaymentOutcome:
        """Apply a repayment of `amount` on `on` (see `RepaymentKind`); refusals leave the account unchanged.

        Refusals: `loan_closed`, `eod_pending`/`business_date_closed`, `non_positive_amount`,
        `nothing_due`, `amount_exceeds_due` (regular: more than is due — use a prepayment),
        `insufficient_for_prepayment`, `insufficient_for_payoff` (with `required`), `instalment_overdue`.
        """
        kind = RepaymentKind.parse(kind)
        mode = PrepaymentMode.parse(mode)
        self.check_open_day(on)
        amount = parse_amount(amount, "amount")
        alloc, plan, terms = self._plan_repayment(amount, on, kind, mode)
        # from here on nothing refuses: apply
        principal = interest = penalty = compound = _ZERO
        if alloc is not None:
            principal, interest, penalty, compound = self._apply_allocation(alloc)
        left = amount - (alloc.applied.amount if alloc is not None else _ZERO)
        prepaid = _ZERO
        superseded: list[Instalment] = []
        new_lines: list[Instalment] = []
        if plan is not None and terms is not None:
            prepaid = plan.principal.amount
            superseded, new_lines = self._replace_schedule(plan.schedule, on, prepaid, terms)
            if terms.method.amortising:
                self.level = None if plan.schedule.level is None else plan.schedule.level.amount
            self.principal -= prepaid
            principal += prepaid
            interest += plan.interest.amount
            self.interest_base += plan.interest.amount
            self.interest_paid += plan.interest.amount
            left -= plan.total.amount
        applied = amount - left
        legs = self._repayment_legs(applied, principal, interest, penalty + compound)
        self._refresh_dates()
        if self.penalty_acc is not None:
            self._rebalance_penalty(on)
        self.dpd = days_past_due(self.oldest_unpaid_due, on)
        closed = self._maybe_close(on, legs)
        return RepaymentOutcome(on, kind, amount, applied, left, principal, interest, penalty, compound, prepaid,
                                legs, closed, superseded, new_lines, alloc)

    def _plan_repayment(self, amount: Decimal, on: date, kind: RepaymentKind, mode: PrepaymentMode
                        ) -> tuple[Allocation | None, Prepayment | None, LoanTerms | None]:
        """Check a repayment and compute its allocation and prepayment, changing nothing."""
        dues = self.dues(on)
        owed = sum((d.principal.amount + d.interest.amount + d.penalty.amount + d.compound.amount for d in dues),
                   _ZERO)
        has_future = any(ln.status is InstalmentStatus.PENDING and ln.due_date > on for ln in self._lines())
        self._refuse(amount, on, kind, owed, has_future)
        alloc = allocate(Money(min(amount, owed)), dues, on=on, order=self.allocation_order) if owed else None
        if kind is RepaymentKind.REGULAR:
            return alloc, None, None
        if alloc is not None and alloc.unapplied.amount:
            # the product's allocation order leaves part of what is due unpaid: no prepayment over an arrear
            raise PolicyViolation("the allocation order leaves part of what is due unpaid; cannot prepay",
                                  code="instalment_overdue", unpaid=str(alloc.unapplied.amount))
        left = amount - (alloc.applied.amount if alloc is not None else _ZERO)
        if left <= 0 or not has_future:
            return alloc, None, None
        terms = self.terms()
        schedule, paid_through = self._schedule(terms, on)
        if kind is RepaymentKind.PAYOFF:
            x = schedule.opening_balance
        else:
            x = prepayment_principal_for(schedule, paid_through=paid_through, on=on, cash=Money(left))
            if x.amount == 0:
                raise PolicyViolation(f"{left} left after what is due does not prepay a fen of principal",
                                      code="insufficient_for_prepayment")
        return alloc, prepay(schedule, paid_through=paid_through, on=on, principal=x, mode=mode), terms

    def _refuse(self, amount: Decimal, on: date, kind: RepaymentKind, owed: Decimal, has_future: bool) -> None:
        """The refusals of `repay` (see its docstring)."""
        if kind is RepaymentKind.REGULAR:
            if owed == 0:
                raise PolicyViolation(f"nothing is due on loan {self.loan_id} on {on}", code="nothing_due",
                                      next_due=None if self.next_due is None else self.next_due.isoformat())
            if amount > owed:
                raise PolicyViolation(
                    f"{amount} exceeds the {owed} due on {on}; send a prepayment or payoff for the rest",
                    code="amount_exceeds_due", due=str(owed),
                )
        elif kind is RepaymentKind.PREPAYMENT:
            if not has_future:
                raise PolicyViolation("no principal is left to prepay beyond what is due",
                                      code="amount_exceeds_due", due=str(owed))
            if amount <= owed:
                raise PolicyViolation(f"{amount} does not exceed the {owed} due: nothing would be left to prepay",
                                      code="insufficient_for_prepayment", due=str(owed))
        else:
            quote = self.payoff_quote(on)
            if amount < quote.total:
                raise PolicyViolation(f"paying off on {on} takes {quote.total}, got {amount}",
                                      code="insufficient_for_payoff", required=str(quote.total))

    def _apply_allocation(self, alloc: Allocation) -> tuple[Decimal, Decimal, Decimal, Decimal]:
        by_period = {ln.period: ln for ln in self._lines()}
        principal = interest = penalty = compound = _ZERO
        for a in alloc.lines:
            penalty += a.penalty.amount
            compound += a.compound.amount
            if a.period == 0:
                continue
            ln = by_period[a.period]
            ln.paid_principal += a.principal.amount
            ln.paid_interest += a.interest.amount
            principal += a.principal.amount
            interest += a.interest.amount
            if ln.status is InstalmentStatus.OVERDUE:
                self.overdue_principal -= a.principal.amount
                self.overdue_interest -= a.interest.amount
            if ln.owed_principal == 0 and ln.owed_interest == 0:
                ln.status = InstalmentStatus.PAID
        self.principal -= principal
        self.interest_paid += interest
        self.penalty_paid += penalty
        self.compound_paid += compound
        return principal, interest, penalty, compound

    def _replace_schedule(self, rest: Schedule, on: date, x: Decimal, terms: LoanTerms
                          ) -> tuple[list[Instalment], list[Instalment]]:
        """Supersede the pending lines by `rest` (re-amortised) and keep the accrual cursor exact."""
        lines = self._lines()
        old = [ln for ln in lines if ln.status is InstalmentStatus.PENDING]
        for ln in old:
            ln.status = InstalmentStatus.SUPERSEDED
            if ln.accrual_end <= on:
                self.interest_base -= ln.interest
        carry = Decimal(0)
        if terms.method is RepaymentMethod.REVOLVING and rest.lines:
            cur = old[0]
            end = min(on, cur.accrual_end)
            carry = terms.day_count.interest(x, terms.annual_rate, cur.accrual_start, end) if end > cur.accrual_start \
                else Decimal(0)
        monthly = {p.index for p in periods(terms) if p.months and terms.basis is InterestBasis.MONTHLY}
        new = [
            Instalment(sl.period, sl.due_date, sl.accrual_start, sl.accrual_end, sl.principal.amount,
                       sl.interest.amount, sl.balance.amount, sl.period in monthly,
                       carry if k == 0 else Decimal(0))
            for k, sl in enumerate(rest.lines)
        ]
        for ln in new:
            if ln.accrual_end <= on:
                self.interest_base += ln.interest
        self.lines = [ln for ln in lines if ln.status is not InstalmentStatus.SUPERSEDED] + new
        nxt = next((ln for ln in new if ln.accrual_end > on), None)
        self.acc = AccruingLine.of(nxt) if nxt is not None else None
        return old, new

    def _settle(self, paid: Decimal, *, penalty: bool, legs: list[Leg]) -> None:
        """Interest (or 罚息/复利) received: suspense first, then the receivable, then straight to income."""
        if paid == 0:
            return
        susp_acct, rec_acct, inc_acct = ((SUSPENSE_PENALTY, PENALTY_RECEIVABLE, PENALTY_INCOME) if penalty
                                         else (SUSPENSE_INTEREST, INTEREST_RECEIVABLE, INTEREST_INCOME))
        susp = self.penalty_suspense if penalty else self.interest_suspense
        rec = self.penalty_receivable if penalty else self.interest_receivable
        s = min(paid, max(susp, _ZERO))
        r = min(paid - s, max(rec, _ZERO))
        e = paid - s - r
        name = "penalty" if penalty else "interest"
        legs += [(inc_acct, -s, f"{name} received from suspense"), (SUSPENSE_CONTRA, s, f"{name} received"),
                 (susp_acct, -s, f"{name} received"), (rec_acct, -r, f"{name} received"),
                 (inc_acct, -e, f"{name} received beyond accrual")]
        if penalty:
            self.penalty_suspense -= s
            self.penalty_receivable -= r
            self.penalty_accrued += e
        else:
            self.interest_suspense -= s
            self.interest_receivable -= r
            self.interest_accrued += e

    def _repayment_legs(self, applied: Decimal, principal: Decimal, interest: Decimal, penalty: Decimal
                        ) -> list[Leg]:
        legs: list[Leg] = [(CLEARING, applied, "repayment received"),
                           (self.loan_account, -principal, "principal repaid")]
        self._settle(interest, penalty=False, legs=legs)
        self._settle(penalty, penalty=True, legs=legs)
        return legs

    def _maybe_close(self, on: date, legs: list[Leg]) -> bool:
        lines = self._lines()
        if self.principal != 0 or self.penalty_owed != 0 or self.compound_owed != 0 or any(
                ln.open and (ln.owed_principal or ln.owed_interest) for ln in lines):
            return False
        for ln in lines:
            if ln.open:
                ln.status = InstalmentStatus.PAID
        memo = "close: reverse accrual not charged"
        r, s = self.interest_receivable, self.interest_suspense
        legs += [(INTEREST_INCOME, r, memo), (INTEREST_RECEIVABLE, -r, memo),
                 (SUSPENSE_CONTRA, s, memo), (SUSPENSE_INTEREST, -s, memo)]
        self.interest_accrued -= r + s
        self.interest_receivable = self.interest_suspense = _ZERO
        r, s = self.penalty_receivable, self.penalty_suspense
        legs += [(PENALTY_INCOME, r, memo), (PENALTY_RECEIVABLE, -r, memo),
                 (SUSPENSE_CONTRA, s, memo), (SUSPENSE_PENALTY, -s, memo)]
        self.penalty_accrued -= r + s
        self.penalty_receivable = self.penalty_suspense = _ZERO
        self.status = LoanStatus.CLOSED
        self.closed_on = on
        self.acc = None
        self.next_due = self.oldest_unpaid_due = None
        self.overdue_principal = self.overdue_interest = _ZERO
        self.dpd = 0
        return True

    def accrual_state(self) -> dict[str, Any] | None:
        """The 罚息/复利 accumulators as JSON (exact decimals as strings), None before the first overdue."""
        if self.penalty_acc is None or self.compound_acc is None:
            return None
        return {"penalty": _acc_json(self.penalty_acc), "compound": _acc_json(self.compound_acc)}

    def load_accrual_state(self, state: dict[str, Any] | None) -> None:
        if not state:
            self.penalty_acc = self.compound_acc = None
            return
        self.penalty_acc = _acc_load(state["penalty"], self.overdue_principal, self.penalty_rate, self.day_count)
        self.compound_acc = _acc_load(state["compound"], self.overdue_interest, self.penalty_rate, self.day_count)


def _acc_json(a: InterestAccumulator) -> dict[str, str]:
    return {"since": a.since.isoformat(), "closed": str(a.closed), "balance_days": str(a.closed_balance_days),
            "posted": str(a.posted)}


def _acc_load(d: dict[str, Any], balance: Decimal, rate: AnnualRate, day_count: DayCount) -> InterestAccumulator:
    return InterestAccumulator(rate, day_count, balance, date.fromisoformat(str(d["since"])), Decimal(str(d["closed"])),
                               Decimal(str(d["balance_days"])), Decimal(str(d["posted"])))


def instalments_of(schedule: Schedule) -> list[Instalment]:
    """The instalments of a freshly built schedule (MONTHLY-basis regular periods flagged)."""
    terms = schedule.terms
    monthly = {p.index for p in periods(terms) if p.months and terms.basis is InterestBasis.MONTHLY}
    return [Instalment(sl.period, sl.due_date, sl.accrual_start, sl.accrual_end, sl.principal.amount,
                       sl.interest.amount, sl.balance.amount, sl.period in monthly) for sl in schedule.lines]


def open_loan(
    *,
    terms: LoanTerms,
    borrower_id: str,
    line_id: int | None,
    penalty_rate: AnnualRate,
    five_class: FiveClass = FiveClass.NORMAL,
    allocation_order: Sequence[Bucket] = DEFAULT_ORDER,
) -> tuple[LoanAccount, list[Leg]]:
    """A new loan drawn on `terms.start` and the GL legs of its drawdown (Dr Loans:<class> / Cr Clearing)."""
    schedule = build_schedule(terms)
    lines = instalments_of(schedule)
    p = terms.principal.amount
    loan = LoanAccount(
        loan_id=None, line_id=line_id, borrower_id=borrower_id, principal_original=p,
        annual_rate=terms.annual_rate, penalty_rate=penalty_rate, method=terms.method, day_count=terms.day_count,
        rounding=terms.rounding, multiples_of=terms.multiples_of, repayment_day=terms.repayment_day,
        roll=terms.roll, term_months=terms.term_months, start=terms.start, maturity=lines[-1].due_date,
        allocation_order=tuple(allocation_order), level=None if schedule.level is None else schedule.level.amount,
        principal=p, five_class=five_class, lines=lines,
    )
    loan._refresh_dates()
    first = next((ln for ln in lines if ln.accrual_end > ln.accrual_start), None)
    loan.acc = AccruingLine.of(first) if first is not None else None
    legs: list[Leg] = [(LOANS_BY_CLASS[five_class], p, "drawdown"), (CLEARING, -p, "drawdown")]
    return loan, legs


def sum_legs(legs: Iterable[Leg]) -> list[Leg]:
    """Net legs by (account, memo), dropping zeros, in a stable order (an EOD batch's entry)."""
    totals: dict[tuple[str, str], Decimal] = {}
    for account, amount, memo in legs:
        if amount:
            key = (account, memo)
            totals[key] = totals.get(key, _ZERO) + amount
    return [(a, v, m) for (a, m), v in sorted(totals.items(), key=lambda kv: (kv[0][1], kv[0][0])) if v]
