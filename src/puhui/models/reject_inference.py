"""Reject inference (拒绝推断): fuzzy augmentation and parcelling, plus a sample-weighted scorecard fit.

Owns the step from approved loans with known outcomes (the "known good/bad", KGB, sample) and declined
applicants without outcomes to an augmented training set: frame, labels (1 = bad) and sample weights.
Both methods start from the KGB model's probability of default (PD) for each applicant, following Siddiqi
(Credit Risk Scorecards, 2006, "Reject Inference") and Ehrhardt et al. ("Reject inference methods in credit
scoring", Journal of Applied Statistics, 2021; R package scoringTools):

* **fuzzy augmentation** (模糊扩充): every reject enters twice, once as bad with weight PD·w and once as good
  with weight (1 − PD)·w, where w is the reject weight; approved rows keep weight 1.
* **parcelling** (打包法): score bands are cut at quantiles of the KGB PD over the approved applicants; each
  band's observed KGB bad rate, times an uplift factor (rejects are assumed worse than approved applicants
  of the same score) and capped at 1, is the share of the band's rejects labelled bad — exactly
  round(n·rate) of them, chosen at random with a fixed seed; each reject enters once with weight w.

The functions are pure (numpy/pandas in, an `Augmented` out). `Scorecard.fit` takes no sample weights, so
`fit_weighted_scorecard` refits the same pipeline with weights (optbinning's `sample_weight`, weighted bin
counts and WoE, the same IV/correlation/VIF selection, scikit-learn's weighted logistic regression, the same
points); with unit weights it reproduces `Scorecard.fit`.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass

import numpy as np
import pandas as pd

from puhui.core.errors import ValidationError
from puhui.models.binning import (
    BinningConfig,
    FrozenBinning,
    Kind,
    _iv,
    categorical_column,
    numeric_column,
    woe_from_counts,
)
from puhui.models.dataset import infer_kinds
from puhui.models.scorecard import Scorecard, ScorecardConfig, _select

__all__ = ["Augmented", "fit_weighted_binning", "fit_weighted_scorecard", "fuzzy_augmentation", "parcelling"]


@dataclass(frozen=True)
class Augmented:
    """An augmented training set: approved rows first, then the inferred reject rows.

    `origin` is "accepted" or "reject" per row; `inferred_bad_rate` is the weighted bad rate the method
    assumes for the rejects; `bands` (parcelling only) lists each score band's PD range, approved count,
    observed bad rate, target reject bad rate, reject count and the bads assigned.
    """

    frame: pd.DataFrame
    labels: np.ndarray
    weights: np.ndarray
    origin: np.ndarray
    inferred_bad_rate: float
    bands: pd.DataFrame | None = None

    def __len__(self) -> int:
        return len(self.labels)


def _check_inputs(accepted: pd.DataFrame, y_accepted: np.ndarray, rejected: pd.DataFrame, reject_weight: float,
                  **pds: np.ndarray) -> np.ndarray:  # fmt: skip
    y = np.asarray(y_accepted, dtype=int)
    if y.shape != (len(accepted),):
        raise ValidationError(f"{len(accepted)} approved rows but {y.size} labels", code="length_mismatch")
    if not np.isin(y, (0, 1)).all():
        raise ValidationError("approved labels must be 0 (good) or 1 (bad)", code="non_binary_target")
    if list(accepted.columns) != list(rejected.columns):
        raise ValidationError("approved and rejected frames must have the same columns in the same order",
                              code="column_mismatch", accepted=list(accepted.columns),
                              rejected=list(rejected.columns))  # fmt: skip
    if not (np.isfinite(reject_weight) and reject_weight > 0):
        raise ValidationError(f"reject_weight must be positive, not {reject_weight}", code="invalid_reject_weight")
    for name, p in pds.items():
        want = len(rejected) if name.endswith("rejected") else len(accepted)
        if p.shape != (want,):
            raise ValidationError(f"{name} has {p.size} values for {want} rows", code="length_mismatch", what=name)
        if not (np.isfinite(p).all() and (p >= 0).all() and (p <= 1).all()):
            raise ValidationError(f"{name} must hold probabilities in [0, 1]", code="invalid_pd", what=name)
    return y


def fuzzy_augmentation(accepted: pd.DataFrame, y_accepted: np.ndarray, rejected: pd.DataFrame,
                       pd_rejected: np.ndarray, *, reject_weight: float = 1.0) -> Augmented:  # fmt: skip
    """Approved rows (weight 1), then each reject twice: as bad with weight PD·w, as good with (1 − PD)·w."""
    p = np.asarray(pd_rejected, dtype=float)
    y = _check_inputs(accepted, y_accepted, rejected, reject_weight, pd_rejected=p)
    n_r = len(rejected)
    frame = pd.concat([accepted, rejected, rejected], ignore_index=True)
    labels = np.concatenate([y, np.ones(n_r, dtype=int), np.zeros(n_r, dtype=int)])
    weights = np.concatenate([np.ones(len(y)), p * reject_weight, (1.0 - p) * reject_weight])
    origin = np.array(["accepted"] * len(y) + ["reject"] * (2 * n_r), dtype=object)
    return Augmented(frame=frame, labels=labels, weights=weights, origin=origin,
                     inferred_bad_rate=float(p.mean()) if n_r else float("nan"))  # fmt: skip


def parcelling(accepted: pd.DataFrame, y_accepted: np.ndarray, rejected: pd.DataFrame, pd_accepted: np.ndarray,
               pd_rejected: np.ndarray, *, bands: int = 10, uplift: float = 1.0, reject_weight: float = 1.0,
               seed: int = 0) -> Augmented:  # fmt: skip
    """Approved rows, then each reject once (weight w) with a label drawn per KGB score band.

    Band edges are the interior `bands`-quantiles of the approved PDs (ties merge bands); a reject falls in
    the band of its PD. In a band with approved bad rate r, round(n·min(1, r·uplift)) of its n rejects, chosen
    by a seeded permutation, are bad; the rest are good.
    """
    pa = np.asarray(pd_accepted, dtype=float)
    pr = np.asarray(pd_rejected, dtype=float)
    y = _check_inputs(accepted, y_accepted, rejected, reject_weight, pd_accepted=pa, pd_rejected=pr)
    if bands < 1:
        raise ValidationError(f"bands must be ≥ 1, not {bands}", code="invalid_bands")
    if not (np.isfinite(uplift) and uplift > 0):
        raise ValidationError(f"uplift must be positive, not {uplift}", code="invalid_uplift")
    if len(accepted) == 0:
        raise ValidationError("parcelling needs approved applicants with outcomes", code="no_accepted")
    edges = np.unique(np.quantile(pa, np.linspace(0, 1, bands + 1))[1:-1])
    band_a = np.searchsorted(edges, pa, side="right")
    band_r = np.searchsorted(edges, pr, side="right")
    rng = np.random.default_rng(seed)
    y_r = np.zeros(len(rejected), dtype=int)
    lo = np.concatenate([[-np.inf], edges])
    hi = np.concatenate([edges, [np.inf]])
    rows = []
    for b in range(edges.size + 1):
        in_a = band_a == b
        rate = float(y[in_a].mean()) if in_a.any() else float("nan")
        target = min(1.0, rate * uplift) if in_a.any() else float("nan")
        idx = np.flatnonzero(band_r == b)
        k = round(target * idx.size) if idx.size else 0
        y_r[rng.permutation(idx)[:k]] = 1
        rows.append({"band": b + 1, "pd_from": float(lo[b]), "pd_to": float(hi[b]), "accepted": int(in_a.sum()),
                     "accepted_bad_rate": rate, "target_bad_rate": target, "rejects": int(idx.size),
                     "rejects_bad": int(k)})  # fmt: skip
    frame = pd.concat([accepted, rejected], ignore_index=True)
    return Augmented(frame=frame, labels=np.concatenate([y, y_r]),
                     weights=np.concatenate([np.ones(len(y)), np.full(len(rejected), float(reject_weight))]),
                     origin=np.array(["accepted"] * len(y) + ["reject"] * len(rejected), dtype=object),
                     inferred_bad_rate=float(y_r.mean()) if len(rejected) else float("nan"),
                     bands=pd.DataFrame(rows))  # fmt: skip


# ---- sample-weighted scorecard (Scorecard.fit has no sample_weight) ----


def _weighted_freeze(proto: FrozenBinning, s: pd.Series, y: np.ndarray, w: np.ndarray) -> FrozenBinning:
    """Bin counts and bads as weight sums (stored rounded, as the frozen format holds integers); WoE from the
    unrounded weighted sums with the binning module's smoothing."""
    idx = proto.bin_index(s)
    n = proto.n_regular + 2
    counts = np.bincount(idx, weights=w, minlength=n)
    events = np.bincount(idx, weights=w * y, minlength=n)
    woe = woe_from_counts(counts, events)
    return FrozenBinning(proto.name, proto.kind, proto.splits, proto.groups, proto.special_codes,
                         tuple(round(float(c)) for c in counts), tuple(round(float(e)) for e in events),
                         tuple(float(v) for v in woe), proto.source)  # fmt: skip


def fit_weighted_binning(s: pd.Series, y: np.ndarray, w: np.ndarray, *, name: str, kind: Kind,
                         config: BinningConfig) -> tuple[FrozenBinning, float]:  # fmt: skip
    """One feature's optimal bins on weighted rows (optbinning `sample_weight`) and its weighted IV.

    Mirrors `binning.fit_binning` (trends, special codes, ±inf handling, quantile fallback when optbinning
    fails); manual `user_splits` are honoured.
    """
    from optbinning import OptimalBinning

    specials = tuple(float(c) for c in config.special_codes) if kind == "numerical" else ()
    manual = config.user_splits.get(name)
    trend = config.trends.get(name, config.default_trend)
    if kind == "categorical" and trend in ("ascending", "descending"):
        trend = "auto_asc_desc"
    splits: tuple[float, ...] = ()
    groups: tuple[tuple[str, ...], ...] = ()
    source = "optbinning"
    if manual is not None:
        source = "manual"
        if kind == "numerical":
            splits = tuple(sorted(float(v) for v in manual))
        else:
            groups = tuple(tuple(str(c) for c in g) for g in manual)
    else:
        ob = OptimalBinning(name=name, dtype=kind, monotonic_trend=trend, max_n_bins=config.max_n_bins,
                            min_bin_size=config.min_bin_size,
                            special_codes=list(specials) if specials else None)  # fmt: skip
        try:
            if kind == "numerical":
                x = numeric_column(s, name)
                finite = x[np.isfinite(x)]
                if finite.size and np.isinf(x).any():
                    x = np.where(x == np.inf, finite.max(), np.where(x == -np.inf, finite.min(), x))
                lim = float(np.finfo(np.float32).max) / 4
                ob.fit(np.clip(x, -lim, lim), y, sample_weight=w)
                splits = tuple(float(v) for v in ob.splits)
            else:
                keys = categorical_column(s)
                ob.fit(np.array([np.nan if k is None else k for k in keys], dtype=object), y, sample_weight=w)
                groups = tuple(tuple(str(c) for c in g) for g in ob.splits)
        except (ValueError, RuntimeError, TypeError, ArithmeticError) as e:
            source = f"fallback ({type(e).__name__}: {e})"[:210]
            if kind == "numerical":
                x = numeric_column(s, name)
                x = x[np.isfinite(x) & ~np.isin(x, np.asarray(specials, dtype=float))]
                qs = np.unique(np.quantile(x, np.linspace(0, 1, config.max_n_bins + 1))[1:-1]) if x.size else []
                splits = tuple(float(q) for q in qs)
            else:
                groups = tuple((c,) for c in sorted({k for k in categorical_column(s) if k is not None}))
    proto = FrozenBinning(name, kind, splits, groups, specials, (), (), (), source)
    fb = _weighted_freeze(proto, s, y, w)
    idx = proto.bin_index(s)
    n = proto.n_regular + 2
    iv = _iv(np.bincount(idx, weights=w, minlength=n), np.bincount(idx, weights=w * y, minlength=n))
    return fb, iv


def fit_weighted_scorecard(df: pd.DataFrame, y: np.ndarray, weights: np.ndarray | None = None, *,
                           features: Iterable[str] | None = None, kinds: Mapping[str, str] | None = None,
                           config: ScorecardConfig | None = None) -> Scorecard:  # fmt: skip
    """`Scorecard.fit` with sample weights: weighted bins, WoE and IV, weighted logistic regression.

    Selection (IV floor/ceiling, correlation, VIF, coefficient sign) and scaling are the scorecard module's
    own; the result is an ordinary `Scorecard` (scoring, exports, save/load unchanged).
    """
    from sklearn.linear_model import LogisticRegression

    cfg = config or ScorecardConfig()
    feats = list(features) if features is not None else list(df.columns)
    kinds = dict(kinds) if kinds is not None else infer_kinds(df, feats)
    y = np.asarray(y, dtype=int)
    w = np.ones(y.size) if weights is None else np.asarray(weights, dtype=float)
    if w.shape != y.shape or len(df) != y.size:
        raise ValidationError(f"{len(df)} rows, {y.size} labels and {w.size} weights must match",
                              code="length_mismatch")  # fmt: skip
    if not (np.isfinite(w).all() and (w >= 0).all() and w.sum() > 0):
        raise ValidationError("sample weights must be finite, non-negative and not all zero", code="invalid_weights")
    keep = w > 0
    if not keep.all():
        df, y, w = df.loc[keep].reset_index(drop=True), y[keep], w[keep]
    all_bins: dict[str, FrozenBinning] = {}
    iv: dict[str, float] = {}
    for f in feats:
        all_bins[f], iv[f] = fit_weighted_binning(df[f], y, w, name=f, kind=kinds[f], config=cfg.binning)  # type: ignore[arg-type]
    selection: dict[str, str] = {}
    kept, woe = _select(df, all_bins, iv, cfg, selection)
    if not kept:
        raise ValidationError("no feature passed selection (IV, correlation, VIF); nothing to fit",
                              code="no_features", dropped=selection)  # fmt: skip
    while True:
        lr = LogisticRegression(C=cfg.c, max_iter=1000)
        lr.fit(np.column_stack([woe[f] for f in kept]), y, sample_weight=w)
        coefs = lr.coef_[0]
        wrong = [i for i, c in enumerate(coefs) if c > 0]
        if not wrong or len(kept) == 1:
            break
        i = max(wrong, key=lambda i: coefs[i])
        selection[kept[i]] = f"dropped: coefficient sign {coefs[i]:+.4f} contradicts WoE"
        kept.pop(i)
    for f in kept:
        selection[f] = f"selected: IV {iv[f]:.4f}"
    card = Scorecard(features=kept, bins={f: all_bins[f] for f in kept},
                     coef={f: float(c) for f, c in zip(kept, coefs, strict=True)},
                     intercept=float(lr.intercept_[0]), points={}, base_score=cfg.base_score,
                     base_odds=cfg.base_odds, pdo=cfg.pdo, names=dict(cfg.names), selection=selection,
                     all_bins=all_bins, inputs=feats)  # fmt: skip
    card.points = card._scale(cfg.point_decimals)
    return card
