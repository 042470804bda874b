"""Benchmark of the indicator library: batch time, the polars floor, online latency.

For each universe size (100,000 enterprises by default; add `--million` for 1,000,000) it generates the
synthetic universe once (kept under `--root` and reused), then measures:

* **batch**: `run_batch` of the whole library for one as-of date (every enterprise, every indicator);
* **twenty core aggregates**: the same 20 indicators (sales, flows, headcount, kWh, bureau, queries,
  lawsuits, exports) run by our engine as a 20-indicator library, and hand-written in polars over the
  same Parquet with the same point-in-time rules — the engine's floor; the ratio is printed, and the
  two results are compared value by value;
* **online**: p50/p99 of `OnlineEngine.compute` (fresh, DuckDB, one enterprise) and of the hot path
  `OnlineEngine.indicators` answering from the batch table's in-memory index.

Run: `.venv/bin/python benchmarks/indicators.py [--enterprises 100000] [--million] [--online 300]`.
Figures are printed, never asserted.
"""

from __future__ import annotations

import argparse
import json
import random
import shutil
import time
from datetime import date
from pathlib import Path

import numpy as np
import polars as pl
from rich.console import Console

from puhui.data.synth.runner import SynthConfig, run_synth
from puhui.indicators.batch import run_batch
from puhui.indicators.library import Library, default_library
from puhui.indicators.online import OnlineEngine
from puhui.indicators.pit import anchor_month, known_by, month_index

console = Console()

CORE = (
    "tax_sales_3m", "tax_sales_12m", "tax_sales_prev_12m", "tax_zero_decl_months_12m", "tax_arrears_latest",
    "stl_inflow_3m", "stl_inflow_12m", "stl_outflow_12m", "stl_avg_balance_3m", "stl_history_months",
    "si_headcount_latest", "si_paid_12m", "pay_amount_12m", "elec_kwh_12m", "elec_arrears_latest",
    "bur_balance", "bur_worst_dpd_12m", "bur_loan_queries_6m", "pr_lawsuits_12m", "cus_export_12m",
)  # fmt: skip
"""The twenty core aggregates (monthly windows, latest-month values, event counts over whole months)."""


def universe(root: Path, n: int, chunk: int) -> Path:
    home = root / f"u{n}"
    manifest = home / "raw" / "_universe.json"
    cfg = SynthConfig(enterprises=n, months=36, chunk_size=chunk)
    if (
        manifest.exists()
        and json.loads(manifest.read_text()).get("fingerprint") == cfg.fingerprint()
        and (json.loads(manifest.read_text()).get("status") == "complete")
    ):
        console.print(f"universe of {n:,} enterprises: reusing {home}")
        return home
    t = time.perf_counter()
    run_synth(cfg, home=home, fresh=True, console=console)
    console.print(f"universe of {n:,} enterprises generated in {time.perf_counter() - t:.1f} s")
    return home


def polars_core(raw: Path, as_of: date) -> tuple[pl.DataFrame, float]:
    """The twenty aggregates hand-written in polars (lazy scans, point-in-time filters, one join per source)."""
    t0 = time.perf_counter()

    def monthly(source: str, lag: int) -> pl.LazyFrame:
        anchor = anchor_month(as_of, lag)
        idx = month_index(anchor)
        return (
            pl.scan_parquet(raw / source / "*.parquet")
            .filter(pl.col("month") <= anchor)
            .with_columns(mb=(idx - (pl.col("month").dt.year() * 12 + pl.col("month").dt.month() - 1)))
        )

    def event(source: str, field: str, lag: int) -> pl.LazyFrame:
        a_idx = month_index(as_of)
        d = pl.col(field)
        months = a_idx - (d.dt.year().cast(pl.Int32) * 12 + d.dt.month().cast(pl.Int32) - 1)
        months = months - (d.dt.day() > as_of.day).cast(pl.Int32)
        return pl.scan_parquet(raw / source / "*.parquet").filter(d <= known_by(as_of, lag)).with_columns(mb=months)

    f = pl.Float64

    def win(col: str, w: int, lo: int = 0) -> pl.Expr:
        return pl.when(pl.col("mb").is_between(lo, w - 1)).then(pl.col(col).cast(f))

    def total(e: pl.Expr) -> pl.Expr:  # SQL's SUM: NULL, not 0, when there is nothing to add
        return pl.when(e.count() > 0).then(e.sum())

    tax = monthly("tax_monthly", 15).group_by("uscc").agg(
        tax_sales_3m=total(win("invoice_sales", 3)), tax_sales_12m=total(win("invoice_sales", 12)),
        tax_sales_prev_12m=total(win("invoice_sales", 24, 12)),
        tax_zero_decl_months_12m=(pl.col("zero_declaration") & (pl.col("mb") < 12)).sum(),
        tax_arrears_latest=total(win("arrears", 1)),
    )  # fmt: skip
    stl = monthly("settlement_monthly", 1).group_by("uscc").agg(
        stl_inflow_3m=total(win("inflow", 3)), stl_inflow_12m=total(win("inflow", 12)),
        stl_outflow_12m=total(win("outflow", 12)), stl_avg_balance_3m=win("avg_balance", 3).mean().round(2),
        stl_history_months=pl.len(),
    )  # fmt: skip
    si = (
        monthly("social_insurance_monthly", 30)
        .group_by("uscc")
        .agg(si_headcount_latest=total(win("insured_headcount", 1)), si_paid_12m=total(win("contribution_paid", 12)))
    )
    pay = monthly("payroll_monthly", 1).group_by("uscc").agg(pay_amount_12m=total(win("amount", 12)))
    elec = (
        monthly("electricity_monthly", 20)
        .group_by("uscc")
        .agg(elec_kwh_12m=total(win("kwh", 12)), elec_arrears_latest=total(win("arrears", 1)))
    )
    bur = (
        monthly("bureau_enterprise_accounts", 30)
        .group_by("uscc")
        .agg(bur_balance=total(win("balance", 1)), bur_worst_dpd_12m=win("overdue_days", 12).max())
    )
    q = (
        event("bureau_enterprise_queries", "query_date", 1)
        .group_by("uscc")
        .agg(bur_loan_queries_6m=((pl.col("mb") < 6) & (pl.col("reason") == "loan_approval")).sum())
    )
    pr = (
        event("public_records", "record_date", 7)
        .group_by("uscc")
        .agg(pr_lawsuits_12m=((pl.col("mb") < 12) & (pl.col("record_type") == "lawsuit")).sum())
    )
    cus = monthly("customs_monthly", 10).group_by("uscc").agg(cus_export_12m=total(win("export_value", 12)))
    spine = (
        pl.scan_parquet(raw / "registration" / "*.parquet")
        .filter(pl.col("founding_date") <= known_by(as_of, 1))
        .select("uscc")
    )
    out = spine
    for part in (tax, stl, si, pay, elec, bur, q, pr, cus):
        out = out.join(part, on="uscc", how="left")
    out = out.with_columns(pl.col("bur_loan_queries_6m").fill_null(0), pl.col("pr_lawsuits_12m").fill_null(0))
    df = out.collect()
    return df, time.perf_counter() - t0


def compare(engine_path: Path, floor: pl.DataFrame) -> tuple[int, int]:
    """Cells compared and cells that differ beyond float rounding (polars sums floats; we sum decimals)."""
    ours = pl.read_parquet(engine_path / "part-*.parquet").select(["uscc", *CORE])
    ours = ours.with_columns([pl.col(c).cast(pl.Float64) for c in CORE])
    both = ours.join(floor.with_columns([pl.col(c).cast(pl.Float64) for c in CORE]), on="uscc", suffix="_pl")
    bad = 0
    for c in CORE:
        a, b = both[c], both[f"{c}_pl"]
        same_null = a.is_null() == b.is_null()
        close = ((a - b).abs() <= 1e-6 * b.abs().fill_null(0) + 1e-6).fill_null(True)
        bad += int((~(same_null & close)).sum())
    return both.height * len(CORE), bad


def online(home: Path, library: Library, as_of: date, n: int) -> dict[str, float]:
    engine = OnlineEngine(home, library=library, use_batch=False)
    t = time.perf_counter()
    engine.refresh()  # builds the serving store if needed
    build = time.perf_counter() - t
    keys = sorted(engine._open().keys)
    rng = random.Random(1)
    sample = rng.sample(keys, min(n, len(keys)))
    fresh = []
    for u in sample:
        t = time.perf_counter()
        try:
            engine.compute(u, as_of)
        except Exception:  # founded after the date: skip
            continue
        fresh.append(time.perf_counter() - t)
    hot_engine = OnlineEngine(home, library=library)
    t = time.perf_counter()
    hot_engine.indicators(sample[0], as_of)  # loads the batch index once
    load = time.perf_counter() - t
    hot = []
    for u in rng.choices(sample, k=2000):
        t = time.perf_counter()
        try:
            hot_engine.indicators(u, as_of)
        except Exception:  # as above
            continue
        hot.append(time.perf_counter() - t)
    ms = lambda xs, p: float(np.percentile(np.array(xs) * 1000, p))  # noqa: E731
    return {"serving_store_build_s": build, "fresh_p50_ms": ms(fresh, 50), "fresh_p99_ms": ms(fresh, 99),
            "batch_index_load_s": load, "hot_p50_ms": ms(hot, 50), "hot_p99_ms": ms(hot, 99),
            "n_fresh": len(fresh)}  # fmt: skip


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--enterprises", type=int, default=100_000)
    ap.add_argument("--million", action="store_true", help="also 1,000,000 enterprises (generation takes minutes)")
    ap.add_argument("--root", type=Path, default=Path("var/bench/indicators"))
    ap.add_argument("--as-of", default="2026-10-31")
    ap.add_argument("--online", type=int, default=300, help="enterprises for the fresh online latency")
    ap.add_argument("--chunk-size", type=int, default=250_000)
    args = ap.parse_args()
    as_of = date.fromisoformat(args.as_of)
    library = default_library()
    core = library.subset(CORE)
    sizes = [args.enterprises] + ([1_000_000] if args.million else [])
    results = []
    for n in sizes:
        home = universe(args.root, n, chunk=min(100_000, max(20_000, n // 10)))
        t = time.perf_counter()
        rep = run_batch(as_of, home=home, library=library, fresh=True, console=console, chunk_size=args.chunk_size)
        full = time.perf_counter() - t
        core_home = args.root / f"core20-{n}"
        shutil.rmtree(core_home, ignore_errors=True)
        core_home.mkdir(parents=True)
        (core_home / "raw").symlink_to((home / "raw").resolve())
        t = time.perf_counter()
        core_rep = run_batch(as_of, home=core_home, library=core, fresh=True, chunk_size=args.chunk_size)
        core_s = time.perf_counter() - t
        floor, floor_s = polars_core(home / "raw", as_of)
        cells, bad = compare(core_rep.path, floor)
        lat = online(home, library, as_of, args.online) if n <= 200_000 else {}
        row = {"enterprises": rep.enterprises, "indicators": len(library), "batch_s": round(full, 1),
               "core20_engine_s": round(core_s, 2), "core20_polars_s": round(floor_s, 2),
               "ratio_core20": round(core_s / floor_s, 2), "ratio_full_vs_core20_polars": round(full / floor_s, 1),
               "core20_cells": cells, "core20_mismatches": bad, **{k: round(v, 2) for k, v in lat.items()}}  # fmt: skip
        results.append(row)
        console.print_json(json.dumps(row))
        slow = sorted(rep.stage_seconds.items(), key=lambda kv: -kv[1])[:5]
        console.print("slowest stages: " + ", ".join(f"{k} {v:.1f} s" for k, v in slow))
    console.print_json(json.dumps(results))


if __name__ == "__main__":
    main()
