"""Model monitoring (模型监控): stability against the release, performance of matured cohorts, vintages, findings.

Owns the pure numbers a risk officer watches after a model goes live, and the thresholds that turn them
into findings. At release, `reference_profile` freezes the score's decile edges and each feature's bins
(a scorecard's own bins; for the GBM, decile bins of each numeric feature and one bin per category) with
the share of the release population in each. Later, `psi_report` puts a current population into exactly
those bins: the score's population stability index (PSI) and, per feature, the characteristic stability
index (CSI: the same formula Σ (a − e)·ln(a/e) on one feature's bins, as optbinning's
`psi_variable_table`; Siddiqi 2006, ch. 8). `cohort_performance` gives AUC/KS per matured cohort,
`vintage_curves` the cumulative bad rate by months on book per origination month (账龄分析), and
`calibration_drift` observed against expected default rates per grade with the Jeffreys test.
`findings` compares these with the bands in `monitoring.yaml` and returns `Finding`s (code, severity
amber/red, message in Chinese and English, the numbers). Findings are data, not errors.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import yaml
from scipy.stats import binom

from puhui.core.errors import ConfigurationError, ValidationError
from puhui.models import metrics
from puhui.models.binning import FrozenBinning, numeric_column

__all__ = ["Finding", "calibration_drift", "cohort_performance", "findings", "frozen_bins", "grade_of",
           "load_thresholds", "psi_report", "reference_profile", "vintage_curves"]  # fmt: skip

THRESHOLDS_FILE = Path(__file__).with_name("monitoring.yaml")
SEVERITY_ORDER = {"red": 0, "amber": 1}


@lru_cache(maxsize=4)
def _load(path: str) -> dict[str, Any]:
    try:
        raw = yaml.safe_load(Path(path).read_text(encoding="utf-8"))
    except (OSError, yaml.YAMLError) as e:
        raise ConfigurationError(f"cannot read monitoring thresholds {path}: {e}", code="invalid_thresholds") from None
    for key in ("psi", "auc_drop", "calibration", "master_scale"):
        if key not in raw:
            raise ConfigurationError(f"monitoring thresholds {path} lack the {key!r} section",
                                     code="invalid_thresholds", section=key)  # fmt: skip
    return raw


def load_thresholds(path: Path | None = None) -> dict[str, Any]:
    """The monitoring bands (a fresh copy; `monitoring.yaml` beside this module unless `path` is given)."""
    import copy

    return copy.deepcopy(_load(str(path or THRESHOLDS_FILE)))


# ---------------------------------------------------------------- scores and grades
def grade_of(pd_: np.ndarray, scale: Sequence[Mapping[str, Any]] | None = None) -> np.ndarray:
    """The master-scale grade of each PD (grade i holds max_pd[i−1] < PD ≤ max_pd[i])."""
    scale = scale if scale is not None else load_thresholds()["master_scale"]
    tops = np.asarray([float(g["max_pd"]) for g in scale])
    names = np.asarray([str(g["grade"]) for g in scale], dtype=object)
    idx = np.searchsorted(tops, np.asarray(pd_, dtype=float), side="left")
    return names[np.minimum(idx, len(names) - 1)]


# ---------------------------------------------------------------- release profile and PSI/CSI
def _pd(model: Any, frame: pd.DataFrame) -> np.ndarray:
    return np.asarray(model.predict_pd(frame, allow_extra=True), dtype=float)


def _shares(idx: np.ndarray, n_bins: int) -> list[float]:
    if idx.size == 0:
        raise ValidationError("cannot profile an empty population", code="empty_population")
    return [float(v) for v in np.bincount(idx, minlength=n_bins)[:n_bins] / idx.size]


def _score_bins(score: np.ndarray, edges: Sequence[float]) -> np.ndarray:
    # the same convention as metrics.psi: bin i holds edges[i−1] ≤ s < edges[i]
    return np.searchsorted(np.asarray(edges, dtype=float), score, side="right")


def _release_bins(model: Any, frame: pd.DataFrame, feature: str, bins: int) -> dict[str, Any]:
    """The bins a feature is watched on: the scorecard's own, else deciles (numeric) or one per category."""
    from puhui.models.scorecard import Scorecard

    if isinstance(model, Scorecard) and feature in model.bins:
        b = model.bins[feature]
        ref: dict[str, Any] = {"kind": b.kind, "source": "scorecard_bins", "special_codes": list(b.special_codes)}
        ref.update({"edges": list(b.splits)} if b.kind == "numerical" else {"groups": [list(g) for g in b.groups]})
        return ref
    if getattr(model, "kinds", {}).get(feature) == "categorical":
        cats = getattr(model, "categories", {}).get(feature)
        if cats is None:
            cats = sorted({str(v) for v in frame[feature].dropna().astype(str) if v != ""})
        return {"kind": "categorical", "source": "categories", "special_codes": [], "groups": [[c] for c in cats]}
    x = numeric_column(frame[feature], feature)
    x = x[np.isfinite(x)]
    cuts = np.unique(np.quantile(x, np.linspace(0, 1, bins + 1))[1:-1]) if x.size else np.array([])
    return {"kind": "numerical", "source": "deciles", "special_codes": [], "edges": [float(c) for c in cuts]}


def frozen_bins(name: str, ref: Mapping[str, Any]) -> FrozenBinning:
    """A reference feature entry as a `FrozenBinning` (for its `bin_index` and `labels`); reads `edges`
    (or `splits`) for numerical and `groups` for categorical features."""
    if "kind" not in ref or not ({"edges", "splits", "groups"} & set(ref)):
        raise ValidationError(f"the reference profile of feature {name!r} has no bins", code="invalid_reference",
                              feature=name)  # fmt: skip
    return FrozenBinning(name, ref["kind"], tuple(float(s) for s in ref.get("edges", ref.get("splits", ()))),
                         tuple(tuple(str(c) for c in g) for g in ref.get("groups", ())),
                         tuple(float(c) for c in ref.get("special_codes", ())), (), (), (),
                         str(ref.get("source", "reference")))  # fmt: skip


def reference_profile(model: Any, frame: pd.DataFrame, *, y: np.ndarray | None = None, bins: int = 10) -> dict:
    """Freeze the release population: the PD's decile edges and shares, and per feature its bins and shares.

    Format (the registry's `metadata["reference"]`): `{"score": "pd", "score_edges", "score_shares", "rows",
    "features": {f: {"kind", "source", "special_codes", "edges" | "groups", "labels", "shares"}}}`; a score
    value s falls in bin `searchsorted(score_edges, s, side="right")`. With labels `y` also `"performance"`
    (AUC, Gini, KS, bad rate, rows, mean PD) — the release numbers the AUC-drop finding compares with.
    """
    if len(frame) == 0:
        raise ValidationError("cannot profile an empty population", code="empty_population")
    p = _pd(model, frame)
    edges = np.unique(np.quantile(p, np.linspace(0, 1, bins + 1))[1:-1])
    feats: dict[str, Any] = {}
    for f in model.features:
        ref = _release_bins(model, frame, f, bins)
        b = frozen_bins(f, ref)
        ref["labels"] = b.labels()
        ref["shares"] = _shares(b.bin_index(frame[f]), b.n_regular + 2)
        feats[f] = ref
    out: dict[str, Any] = {"score": "pd", "score_edges": [float(e) for e in edges],
                           "score_shares": _shares(_score_bins(p, edges), edges.size + 1), "rows": len(frame),
                           "features": feats}  # fmt: skip
    if y is not None:
        out["performance"] = {**metrics.summary(np.asarray(y), p), "mean_pd": float(np.mean(p))}
    return out


def _stability_table(labels: Sequence[str], expected: Sequence[float], actual: Sequence[float]) -> dict[str, Any]:
    e = np.asarray(expected, dtype=float)
    a = np.asarray(actual, dtype=float)
    ef, af = np.maximum(e, metrics.PSI_EPS), np.maximum(a, metrics.PSI_EPS)
    contrib = (af - ef) * np.log(af / ef)
    rows = [{"bin": str(lab), "expected": float(ei), "actual": float(ai), "contribution": float(c)}
            for lab, ei, ai, c in zip(labels, e, a, contrib, strict=True)]  # fmt: skip
    return {"psi": metrics.psi_from_shares(e, a), "table": rows}


def psi_report(reference: Mapping[str, Any], model: Any, current_frame: pd.DataFrame) -> dict[str, Any]:
    """Score PSI and per-feature CSI of `current_frame` on the bins frozen in `reference`.

    Features of the reference the model no longer has, or columns the frame lacks, are listed under
    `skipped` with the reason rather than failing the whole report.
    """
    for key in ("score_edges", "score_shares", "features"):
        if key not in reference:
            raise ValidationError(f"reference profile lacks {key!r}", code="invalid_reference", key=key)
    if len(current_frame) == 0:
        raise ValidationError("the current population is empty", code="empty_population")
    edges = [float(e) for e in reference["score_edges"]]
    s = _pd(model, current_frame)
    n_score = len(edges) + 1
    if len(reference["score_shares"]) != n_score:
        raise ValidationError(f"reference has {len(reference['score_shares'])} score shares for {len(edges)} edges",
                              code="invalid_reference")  # fmt: skip
    lo = [-math.inf, *edges]
    hi = [*edges, math.inf]
    labels = [f"[{a:.6g}, {b:.6g})" for a, b in zip(lo, hi, strict=True)]
    score = _stability_table(labels, reference["score_shares"], _shares(_score_bins(s, edges), n_score))
    feats: dict[str, Any] = {}
    skipped: dict[str, str] = {}
    for f, ref in reference["features"].items():
        if f not in current_frame.columns:
            skipped[f] = "column absent from the current data"
            continue
        b = frozen_bins(f, ref)
        n_bins = b.n_regular + 2
        if len(ref["shares"]) != n_bins:
            raise ValidationError(f"reference shares of {f!r} do not match its bins ({len(ref['shares'])} vs {n_bins})",
                                  code="invalid_reference", feature=f)  # fmt: skip
        feats[f] = _stability_table(ref.get("labels") or b.labels(), ref["shares"],
                                    _shares(b.bin_index(current_frame[f]), n_bins))  # fmt: skip
    return {"rows": len(current_frame), "reference_rows": reference.get("rows"),
            "score": score, "features": dict(sorted(feats.items(), key=lambda kv: -kv[1]["psi"])),
            "skipped": skipped}  # fmt: skip


# ---------------------------------------------------------------- performance on matured cohorts
def cohort_performance(y: np.ndarray, pd_: np.ndarray, cohort: np.ndarray, *, min_bads: int = 1) -> pd.DataFrame:
    """Rows, bads, bad rate, mean PD, AUC and KS per cohort (AUC/KS None where a cohort has fewer than
    `min_bads` bads or goods)."""
    y, p, c = np.asarray(y, dtype=int), np.asarray(pd_, dtype=float), np.asarray(cohort)
    if not y.size == p.size == c.size:
        raise ValidationError("labels, PDs and cohorts differ in length", code="length_mismatch")
    rows = []
    for g in sorted(pd.unique(c), key=str):
        m = c == g
        nb, n = int(y[m].sum()), int(m.sum())
        ok = nb >= max(min_bads, 1) and n - nb >= max(min_bads, 1)
        name = pd.Timestamp(g).date().isoformat() if isinstance(g, pd.Timestamp | np.datetime64) else str(g)
        rows.append({"cohort": name, "rows": n, "bads": nb, "bad_rate": nb / n, "mean_pd": float(p[m].mean()),
                     "auc": metrics.auc(y[m], p[m]) if ok else None,
                     "ks": metrics.ks(y[m], p[m]) if ok else None})  # fmt: skip
    return pd.DataFrame(rows, columns=["cohort", "rows", "bads", "bad_rate", "mean_pd", "auc", "ks"])


def vintage_curves(loans: pd.DataFrame, *, bad_dpd: int = 90) -> pd.DataFrame:
    """Cumulative bad rate by months on book per vintage (origination month).

    `loans` is a loan-month panel: `origination_month`, `months_on_book`, and `defaulted` (bool) or `dpd`
    (days past due; bad = dpd ≥ `bad_dpd`), and ideally `loan_id`. With `loan_id` a loan counts as bad from
    the first month it is bad onwards (ever-bad, so a cure does not lower the curve) and the denominator is
    every loan of the vintage; a vintage's curve stops at the last month on book observed for it. Without
    `loan_id` each row is one loan at one month on book and the flag is taken as already cumulative.
    Returns one row per (vintage, months_on_book): loans, bads, cum_bad_rate.
    """
    need = {"origination_month", "months_on_book"}
    missing = sorted(need - set(loans.columns))
    if missing or not ({"defaulted", "dpd"} & set(loans.columns)):
        raise ValidationError(f"vintage data needs origination_month, months_on_book and defaulted or dpd "
                              f"(missing: {missing or ['defaulted|dpd']})", code="missing_columns")  # fmt: skip
    df = loans.copy()
    df["vintage"] = pd.to_datetime(df["origination_month"]).dt.to_period("M").astype(str)
    df["mob"] = pd.to_numeric(df["months_on_book"], errors="raise").astype(int)
    if "defaulted" in df.columns:
        df["bad"] = df["defaulted"].fillna(False).astype(bool)
    else:
        df["bad"] = pd.to_numeric(df["dpd"], errors="coerce").fillna(0) >= bad_dpd
    out = []
    for v, g in df.groupby("vintage", sort=True):
        last = int(g["mob"].max())
        if "loan_id" in g.columns:
            n = int(g["loan_id"].nunique())
            first_bad = g.loc[g["bad"]].groupby("loan_id")["mob"].min().to_numpy()
            for m in range(int(g["mob"].min()), last + 1):
                bads = int((first_bad <= m).sum())
                out.append({"vintage": v, "months_on_book": m, "loans": n, "bads": bads, "cum_bad_rate": bads / n})
        else:
            for m, gm in g.groupby("mob", sort=True):
                bads = int(gm["bad"].sum())
                out.append({"vintage": v, "months_on_book": int(m), "loans": len(gm), "bads": bads,
                            "cum_bad_rate": bads / len(gm)})  # fmt: skip
    return pd.DataFrame(out, columns=["vintage", "months_on_book", "loans", "bads", "cum_bad_rate"])


def calibration_drift(y: np.ndarray, pd_: np.ndarray, grades: np.ndarray | None = None) -> pd.DataFrame:
    """Observed vs expected default rate per grade and for the whole population (grade `all`):
    n, defaults, expected (mean PD), observed rate, ratio observed/expected, expected defaults, the
    one-sided Jeffreys p-value and the exact binomial p-value P(X ≥ D | N, PD) (small = PD too low).
    Grades default to the master scale of `monitoring.yaml`."""
    y, p = np.asarray(y, dtype=int), np.asarray(pd_, dtype=float)
    g = np.asarray(grades if grades is not None else grade_of(p)).astype(str)
    order = {str(r["grade"]): i for i, r in enumerate(load_thresholds()["master_scale"])}
    rows = []
    keys = sorted(pd.unique(g), key=lambda k: (order.get(k, len(order)), k))
    for grade, m in [*((k, g == k) for k in keys), ("all", np.ones(y.size, dtype=bool))]:
        n, d, e = int(m.sum()), int(y[m].sum()), float(p[m].mean())
        rows.append({"grade": grade, "n": n, "defaults": d, "expected_pd": e, "observed_rate": d / n,
                     "ratio": (d / n) / e if e > 0 else math.inf, "expected_defaults": e * n,
                     "jeffreys_p": metrics.jeffreys_pvalue(d, n, e),
                     "binomial_p": float(binom.sf(d - 1, n, e))})  # fmt: skip
    return pd.DataFrame(rows)


# ---------------------------------------------------------------- findings
@dataclass(frozen=True)
class Finding:
    """One crossed threshold: what, how bad, in both languages, with the numbers behind it."""

    code: str
    severity: str  # amber | red
    subject: str
    message_zh: str
    message_en: str
    values: dict[str, Any] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def _band(value: float, amber: float, red: float) -> str | None:
    return "red" if value >= red else "amber" if value >= amber else None


def _psi_findings(psi: Mapping[str, Any], t: Mapping[str, Any]) -> list[Finding]:
    out = []
    sev = _band(psi["score"]["psi"], t["score"]["amber"], t["score"]["red"])
    if sev:
        v = psi["score"]["psi"]
        out.append(Finding("score_psi", sev, "score", f"评分分布稳定性指数 PSI = {v:.3f}，超过{_zh(sev)}阈值",
                           f"score PSI {v:.3f} crosses the {sev} threshold",
                           {"psi": v, "amber": t["score"]["amber"], "red": t["score"]["red"]}))  # fmt: skip
    for f, r in psi.get("features", {}).items():
        sev = _band(r["psi"], t["feature"]["amber"], t["feature"]["red"])
        if sev:
            top = max(r["table"], key=lambda row: abs(row["contribution"]))
            out.append(Finding("feature_csi", sev, f, f"特征 {f} 的 CSI = {r['psi']:.3f}，超过{_zh(sev)}阈值"
                               f"（变化最大的分箱 {top['bin']}：{top['expected']:.1%} → {top['actual']:.1%}）",
                               f"feature {f} CSI {r['psi']:.3f} crosses the {sev} threshold (largest move in bin "
                               f"{top['bin']}: {top['expected']:.1%} → {top['actual']:.1%})",
                               {"csi": r["psi"], "bin": top["bin"], "expected": top["expected"],
                                "actual": top["actual"]}))  # fmt: skip
    return out


def _zh(sev: str) -> str:
    return "红色" if sev == "red" else "黄色"


def _auc_findings(cohorts: pd.DataFrame, release_auc: float, t: Mapping[str, Any]) -> list[Finding]:
    out = []
    for r in cohorts.to_dict(orient="records"):
        if r["auc"] is None or (isinstance(r["auc"], float) and math.isnan(r["auc"])):
            continue
        if min(r["bads"], r["rows"] - r["bads"]) < t.get("min_bads", 0):
            continue
        drop = release_auc - float(r["auc"])
        # round to 12 places so that a drop of exactly the threshold is not lost to float noise
        sev = _band(round(drop, 12), t["amber"], t["red"])
        if sev:
            out.append(Finding("auc_drop", sev, str(r["cohort"]),
                               f"成熟批次 {r['cohort']} 的 AUC {r['auc']:.3f}，"
                               f"较上线时 {release_auc:.3f} 下降 {drop:.3f}",
                               f"matured cohort {r['cohort']}: AUC {r['auc']:.3f}, down {drop:.3f} from "
                               f"{release_auc:.3f} at release",
                               {"auc": float(r["auc"]), "release_auc": release_auc, "drop": drop,
                                "bads": int(r["bads"]), "rows": int(r["rows"])}))  # fmt: skip
    return out


def _calibration_findings(cal: pd.DataFrame, t: Mapping[str, Any]) -> list[Finding]:
    out = []
    (ra_lo, ra_hi), (rr_lo, rr_hi) = t["ratio_amber"], t["ratio_red"]
    for r in cal.to_dict(orient="records"):
        subject = "portfolio" if r["grade"] == "all" else f"grade {r['grade']}"
        zh_subject = "全部样本" if r["grade"] == "all" else f"等级 {r['grade']}"
        vals = {k: r[k] for k in ("n", "defaults", "expected_pd", "observed_rate", "ratio", "jeffreys_p")}
        if r["expected_defaults"] >= t["min_expected_defaults"]:
            ratio = r["ratio"]
            sev = "red" if not rr_lo <= ratio <= rr_hi else "amber" if not ra_lo <= ratio <= ra_hi else None
            if sev:
                out.append(Finding("calibration_ratio", sev, subject,
                                   f"{zh_subject}实际违约率 {r['observed_rate']:.2%} 为预测 {r['expected_pd']:.2%} 的 "
                                   f"{ratio:.2f} 倍，超出{_zh(sev)}区间",
                                   f"{subject}: observed default rate {r['observed_rate']:.2%} is {ratio:.2f}× the "
                                   f"expected {r['expected_pd']:.2%}, outside the {sev} band", vals))  # fmt: skip
        p = r["jeffreys_p"]
        sev = "red" if p < t["jeffreys_red"] else "amber" if p < t["jeffreys_amber"] else None
        if sev:
            out.append(Finding("calibration_jeffreys", sev, subject,
                               f"{zh_subject} Jeffreys 检验 p = {p:.4f}：预测违约率 {r['expected_pd']:.2%} 低估风险"
                               f"（实际 {r['observed_rate']:.2%}，{r['defaults']}/{r['n']}）",
                               f"{subject}: Jeffreys p = {p:.4f}, the PD {r['expected_pd']:.2%} underestimates risk "
                               f"(observed {r['observed_rate']:.2%}, {r['defaults']}/{r['n']})", vals))  # fmt: skip
    return out


def findings(*, psi: Mapping[str, Any] | None = None, cohorts: pd.DataFrame | None = None,
             release_auc: float | None = None, calibration: pd.DataFrame | None = None,
             thresholds: Mapping[str, Any] | None = None) -> list[Finding]:  # fmt: skip
    """Every threshold of `monitoring.yaml` (or `thresholds`) that the given numbers cross, red first.

    `psi` from `psi_report`; `cohorts` from `cohort_performance` with `release_auc` the AUC at release;
    `calibration` from `calibration_drift`. Any of them may be left out.
    """
    t = thresholds if thresholds is not None else load_thresholds()
    out: list[Finding] = []
    if psi is not None:
        out += _psi_findings(psi, t["psi"])
    if cohorts is not None and release_auc is not None:
        out += _auc_findings(cohorts, float(release_auc), t["auc_drop"])
    if calibration is not None:
        out += _calibration_findings(calibration, t["calibration"])
    return sorted(out, key=lambda f: SEVERITY_ORDER[f.severity])
