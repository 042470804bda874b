"""Price indices: the penalised path smoother against a dense solve, the repeat-sales index against a
known path (Bailey–Muth–Nourse 1963; Case–Shiller interval weighting, avm_scf.md A2.2), and the
hierarchical index's fallbacks and extrapolation."""

from __future__ import annotations

import numpy as np
import pytest

from puhui.collateral.index import HierarchicalIndex, repeat_sales_index, smooth_paths
from puhui.core.errors import ValidationError


def test_smooth_paths_equals_the_dense_normal_equations() -> None:
    rng = np.random.default_rng(1)
    n_g, n_m, n = 3, 12, 200
    g = rng.integers(0, n_g, n)
    t = rng.integers(0, n_m, n)
    r = rng.normal(0, 1, n)
    w = rng.uniform(0.5, 1.5, n)
    lam, lam0 = 4.0, 0.5
    got = smooth_paths(g, t, r, n_g, n_m, lam, lam0, w)
    d = np.diff(np.eye(n_m), axis=0)
    for k in range(n_g):
        s = g == k
        wm = np.bincount(t[s], weights=w[s], minlength=n_m)
        b = np.bincount(t[s], weights=w[s] * r[s], minlength=n_m)
        a = np.diag(wm) + lam * d.T @ d + lam0 * np.eye(n_m)
        np.testing.assert_allclose(got[k], np.linalg.solve(a, b), atol=1e-7)


def test_a_group_without_data_gets_a_zero_path_and_gaps_are_bridged() -> None:
    t = np.array([0, 0, 9, 9])
    r = np.array([1.0, 1.0, 3.0, 3.0])
    f = smooth_paths(np.zeros(4, int), t, r, 2, 10, rw_penalty=0.01)
    assert np.allclose(f[1], 0.0)
    assert f[0, 0] == pytest.approx(1.0, abs=0.05) and f[0, 9] == pytest.approx(3.0, abs=0.05)
    assert np.all(np.diff(f[0]) >= -1e-9)  # months without sales interpolate between their neighbours


def _pairs(truth: np.ndarray, n: int, noise: float, rng: np.random.Generator) -> tuple[np.ndarray, ...]:
    m1 = rng.integers(0, len(truth) - 7, n)
    m2 = np.minimum(m1 + 6 + rng.integers(0, 30, n), len(truth) - 1)
    quality = rng.normal(12, 0.5, n)  # a unit's own level cancels in the price relative
    p1 = quality + truth[m1] + rng.normal(0, noise, n)
    p2 = quality + truth[m2] + rng.normal(0, noise, n) * np.sqrt(1 + (m2 - m1) / 12)
    return m1, m2, p1, p2


def test_repeat_sales_recovers_a_known_index() -> None:
    rng = np.random.default_rng(7)
    months = 36
    truth = np.cumsum(np.r_[0.0, rng.normal(0.004, 0.01, months - 1)])
    m1, m2, p1, p2 = _pairs(truth, 400, 0.0, rng)
    assert len(np.union1d(m1, m2)) == months  # every month is pinned by some pair
    exact = repeat_sales_index(m1, m2, p1, p2, months, interval_weighted=False)
    # without noise the BMN regression reproduces the path exactly (up to the tiny ridge)
    np.testing.assert_allclose(exact.log_index, truth, atol=1e-5)
    m1, m2, p1, p2 = _pairs(truth, 4000, 0.05, rng)
    noisy = repeat_sales_index(m1, m2, p1, p2, months)
    assert noisy.n_pairs == 4000 and noisy.log_index[0] == 0.0
    err = noisy.log_index - truth
    assert np.max(np.abs(err)) < 4 * np.max(noisy.std_error) + 0.005
    assert np.median(np.abs(err)) < 0.01
    assert noisy.level()[0] == pytest.approx(100.0)


def test_interval_weighting_helps_when_noise_grows_with_the_gap() -> None:
    rng = np.random.default_rng(11)
    months = 48
    truth = np.cumsum(np.r_[0.0, rng.normal(0.0, 0.01, months - 1)])
    errs = {True: [], False: []}
    for _ in range(8):
        m1 = rng.integers(0, months - 2, 1500)
        m2 = np.minimum(m1 + 1 + rng.integers(0, 46, 1500), months - 1)
        sd = 0.01 + 0.01 * (m2 - m1)  # Case–Shiller: residual variance rises with the interval
        dy = truth[m2] - truth[m1] + rng.normal(0, 1, 1500) * sd
        for weighted in (True, False):
            idx = repeat_sales_index(m1, m2, np.zeros(1500), dy, months, interval_weighted=weighted)
            errs[weighted].append(np.sqrt(np.mean((idx.log_index - truth) ** 2)))
    assert np.mean(errs[True]) < np.mean(errs[False])


def test_repeat_sales_bad_input() -> None:
    with pytest.raises(ValidationError) as e:
        repeat_sales_index(np.array([3]), np.array([2]), np.zeros(1), np.zeros(1), 5)
    assert e.value.code == "invalid_index_input"
    with pytest.raises(ValidationError):
        repeat_sales_index(np.zeros(0, int), np.zeros(0, int), np.zeros(0), np.zeros(0), 5)


def test_hierarchical_index_falls_back_and_extrapolates() -> None:
    city = np.array([[0.0, 0.01, 0.02, 0.03]])
    district = np.array([[0.0, 0.0, 0.0, 0.05]])
    compound = np.array([[0.0, 0.0, 0.0, -0.02]])
    ix = HierarchicalIndex(np.datetime64("2026-01", "M"), city, district, compound)
    one = np.array([0])
    unknown = np.array([-1])
    assert ix.log_index(one, one, one, np.array([3]))[0] == pytest.approx(0.06)
    assert ix.log_index(one, unknown, unknown, np.array([3]))[0] == pytest.approx(0.03)  # follows the city
    assert ix.log_index(one, one, one, np.array([9]))[0] == pytest.approx(0.06)  # held past the end
    assert ix.log_index(one, one, one, np.array([-4]))[0] == pytest.approx(0.0)
    damped = HierarchicalIndex(ix.first_month, city, district, compound, trend_damping=0.5, trend_window=3)
    # slope 0.01 a month, damped: 0.5 + 0.25 = 0.75 months' worth two months ahead
    assert damped.log_index(one, one, one, np.array([5]))[0] == pytest.approx(0.06 + 0.0075)
    days = np.array([np.datetime64("2026-03-15", "D").astype(np.int64)])
    assert ix.month_of(days)[0] == 2
    assert str(ix.last_month) == "2026-04"
