"""Discrimination, calibration and stability metrics for credit models (pure numpy/scipy).

Owns the numbers a model is judged by: AUC (Mann–Whitney rank statistic, ties counted half), Gini
(= 2·AUC − 1, accuracy ratio), KS (largest gap between the cumulative score distributions of bads and
goods), calibration by decile, the Jeffreys test per grade (ECB instructions for reporting the validation
results of internal models, 2019, §2.5.3.1: p = Beta(D + ½, N − D + ½) CDF at the grade PD; a small p means
the PD is too low), lift and gain tables, and the population stability index
PSI = Σ (a_i − e_i)·ln(a_i / e_i) over bins frozen on the reference sample (Siddiqi 2006, ch. 8).
Convention: `y` is 1 for bad, `pd_` is a probability of default (higher = riskier).
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from scipy.stats import beta, rankdata

from puhui.core.errors import ValidationError

PSI_EPS = 1e-4


def _check(y: np.ndarray, s: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    y = np.asarray(y, dtype=int)
    s = np.asarray(s, dtype=float)
    if y.shape != s.shape:
        raise ValidationError(f"labels and scores differ in length ({y.size} vs {s.size})", code="length_mismatch")
    if y.min(initial=0) < 0 or y.max(initial=0) > 1 or y.sum() in (0, y.size):
        raise ValidationError("AUC/KS need both bads (1) and goods (0)", code="constant_target")
    return y, s


def auc(y: np.ndarray, pd_: np.ndarray) -> float:
    """Area under the ROC curve of `pd_` for bads (Mann–Whitney U / (n_bad·n_good))."""
    y, s = _check(y, pd_)
    r = rankdata(s)
    nb = int(y.sum())
    ng = y.size - nb
    return float((r[y == 1].sum() - nb * (nb + 1) / 2) / (nb * ng))


def gini(y: np.ndarray, pd_: np.ndarray) -> float:
    return 2.0 * auc(y, pd_) - 1.0


def ks(y: np.ndarray, pd_: np.ndarray) -> float:
    """Kolmogorov–Smirnov statistic: max |F_bad(t) − F_good(t)| over all thresholds t."""
    y, s = _check(y, pd_)
    grid = np.unique(s)
    fb = np.searchsorted(np.sort(s[y == 1]), grid, side="right") / y.sum()
    fg = np.searchsorted(np.sort(s[y == 0]), grid, side="right") / (y.size - y.sum())
    return float(np.max(np.abs(fb - fg)))


def _deciles(pd_: np.ndarray, n: int) -> np.ndarray:
    """Group 0 = riskiest tenth; ties split by position (stable sort) so groups are equal-sized."""
    order = np.argsort(-pd_, kind="stable")
    g = np.empty(pd_.size, dtype=int)
    g[order] = np.arange(pd_.size) * n // pd_.size
    return g


def calibration_by_decile(y: np.ndarray, pd_: np.ndarray, n: int = 10) -> pd.DataFrame:
    """Mean predicted PD vs observed bad rate per decile of PD (decile 1 = riskiest)."""
    y, s = np.asarray(y, dtype=int), np.asarray(pd_, dtype=float)
    g = _deciles(s, n)
    rows = [{"decile": k + 1, "n": int((g == k).sum()), "mean_pd": float(s[g == k].mean()),
             "bad_rate": float(y[g == k].mean()), "bads": int(y[g == k].sum())}
            for k in range(n) if (g == k).any()]  # fmt: skip
    return pd.DataFrame(rows)


def lift_gain(y: np.ndarray, pd_: np.ndarray, n: int = 10) -> pd.DataFrame:
    """Lift and cumulative gain (share of all bads captured) by decile, riskiest first."""
    t = calibration_by_decile(y, pd_, n)
    base = float(np.mean(y))
    t["lift"] = t["bad_rate"] / base
    t["cum_gain"] = t["bads"].cumsum() / int(np.sum(y))
    t["cum_lift"] = t["cum_gain"] / (t["n"].cumsum() / t["n"].sum())
    return t


def jeffreys_pvalue(defaults: int, n: int, pd_: float) -> float:
    """One-sided Jeffreys test p-value: Beta(D + ½, N − D + ½).cdf(PD). Small p ⇒ PD underestimates risk."""
    if n <= 0 or not 0 <= defaults <= n:
        raise ValidationError(f"Jeffreys test needs 0 ≤ defaults ≤ n, n > 0 (got {defaults}, {n})",
                              code="invalid_counts")  # fmt: skip
    return float(beta.cdf(pd_, defaults + 0.5, n - defaults + 0.5))


def jeffreys_by_grade(y: np.ndarray, pd_: np.ndarray, grades: np.ndarray, alpha: float = 0.05) -> pd.DataFrame:
    """Per grade: count, defaults, mean PD, observed rate, Jeffreys p-value and whether it rejects at alpha."""
    y, s, g = np.asarray(y, dtype=int), np.asarray(pd_, dtype=float), np.asarray(grades)
    rows = []
    for grade in pd.unique(g):
        m = g == grade
        n, d, p = int(m.sum()), int(y[m].sum()), float(s[m].mean())
        pv = jeffreys_pvalue(d, n, p)
        rows.append({"grade": grade, "n": n, "defaults": d, "mean_pd": p, "default_rate": d / n,
                     "p_value": pv, "reject": pv < alpha})  # fmt: skip
    return pd.DataFrame(rows)


def psi(expected: np.ndarray, actual: np.ndarray, *, bins: int | np.ndarray = 10) -> float:
    """PSI of `actual` against `expected`, with quantile edges frozen on `expected` (or given `edges`).

    Empty cells are floored at 1e-4 so the logarithm stays finite (common industry practice).
    """
    e = np.asarray(expected, dtype=float)
    a = np.asarray(actual, dtype=float)
    if isinstance(bins, int):
        edges = np.unique(np.quantile(e, np.linspace(0, 1, bins + 1))[1:-1])
    else:
        edges = np.asarray(bins, dtype=float)
    ne = np.bincount(np.searchsorted(edges, e, side="right"), minlength=edges.size + 1) / e.size
    na = np.bincount(np.searchsorted(edges, a, side="right"), minlength=edges.size + 1) / a.size
    return psi_from_shares(ne, na)


def psi_from_shares(expected: np.ndarray, actual: np.ndarray) -> float:
    """PSI from bin shares already computed: Σ (a − e)·ln(a / e)."""
    e = np.maximum(np.asarray(expected, dtype=float), PSI_EPS)
    a = np.maximum(np.asarray(actual, dtype=float), PSI_EPS)
    return float(np.sum((a - e) * np.log(a / e)))


def summary(y: np.ndarray, pd_: np.ndarray) -> dict[str, float]:
    """AUC, Gini, KS, bad rate and row count."""
    a = auc(y, pd_)
    return {"auc": a, "gini": 2 * a - 1, "ks": ks(y, pd_), "bad_rate": float(np.mean(y)), "rows": int(np.size(y))}
