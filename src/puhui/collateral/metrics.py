"""Ratio-study metrics of a valuation against sale prices (评估准确性): the IAAO level, uniformity and
vertical-equity statistics and the AVM industry's error shares, on plain numpy arrays.

Every statistic is computed on the ratio r_i = estimate_i / sale_price_i (IAAO Standard on Ratio
Studies, 2013, §9; formulas as in ccao-data/assesspy `assesspy/metrics.py`, see
`shared/reference/avm_scf.md` A1): median ratio (level), COD (uniformity), PRD and PRB (vertical equity),
APE / MdAPE, PPE10 / PPE20 ("within x % of the sale price") and the hit rate (share of requested
properties that received a value). Nothing here trims outliers unless asked (`trim_outliers`, IAAO
Appendix B.1, 3 × IQR), so a reported COD is the honest, untrimmed one by default. Pure numpy, no I/O.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any

import numpy as np

from puhui.core.errors import ValidationError

__all__ = [
    "RatioStudy",
    "cod",
    "hit_rate",
    "mdape",
    "median_ratio",
    "ppe",
    "prb",
    "prd",
    "ratio_study",
    "trim_outliers",
]

# IAAO Standard on Ratio Studies (2013) §9.2.7 / Table 1.3 acceptance ranges, as coded in assesspy
# (`cod_met`, `prd_met`, `prb_met`); used only to label a study, never to change it.
PRD_RANGE = (0.98, 1.03)
PRB_RANGE = (-0.05, 0.05)


def _pair(estimate: Any, sale_price: Any) -> tuple[np.ndarray, np.ndarray]:
    """Both arrays as float64, checked: same length, non-empty, finite and strictly positive."""
    est = np.asarray(estimate, dtype=np.float64).ravel()
    price = np.asarray(sale_price, dtype=np.float64).ravel()
    if est.shape != price.shape:
        raise ValidationError(
            f"estimate and sale_price differ in length ({est.size} vs {price.size})",
            code="ratio_study_length_mismatch",
            estimates=int(est.size),
            prices=int(price.size),
        )
    if est.size == 0:
        raise ValidationError("a ratio study needs at least one sale", code="ratio_study_empty")
    for name, arr in (("estimate", est), ("sale_price", price)):
        bad = ~np.isfinite(arr) | (arr <= 0)
        if bad.any():
            raise ValidationError(
                f"{name} must be finite and > 0; {int(bad.sum())} value(s) are not (first at position "
                f"{int(np.flatnonzero(bad)[0])})",
                code="ratio_study_bad_value",
                field=name,
                count=int(bad.sum()),
            )
    return est, price


def median_ratio(estimate: Any, sale_price: Any) -> float:
    """Level: the median of estimate / sale price (IAAO acceptable overall level 0.90–1.10)."""
    est, price = _pair(estimate, sale_price)
    return float(np.median(est / price))


def cod(estimate: Any, sale_price: Any) -> float:
    """Coefficient of dispersion (离散系数): 100 × mean |r − median r| / median r."""
    est, price = _pair(estimate, sale_price)
    r = est / price
    med = np.median(r)
    return float(100.0 * np.mean(np.abs(r - med)) / med)


def prd(estimate: Any, sale_price: Any) -> float:
    """Price-related differential: mean ratio over the price-weighted ratio, mean(r) / (Σ est / Σ price).

    Above 1.03 the cheap properties are valued relatively high (regressive); below 0.98, progressive.
    """
    est, price = _pair(estimate, sale_price)
    return float(np.mean(est / price) / (est.sum() / price.sum()))


def prb(estimate: Any, sale_price: Any) -> float:
    """Price-related bias: the OLS slope of (r − med) / med on log2(((est / med) + price) / 2).

    The regressor is a 50/50 proxy of value from the estimate and the price, which avoids the bias of
    regressing on either alone. A PRB of 0.02 means ratios rise by 2 % when value doubles.
    """
    est, price = _pair(estimate, sale_price)
    if est.size < 2:
        raise ValidationError("PRB needs at least two sales", code="ratio_study_empty", count=int(est.size))
    r = est / price
    med = np.median(r)
    y = (r - med) / med
    x = np.log2((est / med + price) / 2.0)
    xc = x - x.mean()
    sxx = float(xc @ xc)
    if sxx == 0.0:
        return 0.0
    return float(xc @ (y - y.mean()) / sxx)


def mdape(estimate: Any, sale_price: Any) -> float:
    """Median absolute percentage error: median |est − price| / price, as a fraction (0.05 = 5 %)."""
    est, price = _pair(estimate, sale_price)
    return float(np.median(np.abs(est - price) / price))


def ppe(estimate: Any, sale_price: Any, within: float) -> float:
    """Share of estimates within `within` (0.10 = 10 %) of the sale price (PPE10, PPE20)."""
    if not 0.0 < within < 10.0:
        raise ValidationError(f"within must be a positive fraction, not {within}", code="ratio_study_bad_value")
    est, price = _pair(estimate, sale_price)
    return float(np.mean(np.abs(est - price) / price <= within + 1e-12))


def hit_rate(valued: Any) -> float:
    """Share of requests that received a value (a boolean per request); a no-value answer counts as a miss."""
    v = np.asarray(valued, dtype=bool).ravel()
    if v.size == 0:
        raise ValidationError("hit rate of no requests", code="ratio_study_empty")
    return float(v.mean())


def trim_outliers(estimate: Any, sale_price: Any, k: float = 3.0) -> np.ndarray:
    """Mask of sales kept by the IAAO outlier trim (Appendix B.1): ratios within k × IQR of the quartiles."""
    est, price = _pair(estimate, sale_price)
    r = est / price
    q1, q3 = np.percentile(r, [25, 75])
    iqr = q3 - q1
    return (r >= q1 - k * iqr) & (r <= q3 + k * iqr)


@dataclass(frozen=True)
class RatioStudy:
    """The figures of one ratio study; `n` sales valued out of `requested`."""

    n: int
    requested: int
    hit_rate: float
    median_ratio: float
    mean_ratio: float
    cod: float
    prd: float
    prb: float
    mdape: float
    ppe10: float
    ppe20: float

    @property
    def prd_ok(self) -> bool:
        return PRD_RANGE[0] <= self.prd <= PRD_RANGE[1]

    @property
    def prb_ok(self) -> bool:
        return PRB_RANGE[0] <= self.prb <= PRB_RANGE[1]

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def ratio_study(estimate: Any, sale_price: Any, valued: Any = None) -> RatioStudy:
    """All figures at once. `valued` (optional boolean mask over the same requests) marks which
    estimates exist; the others count against the hit rate and are left out of every other figure."""
    est_all = np.asarray(estimate, dtype=np.float64).ravel()
    price_all = np.asarray(sale_price, dtype=np.float64).ravel()
    mask = np.ones(est_all.shape, bool) if valued is None else np.asarray(valued, dtype=bool).ravel()
    if mask.shape != est_all.shape or est_all.shape != price_all.shape:
        raise ValidationError(
            "estimate, sale_price and valued differ in length",
            code="ratio_study_length_mismatch",
            estimates=int(est_all.size),
            prices=int(price_all.size),
            valued=int(mask.size),
        )
    requested = int(mask.size)
    est, price = _pair(est_all[mask], price_all[mask])
    r = est / price
    return RatioStudy(
        n=int(est.size),
        requested=requested,
        hit_rate=hit_rate(mask),
        median_ratio=float(np.median(r)),
        mean_ratio=float(np.mean(r)),
        cod=cod(est, price),
        prd=prd(est, price),
        prb=prb(est, price) if est.size >= 2 else 0.0,
        mdape=mdape(est, price),
        ppe10=ppe(est, price, 0.10),
        ppe20=ppe(est, price, 0.20),
    )
