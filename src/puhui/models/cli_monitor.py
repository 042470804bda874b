"""`puhui model report` and `puhui model monitor`: the evaluation report and post-release monitoring.

Thin, with the file and universe I/O at this edge. `report` builds the training set of the synthetic
universe, fits the scorecard and the GBM as `puhui model evaluate` does (`report.universe_report`), and
writes `report.html` (self-contained, plots inside) and `report.json`, plus each fitted model with a
`metadata.json` holding its release reference profile (`monitoring.reference_profile` on the train rows,
with the out-of-time test metrics as the release performance). `monitor` loads a saved model (a scorecard
JSON file, or a folder with `scorecard.json` or the GBM's `gbm.txt`/`gbm.json`, e.g. a registry version),
takes its reference profile from the `metadata.json` beside it (or computes one from the snapshot of
`--reference-as-of`), scores the indicator snapshot of `--as-of` (same population rules as
`puhui.models.trainset`: in default, exited, too young and no-data firms excluded), and prints PSI/CSI,
the AUC/KS of the cohort when its 12-month outcome lies inside the history (label = default onset in the
12 months after the as-of month, as in the training set), calibration by grade with the Jeffreys test,
the cohort's cumulative default curve by months since the as-of, and the findings. Findings are data:
the exit status is 0 whatever they say; errors of the `PuhuiError` tree exit 2.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Annotated, Any

import numpy as np
import pandas as pd
import typer
from rich.console import Console
from rich.markup import escape
from rich.table import Table

from puhui.clikit import fail
from puhui.core.errors import NotFound, PuhuiError, ValidationError

__all__ = ["Snapshot", "load_model", "load_snapshot", "model_report", "monitor", "monitor_model", "register"]


# ---------------------------------------------------------------- edges: models, metadata, snapshots
def load_model(path: Path) -> tuple[Any, dict[str, Any]]:
    """A saved scorecard or GBM and the metadata document found beside it (`{}` when there is none)."""
    from puhui.models.gbm import GBMModel
    from puhui.models.scorecard import Scorecard

    path = Path(path)
    if not path.exists():
        raise NotFound(f"no model at {str(path)!r}", code="missing_model", path=str(path))
    folder = path if path.is_dir() else path.parent
    if path.is_dir():
        if (path / "gbm.json").is_file():
            model: Any = GBMModel.load(path)
        elif (path / "scorecard.json").is_file():
            model = Scorecard.load(path / "scorecard.json")
        else:
            raise NotFound(f"{str(path)!r} holds neither scorecard.json nor gbm.json/gbm.txt", code="missing_model",
                           path=str(path))  # fmt: skip
    else:
        try:
            fmt = json.loads(path.read_text(encoding="utf-8")).get("format")
        except (ValueError, OSError, AttributeError) as e:
            raise ValidationError(f"{str(path)!r} is not a model JSON file: {e}", code="invalid_model_file") from None
        model = GBMModel.load(folder) if fmt == "puhui.gbm/1" else Scorecard.load(path)
    meta: dict[str, Any] = {}
    for cand in (folder / "metadata.json", path.with_suffix(".metadata.json")):
        if cand.is_file() and cand != path:
            doc = json.loads(cand.read_text(encoding="utf-8"))
            meta = doc.get("metadata", doc) if isinstance(doc, dict) else {}
            break
    return model, meta


def _model_kinds(model: Any) -> dict[str, str]:
    from puhui.models.scorecard import Scorecard

    if isinstance(model, Scorecard):
        return {f: model.bins[f].kind for f in model.features}
    return {f: model.kinds[f] for f in model.features}


@dataclass
class Snapshot:
    """One as-of population: model features, meta columns, and whether its outcome window has closed."""

    as_of: date
    frame: pd.DataFrame  # uscc, industry, label (None-free only when labelled), onset, features
    labelled: bool
    months_after: int  # months of history after the as-of month
    exclusions: dict[str, int]


def _add_months(d: date, k: int) -> date:
    m = d.year * 12 + d.month - 1 + k
    return date(m // 12, m % 12 + 1, 1)


def load_snapshot(home: Path, as_of: date, kinds: dict[str, str], *, horizon: int = 12, min_age_months: int = 6,
                  console: Console | None = None) -> Snapshot:  # fmt: skip
    """The population of `as_of`'s month end as the training set builds it (`puhui.models.trainset`):
    indicator snapshot (run when missing), the same four exclusions, the label 'default onset in the
    `horizon` months after the as-of month' when that window ends inside the history."""
    import pyarrow.parquet as pq

    from puhui.indicators.batch import indicator_table_path, read_manifest, run_batch
    from puhui.models.trainset import month_end

    home = Path(home)
    truth = home / "truth"
    if not (truth / "health_monthly").exists():
        raise NotFound(f"no truth panel under {truth}: generate the universe first (puhui synth)", code="no_truth")
    panel = pq.read_table(truth / "health_monthly", columns=["uscc", "month", "at_risk", "in_default", "pd_12m"]
                          ).to_pandas()  # fmt: skip
    panel["month"] = pd.to_datetime(panel["month"]).dt.date
    months = sorted(panel["month"].unique())
    m = date(as_of.year, as_of.month, 1)
    if m not in months:
        raise NotFound(f"as-of {as_of} is outside the universe's history ({months[0]} … {months[-1]})",
                       code="as_of_outside_history", as_of=str(as_of))  # fmt: skip
    end = month_end(m)
    folder = indicator_table_path(home, end)
    manifest = read_manifest(folder)
    if manifest is None or manifest.get("status") != "complete":
        run_batch(end, home=home, console=console)
    ind = pq.read_table(folder, partitioning=None).to_pandas().set_index("uscc")
    missing = [f for f in kinds if f not in ind.columns]
    if missing:
        raise ValidationError(f"the indicator table of {end} lacks the model's features {missing[:10]}",
                              code="missing_columns", columns=missing)  # fmt: skip
    ents = pq.read_table(truth / "enterprises", columns=["uscc", "industry", "founding_date", "default_onset_month"]
                         ).to_pandas().set_index("uscc").reindex(ind.index)  # fmt: skip
    st = panel.loc[panel["month"] == m].set_index("uscc").reindex(ind.index)
    onset = pd.to_datetime(ents["default_onset_month"]).dt.date
    founded = pd.to_datetime(ents["founding_date"]).dt.date
    in_default = st["in_default"].fillna(False).astype(bool).to_numpy()
    exited = (~st["at_risk"].fillna(False).astype(bool).to_numpy() | st["pd_12m"].isna().to_numpy()) & ~in_default
    young = np.array([f is None or pd.isna(f) or f > _add_months(end, -min_age_months) for f in founded])
    young &= ~in_default & ~exited
    src = [c for c in ind.columns if c.startswith("src_") and not c.startswith("src_registration")]
    no_data = ~ind[src].any(axis=1).to_numpy() & ~in_default & ~exited & ~young
    keep = ~(in_default | exited | young | no_data)
    months_after = len([x for x in months if x > m])
    label = np.array([o is not None and not pd.isna(o) and m < o <= _add_months(m, horizon) for o in onset], dtype=int)
    feats = {}
    for f, kind in kinds.items():
        s = ind[f]
        feats[f] = (s.astype(object).where(s.notna(), None) if kind == "categorical"
                    else pd.to_numeric(s.astype(object), errors="coerce").astype("float64"))  # fmt: skip
    frame = pd.DataFrame({"uscc": ind.index, "industry": ents["industry"].astype(str).to_numpy(), "label": label,
                          "onset": onset.to_numpy(), **{f: v.to_numpy() for f, v in feats.items()}})  # fmt: skip
    frame = frame.loc[keep].reset_index(drop=True)
    excl = {"registered": len(ind), "in_default": int(in_default.sum()), "exited": int(exited.sum()),
            "too_young": int(young.sum()), "no_data": int(no_data.sum()), "kept": int(keep.sum())}  # fmt: skip
    return Snapshot(as_of=end, frame=frame, labelled=months_after >= horizon, months_after=months_after,
                    exclusions=excl)  # fmt: skip


def _cohort_loans(snap: Snapshot, horizon: int) -> pd.DataFrame:
    """The snapshot as a vintage panel: one row per firm and month after the as-of, defaulted = onset by then."""
    k = min(horizon, snap.months_after)
    m0 = date(snap.as_of.year, snap.as_of.month, 1)
    onset = snap.frame["onset"].to_numpy()
    rows = []
    for mob in range(1, k + 1):
        cut = _add_months(m0, mob)
        bad = np.array([o is not None and not pd.isna(o) and m0 < o <= cut for o in onset])
        rows.append(pd.DataFrame({"loan_id": snap.frame["uscc"], "origination_month": pd.Timestamp(m0),
                                  "months_on_book": mob, "defaulted": bad}))  # fmt: skip
    if not rows:
        return pd.DataFrame(columns=["loan_id", "origination_month", "months_on_book", "defaulted"])
    return pd.concat(rows, ignore_index=True)


# ---------------------------------------------------------------- monitoring run (pure over the loaded inputs)
def monitor_model(model: Any, meta: dict[str, Any], snap: Snapshot, *, reference: dict[str, Any] | None = None,
                  reference_snapshot: Snapshot | None = None, horizon: int = 12) -> dict[str, Any]:  # fmt: skip
    """PSI/CSI against the reference, matured-cohort AUC/KS, calibration, vintage curve and findings."""
    from puhui.models import monitoring as mon

    ref = reference or meta.get("reference")
    ref_source = "metadata" if ref else None
    if ref is None and reference_snapshot is not None:
        ys = reference_snapshot.frame["label"].to_numpy() if reference_snapshot.labelled else None
        ref = mon.reference_profile(model, reference_snapshot.frame, y=ys)
        ref_source = f"snapshot {reference_snapshot.as_of}"
    if ref is None:
        raise ValidationError("no reference profile: the model has no metadata.json with a 'reference', and no "
                              "--reference-as-of was given", code="no_reference")  # fmt: skip
    psi = mon.psi_report(ref, model, snap.frame)
    p = np.asarray(model.predict_pd(snap.frame, allow_extra=True), dtype=float)
    out: dict[str, Any] = {"as_of": snap.as_of.isoformat(), "rows": len(snap.frame), "exclusions": snap.exclusions,
                           "reference_source": ref_source, "mean_pd": float(p.mean()), "psi": psi,
                           "labelled": snap.labelled, "cohort": None, "calibration": None}  # fmt: skip
    release = (ref.get("performance") or {}).get("auc") or (meta.get("metrics") or {}).get("test_auc")
    out["release_auc"] = release
    cohorts = cal = None
    if snap.labelled:
        y = snap.frame["label"].to_numpy()
        if 0 < y.sum() < y.size:
            cohorts = mon.cohort_performance(y, p, np.full(y.size, snap.as_of.isoformat()))
            out["cohort"] = cohorts.to_dict(orient="records")[0]
        cal = mon.calibration_drift(y, p)
        out["calibration"] = cal.to_dict(orient="records")
    loans = _cohort_loans(snap, horizon)
    vint = mon.vintage_curves(loans) if len(loans) else pd.DataFrame()
    if reference_snapshot is not None:
        rl = _cohort_loans(reference_snapshot, horizon)
        if len(rl):
            vint = pd.concat([mon.vintage_curves(rl), vint], ignore_index=True)
    out["vintage"] = vint.to_dict(orient="records")
    fs = mon.findings(psi=psi, cohorts=cohorts, release_auc=release, calibration=cal)
    out["findings"] = [f.to_dict() for f in fs]
    return out


# ---------------------------------------------------------------- commands
HomeOpt = Annotated[Path | None, typer.Option("--home", help="Universe home (default PUHUI_HOME).")]


def _root(home: Path | None) -> Path:
    from puhui.config import paths

    return Path(home) if home is not None else paths().home


def _save_models(fitted: dict[str, Any], ts: Any, rep: dict[str, Any], out: Path) -> dict[str, str]:
    from puhui.models.monitoring import reference_profile
    from puhui.models.report import jsonable
    from puhui.models.scorecard import Scorecard

    saved = {}
    for kind, f in fitted.items():
        d = out / kind
        d.mkdir(parents=True, exist_ok=True)
        if isinstance(f.model, Scorecard):
            f.model.save(d / "scorecard.json")
        else:
            f.model.save(d)
        s = rep["models"][kind]["summary"]
        ref = reference_profile(f.model, ts.train)
        ref["performance"] = {k: s[k] for k in ("auc", "gini", "ks", "bad_rate", "rows", "mean_pd")}
        ref["performance"]["sample"] = "out-of-time test snapshots"
        meta = {"kind": kind, "features": list(f.model.features), "metrics": {"test_auc": s["auc"], **s},
                "trainset": ts.describe(), "reference": ref}  # fmt: skip
        (d / "metadata.json").write_text(json.dumps(jsonable(meta), ensure_ascii=False, indent=1), encoding="utf-8")
        saved[kind] = str(d)
    return saved


def model_report(
    home: HomeOpt = None,
    holdout: Annotated[float, typer.Option("--holdout", help="Share of enterprises kept out of train for test.")] = 0.3,
    test_snapshots: Annotated[int, typer.Option("--test-snapshots", help="Latest monthly snapshots in test.")] = 6,
    max_snapshots: Annotated[int | None, typer.Option("--max-snapshots", help="Only the latest N snapshots.")] = None,
    include: Annotated[
        str | None, typer.Option("--include", help="Comma-separated feature prefixes (quick runs).")
    ] = None,
    out: Annotated[Path | None, typer.Option("--out", help="Folder (default <home>/models/report).")] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print the report JSON.")] = False,
) -> None:
    """Evaluate the scorecard and the GBM on the synthetic universe and write an HTML + JSON report."""
    from puhui.models.evaluate_universe import EvaluationConfig
    from puhui.models.report import universe_report, write_report
    from puhui.models.trainset import TrainsetConfig, build_trainset

    console = Console(stderr=as_json)
    root = _root(home)
    folder = out if out is not None else root / "models" / "report"
    try:
        ts_cfg = TrainsetConfig(test_snapshots=test_snapshots, holdout_fraction=holdout, max_snapshots=max_snapshots)
        ts = build_trainset(root, ts_cfg, console=console)
        prefixes = tuple(p.strip() for p in include.split(",") if p.strip()) if include else None
        feats = tuple(f for f in ts.features if f.startswith(prefixes)) if prefixes else None
        if feats is not None and not feats:
            raise ValidationError(f"no indicator starts with {list(prefixes or ())}", code="no_features")
        rep, fitted = universe_report(ts, EvaluationConfig(trainset=ts_cfg, include=feats))
        html, js = write_report(rep, folder)
        saved = _save_models(fitted, ts, rep, folder)
    except PuhuiError as e:
        raise fail(e) from None
    if as_json:
        typer.echo(js.read_text(encoding="utf-8"))
        return
    t = Table(title=rep["title"])
    for c in ("model", "AUC", "share of oracle", "KS", "Gini", "PSI train→test"):
        t.add_column(c, justify="left" if c == "model" else "right")
    t.add_row("oracle", f"{rep['oracle']['auc']:.4f}", "1.000", f"{rep['oracle']['ks']:.4f}",
              f"{rep['oracle']['gini']:.4f}", "")  # fmt: skip
    for k, m in rep["models"].items():
        s = m["summary"]
        t.add_row(k, f"{s['auc']:.4f}", f"{s['share_of_oracle']:.3f}", f"{s['ks']:.4f}", f"{s['gini']:.4f}",
                  f"{s['psi_train_test']:.4f}")  # fmt: skip
    console.print(t)
    console.print(f"written {html} and {js}; models with release profiles: {', '.join(saved.values())}")


def _print_monitor(res: dict[str, Any], console: Console) -> None:
    psi = res["psi"]
    console.print(f"as-of {res['as_of']}: {res['rows']:,} enterprises scored, mean PD {res['mean_pd']:.4f}; "
                  f"reference: {res['reference_source']}; score PSI {psi['score']['psi']:.4f}")  # fmt: skip
    t = Table(title="Characteristic stability (CSI), largest first")
    for c in ("feature", "CSI"):
        t.add_column(c, justify="left" if c == "feature" else "right")
    for f, r in list(psi["features"].items())[:10]:
        t.add_row(f, f"{r['psi']:.4f}")
    console.print(t)
    if res["cohort"]:
        c = res["cohort"]
        rel = res["release_auc"]
        console.print(
            f"matured cohort: {c['rows']:,} rows, {c['bads']} bads ({c['bad_rate']:.2%}), AUC "
            f"{c['auc']:.4f}, KS {c['ks']:.4f}; release AUC {'n/a' if rel is None else f'{rel:.4f}'}"
        )
    else:
        console.print("cohort not matured: its 12-month outcome is not yet inside the history (no AUC/KS)")
    f = Table(title=f"Findings ({len(res['findings'])})")
    for c in ("severity", "code", "subject", "message"):
        f.add_column(c)
    for x in res["findings"]:
        colour = "red" if x["severity"] == "red" else "yellow"
        f.add_row(f"[{colour}]{x['severity']}[/]", x["code"], escape(x["subject"]),
                  escape(f"{x['message_zh']} / {x['message_en']}"))  # fmt: skip
    console.print(f)


def monitor(
    model: Annotated[Path, typer.Option("--model", help="Scorecard JSON, or a model folder (a registry version).")],
    as_of: Annotated[str, typer.Option("--as-of", help="Snapshot date to monitor (its month end is used).")],
    home: HomeOpt = None,
    reference_as_of: Annotated[
        str | None,
        typer.Option(
            "--reference-as-of", help="Snapshot for the reference profile when the model has no metadata.json."
        ),
    ] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print the monitoring result as JSON.")] = False,
) -> None:
    """Score a snapshot with a saved model; PSI/CSI vs release, matured-cohort AUC/KS, calibration, findings."""
    from puhui.core.dates import parse_date
    from puhui.models.report import jsonable

    console = Console(stderr=as_json)
    root = _root(home)
    try:
        m, meta = load_model(model)
        kinds = _model_kinds(m)
        snap = load_snapshot(root, parse_date(as_of, field="as_of"), kinds, console=console)
        ref_snap = None
        if reference_as_of is not None:
            ref_snap = load_snapshot(root, parse_date(reference_as_of, field="reference_as_of"), kinds, console=console)
        res = monitor_model(m, meta, snap, reference_snapshot=ref_snap)
    except PuhuiError as e:
        raise fail(e) from None
    if as_json:
        typer.echo(json.dumps(jsonable(res), ensure_ascii=False, default=str))
        return
    _print_monitor(res, console)


def register(model_app: typer.Typer) -> None:
    """Mount `report` and `monitor` on the `puhui model` group."""
    model_app.command("report")(model_report)
    model_app.command("monitor")(monitor)
