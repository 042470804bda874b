"""Metrics against independent sources: scikit-learn's AUC, scipy's two-sample KS, a hand-worked PSI and the
closed-form Beta(½, 3/2) CDF for the Jeffreys test."""

from __future__ import annotations

import math

import numpy as np
import pytest
from scipy.stats import ks_2samp
from sklearn.metrics import roc_auc_score

from puhui.core.errors import ValidationError
from puhui.models import metrics


@pytest.fixture
def scored() -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(3)
    y = (rng.random(2000) < 0.2).astype(int)
    s = np.round(rng.normal(0, 1, 2000) + 0.8 * y, 1)  # rounded: many ties
    return y, s


def test_auc_matches_sklearn_with_ties(scored: tuple[np.ndarray, np.ndarray]) -> None:
    y, s = scored
    assert metrics.auc(y, s) == pytest.approx(roc_auc_score(y, s), abs=1e-12)
    assert metrics.gini(y, s) == pytest.approx(2 * roc_auc_score(y, s) - 1, abs=1e-12)


def test_ks_matches_scipy_two_sample(scored: tuple[np.ndarray, np.ndarray]) -> None:
    y, s = scored
    assert metrics.ks(y, s) == pytest.approx(ks_2samp(s[y == 1], s[y == 0]).statistic, abs=1e-12)


def test_psi_hand_worked() -> None:
    # Expected 25/25/25/25 %, actual 10/20/30/40 %:
    # (−.15)ln(.4) + (−.05)ln(.8) + (.05)ln(1.2) + (.15)ln(1.6) = .137444 + .011157 + .009116 + .070501 = .228218
    assert metrics.psi_from_shares([0.25] * 4, [0.1, 0.2, 0.3, 0.4]) == pytest.approx(0.228218, abs=1e-6)
    expected = np.repeat([0.5, 1.5, 2.5, 3.5], 25)
    actual = np.repeat([0.5, 1.5, 2.5, 3.5], [10, 20, 30, 40])
    assert metrics.psi(expected, actual, bins=np.array([1.0, 2.0, 3.0])) == pytest.approx(0.228218, abs=1e-6)
    assert metrics.psi(expected, expected) == 0.0


def test_jeffreys_closed_forms() -> None:
    # D = 0, N = 1: Beta(1/2, 3/2) CDF(x) = (2/π)(asin √x + √(x(1−x)))  (substitute t = sin²θ)
    for x in (0.01, 0.2, 0.7):
        closed = 2 / math.pi * (math.asin(math.sqrt(x)) + math.sqrt(x * (1 - x)))
        assert metrics.jeffreys_pvalue(0, 1, x) == pytest.approx(closed, abs=1e-12)
    assert metrics.jeffreys_pvalue(50, 100, 0.5) == pytest.approx(0.5, abs=1e-12)  # symmetric Beta(a, a)
    assert metrics.jeffreys_pvalue(10, 100, 0.02) < 0.001  # 10 % observed against a 2 % PD: rejected
    with pytest.raises(ValidationError):
        metrics.jeffreys_pvalue(5, 3, 0.1)


def test_jeffreys_by_grade_flags_underestimated_grade() -> None:
    y = np.r_[np.ones(10), np.zeros(90), np.ones(2), np.zeros(98)].astype(int)
    pd_ = np.r_[np.full(100, 0.02), np.full(100, 0.02)]
    grades = np.r_[np.full(100, "B"), np.full(100, "A")]
    t = metrics.jeffreys_by_grade(y, pd_, grades).set_index("grade")
    assert bool(t.loc["B", "reject"]) and not bool(t.loc["A", "reject"])


def test_calibration_and_lift(scored: tuple[np.ndarray, np.ndarray]) -> None:
    y, s = scored
    p = 1 / (1 + np.exp(-s))
    t = metrics.lift_gain(y, p)
    assert list(t["n"]) == [200] * 10
    assert t["cum_gain"].iloc[-1] == pytest.approx(1.0)
    assert t["bads"].sum() == y.sum()
    assert t["lift"].iloc[0] > 1.5 > t["lift"].iloc[-1]


def test_constant_labels_refused() -> None:
    with pytest.raises(ValidationError):
        metrics.auc(np.zeros(5), np.arange(5.0))
