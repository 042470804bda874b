"""Batch scoring and training speed of the scorecard and the GBM, against optbinning's Scorecard in the same run.

A seeded synthetic credit frame (numpy; 17 numeric features with 3 % missing values and 3 categorical
features, every one of them carrying signal through a logistic data-generating process) is built once. Both
scorecards — ours (`puhui.models.scorecard.Scorecard`, selection filters opened so that it keeps every
feature, as optbinning's does without selection criteria) and optbinning's `Scorecard` (`BinningProcess` with
its defaults + scikit-learn `LogisticRegression()`, pdo/odds scaling 20/50/600) — are fitted on the same first
`--train-rows` rows and features, then score the same `--rows` rows; the best of `--repeats` wall times gives
rows per second, and the ratio ours / optbinning is printed. Our GBM (`GBMModel.predict_pd`, calibrated) is
timed on the same rows, beside LightGBM's own `Booster.predict` on a ready float matrix (its floor, timed on
the first 200,000 rows and scaled) and beside optbinning's scorecard. Then the training time at `--wide-rows`
× `--wide-features` (default 100,000 × 150) for our scorecard, our GBM and optbinning's Scorecard.

    .venv/bin/python benchmarks/scoring.py                 # 1M rows to score; 100k × 150 to train
    .venv/bin/python benchmarks/scoring.py --rows 100000 --wide-rows 20000 --wide-features 40   # quick

Figures are printed, never asserted.
"""

from __future__ import annotations

import argparse
import time
from collections.abc import Callable
from typing import Any

import numpy as np
import pandas as pd
from rich.console import Console
from rich.table import Table

from puhui.models.gbm import GBMConfig, GBMModel
from puhui.models.scorecard import Scorecard, ScorecardConfig

console = Console(width=170)
LEVELS = ("retail", "manufacturing", "construction", "it", "agri", "logistics", "catering")


def make_frame(n: int, n_num: int, n_cat: int, seed: int = 20261129) -> tuple[pd.DataFrame, np.ndarray]:
    """Features and labels (1 = bad): every feature moves the log-odds, a share of numerics is missing."""
    rng = np.random.default_rng(seed)
    cols: dict[str, Any] = {}
    logit = np.full(n, -2.6)
    for j in range(n_num):
        x = rng.standard_normal(n) if j % 2 else rng.lognormal(10, 1, n)
        z = (np.log(x) - 10) if j % 2 == 0 else x
        beta = (0.5 if j < 10 else 0.25) * (1 if j % 3 else -1)
        logit += beta * z
        x[rng.random(n) < 0.03] = np.nan
        cols[f"x{j:03d}"] = x
    for j in range(n_cat):
        k = rng.integers(0, len(LEVELS), n)
        effect = np.linspace(-0.5, 0.5, len(LEVELS))[(np.arange(len(LEVELS)) + j) % len(LEVELS)]
        logit += effect[k]
        cols[f"c{j:02d}"] = np.asarray(LEVELS, dtype=object)[k]
    y = (rng.random(n) < 1 / (1 + np.exp(-logit))).astype(int)
    return pd.DataFrame(cols), y


def best_of(fn: Callable[[], Any], repeats: int) -> tuple[float, float, Any]:
    """(wall seconds, CPU seconds of this process) of the fastest of `repeats` runs, and the last result. CPU
    time is printed beside wall time because the machine may be shared: it is what a quiet core would need
    (LightGBM's predict may use both cores, so its CPU time can exceed its wall time)."""
    best, cpu, out = float("inf"), float("inf"), None
    for _ in range(repeats):
        t0, c0 = time.perf_counter(), time.process_time()
        out = fn()
        wall = time.perf_counter() - t0
        if wall < best:
            best, cpu = wall, time.process_time() - c0
    return best, cpu, out


def fit_optbinning(x: pd.DataFrame, y: np.ndarray) -> Any:
    from optbinning import BinningProcess
    from optbinning import Scorecard as OBScorecard
    from sklearn.linear_model import LogisticRegression

    cats = [c for c in x.columns if x[c].dtype == object]
    bp = BinningProcess(list(x.columns), categorical_variables=cats)
    sc = OBScorecard(bp, LogisticRegression(), scaling_method="pdo_odds",
                     scaling_method_params={"pdo": 20, "odds": 50, "scorecard_points": 600})  # fmt: skip
    return sc.fit(x, y)


FLOOR_ROWS = 200_000
OPEN = ScorecardConfig(iv_min=0.0, corr_max=1.0, vif_max=1e9)  # keep every feature, like optbinning's default


def scoring(rows: int, train_rows: int, repeats: int, gbm_repeats: int) -> None:
    console.rule(f"Batch scoring: {rows:,} rows × 20 features (17 numeric, 3 categorical)")
    t0 = time.perf_counter()
    x, y = make_frame(max(rows, train_rows), 17, 3)
    console.print(f"frame built in {time.perf_counter() - t0:.1f} s")
    xs, xt, yt = x.iloc[:rows], x.iloc[:train_rows], y[:train_rows]
    fits = Table("model", "fit wall s", "fit CPU s", "features used", title=f"fits on {train_rows:,} rows × 20")
    w, c, ours = best_of(lambda: Scorecard.fit(xt, yt, config=OPEN), 1)
    fits.add_row("ours: Scorecard.fit", f"{w:.1f}", f"{c:.1f}", str(len(ours.features)))
    w, c, ob = best_of(lambda: fit_optbinning(xt, yt), 1)
    fits.add_row("optbinning Scorecard.fit", f"{w:.1f}", f"{c:.1f}", str(int(ob.binning_process_.get_support().sum())))
    w, c, gbm = best_of(lambda: GBMModel.fit(xt, yt, config=GBMConfig(max_rounds=300)), 1)
    fits.add_row("ours: GBMModel.fit (≤ 300 rounds)", f"{w:.1f}", f"{c:.1f}",
                 f"{len(gbm.features)} ({gbm.best_iteration} trees)")  # fmt: skip
    console.print(fits)

    t_ours, c_ours, s_ours = best_of(lambda: ours.score(xs), repeats)
    t_ob, c_ob, s_ob = best_of(lambda: ob.score(xs), repeats)
    t_gbm, c_gbm, _ = best_of(lambda: gbm.predict_pd(xs), gbm_repeats)
    n_floor = min(rows, FLOOR_ROWS)  # LightGBM's own predict costs as much as ours: time it on a slice
    mat = gbm._matrix(xs.iloc[:n_floor])
    t_lgb, c_lgb, _ = best_of(lambda: gbm.booster.predict(mat, raw_score=True), gbm_repeats)
    t_lgb, c_lgb = t_lgb * rows / n_floor, c_lgb * rows / n_floor  # as seconds per `rows` rows
    t = Table("scorer", "best wall s", "CPU s", "rows/s (wall)", "rows/s (CPU)", "vs optbinning (wall)",
              "vs optbinning (CPU)", title=f"scoring {rows:,} rows, best of {repeats} (GBM {gbm_repeats})")  # fmt: skip
    for name, sec, cpu in (("ours: Scorecard.score", t_ours, c_ours), ("optbinning: Scorecard.score", t_ob, c_ob),
                           ("ours: GBMModel.predict_pd", t_gbm, c_gbm),
                           (f"LightGBM Booster.predict (floor; {n_floor:,} rows, scaled)", t_lgb, c_lgb)):  # fmt: skip
        t.add_row(name, f"{sec:.3f}", f"{cpu:.3f}", f"{rows / sec:,.0f}", f"{rows / cpu:,.0f}", f"{t_ob / sec:.2f}×",
                  f"{c_ob / cpu:.2f}×")  # fmt: skip
    console.print(t)
    rho = pd.Series(s_ours).corr(pd.Series(s_ob), method="spearman")
    console.print(f"ours vs optbinning: {t_ob / t_ours:.2f}× faster by wall time, {c_ob / c_ours:.2f}× by CPU time "
                  f"(goal: several times); GBM predict_pd / LightGBM "
                  f"floor: {t_gbm / t_lgb:.2f}× wall, {c_gbm / c_lgb:.2f}× CPU; Spearman(ours, optbinning score) "
                  f"{rho:.4f}")  # fmt: skip


def training(rows: int, features: int) -> None:
    n_cat = max(1, features // 30)
    console.rule(f"Training: {rows:,} rows × {features} features ({features - n_cat} numeric, {n_cat} categorical)")
    x, y = make_frame(rows, features - n_cat, n_cat, seed=7)
    t = Table("model", "fit wall s", "fit CPU s", "features used", title="training time")
    w, c, ours = best_of(lambda: Scorecard.fit(x, y), 1)
    t.add_row("ours: Scorecard.fit (default selection)", f"{w:.1f}", f"{c:.1f}", str(len(ours.features)))
    w, c, gbm = best_of(lambda: GBMModel.fit(x, y), 1)
    t.add_row("ours: GBMModel.fit (≤ 600 rounds, early stop)", f"{w:.1f}", f"{c:.1f}",
              f"{len(gbm.features)} ({gbm.best_iteration} trees)")  # fmt: skip
    w, c, ob = best_of(lambda: fit_optbinning(x, y), 1)
    t.add_row("optbinning: Scorecard.fit (defaults)", f"{w:.1f}", f"{c:.1f}",
              str(int(ob.binning_process_.get_support().sum())))  # fmt: skip
    console.print(t)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--rows", type=int, default=1_000_000, help="rows to score")
    ap.add_argument("--train-rows", type=int, default=100_000, help="rows the scoring models are fitted on")
    ap.add_argument("--repeats", type=int, default=3, help="scorecard scoring repeats (best of)")
    ap.add_argument("--gbm-repeats", type=int, default=1, help="GBM scoring repeats (best of; each is slow)")
    ap.add_argument("--wide-rows", type=int, default=100_000, help="rows for the training-time run (0 = skip)")
    ap.add_argument("--wide-features", type=int, default=150, help="features for the training-time run")
    a = ap.parse_args()
    t0, c0 = time.perf_counter(), time.process_time()
    scoring(a.rows, min(a.train_rows, a.rows), a.repeats, a.gbm_repeats)
    if a.wide_rows > 0:
        training(a.wide_rows, a.wide_features)
    console.print(f"total {time.perf_counter() - t0:.0f} s wall, {time.process_time() - c0:.0f} s CPU")


if __name__ == "__main__":
    main()
