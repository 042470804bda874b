"""Schedules against figures from independent sources: Fineract and Frappe test vectors
(shared/reference/loan_servicing.md §2), numpy-financial, published CN mortgage figures, and hand
computations with the formula written next to them."""

from __future__ import annotations

from datetime import date, timedelta
from decimal import ROUND_HALF_UP, Decimal

import chinese_calendar
import numpy_financial as npf
import pytest

from puhui.core.calendar import CN_CALENDAR
from puhui.core.errors import ValidationError
from puhui.core.money import Money
from puhui.lending import (
    InterestBasis,
    LoanTerms,
    RepaymentMethod,
    annuity_payment,
    build_schedule,
    periods,
)

D = Decimal


def yuan(x: Decimal) -> Decimal:
    """Whole yuan, half up: Frappe's tests compare `flt(x, 0)`."""
    return x.quantize(D(1), rounding=ROUND_HALF_UP)


def fen(x: float) -> Decimal:
    """A numpy-financial float rounded half up to the fen (via its shortest repr)."""
    return D(repr(float(x))).quantize(D("0.01"), rounding=ROUND_HALF_UP)


def next_workday(d: date) -> date:
    """FOLLOWING roll by the `chinesecalendar` package (an independent holiday source)."""
    while not chinese_calendar.is_workday(d):
        d += timedelta(days=1)
    return d


# ---- Fineract ---------------------------------------------------------------------------------------


def test_fineract_v1_equal_instalments_half_even() -> None:
    """V1: 12,000 at 2%/month, 4 monthly, HALF_EVEN (Fineract default rounding-mode 6).

    ClientLoanIntegrationTest.verifyLoanRepaymentSchedule: principal/interest 2911.49/240.00,
    2969.72/181.77, 3029.11/122.38, 3089.68/61.79; EMI 3151.49; total interest 605.94.
    """
    s = build_schedule(LoanTerms(principal="12000", annual_rate="0.24", term_months=4,
                                 method="equal_instalment", start="2011-09-20", rounding="half_even"))
    assert s.level == Money("3151.49")
    assert [(ln.principal.amount, ln.interest.amount) for ln in s.lines] == [
        (D("2911.49"), D("240.00")), (D("2969.72"), D("181.77")),
        (D("3029.11"), D("122.38")), (D("3089.68"), D("61.79")),
    ]
    assert s.total_interest == Money("605.94")
    assert s.total_principal == Money("12000")


def test_fineract_v2_equal_principal_in_multiples_of_100() -> None:
    """V2: 10,000,000 at 2%/month, 24 months, inMultiplesOf 100 (verifyLoanRepaymentScheduleForEqualPrincipal).

    Principal 416,700 for #1–#23 and 415,900 for #24. Fineract rounds *every* amount to 100 (its
    currency setting); we round the level principal to the multiple and interest to the fen, so the
    interest column matches V2 once rounded to 100: #1 200,000; #2 191,700; #3 183,300; #4 175,000;
    #5 166,700; #6 158,300; #10 125,000; #20 41,700; #24 8,300.
    """
    s = build_schedule(LoanTerms(principal="10000000", annual_rate="0.24", term_months=24,
                                 method="equal_principal", start="2014-06-02", multiples_of="100"))
    assert [ln.principal.amount for ln in s.lines] == [D("416700")] * 23 + [D("415900")]
    assert s.lines[0].interest.amount == D("200000")
    to_100 = {ln.period: (ln.interest.amount / 100).quantize(D(1), rounding=ROUND_HALF_UP) * 100 for ln in s.lines}
    expected = {1: 200000, 2: 191700, 3: 183300, 4: 175000, 5: 166700, 6: 158300, 10: 125000, 20: 41700,
                24: 8300}
    assert {k: to_100[k] for k in expected} == {k: D(v) for k, v in expected.items()}
    assert s.level == Money("416700")


# ---- Frappe Lending ---------------------------------------------------------------------------------


def test_frappe_v6_repay_over_20_periods() -> None:
    """V6: 280,000 at 8.4%, 20 monthly periods (frappe/lending test_loan.py::test_loan, snapshot 3f2cbc13).

    Frappe: EMI = ceil(15,051.72) = 15,052; interest = balance × 8.4%/12 unrounded; its test compares
    whole yuan. Expected: total interest 21,034; row[3] principal 13,369, interest 1,683, balance
    227,080; row[19] principal 14,941, interest 105. Our instalment rounded to a multiple of 1 yuan
    (half up) is the same 15,052; our lines are rounded to the fen and agree to the yuan.
    """
    s = build_schedule(LoanTerms(principal="280000", annual_rate="0.084", term_months=20,
                                 method="equal_instalment", start="2025-01-27", multiples_of="1"))
    assert s.level == Money("15052")
    assert len(s.lines) == 20
    assert yuan(s.total_interest.amount) == 21034
    r3, r19 = s.lines[3], s.lines[19]
    assert (yuan(r3.principal.amount), yuan(r3.interest.amount), yuan(r3.balance.amount)) == (13369, 1683, 227080)
    assert (yuan(r19.principal.amount), yuan(r19.interest.amount), r19.balance.amount) == (14941, 105, 0)


def test_frappe_ceiling_emi_1m_at_13_5_percent() -> None:
    """Frappe test_loan_repayment_for_term_loan: 1,000,000 at 13.5%, 12 months → EMI 89,553 (math.ceil),
    first period interest 11,250, principal 78,303. Rounding UP to a multiple of 1 is Frappe's ceil."""
    s = build_schedule(LoanTerms(principal="1000000", annual_rate="0.135", term_months=12,
                                 method="equal_instalment", start="2025-01-30", rounding="up", multiples_of="1"))
    assert s.level == Money("89553")
    assert s.lines[0].interest == Money("11250")
    assert s.lines[0].principal == Money("78303")


# ---- CN formulas, checked with numpy-financial and published figures ------------------------------------


def test_cn_mortgage_1m_30y_4_9_percent_published_figures() -> None:
    """100万, 30年, 年利率 4.9%: 等额本息 月供 5,307.27; 等额本金 首月 6,861.11, 每月递减 11.34 — the figures
    every Chinese mortgage calculator prints (cn_domain §1.10 formulas); 月供 also = npf.pmt rounded."""
    ei = build_schedule(LoanTerms(principal="1000000", annual_rate="0.049", term_months=360,
                                  method="等额本息", start="2026-01-15"))
    assert ei.level == Money("5307.27")
    assert ei.level.amount == fen(npf.pmt(0.049 / 12, 360, -1_000_000))
    ep = build_schedule(LoanTerms(principal="1000000", annual_rate="0.049", term_months=360,
                                  method="等额本金", start="2026-01-15"))
    assert ep.lines[0].instalment == Money("6861.11")
    assert ep.lines[0].instalment.amount - ep.lines[1].instalment.amount == D("11.34")
    # 等额本金 total interest, textbook: P·r·(n+1)/2 = 737,041.67 unrounded. Ours rounds each of 360 lines
    # (≤ 0.005 each) and the principal part (2,777.78 vs 2,777.777…): within 360 × 0.005 = 1.80.
    textbook = D(1_000_000) * D("0.049") / 12 * 361 / 2
    assert abs(ep.total_interest.amount - textbook) <= D("1.80")


@pytest.mark.parametrize(
    ("principal", "rate", "n"),
    [(50_000, "0.0435", 12), (300_000, "0.0385", 36), (1_234_567.89, "0.18", 24), (800, "0.2399", 6),
     (5_000_000, "0.031", 120), (10_000, "0.072", 60)],
)
def test_equal_instalment_matches_numpy_financial(principal, rate: str, n: int) -> None:
    """The level instalment equals npf.pmt rounded to the fen; each balance equals npf.fv with our rounded
    instalment, within the rounding that accumulates (≤ 0.005 a line, compounded: 0.005·((1+r)^k − 1)/r)."""
    p = D(str(principal))
    s = build_schedule(LoanTerms(principal=p, annual_rate=rate, term_months=n, method="emi", start="2026-03-10"))
    r = float(rate) / 12
    assert s.level.amount == fen(npf.pmt(r, n, -float(p)))
    m = float(s.level.amount)
    for k, ln in enumerate(s.lines[:-1], start=1):
        expected = -npf.fv(r, k, -m, float(p))
        tol = 0.005 * ((1 + r) ** k - 1) / r + 0.01
        assert abs(float(ln.balance.amount) - expected) <= tol, (k, ln.balance, expected)
        expected_interest = float(ln.opening_balance.amount) * r
        assert abs(float(ln.interest.amount) - expected_interest) <= 0.005 + 1e-9
    assert s.total_principal.amount == p


def test_equal_principal_textbook() -> None:
    """等额本金 (cn_domain §1.10): principal_k = P/n, interest_k = balance_{k−1} × 年利率/12.
    120,000 at 6% over 12: principal 10,000 each; interest 600.00, 550.00, …, 50.00 (by hand)."""
    s = build_schedule(LoanTerms(principal="120000", annual_rate="0.06", term_months=12, method="等额本金",
                                 start="2026-01-15"))
    assert [ln.principal.amount for ln in s.lines] == [D("10000")] * 12
    assert [ln.interest.amount for ln in s.lines] == [D(600 - 50 * k) for k in range(12)]
    assert s.total_interest == Money("3900")  # 600·13/2


def test_zero_rate_splits_principal_exactly() -> None:
    s = build_schedule(LoanTerms(principal="1000", annual_rate="0", term_months=3, method="emi", start="2026-01-15"))
    assert [ln.principal.amount for ln in s.lines] == [D("333.33"), D("333.33"), D("333.34")]
    assert s.total_interest == Money("0")


# ---- daily-interest methods, by hand ---------------------------------------------------------------------


def test_interest_only_actual_days_and_month_end_rule() -> None:
    """按月付息到期还本: interest = 100,000 × 4.35% × days / 360 (cn_domain §1.10), days 算头不算尾.
    Start 31 Jan: due dates 28 Feb, 31 Mar, 30 Apr, 31 May, 30 Jun, 31 Jul (民法典 Art 202, from the start)."""
    s = build_schedule(LoanTerms(principal="100000", annual_rate="0.0435", term_months=6, method="先息后本",
                                 start="2026-01-31"))
    ends = [ln.accrual_end for ln in s.lines]
    assert ends == [date(2026, 2, 28), date(2026, 3, 31), date(2026, 4, 30), date(2026, 5, 31),
                    date(2026, 6, 30), date(2026, 7, 31)]
    days = [28, 31, 30, 31, 30, 31]
    assert [ln.days for ln in s.lines] == days
    assert [ln.interest.amount for ln in s.lines] == [
        (D(100000) * D("0.0435") * d / 360).quantize(D("0.01"), rounding=ROUND_HALF_UP) for d in days]
    assert [ln.principal.amount for ln in s.lines] == [D(0)] * 5 + [D(100000)]
    # 2026-02-28 is a Saturday worked under the Spring Festival 调休: no roll. 2026-05-31 is a Sunday.
    assert s.lines[0].due_date == date(2026, 2, 28) == next_workday(date(2026, 2, 28))
    assert s.lines[3].due_date == next_workday(date(2026, 5, 31)) == date(2026, 6, 1)


def test_bullet_interest_over_the_whole_term() -> None:
    """到期一次还本付息: 100,000 × 4.35% × 181 / 360 = 2,187.0833 → 2,187.08 (5 Jan → 5 Jul 2026)."""
    s = build_schedule(LoanTerms(principal="100000", annual_rate="0.0435", term_months=6, method="bullet",
                                 start="2026-01-05"))
    (ln,) = s.lines
    assert (ln.accrual_start, ln.accrual_end, ln.days) == (date(2026, 1, 5), date(2026, 7, 5), 181)
    assert ln.interest == Money("2187.08")
    assert ln.principal == Money("100000")
    assert ln.due_date == next_workday(date(2026, 7, 5))


def test_bullet_monthly_basis_charges_rate_times_months() -> None:
    s = build_schedule(LoanTerms(principal="100000", annual_rate="0.06", term_months=6, method="bullet",
                                 start="2026-01-05", interest_basis="monthly"))
    assert s.lines[0].interest == Money("3000")  # 100,000 × 6% × 6/12


def test_revolving_settles_on_the_20th_and_pays_principal_at_maturity() -> None:
    """随借随还, drawn 5 Jan 2026 for 6 months, 结息日 the 20th: [5 Jan, 20 Jan) = 15 days → 181.25
    (100,000 × 4.35% × 15/360); then monthly to the 20th; last line [20 Jun, 5 Jul) with the principal."""
    s = build_schedule(LoanTerms(principal="100000", annual_rate="0.0435", term_months=6, method="随借随还",
                                 start="2026-01-05", repayment_day=20))
    assert [ln.accrual_end for ln in s.lines] == [date(2026, m, 20) for m in range(1, 7)] + [date(2026, 7, 5)]
    assert s.lines[0].interest == Money("181.25")
    assert s.lines[-1].interest == Money("181.25")
    assert s.lines[-1].principal == Money("100000")
    assert all(ln.principal.is_zero() for ln in s.lines[:-1])
    assert s.lines[1].due_date == next_workday(date(2026, 2, 20))  # 20 Feb 2026 is in the Spring Festival


# ---- holidays: roll the payment day, interest to the contractual day (or not) -------------------------------


def test_due_date_rolls_past_national_day_and_interest_stops_at_the_unrolled_date() -> None:
    """1 Oct 2026 is National Day: the payment moves to the next working day (8 Oct, by chinesecalendar);
    interest runs to 1 Oct by default. 100,000 at 3.6% ACT/360 = 10.00 a day."""
    t = LoanTerms(principal="100000", annual_rate="0.036", term_months=2, method="interest_only",
                  start="2026-09-01")
    s = build_schedule(t)
    assert s.lines[0].due_date == next_workday(date(2026, 10, 1)) == date(2026, 10, 8)
    assert s.lines[0].accrual_end == date(2026, 10, 1)
    assert [ln.interest.amount for ln in s.lines] == [D("300.00"), D("310.00")]  # 30 and 31 days
    rolled = build_schedule(t.replace(accrue_to_rolled_date=True))
    assert rolled.lines[0].accrual_end == date(2026, 10, 8)
    # 1 Nov 2026 is a Sunday: maturity paid 2 Nov; 37 and 25 days
    assert rolled.lines[1].accrual_end == rolled.lines[1].due_date == date(2026, 11, 2)
    assert [ln.interest.amount for ln in rolled.lines] == [D("370.00"), D("250.00")]


def test_roll_none_keeps_the_contractual_dates() -> None:
    s = build_schedule(LoanTerms(principal="100000", annual_rate="0.036", term_months=2, method="interest_only",
                                 start="2026-09-01", roll="none"))
    assert s.lines[0].due_date == date(2026, 10, 1)


def test_monthly_basis_ignores_rolled_days() -> None:
    t = LoanTerms(principal="100000", annual_rate="0.06", term_months=2, method="emi", start="2026-09-01")
    rolled = build_schedule(t.replace(accrue_to_rolled_date=True))
    assert build_schedule(t).lines[0].interest == rolled.lines[0].interest
    assert build_schedule(t).lines[0].interest == Money("500")  # 100,000 × 6% / 12


def test_fixed_repayment_day_first_period_irregular_by_days() -> None:
    """还款日 20, drawn 5 Jan: first due 20 Feb (the month after the drawdown), first period charged by
    actual days (46 days × 6%/360 on 120,000 = 920.00), later periods balance × 6%/12."""
    s = build_schedule(LoanTerms(principal="120000", annual_rate="0.06", term_months=12, method="等额本金",
                                 start="2026-01-05", repayment_day=20))
    assert s.lines[0].accrual_end == date(2026, 2, 20)
    assert s.lines[0].interest == Money("920.00")
    assert s.lines[1].interest == Money("550.00")  # 110,000 × 0.5%
    assert periods(s.terms)[0].months == 0 and periods(s.terms)[1].months == 1
    assert s.lines[-1].accrual_end == date(2027, 1, 20)


def test_repayment_day_31_means_month_end() -> None:
    s = build_schedule(LoanTerms(principal="1000", annual_rate="0.06", term_months=3, method="emi",
                                 start="2026-01-31", repayment_day=31))
    assert [ln.accrual_end for ln in s.lines] == [date(2026, 2, 28), date(2026, 3, 31), date(2026, 4, 30)]
    assert all(p.months == 1 for p in periods(s.terms))


def test_due_dates_are_working_days_where_the_calendar_has_data() -> None:
    s = build_schedule(LoanTerms(principal="500000", annual_rate="0.04", term_months=36, method="emi",
                                 start="2023-01-31"))
    assert s.calendar_covered
    for ln in s.lines:
        assert CN_CALENDAR.is_working_day(ln.due_date)
        assert ln.due_date == next_workday(ln.accrual_end)
    beyond = build_schedule(s.terms.replace(start="2026-06-01"))
    assert not beyond.calendar_covered


# ---- level amount, multiples, fallbacks ------------------------------------------------------------------


def test_instalment_in_multiples_of_rounds_the_level_and_keeps_principal_exact() -> None:
    s = build_schedule(LoanTerms(principal="100000", annual_rate="0.0435", term_months=12, method="emi",
                                 start="2026-01-15", multiples_of="10"))
    exact = annuity_payment(D(100000), D("0.0435") / 12, 12)  # 8,530.99
    assert s.level == Money("8530")  # nearest multiple of 10 (half up)
    assert exact.quantize(D("0.01")) == D("8530.99")
    assert all(ln.instalment == s.level for ln in s.lines[:-1])
    assert s.total_principal == Money("100000")


def test_rounding_up_that_would_repay_early_falls_back_to_rounding_down() -> None:
    """500 over 12 at 6%: M = 43.03; up to a multiple of 10 gives 50, which would repay by period 11 and
    leave empty instalments; the engine rounds down to 40 and the last instalment takes the rest."""
    s = build_schedule(LoanTerms(principal="500", annual_rate="0.06", term_months=12, method="emi",
                                 start="2026-01-15", multiples_of="10", rounding="up"))
    assert s.level == Money("40")
    assert all(ln.instalment == Money("40") for ln in s.lines[:-1])
    assert s.lines[-1].instalment > Money("40")
    assert s.total_principal == Money("500")


def test_daily_basis_equal_instalment_keeps_m_and_charges_days() -> None:
    t = LoanTerms(principal="100000", annual_rate="0.0435", term_months=12, method="emi", start="2026-01-15",
                  interest_basis="daily")
    s = build_schedule(t)
    assert t.basis is InterestBasis.DAILY
    assert s.level == build_schedule(t.replace(interest_basis=None)).level
    first = s.lines[0]
    assert first.interest.amount == (D(100000) * D("0.0435") * 31 / 360).quantize(D("0.01"))  # 15 Jan → 15 Feb
    assert s.total_principal == Money("100000")


def test_schedule_rows_are_json_ready() -> None:
    s = build_schedule(LoanTerms(principal="12000", annual_rate="0.24", term_months=4, method="emi",
                                 start="2011-09-20", rounding="half_even"))
    row = s.to_rows()[0]
    assert row == {"period": 1, "due_date": "2011-10-20", "principal": "2911.49", "interest": "240.00",
                   "instalment": "3151.49", "balance": "9088.51"}
    assert s.line(4).balance == Money("0")
    with pytest.raises(ValidationError) as e:
        s.line(5)
    assert e.value.code == "unknown_period"


def test_method_enum_covers_the_five_methods() -> None:
    names = {m.chinese for m in RepaymentMethod}
    assert names == {"等额本息", "等额本金", "按月付息到期还本", "随借随还", "到期一次还本付息"}


def test_a_different_calendar_gives_different_dates() -> None:
    """A bank calendar with 2 Mar 2026 off moves that due date; the cached periods must not leak across."""
    import io

    from puhui.core.calendar import ChinaCalendar

    t = LoanTerms(principal="1000", annual_rate="0.06", term_months=2, method="emi", start="2026-01-02")
    bank = ChinaCalendar.from_csv(io.StringIO("date,kind,name,source\n2026-03-02,holiday,bank day,test\n"))
    assert periods(t)[1].due == date(2026, 3, 2)
    assert periods(t.replace(calendar=bank))[1].due == date(2026, 3, 3)
    assert build_schedule(t.replace(calendar=bank)).lines[1].due_date == date(2026, 3, 3)
