"""`puhui model reject-inference`: what fuzzy augmentation and parcelling gain on the synthetic universe.

Thin: builds the training set, simulates a legacy acceptance policy and fits the four scorecards (KGB,
fuzzy, parcelling, all applicants) via `puhui.models.reject_measure`, prints Rich tables (test AUC, KS,
mean PD vs bad rate, gains over KGB and the share of the gap to the all-applicants model closed) or the
JSON with `--json`, and writes the JSON to `<home>/models/reject_inference.json`. Mounted on `model_app`
by `puhui.cli._mount_subapps`. Errors of the `PuhuiError` tree print as one line `[code] message` and exit
with status 2.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

import typer
from rich.console import Console
from rich.table import Table

from puhui.clikit import fail, publish
from puhui.core.errors import PuhuiError

__all__ = ["print_reject_inference", "reject_inference"]


def _pct(v: float | None) -> str:
    return "" if v is None else f"{v:.1%}"


def print_reject_inference(result: dict[str, Any], console: Console) -> None:
    """The sample, the four models on the through-the-door test population, and the gains over KGB."""
    s, lp = result["sample"], result["legacy_policy"]
    console.print(f"legacy policy ({', '.join(lp['features'])}; train AUC {lp['train_auc']:.3f}) approved "
                  f"{s['approved']:,} of {s['train_applicants']:,} train applicants: approved bad rate "
                  f"{s['approved_bad_rate']:.2%}, rejected (true) {_pct(s['rejected_true_bad_rate'])}, "
                  f"through-the-door {s['ttd_bad_rate']:.2%}")  # fmt: skip
    console.print(f"assumed reject bad rate: KGB/fuzzy {_pct(s['fuzzy_inferred_reject_bad_rate'])}, parcelling "
                  f"{_pct(s['parcelling_inferred_reject_bad_rate'])}; KGB AUC on the rejects "
                  f"{s['kgb_auc_on_rejects']:.3f}")  # fmt: skip
    t = Table(title=f"Out-of-time test, all {s['test_applicants']:,} applicants (oracle AUC "
                    f"{result['oracle']['auc']:.4f})")  # fmt: skip
    for c in ("model", "AUC", "KS", "AUC declined part", "mean PD", "bad rate", "calib. error", "features", "fit s"):
        t.add_column(c, justify="left" if c == "model" else "right")
    for name, m in result["models"].items():
        t.add_row(name, f"{m['auc']:.4f}", f"{m['ks']:.4f}", f"{m['auc_would_decline']:.4f}", f"{m['mean_pd']:.4f}",
                  f"{m['bad_rate']:.4f}", f"{m['calibration_error']:.4f}", str(m["features_used"]),
                  f"{m['fit_seconds']:.1f}")  # fmt: skip
    console.print(t)
    g = Table(title="Gain over KGB (share of the KGB → all-applicants gap closed)")
    for c in ("method", "ΔAUC", "AUC gap closed", "ΔKS", "KS gap closed", "|mean PD − bad rate| reduced",
              "calibration gap closed"):  # fmt: skip
        g.add_column(c, justify="left" if c == "method" else "right")
    for name, d in result["gains"].items():
        g.add_row(name, f"{d['auc_gain']:+.4f}", _pct(d["auc_gap_closed"]), f"{d['ks_gain']:+.4f}",
                  _pct(d["ks_gap_closed"]), f"{d['abs_calibration_gap_reduction']:+.4f}",
                  _pct(d["calibration_gap_closed"]))  # fmt: skip
    console.print(g)
    if "seconds" in result:
        console.print(f"time: {result['seconds']}")


def reject_inference(
    home: Annotated[Path | None, typer.Option("--home", help="Universe home (default PUHUI_HOME).")] = None,
    approval_rate: Annotated[float, typer.Option("--approval-rate", help="Share approved by the legacy policy.")] = 0.5,
    uplift: Annotated[float, typer.Option("--uplift", help="Parcelling: reject bad rate = band rate × this.")] = 1.5,
    reject_weight: Annotated[float, typer.Option("--reject-weight", help="Weight of each inferred reject.")] = 1.0,
    soft_info: Annotated[
        float, typer.Option("--soft-info", help="Weight of hidden information (true PD) in the legacy policy.")
    ] = 0.0,
    holdout: Annotated[
        float, typer.Option("--holdout", help="Share of enterprises kept out of train and used for test.")
    ] = 0.3,
    seed: Annotated[int, typer.Option("--seed", help="Seed of the legacy noise and of parcelling.")] = 0,
    as_json: Annotated[bool, typer.Option("--json", help="Print the result as JSON.")] = False,
) -> None:
    """Simulate a past approval policy and measure what reject inference gains over approved-only training."""
    from puhui.config import paths
    from puhui.models.reject_measure import RejectMeasureConfig, measure_universe
    from puhui.models.trainset import TrainsetConfig

    console = Console(stderr=as_json)
    root = Path(home) if home is not None else paths().home
    try:
        cfg = RejectMeasureConfig(trainset=TrainsetConfig(holdout_fraction=holdout), approval_rate=approval_rate,
                                  parcel_uplift=uplift, reject_weight=reject_weight, soft_info=soft_info,
                                  seed=seed)  # fmt: skip
        result = measure_universe(root, cfg, console=console)
    except PuhuiError as e:
        raise fail(e) from None
    publish(result, root / "models" / "reject_inference.json", as_json=as_json, console=console,
            show=lambda: print_reject_inference(result, console))
