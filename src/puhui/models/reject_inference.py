"""Reject inference (拒绝推断): fuzzy augmentation and parcelling.

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

The functions are pure (numpy/pandas in, an `Augmented` out); fit a scorecard on the result with
`Scorecard.fit(frame, labels, sample_weight=weights)`.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from puhui.core.errors import ValidationError

__all__ = ["Augmented", "fuzzy_augmentation", "parcelling"]


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
