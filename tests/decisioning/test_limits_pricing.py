"""Limit formula and pricing, with golden values worked by hand in the comments."""

from __future__ import annotations

import math
from datetime import date
from decimal import Decimal

import pytest

from puhui.core.regulatory import REGULATORY, DatedSetting, SettingsBook
from puhui.decisioning.cel import to_cel
from puhui.decisioning.engine import decide
from puhui.decisioning.limits import compute_limit, money_from_cel, round_down
from puhui.decisioning.pricing import all_in_apr, cash_flows, price
from puhui.decisioning.scenario import Fee, Scenario

from ._core_kit import AS_OF, facts, model, scenario

CAP = Decimal("10000000")  # inclusive_sme_credit_cap (CBIRC caliber, 2019-03-13)


def env(**values: object) -> dict[str, object]:
    return {k: to_cel(v) for k, v in values.items() if v is not None}


TAX = {"tax_total_paid_12m": Decimal("123456.78"), "tax_sales_12m": Decimal("2500000.00")}


@pytest.fixture(scope="module")
def s() -> Scenario:
    return scenario()


def test_min_of_candidates_rounded_down_to_the_step(s: Scenario) -> None:
    # 3 × 123,456.78 = 370,370.34; 0.2 × 2,500,000 = 500,000.00; min = 370,370.34; grade A × 1.0;
    # rounded down to 10,000 → 370,000.
    r = compute_limit(s, env(**TAX), "A", exposure=Decimal(0), inclusive_cap=CAP)
    assert r.candidates == {"tax_paid_multiple": "370370.34", "sales_share": "500000.00", "balance_multiple": None}
    assert r.base == Decimal("370370.34") and r.binding == "tax_paid_multiple"
    assert r.amount == Decimal("370000.00") and r.reason is None


def test_grade_multiplier(s: Scenario) -> None:
    # grade B: 370,370.34 × 0.9 = 333,333.306 → 333,333.30 (down at the fen) → 330,000.
    r = compute_limit(s, env(**TAX), "B", exposure=Decimal(0), inclusive_cap=CAP)
    assert r.multiplier == Decimal("0.9") and r.amount == Decimal("330000.00")


def test_optional_candidate_joins_the_min_when_present(s: Scenario) -> None:
    # 30 × 9,876.54 = 296,296.20 < 370,370.34 → 290,000.
    r = compute_limit(s, env(**TAX, stl_avg_balance_12m=Decimal("9876.54")), "A", exposure=Decimal(0),
                      inclusive_cap=CAP)  # fmt: skip
    assert r.binding == "balance_multiple" and r.amount == Decimal("290000.00")


def test_float_noise_does_not_lose_a_step(s: Scenario) -> None:
    # 0.2 × 50,000 = 10,000 exactly in decimal; as a double it prints 10000.0, so the limit is a full step.
    assert money_from_cel(0.2 * 50000.0) == Decimal("10000.00")
    assert money_from_cel(0.1 + 0.2) == Decimal("0.30")
    r = compute_limit(s, env(tax_total_paid_12m=Decimal("1000000"), tax_sales_12m=Decimal("200000.00")), "A",
                      exposure=Decimal(0), inclusive_cap=CAP)  # fmt: skip
    assert r.amount == Decimal("40000.00")  # 0.2 × 200,000 = 40,000 exactly


def test_product_cap(s: Scenario) -> None:
    # 3 × 5,000,000 = 15,000,000; 0.2 × 100,000,000 = 20,000,000 → min 15m → product cap 3,000,000.
    r = compute_limit(s, env(tax_total_paid_12m=Decimal("5000000"), tax_sales_12m=Decimal("100000000")), "A",
                      exposure=Decimal(0), inclusive_cap=CAP)  # fmt: skip
    assert r.amount == Decimal("3000000.00") and r.binding == "product_cap"


def test_inclusive_cap_headroom_bites(s: Scenario) -> None:
    # existing credit 9,955,000 → headroom 10,000,000 − 9,955,000 = 45,000 → 40,000 (≥ min 30,000).
    r = compute_limit(s, env(**TAX), "A", exposure=Decimal("9955000"), inclusive_cap=CAP)
    assert r.binding == "inclusive_cap" and r.amount == Decimal("40000.00")
    assert r.caps["inclusive_cap"] == "45000"
    # existing credit 9,975,000 → headroom 25,000 < min 30,000 → declined with the cap's code.
    r = compute_limit(s, env(**TAX), "A", exposure=Decimal("9975000"), inclusive_cap=CAP)
    assert r.reason == "inclusive_cap_reached" and r.amount == 0
    # existing credit above the cap → no headroom at all
    r = compute_limit(s, env(**TAX), "A", exposure=Decimal("12000000"), inclusive_cap=CAP)
    assert r.reason == "inclusive_cap_reached" and r.caps["inclusive_cap"] == "0.00"


def test_below_minimum(s: Scenario) -> None:
    # 3 × 9,000 = 27,000 → 20,000 after rounding, below the 30,000 minimum.
    r = compute_limit(s, env(tax_total_paid_12m=Decimal("9000"), tax_sales_12m=Decimal("2500000")), "A",
                      exposure=Decimal(0), inclusive_cap=CAP)  # fmt: skip
    assert r.reason == "limit_below_minimum" and r.amount == 0


def test_negative_candidate_counts_as_zero(s: Scenario) -> None:
    r = compute_limit(s, env(tax_total_paid_12m=Decimal("-5000"), tax_sales_12m=Decimal("2500000")), "A",
                      exposure=Decimal(0), inclusive_cap=CAP)  # fmt: skip
    assert r.candidates["tax_paid_multiple"] == "0.00" and r.reason == "limit_below_minimum"


def test_required_candidate_missing_is_no_data(s: Scenario) -> None:
    r = compute_limit(s, env(tax_sales_12m=Decimal("2500000")), "A", exposure=Decimal(0), inclusive_cap=CAP)
    assert r.reason == "limit_no_data" and r.missing == ("tax_paid_multiple",)


def test_round_down() -> None:
    assert round_down(Decimal("379999.99"), Decimal("10000")) == Decimal("370000.00")
    assert round_down(Decimal("380000"), Decimal("10000")) == Decimal("380000.00")
    assert round_down(Decimal("12345.67"), Decimal("5000")) == Decimal("10000.00")
    assert round_down(Decimal("-1"), Decimal("10000")) == Decimal("0.00")


# ---- pricing ----------------------------------------------------------------------------------------------


def test_rate_is_lpr_plus_spread(s: Scenario) -> None:
    # 2026-06-30: LPR 1Y 3.00% (since 2025-05-20) + 80 bp = 3.80%
    p = price(s.pricing, "B", AS_OF, term_months=12, methods=("revolving",))
    assert p.base_rate == Decimal("0.0300") and p.annual_rate == Decimal("0.038000") and p.bound is None
    assert p.apr == p.annual_rate  # no fees: the APR is the rate


def test_rate_uses_the_lpr_of_the_decision_date(s: Scenario) -> None:
    # 2025-01-15: LPR 1Y 3.10% (2024-10-21) + 80 bp = 3.90%
    p = price(s.pricing, "B", date(2025, 1, 15), term_months=12, methods=("revolving",))
    assert p.annual_rate == Decimal("0.039000")


def test_floor_and_cap(s: Scenario) -> None:
    # A: 3.00% + 45 bp = 3.45% = the floor (not below it); a lower LPR would be lifted to the floor
    book = SettingsBook([*(e for k in REGULATORY.keys() for e in REGULATORY.history(k) if k != "lpr_1y"),  # noqa: SIM118
                         DatedSetting("lpr_1y", Decimal("0.0250"), date(2020, 1, 1), "test")])  # fmt: skip
    p = price(s.pricing, "A", AS_OF, term_months=12, methods=("revolving",), settings=book)
    assert p.annual_rate == Decimal("0.034500") and p.bound == "floor"
    # D: 3.00% + 600 bp = 9.00% → capped at 8.00%
    p = price(s.pricing, "D", AS_OF, term_months=12, methods=("revolving",))
    assert p.annual_rate == Decimal("0.080000") and p.bound == "cap"


def _fee(kind: str, rate: str) -> Fee:
    return Fee(name="fee", kind=kind, rate=Decimal(rate), zh="费", en="fee")  # type: ignore[arg-type]


def test_apr_with_upfront_fee_closed_form() -> None:
    # Bullet, 12 months, 6% simple interest, 1% fee at drawdown: 0.99 now, 1.06 in 12 months, so the monthly
    # IRR is (1.06 / 0.99)^(1/12) − 1 and the APR is 12 × that = 6.85140935…% → 0.068515 rounded up.
    expected = 12 * ((1.06 / 0.99) ** (1 / 12) - 1)
    apr = all_in_apr(Decimal("0.06"), [_fee("upfront", "0.01")], 12, "bullet")
    assert Decimal(str(expected)) <= apr <= Decimal(str(expected)) + Decimal("0.000001")
    assert apr == Decimal("0.068515")


def test_apr_with_annual_fee_on_interest_only_adds_exactly() -> None:
    # Interest-only: each month pays (r + g) / 12 on the amount, principal at the end → IRR = (r + g) / 12.
    assert all_in_apr(Decimal("0.065"), [_fee("annual", "0.005")], 12, "interest_only") == Decimal("0.070000")


def test_apr_on_amortising_loan_solves_npv_zero() -> None:
    rate, fees = Decimal("0.08"), [_fee("upfront", "0.02")]
    apr = all_in_apr(rate, fees, 12, "equal_instalment")
    flows = cash_flows(rate, fees, 12, "equal_instalment")
    npv = lambda i: sum(cf / (1 + i) ** t for t, cf in enumerate(flows))  # noqa: E731
    assert npv(float(apr) / 12) >= -1e-9  # at the rounded-up APR the borrower's NPV is not negative
    assert npv((float(apr) - 2e-6) / 12) < 0  # and a hair below it, it is
    assert apr > Decimal("0.11")  # a 2% fee on a 12-month amortising loan adds well over 3 points


def test_offer_apr_is_the_highest_among_the_allowed_methods() -> None:
    # interest-only: 6.5% + 0.5% fee = 7.00%; equal instalments pay the fee on the full amount while the
    # balance falls, so their APR is higher — the offer shows that one.
    fees = [{"name": "guarantee_fee", "kind": "annual", "rate": "0.005", "zh": "担保费", "en": "guarantee fee"}]
    s = scenario(**{"pricing.fees": fees, "pricing.spread_bp.D": 350, "repayment_methods": ["interest_only",
                                                                                             "equal_instalment"]})
    p = price(s.pricing, "D", AS_OF, term_months=12, methods=("interest_only",))
    assert p.annual_rate == Decimal("0.065000") and p.apr == Decimal("0.070000")
    both = price(s.pricing, "D", AS_OF, term_months=12, methods=s.repayment_methods)
    assert both.apr == all_in_apr(Decimal("0.065"), s.pricing.fees, 12, "equal_instalment") > p.apr
    d = decide(s, facts(), model(0.03))
    assert d.offer is not None and d.offer.apr == both.apr and d.offer.fees[0].rate == Decimal("0.005")


def test_apr_without_fees_is_the_rate_for_every_method() -> None:
    for method in ("equal_instalment", "equal_principal", "interest_only", "revolving", "bullet"):
        assert all_in_apr(Decimal("0.0455"), [], 24, method) == Decimal("0.045500")
        assert all_in_apr(Decimal("0.0455"), [_fee("upfront", "0")], 24, method) == Decimal("0.045500")


def test_equal_instalment_cash_flows_repay_the_principal() -> None:
    flows = cash_flows(Decimal("0.06"), [], 12, "equal_instalment")
    r = 0.005
    pay = r * (1 + r) ** 12 / ((1 + r) ** 12 - 1)  # 等额本息 M = P·r·(1+r)^n / ((1+r)^n − 1)
    assert all(math.isclose(-cf, pay, rel_tol=1e-12) for cf in flows[1:])


def test_offer_above_the_apr_ceiling_of_the_day_is_declined() -> None:
    # Load-time check uses the ceiling in force now (24%); a ceiling of 3.5% on the decision date refuses
    # the 3.80% offer of grade B rather than quoting a lower, unapproved rate.
    s = scenario()
    book = SettingsBook([*(e for k in REGULATORY.keys() for e in REGULATORY.history(k) if k != "all_in_apr_cap"),  # noqa: SIM118
                         DatedSetting("all_in_apr_cap", Decimal("0.035"), date(2020, 1, 1), "test")])  # fmt: skip
    d = decide(s, facts(), model(0.008), settings=book)
    assert d.outcome == "decline" and d.offer is None
    assert d.reason_codes == ("apr_above_cap",)
    assert "0.038000 > 0.035" in d.reasons[0].en
