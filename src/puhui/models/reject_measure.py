"""What reject inference gains on the synthetic universe, where declined applicants' outcomes are known.

Owns the through-the-door (TTD, 全量申请) experiment behind `puhui model reject-inference`. On a `TrainingSet`
(`puhui.models.trainset`) a past acceptance policy is simulated: a **legacy score** from a few indicators —
the `legacy_features` numeric indicators with the strongest univariate AUC on the train rows, at most half
missing and with at least 3 distinct values, skipping any whose rank correlation with one already chosen
exceeds 0.7, each turned into its percentile and signed so that higher = riskier — plus Gaussian noise
(`legacy_noise` × the signal's standard deviation), and optionally a share of the true PD as "soft
information" the data does not hold (`soft_info` > 0 makes the selection depend on the unobserved, i.e.
missing not at random). In every monthly snapshot the best `approval_rate` of applicants by legacy score are
approved; only their labels would be known. Four scorecards are then fitted on the train snapshots, with the
library's risk trends: (a) **KGB**, approved only; (b) KGB + **fuzzy augmentation**; (c) KGB + **parcelling**;
(d) **all applicants** with their true labels, the target reject inference tries to reach (with finite data
and an overfitting scorecard it can score below KGB). All four are scored on the whole out-of-time test
population (every applicant, approved or not): AUC, KS, mean PD against the bad rate, calibration by decile,
and the same AUC on the test applicants the legacy policy would have declined. Each method's gain over KGB
(with a paired-bootstrap standard error of the AUC difference, resampling test enterprises) and the share of
the KGB → all-applicants gap it closes (None when the all-applicants model is not better than KGB) are
reported, with what the methods assumed about the rejects' bad rate beside the truth.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from rich.console import Console

from puhui.core.errors import ConfigurationError, NotFound, ValidationError
from puhui.models import metrics
from puhui.models.reject_inference import fuzzy_augmentation, parcelling
from puhui.models.scorecard import Scorecard, ScorecardConfig
from puhui.models.trainset import TrainingSet, TrainsetConfig, build_trainset

__all__ = ["LegacyPolicy", "RejectMeasureConfig", "approve", "auc_gain_se", "choose_legacy_policy",
           "legacy_score", "measure_reject_inference", "measure_universe"]  # fmt: skip

METHODS = ("kgb", "fuzzy", "parcelling", "all_applicants")
MAX_LEGACY_MISSING = 0.5
MIN_LEGACY_VALUES = 3
MAX_LEGACY_CORR = 0.7


@dataclass(frozen=True)
class RejectMeasureConfig:
    """The simulated past policy, the reject-inference settings and the scorecard settings."""

    trainset: TrainsetConfig = field(default_factory=lambda: TrainsetConfig(holdout_fraction=0.3))
    scorecard: ScorecardConfig = field(default_factory=lambda: ScorecardConfig(iv_min=0.01, corr_max=0.8))
    approval_rate: float = 0.5
    legacy_features: int = 4
    legacy_noise: float = 0.5
    soft_info: float = 0.0
    reject_weight: float = 1.0
    parcel_bands: int = 10
    parcel_uplift: float = 1.5
    seed: int = 0
    use_trends: bool = True
    include: tuple[str, ...] | None = None  # only these features (tests, quick runs); None = all

    def __post_init__(self) -> None:
        if not 0 < self.approval_rate < 1:
            raise ConfigurationError(f"approval_rate must be in (0, 1), not {self.approval_rate}",
                                     code="invalid_approval_rate")  # fmt: skip
        if not 1 <= self.legacy_features <= 10 or self.legacy_noise < 0 or self.soft_info < 0:
            raise ConfigurationError("legacy_features must be 1–10, legacy_noise and soft_info ≥ 0",
                                     code="invalid_legacy_policy")  # fmt: skip


@dataclass(frozen=True)
class LegacyPolicy:
    """The simulated past scorecard: features, risk signs (+1 = riskier when higher) and the reference
    values (sorted train values) that turn a feature into its percentile."""

    features: list[str]
    signs: list[int]
    reference: dict[str, np.ndarray]
    train_auc: dict[str, float]

    def signal(self, frame: pd.DataFrame) -> np.ndarray:
        """Mean signed percentile of the legacy features (missing = the median), higher = riskier."""
        cols = []
        for f, s in zip(self.features, self.signs, strict=True):
            ref = self.reference[f]
            x = frame[f].to_numpy(dtype=float)
            u = np.searchsorted(ref, x, side="right") / max(ref.size, 1)
            u = np.where(np.isnan(x), 0.5, u)
            cols.append(u if s > 0 else 1.0 - u)
        return np.mean(cols, axis=0)


def choose_legacy_policy(train: pd.DataFrame, features: list[str], kinds: dict[str, str], k: int) -> LegacyPolicy:
    """The k numeric features with the largest |AUC − ½| on the train labels (missing values at the median),
    skipping one whose Spearman correlation with a chosen feature exceeds 0.7."""
    y = train["label"].to_numpy()
    cand = []
    for f in features:
        if kinds.get(f) != "numerical":
            continue
        x = train[f].to_numpy(dtype=float)
        miss = np.isnan(x)
        if miss.mean() > MAX_LEGACY_MISSING or np.unique(x[~miss]).size < MIN_LEGACY_VALUES:
            continue
        a = metrics.auc(y, np.where(miss, np.nanmedian(x), x))
        cand.append((abs(a - 0.5), f, a))
    cand.sort(key=lambda t: (-t[0], t[1]))
    chosen: list[str] = []
    aucs: dict[str, float] = {}
    ranks = {}
    for _, f, a in cand:
        r = train[f].rank(pct=True).fillna(0.5).to_numpy()
        if any(abs(np.corrcoef(r, ranks[c])[0, 1]) > MAX_LEGACY_CORR for c in chosen):
            continue
        chosen.append(f)
        ranks[f] = r
        aucs[f] = a
        if len(chosen) == k:
            break
    if not chosen:
        raise ValidationError("no numeric feature qualifies for the legacy policy (≤ 50% missing, ≥ 3 values)",
                              code="no_legacy_features")  # fmt: skip
    ref = {f: np.sort(train[f].dropna().to_numpy(dtype=float)) for f in chosen}
    return LegacyPolicy(features=chosen, signs=[1 if aucs[f] >= 0.5 else -1 for f in chosen], reference=ref,
                        train_auc=aucs)  # fmt: skip


Scale = tuple[float, float, float, float]


def legacy_score(frame: pd.DataFrame, policy: LegacyPolicy, cfg: RejectMeasureConfig, rng: np.random.Generator,
                 scale: Scale | None = None) -> tuple[np.ndarray, Scale]:  # fmt: skip
    """Standardised legacy signal + soft information (true PD's log-odds, standardised) + noise; higher =
    riskier. `scale` (mean, sd of the signal and of the soft information) is taken from the train rows."""
    sig = policy.signal(frame)
    tp = np.clip(frame["true_pd_12m"].to_numpy(dtype=float), 1e-6, 1 - 1e-6)
    soft = np.log(tp / (1 - tp))
    if scale is None:
        scale = (float(sig.mean()), float(sig.std()) or 1.0, float(soft.mean()), float(soft.std()) or 1.0)
    m, s, sm, ss = scale
    z = (sig - m) / s + cfg.soft_info * (soft - sm) / ss
    return z + cfg.legacy_noise * rng.standard_normal(z.size), scale


def approve(as_of: pd.Series, risk: np.ndarray, rate: float) -> np.ndarray:
    """Per snapshot, approve the `rate` share with the lowest risk (ties by position)."""
    ok = np.zeros(risk.size, dtype=bool)
    for idx in pd.Series(np.arange(risk.size)).groupby(as_of.to_numpy()).indices.values():
        order = idx[np.argsort(risk[idx], kind="stable")]
        ok[order[: round(rate * idx.size)]] = True
    return ok


def _evaluate(y: np.ndarray, p: np.ndarray, declined: np.ndarray) -> dict[str, Any]:
    cal = metrics.calibration_by_decile(y, p)
    s = metrics.summary(y, p)
    return {"auc": s["auc"], "ks": s["ks"], "gini": s["gini"], "mean_pd": float(p.mean()), "bad_rate": s["bad_rate"],
            "calibration_gap": float(p.mean()) - s["bad_rate"],
            "calibration_error": float(np.average(np.abs(cal["mean_pd"] - cal["bad_rate"]), weights=cal["n"])),
            "auc_would_decline": metrics.auc(y[declined], p[declined]),
            "auc_would_approve": metrics.auc(y[~declined], p[~declined]),
            "calibration": cal.to_dict(orient="records")}  # fmt: skip


def _share(m: float, base: float, top: float) -> float | None:
    """The share of the gap base → top that m closes; None when there is no gap to close (top ≤ base)."""
    return (m - base) / (top - base) if top - base > 1e-9 else None


def auc_gain_se(y: np.ndarray, preds: dict[str, np.ndarray], base: str, *, groups: np.ndarray | None = None,
                n_boot: int = 200, seed: int = 0) -> dict[str, float]:  # fmt: skip
    """Paired bootstrap standard error of AUC(model) − AUC(base), per model. With `groups` (the enterprise of
    each row) whole enterprises are resampled, since one firm's monthly snapshots share its outcome."""
    rng = np.random.default_rng(seed)
    if groups is None:
        order, bounds = np.arange(y.size), np.arange(y.size + 1)
    else:
        codes, _ = pd.factorize(groups)
        order = np.argsort(codes, kind="stable")
        bounds = np.searchsorted(codes[order], np.arange(codes.max() + 2))
    n_groups = bounds.size - 1
    diffs: dict[str, list[float]] = {k: [] for k in preds if k != base}
    for _ in range(n_boot):
        pick = rng.integers(0, n_groups, n_groups)
        i = order[np.concatenate([np.arange(bounds[g], bounds[g + 1]) for g in pick])]
        if not 0 < y[i].sum() < y[i].size:
            continue
        a0 = metrics.auc(y[i], preds[base][i])
        for k, d in diffs.items():
            d.append(metrics.auc(y[i], preds[k][i]) - a0)
    return {k: float(np.std(v, ddof=1)) for k, v in diffs.items()}


def _gains(models: dict[str, dict[str, Any]], se: dict[str, float]) -> dict[str, dict[str, Any]]:
    kgb, top = models["kgb"], models["all_applicants"]
    out = {}
    for name in ("fuzzy", "parcelling"):
        m = models[name]
        out[name] = {
            "auc_gain": m["auc"] - kgb["auc"], "auc_gain_se": se[name], "ks_gain": m["ks"] - kgb["ks"],
            "auc_gap_to_all_applicants": top["auc"] - kgb["auc"], "auc_gap_se": se["all_applicants"],
            "auc_would_decline_gain": m["auc_would_decline"] - kgb["auc_would_decline"],
            "abs_calibration_gap_reduction": abs(kgb["calibration_gap"]) - abs(m["calibration_gap"]),
            "auc_gap_closed": _share(m["auc"], kgb["auc"], top["auc"]),
            "ks_gap_closed": _share(m["ks"], kgb["ks"], top["ks"]),
            "calibration_gap_closed": _share(-abs(m["calibration_gap"]), -abs(kgb["calibration_gap"]),
                                             -abs(top["calibration_gap"])),
        }  # fmt: skip
    return out


def measure_reject_inference(ts: TrainingSet, config: RejectMeasureConfig | None = None, *,
                             console: Console | None = None) -> dict[str, Any]:  # fmt: skip
    """Simulate the legacy policy on `ts.train`, fit KGB / fuzzy / parcelling / all-applicants scorecards and
    evaluate them on the whole of `ts.test` (see the module docstring)."""
    cfg = config or RejectMeasureConfig()
    say = console.print if console is not None else (lambda *_a, **_k: None)
    train, test = ts.train, ts.test
    pool = [f for f in ts.features if cfg.include is None or f in cfg.include]
    feats = [f for f in pool if train[f].nunique(dropna=False) > 1]
    if not feats:
        raise ValidationError("no non-constant feature to model", code="no_features")
    rng = np.random.default_rng(cfg.seed)
    policy = choose_legacy_policy(train, feats, ts.kinds, cfg.legacy_features)
    risk_tr, scale = legacy_score(train, policy, cfg, rng)
    ok = approve(train["as_of"], risk_tr, cfg.approval_rate)
    risk_te, _ = legacy_score(test, policy, cfg, rng, scale)
    declined_te = ~approve(test["as_of"], risk_te, cfg.approval_rate)
    y_tr = train["label"].to_numpy()
    y_te = test["label"].to_numpy()
    acc, rej = train.loc[ok, feats].reset_index(drop=True), train.loc[~ok, feats].reset_index(drop=True)
    y_acc, y_rej = y_tr[ok], y_tr[~ok]
    trends = ts.trends if cfg.use_trends else {}
    sc_cfg = replace(cfg.scorecard, binning=replace(cfg.scorecard.binning,
                     trends={**trends, **cfg.scorecard.binning.trends}))  # fmt: skip
    say(f"legacy policy on {policy.features}: approved {int(ok.sum()):,} of {ok.size:,} train applicants")

    fitted: dict[str, Scorecard] = {}
    seconds: dict[str, float] = {}

    def fit(name: str, df: pd.DataFrame, y: np.ndarray, w: np.ndarray | None) -> Scorecard:
        t0 = time.perf_counter()
        fitted[name] = Scorecard.fit(df, y, features=feats, kinds=ts.kinds, config=sc_cfg, sample_weight=w)
        seconds[name] = round(time.perf_counter() - t0, 2)
        say(f"  {name}: {len(fitted[name].features)} features, {len(df):,} rows, {seconds[name]:.1f} s")
        return fitted[name]

    kgb = fit("kgb", acc, y_acc, None)
    pd_acc, pd_rej = kgb.predict_pd(acc), kgb.predict_pd(rej)
    fz = fuzzy_augmentation(acc, y_acc, rej, pd_rej, reject_weight=cfg.reject_weight)
    fit("fuzzy", fz.frame, fz.labels, fz.weights)
    pc = parcelling(acc, y_acc, rej, pd_acc, pd_rej, bands=cfg.parcel_bands, uplift=cfg.parcel_uplift,
                    reject_weight=cfg.reject_weight, seed=cfg.seed)  # fmt: skip
    fit("parcelling", pc.frame, pc.labels, pc.weights)
    fit("all_applicants", train[feats], y_tr, None)

    true_pd = test["true_pd_12m"].to_numpy()
    models = {}
    preds = {name: fitted[name].predict_pd(test[feats]) for name in METHODS}
    for name in METHODS:
        r = _evaluate(y_te, preds[name], declined_te)
        r["features_used"] = len(fitted[name].features)
        r["fit_seconds"] = seconds[name]
        models[name] = r
    bands = pc.bands.copy() if pc.bands is not None else pd.DataFrame()
    if not bands.empty:  # the truth beside the assumption: what the band's rejects actually did
        band_r = np.searchsorted(bands["pd_to"].to_numpy()[:-1], pd_rej, side="right")
        bands["true_reject_bad_rate"] = [float(y_rej[band_r == b].mean()) if (band_r == b).any() else None
                                         for b in range(len(bands))]  # fmt: skip
    return {
        "trainset": ts.describe(),
        "settings": {"approval_rate": cfg.approval_rate, "legacy_features": cfg.legacy_features,
                     "legacy_noise": cfg.legacy_noise, "soft_info": cfg.soft_info,
                     "reject_weight": cfg.reject_weight, "parcel_bands": cfg.parcel_bands,
                     "parcel_uplift": cfg.parcel_uplift, "seed": cfg.seed, "features": len(feats)},
        "legacy_policy": {"features": policy.features, "signs": policy.signs, "feature_auc": policy.train_auc,
                          "train_auc": metrics.auc(y_tr, risk_tr)},
        "sample": {"train_applicants": int(ok.size), "approved": int(ok.sum()), "rejected": int((~ok).sum()),
                   "ttd_bad_rate": float(y_tr.mean()), "approved_bad_rate": float(y_acc.mean()),
                   "rejected_true_bad_rate": float(y_rej.mean()) if y_rej.size else None,
                   "kgb_mean_pd_on_rejects": float(pd_rej.mean()) if y_rej.size else None,
                   "kgb_auc_on_rejects": metrics.auc(y_rej, pd_rej) if 0 < y_rej.sum() < y_rej.size else None,
                   "fuzzy_inferred_reject_bad_rate": fz.inferred_bad_rate,
                   "parcelling_inferred_reject_bad_rate": pc.inferred_bad_rate,
                   "test_applicants": int(y_te.size), "test_would_decline": int(declined_te.sum())},
        "oracle": {"auc": metrics.auc(y_te, true_pd), "ks": metrics.ks(y_te, true_pd),
                   "mean_pd": float(true_pd.mean())},
        "models": models,
        "gains": _gains(models, auc_gain_se(y_te, preds, "kgb", groups=test["uscc"].to_numpy(), seed=cfg.seed)),
        "parcelling_bands": [{k: (None if isinstance(v, float) and not np.isfinite(v) else v) for k, v in r.items()}
                             for r in bands.to_dict(orient="records")],
    }  # fmt: skip


def measure_universe(home: Path, config: RejectMeasureConfig | None = None, *,
                     console: Console | None = None) -> dict[str, Any]:  # fmt: skip
    """Build the training set under `home` (running missing indicator batches) and measure; adds timings."""
    cfg = config or RejectMeasureConfig()
    if not (Path(home) / "truth" / "health_monthly").exists():  # trainset would raise a bare FileNotFoundError
        raise NotFound(f"no synthetic universe under {home} (truth/health_monthly missing): run `puhui synth` first",
                       code="no_truth", home=str(home))  # fmt: skip
    t0 = time.perf_counter()
    ts = build_trainset(Path(home), cfg.trainset, console=console)
    t1 = time.perf_counter()
    out = measure_reject_inference(ts, cfg, console=console)
    out["seconds"] = {"trainset": round(t1 - t0, 2), "models": round(time.perf_counter() - t1, 2),
                      "total": round(time.perf_counter() - t0, 2)}  # fmt: skip
    return out
