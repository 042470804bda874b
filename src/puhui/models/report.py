"""The model evaluation report (模型评估报告): one self-contained HTML page with plots, plus the same numbers as JSON.

Owns the step from labels and predicted PDs to the document a model validator reads: AUC, KS, Gini; ROC
and KS curves; calibration by decile; a Jeffreys and an exact binomial test per grade of the master scale
(`monitoring.yaml`; ECB instructions for reporting the validation results of internal models, 2019,
§2.5.3.1); lift and cumulative-gain tables; the PSI of the PD train vs test on deciles frozen on train
(Siddiqi 2006, ch. 8); AUC by industry and by as-of month; and on the synthetic universe the oracle AUC
(the generator's true PD on the same rows) with our AUC as a share of it. `build_report` works from
row-level labels and PDs; `report_from_summary` from an `evaluate_models` dict or a `train_and_evaluate`
summary, which carry no row PDs (curves are then absent; lift, gain and the Jeffreys test are derived
from the decile counts). `render_html` draws the plots with matplotlib (Agg) as base64 PNGs inside the
page and fills a Jinja2 template: no script, no stylesheet and no link outside the file.
`universe_report` fits the scorecard and the GBM exactly as `evaluate_universe.evaluate_models` does and
keeps the fitted models and their PDs for the report and the release profile.
"""

from __future__ import annotations

import base64
import io
import json
import math
from collections.abc import Mapping
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from puhui.core.errors import ValidationError
from puhui.models import metrics
from puhui.models.evaluate_universe import EvaluationConfig, FittedModel, fit_models, group_auc
from puhui.models.monitoring import calibration_drift, grade_of

__all__ = [
    "build_report",
    "jsonable",
    "render_html",
    "report_from_summary",
    "universe_report",
    "write_report",
]

CURVE_POINTS = 201
ALPHA = 0.05


def jsonable(v: Any) -> Any:
    """JSON-safe plain values: numpy scalars to Python, NaN/inf to None, timestamps to ISO dates."""
    if isinstance(v, Mapping):
        return {str(k): jsonable(x) for k, x in v.items()}
    if isinstance(v, list | tuple | np.ndarray):
        return [jsonable(x) for x in v]
    if isinstance(v, np.bool_ | np.integer):
        return v.item()
    if isinstance(v, float | np.floating):
        f = float(v)
        return f if math.isfinite(f) else None
    if isinstance(v, pd.Timestamp | np.datetime64):
        return pd.Timestamp(v).date().isoformat()
    return v


def _records(df: pd.DataFrame) -> list[dict[str, Any]]:
    return jsonable(df.to_dict(orient="records"))


def _thin(n: int, k: int = CURVE_POINTS) -> np.ndarray:
    return np.unique(np.linspace(0, n - 1, min(n, k)).round().astype(int))


def _roc(y: np.ndarray, p: np.ndarray) -> dict[str, list[float]]:
    from sklearn.metrics import roc_curve

    fpr, tpr, _ = roc_curve(y, p)
    i = _thin(fpr.size, 401)
    return {"fpr": fpr[i].tolist(), "tpr": tpr[i].tolist()}


def _ks_curve(y: np.ndarray, p: np.ndarray) -> dict[str, Any]:
    """Cumulative shares of bads and goods against the share of the population, riskiest first."""
    order = np.argsort(-p, kind="stable")
    ys = y[order]
    # cut only between distinct PDs, so tied rows are taken together (as KS over thresholds does)
    ps = p[order]
    cut = np.r_[np.flatnonzero(np.diff(ps) != 0), ys.size - 1]
    cb = np.cumsum(ys)[cut] / ys.sum()
    cg = np.cumsum(1 - ys)[cut] / (ys.size - ys.sum())
    pop = (cut + 1) / ys.size
    j = int(np.argmax(cb - cg))
    i = np.union1d(_thin(cut.size), [j])
    return {"population": np.r_[0.0, pop[i]].tolist(), "bads": np.r_[0.0, cb[i]].tolist(),
            "goods": np.r_[0.0, cg[i]].tolist(), "ks": float(cb[j] - cg[j]), "at_population": float(pop[j]),
            "at_pd": float(ps[cut[j]])}  # fmt: skip


def _stability(train_p: np.ndarray, p: np.ndarray, bins: int = 10) -> dict[str, Any]:
    edges = np.unique(np.quantile(train_p, np.linspace(0, 1, bins + 1))[1:-1])
    e = np.bincount(np.searchsorted(edges, train_p, side="right"), minlength=edges.size + 1) / train_p.size
    a = np.bincount(np.searchsorted(edges, p, side="right"), minlength=edges.size + 1) / p.size
    lo, hi = [-math.inf, *edges], [*edges, math.inf]
    ef, af = np.maximum(e, metrics.PSI_EPS), np.maximum(a, metrics.PSI_EPS)
    rows = [{"bin": f"[{a_:.4g}, {b_:.4g})", "train_share": float(x), "test_share": float(z),
             "contribution": float((zf - xf) * math.log(zf / xf))}
            for a_, b_, x, z, xf, zf in zip(lo, hi, e, a, ef, af, strict=True)]  # fmt: skip
    return {"psi": metrics.psi(train_p, p, bins=bins), "table": rows}


def _grades(y: np.ndarray, p: np.ndarray, grades: np.ndarray | None) -> list[dict[str, Any]]:
    g = np.asarray(grades).astype(str) if grades is not None else grade_of(p).astype(str)
    t = calibration_drift(y, p, g)
    lo = {k: float(p[g == k].min()) for k in t["grade"] if k != "all"}
    hi = {k: float(p[g == k].max()) for k in t["grade"] if k != "all"}
    t["pd_min"] = t["grade"].map(lo).fillna(float(p.min()))
    t["pd_max"] = t["grade"].map(hi).fillna(float(p.max()))
    t["reject"] = (t["jeffreys_p"] < ALPHA) | (t["binomial_p"] < ALPHA)
    return _records(t)


def _model_section(y: np.ndarray, p: np.ndarray, *, train_p: np.ndarray | None, train_y: np.ndarray | None,
                   groups: Mapping[str, np.ndarray], grades: np.ndarray | None,
                   oracle_auc: float | None) -> dict[str, Any]:  # fmt: skip
    s = metrics.summary(y, p)
    summary: dict[str, Any] = {"auc": s["auc"], "gini": s["gini"], "ks": s["ks"], "bad_rate": s["bad_rate"],
                               "rows": s["rows"], "mean_pd": float(np.mean(p))}  # fmt: skip
    if oracle_auc is not None:
        summary["share_of_oracle"] = s["auc"] / oracle_auc
    if train_p is not None and train_y is not None:
        summary["train_auc"] = metrics.auc(train_y, train_p)
    out: dict[str, Any] = {
        "summary": summary,
        "roc": _roc(y, p),
        "ks_curve": _ks_curve(y, p),
        "calibration": _records(metrics.calibration_by_decile(y, p)),
        "lift_gain": _records(metrics.lift_gain(y, p)),
        "grades": _grades(y, p, grades),
        "stability": None,
        "by_group": {name: jsonable(group_auc(y, p, np.asarray(v))) for name, v in groups.items()},
    }
    if train_p is not None:
        out["stability"] = _stability(np.asarray(train_p, dtype=float), p)
        summary["psi_train_test"] = out["stability"]["psi"]
    return out


def _as_models(v: Any, what: str) -> dict[str, np.ndarray]:
    if v is None:
        return {}
    if isinstance(v, Mapping):
        return {str(k): np.asarray(x, dtype=float) for k, x in v.items()}
    return {"model": np.asarray(v, dtype=float)}


def build_report(y: np.ndarray, pd: Any, *, train_pd: Any = None, train_y: np.ndarray | None = None,
                 groups: Mapping[str, np.ndarray] | None = None, oracle_pd: np.ndarray | None = None,
                 grades: np.ndarray | None = None, title: str, context: Mapping[str, Any] | None = None
                 ) -> dict[str, Any]:  # fmt: skip
    """The evaluation report of one model (`pd` an array) or several (`pd` a dict name → array) on the same
    labelled rows `y` (1 = bad). `train_pd` (same shape as `pd`) adds the train-vs-test PSI, with `train_y`
    also the train AUC; `groups` maps a name (industry, month) to a column for AUC by group; `oracle_pd`
    (true PDs, synthetic data only) adds the oracle AUC and each model's share of it; `grades` overrides
    the master-scale grading. Plain JSON-safe values throughout."""
    y = np.asarray(y, dtype=int)
    models = _as_models(pd, "pd")
    if not models:
        raise ValidationError("a report needs at least one model's PDs", code="no_models")
    trains = _as_models(train_pd, "train_pd")
    for name, p in models.items():
        if p.shape != y.shape:
            raise ValidationError(f"PDs of {name!r} and labels differ in length ({p.size} vs {y.size})",
                                  code="length_mismatch", model=name)  # fmt: skip
    groups = {k: np.asarray(v) for k, v in (groups or {}).items()}
    for k, v in groups.items():
        if v.shape != y.shape:
            raise ValidationError(f"group column {k!r} differs in length from the labels", code="length_mismatch")
    oracle = None
    if oracle_pd is not None:
        op = np.asarray(oracle_pd, dtype=float)
        if op.shape != y.shape:
            raise ValidationError("oracle PDs and labels differ in length", code="length_mismatch")
        oracle = {"auc": metrics.auc(y, op), "ks": metrics.ks(y, op), "gini": metrics.gini(y, op),
                  "mean_pd": float(op.mean()), "roc": _roc(y, op),
                  "calibration": _records(metrics.calibration_by_decile(y, op)),
                  "lift_gain": _records(metrics.lift_gain(y, op))}  # fmt: skip
    sections = {name: _model_section(y, p, train_p=trains.get(name), train_y=train_y, groups=groups, grades=grades,
                                     oracle_auc=oracle["auc"] if oracle else None)
                for name, p in models.items()}  # fmt: skip
    return jsonable({"title": title, "generated_at": datetime.now(UTC).isoformat(timespec="seconds"),
                   "rows": int(y.size), "bads": int(y.sum()), "bad_rate": float(y.mean()), "row_level": True,
                   "oracle": oracle, "models": sections, "context": dict(context or {})})  # fmt: skip


def _from_deciles(cal: list[dict[str, Any]]) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """Lift/gain and a Jeffreys test per decile from calibration rows (decile, n, mean_pd, bad_rate, bads)."""
    t = pd.DataFrame(cal)
    n_all, b_all = int(t["n"].sum()), int(t["bads"].sum())
    t["lift"] = t["bad_rate"] / (b_all / n_all)
    t["cum_gain"] = t["bads"].cumsum() / b_all
    t["cum_lift"] = t["cum_gain"] / (t["n"].cumsum() / n_all)
    from scipy.stats import binom

    grades = [{"grade": f"decile {int(r.decile)}", "n": int(r.n), "defaults": int(r.bads),
               "expected_pd": r.mean_pd, "observed_rate": r.bad_rate,
               "ratio": r.bad_rate / r.mean_pd if r.mean_pd > 0 else None, "expected_defaults": r.mean_pd * r.n,
               "jeffreys_p": metrics.jeffreys_pvalue(int(r.bads), int(r.n), r.mean_pd),
               "binomial_p": float(binom.sf(int(r.bads) - 1, int(r.n), r.mean_pd))}
              for r in t.itertuples()]  # fmt: skip
    for g in grades:
        g["reject"] = g["jeffreys_p"] < ALPHA or g["binomial_p"] < ALPHA
    return _records(t), jsonable(grades)


def report_from_summary(evaluation: Mapping[str, Any], *, title: str) -> dict[str, Any]:
    """A report from numbers without row PDs: an `evaluate_models` dict (several models, oracle, trainset)
    or a `train_and_evaluate` summary (one model). ROC and KS curves are absent."""
    if "models" in evaluation:
        src = dict(evaluation["models"])
        oracle = evaluation.get("oracle")
        context = {"trainset": evaluation.get("trainset"), "seconds": evaluation.get("seconds")}
    else:
        src = {str(evaluation.get("kind", "model")): dict(evaluation)}
        oracle, context = None, {k: evaluation.get(k) for k in ("split", "features_used", "train_rows")}
    models = {}
    rows = bads = 0
    for name, m in src.items():
        lift, grades = _from_deciles(m["calibration"])
        rows = int(sum(r["n"] for r in m["calibration"]))
        bads = int(sum(r["bads"] for r in m["calibration"]))
        summary = {"auc": m["test_auc"], "gini": m["gini"], "ks": m["ks"], "bad_rate": bads / rows, "rows": rows,
                   "mean_pd": m.get("mean_pd_test"), "train_auc": m.get("train_auc"),
                   "psi_train_test": m.get("psi_train_test")}  # fmt: skip
        if "share_of_oracle" in m:
            summary["share_of_oracle"] = m["share_of_oracle"]
        models[name] = {"summary": summary, "roc": None, "ks_curve": None, "calibration": list(m["calibration"]),
                        "lift_gain": lift, "grades": grades,
                        "stability": {"psi": m["psi_train_test"], "table": None} if "psi_train_test" in m else None,
                        "by_group": {k: m[f"auc_by_{k}"] for k in ("industry", "month")
                                     if f"auc_by_{k}" in m}}  # fmt: skip
    if oracle is not None:
        cal = oracle.get("calibration")
        oracle = {"auc": oracle["test_auc"], "ks": oracle.get("ks"), "gini": 2 * oracle["test_auc"] - 1,
                  "mean_pd": oracle.get("mean_pd_test"), "roc": None, "calibration": cal,
                  "lift_gain": _from_deciles(cal)[0] if cal else None}  # fmt: skip
    return jsonable({"title": title, "generated_at": datetime.now(UTC).isoformat(timespec="seconds"), "rows": rows,
                   "bads": bads, "bad_rate": bads / rows if rows else None, "row_level": False, "oracle": oracle,
                   "models": models, "context": context})  # fmt: skip


# ---------------------------------------------------------------- the universe: fit as evaluate_models does
def universe_report(ts: Any, config: EvaluationConfig | None = None, *,
                    title: str = "Out-of-time evaluation on the synthetic universe"
                    ) -> tuple[dict[str, Any], dict[str, FittedModel]]:  # fmt: skip
    """Fit (`evaluate_universe.fit_models`) and report on the test snapshots with the oracle; returns the report
    and the fitted models."""
    fitted = fit_models(ts, config)
    train, test = ts.train, ts.test
    rep = build_report(test["label"].to_numpy(), {k: f.test_pd for k, f in fitted.items()},
                       train_pd={k: f.train_pd for k, f in fitted.items()}, train_y=train["label"].to_numpy(),
                       groups={"industry": test["industry"].to_numpy(), "month": test["as_of"].to_numpy()},
                       oracle_pd=test["true_pd_12m"].to_numpy(), title=title,
                       context={"trainset": ts.describe()})  # fmt: skip
    for k, f in fitted.items():
        sec = rep["models"][k]
        sec["summary"]["fit_seconds"] = f.fit_seconds
        sec["features"] = list(f.model.features)
    return rep, fitted


# ---------------------------------------------------------------- HTML
def _png(fig: Any) -> str:
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=90, bbox_inches="tight")
    _pyplot().close(fig)
    return base64.b64encode(buf.getvalue()).decode("ascii")


def _pyplot() -> Any:
    import matplotlib

    matplotlib.use("Agg", force=False)
    import matplotlib.pyplot as plt

    return plt


def _plot_roc(models: Mapping[str, Any], oracle: Mapping[str, Any]) -> str | None:
    with_roc = {k: m["roc"] for k, m in models.items() if m.get("roc")}
    if not with_roc:
        return None
    fig, ax = _pyplot().subplots(figsize=(5, 4.5))
    for k, r in with_roc.items():
        ax.plot(r["fpr"], r["tpr"], label=f"{k} (AUC {models[k]['summary']['auc']:.3f})")
    if oracle.get("roc"):
        ax.plot(oracle["roc"]["fpr"], oracle["roc"]["tpr"], "k--", label=f"oracle (AUC {oracle['auc']:.3f})")
    ax.plot([0, 1], [0, 1], color="grey", lw=0.8)
    ax.set(xlabel="false positive rate (goods)", ylabel="true positive rate (bads)", title="ROC")
    ax.legend(loc="lower right", fontsize=8)
    return _png(fig)


def _plot_ks(models: Mapping[str, Any]) -> str | None:
    with_ks = {k: m["ks_curve"] for k, m in models.items() if m.get("ks_curve")}
    if not with_ks:
        return None
    fig, axes = _pyplot().subplots(1, len(with_ks), figsize=(5 * len(with_ks), 4), squeeze=False)
    for ax, (k, c) in zip(axes[0], with_ks.items(), strict=True):
        ax.plot(c["population"], c["bads"], label="bads")
        ax.plot(c["population"], c["goods"], label="goods")
        j = c["at_population"]
        ax.vlines(j, np.interp(j, c["population"], c["goods"]), np.interp(j, c["population"], c["bads"]),
                  colors="red", label=f"KS {c['ks']:.3f}")  # fmt: skip
        ax.set(xlabel="share of population, riskiest first", ylabel="cumulative share", title=f"KS · {k}")
        ax.legend(fontsize=8)
    return _png(fig)


def _plot_calibration(models: Mapping[str, Any], oracle: Mapping[str, Any]) -> str:
    fig, ax = _pyplot().subplots(figsize=(5, 4.5))
    curves = {k: m["calibration"] for k, m in models.items()}
    for k, c in curves.items():
        ax.plot([r["mean_pd"] for r in c], [r["bad_rate"] for r in c], "o-", label=k)
    if oracle.get("calibration"):
        c = oracle["calibration"]
        ax.plot([r["mean_pd"] for r in c], [r["bad_rate"] for r in c], "k^--", label="oracle")
    top = max(max(r["mean_pd"], r["bad_rate"]) for c in curves.values() for r in c)
    ax.plot([0, top], [0, top], color="grey", lw=0.8)
    ax.set(xlabel="mean predicted PD (decile)", ylabel="observed bad rate", title="Calibration by decile")
    ax.legend(fontsize=8)
    return _png(fig)


def _gain_xy(lg: list[dict[str, Any]]) -> tuple[np.ndarray, np.ndarray]:
    share = np.cumsum([r["n"] for r in lg]) / sum(r["n"] for r in lg)
    return np.r_[0, share], np.r_[0, [r["cum_gain"] for r in lg]]


def _plot_lift_gain(models: Mapping[str, Any], oracle: Mapping[str, Any]) -> str:
    fig, (a1, a2) = _pyplot().subplots(1, 2, figsize=(10, 4))
    for k, m in models.items():
        a1.plot(*_gain_xy(m["lift_gain"]), "o-", label=k)
        a2.plot([r["decile"] for r in m["lift_gain"]], [r["lift"] for r in m["lift_gain"]], "o-", label=k)
    if oracle.get("lift_gain"):
        a1.plot(*_gain_xy(oracle["lift_gain"]), "k--", label="oracle")
    a1.plot([0, 1], [0, 1], color="grey", lw=0.8)
    a1.set(xlabel="share of population, riskiest first", ylabel="share of bads captured", title="Cumulative gain")
    a2.axhline(1, color="grey", lw=0.8)
    a2.set(xlabel="decile (1 = riskiest)", ylabel="lift", title="Lift by decile")
    a1.legend(fontsize=8)
    return _png(fig)


def _plot_group(models: Mapping[str, Any], name: str) -> str | None:
    series = {k: {r["group"]: r["auc"] for r in m["by_group"].get(name, []) if r.get("auc") is not None}
              for k, m in models.items()}  # fmt: skip
    groups = sorted({g for s in series.values() for g in s})
    if not groups:
        return None
    fig, ax = _pyplot().subplots(figsize=(7, 4))
    x = np.arange(len(groups))
    w = 0.8 / len(series)
    for i, (k, auc) in enumerate(series.items()):
        vals = [auc.get(g, np.nan) for g in groups]
        if name == "month":
            ax.plot(x, vals, "o-", label=k)
        else:
            ax.bar(x + i * w - 0.4 + w / 2, vals, width=w, label=k)
    ax.set_xticks(x, groups, rotation=45, ha="right", fontsize=7)
    low = min(0.5, *(v for s in series.values() for v in s.values())) - 0.02
    ax.set(ylabel="AUC", title=f"AUC by {name}", ylim=(low, 1.0))
    ax.legend(fontsize=8)
    return _png(fig)


def _plot_distribution(models: Mapping[str, Any]) -> str | None:
    stab = {k: m["stability"] for k, m in models.items() if m.get("stability") and m["stability"].get("table")}
    if not stab:
        return None
    fig, axes = _pyplot().subplots(1, len(stab), figsize=(5 * len(stab), 4), squeeze=False)
    for ax, (k, s) in zip(axes[0], stab.items(), strict=True):
        x = np.arange(len(s["table"]))
        ax.bar(x - 0.2, [r["train_share"] for r in s["table"]], width=0.4, label="train")
        ax.bar(x + 0.2, [r["test_share"] for r in s["table"]], width=0.4, label="test")
        ax.set(xlabel="PD bin (deciles of train)", ylabel="share", title=f"PD · {k} (PSI {s['psi']:.3f})")
        ax.legend(fontsize=8)
    return _png(fig)


def _plots(rep: Mapping[str, Any]) -> dict[str, str | None]:
    models, oracle = rep["models"], rep.get("oracle") or {}
    return {"roc": _plot_roc(models, oracle), "ks": _plot_ks(models),
            "calibration": _plot_calibration(models, oracle), "lift_gain": _plot_lift_gain(models, oracle),
            "by_month": _plot_group(models, "month"), "by_industry": _plot_group(models, "industry"),
            "distribution": _plot_distribution(models)}  # fmt: skip


TEMPLATE = """<!DOCTYPE html>
<html lang="zh-CN"><head><meta charset="utf-8"><title>{{ r.title }}</title>
<style>
body{font-family:system-ui,"Noto Sans CJK SC",sans-serif;margin:2em;max-width:1200px;color:#222}
table{border-collapse:collapse;margin:.5em 0 1.5em;font-size:13px}
th,td{border:1px solid #ccc;padding:3px 8px;text-align:right}th{background:#f3f3f3}
td.l,th.l{text-align:left}img{max-width:100%;display:block;margin:.5em 0}
.note{color:#777;font-style:italic}.bad{color:#b00;font-weight:bold}h2{border-bottom:2px solid #ddd}
</style></head><body>
<h1>{{ r.title }}</h1>
<p>Generated {{ r.generated_at }} · {{ "{:,}".format(r.rows) }} test rows, {{ "{:,}".format(r.bads) }} bads
(bad rate {{ pct(r.bad_rate) }}){% if not r.row_level %} · <span class="note">built from summary figures: no
row-level PDs, so ROC and KS curves and the PD distribution are not shown</span>{% endif %}</p>

<section id="summary"><h2>1. Summary 概览</h2>
<table><tr><th class="l">model</th><th>AUC</th><th>share of oracle</th><th>KS</th><th>Gini</th><th>train AUC</th>
<th>PSI train→test</th><th>mean PD</th><th>bad rate</th><th>rows</th></tr>
{% if r.oracle %}<tr><td class="l">oracle (true PD 真值)</td><td>{{ f4(r.oracle.auc) }}</td><td>1.000</td>
<td>{{ f4(r.oracle.ks) }}</td><td>{{ f4(r.oracle.gini) }}</td><td></td><td></td><td>{{ f4(r.oracle.mean_pd) }}</td>
<td></td><td></td></tr>{% endif %}
{% for name, m in r.models.items() %}{% set s = m.summary %}<tr><td class="l">{{ name }}</td><td>{{ f4(s.auc) }}</td>
<td>{{ f3(s.share_of_oracle) }}</td><td>{{ f4(s.ks) }}</td><td>{{ f4(s.gini) }}</td><td>{{ f4(s.train_auc) }}</td>
<td>{{ f4(s.psi_train_test) }}</td><td>{{ f4(s.mean_pd) }}</td><td>{{ pct(s.bad_rate) }}</td>
<td>{{ "{:,}".format(s.rows) }}</td></tr>{% endfor %}</table>
{% if r.oracle %}<p>The oracle AUC is the AUC of the generator's true 12-month PD on the same test rows: the most a
model that sees only data can expect. 真值上限 AUC 为生成器真实违约概率在同一测试集上的 AUC。</p>{% endif %}
</section>

<section id="roc"><h2>2. ROC curve</h2>{{ img("roc") }}</section>
<section id="ks"><h2>3. KS curve</h2>{{ img("ks") }}
{% for name, m in r.models.items() %}{% if m.ks_curve %}<p>{{ name }}: KS {{ f4(m.ks_curve.ks) }} at
{{ pct(m.ks_curve.at_population) }} of the population (PD ≥ {{ f4(m.ks_curve.at_pd) }}).</p>{% endif %}{% endfor %}
</section>

<section id="calibration"><h2>4. Calibration by decile 分十等份校准</h2>{{ img("calibration") }}
{% for name, m in r.models.items() %}<h3>{{ name }}</h3><table><tr><th>decile</th><th>n</th><th>bads</th>
<th>mean PD</th><th>bad rate</th></tr>{% for c in m.calibration %}<tr><td>{{ c.decile }}</td>
<td>{{ "{:,}".format(c.n) }}</td><td>{{ c.bads }}</td><td>{{ f4(c.mean_pd) }}</td><td>{{ f4(c.bad_rate) }}</td></tr>
{% endfor %}</table>{% endfor %}</section>

<section id="grades"><h2>5. Tests per grade: Jeffreys and binomial 分等级检验</h2>
<p>One-sided: a small p-value means the PD of the grade is too low for the defaults observed (ECB 2019,
§2.5.3.1). Rejections at {{ alpha }} in red.</p>
{% for name, m in r.models.items() %}<h3>{{ name }}</h3><table><tr><th class="l">grade</th><th>PD range</th><th>n</th>
<th>defaults</th><th>mean PD</th><th>observed</th><th>obs/exp</th><th>Jeffreys p</th><th>binomial p</th></tr>
{% for g in m.grades %}<tr{% if g.reject %} class="bad"{% endif %}><td class="l">{{ g.grade }}</td>
<td>{% if g.pd_min is defined and g.pd_min is not none %}{{ f4(g.pd_min) }}–{{ f4(g.pd_max) }}{% endif %}</td>
<td>{{ "{:,}".format(g.n) }}</td><td>{{ g.defaults }}</td><td>{{ f4(g.expected_pd) }}</td>
<td>{{ f4(g.observed_rate) }}</td>
<td>{{ f3(g.ratio) }}</td><td>{{ f4(g.jeffreys_p) }}</td><td>{{ f4(g.binomial_p) }}</td></tr>{% endfor %}
</table>{% endfor %}</section>

<section id="lift-gain"><h2>6. Lift and gain 提升度与累计捕获率</h2>{{ img("lift_gain") }}
{% for name, m in r.models.items() %}<h3>{{ name }}</h3><table><tr><th>decile</th><th>n</th><th>bads</th>
<th>bad rate</th><th>lift</th><th>cum. gain</th><th>cum. lift</th></tr>
{% for c in m.lift_gain %}<tr><td>{{ c.decile }}</td>
<td>{{ "{:,}".format(c.n) }}</td><td>{{ c.bads }}</td><td>{{ f4(c.bad_rate) }}</td><td>{{ f3(c.lift) }}</td>
<td>{{ pct(c.cum_gain) }}</td><td>{{ f3(c.cum_lift) }}</td></tr>{% endfor %}</table>{% endfor %}</section>

<section id="stability"><h2>7. Stability: PSI train vs test 稳定性</h2>{{ img("distribution") }}
<p>PSI &lt; 0.10 stable, 0.10–0.25 watch, &gt; 0.25 significant shift (Siddiqi 2006, ch. 8).</p>
{% for name, m in r.models.items() %}{% if m.stability %}<h3>{{ name }}: PSI {{ f4(m.stability.psi) }}</h3>
{% if m.stability.table %}<table><tr><th class="l">PD bin</th><th>train</th><th>test</th><th>contribution</th></tr>
{% for b in m.stability.table %}<tr><td class="l">{{ b.bin }}</td><td>{{ pct(b.train_share) }}</td>
<td>{{ pct(b.test_share) }}</td><td>{{ f4(b.contribution) }}</td></tr>{% endfor %}</table>{% endif %}
{% endif %}{% endfor %}</section>

{% for gname, sid, label in [("industry", "auc-by-industry", "8. AUC by industry 分行业"),
                              ("month", "auc-by-month", "9. AUC by month 分月份")] %}
<section id="{{ sid }}"><h2>{{ label }}</h2>{{ img("by_" ~ gname) }}
<table><tr><th class="l">{{ gname }}</th>{% for name in r.models %}<th>{{ name }} AUC</th>{% endfor %}<th>rows</th>
<th>bads</th></tr>{% set first = r.models.values() | first %}
{% for row in first.by_group.get(gname, []) %}<tr><td class="l">{{ row.group }}</td>
{% for name, m in r.models.items() %}
{% set hit = m.by_group.get(gname, []) | selectattr("group", "equalto", row.group) | list %}
<td>{{ f4(hit[0].auc) if hit else "" }}</td>{% endfor %}<td>{{ "{:,}".format(row.rows) }}</td>
<td>{{ row.bads }}</td></tr>
{% endfor %}</table><p class="note">AUC left blank where a group has fewer than 10 bads or goods.</p></section>
{% endfor %}

<section id="context"><h2>10. Data and settings 数据与设置</h2>
{% for name, m in r.models.items() %}{% if m.features %}<p><b>{{ name }} features ({{ m.features | length }}):</b>
{{ m.features | join(", ") }}</p>{% endif %}{% endfor %}
<pre>{{ context_json }}</pre></section>
</body></html>
"""


def render_html(report: Mapping[str, Any]) -> str:
    """The report as one self-contained HTML page (plots as base64 PNG data URIs, no external resource)."""
    from jinja2 import Environment, Undefined
    from markupsafe import Markup

    plots = _plots(report)

    def img(key: str) -> Markup:
        b64 = plots.get(key)
        if b64 is None:
            return Markup('<p class="note">not available for this report (no row-level PDs or too few rows)</p>')
        return Markup(f'<img alt="{key}" src="data:image/png;base64,{b64}">')

    def num(fmt: str) -> Any:
        return lambda v: "" if v is None or isinstance(v, Undefined) else format(v, fmt)

    env = Environment(autoescape=True, trim_blocks=True, lstrip_blocks=True)
    tpl = env.from_string(TEMPLATE)
    return tpl.render(
        r=report,
        img=img,
        f4=num(".4f"),
        f3=num(".3f"),
        pct=num(".2%"),
        alpha=ALPHA,
        context_json=json.dumps(report.get("context", {}), ensure_ascii=False, indent=1, default=str),
    )


def write_report(report: Mapping[str, Any], out: Path, *, stem: str = "report") -> tuple[Path, Path]:
    """Write `<out>/<stem>.html` and `<out>/<stem>.json`; returns both paths."""
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    html, js = out / f"{stem}.html", out / f"{stem}.json"
    html.write_text(render_html(report), encoding="utf-8")
    js.write_text(json.dumps(jsonable(report), ensure_ascii=False, indent=1), encoding="utf-8")
    return html, js
