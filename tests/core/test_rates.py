"""Rates: the PBoC conversions (日 = 年/360 = 月/30, 月 = 年/12), refusals, spreads and multiples."""

from __future__ import annotations

from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from puhui.core.errors import ValidationError
from puhui.core.rates import AnnualRate, DailyRate, MonthlyRate

rates = st.decimals(min_value=Decimal("0"), max_value=Decimal("1"), places=6, allow_nan=False)


def test_pboc_conversion_convention() -> None:
    # 人民币利率管理规定 (1999): 日利率 = 年利率/360 = 月利率/30; 月利率 = 年利率/12.
    # 3.6% a year is 3‰ a month and 1‱ a day — exact.
    r = AnnualRate.from_percent("3.6")
    assert r.monthly() == Decimal("0.003")
    assert r.daily() == Decimal("0.0001")
    assert r.monthly_rate().daily() == r.daily()
    assert MonthlyRate.from_permille("3").annual() == r
    assert DailyRate.from_per_myriad("1").annual() == r
    assert AnnualRate.from_daily("0.0002") == AnnualRate.from_percent("7.2")  # 日息万分之二
    assert AnnualRate.from_monthly("0.005") == AnnualRate.from_percent("6")  # 月息 5‰


def test_daily_rate_keeps_full_precision() -> None:
    # 3.45% / 360 = 0.0000958333…: far more than the 6 decimals the design requires, not rounded
    d = AnnualRate.of("0.0345").daily()
    assert abs(d * 360 - Decimal("0.0345")) < Decimal("1e-32")
    assert str(d).startswith("0.0000958333333333333333")
    assert -d.as_tuple().exponent >= 30  # type: ignore[operator]
    assert AnnualRate.of("0.0365").daily(basis=365) == Decimal("0.0001")


@given(rates, st.sampled_from([360, 365, 366]))
def test_daily_times_basis_gives_back_the_annual_rate(x: Decimal, basis: int) -> None:
    r = AnnualRate(x)
    assert abs(r.daily(basis) * basis - x) < Decimal("1e-30")
    assert abs(r.monthly() * 12 - x) < Decimal("1e-30")


def test_constructors_agree() -> None:
    expected = AnnualRate(Decimal("0.0345"))
    assert AnnualRate.of("0.0345") == expected
    assert AnnualRate.of("3.45%") == expected
    assert AnnualRate.of(" 3.45% ") == expected
    assert AnnualRate.from_percent("3.45") == expected
    assert AnnualRate.from_percent(Decimal("3.45")) == expected
    assert AnnualRate.of(expected) is expected
    assert AnnualRate.of(0).is_zero()
    assert AnnualRate("0.0345") == expected  # type: ignore[arg-type]


def test_refusals() -> None:
    with pytest.raises(ValidationError) as e:
        AnnualRate(0.0345)  # type: ignore[arg-type]
    assert e.value.code == "float_not_allowed"
    with pytest.raises(ValidationError) as e:
        AnnualRate.of(0.0345)  # type: ignore[arg-type]
    assert e.value.code == "float_not_allowed"
    with pytest.raises(ValidationError) as e:
        AnnualRate.of("-0.01")
    assert e.value.code == "negative_rate"
    with pytest.raises(ValidationError) as e:
        AnnualRate.of("3.45")  # a percent passed as a fraction: 345% a year
    assert e.value.code == "rate_out_of_range"
    with pytest.raises(ValidationError) as e:
        AnnualRate.of("abc")
    assert e.value.code == "not_a_number"
    with pytest.raises(ValidationError) as e:
        AnnualRate.of("0.03").daily(0)
    assert e.value.code == "invalid_basis"


def test_lpr_plus_spread_and_penalty_multiple() -> None:
    # 1Y LPR 3.00% (2026-01-20, cn_domain.md §1.7) + 45 bp = 3.45%
    lpr = AnnualRate.from_percent("3.00")
    contract = lpr.plus_bp(45)
    assert contract == AnnualRate.of("0.0345")
    assert contract.plus_bp(-45) == lpr
    # 罚息: overdue = contract × (1 + 30%…50%), 银发〔2003〕251号
    assert contract.scaled("1.5") == AnnualRate.of("0.05175")
    assert contract.scaled("1.3").percent == Decimal("4.485")
    with pytest.raises(ValidationError) as e:
        lpr.plus_bp(-301)
    assert e.value.code == "negative_rate"
    with pytest.raises(ValidationError) as e:
        lpr.plus_bp(1.5)  # type: ignore[arg-type]
    assert e.value.code == "invalid_bp"


def test_percent_str_and_ordering() -> None:
    r = AnnualRate.of("0.0345")
    assert r.percent == Decimal("3.45")
    assert str(r) == "3.45%"
    assert str(AnnualRate.of(1)) == "100%"
    assert AnnualRate.of("0.03") < r < AnnualRate.of("0.04")
    assert max(AnnualRate.of("0.03"), r) == r
    assert sorted([r, AnnualRate.of("0.01")])[0] == AnnualRate.of("0.01")
    assert hash(AnnualRate.of("0.0345")) == hash(AnnualRate.of("0.03450"))


def test_monthly_and_daily_rate_bounds() -> None:
    with pytest.raises(ValidationError):
        MonthlyRate(Decimal("0.1"))  # 120% a year
    with pytest.raises(ValidationError):
        DailyRate(Decimal("-0.0001"))
    assert DailyRate.from_per_myriad("5").monthly() == Decimal("0.015")
