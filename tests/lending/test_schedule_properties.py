"""Invariants money depends on, for every method, rounding mode, multiple, day count and date (hypothesis):
principal sums exactly to the loan, no balance is negative, balances never rise, every amount is whole fen."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

from hypothesis import given, settings
from hypothesis import strategies as st

from puhui.core.calendar import RollRule
from puhui.core.dates import add_months
from puhui.core.daycount import DayCount
from puhui.core.money import Rounding
from puhui.lending import LoanTerms, RepaymentMethod, build_schedule

FEN = Decimal("0.01")

terms_strategy = st.builds(
    LoanTerms,
    principal=st.integers(min_value=1, max_value=10**10).map(lambda f: Decimal(f) * FEN),
    annual_rate=st.integers(min_value=0, max_value=3600).map(lambda bp: Decimal(bp) / 10000),
    term_months=st.one_of(st.integers(min_value=1, max_value=36), st.integers(min_value=37, max_value=360)),
    method=st.sampled_from(list(RepaymentMethod)),
    start=st.dates(min_value=date(2016, 1, 1), max_value=date(2026, 12, 31)),
    day_count=st.sampled_from([DayCount.ACT_360, DayCount.ACT_365F, DayCount.ACT_ACT, DayCount.THIRTY_360]),
    rounding=st.sampled_from(list(Rounding)),
    multiples_of=st.sampled_from([None, Decimal("0.05"), Decimal("1"), Decimal("10"), Decimal("100")]),
    repayment_day=st.one_of(st.none(), st.integers(min_value=1, max_value=31)),
    roll=st.sampled_from(list(RollRule)),
    accrue_to_rolled_date=st.booleans(),
)


@settings(max_examples=400, deadline=None)
@given(terms_strategy)
def test_schedule_invariants(t: LoanTerms) -> None:
    s = build_schedule(t)
    lines = s.lines
    assert lines, "a schedule has at least one line"
    # principal sums EXACTLY to the loan, the last balance is zero
    assert sum(ln.principal.amount for ln in lines) == t.principal.amount
    assert lines[-1].balance.amount == 0
    prev_balance = t.principal.amount
    prev_end = t.start
    for ln in lines:
        for m in (ln.principal, ln.interest, ln.balance):
            assert m.amount.as_tuple().exponent == -2, m
            assert m.amount >= 0
        # the balance is the previous one less this principal, and never rises
        assert ln.balance.amount == prev_balance - ln.principal.amount
        assert ln.balance.amount <= prev_balance
        # accrual periods are contiguous and move forward; payment dates never precede the period start
        assert ln.accrual_start == prev_end < ln.accrual_end
        assert ln.due_date > ln.accrual_start
        prev_balance, prev_end = ln.balance.amount, ln.accrual_end
    assert [ln.period for ln in lines] == list(range(1, len(lines) + 1))
    if t.method is not RepaymentMethod.REVOLVING:
        n = 1 if t.method is RepaymentMethod.BULLET else t.term_months
        assert len(lines) == n
    if t.method.amortising and t.repayment_day is None and not t.accrue_to_rolled_date:
        # contractual dates are add_months(start, k), counted from the start each time (民法典 Art 202)
        assert [ln.accrual_end for ln in lines] == [add_months(t.start, k) for k in range(1, len(lines) + 1)]
    if t.method in (RepaymentMethod.INTEREST_ONLY, RepaymentMethod.BULLET, RepaymentMethod.REVOLVING):
        assert all(ln.principal.is_zero() for ln in lines[:-1])
    if t.method is RepaymentMethod.EQUAL_PRINCIPAL:
        assert s.level is not None
        assert all(ln.principal == s.level for ln in lines[:-1] if not ln.opening_balance < s.level)
    if t.method is RepaymentMethod.EQUAL_INSTALMENT:
        assert s.level is not None
        if t.multiples_of is not None:
            assert s.level.amount % t.multiples_of == 0
        for ln in lines[:-1]:
            if ln.interest <= s.level and ln.opening_balance.amount > s.level.amount - ln.interest.amount:
                assert ln.instalment == s.level  # the level instalment, unless clamped


@settings(max_examples=150, deadline=None)
@given(terms_strategy)
def test_schedule_is_deterministic(t: LoanTerms) -> None:
    assert build_schedule(t) == build_schedule(t)
