"""CEL wrapper: value conversion, compile errors naming file and field, missing inputs, short-circuit."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest

from puhui.core.errors import ValidationError
from puhui.decisioning.cel import ExprError, MissingInput, ScenarioError, bound_names, compile_expr, to_cel


def test_to_cel_converts_numbers_to_double_and_dates_to_iso_text() -> None:
    assert to_cel(Decimal("123456.78")) == 123456.78 and isinstance(to_cel(Decimal("1")), float)
    assert to_cel(24) == 24.0 and isinstance(to_cel(24), float)
    assert to_cel(True) is True  # a bool is not an int for CEL
    assert to_cel("A") == "A"
    assert to_cel(date(2026, 6, 30)) == "2026-06-30"
    assert to_cel(None) is None
    assert to_cel([1, Decimal("2.5")]) == [1.0, 2.5]


def test_decimal_indicator_works_in_double_arithmetic() -> None:
    e = compile_expr("tax_total_paid_12m * 3.0", file="f.yaml", field="limit.candidates[0].expr")
    assert e.variables == ("tax_total_paid_12m",)
    assert e.run({"tax_total_paid_12m": to_cel(Decimal("100.5"))}) == pytest.approx(301.5)


def test_int_literal_in_arithmetic_is_an_expression_error() -> None:
    e = compile_expr("x * 3", file="f.yaml", field="limit.candidates[0].expr")
    with pytest.raises(ExprError) as info:
        e.run({"x": 2.0})
    assert "f.yaml: limit.candidates[0].expr" in str(info.value)


def test_syntax_error_names_file_and_field() -> None:
    with pytest.raises(ScenarioError) as info:
        compile_expr("reg_age_months >= ", file="bad.yaml", field="eligibility[2].require")
    err = info.value
    assert isinstance(err, ValidationError) and err.http_status == 422
    assert err.details["file"] == "bad.yaml" and err.details["field"] == "eligibility[2].require"
    assert "bad.yaml: eligibility[2].require" in err.message


def test_empty_expression_is_refused() -> None:
    with pytest.raises(ScenarioError):
        compile_expr("  ", file="x.yaml", field="eligibility[0].require")


def test_comprehension_variables_are_not_inputs() -> None:
    assert bound_names("[1.0, 2.0].all(x, x > a) && xs.exists(s, s == b)") == {"x", "s"}
    e = compile_expr("[1.0, 2.0].all(x, x > a)", file="f", field="g")
    assert e.variables == ("a",)
    assert e.run({"a": 0.5}) is True


def test_missing_input_is_reported_not_passed() -> None:
    e = compile_expr("bur_worst_dpd_12m < 30", file="f", field="g")
    with pytest.raises(MissingInput) as info:
        e.run({})
    assert info.value.name == "bur_worst_dpd_12m"
    with pytest.raises(MissingInput):
        e.run({"bur_worst_dpd_12m": None})
    assert e.missing({"bur_worst_dpd_12m": None}) == ("bur_worst_dpd_12m",)


def test_short_circuit_lets_a_guarded_rule_hold_without_the_input() -> None:
    e = compile_expr("!has_bureau_enterprise_accounts || bur_worst_dpd_12m < 30", file="f", field="g")
    assert e.run({"has_bureau_enterprise_accounts": False}) is True
    assert e.run({"has_bureau_enterprise_accounts": True, "bur_worst_dpd_12m": 45.0}) is False
    with pytest.raises(MissingInput):
        e.run({"has_bureau_enterprise_accounts": True})


def test_only_the_variables_read_are_passed() -> None:
    e = compile_expr("a > 1.0", file="f", field="g")
    # extra names in the environment are ignored (and never copied into the interpreter)
    assert e.run({"a": 2.0, "b": "ignored", **{f"x{i}": float(i) for i in range(500)}}) is True
