"""A generated credit data set with a known logistic data-generating process (numeric, categorical, missing).

True model: logit(PD) = −2.4 + 0.9·z(debt_ratio) − 0.7·z(log revenue) + 0.5·[late_payments ≥ 2]
+ 0.6·[industry = construction] − 0.3·[industry = it] + 0.4·z(lenders_6m) + 0.3·[tax_grade in C/D],
with noise features; 8% of revenue and 5% of tax_grade missing, special code −9 in lenders_6m (no data).
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest


def make_credit(n: int = 5000, seed: int = 7) -> tuple[pd.DataFrame, np.ndarray, np.ndarray]:
    """Features, labels (1 = bad) and the true PDs (the oracle)."""
    rng = np.random.default_rng(seed)
    debt = rng.beta(2, 3, n)
    revenue = np.exp(rng.normal(14, 1.0, n))
    late = rng.poisson(0.6, n)
    lenders = rng.poisson(2.0, n).astype(float)
    industry = rng.choice(["retail", "manufacturing", "construction", "it", "agri"], n, p=[0.3, 0.25, 0.2, 0.15, 0.1])
    grade = rng.choice(["A", "B", "M", "C", "D"], n, p=[0.3, 0.3, 0.2, 0.12, 0.08])
    noise = rng.normal(0, 1, n)
    z = lambda v: (v - v.mean()) / v.std()  # noqa: E731
    logit = (
        -2.4
        + 0.9 * z(debt)
        - 0.7 * z(np.log(revenue))
        + 0.5 * (late >= 2)
        + 0.6 * (industry == "construction")
        - 0.3 * (industry == "it")
        + 0.4 * z(lenders)
        + 0.3 * np.isin(grade, ["C", "D"])
    )
    true_pd = 1 / (1 + np.exp(-logit))
    y = (rng.random(n) < true_pd).astype(int)
    revenue[rng.random(n) < 0.08] = np.nan
    lenders[rng.random(n) < 0.04] = -9
    grade = grade.astype(object)
    grade[rng.random(n) < 0.05] = None
    df = pd.DataFrame(
        {
            "debt_ratio": debt,
            "revenue": revenue,
            "late_payments": late,
            "lenders_6m": lenders,
            "industry": industry,
            "tax_grade": grade,
            "noise": noise,
        }
    )
    return df, y, true_pd


@pytest.fixture(scope="session")
def credit() -> tuple[pd.DataFrame, np.ndarray, pd.DataFrame, np.ndarray]:
    df, y, _ = make_credit()
    cut = 3500
    return df.iloc[:cut].reset_index(drop=True), y[:cut], df.iloc[cut:].reset_index(drop=True), y[cut:]
