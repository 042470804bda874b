"""LoanTerms and RepaymentMethod: normalisation, defaults and every bad input as a typed error with a code."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest

from puhui.core.calendar import RollRule
from puhui.core.daycount import DayCount
from puhui.core.errors import ValidationError
from puhui.core.money import Money, Rounding
from puhui.core.rates import AnnualRate
from puhui.lending import DEFAULT_BASIS, InterestBasis, LoanTerms, RepaymentMethod

BASE = {"principal": "100000", "annual_rate": "0.0435", "term_months": 12, "method": "equal_instalment",
        "start": "2026-01-15"}


def terms(**changes) -> LoanTerms:
    return LoanTerms(**{**BASE, **changes})


@pytest.mark.parametrize(
    ("text", "method"),
    [
        ("equal_instalment", RepaymentMethod.EQUAL_INSTALMENT),
        ("EQUAL_INSTALLMENT", RepaymentMethod.EQUAL_INSTALMENT),
        ("EMI", RepaymentMethod.EQUAL_INSTALMENT),
        ("等额本息", RepaymentMethod.EQUAL_INSTALMENT),
        ("equal-principal", RepaymentMethod.EQUAL_PRINCIPAL),
        ("等额本金", RepaymentMethod.EQUAL_PRINCIPAL),
        ("interest_only", RepaymentMethod.INTEREST_ONLY),
        ("先息后本", RepaymentMethod.INTEREST_ONLY),
        ("按月付息到期还本", RepaymentMethod.INTEREST_ONLY),
        ("Revolving", RepaymentMethod.REVOLVING),
        ("随借随还", RepaymentMethod.REVOLVING),
        ("bullet", RepaymentMethod.BULLET),
        ("利随本清", RepaymentMethod.BULLET),
        ("到期一次还本付息", RepaymentMethod.BULLET),
    ],
)
def test_method_parse_accepts_names_aliases_and_chinese(text: str, method: RepaymentMethod) -> None:
    assert RepaymentMethod.parse(text) is method


@pytest.mark.parametrize("text", ["", "monthly", "等额", 3])
def test_unknown_method_is_a_validation_error_with_code(text) -> None:
    with pytest.raises(ValidationError) as e:
        RepaymentMethod.parse(text)
    assert e.value.code == "unknown_repayment_method"
    assert e.value.http_status == 422
    assert e.value.to_problem()["code"] == "unknown_repayment_method"


def test_fields_are_normalised_from_text() -> None:
    t = terms(day_count="act/365f", rounding="half_even", roll="mf", repayment_day="20", term_months="24",
              multiples_of="1")
    assert t.principal == Money("100000")
    assert t.annual_rate == AnnualRate(Decimal("0.0435"))
    assert t.term_months == 24
    assert t.method is RepaymentMethod.EQUAL_INSTALMENT
    assert t.start == date(2026, 1, 15)
    assert t.day_count is DayCount.ACT_365F
    assert t.rounding is Rounding.HALF_EVEN
    assert t.roll is RollRule.MODIFIED_FOLLOWING
    assert t.repayment_day == 20
    assert t.multiples_of == Decimal("1")


def test_percent_rate_text_is_accepted() -> None:
    assert terms(annual_rate="4.35%").annual_rate.value == Decimal("0.0435")


def test_defaults_act360_half_up_following_and_basis_by_method() -> None:
    t = terms()
    assert t.day_count is DayCount.ACT_360
    assert t.rounding is Rounding.HALF_UP
    assert t.roll is RollRule.FOLLOWING
    assert t.multiples_of is None
    for m in RepaymentMethod:
        assert terms(method=m).basis is DEFAULT_BASIS[m]
    assert DEFAULT_BASIS[RepaymentMethod.EQUAL_INSTALMENT] is InterestBasis.MONTHLY
    assert DEFAULT_BASIS[RepaymentMethod.REVOLVING] is InterestBasis.DAILY


def test_multiple_of_one_fen_means_no_multiple() -> None:
    assert terms(multiples_of="0.01").multiples_of is None


def test_replace_revalidates_and_resets_basis_with_method() -> None:
    t = terms().replace(method="bullet")
    assert t.basis is InterestBasis.DAILY
    with pytest.raises(ValidationError) as e:
        terms().replace(term_months=0)
    assert e.value.code == "invalid_term"


@pytest.mark.parametrize(
    ("changes", "code"),
    [
        ({"principal": "-1"}, "non_positive_principal"),
        ({"principal": "0"}, "non_positive_principal"),
        ({"principal": 1000.0}, "float_not_allowed"),
        ({"principal": "10.005"}, "sub_fen_amount"),
        ({"principal": "abc"}, "not_a_number"),
        ({"term_months": 0}, "invalid_term"),
        ({"term_months": -3}, "invalid_term"),
        ({"term_months": 601}, "invalid_term"),
        ({"term_months": "twelve"}, "invalid_term"),
        ({"term_months": True}, "invalid_term"),
        ({"annual_rate": 0.0435}, "float_not_allowed"),
        ({"annual_rate": "-0.01"}, "negative_rate"),
        ({"annual_rate": "4.35"}, "rate_out_of_range"),
        ({"method": "balloon"}, "unknown_repayment_method"),
        ({"day_count": "ACT/364"}, "unknown_day_count"),
        ({"day_count": "ACT/365"}, "unknown_day_count"),
        ({"rounding": "banker"}, "unknown_rounding_mode"),
        ({"multiples_of": "0"}, "invalid_multiple"),
        ({"multiples_of": "0.001"}, "invalid_multiple"),
        ({"multiples_of": "-10"}, "invalid_multiple"),
        ({"repayment_day": 0}, "invalid_repayment_day"),
        ({"repayment_day": 32}, "invalid_repayment_day"),
        ({"roll": "sideways"}, "unknown_roll_rule"),
        ({"start": "2026-02-30"}, "invalid_date"),
        ({"method": "revolving", "interest_basis": "monthly"}, "invalid_interest_basis"),
        ({"interest_basis": "weekly"}, "unknown_interest_basis"),
        ({"accrue_to_rolled_date": "yes"}, "invalid_flag"),
        ({"calendar": object()}, "invalid_calendar"),
    ],
)
def test_bad_input_raises_validation_error_with_code(changes: dict, code: str) -> None:
    with pytest.raises(ValidationError) as e:
        terms(**changes)
    assert e.value.code == code
    assert e.value.message  # a human message for the problem+json detail


def test_terms_are_frozen_and_hashable() -> None:
    t = terms()
    with pytest.raises(AttributeError):
        t.term_months = 24  # type: ignore[misc]
    assert hash(t) == hash(terms())
