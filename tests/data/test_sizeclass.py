"""MIIT 2011 size classes (工信部联企业〔2011〕300号): boundary cases read off the standard's text.

Golden thresholds come from the standard's Art 4 wording as quoted in cn_domain.md §1.5, e.g. 工业:
"从业人员300人及以上，且营业收入2000万元及以上的为中型企业；从业人员20人及以上，且营业收入300万元及以上的
为小型企业；从业人员20人以下或营业收入300万元以下的为微型企业" — "及以上" inclusive, "以下" exclusive.
"""

from __future__ import annotations

from decimal import Decimal

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from puhui.core.errors import ValidationError
from puhui.data.sizeclass import MIIT_2011, SizeClass, classify, classify_many, miit_category

WAN = Decimal(10_000)


def test_industry_boundaries_inclusive_at_threshold():
    # 工业 small: 20 persons AND 300万 revenue, both inclusive.
    assert classify("industry", employees=20, revenue=300 * WAN) is SizeClass.SMALL
    assert classify("industry", employees=19, revenue=300 * WAN) is SizeClass.MICRO
    assert classify("industry", employees=20, revenue=300 * WAN - Decimal("0.01")) is SizeClass.MICRO
    # medium: 300 persons AND 2000万
    assert classify("industry", employees=300, revenue=2000 * WAN) is SizeClass.MEDIUM
    assert classify("industry", employees=299, revenue=2000 * WAN) is SizeClass.SMALL


def test_micro_is_below_either_threshold():
    # many employees but tiny revenue → micro, and the converse (the "或" of the micro clause)
    assert classify("industry", employees=250, revenue=100 * WAN) is SizeClass.MICRO
    assert classify("industry", employees=5, revenue=30_000 * WAN) is SizeClass.MICRO
    assert classify("retail", employees=9, revenue=10_000 * WAN) is SizeClass.MICRO
    assert classify("retail", employees=200, revenue=99 * WAN) is SizeClass.MICRO


def test_large_needs_all_upper_bounds_met():
    # SME if below ANY upper bound: 1000 persons but revenue under 40000万 is still an SME (medium here)
    assert classify("industry", employees=1000, revenue=39_999 * WAN) is SizeClass.MEDIUM
    assert classify("industry", employees=1000, revenue=40_000 * WAN) is SizeClass.LARGE
    assert classify("industry", employees=999, revenue=90_000 * WAN) is SizeClass.MEDIUM


def test_revenue_only_and_employee_only_groups():
    assert classify("agriculture", revenue=50 * WAN) is SizeClass.SMALL
    assert classify("agriculture", revenue=50 * WAN - Decimal("0.01")) is SizeClass.MICRO
    assert classify("agriculture", revenue=500 * WAN) is SizeClass.MEDIUM
    assert classify("agriculture", revenue=20_000 * WAN) is SizeClass.LARGE
    assert classify("other", employees=10) is SizeClass.SMALL
    assert classify("other", employees=9) is SizeClass.MICRO
    assert classify("other", employees=300) is SizeClass.LARGE


def test_asset_based_groups():
    assert classify("construction", revenue=300 * WAN, assets=300 * WAN) is SizeClass.SMALL
    assert classify("construction", revenue=6000 * WAN, assets=4999 * WAN) is SizeClass.SMALL
    assert classify("leasing_business_services", employees=100, assets=8000 * WAN) is SizeClass.MEDIUM
    assert classify("leasing_business_services", employees=100, assets=99 * WAN) is SizeClass.MICRO
    # 房地产开发经营 small needs assets ≥ 2000万 even with revenue ≥ 100万
    assert classify("real_estate_development", revenue=150 * WAN, assets=1999 * WAN) is SizeClass.MICRO


def test_software_small_threshold_is_50_wan():
    assert classify("software", employees=10, revenue=50 * WAN) is SizeClass.SMALL
    assert classify("software", employees=10, revenue=49 * WAN) is SizeClass.MICRO


def test_bad_inputs_raise_validation_errors():
    with pytest.raises(ValidationError):
        classify("industry", employees=10)  # revenue missing
    with pytest.raises(ValidationError):
        classify("industry", employees=10, revenue=1.5)  # type: ignore[arg-type]  # float money refused
    with pytest.raises(ValidationError):
        classify("industry", employees=-1, revenue=WAN)
    with pytest.raises(ValidationError):
        classify("mining", employees=1, revenue=WAN)


@pytest.mark.parametrize(
    ("section", "code", "expected"),
    [
        ("C", "34", "industry"),
        ("A", "01", "agriculture"),
        ("F", "51", "wholesale"),
        ("F", "5251", "retail"),
        ("G", "54", "transport"),
        ("G", "59", "warehousing"),
        ("G", "60", "postal"),
        ("H", "62", "catering"),
        ("I", "65", "software"),
        ("I", "64", "information_transmission"),
        ("K", "7010", "real_estate_development"),
        ("K", "7020", "property_management"),
        ("L", "72", "leasing_business_services"),
        ("Q", "84", "other"),
    ],
)
def test_miit_category_mapping(section, code, expected):
    assert miit_category(section, code) == expected


def test_miit_category_needs_division_where_the_standard_splits_a_section():
    with pytest.raises(ValidationError):
        miit_category("F")
    with pytest.raises(ValidationError):
        miit_category("K", "70")


def test_standard_is_versioned_with_source():
    assert MIIT_2011.version == "MIIT-2011"
    assert "工信部联企业〔2011〕300号" in MIIT_2011.source
    assert len(MIIT_2011.rules) == 16


_category = st.sampled_from(sorted(MIIT_2011.rules))


@given(
    cats=st.lists(_category, min_size=1, max_size=30),
    data=st.data(),
)
def test_vectorised_matches_scalar(cats, data):
    n = len(cats)
    emp = data.draw(st.lists(st.integers(0, 3000), min_size=n, max_size=n))
    rev = data.draw(st.lists(st.integers(0, 3 * 10**12), min_size=n, max_size=n))  # fen
    ast = data.draw(st.lists(st.integers(0, 3 * 10**12), min_size=n, max_size=n))
    got = classify_many(np.array(cats), np.array(emp), np.array(rev), np.array(ast))
    for i in range(n):
        want = classify(cats[i], employees=emp[i], revenue=Decimal(rev[i]) / 100, assets=Decimal(ast[i]) / 100)
        assert got[i] == want.value


def test_vectorised_missing_figure_is_unknown_only_when_needed():
    got = classify_many(np.array(["industry", "agriculture", "other"]), np.array([-1, -1, 12]),
                        np.array([5 * 10**8, 5 * 10**8, -1]), np.array([-1, -1, -1]))  # fmt: skip
    assert list(got) == ["unknown", "medium", "small"]
