"""puhui.lending: the lending core — terms, schedules, repayments, accrual, overdue and classification.

This package's pure domain (no database, no web; Decimal and `Money` only) offers:

* **Terms** — `LoanTerms`, `RepaymentMethod` (等额本息, 等额本金, 按月付息到期还本, 随借随还, 到期一次还本付息),
  `InterestBasis` (MONTHLY r = 年利率/12, or DAILY by the day count).
* **Schedules** — `build_schedule(terms) -> Schedule` of `ScheduleLine`s (period, due date, principal,
  interest, instalment, balance), each line rounded once to the fen, the last absorbing the residual;
  `periods(terms)`, `period_interest(...)` (the one interest formula), `annuity_payment(...)`.
* **Repayments** — `allocate(amount, dues, on=...)` over `Due`s in a configurable `Bucket` order
  (`DEFAULT_ORDER`: penalty → compound → overdue interest → overdue principal → current interest →
  current principal), returning an `Allocation` with the unapplied remainder.
* **Prepayment** — `prepay(schedule, paid_through=, on=, principal=, mode=PrepaymentMode.…)` (reduce
  instalment or reduce term), `payoff(...)` (interest only to the payoff day, 民法典 Art 677),
  `prepayment_principal_for(...)`.
* **Accrual and overdue** — `InterestAccumulator` (积数计息, drift-free posting), `LoanAccrual` with
  `LoanBalances` → `AccrualPosting` (interest, 罚息, 复利, suspense flag), `penalty_rate`,
  `penalty_interest`, `days_past_due`, `is_non_accrual`, `line_interest_accrued`.
* **Classification** — `FiveClass` (正常/关注/次级/可疑/损失), `classify(dpd, on)`, `borrower_class`,
  `apply_borrower_level`.

Bad input raises `puhui.core.errors.ValidationError` (or `PolicyViolation`) with a stable `code`:
`unknown_repayment_method`, `unknown_day_count`, `non_positive_principal`, `invalid_term`,
`float_not_allowed`, `negative_rate`, `non_positive_amount`, `instalment_overdue`, … Everything not
listed in `__all__` is private.
"""

from puhui.lending.accrual import (
    AccrualPosting,
    InterestAccumulator,
    LoanAccrual,
    LoanBalances,
    days_past_due,
    is_non_accrual,
    line_interest_accrued,
    penalty_interest,
    penalty_rate,
    penalty_uplift,
)
from puhui.lending.allocation import DEFAULT_ORDER, Allocation, AppliedLine, Bucket, Due, allocate, parse_order
from puhui.lending.classification import FiveClass, apply_borrower_level, borrower_class, classify, dpd_floors
from puhui.lending.prepayment import Prepayment, PrepaymentMode, payoff, prepay, prepayment_principal_for
from puhui.lending.schedule import (
    Period,
    Schedule,
    ScheduleLine,
    amortise,
    annuity_payment,
    build_schedule,
    period_interest,
    periods,
)
from puhui.lending.terms import DEFAULT_BASIS, MAX_TERM_MONTHS, InterestBasis, LoanTerms, RepaymentMethod

__all__ = [
    "DEFAULT_BASIS",
    "DEFAULT_ORDER",
    "MAX_TERM_MONTHS",
    "AccrualPosting",
    "Allocation",
    "AppliedLine",
    "Bucket",
    "Due",
    "FiveClass",
    "InterestAccumulator",
    "InterestBasis",
    "LoanAccrual",
    "LoanBalances",
    "LoanTerms",
    "Period",
    "Prepayment",
    "PrepaymentMode",
    "RepaymentMethod",
    "Schedule",
    "ScheduleLine",
    "allocate",
    "amortise",
    "annuity_payment",
    "apply_borrower_level",
    "borrower_class",
    "build_schedule",
    "classify",
    "days_past_due",
    "dpd_floors",
    "is_non_accrual",
    "line_interest_accrued",
    "parse_order",
    "payoff",
    "penalty_interest",
    "penalty_rate",
    "penalty_uplift",
    "period_interest",
    "periods",
    "prepay",
    "prepayment_principal_for",
]
