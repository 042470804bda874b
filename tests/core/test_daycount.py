"""Day counts: ISDA worked examples, exact additivity, parsing, and interest with one division."""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal
from fractions import Fraction

import pytest
from hypothesis import given
from hypothesis import strategies as st

from puhui.core.daycount import DayCount
from puhui.core.errors import ValidationError
from puhui.core.money import Money
from puhui.core.rates import AnnualRate

D = date

# ISDA, "30/360 Day Count Conventions" (isda.org, 2008-12-22), Bond Basis = 2006 ISDA Definitions §4.16(f);
# the same vectors are QuantLib's testThirty360_BondBasis.
BOND_BASIS = [
    (D(2006, 8, 20), D(2007, 2, 20), 180),
    (D(2007, 2, 20), D(2007, 8, 20), 180),
    (D(2007, 8, 20), D(2008, 2, 20), 180),
    (D(2008, 2, 20), D(2008, 8, 20), 180),
    (D(2008, 8, 20), D(2009, 2, 20), 180),
    (D(2009, 2, 20), D(2009, 8, 20), 180),
    (D(2006, 8, 31), D(2007, 2, 28), 178),
    (D(2007, 2, 28), D(2007, 8, 31), 183),
    (D(2007, 8, 31), D(2008, 2, 29), 179),
    (D(2008, 2, 29), D(2008, 8, 31), 182),
    (D(2008, 8, 31), D(2009, 2, 28), 178),
    (D(2009, 2, 28), D(2009, 8, 31), 183),
    (D(2006, 1, 31), D(2006, 2, 28), 28),
    (D(2006, 1, 30), D(2006, 2, 28), 28),
    (D(2006, 2, 28), D(2006, 3, 3), 5),
    (D(2006, 2, 14), D(2006, 2, 28), 14),
    (D(2006, 9, 30), D(2006, 10, 31), 30),
    (D(2006, 10, 31), D(2006, 11, 28), 28),
    (D(2007, 8, 31), D(2008, 2, 28), 178),
    (D(2008, 2, 28), D(2008, 8, 28), 180),
    (D(2008, 2, 28), D(2008, 8, 30), 182),
    (D(2008, 2, 28), D(2008, 8, 31), 183),
    (D(2007, 2, 26), D(2008, 2, 28), 362),
    (D(2007, 2, 26), D(2008, 2, 29), 363),
    (D(2008, 2, 29), D(2009, 2, 28), 359),
    (D(2008, 2, 28), D(2008, 3, 30), 32),
    (D(2008, 2, 28), D(2008, 3, 31), 33),
]

# Same ISDA page, Eurobond Basis = §4.16(g) (QuantLib testThirty360_EurobondBasis): the cases that differ.
EUROBOND_BASIS = [
    (D(2006, 2, 28), D(2006, 8, 31), 182),
    (D(2007, 2, 28), D(2007, 8, 31), 182),
    (D(2008, 2, 29), D(2008, 8, 31), 181),
    (D(2008, 2, 28), D(2008, 8, 31), 182),
    (D(2008, 2, 28), D(2008, 3, 31), 32),
    (D(2006, 1, 31), D(2006, 2, 28), 28),
    (D(2011, 8, 31), D(2012, 2, 29), 179),
]

# ISDA, "The Actual/Actual Day Count Fraction" (1999) examples, Actual/Actual (ISDA) column, as carried in
# QuantLib's testActualActual (12 decimals, some truncated: checked to 1e-11 as QuantLib checks to 1e-10).
ACT_ACT_ISDA = [
    (D(2003, 11, 1), D(2004, 5, 1), Decimal("0.497724380567")),
    (D(1999, 2, 1), D(1999, 7, 1), Decimal("0.410958904110")),
    (D(1999, 7, 1), D(2000, 7, 1), Decimal("1.001377348600")),
    (D(2002, 8, 15), D(2003, 7, 15), Decimal("0.915068493151")),
    (D(2003, 7, 15), D(2004, 1, 15), Decimal("0.504004790778")),
    (D(1999, 7, 30), D(2000, 1, 30), Decimal("0.503892506924")),
    (D(2000, 1, 30), D(2000, 6, 30), Decimal("0.415300546448")),
]

days = st.dates(min_value=D(1990, 1, 1), max_value=D(2060, 12, 31))


@pytest.mark.parametrize(("start", "end", "expected"), BOND_BASIS)
def test_thirty_360_bond_basis_isda_vectors(start: date, end: date, expected: int) -> None:
    assert DayCount.THIRTY_360.days(start, end) == expected
    assert DayCount.THIRTY_360.fraction(start, end) == Fraction(expected, 360)


@pytest.mark.parametrize(("start", "end", "expected"), EUROBOND_BASIS)
def test_thirty_e_360_eurobond_basis_isda_vectors(start: date, end: date, expected: int) -> None:
    assert DayCount.THIRTY_E_360.days(start, end) == expected


@pytest.mark.parametrize(("start", "end", "expected"), ACT_ACT_ISDA)
def test_act_act_isda_worked_examples(start: date, end: date, expected: Decimal) -> None:
    assert abs(DayCount.ACT_ACT.year_fraction(start, end) - expected) < Decimal("1e-11")


def test_act_act_first_example_exactly() -> None:
    # 1 Nov 2003 – 1 May 2004: 61 days of 2003 / 365 + 121 days of 2004 / 366
    assert DayCount.ACT_ACT.fraction(D(2003, 11, 1), D(2004, 5, 1)) == Fraction(61, 365) + Fraction(121, 366)


def test_act_360_and_act_365f_count_start_not_end() -> None:
    # 算头不算尾: 1 Jan – 31 Jan is 30 days; a whole leap year is 366 days
    assert DayCount.ACT_360.days(D(2025, 1, 1), D(2025, 1, 31)) == 30
    assert DayCount.ACT_360.year_fraction(D(2025, 1, 1), D(2025, 1, 1)) == 0
    assert DayCount.ACT_365F.fraction(D(2024, 1, 1), D(2025, 1, 1)) == Fraction(366, 365)
    assert DayCount.ACT_ACT.fraction(D(2024, 1, 1), D(2025, 1, 1)) == 1
    assert DayCount.ACT_360.fraction(D(2025, 1, 1), D(2025, 7, 1)) == Fraction(181, 360)
    assert str(DayCount.ACT_360.year_fraction(D(2025, 1, 1), D(2025, 7, 1))) == "0.5027777777777777777777777777777778"


@given(days, days, days, st.sampled_from([DayCount.ACT_360, DayCount.ACT_365F, DayCount.ACT_ACT]))
def test_year_fraction_is_additive_over_split_intervals(a: date, b: date, c: date, dc: DayCount) -> None:
    a, b, c = sorted((a, b, c))
    assert dc.fraction(a, b) + dc.fraction(b, c) == dc.fraction(a, c)
    # the Decimal views differ only by rounding at 34 digits (the test's sum rounds at 28)
    assert abs(dc.year_fraction(a, b) + dc.year_fraction(b, c) - dc.year_fraction(a, c)) < Decimal("1e-25")
    assert dc.days(a, b) + dc.days(b, c) == dc.days(a, c)


@given(days, st.integers(min_value=0, max_value=3000))
def test_act_act_is_between_act_366_and_act_365(start: date, n: int) -> None:
    end = start + timedelta(days=n)
    f = DayCount.ACT_ACT.fraction(start, end)
    assert Fraction(n, 366) <= f <= Fraction(n, 365)


@given(days, days)
def test_thirty_360_of_same_day_of_month_is_30_per_month(a: date, b: date) -> None:
    a, b = sorted((a, b))
    a, b = a.replace(day=15), b.replace(day=15)
    months = (b.year - a.year) * 12 + b.month - a.month
    assert DayCount.THIRTY_360.days(a, b) == 30 * months == DayCount.THIRTY_E_360.days(a, b)


def test_interest_is_principal_rate_fraction_unrounded() -> None:
    # 1,000,000 at 3.45% for 31 days ACT/360 = 2,970.8333… (cn_domain.md §1.8: 本金 × 天数 × 年利率/360)
    r = AnnualRate.of("0.0345")
    i = DayCount.ACT_360.interest(Decimal("1000000"), r, D(2025, 1, 1), D(2025, 2, 1))
    assert i.quantize(Decimal("1e-20")) == Decimal("2970.83333333333333333333")
    assert Money(i) == Money("2970.83")
    # one division at the end: 100 × 3.6% × 1/360 is exactly 0.01
    assert DayCount.ACT_360.interest(100, "0.036", D(2025, 1, 1), D(2025, 1, 2)) == Decimal("0.01")
    assert DayCount.ACT_365F.interest(Money("36500"), r, D(2025, 1, 1), D(2025, 1, 2)) == Decimal("3.45")
    # ACT/ACT across a year end: 10,000 × 10% × (1/365 + 1/366)
    expected = Decimal(1000) * (Decimal(1) / 365 + Decimal(1) / 366)
    got = DayCount.ACT_ACT.interest(10000, "0.1", D(2023, 12, 31), D(2024, 1, 2))
    assert abs(got - expected) < Decimal("1e-24")


def test_period_must_not_run_backwards() -> None:
    with pytest.raises(ValidationError) as e:
        DayCount.ACT_360.days(D(2025, 2, 1), D(2025, 1, 1))
    assert e.value.code == "invalid_period"
    with pytest.raises(ValidationError) as e:
        DayCount.ACT_360.days("2025-01-01", D(2025, 1, 2))  # type: ignore[arg-type]
    assert e.value.code == "invalid_date"


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("ACT/360", DayCount.ACT_360),
        ("act/360", DayCount.ACT_360),
        ("ACT_360", DayCount.ACT_360),
        ("Actual/360", DayCount.ACT_360),
        ("ACT/365F", DayCount.ACT_365F),
        ("act_365f", DayCount.ACT_365F),
        ("Actual/365 Fixed", DayCount.ACT_365F),
        ("ACT/ACT", DayCount.ACT_ACT),
        ("Act/Act (ISDA)", DayCount.ACT_ACT),
        ("30/360", DayCount.THIRTY_360),
        ("30_360", DayCount.THIRTY_360),
        ("THIRTY_360", DayCount.THIRTY_360),
        ("Bond Basis", DayCount.THIRTY_360),
        ("360/360", DayCount.THIRTY_360),
        ("30E/360", DayCount.THIRTY_E_360),
        ("Eurobond Basis", DayCount.THIRTY_E_360),
        (DayCount.ACT_ACT, DayCount.ACT_ACT),
    ],
)
def test_parse(text: str, expected: DayCount) -> None:
    assert DayCount.parse(text) is expected


@pytest.mark.parametrize("text", ["ACT/364", "", "30U/360", "ACT/365", "actual/365", 360])
def test_parse_refuses_unknown_and_ambiguous(text: str) -> None:
    with pytest.raises(ValidationError) as e:
        DayCount.parse(text)
    assert e.value.code == "unknown_day_count"


def test_enum_values_and_basis() -> None:
    assert isinstance(DayCount.ACT_360, str) and DayCount.ACT_360 == "ACT/360" and str(DayCount.ACT_360) == "ACT/360"
    assert [DayCount.ACT_360.basis, DayCount.ACT_365F.basis, DayCount.ACT_ACT.basis] == [360, 365, None]
    assert DayCount.THIRTY_360.basis == 360
