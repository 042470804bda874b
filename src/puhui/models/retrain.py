"""`puhui model retrain` (模型迭代): a new candidate on the latest matured data, compared with the champion.

Owns the retraining use case. It builds the training set on the latest snapshots whose 12-month outcome
has matured (`puhui.models.trainset`, out-of-time and, by default, with 30 % of enterprises held out of
training as `puhui model evaluate` does), fits the chosen kind exactly as `puhui.models.evaluate_universe`
does — the indicator library's risk directions as monotonic trends, the look-ahead indicators left out,
the GBM with its tuned settings and early stopping on held-out training enterprises — registers the fit as a
candidate with its test metrics, the training-data fingerprint and the reference profile, then scores
the champion and the candidate on **the same out-of-time test rows** and writes a comparison report
(JSON and Markdown, and HTML when `puhui.models.report.render` exists) to
`<home>/models/reports/retrain_<version>.*`. The report says AUC/KS/Gini of both, ΔAUC with a paired
bootstrap 90 % interval, rank correlation and grade changes (`puhui.models.shadow.compare_scores`), and a
recommendation (promote when the candidate's AUC is higher and the interval excludes a loss larger than
`RetrainConfig.max_auc_loss`; with no champion, promote). The champion compared with is the one at the
start of the run. It promotes only when asked to and only when there is no champion
(`promote_if_no_champion`, checked again under the registry's lock): replacing a champion stays a
person's decision.
"""

from __future__ import annotations

import json
import time
from contextlib import AbstractContextManager, nullcontext
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from rich.console import Console
from sqlalchemy import Engine

from puhui.core.errors import Conflict, PuhuiError, ValidationError
from puhui.models import metrics
from puhui.models.evaluate_universe import GBM_SETTINGS, LOOKAHEAD_FEATURES, SCORECARD_SETTINGS, enterprise_valid_order
from puhui.models.gbm import GBMConfig, GBMModel
from puhui.models.registry import DEFAULT_NAME, RegisteredModel, champion, jsonable, promote, register
from puhui.models.scorecard import Scorecard, ScorecardConfig
from puhui.models.shadow import compare_scores, grade_pd
from puhui.models.trainset import TrainingSet, TrainsetConfig, build_trainset

__all__ = ["RetrainConfig", "fit_candidate", "render_markdown", "retrain"]

BOOTSTRAP_DRAWS = 200


@dataclass(frozen=True)
class RetrainConfig:
    """What to train and on which snapshots. `test_snapshots` defaults to 6, or a quarter of
    `max_snapshots` (at least 1) when fewer snapshots are asked for."""

    name: str = DEFAULT_NAME
    kind: str = "scorecard"
    max_snapshots: int | None = None
    test_snapshots: int | None = None
    holdout_fraction: float = 0.3
    include: tuple[str, ...] | None = None  # only these features (tests, quick runs); None = all
    include_prefixes: tuple[str, ...] | None = None  # only indicators whose id starts with one of these
    author: str = "system:retrain"
    promote_if_no_champion: bool = False
    max_auc_loss: float = 0.005
    scorecard: ScorecardConfig = SCORECARD_SETTINGS
    gbm: GBMConfig = GBM_SETTINGS
    exclude: tuple[str, ...] = LOOKAHEAD_FEATURES  # look-ahead indicators, as in evaluate_universe
    enterprise_valid: bool = True  # GBM early stopping / calibration on a hashed share of training enterprises
    seed: int = 0

    def __post_init__(self) -> None:
        if self.kind not in ("scorecard", "gbm"):
            raise ValidationError(f"model kind {self.kind!r} is not scorecard or gbm", code="invalid_model_kind",
                                  field="kind")  # fmt: skip

    def trainset(self) -> TrainsetConfig:
        test = self.test_snapshots
        if test is None:
            test = 6 if self.max_snapshots is None else max(1, self.max_snapshots // 4)
        return TrainsetConfig(max_snapshots=self.max_snapshots, test_snapshots=test,
                              holdout_fraction=self.holdout_fraction)  # fmt: skip


def fit_candidate(ts: TrainingSet, cfg: RetrainConfig) -> tuple[Scorecard | GBMModel, list[str]]:
    """Fit the configured kind on `ts.train` with the library's trends; returns the model and the pool used."""
    train = ts.train
    y = train["label"].to_numpy()
    pool = [f for f in ts.features if (cfg.include is None or f in cfg.include) and f not in cfg.exclude
            and (cfg.include_prefixes is None or f.startswith(cfg.include_prefixes))]  # fmt: skip
    # constant columns in train carry no evidence (as in evaluate_universe)
    feats = [f for f in pool if train[f].nunique(dropna=False) > 1]
    if not feats:
        raise ValidationError("no feature varies in the training rows; nothing to fit", code="no_features")
    if cfg.kind == "scorecard":
        sc = replace(cfg.scorecard, binning=replace(cfg.scorecard.binning,
                     trends={**ts.trends, **cfg.scorecard.binning.trends}))  # fmt: skip
        return Scorecard.fit(train, y, features=feats, kinds=ts.kinds, config=sc), feats
    g = replace(cfg.gbm, trends={**ts.trends, **cfg.gbm.trends})
    order = train["as_of"]
    if cfg.enterprise_valid:
        order, share = enterprise_valid_order(train, cfg.gbm.valid_fraction)
        g = replace(g, valid_fraction=share)
    return GBMModel.fit(train, y, features=feats, kinds=ts.kinds, config=g, time=order), feats


def _status(console: Console | None, what: str) -> AbstractContextManager[Any]:
    return console.status(what) if console is not None else nullcontext()


def _evaluate(y: np.ndarray, p: np.ndarray) -> dict[str, Any]:
    s = metrics.summary(y, p)
    return {"test_auc": s["auc"], "ks": s["ks"], "gini": s["gini"], "test_rows": s["rows"],
            "test_bad_rate": s["bad_rate"], "mean_pd_test": float(np.mean(p)),
            "calibration": metrics.calibration_by_decile(y, p).to_dict(orient="records")}  # fmt: skip


def _bootstrap_delta(y: np.ndarray, a: np.ndarray, b: np.ndarray, draws: int, seed: int) -> dict[str, float]:
    """Paired bootstrap of AUC(b) − AUC(a) over the same resampled rows (5 % and 95 % quantiles)."""
    rng = np.random.default_rng(seed)
    out = []
    for _ in range(draws):
        i = rng.integers(0, y.size, y.size)
        if 0 < y[i].sum() < y.size:
            out.append(metrics.auc(y[i], b[i]) - metrics.auc(y[i], a[i]))
    d = np.asarray(out)
    return {"delta_auc_p05": float(np.quantile(d, 0.05)), "delta_auc_p95": float(np.quantile(d, 0.95)),
            "draws": int(d.size)}  # fmt: skip


def _champion_scores(champ: RegisteredModel, test: pd.DataFrame) -> tuple[np.ndarray | None, str | None]:
    try:
        return champ.load().predict_pd(test, allow_extra=True), None
    except PuhuiError as e:  # e.g. the champion reads an indicator the library no longer has
        return None, f"[{e.code}] {e.message}"


def retrain(engine: Engine, home: Path, config: RetrainConfig | None = None, *,
            console: Console | None = None) -> dict[str, Any]:  # fmt: skip
    """Build, fit, register, compare, report (see the module docstring); returns the report."""
    cfg = config or RetrainConfig()
    home = Path(home)
    t0 = time.perf_counter()
    champ = champion(engine, cfg.name, home=home)  # first: a store without the registry fails before the long part
    ts = build_trainset(home, cfg.trainset(), console=console)
    t1 = time.perf_counter()
    with _status(console, f"fitting the {cfg.kind} on {len(ts.train):,} rows × {len(ts.features)} indicators"):
        model, pool = fit_candidate(ts, cfg)
    t2 = time.perf_counter()
    train, test = ts.train, ts.test
    y_tr, y_te = train["label"].to_numpy(), test["label"].to_numpy()
    p_tr = model.predict_pd(train, allow_extra=True)
    p_te = model.predict_pd(test, allow_extra=True)
    cand_metrics = {**_evaluate(y_te, p_te), "train_auc": metrics.auc(y_tr, p_tr), "train_rows": len(train),
                    "train_bad_rate": float(y_tr.mean()), "bad_rate": float(y_tr.mean()),
                    "psi_train_test": metrics.psi(p_tr, p_te), "oracle_test_auc": metrics.auc(y_te,
                    test["true_pd_12m"].to_numpy())}  # fmt: skip
    desc = ts.describe()
    training = train[["uscc", "as_of", "label", *pool]]
    release = {"auc": cand_metrics["test_auc"], "gini": cand_metrics["gini"], "ks": cand_metrics["ks"],
               "bad_rate": cand_metrics["test_bad_rate"], "rows": len(test), "mean_pd": cand_metrics["mean_pd_test"],
               "sample": "out-of-time test rows"}  # fmt: skip
    cand = register(engine, model, name=cfg.name, author=cfg.author, training=training, metrics=cand_metrics,
                    performance=release,
                    reason=f"retrain on {desc['train_as_of'][0]} … {desc['train_as_of'][-1]}",
                    extra={"trainset": {k: desc[k] for k in ("train_as_of", "test_as_of", "train_rows", "test_rows",
                                                              "enterprise_holdout", "label")},
                           "features_offered": len(pool)}, home=home)  # fmt: skip
    t3 = time.perf_counter()
    report: dict[str, Any] = {
        "name": cfg.name, "kind": cfg.kind, "candidate": {"version": cand.version, **_headline(cand_metrics),
                                                          "features_used": len(model.features)},
        "champion": None, "comparison": None, "trainset": desc,
        "test_rows": len(test), "oracle_test_auc": cand_metrics["oracle_test_auc"],
    }  # fmt: skip
    p_ch = _compare(report, champ, cand.version, test, p_te, cand_metrics["test_auc"], cfg)
    report["promoted"] = False
    if champ is None and cfg.promote_if_no_champion:
        try:
            promote(engine, cfg.name, cand.version, actor=cfg.author, reason="first champion, from retrain",
                    only_if_no_champion=True)  # fmt: skip
            report["promoted"] = True
        except Conflict as e:  # a champion was promoted while this retrain ran: leave it in place
            report["promotion_skipped"] = f"[{e.code}] {e.message}"
    report["seconds"] = {"trainset": round(t1 - t0, 2), "fit": round(t2 - t1, 2), "score_register": round(t3 - t2, 2),
                         "total": round(time.perf_counter() - t0, 2)}  # fmt: skip
    report = jsonable(report)
    report["files"] = _write_reports(home, cand.version, report, test, p_te, p_ch, champ)
    return report


def _compare(report: dict[str, Any], champ: RegisteredModel | None, version: str, test: pd.DataFrame,
             p_te: np.ndarray, cand_auc: float, cfg: RetrainConfig) -> np.ndarray | None:
    """Fill the champion, comparison and recommendation of `report`; the champion's test PDs (or None)."""
    y_te = test["label"].to_numpy()
    if champ is None:
        report["recommendation"] = {"action": "promote", "why": f"{cfg.name} has no champion yet"}
        return None
    if champ.version == version:
        report["champion"] = {"version": champ.version, "kind": champ.kind, "same_artifact": True}
        report["recommendation"] = {"action": "none", "why": "the candidate is the champion's artifact"}
        return None
    p_ch, why = _champion_scores(champ, test)
    report["champion"] = {"version": champ.version, "kind": champ.kind}
    if p_ch is None:
        report["champion"]["unscorable"] = why
        report["recommendation"] = {"action": "promote", "why": f"the champion cannot score today's data: {why}"}
        return None
    ch_metrics = _evaluate(y_te, p_ch)
    report["champion"].update(_headline(ch_metrics))
    cmp = compare_scores(p_ch, p_te, grade=grade_pd, labels=y_te)
    cmp.update(_bootstrap_delta(y_te, p_ch, p_te, BOOTSTRAP_DRAWS, cfg.seed))
    cmp["delta_auc"] = cand_auc - ch_metrics["test_auc"]
    report["comparison"] = cmp
    better = cmp["delta_auc"] > 0 and cmp["delta_auc_p05"] > -cfg.max_auc_loss
    report["recommendation"] = {
        "action": "promote" if better else "keep_champion",
        "why": (f"ΔAUC {cmp['delta_auc']:+.4f} (90 % CI {cmp['delta_auc_p05']:+.4f} … "
                f"{cmp['delta_auc_p95']:+.4f}) on the same {len(test):,} out-of-time rows"),
    }  # fmt: skip
    return p_ch


def _headline(m: dict[str, Any]) -> dict[str, Any]:
    return {k: m[k] for k in ("test_auc", "ks", "gini", "test_rows", "test_bad_rate", "mean_pd_test") if k in m}


def render_markdown(report: dict[str, Any]) -> str:
    """The comparison report as Markdown."""
    c, ch = report["candidate"], report.get("champion")
    ts = report["trainset"]
    lines = [f"# Retrain report · {report['name']} · candidate {c['version']}", "",
             f"Train {ts['train_rows']:,} rows ({ts['train_as_of'][0]} … {ts['train_as_of'][-1]}), "
             f"test {ts['test_rows']:,} out-of-time rows ({ts['test_as_of'][0]} … {ts['test_as_of'][-1]}), "
             f"enterprise holdout {ts['enterprise_holdout']:.0%}. Oracle AUC on the test rows "
             f"{report['oracle_test_auc']:.4f}.", "",
             "| model | version | AUC | KS | Gini | mean PD | bad rate |",
             "|---|---|---:|---:|---:|---:|---:|"]  # fmt: skip
    rows = [("candidate", c)] + ([("champion", ch)] if ch and "test_auc" in ch else [])
    for label, m in rows:
        lines.append(f"| {label} | {m['version']} | {m['test_auc']:.4f} | {m['ks']:.4f} | {m['gini']:.4f} | "
                     f"{m['mean_pd_test']:.4f} | {m['test_bad_rate']:.4f} |")  # fmt: skip
    if ch and "unscorable" in ch:
        lines += ["", f"Champion {ch['version']} could not score the test rows: {ch['unscorable']}"]
    cmp = report.get("comparison")
    if cmp:
        lines += ["", "## Candidate against champion (same rows)", "",
                  f"- ΔAUC {cmp['delta_auc']:+.4f}, paired bootstrap 90 % interval {cmp['delta_auc_p05']:+.4f} … "
                  f"{cmp['delta_auc_p95']:+.4f} ({cmp['draws']} draws)",
                  f"- Spearman rank correlation of PDs {_num(cmp['rank_correlation'])}",
                  f"- grade changed for {cmp['grade_changed_share']:.1%} of rows "
                  f"({cmp['grade_worse_share']:.1%} worse, {cmp['grade_better_share']:.1%} better)"]  # fmt: skip
    rec = report["recommendation"]
    lines += ["", f"**Recommendation: {rec['action']}** — {rec['why']}."]
    if report.get("promoted"):
        lines.append(f"\n{c['version']} was promoted to champion (there was none).")
    lines += ["", f"Time: {report['seconds']}", ""]
    return "\n".join(lines)


def _write_html(path: Path, report: dict[str, Any], test: pd.DataFrame, p_te: np.ndarray,
                p_ch: np.ndarray | None, champ: RegisteredModel | None) -> bool:
    """The HTML evaluation page of `puhui.models.report` (when that module is present) for both models."""
    try:
        from puhui.models.report import build_report, render_html
    except ImportError:
        return False
    pds = {f"candidate {report['candidate']['version']}": p_te}
    if p_ch is not None and champ is not None:
        pds[f"champion {champ.version}"] = p_ch
    rep = build_report(test["label"].to_numpy(), pds, groups={"industry": test["industry"].to_numpy(),
                       "month": test["as_of"].dt.date.astype(str).to_numpy()},
                       oracle_pd=test["true_pd_12m"].to_numpy(), title=f"Retrain · {report['name']} · "
                       f"{report['candidate']['version']}", context={"recommendation": report["recommendation"],
                       "comparison": report.get("comparison")})  # fmt: skip
    path.write_text(render_html(rep), encoding="utf-8")
    return True


def _num(v: float | None) -> str:
    return "n/a" if v is None else f"{v:.4f}"


def _write_reports(home: Path, version: str, report: dict[str, Any], test: pd.DataFrame, p_te: np.ndarray,
                   p_ch: np.ndarray | None, champ: RegisteredModel | None) -> dict[str, str]:
    folder = home / "models" / "reports"
    folder.mkdir(parents=True, exist_ok=True)
    stem = folder / f"retrain_{version}"
    files = {"json": str(stem.with_suffix(".json")), "markdown": str(stem.with_suffix(".md"))}
    if _write_html(stem.with_suffix(".html"), report, test, p_te, p_ch, champ):
        files["html"] = str(stem.with_suffix(".html"))
    Path(files["markdown"]).write_text(render_markdown(report), encoding="utf-8")
    Path(files["json"]).write_text(json.dumps({**report, "files": files}, ensure_ascii=False, indent=1,
                                              default=str), encoding="utf-8")  # fmt: skip
    return files
