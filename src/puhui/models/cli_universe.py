"""`puhui model evaluate`: out-of-time evaluation on the synthetic universe with the oracle AUC.

Thin: builds the training set and evaluates both models (`puhui.models.evaluate_universe`), prints a Rich
summary (AUC, KS, Gini, share of the oracle, calibration by decile)
— by default out-of-time *and* on 30 % of enterprises held out of training (`--holdout`, the default of
`TrainsetConfig.holdout_fraction`), since adjacent snapshots share default events and a model can otherwise
memorise the firm — or the JSON with `--json`, and writes
the JSON to `<home>/models/evaluation.json`. The lead mounts `evaluate_universe` on `model_app`.
Errors of the `PuhuiError` tree print as one line `[code] message` and exit with status 2.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

import typer
from rich.console import Console
from rich.table import Table

from puhui.clikit import fail, publish
from puhui.core.errors import PuhuiError

__all__ = ["evaluate_universe", "print_evaluation"]


def print_evaluation(result: dict[str, Any], console: Console) -> None:
    """The headline figures and calibration by decile as Rich tables."""
    oracle = result["oracle"]["test_auc"]
    ts = result["trainset"]
    console.print(f"train {ts['train_rows']:,} rows ({ts['train_as_of'][0]} … {ts['train_as_of'][-1]}, bad rate "
                  f"{ts['train_bad_rate']:.2%}) · test {ts['test_rows']:,} rows ({ts['test_as_of'][0]} … "
                  f"{ts['test_as_of'][-1]}, bad rate {ts['test_bad_rate']:.2%})")  # fmt: skip
    t = Table(title="Out-of-time test")
    for c in ("model", "AUC", "share of oracle", "KS", "Gini", "train AUC", "PSI", "mean PD", "features", "fit s"):
        t.add_column(c, justify="left" if c == "model" else "right")
    t.add_row("oracle (true PD)", f"{oracle:.4f}", "1.000", f"{result['oracle']['ks']:.4f}",
              f"{2 * oracle - 1:.4f}", "", "", f"{result['oracle']['mean_pd_test']:.4f}", "", "")  # fmt: skip
    for name, m in result["models"].items():
        t.add_row(name, f"{m['test_auc']:.4f}", f"{m['share_of_oracle']:.3f}", f"{m['ks']:.4f}", f"{m['gini']:.4f}",
                  f"{m['train_auc']:.4f}", f"{m['psi_train_test']:.4f}", f"{m['mean_pd_test']:.4f}",
                  str(m["features_used"]), f"{m['fit_seconds']:.1f}")  # fmt: skip
    console.print(t)
    for name, m in result["models"].items():
        c = Table(title=f"Calibration by decile · {name}")
        for col in ("decile", "n", "mean PD", "bad rate"):
            c.add_column(col, justify="right")
        for r in m["calibration"]:
            c.add_row(str(r["decile"]), f"{r['n']:,}", f"{r['mean_pd']:.4f}", f"{r['bad_rate']:.4f}")
        console.print(c)
    if "seconds" in result:
        console.print(f"time: {result['seconds']}")


def evaluate_universe(
    home: Annotated[Path | None, typer.Option("--home", help="Universe home (default PUHUI_HOME).")] = None,
    test_snapshots: Annotated[int, typer.Option("--test-snapshots", help="Latest monthly snapshots in test.")] = 6,
    min_age_months: Annotated[int, typer.Option("--min-age-months", help="Exclude firms younger than this.")] = 6,
    first_month_index: Annotated[int, typer.Option("--first-month", help="First snapshot's month index.")] = 6,
    holdout: Annotated[
        float,
        typer.Option(
            "--holdout", help="Share of enterprises kept out of train and used for test (0 = out-of-time only)."
        ),
    ] = 0.3,  # = TrainsetConfig.holdout_fraction (a test keeps the two equal; literal to keep the CLI import light)
    as_json: Annotated[bool, typer.Option("--json", help="Print the evaluation as JSON.")] = False,
) -> None:
    """Train the scorecard and the GBM on earlier snapshots, test on later ones, against the oracle AUC."""
    from puhui.config import paths
    from puhui.models.evaluate_universe import EvaluationConfig
    from puhui.models.evaluate_universe import evaluate_universe as run
    from puhui.models.trainset import TrainsetConfig

    console = Console(stderr=as_json)
    root = Path(home) if home is not None else paths().home
    try:
        cfg = EvaluationConfig(trainset=TrainsetConfig(test_snapshots=test_snapshots, min_age_months=min_age_months,
                                                       first_month_index=first_month_index,
                                                       holdout_fraction=holdout))  # fmt: skip
        result = run(root, cfg, console=console)
    except PuhuiError as e:
        raise fail(e) from None
    publish(result, root / "models" / "evaluation.json", as_json=as_json, console=console,
            show=lambda: print_evaluation(result, console))
