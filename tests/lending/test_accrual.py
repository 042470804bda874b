"""Accrual: 积数计息 by hand, penalty and compound interest by the 银发〔2003〕251号 formula, the suspense
boundary, and end-of-day catch-up equal to day-by-day (hypothesis)."""

from __future__ import annotations

from datetime import date, timedelta
from decimal import ROUND_HALF_UP, Decimal

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from puhui.core.daycount import DayCount
from puhui.core.errors import NotFound, PolicyViolation, ValidationError
from puhui.core.money import Money
from puhui.core.rates import AnnualRate
from puhui.core.regulatory import REGULATORY, DatedSetting, SettingsBook
from puhui.lending import (
    InterestAccumulator,
    LoanAccrual,
    LoanBalances,
    LoanTerms,
    build_schedule,
    days_past_due,
    is_non_accrual,
    line_interest_accrued,
    penalty_interest,
    penalty_rate,
)

D = Decimal
DAY = timedelta(days=1)
RATE = AnnualRate.of("0.072")
START = date(2026, 3, 1)


def q(x: Decimal) -> Decimal:
    return x.quantize(D("0.01"), rounding=ROUND_HALF_UP)


# ---- penalty and compound interest ----------------------------------------------------------------------


def test_penalty_rate_is_contract_plus_regulatory_uplift() -> None:
    """银发〔2003〕251号: overdue → contract rate × (1 + 30%…50%); puhui's default is the dated setting (+50%)."""
    uplift = REGULATORY.get("penalty_uplift", START)
    assert penalty_rate(RATE, START) == AnnualRate(RATE.value * (1 + uplift))
    assert penalty_rate(RATE, START) == AnnualRate.of("0.108")  # 7.2% × 1.5, by hand
    assert penalty_rate(RATE, START, uplift="0.30") == AnnualRate.of("0.0936")


@pytest.mark.parametrize("uplift", ["0.29", "0.6", "1"])
def test_uplift_outside_the_band_is_a_policy_violation(uplift: str) -> None:
    with pytest.raises(PolicyViolation) as e:
        penalty_rate(RATE, START, uplift=uplift)
    assert e.value.code == "penalty_uplift_out_of_band"


def test_penalty_and_compound_by_hand() -> None:
    """罚息 on 10,000 overdue principal for 30 days at 7.2% × 1.5 = 10.8%, ACT/360:
    10,000 × 0.108 × 30 / 360 = 90.00. 复利 on 300 overdue interest, same rate: 300 × 0.108 × 30/360 = 2.70."""
    end = START + timedelta(days=30)
    assert penalty_interest(Money("10000"), RATE, START, end) == D("90")
    assert q(penalty_interest(Money("300"), RATE, START, end)) == D("2.70")
    # with a product uplift of 30%: 10,000 × 0.0936 × 30/360 = 78.00
    assert penalty_interest(Money("10000"), RATE, START, end, uplift="0.3") == D("78")


def test_uplift_is_read_from_dated_settings() -> None:
    """A bank's own settings book with a lower default from a later date changes only later penalties."""
    book = SettingsBook([
        DatedSetting("penalty_uplift", D("0.50"), date(2004, 1, 1), "251号"),
        DatedSetting("penalty_uplift", D("0.40"), date(2026, 6, 1), "bank policy"),
        DatedSetting("penalty_uplift_min", D("0.30"), date(2004, 1, 1), "251号"),
        DatedSetting("penalty_uplift_max", D("0.50"), date(2004, 1, 1), "251号"),
    ])
    assert penalty_rate(RATE, date(2026, 5, 31), settings=book) == AnnualRate.of("0.108")
    assert penalty_rate(RATE, date(2026, 6, 1), settings=book) == AnnualRate.of("0.1008")
    with pytest.raises(NotFound) as e:
        penalty_rate(RATE, date(2003, 12, 31), settings=book)
    assert e.value.code == "setting_not_in_force"


# ---- dpd and suspense ----------------------------------------------------------------------------------------


def test_days_past_due() -> None:
    due = date(2026, 3, 20)
    assert days_past_due(None, due) == 0
    assert days_past_due(due, due) == 0  # paying on the due date is on time
    assert days_past_due(due, due + DAY) == 1
    assert days_past_due(due, date(2026, 6, 18)) == 90
    assert days_past_due(due, due - DAY) == 0


def test_non_accrual_after_90_dpd_exclusive() -> None:
    """商业银行金融资产风险分类办法 (2023): "超过90天" → 90 still accrues to income, 91 goes to suspense."""
    assert REGULATORY.get("non_accrual_dpd", START) == 90
    assert not is_non_accrual(0, START)
    assert not is_non_accrual(90, START)
    assert is_non_accrual(91, START)


# ---- 积数计息 ---------------------------------------------------------------------------------------------------


def test_accumulator_by_hand_balance_days() -> None:
    """积数计息: 100,000 for 10 days then 40,000 for 5 days at 3.6% ACT/360.
    积数 = 100,000·10 + 40,000·5 = 1,200,000; interest = 积数 × 3.6% / 360 = 120.00."""
    acc = InterestAccumulator.open(Money("100000"), AnnualRate.of("0.036"), START)
    acc = acc.rebalance(START + timedelta(days=10), Money("40000"))
    until = START + timedelta(days=15)
    assert acc.balance_days(until) == D(1_200_000)
    assert acc.accrued(until) == D(120)
    assert acc.accrued(until) == acc.balance_days(until) * D("0.036") / 360


def test_daily_posting_has_no_rounding_drift() -> None:
    """1,000 at 3.65% for 30 days: 1,000 × 3.65% × 30/360 = 3.0417 → 3.04. Rounding every day would post
    0.10 × 30 = 3.00; posting round(cumulative) − posted gives 3.04 in total."""
    acc = InterestAccumulator.open(Money("1000"), AnnualRate.of("0.0365"), START)
    total = D(0)
    for i in range(1, 31):
        acc, delta = acc.post(START + timedelta(days=i))
        assert delta >= 0
        total += delta
    assert total == D("3.04")
    assert acc.posted == D("3.04")


def test_settle_resets_the_cycle() -> None:
    acc = InterestAccumulator.open(Money("100000"), AnnualRate.of("0.036"), START)
    acc, _ = acc.post(START + timedelta(days=9))
    fresh, settled, unposted = acc.settle(START + timedelta(days=10))
    assert settled == D("100.00") and unposted == D("10.00")
    assert fresh.accrued(START + timedelta(days=11)) == D(10)


def test_reprice_from_a_date() -> None:
    acc = InterestAccumulator.open(Money("100000"), AnnualRate.of("0.036"), START)
    acc = acc.reprice(START + timedelta(days=10), AnnualRate.of("0.072"))
    assert acc.accrued(START + timedelta(days=20)) == D(100) + D(200)


def test_accrual_cannot_go_backwards() -> None:
    acc = InterestAccumulator.open(Money("1"), RATE, START)
    with pytest.raises(ValidationError) as e:
        acc.accrued(START - DAY)
    assert e.value.code == "accrual_date_in_past"
    with pytest.raises(ValidationError) as e2:
        acc.rebalance(START, Money("-1"))
    assert e2.value.code == "negative_amount"


@settings(max_examples=200, deadline=None)
@given(
    changes=st.lists(st.tuples(st.integers(1, 20), st.integers(0, 10**9)), max_size=6),
    first=st.integers(0, 10**9),
    rate_bp=st.integers(0, 3600),
    day_count=st.sampled_from([DayCount.ACT_360, DayCount.ACT_365F, DayCount.ACT_ACT, DayCount.THIRTY_360]),
    start=st.dates(min_value=date(2024, 1, 1), max_value=date(2026, 12, 1)),
)
def test_catch_up_equals_day_by_day(changes, first, rate_bp, day_count, start) -> None:
    """EOD run once over many days posts exactly what daily runs post in total, balance changes included."""
    rate = AnnualRate(D(rate_bp) / 10000)
    daily = InterestAccumulator.open(D(first) / 100, rate, start, day_count)
    bulk = daily
    day, posted_daily = start, D(0)
    for gap, balance_fen in changes:
        for _ in range(gap):
            day += DAY
            daily, delta = daily.post(day)
            assert delta >= 0
            posted_daily += delta
        bulk = bulk.rebalance(day, D(balance_fen) / 100)
        daily = daily.rebalance(day, D(balance_fen) / 100)
    end = day + timedelta(days=7)
    while day < end:
        day += DAY
        daily, delta = daily.post(day)
        posted_daily += delta
    bulk, posted_bulk = bulk.post(end)
    assert posted_daily == posted_bulk == q(bulk.accrued(end))


# ---- one loan: interest, 罚息, 复利 and suspense ----------------------------------------------------------------


def test_loan_accrual_day_by_day_with_overdue_and_suspense() -> None:
    """Contract 7.2%: 50,000 current principal → 10.00 a day (50,000 × 7.2%/360);
    10,000 overdue principal at 10.8% → 3.00 a day; 1,000 overdue interest at 10.8% → 0.30 a day."""
    balances = LoanBalances(Money("50000"), Money("10000"), Money("1000"))
    acc = LoanAccrual.open(balances, on=START, rate=RATE)
    acc, post = acc.accrue_day(START, dpd=90)
    assert (post.interest, post.penalty, post.compound) == (Money("10"), Money("3"), Money("0.30"))
    assert post.total == Money("13.30")
    assert not post.suspense
    acc, post = acc.accrue_day(START + DAY, dpd=91)
    assert post.suspense  # > 90 dpd: to suspense, not income
    assert post.total == Money("13.30")
    # the overdue principal is repaid from the third day: only contract interest and compound remain
    acc = acc.rebalance(START + 2 * DAY, LoanBalances(Money("50000"), Money("0"), Money("1000")))
    acc, post = acc.accrue(START + 5 * DAY, dpd=0)
    assert (post.interest, post.penalty, post.compound) == (Money("30"), Money("0"), Money("0.90"))


# ---- scheduled lines ----------------------------------------------------------------------------------------


def test_line_interest_accrual_reaches_the_line_interest() -> None:
    emi = build_schedule(LoanTerms(principal="120000", annual_rate="0.06", term_months=12, method="emi",
                                   start="2026-01-15"))
    line = emi.lines[0]  # 600.00 over 31 days, MONTHLY basis → straight line
    assert line_interest_accrued(emi, line, line.accrual_start) == 0
    assert q(line_interest_accrued(emi, line, line.accrual_start + timedelta(days=10))) == D("193.55")  # 600·10/31
    assert line_interest_accrued(emi, line, line.accrual_end) == D(600)
    io = build_schedule(LoanTerms(principal="100000", annual_rate="0.036", term_months=3, method="interest_only",
                                  start="2026-01-15"))
    first = io.lines[0]  # DAILY: 10.00 a day
    assert line_interest_accrued(io, first, first.accrual_start + timedelta(days=7)) == D(70)
    assert line_interest_accrued(io, first, first.accrual_end + timedelta(days=3)) == first.interest.amount
    values = [line_interest_accrued(io, first, first.accrual_start + timedelta(days=i)) for i in range(40)]
    assert values == sorted(values)
