"""Signals: the shipped thresholds at their boundaries, vectorised = one-by-one, and YAML validation errors.

Golden tiers come from the brief (sales down ≥ 30% yoy yellow, ≥ 50% orange; an enforcement case red) and
from risk_and_style.md §B1 (debt over annual sales > 0.5 yellow, > 1.0 orange; 1–30 DPD elsewhere
orange, > 30 red); each boundary is tested on both sides.
"""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path
from typing import Any

import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from puhui.core.errors import ConfigurationError
from puhui.monitoring.signals import (
    DEFAULT_SIGNALS,
    Catalogue,
    Tier,
    evaluate_frame,
    evaluate_one,
    load_signals,
    worst_tier,
)
from tests.monitoring._kit import TEST_SIGNALS, write_signals


@pytest.fixture(scope="module")
def shipped() -> Catalogue:
    return load_signals(check_indicators=False)


CASES: list[tuple[str, str, Any, str | None]] = [
    # (signal, indicator, value, expected tier)
    ("sales_decline", "tax_sales_yoy_3m", -0.29, None),
    ("sales_decline", "tax_sales_yoy_3m", -0.3, "yellow"),
    ("sales_decline", "tax_sales_yoy_3m", -0.49, "yellow"),
    ("sales_decline", "tax_sales_yoy_3m", -0.5, "orange"),
    ("sales_decline", "tax_sales_yoy_3m", -0.95, "orange"),
    ("sales_decline", "tax_sales_yoy_3m", 0.2, None),
    ("over_indebted", "xs_total_debt_to_sales", 0.5, None),
    ("over_indebted", "xs_total_debt_to_sales", 0.5001, "yellow"),
    ("over_indebted", "xs_total_debt_to_sales", 1.0, "yellow"),
    ("over_indebted", "xs_total_debt_to_sales", 1.0001, "orange"),
    ("enforcement_case", "pr_enforcement_open", 0, None),
    ("enforcement_case", "pr_enforcement_open", 1, "red"),
    ("overdue_elsewhere", "bur_worst_dpd_6m", 0, None),
    ("overdue_elsewhere", "bur_worst_dpd_6m", 1, "orange"),
    ("overdue_elsewhere", "bur_worst_dpd_6m", 30, "orange"),
    ("overdue_elsewhere", "bur_worst_dpd_6m", 31, "red"),
    ("electricity_drop", "elec_kwh_yoy_3m", -0.3, "yellow"),
    ("electricity_drop", "elec_kwh_yoy_3m", -0.6, "orange"),
    ("electricity_drop", "elec_kwh_yoy_3m", -0.59, "yellow"),
    ("tax_arrears", "tax_arrears_months_12m", 1, "yellow"),
    ("tax_arrears", "tax_arrears_months_12m", 2, "yellow"),
    ("tax_arrears", "tax_arrears_months_12m", 3, "orange"),
    ("tax_arrears", "tax_arrears_months_12m", 6, "red"),
    ("payroll_headcount_drop", "pay_headcount_yoy", -0.5, "orange"),
    ("deregistered", "reg_flag_inactive", True, "red"),
    ("deregistered", "reg_flag_inactive", False, None),
    ("new_lawsuit", "pr_flag_new_lawsuit_3m", True, "yellow"),
    ("sales_decline", "tax_sales_yoy_3m", None, None),  # no data is not a warning
]


@pytest.mark.parametrize(("signal", "indicator", "value", "expected"), CASES)
def test_shipped_threshold_boundaries(shipped: Catalogue, signal: str, indicator: str, value: Any,
                                      expected: str | None) -> None:
    hits = [h for h in evaluate_one("E1", {indicator: value}, shipped) if h.signal_id == signal]
    assert [h.tier.value for h in hits] == ([expected] if expected else [])


def test_vectorised_agrees_with_one_by_one(shipped: Catalogue) -> None:
    rows: dict[str, dict[str, Any]] = {}
    for i, (_sig, indicator, value, _exp) in enumerate(CASES):
        rows.setdefault(f"E{i:03d}", {})[indicator] = value
    columns = shipped.indicators
    frame = pd.DataFrame([{"uscc": u, **{c: v.get(c) for c in columns}} for u, v in rows.items()])
    for c in columns:  # the engine's types: booleans nullable, the rest numbers
        frame[c] = frame[c].astype("boolean") if shipped.get(
            next(s.id for s in shipped.signals if s.indicator == c)).op == "is" else pd.to_numeric(frame[c])
    out = evaluate_frame(frame, shipped)
    vectorised = sorted(zip(out["uscc"], out["signal_id"], out["tier"], strict=True))
    one_by_one = sorted((u, h.signal_id, h.tier.value) for u, v in rows.items() for h in evaluate_one(u, v, shipped))
    assert vectorised == one_by_one
    expected = sorted((f"E{i:03d}", s, t) for i, (s, _ind, _v, t) in enumerate(CASES) if t is not None)
    assert [x for x in vectorised if (x[0], x[1]) in {(e[0], e[1]) for e in expected}] == expected


def test_worst_tier() -> None:
    assert worst_tier(["yellow", None, "red", "orange"]) is Tier.RED
    assert worst_tier([]) is None


def test_shipped_file_matches_the_indicator_library() -> None:
    cat = load_signals()  # checks every indicator id against the default library
    assert len(cat.signals) >= 15
    assert {s.category for s in cat.signals} >= {"business_decline", "over_indebtedness", "tax", "judicial"}
    assert [cat.tiers[t].action for t in (Tier.YELLOW, Tier.ORANGE, Tier.RED)] == ["watch", "reduce_review",
                                                                                 "freeze"]
    assert cat.contagion.tier_of(Decimal("0.60")) is Tier.RED
    assert all(s.zh and s.en for s in cat.signals)


# ---- validation errors name the file and the field -------------------------------------------------------


def _broken(tmp_path: Path, old: str, new: str) -> Path:
    assert old in TEST_SIGNALS
    return write_signals(tmp_path, TEST_SIGNALS.replace(old, new, 1), "broken.yaml")


@pytest.mark.parametrize(("old", "new", "field", "why"), [
    ('tiers: {yellow: "-0.30", orange: "-0.50"}', 'tiers: {yellow: "-0.50", orange: "-0.30"}',
     "signals[0] (sales_decline).tiers.orange", "strictly below"),
    ('tiers: {yellow: "-0.30", orange: "-0.50"}', 'tiers: {yellow: "-0.30", purple: "-0.50"}',
     "signals[0] (sales_decline).tiers.purple", "unknown tier"),
    ('tiers: {yellow: "-0.30", orange: "-0.50"}', 'tiers: {yellow: "lots"}',
     "signals[0] (sales_decline).tiers.yellow", "expected a number"),
    ('op: "<="', 'op: "=~"', "signals[0] (sales_decline).op", "unknown op"),
    ("tiers: {red: true}", 'tiers: {red: "yes"}', "signals[2] (deregistered).tiers.red", "true or false"),
    ("id: enforcement_case", "id: sales_decline", "signals[1].id", "duplicate"),
    ("id: enforcement_case", "id: Enforcement-Case", "signals[1].id", "must match"),
    ("    en: Enforcement\n", "    en: Enforcement\n    colour: red\n", "signals[1] (enforcement_case).colour",
     "unknown field"),
    ('severity: "0.50"', 'severity: "0.20"', "tiers", "severity must rise"),
    ("action: freeze", "action: shoot", "tiers.red.action", "unknown action"),
    ('min_core_tier: orange', 'min_core_tier: black', "contagion.min_core_tier", "unknown tier"),
    ('tiers: {yellow: "0.10", orange: "0.25", red: "0.60"}', 'tiers: {yellow: "0.10", orange: "0.25", red: "1.6"}',
     "contagion.tiers.red", "in (0, 1]"),
    ("indicator: pr_enforcement_open", "indicator: pr_enforcement_opne", "signals[1] (enforcement_case).indicator",
     "unknown indicator"),
])
def test_validation_names_file_and_field(tmp_path: Path, old: str, new: str, field: str, why: str) -> None:
    path = _broken(tmp_path, old, new)
    known = {"tax_sales_yoy_3m", "pr_enforcement_open", "reg_flag_inactive"}
    with pytest.raises(ConfigurationError) as ei:
        load_signals(path, indicators=known)
    e = ei.value
    assert e.details["file"] == str(path)
    assert e.details["field"] == field
    assert why in e.message and str(path) in e.message


def test_not_yaml_names_the_line(tmp_path: Path) -> None:
    path = write_signals(tmp_path, TEST_SIGNALS + "  - id: [unclosed\n", "bad.yaml")
    with pytest.raises(ConfigurationError) as ei:
        load_signals(path, check_indicators=False)
    assert ei.value.details["field"].startswith("line ")
    assert ei.value.details["file"] == str(path)


def test_missing_file(tmp_path: Path) -> None:
    with pytest.raises(ConfigurationError) as ei:
        load_signals(tmp_path / "nope.yaml", check_indicators=False)
    assert ei.value.details["field"] == "file"


def test_frame_without_a_column_is_refused(tmp_path: Path) -> None:
    cat = load_signals(write_signals(tmp_path), check_indicators=False)
    with pytest.raises(ConfigurationError) as ei:
        evaluate_frame(pd.DataFrame({"uscc": ["A"], "tax_sales_yoy_3m": [-0.6]}), cat)
    assert ei.value.code == "indicator_missing"


def test_default_path_is_the_shipped_file() -> None:
    assert DEFAULT_SIGNALS.name == "signals.yaml" and DEFAULT_SIGNALS.is_file()


_NEAR = st.sampled_from([-0.6, -0.5, -0.3, 0.5, 1.0, 0.0, 1.0, 2.0, 3.0, 6.0, 31.0, 0.4, 0.6])


_SHIPPED = load_signals(check_indicators=False)


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(st.tuples(_NEAR, st.integers(-3, 3), st.booleans(), st.booleans()), min_size=1, max_size=30))
def test_property_vectorised_equals_one_by_one(rows: list[tuple[float, int, bool, bool]]) -> None:
    """Values on and next to every threshold: the NumPy path and the Decimal path give the same hits."""
    import math

    cat = _SHIPPED
    bool_cols = {s.indicator for s in cat.signals if s.op == "is"}
    records = []
    for i, (base, ulps, flag, missing) in enumerate(rows):
        x = base
        for _ in range(abs(ulps)):
            x = math.nextafter(x, math.inf if ulps > 0 else -math.inf)
        records.append({"uscc": f"E{i:03d}", **{c: (None if missing else flag) if c in bool_cols else
                                                (None if missing and i % 2 else x) for c in cat.indicators}})
    frame = pd.DataFrame(records)
    for c in cat.indicators:
        frame[c] = frame[c].astype("boolean") if c in bool_cols else pd.to_numeric(frame[c])
    out = evaluate_frame(frame, cat)
    vectorised = sorted(zip(out["uscc"], out["signal_id"], out["tier"], strict=True))
    one = sorted((r["uscc"], h.signal_id, h.tier.value) for r in records for h in evaluate_one(r["uscc"], r, cat))
    assert vectorised == one
