"""The `puhui model` commands (mounted by `puhui.cli` as `model_app`): train and evaluate a credit model.

Thin: each command reads files, calls `puhui.models.train`, prints a Rich table (or JSON with `--json`)
and optionally writes the model and its exports to `--out`. Errors of the `PuhuiError` tree print as one
line `[code] message` and exit with status 2.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.table import Table

from puhui.clikit import fail as _fail
from puhui.core.errors import PuhuiError, ValidationError

model_app = typer.Typer(help="Credit models: scorecards and LightGBM challengers.", no_args_is_help=True,
                        pretty_exceptions_enable=False)  # fmt: skip
console = Console()


@model_app.callback()
def _group() -> None:
    """Credit models: scorecards and LightGBM challengers."""  # keeps `train` a sub-command




def _read_csv(path: Path, what: str) -> object:
    import pandas as pd

    if not path.is_file():
        raise ValidationError(f"{what} file {str(path)!r} does not exist", code="missing_file", path=str(path))
    try:
        return pd.read_csv(path)
    except (ValueError, OSError) as e:
        raise ValidationError(f"{what} file {str(path)!r} is not a readable CSV: {e}", code="invalid_csv") from None


@model_app.command("train")
def train_cmd(
    data: Annotated[Path, typer.Option("--data", help="Training CSV.")],
    target: Annotated[str, typer.Option("--target", help="Binary target column (1 = bad).")],
    test: Annotated[Path | None, typer.Option("--test", help="Test CSV (default: a held-out split).")] = None,
    time_column: Annotated[str | None, typer.Option("--time-column", help="Date column: split out-of-time.")] = None,
    kind: Annotated[str, typer.Option("--kind", help="scorecard or gbm.")] = "scorecard",
    as_json: Annotated[bool, typer.Option("--json", help="Print the evaluation summary as JSON.")] = False,
    out: Annotated[Path | None, typer.Option("--out", help="Folder for the model and its exports.")] = None,
) -> None:
    """Train a scorecard or GBM on any tabular credit CSV and evaluate it."""
    from puhui.models.gbm import GBMModel
    from puhui.models.scorecard import Scorecard
    from puhui.models.train import train_and_evaluate

    try:
        train_df = _read_csv(data, "training")
        test_df = _read_csv(test, "test") if test is not None else None
        res = train_and_evaluate(train_df, target, test=test_df, time_column=time_column, kind=kind)  # type: ignore[arg-type]
    except PuhuiError as e:
        raise _fail(e) from e
    summary = {**res.summary, "dropped_columns": res.dropped}
    if out is not None:
        out.mkdir(parents=True, exist_ok=True)
        if isinstance(res.model, Scorecard):
            res.model.save(out / "scorecard.json")
            res.model.to_csv(out / "scorecard.csv")
            (out / "scorecard.md").write_text(res.model.to_markdown(), encoding="utf-8")
            (out / "scorecard.sql").write_text(res.model.to_sql() + "\n", encoding="utf-8")
        elif isinstance(res.model, GBMModel):
            res.model.save(out)
        (out / "evaluation.json").write_text(json.dumps(summary, indent=1, default=str), encoding="utf-8")
    if as_json:
        typer.echo(json.dumps(summary, default=str))
        return
    t = Table("metric", "value", title=f"{kind} evaluation ({summary['split']})")
    for k in ("test_auc", "gini", "ks", "train_auc", "psi_train_test", "test_bad_rate", "mean_pd_test"):
        t.add_row(k, f"{summary[k]:.4f}")
    for k in ("train_rows", "test_rows"):
        t.add_row(k, f"{summary[k]:,}")
    console.print(t)
    console.print("features used: " + ", ".join(summary["features_used"]))
    if res.dropped:
        console.print("set aside: " + ", ".join(f"{k} ({v})" for k, v in res.dropped.items()))
