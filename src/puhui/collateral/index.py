"""Monthly house-price indices (房价指数) that bring an old deal to the valuation date: a city → district →
compound (小区) hierarchy of smoothed log paths, and a Bailey–Muth–Nourse repeat-sales index as an
independent check.

The hierarchy is estimated from hedonic residuals (hedonic time dummies, avm_scf.md A2.1): the caller
removes what a sale's unit and compound explain and hands the rest here; each level is a monthly path
fitted by penalised least squares — a random-walk penalty between neighbouring months (so a month
without sales borrows from its neighbours) and, below the city, a ridge penalty towards zero (so a
district or compound with few sales follows its city: shrinkage where data is thin). Both penalties
are variance ratios σ²(noise) / σ²(innovation), which keeps them interpretable. The repeat-sales index
is the classic BMN regression of log price relatives on period dummies with the Case–Shiller
interval weighting (residual variance grows with the time between sales, avm_scf.md A2.2). Pure
numpy, no I/O.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from puhui.core.errors import ValidationError

__all__ = ["HierarchicalIndex", "RepeatSalesIndex", "repeat_sales_index", "smooth_paths"]


def smooth_paths(
    group: np.ndarray,
    month: np.ndarray,
    resid: np.ndarray,
    n_groups: int,
    n_months: int,
    rw_penalty: float,
    level_penalty: float = 0.0,
    weight: np.ndarray | None = None,
) -> np.ndarray:
    """One monthly path per group, shape (n_groups, n_months): the minimiser of

        Σ_i w_i (resid_i − f_{g(i)}(t_i))² + rw_penalty Σ_t (f_t − f_{t−1})² + level_penalty Σ_t f_t²

    solved exactly for all groups at once (a tridiagonal system per group, Thomas algorithm vectorised
    over groups). Rows with group < 0 are ignored. A group with no data gets a zero path.
    """
    if rw_penalty < 0 or level_penalty < 0:
        raise ValidationError("penalties must be >= 0", code="invalid_index_setting")
    ok = group >= 0
    g, t, r = group[ok], month[ok], resid[ok]
    w = np.ones(len(g)) if weight is None else weight[ok]
    flat = g * n_months + t
    wsum = np.bincount(flat, weights=w, minlength=n_groups * n_months).reshape(n_groups, n_months)
    rhs = np.bincount(flat, weights=w * r, minlength=n_groups * n_months).reshape(n_groups, n_months)
    lam = float(rw_penalty)
    diag = wsum + level_penalty + 1e-9
    if n_months > 1:
        diag[:, 0] += lam
        diag[:, -1] += lam
        diag[:, 1:-1] += 2 * lam
    off = -lam  # the same sub- and super-diagonal everywhere
    # forward sweep
    c = np.zeros((n_groups, n_months))
    d = np.zeros((n_groups, n_months))
    c[:, 0] = off / diag[:, 0]
    d[:, 0] = rhs[:, 0] / diag[:, 0]
    for k in range(1, n_months):  # a loop over months (≤ a few hundred), vectorised over groups
        den = diag[:, k] - off * c[:, k - 1]
        c[:, k] = off / den
        d[:, k] = (rhs[:, k] - off * d[:, k - 1]) / den
    f = np.zeros((n_groups, n_months))
    f[:, -1] = d[:, -1]
    for k in range(n_months - 2, -1, -1):
        f[:, k] = d[:, k] - c[:, k] * f[:, k + 1]
    return f


@dataclass(frozen=True)
class HierarchicalIndex:
    """Log price paths per city, district and compound over months 0 … n_months−1 of `first_month`.

    The log index of a compound at month t is city(t) + district(t) + compound(t); an unknown district or
    compound (index −1) contributes zero, i.e. follows its parent. Past the last month the level is held
    and the city's recent trend (slope over the last `trend_window` months) is continued with damping
    `trend_damping` per month (0 = hold the last level).
    """

    first_month: np.datetime64  # datetime64[M]
    city: np.ndarray  # (n_cities, n_months)
    district: np.ndarray  # (n_districts, n_months)
    compound: np.ndarray  # (n_compounds, n_months)
    trend_damping: float = 0.0
    trend_window: int = 6

    @property
    def n_months(self) -> int:
        return int(self.city.shape[1])

    @property
    def last_month(self) -> np.datetime64:
        return self.first_month + np.timedelta64(self.n_months - 1, "M")

    def month_of(self, days: np.ndarray) -> np.ndarray:
        """Month number (0 = first month; may be negative or past the end) of dates as days since 1970."""
        m = np.asarray(days, dtype="int64").astype("datetime64[D]").astype("datetime64[M]")
        return (m - self.first_month).astype(np.int64)

    def log_index(self, city: np.ndarray, district: np.ndarray, compound: np.ndarray, month: np.ndarray) -> np.ndarray:
        """ln I at integer `month` numbers for each row (city index must be valid; others may be −1)."""
        month = np.asarray(month, dtype=np.int64)
        last = self.n_months - 1
        inside = np.clip(month, 0, last)
        out = self.city[city, inside].copy()
        d_ok = district >= 0
        out[d_ok] += self.district[district[d_ok], inside[d_ok]]
        c_ok = compound >= 0
        out[c_ok] += self.compound[compound[c_ok], inside[c_ok]]
        ahead = np.maximum(month - last, 0)
        if self.trend_damping > 0 and ahead.any():
            k = min(self.trend_window, last)
            slope = (self.city[:, last] - self.city[:, last - k]) / max(k, 1)
            phi = self.trend_damping
            steps = phi * (1 - phi**ahead) / (1 - phi) if phi < 1 else ahead.astype(float)
            out += slope[city] * steps
        return out

    def city_index(self, city: int, base_month: int = 0) -> np.ndarray:
        """The city's index as levels with `base_month` = 100 (for reports)."""
        p = self.city[city]
        return 100.0 * np.exp(p - p[base_month])


@dataclass(frozen=True)
class RepeatSalesIndex:
    """A repeat-sales log index: `log_index[t]` with month 0 = 0, and its standard errors."""

    log_index: np.ndarray
    std_error: np.ndarray
    n_pairs: int

    def level(self, base: int = 0) -> np.ndarray:
        return 100.0 * np.exp(self.log_index - self.log_index[base])


def repeat_sales_index(
    month1: np.ndarray,
    month2: np.ndarray,
    log_price1: np.ndarray,
    log_price2: np.ndarray,
    n_months: int,
    *,
    interval_weighted: bool = True,
    ridge: float = 1e-6,
) -> RepeatSalesIndex:
    """Bailey–Muth–Nourse (1963) repeat-sales index; with `interval_weighted`, Case–Shiller's three-stage
    weighting: OLS, then regress the squared residuals on the interval between the sales, then weighted
    least squares with weights 1 / fitted variance (S&P CoreLogic Case–Shiller methodology; avm_scf.md A2.2).

    ln(P2 / P1) = g(t2) − g(t1) + e, g(0) = 0. Months without any pair are identified only through the
    tiny `ridge` (their standard error is large); callers should pool such months or smooth.
    """
    m1 = np.asarray(month1, dtype=np.int64)
    m2 = np.asarray(month2, dtype=np.int64)
    dy = np.asarray(log_price2, dtype=np.float64) - np.asarray(log_price1, dtype=np.float64)
    n = len(dy)
    if not (len(m1) == len(m2) == n):
        raise ValidationError("repeat-sales arrays differ in length", code="invalid_index_input")
    if n == 0:
        raise ValidationError("a repeat-sales index needs at least one pair", code="invalid_index_input")
    if (m1 < 0).any() or (m2 >= n_months).any() or (m2 <= m1).any():
        raise ValidationError(
            "each pair needs 0 <= month1 < month2 < n_months", code="invalid_index_input", n_months=n_months
        )
    x = np.zeros((n, n_months - 1))
    rows = np.arange(n)
    has1 = m1 > 0
    x[rows[has1], m1[has1] - 1] -= 1.0
    x[rows, m2 - 1] += 1.0

    def wls(w: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        xtw = x.T * w
        a = xtw @ x + ridge * np.eye(n_months - 1)
        beta = np.linalg.solve(a, xtw @ dy)
        resid = dy - x @ beta
        return beta, resid, a

    w = np.ones(n)
    beta, resid, a = wls(w)
    if interval_weighted and n > 3:
        gap = (m2 - m1).astype(np.float64)
        design = np.column_stack([np.ones(n), gap])
        coef, *_ = np.linalg.lstsq(design, resid**2, rcond=None)
        var = design @ coef
        floor = max(float(np.mean(resid**2)) * 0.05, 1e-8)
        w = 1.0 / np.maximum(var, floor)
        beta, resid, a = wls(w)
    dof = max(n - (n_months - 1), 1)
    sigma2 = float(np.sum(w * resid**2) / dof)
    cov = sigma2 * np.linalg.inv(a)
    se = np.sqrt(np.clip(np.diag(cov), 0.0, None))
    return RepeatSalesIndex(np.concatenate([[0.0], beta]), np.concatenate([[0.0], se]), n)
