"""Shared helpers for the monitoring tests (not a test module): USCCs, a hand-made indicator table, a chain."""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq

from puhui.core.identifiers import make_uscc
from puhui.indicators.batch import indicator_table_path

AS_OF = date(2026, 10, 31)


def uscc(n: int, region: str = "440106") -> str:
    """A valid USCC (GB 32100) for party number n."""
    return make_uscc("9", "1", region, f"{n:08d}")


# A catalogue owned by the tests (its thresholds are the golden values the assertions use).
TEST_SIGNALS = """
version: test-1
tiers:
  yellow: {zh: 黄, en: Yellow, severity: "0.25", action: watch, action_zh: 关注, action_en: Watch.}
  orange: {zh: 橙, en: Orange, severity: "0.50", action: reduce_review, action_zh: 压降, action_en: Review.}
  red: {zh: 红, en: Red, severity: "1.00", action: freeze, action_zh: 冻结, action_en: Freeze.}
signals:
  - id: sales_decline
    category: business_decline
    zh: 开票销售额同比下滑
    en: Sales down
    indicator: tax_sales_yoy_3m
    op: "<="
    tiers: {yellow: "-0.30", orange: "-0.50"}
  - id: enforcement_case
    category: judicial
    zh: 被执行
    en: Enforcement
    indicator: pr_enforcement_open
    op: ">="
    tiers: {red: "1"}
  - id: deregistered
    category: registry
    zh: 非存续
    en: Not active
    indicator: reg_flag_inactive
    op: is
    tiers: {red: true}
contagion:
  min_core_tier: orange
  tiers: {yellow: "0.10", orange: "0.25", red: "0.60"}
"""

COLUMNS = {"tax_sales_yoy_3m": pa.float64(), "pr_enforcement_open": pa.int64(), "reg_flag_inactive": pa.bool_()}


def write_signals(tmp: Path, text: str = TEST_SIGNALS, name: str = "signals.yaml") -> Path:
    p = tmp / name
    p.write_text(text, encoding="utf-8")
    return p


def write_table(home: Path, rows: list[dict[str, Any]], as_of: date = AS_OF) -> Path:
    """A finished batch indicator table of `as_of` with `uscc` and the three columns of TEST_SIGNALS."""
    folder = indicator_table_path(home, as_of)
    folder.mkdir(parents=True, exist_ok=True)
    data = {"uscc": pa.array([r["uscc"] for r in rows], pa.string())}
    for col, typ in COLUMNS.items():
        data[col] = pa.array([r.get(col) for r in rows], typ)
    pq.write_table(pa.table(data), folder / "part-00000.parquet")
    (folder / "_manifest.json").write_text(json.dumps({"status": "complete", "as_of": as_of.isoformat(),
                                                       "columns": ["uscc", *COLUMNS]}), encoding="utf-8")
    return folder


def write_chain(home: Path, core: str, members: list[tuple[str, int, str | None, str]]) -> None:
    """A raw zone with one core enterprise and its members: (uscc, tier, counterparty or None, share)."""
    raw = home / "raw"
    for d in ("chain_core_enterprises", "chain_relations", "chain_trade_monthly"):
        (raw / d).mkdir(parents=True, exist_ok=True)
    pq.write_table(pa.table({
        "core_uscc": [core], "name": ["核心制造集团"], "sector": ["auto"], "industry_section": ["C"],
        "industry_code": ["36"], "city_code": ["110100"], "annual_revenue": [5.0e9], "employees": [5000],
        "listed": [True], "rating": ["AA"],
    }), raw / "chain_core_enterprises" / "part-0.parquet")
    pq.write_table(pa.table({
        "core_uscc": [core] * len(members), "member_uscc": [m[0] for m in members],
        "role": ["supplier"] * len(members), "tier": pa.array([m[1] for m in members], pa.int64()),
        "counterparty_uscc": [m[2] or core for m in members],
        "since_date": pa.array([date(2022, 1, 1)] * len(members), pa.date32()),
        "share_of_business": [float(m[3]) for m in members],
        "payment_terms_days": pa.array([60] * len(members), pa.int64()),
    }), raw / "chain_relations" / "part-0.parquet")
    pq.write_table(pa.table({
        "core_uscc": pa.array([], pa.string()), "member_uscc": pa.array([], pa.string()),
        "counterparty_uscc": pa.array([], pa.string()), "month": pa.array([], pa.date32()),
        "direction": pa.array([], pa.string()), "invoiced_amount": pa.array([], pa.float64()),
        "invoices": pa.array([], pa.int64()), "paid_amount": pa.array([], pa.float64()),
        "avg_payment_days": pa.array([], pa.float64()), "past_due_amount": pa.array([], pa.float64()),
    }), raw / "chain_trade_monthly" / "part-0.parquet")
