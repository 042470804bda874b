"""The loan account, pure: posting rules, accrual, overdue, 罚息/复利, suspense, repayments — and the GL.

Golden figures: Fineract V1 (loan_servicing.md §2: 12,000 at 2%/month, 4 instalments; instalment 1 is
principal 2911.49 + interest 240.00, and its repayment credits the loan portfolio 2911.49 and interest
240.00); 银发〔2003〕251号 penalty formula (contract rate × 1.5 × days / 360 on overdue principal, the same
rate as 复利 on overdue interest); 民法典 Art 677 (a payoff charges interest for the days actually lent).
"""

from __future__ import annotations

from datetime import date, timedelta
from decimal import ROUND_HALF_UP, Decimal

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from puhui.core.calendar import RollRule
from puhui.core.errors import Conflict, PolicyViolation, PuhuiError
from puhui.lending.accrual import line_interest_accrued, penalty_rate
from puhui.lending.classification import FiveClass
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
    Balances,
    make_entry,
)
from puhui.lending.loans import LoanAccount, open_loan
from puhui.lending.schedule import build_schedule
from puhui.lending.terms import LoanTerms

DAY = timedelta(days=1)
_ZERO = Decimal("0.00")


class Book:
    """Loans plus a GL built from their legs; `check` is the reconciliation the end of day asserts."""

    def __init__(self) -> None:
        self.loans: list[LoanAccount] = []
        self.gl = Balances()
        self.n = 0
        self.drawn = _ZERO
        self.received = _ZERO

    def post(self, legs: list[tuple[str, Decimal, str]]) -> None:
        self.n += 1
        e = make_entry(date(2026, 1, 1), "eod", f"e{self.n}", "test", legs)
        if e is not None:
            self.gl.apply(e)

    def open(self, terms: LoanTerms, borrower: str = "B") -> LoanAccount:
        loan, legs = open_loan(terms=terms, borrower_id=borrower, line_id=None,
                               penalty_rate=penalty_rate(terms.annual_rate, terms.start))
        loan.loan_id = len(self.loans) + 1
        self.loans.append(loan)
        self.post(legs)
        self.drawn += terms.principal.amount
        return loan

    def eod(self, loan: LoanAccount, day: date) -> None:
        self.post(loan.end_of_day(day).legs)
        legs, _ = loan.reclassify(loan.loan_class(day), day)
        self.post(legs)

    def repay(self, loan: LoanAccount, amount: Decimal, day: date, **kw: object) -> object:
        out = loan.repay(amount, day, **kw)  # type: ignore[arg-type]
        self.post(out.legs)
        self.received += out.applied
        return out

    def check(self) -> None:
        tb = self.gl.trial_balance()
        tb.assert_balanced()
        g = self.gl.balance
        for c in FiveClass:
            assert g(LOANS_BY_CLASS[c]) == sum((x.principal for x in self.loans if x.five_class == c), _ZERO)
        assert g(INTEREST_RECEIVABLE) == sum((x.interest_receivable for x in self.loans), _ZERO)
        assert g(PENALTY_RECEIVABLE) == sum((x.penalty_receivable for x in self.loans), _ZERO)
        assert g(SUSPENSE_INTEREST) == sum((x.interest_suspense for x in self.loans), _ZERO)
        assert g(SUSPENSE_PENALTY) == sum((x.penalty_suspense for x in self.loans), _ZERO)
        assert g(SUSPENSE_CONTRA) == -(g(SUSPENSE_INTEREST) + g(SUSPENSE_PENALTY))
        assert g(CLEARING) == self.received - self.drawn
        assert g(INTEREST_INCOME) == -sum((x.interest_accrued - x.interest_suspense for x in self.loans), _ZERO)
        assert g(PENALTY_INCOME) == -sum((x.penalty_accrued + x.compound_accrued - x.penalty_suspense
                                           for x in self.loans), _ZERO)
        for x in self.loans:
            assert x.principal >= 0 and x.overdue_principal >= 0
            assert x.interest_receivable + x.interest_suspense == x.interest_accrued - x.interest_paid
            assert x.penalty_owed >= 0 and x.compound_owed >= 0


def _run(book: Book, loan: LoanAccount, start: date, end: date) -> None:
    """End of day for every date in [start, end)."""
    d = start
    while d < end:
        book.eod(loan, d)
        d += DAY


def test_fineract_v1_first_instalment_and_its_postings() -> None:
    terms = LoanTerms(principal="12000", annual_rate="0.24", term_months=4, method="equal_instalment",
                      start=date(2024, 9, 20), roll=RollRule.NONE)
    book = Book()
    loan = book.open(terms)
    assert [(ln.principal, ln.interest) for ln in loan.lines][:1] == [(Decimal("2911.49"), Decimal("240.00"))]
    _run(book, loan, date(2024, 9, 20), date(2024, 10, 20))
    assert loan.interest_receivable == Decimal("240.00")  # the month's interest, accrued straight-line
    assert loan.due_now(date(2024, 10, 20)) == Decimal("3151.49")
    gl_before = dict(book.gl.amounts)
    out = book.repay(loan, Decimal("3151.49"), date(2024, 10, 20))
    assert (out.principal, out.interest) == (Decimal("2911.49"), Decimal("240.00"))  # type: ignore[attr-defined]
    moved = {k: book.gl.balance(k) - gl_before.get(k, _ZERO) for k in book.gl.amounts}
    assert moved[CLEARING] == Decimal("3151.49")
    assert moved[LOANS_BY_CLASS[FiveClass.NORMAL]] == Decimal("-2911.49")
    assert moved[INTEREST_RECEIVABLE] == Decimal("-240.00")
    book.check()


def test_penalty_and_compound_interest_follow_the_251_formula() -> None:
    # bullet 10,000 at 4.35% for one month from 2026-01-05, due 2026-02-05 (a Thursday), unpaid for 10 days.
    terms = LoanTerms(principal="10000", annual_rate="0.0435", term_months=1, method="bullet",
                      start=date(2026, 1, 5))
    book = Book()
    loan = book.open(terms)
    assert loan.lines[0].interest == Decimal("37.46")  # 10000 × 0.0435 × 31 / 360 = 37.458…
    _run(book, loan, date(2026, 1, 5), date(2026, 2, 15))
    # 罚息 = 10000 × 0.0435 × 1.5 × 10 / 360 = 18.125 → 18.13; 复利 = 37.46 × 0.06525 × 10 / 360 = 0.0679 → 0.07
    assert (loan.penalty_accrued, loan.compound_accrued) == (Decimal("18.13"), Decimal("0.07"))
    assert (loan.overdue_principal, loan.overdue_interest, loan.dpd) == (Decimal("10000.00"), Decimal("37.46"), 9)
    assert loan.five_class is FiveClass.SPECIAL_MENTION
    assert loan.due_now(date(2026, 2, 15)) == Decimal("10055.66")
    out = book.repay(loan, Decimal("10055.66"), date(2026, 2, 15))
    assert out.closed and loan.principal == 0  # type: ignore[attr-defined]
    book.check()
    assert book.gl.balance(PENALTY_INCOME) == Decimal("-18.20")


def test_more_than_90_dpd_moves_interest_to_suspense_and_cash_brings_it_back() -> None:
    terms = LoanTerms(principal="50000", annual_rate="0.06", term_months=1, method="bullet", start=date(2025, 1, 6))
    book = Book()
    loan = book.open(terms)
    due = loan.lines[0].due_date
    _run(book, loan, date(2025, 1, 6), due + 91 * DAY)  # through due + 90: dpd 90, "超过90天" not yet
    assert (loan.dpd, loan.non_accrual, loan.five_class) == (90, False, FiveClass.SPECIAL_MENTION)
    receivable = loan.interest_receivable + loan.penalty_receivable
    income_before = book.gl.balance(INTEREST_INCOME) + book.gl.balance(PENALTY_INCOME)
    book.eod(loan, due + 91 * DAY)  # dpd 91
    assert (loan.dpd, loan.non_accrual, loan.five_class) == (91, True, FiveClass.SUBSTANDARD)
    assert loan.interest_receivable == loan.penalty_receivable == 0
    # the receivable left income and went off balance, together with the day's accrual
    income_after = book.gl.balance(INTEREST_INCOME) + book.gl.balance(PENALTY_INCOME)
    assert income_after - income_before == receivable
    assert book.gl.balance(SUSPENSE_INTEREST) + book.gl.balance(SUSPENSE_PENALTY) > receivable
    book.check()
    q = loan.payoff_quote(due + 92 * DAY)
    book.repay(loan, q.total, due + 92 * DAY, kind="payoff")
    book.check()
    assert loan.status.value == "closed"
    assert book.gl.balance(SUSPENSE_INTEREST) == book.gl.balance(SUSPENSE_CONTRA) == 0
    # everything paid is income now: interest and penalties, cash basis for the suspended part
    paid = loan.interest_paid + loan.penalty_paid + loan.compound_paid
    assert -(book.gl.balance(INTEREST_INCOME) + book.gl.balance(PENALTY_INCOME)) == paid


def test_payoff_charges_interest_to_the_day_only() -> None:
    # 民法典 Art 677: 100,000 at 4.35% (ACT/360), paid off after 15 days → 100000 × 0.0435 × 15 / 360 = 181.25
    terms = LoanTerms(principal="100000", annual_rate="0.0435", term_months=12, method="interest_only",
                      start=date(2026, 3, 2))
    book = Book()
    loan = book.open(terms)
    _run(book, loan, date(2026, 3, 2), date(2026, 3, 17))
    q = loan.payoff_quote(date(2026, 3, 17))
    assert (q.principal, q.interest, q.total) == (Decimal("100000.00"), Decimal("181.25"), Decimal("100181.25"))
    out = book.repay(loan, Decimal("100200.00"), date(2026, 3, 17), kind="payoff")
    assert (out.applied, out.unapplied, out.closed) == (Decimal("100181.25"), Decimal("18.75"), True)  # type: ignore
    book.check()
    assert book.gl.balance(INTEREST_INCOME) == Decimal("-181.25")
    assert book.gl.balance(INTEREST_RECEIVABLE) == 0


def test_payoff_of_a_monthly_basis_loan_trues_up_the_accrual() -> None:
    terms = LoanTerms(principal="36000", annual_rate="0.0435", term_months=12, method="equal_instalment",
                      start=date(2026, 1, 5))
    book = Book()
    loan = book.open(terms)
    _run(book, loan, date(2026, 1, 5), date(2026, 1, 25))
    q = loan.payoff_quote(date(2026, 1, 25))
    assert q.interest == Decimal("87.00")  # 36000 × 0.0435 × 20 / 360
    book.repay(loan, q.total, date(2026, 1, 25), kind="payoff")
    book.check()
    assert loan.interest_accrued == loan.interest_paid == Decimal("87.00")


@pytest.mark.parametrize("mode", ["reduce_instalment", "reduce_term"])
def test_partial_prepayment_reamortises_and_keeps_the_books(mode: str) -> None:
    terms = LoanTerms(principal="120000", annual_rate="0.048", term_months=12, method="equal_instalment",
                      start=date(2026, 1, 5))
    book = Book()
    loan = book.open(terms)
    level = loan.level
    _run(book, loan, date(2026, 1, 5), date(2026, 2, 5))
    book.repay(loan, loan.due_now(date(2026, 2, 5)), date(2026, 2, 5))
    _run(book, loan, date(2026, 2, 5), date(2026, 2, 20))
    out = book.repay(loan, Decimal("30000.00"), date(2026, 2, 20), kind="prepayment", mode=mode)
    assert out.prepaid_principal > Decimal("29900")  # type: ignore[attr-defined]
    pending = [ln for ln in loan.lines if ln.status.value == "pending"]
    assert sum((ln.principal for ln in pending), _ZERO) == loan.principal
    if mode == "reduce_term":
        assert len(pending) < 11 and loan.level == level
    else:
        assert len(pending) == 11 and loan.level < level
    _run(book, loan, date(2026, 2, 20), date(2026, 4, 1))
    book.check()


def test_revolving_principal_repaid_mid_period_carries_its_interest() -> None:
    terms = LoanTerms(principal="100000", annual_rate="0.036", term_months=6, method="revolving",
                      start=date(2026, 3, 2), repayment_day=20)
    book = Book()
    loan = book.open(terms)
    _run(book, loan, date(2026, 3, 2), date(2026, 3, 12))
    out = book.repay(loan, Decimal("40000.00"), date(2026, 3, 12), kind="prepayment")
    assert (out.prepaid_principal, out.interest) == (Decimal("40000.00"), _ZERO)  # type: ignore[attr-defined]
    _run(book, loan, date(2026, 3, 12), date(2026, 3, 20))
    # the settlement on the 20th: 60,000 for 18 days + 40,000 for the 10 days it was out (积数计息)
    expected = (Decimal(60000) * 18 + Decimal(40000) * 10) * Decimal("0.036") / 360
    assert loan.lines[0].interest == expected.quantize(Decimal("0.01"))
    assert loan.interest_receivable == loan.lines[0].interest
    book.check()


def test_refusals_change_nothing() -> None:
    terms = LoanTerms(principal="10000", annual_rate="0.05", term_months=3, method="equal_principal",
                      start=date(2026, 3, 2))
    book = Book()
    loan = book.open(terms)
    snapshot = (loan.principal, loan.interest_paid, [(ln.paid_principal, ln.status) for ln in loan.lines])
    for amount, kind, code in [("-1", "regular", "non_positive_amount"), ("100", "regular", "nothing_due"),
                               ("10", "payoff", "insufficient_for_payoff"), ("0", "prepayment", None)]:
        with pytest.raises(PuhuiError) as e:
            loan.repay(Decimal(amount), date(2026, 3, 2), kind=kind)
        if code is not None:
            assert e.value.code == code
    assert snapshot == (loan.principal, loan.interest_paid, [(ln.paid_principal, ln.status) for ln in loan.lines])
    with pytest.raises(Conflict) as c:
        loan.repay(Decimal(1), date(2026, 3, 3), kind="prepayment")
    assert c.value.code == "eod_pending"
    book.eod(loan, date(2026, 3, 2))
    with pytest.raises(Conflict) as c:
        loan.repay(Decimal(1), date(2026, 3, 2), kind="prepayment")
    assert c.value.code == "business_date_closed"
    book.repay(loan, loan.payoff_quote(date(2026, 3, 3)).total, date(2026, 3, 3), kind="payoff")
    with pytest.raises(PolicyViolation) as e:
        loan.repay(Decimal(1), date(2026, 3, 3))
    assert e.value.code == "loan_closed"
    book.check()


def test_regular_repayment_may_not_exceed_what_is_due() -> None:
    terms = LoanTerms(principal="10000", annual_rate="0.05", term_months=3, method="equal_principal",
                      start=date(2026, 3, 2))
    book = Book()
    loan = book.open(terms)
    _run(book, loan, date(2026, 3, 2), date(2026, 4, 2))
    with pytest.raises(PolicyViolation) as e:
        loan.repay(loan.due_now(date(2026, 4, 2)) + Decimal("0.01"), date(2026, 4, 2))
    assert e.value.code == "amount_exceeds_due"
    book.repay(loan, Decimal("1000.00"), date(2026, 4, 2))  # partial: interest first (current interest → principal)
    assert loan.lines[0].paid_interest == loan.lines[0].interest
    book.eod(loan, date(2026, 4, 2))
    assert loan.overdue_principal > 0 and loan.lines[0].status.value == "overdue"
    book.check()


_METHODS = ["equal_instalment", "equal_principal", "interest_only", "revolving", "bullet"]


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(method=st.sampled_from(_METHODS), fen=st.integers(100_000, 100_000_000), bp=st.integers(0, 2400),
       term=st.integers(1, 6), start=st.dates(date(2024, 1, 1), date(2026, 6, 30)),
       day_count=st.sampled_from(["ACT/360", "ACT/365F", "ACT/ACT", "30/360"]))
def test_daily_accrual_adds_up_to_the_schedule_exactly(method: str, fen: int, bp: int, term: int, start: date,
                                                       day_count: str) -> None:
    terms = LoanTerms(principal=Decimal(fen) / 100, annual_rate=Decimal(bp) / 10000, term_months=term,
                      method=method, start=start, day_count=day_count)
    book = Book()
    loan = book.open(terms)
    schedule = build_schedule(terms)
    lines = {ln.period: ln for ln in schedule.lines}
    day = start
    end = schedule.lines[-1].accrual_end
    while day < end:
        acc = loan.acc
        book.eod(loan, day)
        if acc is not None and day + DAY < acc.end:
            # the cumulative accrual of the running line matches accrual.line_interest_accrued, rounded
            expected = line_interest_accrued(schedule, lines[acc.period], day + DAY)
            assert loan._partial(acc, day + DAY) == expected.quantize(Decimal("0.01"), rounding=ROUND_HALF_UP)
        day += DAY
    assert loan.interest_accrued == schedule.total_interest.amount
    # unpaid instalments age past 90 days on long loans: part of the accrual then sits in suspense
    assert loan.interest_receivable + loan.interest_suspense == schedule.total_interest.amount


def _pay(book: Book, loan: LoanAccount, op: str, pct: int, day: date) -> None:
    due = loan.due_now(day)
    try:
        if op == "pay_due" and due:
            out = book.repay(loan, due, day)
        elif op == "partial" and due:
            out = book.repay(loan, max((due * pct / 100).quantize(Decimal("0.01")), Decimal("0.01")), day)
        elif op == "prepay":
            out = book.repay(loan, due + Decimal(pct * 100), day, kind="prepayment")
        elif op == "payoff":
            out = book.repay(loan, loan.payoff_quote(day).total, day, kind="payoff")
        else:
            return
    except PolicyViolation as e:
        assert e.code in {"amount_exceeds_due", "insufficient_for_prepayment", "nothing_due"}
        return
    assert out.applied <= out.amount  # type: ignore[attr-defined]


def _end_of_days(book: Book, loans: list[LoanAccount], day: date, days: int) -> date:
    for _ in range(days):
        active = [x for x in loans if x.status.value == "active"]
        for x in active:
            book.post(x.end_of_day(day).legs)
        worst = max((x.loan_class(day) for x in active), default=FiveClass.NORMAL)  # one borrower
        for x in active:
            book.post(x.reclassify(worst, day)[0])
        day += DAY
    return day


@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(st.tuples(st.sampled_from(["eod", "pay_due", "partial", "prepay", "payoff", "draw"]),
                          st.integers(1, 40), st.integers(1, 100)), min_size=1, max_size=25),
       st.sampled_from(_METHODS))
def test_books_balance_after_every_transaction(ops: list[tuple[str, int, int]], method: str) -> None:
    book = Book()
    day = date(2025, 12, 1)
    loans = [book.open(LoanTerms(principal="60000", annual_rate="0.06", term_months=6, method=method, start=day),
                       borrower="B1")]
    book.check()
    for op, days, pct in ops:
        active = [x for x in loans if x.status.value == "active"]
        if op == "eod" or not active:
            day = _end_of_days(book, loans, day, days)
        elif op == "draw":
            terms = LoanTerms(principal=Decimal(pct * 1000), annual_rate="0.05", term_months=1 + days % 12,
                              method=_METHODS[days % 5], start=day)
            loans.append(book.open(terms, borrower="B1"))
        else:
            _pay(book, active[pct % len(active)], op, pct, day)
        book.check()
