"""The customer profile: identity as of the date, size class, percentiles within the industry, flags."""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path

import pyarrow as pa

from puhui.data.sizeclass import classify, miit_category
from puhui.indicators.batch import BatchReport
from puhui.indicators.library import Library
from puhui.indicators.online import OnlineEngine
from puhui.indicators.profile import build_profile, mask_name

from .conftest import AS_OF


def _pick(batch_rows: dict[str, dict], **want: object) -> str:
    return next(u for u, r in sorted(batch_rows.items()) if all(r[k] == v for k, v in want.items()))


def test_profile_of_a_firm_with_tax_data(
    universe: Path, library: Library, batch_report: BatchReport, batch_rows: dict[str, dict], batch_table: pa.Table
) -> None:
    engine = OnlineEngine(universe, library=library)
    uscc = _pick(batch_rows, src_tax_monthly=True, src_annual_reports=True, reg_is_active=True)
    prof = build_profile(engine, uscc, AS_OF)
    row = batch_rows[uscc]
    assert prof.uscc == uscc and prof.as_of == AS_OF and prof.computed_from == "batch"
    assert prof.industry.section == row["reg_industry_section"] and prof.industry.section_zh
    assert prof.legal_rep.endswith("*") and "*" not in prof.legal_rep[0]
    assert [d.id for d in prof.dimensions] == [d.id for d in library.dimensions]
    assert sum(len(d.indicators) for d in prof.dimensions) == len(library)
    assert {s.source for s in prof.sources if s.present} == {s for s in library.sources if row[f"src_{s}"]}
    # size class: MIIT 2011 on the latest annual report's figures
    cat = miit_category(row["reg_industry_section"], row["reg_industry_code"])
    want = classify(cat, employees=row["ar_employees"], revenue=Decimal(row["ar_revenue"]),
                    assets=Decimal(row["ar_total_assets"]))  # fmt: skip
    assert prof.size.size_class == want.value and prof.size.basis == "annual_report"
    # the percentile is the mid-rank share of the section's non-null values below the firm's own
    item = next(i for d in prof.dimensions for i in d.indicators if i.id == "tax_sales_12m")
    section = row["reg_industry_section"]
    peers = [float(r["tax_sales_12m"]) for r in batch_rows.values()
             if r["reg_industry_section"] == section and r["tax_sales_12m"] is not None]  # fmt: skip
    x = float(row["tax_sales_12m"])
    expected = 100 * (sum(v < x for v in peers) + 0.5 * sum(v == x for v in peers)) / len(peers)
    assert item.percentile == round(expected, 1)
    assert item.value == str(row["tax_sales_12m"])  # amounts travel as exact strings
    assert prof.percentile_basis is not None and prof.percentile_basis.peers == sum(
        r["reg_industry_section"] == row["reg_industry_section"] for r in batch_rows.values()
    )
    engine.close()


def test_flags_are_the_true_warning_indicators_red_first(
    universe: Path, library: Library, batch_report: BatchReport, batch_rows: dict[str, dict]
) -> None:
    flagged = [i.id for i in library.indicators if i.flag is not None]
    uscc = max(batch_rows, key=lambda u: sum(batch_rows[u][f] is True for f in flagged))
    engine = OnlineEngine(universe, library=library)
    prof = build_profile(engine, uscc, AS_OF)
    assert {f.id for f in prof.flags} == {f for f in flagged if batch_rows[uscc][f] is True}
    order = {"red": 0, "orange": 1, "yellow": 2}
    assert [order[f.severity] for f in prof.flags] == sorted(order[f.severity] for f in prof.flags)
    assert len(prof.flags) >= 2
    engine.close()


def test_without_a_batch_table_the_profile_has_no_percentiles_and_says_why(
    engine: OnlineEngine, batch_rows: dict[str, dict]
) -> None:
    from datetime import date

    prof = build_profile(engine, sorted(batch_rows)[0], date(2026, 6, 29))
    assert prof.percentile_basis is None and prof.computed_from == "computed"
    assert all(i.percentile is None for d in prof.dimensions for i in d.indicators)
    assert "puhui indicators --as-of 2026-06-29" in prof.notes[0]


def test_names_are_masked() -> None:
    assert mask_name("欧阳娜娜") == "欧***"
    assert mask_name("") == ""
