"""Data contracts: every source is documented, typed and checked alike, and docs/data-contracts.md is exactly
the rendering of the contracts in code."""

from __future__ import annotations

from pathlib import Path

import pyarrow as pa

from puhui.data.contracts import CONTRACTS
from puhui.data.contracts.base import Check, FieldType
from puhui.data.contracts.docs import render
from puhui.data.contracts.enterprise import ENTERPRISE_CONTRACTS
from puhui.data.synth.runner import SOURCE_BUILDERS

DOC = Path(__file__).resolve().parents[2] / "docs" / "data-contracts.md"


def test_committed_doc_equals_the_rendering():
    assert DOC.read_text(encoding="utf-8") == render(), (
        "docs/data-contracts.md is stale: run `python -m puhui.data.contracts.docs > docs/data-contracts.md`"
    )


def test_rendering_documents_every_field_of_every_source():
    text = render()
    for c in CONTRACTS.values():
        assert f"## `{c.name}`" in text
        for f in c.fields:
            assert f"`{f.name}`" in text


def test_every_field_is_described_in_english_and_chinese():
    for c in CONTRACTS.values():
        assert c.en and c.zh and c.grain, c.name
        for f in c.fields:
            assert f.en.strip() and f.zh.strip(), (c.name, f.name)
            if f.type is FieldType.CODE:
                assert f.codes, (c.name, f.name)
            if f.type is FieldType.AMOUNT:
                assert f.unit == "CNY" or f.unit.startswith("CNY/"), (c.name, f.name)


def test_time_fields_are_dates_and_lags_are_set():
    for c in CONTRACTS.values():
        assert c.lag_days >= 0
        if c.time_field is not None:
            assert c.field(c.time_field).type in (FieldType.DATE, FieldType.MONTH), c.name


def test_enterprise_identifiers_carry_their_checks():
    for c in ENTERPRISE_CONTRACTS:
        for f in c.fields:
            if f.name.endswith("uscc"):
                assert Check.USCC in f.checks, (c.name, f.name)
            if f.name in ("legal_rep_id", "person_id"):
                assert Check.RIC in f.checks, (c.name, f.name)


def test_money_is_stored_exact():
    for c in CONTRACTS.values():
        for f in c.fields:
            if f.type is FieldType.AMOUNT:
                assert c.arrow_schema.field(f.name).type == pa.decimal128(18, 2)


def test_the_issue_sources_all_have_a_contract():
    names = {c.name for c in ENTERPRISE_CONTRACTS}
    wanted = {
        "registration", "registration_shareholders", "registration_changes", "tax_monthly", "tax_credit_grades",
        "settlement_monthly", "payroll_monthly", "social_insurance_monthly", "electricity_monthly",
        "customs_monthly", "logistics_monthly", "medical_insurance_monthly", "agriculture_annual",
        "ecommerce_monthly", "gov_procurement_awards", "bureau_enterprise_accounts", "bureau_enterprise_queries",
        "bureau_enterprise_guarantees", "bureau_person_accounts", "public_records", "chain_core_enterprises",
        "chain_relations", "chain_trade_monthly",
    }  # fmt: skip
    assert wanted <= names
    from puhui.data.contracts.property import PROPERTY_CONTRACTS

    assert len(CONTRACTS) == len(ENTERPRISE_CONTRACTS) + len(PROPERTY_CONTRACTS)  # no name used twice


def test_the_generator_writes_every_enterprise_source():
    built = {name for name, _ in SOURCE_BUILDERS} | {"chain_core_enterprises"}
    assert built == {c.name for c in ENTERPRISE_CONTRACTS}
