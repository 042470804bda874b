"""The library as data: size and coverage of the dimensions, and refusal of bad definitions at load."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from puhui.core.errors import ConfigurationError
from puhui.indicators.library import DEFINITIONS, DERIVED, IndicatorType, Library, catalogue_markdown, load_library

ISSUE_DIMENSIONS = {
    "registration", "tax", "settlement", "payroll_social", "electricity", "customs", "bureau", "public_records",
    "supply_chain", "property", "platforms", "consistency",
}  # fmt: skip


def test_at_least_150_indicators_over_every_dimension_of_the_issue(library: Library) -> None:
    counts = library.counts_by_dimension()
    assert len(library) >= 150
    assert set(counts) == ISSUE_DIMENSIONS
    assert all(n >= 10 for n in counts.values()), counts


@pytest.mark.parametrize(
    "ids",
    [
        # registration: age, capital, recent changes of legal representative and shareholders
        ("reg_age_months", "reg_capital", "chg_legal_rep_12m", "chg_shareholder_24m"),
        # tax: sales over 3/6/12 months, growth, volatility, zero declarations, grade, arrears
        ("tax_sales_3m", "tax_sales_6m", "tax_sales_12m", "tax_sales_yoy_12m", "tax_sales_cv_12m",
         "tax_zero_decl_months_12m", "tax_grade", "tax_arrears_latest"),
        # settlement: inflow, outflow, net, counterparties, concentration, balance
        ("stl_inflow_12m", "stl_outflow_12m", "stl_net_flow_12m", "stl_payers_avg_3m", "stl_top_payer_share_avg_6m",
         "stl_avg_balance_3m"),
        # payroll and social insurance: headcount and trend
        ("pay_headcount_latest", "pay_headcount_trend_3v12", "si_headcount_latest", "si_headcount_yoy"),
        # electricity: kWh trend and YoY, arrears
        ("elec_kwh_trend_3v12", "elec_kwh_yoy_12m", "elec_arrears_latest"),
        # customs: export value and growth
        ("cus_export_12m", "cus_export_yoy_12m"),
        # bureau: lenders (多头), outstanding, utilisation, overdue, worst DPD 6/12/24, queries 3/6, guarantees
        ("bur_lenders", "bur_balance", "bur_utilisation", "bur_overdue_accounts", "bur_worst_dpd_6m",
         "bur_worst_dpd_12m", "bur_worst_dpd_24m", "bur_loan_queries_3m", "bur_loan_queries_6m",
         "bur_guaranteed_amount"),
        # public records: lawsuits, enforcement, abnormal list
        ("pr_lawsuits_12m", "pr_enforcement_open", "pr_abnormal_open"),
        # supply chain: share of sales to the core, tenure
        ("xs_chain_share_of_sales", "sc_tenure_months"),
        # property owned; cross-source checks
        ("prop_units", "xs_invoice_to_inflow_12m", "xs_payroll_to_insured", "xs_kwh_per_kcny_12m"),
    ],
)  # fmt: skip
def test_the_indicators_the_issue_names_exist(library: Library, ids: tuple[str, ...]) -> None:
    missing = [i for i in ids if i not in library]
    assert not missing


def test_every_indicator_is_fully_described(library: Library) -> None:
    for ind in library.indicators:
        assert ind.zh and ind.en and ind.window and ind.description and ind.unit, ind.id
        assert ind.derived or ind.source in library.sources
        if ind.derived:
            assert ind.inputs and all(i in library for i in ind.inputs)
            assert set(library.base_sources(ind)) <= set(library.sources)
        if ind.flag is not None:
            assert ind.type is IndicatorType.BOOL
    assert len({i.id for i in library.indicators}) == len(library)


def test_windows_expand_into_one_indicator_each(library: Library) -> None:
    sales = [library.get(f"tax_sales_{w}m") for w in (3, 6, 12, 24)]
    assert [s.window for s in sales] == ["3m", "6m", "12m", "24m"]
    assert "mb < 12" in sales[2].expr and "{w}" not in sales[2].expr
    assert sales[2].zh == "近12个月开票销售额"


def test_the_catalogue_lists_every_indicator(library: Library) -> None:
    md = catalogue_markdown(library)
    assert all(f"`{i.id}`" in md for i in library.indicators)


# ---- refusals ---------------------------------------------------------------------------------------------

_BASE = """dimension: extra
zh: 测试
en: Test
order: 50
indicators:
"""


def _with(tmp_path: Path, body: str, file: str = "extra.yaml", replace: tuple[str, str, str] | None = None) -> Path:
    d = tmp_path / "defs"
    shutil.copytree(DEFINITIONS, d)
    (d / file).write_text(_BASE + body, encoding="utf-8") if body else None
    if replace:
        target, old, new = replace
        text = (d / target).read_text(encoding="utf-8")
        assert old in text
        (d / target).write_text(text.replace(old, new, 1), encoding="utf-8")
    return d


def _indicator(expr: str, *, source: str = "tax_monthly", type_: str = "amount", unit: str = "CNY",
               ident: str = "x_test") -> str:  # fmt: skip
    return f"""  - id: {ident}
    zh: 测试
    en: Test
    source: {source}
    window: 3m
    expr: "{expr}"
    type: {type_}
    unit: {unit}
    risk: higher
    description: A test indicator.
"""


@pytest.mark.parametrize(
    ("expr", "kwargs", "message"),
    [
        ("SUM(CASE WHEN mb < 3 THEN invoice_salez END)", {}, "invoice_salez"),
        ("SUM(CASE WHEN mb < 3 THEN invoice_sales END", {}, "not valid SQL"),
        ("RATIO(SUM(invoice_sales), 1", {"type_": "float", "unit": "ratio"}, "unbalanced"),
        ("SUM(invoice_sales) +* 2", {}, "x_test"),
        ("SUM(invoice_sales) // 2", {}, "'//' is not in the portable set"),
        ("STDDEV(invoice_sales)", {"type_": "float", "unit": "ratio"}, "'stddev' is not in the portable set"),
        ("MAX(taxpayer_type)", {}, "not compatible with declared type amount"),
        ("SUM(invoice_sales)", {"source": "tax_monthy"}, "unknown source 'tax_monthy'"),
        ("SUM(registered_capital)", {"source": "registration"}, "aggregate 'sum' is not allowed"),
        ("RATIO(SUM(invoice_sales))", {"type_": "float", "unit": "ratio"}, "RATIO takes 2 argument(s)"),
        ("SUM(invoice_sales)", {"unit": "dollars"}, "unknown unit 'dollars'"),
        ("tax_sales_12m * 2 + SUM(tax_sales_3m)", {"source": "derived"}, "aggregate 'sum' is not allowed"),
        ("tax_sales_13m * 2", {"source": "derived"}, "must read other indicators"),
        ("tax_sales_12m + stl_inflow_13m", {"source": "derived"}, "stl_inflow_13m"),
    ],
)  # fmt: skip
def test_bad_definitions_are_refused_at_load_naming_the_indicator(
    tmp_path: Path, expr: str, kwargs: dict, message: str
) -> None:
    with pytest.raises(ConfigurationError) as err:
        load_library(_with(tmp_path, _indicator(expr, **kwargs)))
    assert "x_test" in err.value.message
    assert message in err.value.message


def test_a_duplicate_id_is_refused(tmp_path: Path) -> None:
    with pytest.raises(ConfigurationError, match=r"tax_sales_12m.*also defined in"):
        load_library(_with(tmp_path, _indicator("SUM(invoice_sales)", ident="tax_sales_12m")))


def test_a_cycle_of_derived_indicators_is_refused(tmp_path: Path) -> None:
    body = _indicator("x_b + 1", source=DERIVED, ident="x_a") + _indicator("x_a + 1", source=DERIVED, ident="x_b")
    with pytest.raises(ConfigurationError, match="cycle: x_a, x_b"):
        load_library(_with(tmp_path, body))


def test_a_source_relation_without_entity_filter_is_refused(tmp_path: Path) -> None:
    # each raw relation a custom relation reads must be restricted to the enterprises being computed
    d = _with(tmp_path, "", replace=("sources.yaml", "    WHERE ENTITY_FILTER(r.uscc)\n", "\n"))
    with pytest.raises(ConfigurationError, match="restrict every raw relation it reads with ENTITY_FILTER"):
        load_library(d)


def test_an_unknown_source_setting_is_refused(tmp_path: Path) -> None:
    d = _with(tmp_path, "", replace=("sources.yaml", "tax_monthly: {}", "tax_monthly: {lag: 3}"))
    with pytest.raises(ConfigurationError, match=r"unknown settings \['lag'\]"):
        load_library(d)
