"""Scenario loading: every validation error names the file and the field; versions are content hashes."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from puhui.decisioning.scenario import (
    ScenarioError,
    canonical_json,
    load_scenarios,
    model_features,
    parse_scenario,
    policy_version,
)

from ._core_kit import BASE, to_yaml, variant

FILE = "my_scenario.yaml"


def _error(doc: dict[str, Any] | str) -> ScenarioError:
    text = doc if isinstance(doc, str) else to_yaml(doc)
    with pytest.raises(ScenarioError) as info:
        parse_scenario(text, source=FILE)
    err = info.value
    assert err.details["file"] == FILE
    assert err.message.startswith(FILE)
    assert err.http_status == 422 and err.code == "invalid_scenario"
    return err


def test_base_scenario_parses_and_compiles_once() -> None:
    s = parse_scenario(to_yaml(BASE), source=FILE)
    assert s.id == "test_tax" and s.source == FILE
    assert len(s.rule_programs) == 6 and len(s.candidate_programs) == 3
    assert "has_bureau_enterprise_accounts" in s.variables
    assert s.consent_purposes == ("registration", "tax_data", "credit_bureau")
    assert s.required_sources == ("registration", "tax_monthly", "tax_credit_grades")


def test_bad_yaml_names_the_file_and_line() -> None:
    err = _error("id: x\nfamily: [credit\n")
    assert err.details["field"] == ""
    assert "not valid YAML" in err.message and "line" in err.message


def test_not_a_mapping() -> None:
    assert "YAML mapping" in _error("- just\n- a list\n").message


def test_unknown_top_level_field() -> None:
    err = _error({**BASE, "colour": "red"})
    assert err.details["field"] == "colour" and "unknown field" in err.message


def test_unknown_nested_field() -> None:
    err = _error(variant(**{"limit.maximum": 5}))
    assert err.details["field"] == "limit.maximum"


def test_missing_required_field() -> None:
    err = _error(variant(**{"pricing.floor": None}))
    assert err.details["field"] == "pricing.floor"


def test_wrong_type_names_the_list_position() -> None:
    err = _error(variant(**{"eligibility.1.action": "maybe"}))
    assert err.details["field"] == "eligibility[1].action"


def test_bad_cel_syntax() -> None:
    err = _error(variant(**{"eligibility.0.require": "reg_age_months >= "}))
    assert err.details["field"] == "eligibility[0].require" and "syntax" in err.message


def test_unknown_variable() -> None:
    err = _error(variant(**{"eligibility.0.require": "reg_age_monthz >= 24"}))
    assert err.details["field"] == "eligibility[0].require"
    assert err.details["variables"] == ["reg_age_monthz"]


def test_unknown_variable_in_a_limit_candidate() -> None:
    err = _error(variant(**{"limit.candidates.1.expr": "tax_sales_13m * 0.2"}))
    assert err.details["field"] == "limit.candidates[1].expr"


def test_int_arithmetic_is_caught_at_load() -> None:
    err = _error(variant(**{"limit.candidates.0.expr": "tax_total_paid_12m * 3"}))
    assert err.details["field"] == "limit.candidates[0].expr" and "3.0" in err.message


def test_rule_must_give_a_boolean() -> None:
    err = _error(variant(**{"eligibility.0.require": "reg_age_months * 2.0"}))
    assert err.details["field"] == "eligibility[0].require" and "true/false" in err.message


def test_candidate_must_give_a_number() -> None:
    err = _error(variant(**{"limit.candidates.0.expr": "tax_total_paid_12m > 3.0"}))
    assert err.details["field"] == "limit.candidates[0].expr" and "number" in err.message


def test_grades_not_increasing() -> None:
    grades = [{"grade": "A", "max_pd": 0.01}, {"grade": "B", "max_pd": 0.005}, {"grade": "C", "max_pd": 1.0}]
    err = _error(variant(**{"model.grades": grades, "model.refer": [], "model.decline": ["C"],
                            "limit.grade_multipliers": {"A": 1, "B": 1}, "pricing.spread_bp": {"A": 1, "B": 2}}))
    assert err.details["field"] == "model.grades[1].max_pd" and "increase" in err.message


def test_last_grade_must_cover_every_pd() -> None:
    err = _error(variant(**{"model.grades.4.max_pd": 0.5}))
    assert err.details["field"] == "model.grades[4].max_pd"


def test_grade_decline_list_names_unknown_grade() -> None:
    err = _error(variant(**{"model.decline": ["F"]}))
    assert err.details["field"] == "model.decline"


def test_every_lending_grade_needs_a_multiplier_and_a_spread() -> None:
    err = _error(variant(**{"limit.grade_multipliers.C": None}))
    assert err.details["field"] == "limit.grade_multipliers" and "C" in err.message
    err = _error(variant(**{"pricing.spread_bp.E": 900}))
    assert err.details["field"] == "pricing.spread_bp" and "E" in err.message


def test_floor_above_cap() -> None:
    err = _error(variant(**{"pricing.floor": "0.09"}))
    assert err.details["field"] == "pricing.floor" and "above the cap" in err.message


def test_rate_cap_above_apr_ceiling() -> None:
    err = _error(variant(**{"pricing.cap": "0.25"}))
    assert err.details["field"] == "pricing.cap" and "0.24" in err.message


def test_fees_pushing_apr_above_ceiling() -> None:
    fees = [{"name": "service_fee", "kind": "upfront", "rate": "0.10", "zh": "服务费", "en": "service fee"}]
    err = _error(variant(**{"pricing.cap": "0.20", "pricing.fees": fees}))
    assert err.details["field"] == "pricing.fees"


def test_limit_min_above_max_and_step() -> None:
    assert _error(variant(**{"limit.min": 5000000})).details["field"] == "limit.min"
    assert _error(variant(**{"limit.min": 35000})).details["field"] == "limit.min"  # not a multiple of 10,000


def test_product_cap_above_inclusive_cap() -> None:
    err = _error(variant(**{"limit.max": 20000000}))
    assert err.details["field"] == "limit.max" and "inclusive" in err.message


def test_term_above_working_capital_maximum() -> None:
    err = _error(variant(**{"term.months": 48, "term.max_drawdown_months": 12}))
    assert err.details["field"] == "term.months"


def test_unknown_source_and_purpose() -> None:
    err = _error(variant(**{"data_sources.1.source": "tax_weekly"}))
    assert err.details["field"] == "data_sources[1].source"
    err = _error(variant(**{"data_sources.1.purpose": "horoscope"}))
    assert err.details["field"] == "data_sources[1].purpose"


def test_repeated_rule_codes() -> None:
    err = _error(variant(**{"eligibility.1.code": "operating_under_2y"}))
    assert err.details["field"] == "eligibility"


def test_unknown_repayment_method() -> None:
    err = _error(variant(repayment_methods=["revolving", "balloon"]))
    assert err.details["field"] == "repayment_methods[1]"


def test_policy_version_is_a_content_hash() -> None:
    text = to_yaml(BASE)
    v = policy_version(text)
    assert len(v) == 16 and int(v, 16) >= 0
    # comments, key order and formatting do not change the version
    reordered = {k: BASE[k] for k in reversed(list(BASE))}
    assert policy_version("# a comment\n" + to_yaml(reordered)) == v
    assert parse_scenario(text, source="a.yaml").version == v
    # 1, 1.0 and "1.00" are the same multiplier
    same = variant(**{"limit.grade_multipliers.A": 1, "pricing.floor": 0.0345})
    assert policy_version(to_yaml(same)) == policy_version(to_yaml(variant(**{"limit.grade_multipliers.A": "1.00"})))
    # a changed threshold does
    assert policy_version(to_yaml(variant(**{"eligibility.0.require": "reg_age_months >= 36"}))) != v
    # a field spelled out at its schema default is the same policy as one left out (so a new optional field
    # in the schema keeps every existing version), while a non-default value is a new policy
    assert "offer_validity_days" not in BASE
    assert "offer_validity_days" not in canonical_json(parse_scenario(text))
    assert policy_version(to_yaml({**BASE, "offer_validity_days": 30})) == v
    assert policy_version(to_yaml({**BASE, "offer_validity_days": 31})) != v


def test_model_features_are_indicators_only() -> None:
    s = parse_scenario(to_yaml(BASE), source=FILE)
    feats = model_features(s)
    assert "tax_total_paid_12m" in feats and "bur_worst_dpd_12m" in feats
    assert "has_bureau_enterprise_accounts" not in feats


def test_load_scenarios_refuses_a_repeated_id(tmp_path: Path) -> None:
    (tmp_path / "a.yaml").write_text(to_yaml(BASE), encoding="utf-8")
    (tmp_path / "b.yaml").write_text(to_yaml(BASE), encoding="utf-8")
    with pytest.raises(ScenarioError) as info:
        load_scenarios(tmp_path)
    assert info.value.details == {"file": "b.yaml", "field": "id"}


def test_load_scenarios_names_the_bad_file(tmp_path: Path) -> None:
    (tmp_path / "good.yaml").write_text(to_yaml(BASE), encoding="utf-8")
    (tmp_path / "zbad.yaml").write_text(to_yaml(variant(**{"id": "other", "pricing.floor": "0.5"})), encoding="utf-8")
    with pytest.raises(ScenarioError) as info:
        load_scenarios(tmp_path)
    assert info.value.details["file"] == "zbad.yaml" and info.value.details["field"] == "pricing.floor"
