"""Each dimension's indicators against an independent re-implementation in plain Python over the raw rows.

The reference below reads the raw Parquet with pyarrow, applies the point-in-time rule written out by
hand (a monthly row counts once `month_end + lag <= as_of`, an event once `date + lag <= as_of`;
windows count whole months with `puhui.core.dates.months_between`) and computes each indicator the
way its description says — no SQL, no compiler. Every enterprise of the universe is compared.
"""

from __future__ import annotations

import calendar
import math
from collections import defaultdict
from datetime import date, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow.parquet as pq
import pytest

from puhui.core.dates import months_between
from puhui.data.contracts import CONTRACTS

from .conftest import AS_OF


def _rows(universe: Path, source: str, key: str = "uscc") -> dict[str, list[dict[str, Any]]]:
    out: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for r in pq.read_table(universe / "raw" / source).to_pylist():
        out[r[key]].append(r)
    return out


def _available_months(lag: int) -> list[date]:
    """Month starts whose rows are known on AS_OF, newest first (the reference's own reading of the lag)."""
    months = []
    y, m = AS_OF.year, AS_OF.month
    for _ in range(60):
        last = date(y, m, calendar.monthrange(y, m)[1])
        if last + timedelta(days=lag) <= AS_OF:
            months.append(date(y, m, 1))
        y, m = (y, m - 1) if m > 1 else (y - 1, 12)
    return months


def _monthly(universe: Path, source: str, key: str = "uscc") -> dict[str, dict[int, list[dict[str, Any]]]]:
    """rows by enterprise and months-back from the latest available month (0 = latest)."""
    contract = CONTRACTS[source]
    order = {m: i for i, m in enumerate(_available_months(contract.lag_days))}
    out: dict[str, dict[int, list[dict[str, Any]]]] = defaultdict(lambda: defaultdict(list))
    for u, rows in _rows(universe, source, key).items():
        for r in rows:
            if r[contract.time_field] in order:
                out[u][order[r[contract.time_field]]].append(r)
    return out


def _events(universe: Path, source: str, field: str) -> dict[str, list[tuple[int, dict[str, Any]]]]:
    """(whole months since the event, row) for the events known on AS_OF."""
    lag = CONTRACTS[source].lag_days
    out: dict[str, list[tuple[int, dict[str, Any]]]] = defaultdict(list)
    for u, rows in _rows(universe, source).items():
        for r in rows:
            if r[field] + timedelta(days=lag) <= AS_OF:
                out[u].append((months_between(r[field], AS_OF), r))
    return out


def _sum(values: list[Any]) -> Any:
    vals = [v for v in values if v is not None]
    return sum(vals, Decimal(0)) if vals else None


def _check(batch_rows: dict[str, dict], indicator: str, expected: dict[str, Any], *, rel: float = 0.0) -> None:
    assert batch_rows, "empty table"
    checked = 0
    for u, row in batch_rows.items():
        want = expected.get(u)
        got = row[indicator]
        if rel and want is not None and got is not None:
            assert math.isclose(float(got), float(want), rel_tol=rel, abs_tol=1e-9), (indicator, u, got, want)
        else:
            assert got == want, (indicator, u, got, want)
        checked += want is not None
    assert checked > 0, f"{indicator}: no enterprise has a value — the comparison would be vacuous"


# ---- registration -----------------------------------------------------------------------------------------


def test_registration(universe: Path, batch_rows: dict[str, dict]) -> None:
    reg = {u: rs[0] for u, rs in _rows(universe, "registration").items()}
    changes = _rows(universe, "registration_changes")
    known_by = AS_OF - timedelta(days=1)
    age, active, capital = {}, {}, {}
    for u, r in reg.items():
        if r["founding_date"] > known_by:
            assert u not in batch_rows  # not yet registered: not in the table at all
            continue
        age[u] = months_between(r["founding_date"], AS_OF)
        status = r["status"] if r["status_date"] is None or r["status_date"] <= known_by else "active"
        active[u] = status == "active"
        later = sorted((c["change_date"], c["seq"], c) for c in changes.get(u, [])
                       if c["change_item"] == "capital" and c["change_date"] > known_by)  # fmt: skip
        capital[u] = (Decimal(later[0][2]["before_value"].removesuffix("万元人民币")) * 10000 if later
                      else r["registered_capital"])  # fmt: skip
    assert len(batch_rows) == len(age)
    _check(batch_rows, "reg_age_months", age)
    _check(batch_rows, "reg_is_active", active)
    _check(batch_rows, "reg_capital", capital)
    assert any(not v for v in active.values())  # some revoked or cancelled by the date
    legal = {u: sum(1 for c in changes.get(u, []) if c["change_item"] == "legal_rep"
                    and c["change_date"] <= known_by and months_between(c["change_date"], AS_OF) < 12)
             for u in age}  # fmt: skip
    _check(batch_rows, "chg_legal_rep_12m", legal)  # counts of events: zero, not NULL, without changes


# ---- tax -----------------------------------------------------------------------------------------------


def test_tax(universe: Path, batch_rows: dict[str, dict]) -> None:
    tax = _monthly(universe, "tax_monthly")
    sales12, yoy, cv, zeros, missed = {}, {}, {}, {}, {}
    for u, by_mb in tax.items():
        if u not in batch_rows:
            continue
        last12 = [r["invoice_sales"] for mb in range(12) for r in by_mb.get(mb, [])]
        prev12 = [r["invoice_sales"] for mb in range(12, 24) for r in by_mb.get(mb, [])]
        sales12[u] = _sum(last12)
        if len(prev12) == 12 and sales12[u] is not None and _sum(prev12):
            yoy[u] = float(sales12[u]) / float(_sum(prev12)) - 1
        if last12:
            arr = np.array([float(x) for x in last12])
            cv[u] = float(np.std(arr) / np.mean(arr)) if np.mean(arr) else None
        zeros[u] = sum(1 for mb in range(12) for r in by_mb.get(mb, []) if r["zero_declaration"])
        missed[u] = 12 - sum(1 for mb in range(12) for r in by_mb.get(mb, []) if r["filed"])
    _check(batch_rows, "tax_sales_12m", sales12)
    _check(batch_rows, "tax_sales_yoy_12m", yoy, rel=1e-12)
    _check(batch_rows, "tax_sales_cv_12m", cv, rel=1e-9)
    _check(batch_rows, "tax_zero_decl_months_12m", zeros)
    _check(batch_rows, "tax_missed_filings_12m", missed)
    grades = {}
    for u, rows in _rows(universe, "tax_credit_grades").items():
        known = [r for r in rows if r["period_end"] + timedelta(days=120) <= AS_OF]
        if known and u in batch_rows:
            grades[u] = max(known, key=lambda r: r["period_end"])["grade"]
    _check(batch_rows, "tax_grade", grades)


# ---- settlement, payroll and social insurance, electricity, customs ------------------------------------------


def test_settlement(universe: Path, batch_rows: dict[str, dict]) -> None:
    stl = _monthly(universe, "settlement_monthly")
    inflow3, net12, zero_in = {}, {}, {}
    for u, by_mb in stl.items():
        rows3 = [r for mb in range(3) for r in by_mb.get(mb, [])]
        rows12 = [r for mb in range(12) for r in by_mb.get(mb, [])]
        inflow3[u] = _sum([r["inflow"] for r in rows3])
        net12[u] = sum((r["inflow"] - r["outflow"] for r in rows12), Decimal(0))
        zero_in[u] = 12 - sum(1 for r in rows12 if r["inflow"] > 0)
    _check(batch_rows, "stl_inflow_3m", inflow3)
    _check(batch_rows, "stl_net_flow_12m", net12)
    _check(batch_rows, "stl_zero_inflow_months_12m", zero_in)


def test_payroll_and_social_insurance(universe: Path, batch_rows: dict[str, dict]) -> None:
    pay = _monthly(universe, "payroll_monthly")
    latest = {u: by_mb[0][0]["headcount"] for u, by_mb in pay.items() if by_mb.get(0)}
    missed = {u: 6 - sum(1 for mb in range(6) if by_mb.get(mb)) for u, by_mb in pay.items()}
    _check(batch_rows, "pay_headcount_latest", latest)
    _check(batch_rows, "pay_missed_months_6m", missed)
    si = _monthly(universe, "social_insurance_monthly")
    yoy = {}
    for u, by_mb in si.items():
        now, before = by_mb.get(0), by_mb.get(12)
        if now and before and before[0]["insured_headcount"]:
            yoy[u] = now[0]["insured_headcount"] / before[0]["insured_headcount"] - 1
    _check(batch_rows, "si_headcount_yoy", yoy, rel=1e-12)


def test_electricity_and_customs(universe: Path, batch_rows: dict[str, dict]) -> None:
    el = _monthly(universe, "electricity_monthly")
    kwh = {u: sum(round(Decimal(r["kwh"]), 6) for mb in range(12) for r in by_mb.get(mb, []))
           for u, by_mb in el.items() if any(by_mb.get(mb) for mb in range(12))}  # fmt: skip
    late = {u: sum(1 for mb in range(12) for r in by_mb.get(mb, []) if not r["paid_on_time"])
            for u, by_mb in el.items()}  # fmt: skip
    _check(batch_rows, "elec_kwh_12m", kwh, rel=1e-12)
    _check(batch_rows, "elec_late_payments_12m", late)
    cus = _monthly(universe, "customs_monthly")
    export = {u: _sum([r["export_value"] for mb in range(12) for r in by_mb.get(mb, [])]) for u, by_mb in cus.items()}
    _check(batch_rows, "cus_export_12m", export)


# ---- bureau --------------------------------------------------------------------------------------------


def test_bureau(universe: Path, batch_rows: dict[str, dict]) -> None:
    acc = _monthly(universe, "bureau_enterprise_accounts")
    lenders = {u: len({r["lender"] for r in by_mb.get(0, []) if r["balance"] > 0}) for u, by_mb in acc.items()}
    worst = {}
    for u, by_mb in acc.items():
        days = [r["overdue_days"] for mb in range(24) for r in by_mb.get(mb, [])]
        worst[u] = max(days) if days else None
    _check(batch_rows, "bur_lenders", lenders)
    _check(batch_rows, "bur_worst_dpd_24m", worst)
    assert any(v and v > 30 for v in worst.values())  # delinquency exists in the universe
    queries = _events(universe, "bureau_enterprise_queries", "query_date")
    q6 = {u: sum(1 for mb, r in rows if mb < 6 and r["reason"] == "loan_approval") for u, rows in queries.items()}
    _check(batch_rows, "bur_loan_queries_6m", {u: q6.get(u, 0) for u in batch_rows})  # no record: zero queries
    person = _monthly(universe, "bureau_person_accounts")
    status = {}
    for u, by_mb in person.items():
        marks = [int(ch) for r in by_mb.get(0, []) for ch in r["repayment_24m"] if ch in "1234567"]
        status[u] = max(marks, default=0) if by_mb.get(0) else None
    _check(batch_rows, "per_worst_status_24m", status)


# ---- public records, supply chain, property, platforms -------------------------------------------------------


def test_public_records(universe: Path, batch_rows: dict[str, dict]) -> None:
    events = _events(universe, "public_records", "record_date")
    known_by = AS_OF - timedelta(days=7)
    open_enf = {
        u: sum(1 for _, r in rows
               if r["record_type"] == "enforcement" and (r["removed_date"] is None or r["removed_date"] > known_by))
        for u, rows in events.items()
    }  # fmt: skip
    suits = {u: sum(1 for mb, r in rows if mb < 12 and r["record_type"] == "lawsuit") for u, rows in events.items()}
    _check(batch_rows, "pr_enforcement_open", {u: open_enf.get(u, 0) for u in batch_rows})
    _check(batch_rows, "pr_lawsuits_12m", {u: suits.get(u, 0) for u in batch_rows})


def test_supply_chain_and_property(universe: Path, batch_rows: dict[str, dict]) -> None:
    rel = defaultdict(list)
    for r in pq.read_table(universe / "raw" / "chain_relations").to_pylist():
        if r["since_date"] + timedelta(days=1) <= AS_OF:
            rel[r["member_uscc"]].append(months_between(r["since_date"], AS_OF))
    _check(batch_rows, "sc_tenure_months", {u: max(v) for u, v in rel.items()})
    trade = _monthly(universe, "chain_trade_monthly", key="member_uscc")
    sales = {u: _sum([r["invoiced_amount"] for mb in range(12) for r in by_mb.get(mb, []) if r["direction"] == "sale"])
             for u, by_mb in trade.items()}  # fmt: skip
    _check(batch_rows, "sc_sales_12m", sales)
    units = defaultdict(set)
    for r in pq.read_table(universe / "raw" / "property_holdings").to_pylist():
        if r["acquired_date"] <= AS_OF:
            units[r["uscc"]].add(r["unit_id"])
    _check(batch_rows, "prop_units", {u: len(units.get(u, ())) for u in batch_rows})


def test_platforms(universe: Path, batch_rows: dict[str, dict]) -> None:
    ecom = _monthly(universe, "ecommerce_monthly")
    gmv = {u: _sum([r["gmv"] for mb in range(12) for r in by_mb.get(mb, [])]) for u, by_mb in ecom.items()}
    _check(batch_rows, "ecom_gmv_12m", gmv)
    awards = _events(universe, "gov_procurement_awards", "award_date")
    n24 = {u: sum(1 for mb, _ in rows if mb < 24) for u, rows in awards.items()}
    _check(batch_rows, "gp_awards_24m", {u: n24.get(u, 0) for u in batch_rows})


# ---- cross-source consistency -----------------------------------------------------------------------------


def _and3(a: bool | None, b: bool | None) -> bool | None:
    """SQL's three-valued AND: FALSE wins over NULL."""
    if a is False or b is False:
        return False
    return None if a is None or b is None else True


def test_consistency(batch_rows: dict[str, dict]) -> None:
    ratio = {}
    flag = {}
    for u, r in batch_rows.items():
        t, s = r["tax_sales_12m"], r["stl_inflow_12m"]
        ratio[u] = float(t) / float(s) if t is not None and s not in (None, 0) else None
        hist = r["stl_history_months"]
        flag[u] = _and3(None if ratio[u] is None else ratio[u] > 3, None if hist is None else hist >= 12)
    _check(batch_rows, "xs_invoice_to_inflow_12m", ratio)
    _check(batch_rows, "xs_flag_invoice_inflated", flag)
    thin = {u: r["xs_sources_present"] <= 2 for u, r in batch_rows.items()}
    _check(batch_rows, "xs_flag_thin_file", thin)  # a derived indicator of a derived indicator


@pytest.mark.parametrize("source", ["payroll_monthly", "customs_monthly", "settlement_monthly"])
def test_a_missing_source_reads_null_and_its_presence_flag_false(
    universe: Path, batch_rows: dict[str, dict], source: str
) -> None:
    key = "uscc"
    present = set(_rows(universe, source, key))
    absent = [r for u, r in batch_rows.items() if u not in present]
    assert absent, "every enterprise has the source; pick another"
    prefix = {"payroll_monthly": "pay_", "customs_monthly": "cus_", "settlement_monthly": "stl_"}[source]
    for r in absent:
        assert r[f"src_{source}"] is False
        assert all(v is None for k, v in r.items() if k.startswith(prefix)), r["uscc"]
