"""The collateral product's pure rules: the limit formula, the haircut bands, the decision outcomes, the LTV
check of monitoring and the mortgage state machine. Golden numbers are worked by hand from the formula in
the module docstring (limit = min(cap, value × (LTV cap − haircut) − existing), rounded down to the step)."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from puhui.collateral.product import (
    MortgageStatus,
    Outcome,
    ProductTerms,
    collateral_limit,
    decide,
    haircut_for,
    ltv_check,
    mortgage_transition,
)
from puhui.core.errors import Conflict, ValidationError

TERMS = ProductTerms.on(date(2026, 11, 29))
D = Decimal


def test_terms_read_the_dated_settings() -> None:
    # regulatory.yaml residential_ltv_cap = 0.70 since 2020-01-01; product.yaml bands 90/85/80
    assert TERMS.ltv_cap == D("0.70")
    assert TERMS.haircuts == ((90, D("0.00")), (85, D("0.05")), (80, D("0.10")))
    assert TERMS.step == D("1000.00") and TERMS.min_limit == D("10000.00")
    assert TERMS.breach_action in {"freeze", "reduce"}


@pytest.mark.parametrize(("confidence", "cut"), [(95, D("0.00")), (90, D("0.00")), (89, D("0.05")),
                                                 (85, D("0.05")), (84, D("0.10")), (80, D("0.10")),
                                                 (79, None), (None, None)])
def test_haircut_bands(confidence: int | None, cut: Decimal | None) -> None:
    assert haircut_for(confidence, TERMS) == cut


def test_limit_worked_example() -> None:
    # 3,000,000 × (0.70 − 0.05) − 400,000 = 1,550,000
    assert collateral_limit(D("3000000"), ltv_cap=D("0.70"), haircut=D("0.05"), existing_mortgage=D("400000"),
                            product_cap=D("10000000"), step=D("1000")) == D("1550000.00")
    # 2,345,678 × 0.60 − 0 = 1,407,406.80 → rounded down to the thousand: 1,407,000
    assert collateral_limit(D("2345678"), ltv_cap=D("0.70"), haircut=D("0.10"), existing_mortgage=0,
                            product_cap=D("10000000"), step=D("1000")) == D("1407000.00")
    # the product cap binds: 30,000,000 × 0.70 = 21,000,000 > 10,000,000
    assert collateral_limit(D("30000000"), ltv_cap=D("0.70"), haircut=D("0"), existing_mortgage=0,
                            product_cap=D("10000000"), step=D("1000")) == D("10000000.00")
    # the existing mortgage eats it all: floored at 0
    assert collateral_limit(D("1000000"), ltv_cap=D("0.70"), haircut=D("0"), existing_mortgage=D("800000"),
                            product_cap=D("10000000"), step=D("1000")) == D("0.00")


def test_limit_refuses_floats_and_negatives() -> None:
    with pytest.raises(ValidationError):
        collateral_limit(1e6, ltv_cap=D("0.7"), haircut=D("0"), existing_mortgage=0, product_cap=D("1"), step=D("1"))
    with pytest.raises(ValidationError):
        collateral_limit(D("1"), ltv_cap=D("0.7"), haircut=D("0"), existing_mortgage=D("-1"), product_cap=D("1"),
                         step=D("1"))


@given(value=st.decimals(min_value=0, max_value=10**8, places=2),
       existing=st.decimals(min_value=0, max_value=10**8, places=2),
       cut=st.sampled_from([D("0"), D("0.05"), D("0.10")]))
def test_limit_never_exceeds_what_the_collateral_and_the_cap_support(value: Decimal, existing: Decimal,
                                                                     cut: Decimal) -> None:
    lim = collateral_limit(value, ltv_cap=D("0.70"), haircut=cut, existing_mortgage=existing,
                           product_cap=D("10000000"), step=D("1000"))
    assert D(0) <= lim <= D("10000000")
    assert lim + existing <= value * (D("0.70") - cut) or lim == 0
    assert lim % D("1000") == 0
    # rounding down loses less than one step
    assert lim == 0 or min(D("10000000"), value * (D("0.70") - cut) - existing) - lim < D("1000")


def test_decide_outcomes() -> None:
    ok = decide(value=D("3000000"), confidence=88, no_value_reason=None, existing_mortgage=D("400000"), terms=TERMS)
    assert ok.outcome is Outcome.APPROVE and ok.limit == D("1550000.00") and ok.haircut == D("0.05")
    asked = decide(value=D("3000000"), confidence=88, no_value_reason=None, existing_mortgage=0, terms=TERMS,
                   requested=D("500500"))
    assert asked.limit == D("500000.00")
    nv = decide(value=None, confidence=None, no_value_reason="stale_market", existing_mortgage=0, terms=TERMS)
    assert nv.outcome is Outcome.REFER and nv.limit == 0 and nv.reasons == ("avm_no_value", "avm_stale_market")
    low = decide(value=D("3000000"), confidence=79, no_value_reason=None, existing_mortgage=0, terms=TERMS)
    assert low.outcome is Outcome.REFER and low.reasons == ("avm_low_confidence",)
    eq = decide(value=D("1000000"), confidence=95, no_value_reason=None, existing_mortgage=D("700000"), terms=TERMS)
    assert eq.outcome is Outcome.DECLINE and eq.reasons == ("no_equity",)
    small = decide(value=D("1000000"), confidence=95, no_value_reason=None, existing_mortgage=D("695000"),
                   terms=TERMS)
    assert small.outcome is Outcome.DECLINE and small.reasons == ("below_min_limit",) and small.supported == 5000
    cr = decide(value=D("3000000"), confidence=95, no_value_reason=None, existing_mortgage=0, terms=TERMS,
                credit_outcome="decline")
    assert cr.outcome is Outcome.DECLINE and cr.reasons == ("credit_declined",)
    capped = decide(value=D("20000000"), confidence=95, no_value_reason=None, existing_mortgage=0, terms=TERMS)
    assert capped.limit == D("10000000.00") and capped.reasons == ("product_cap",)
    with pytest.raises(ValidationError):
        decide(value=D("1"), confidence=95, no_value_reason=None, existing_mortgage=0, terms=TERMS,
               credit_outcome="maybe")


def test_ltv_check() -> None:
    # (1,550,000 + 400,000) / 3,000,000 = 0.65 → inside 0.70
    c = ltv_check(value=D("3000000"), limit=D("1550000"), existing_mortgage=D("400000"), ltv_cap=D("0.70"),
                  step=D("1000"))
    assert c.ltv == D("0.6500") and not c.breach and c.supported_limit == D("1700000.00")
    # value falls to 2,500,000: 1,950,000 / 2,500,000 = 0.78 > 0.70; supported 2,500,000 × 0.7 − 400,000
    c = ltv_check(value=D("2500000"), limit=D("1550000"), existing_mortgage=D("400000"), ltv_cap=D("0.70"),
                  step=D("1000"))
    assert c.ltv == D("0.7800") and c.breach and c.supported_limit == D("1350000.00")
    # exactly at the cap is not a breach
    assert not ltv_check(value=D("1000000"), limit=D("700000"), existing_mortgage=0, ltv_cap=D("0.70"),
                         step=D("1000")).breach
    none = ltv_check(value=None, limit=D("1"), existing_mortgage=0, ltv_cap=D("0.7"), step=D("1"))
    assert none.ltv is None and not none.breach


def test_mortgage_state_machine() -> None:
    assert mortgage_transition("pending", "registered") is MortgageStatus.REGISTERED
    assert mortgage_transition(MortgageStatus.REGISTERED, "released") is MortgageStatus.RELEASED
    assert mortgage_transition("pending", "rejected") is MortgageStatus.REJECTED
    for cur, tgt in [("pending", "released"), ("released", "registered"), ("rejected", "registered")]:
        with pytest.raises(Conflict) as e:
            mortgage_transition(cur, tgt)
        assert e.value.code == "invalid_mortgage_transition"


@given(value=st.decimals(min_value=0, max_value=5 * 10**7, places=2),
       existing=st.decimals(min_value=0, max_value=10**7, places=2),
       confidence=st.integers(min_value=0, max_value=100),
       requested=st.none() | st.decimals(min_value=1, max_value=2 * 10**7, places=2))
def test_an_approved_limit_is_always_covered_by_the_haircut_value(value: Decimal, existing: Decimal, confidence: int,
                                                                   requested: Decimal | None) -> None:
    d = decide(value=value, confidence=confidence, no_value_reason=None, existing_mortgage=existing, terms=TERMS,
               requested=requested)
    if d.outcome is Outcome.APPROVE:
        assert d.haircut is not None and confidence >= 80
        assert TERMS.min_limit <= d.limit <= TERMS.product_cap
        assert d.limit + existing <= value * (TERMS.ltv_cap - d.haircut)
        assert requested is None or d.limit <= requested
    else:
        assert d.limit == 0 or d.outcome is Outcome.REFER
