"""Prepayment and payoff: interest only for the days the money was out (民法典 Art 677), re-amortisation
checked with numpy-financial, and the principal conserved (hypothesis)."""

from __future__ import annotations

import math
from datetime import date, timedelta
from decimal import ROUND_HALF_UP, Decimal

import numpy_financial as npf
import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st

from puhui.core.errors import PolicyViolation, ValidationError
from puhui.core.money import Money
from puhui.lending import (
    LoanTerms,
    PrepaymentMode,
    RepaymentMethod,
    build_schedule,
    payoff,
    prepay,
    prepayment_principal_for,
)

D = Decimal
TERMS = LoanTerms(principal="120000", annual_rate="0.06", term_months=12, method="等额本息", start="2026-01-15")
PLAN = build_schedule(TERMS)


def fen(x: float) -> Decimal:
    return D(repr(float(x))).quantize(D("0.01"), rounding=ROUND_HALF_UP)


def test_partial_prepayment_reduce_instalment() -> None:
    """Three instalments paid; 50,000 prepaid on 1 May 2026, inside period 4 [15 Apr, 15 May).
    Interest settled now = 50,000 × 6% × 16 / 360 = 133.33 (Art 677: only the 16 days it was out).
    New instalment = npf.pmt(0.5%, 9, B − 50,000) rounded; the maturity is unchanged."""
    b = PLAN.line(3).balance.amount
    p = prepay(PLAN, paid_through=3, on=date(2026, 5, 1), principal=Money("50000"))
    assert p.interest == Money("133.33")
    assert p.principal == Money("50000")
    assert p.total == Money("50133.33")
    rest = p.schedule
    assert [ln.period for ln in rest.lines] == list(range(4, 13))
    assert rest.level is not None
    assert rest.level.amount == fen(npf.pmt(0.005, 9, -float(b - 50000)))
    assert rest.opening_balance.amount == b - 50000
    assert rest.total_principal.amount == b - 50000
    assert rest.maturity == PLAN.maturity
    # the current period charges the reduced balance for the whole period: (B − x) × 0.5%
    assert rest.lines[0].interest.amount == ((b - 50000) * D("0.005")).quantize(D("0.01"), rounding=ROUND_HALF_UP)


def test_partial_prepayment_reduce_term_keeps_the_instalment() -> None:
    b = PLAN.line(3).balance.amount
    p = prepay(PLAN, paid_through=3, on="2026-05-01", principal="50000", mode="reduce_term")
    rest = p.schedule
    assert rest.level == PLAN.level
    assert len(rest.lines) == math.ceil(npf.nper(0.005, -float(PLAN.level.amount), float(b - 50000)))
    assert all(ln.instalment == PLAN.level for ln in rest.lines[:-1])
    assert rest.lines[-1].instalment <= PLAN.level
    assert rest.total_principal.amount == b - 50000
    assert rest.maturity < PLAN.maturity


def test_payoff_charges_interest_only_to_the_payoff_day() -> None:
    """提前结清 on 1 May: principal B + B × 6% × 16/360 (民法典 Art 677), nothing for later periods."""
    b = PLAN.line(3).balance.amount
    p = payoff(PLAN, paid_through=3, on=date(2026, 5, 1))
    assert p.principal.amount == b
    assert p.interest.amount == (b * D("0.06") * 16 / 360).quantize(D("0.01"), rounding=ROUND_HALF_UP)
    assert p.paid_off and p.schedule.lines == ()


def test_payoff_on_the_due_date_charges_the_period_interest() -> None:
    p = payoff(PLAN, paid_through=3, on=PLAN.line(4).accrual_end)
    assert p.interest == PLAN.line(4).interest


def test_prepaying_the_whole_balance_is_a_payoff() -> None:
    b = PLAN.line(3).balance
    assert prepay(PLAN, paid_through=3, on="2026-05-01", principal=b) == payoff(PLAN, paid_through=3, on="2026-05-01")


def test_second_prepayment_on_the_remaining_schedule() -> None:
    first = prepay(PLAN, paid_through=3, on="2026-05-01", principal="50000").schedule
    second = prepay(first, paid_through=6, on="2026-08-01", principal="10000", mode="reduce_term")
    assert second.schedule.total_principal.amount == first.line(6).balance.amount - 10000
    assert second.schedule.lines[0].period == 7


def test_equal_principal_reduce_instalment_and_term() -> None:
    t = TERMS.replace(method="equal_principal")
    plan = build_schedule(t)
    b = plan.line(2).balance.amount  # 100,000
    ri = prepay(plan, paid_through=2, on="2026-03-20", principal="40000").schedule
    assert ri.level == Money((b - 40000) / 10)  # 6,000 a month over the 10 periods left
    rt = prepay(plan, paid_through=2, on="2026-03-20", principal="40000", mode="reduce_term").schedule
    assert rt.level == plan.level == Money("10000")
    assert len(rt.lines) == 6  # 60,000 / 10,000


def test_revolving_repayment_carries_the_interest_to_the_next_settlement() -> None:
    """随借随还 100,000 at 4.35%, 结息日 20th; 40,000 repaid on 1 Feb. No interest now; the settlement of
    20 Feb charges 40,000 × 4.35% × 12/360 + 60,000 × 4.35% × 31/360 = 58.00 + 224.75 = 282.75 (积数)."""
    plan = build_schedule(LoanTerms(principal="100000", annual_rate="0.0435", term_months=6, method="随借随还",
                                    start="2026-01-05", repayment_day=20))
    p = prepay(plan, paid_through=1, on="2026-02-01", principal="40000")
    assert p.interest == Money("0")
    assert p.schedule.lines[0].interest == Money("282.75")
    assert p.schedule.lines[-1].principal == Money("60000")
    with pytest.raises(ValidationError) as e:
        prepay(plan, paid_through=1, on="2026-02-01", principal="40000", mode="reduce_term")
    assert e.value.code == "prepayment_mode_not_applicable"


def test_principal_for_a_cash_amount() -> None:
    on = date(2026, 5, 1)
    x = prepayment_principal_for(PLAN, paid_through=3, on=on, cash="10000")
    p = prepay(PLAN, paid_through=3, on=on, principal=x)
    assert p.total <= Money("10000")
    bigger = prepay(PLAN, paid_through=3, on=on, principal=x + Money("0.01"))
    assert bigger.total > Money("10000")
    everything = prepayment_principal_for(PLAN, paid_through=3, on=on, cash="1000000")
    assert everything == PLAN.line(3).balance


@pytest.mark.parametrize(
    ("kwargs", "error", "code"),
    [
        ({"on": "2026-05-16"}, PolicyViolation, "instalment_overdue"),
        ({"on": "2026-04-01"}, ValidationError, "invalid_prepayment_date"),
        ({"principal": "200000"}, ValidationError, "prepayment_exceeds_balance"),
        ({"principal": "-5"}, ValidationError, "non_positive_amount"),
        ({"principal": Money("5", "USD")}, ValidationError, "currency_mismatch"),
        ({"principal": 100.0}, ValidationError, "float_not_allowed"),
        ({"mode": "reduce_both"}, ValidationError, "unknown_prepayment_mode"),
        ({"paid_through": 12}, ValidationError, "invalid_paid_through"),
    ],
)
def test_bad_prepayments(kwargs: dict, error: type, code: str) -> None:
    args = {"paid_through": 3, "on": "2026-05-01", "principal": "1000", **kwargs}
    with pytest.raises(error) as e:
        prepay(PLAN, **args)
    assert e.value.code == code


def test_paid_off_schedule_refuses_more() -> None:
    done = payoff(PLAN, paid_through=3, on="2026-05-01").schedule
    with pytest.raises(PolicyViolation) as e:
        payoff(done, paid_through=3, on="2026-05-01")
    assert e.value.code == "loan_paid_off"


# ---- properties -------------------------------------------------------------------------------------------


@settings(max_examples=200, deadline=None)
@given(
    principal_fen=st.integers(min_value=100_00, max_value=5_000_000_00),
    rate_bp=st.integers(min_value=0, max_value=2400),
    n=st.integers(min_value=2, max_value=60),
    method=st.sampled_from([RepaymentMethod.EQUAL_INSTALMENT, RepaymentMethod.EQUAL_PRINCIPAL,
                            RepaymentMethod.INTEREST_ONLY]),
    data=st.data(),
)
def test_prepayment_conserves_principal(principal_fen, rate_bp, n, method, data) -> None:
    t = LoanTerms(principal=D(principal_fen) / 100, annual_rate=D(rate_bp) / 10000, term_months=n,
                  method=method, start=date(2025, 3, 31))
    plan = build_schedule(t)
    k = data.draw(st.integers(min_value=0, max_value=n - 1), label="paid_through")
    cur = plan.line(k + 1)
    outstanding = cur.opening_balance.amount
    assume(outstanding > 0)
    on = cur.accrual_start + timedelta(days=data.draw(st.integers(0, (cur.due_date - cur.accrual_start).days)))
    x = D(data.draw(st.integers(min_value=1, max_value=int(outstanding * 100)), label="x_fen")) / 100
    modes = [PrepaymentMode.REDUCE_INSTALMENT] + ([PrepaymentMode.REDUCE_TERM] if method.amortising else [])
    for mode in modes:
        p = prepay(plan, paid_through=k, on=on, principal=Money(x), mode=mode)
        rest = p.schedule
        assert p.principal.amount + rest.total_principal.amount == outstanding
        assert not p.interest.is_negative()
        prev = rest.opening_balance.amount
        for ln in rest.lines:
            assert D(0) <= ln.balance.amount <= prev
            assert not ln.interest.is_negative()
            prev = ln.balance.amount
        if x == outstanding:
            assert p.paid_off
        elif mode is PrepaymentMode.REDUCE_INSTALMENT:
            assert [ln.period for ln in rest.lines] == list(range(k + 1, n + 1))
        else:
            assert len(rest.lines) <= n - k
            assert rest.level == plan.level
        # less principal owed never means more interest still to pay (beyond a fen a line of re-rounding)
        slack = D("0.01") * len(rest.lines)
        assert rest.total_interest.amount <= sum(ln.interest.amount for ln in plan.lines[k:]) + slack
