"""The hidden health process: the analytical forward PD against Monte Carlo paths of the same dynamics,
the calibration of intercepts against a sampled stationary population, and the synthetic calendar
against the State Council holiday data."""

from __future__ import annotations

from datetime import date

import numpy as np
import pytest

from puhui.core.calendar import ChinaCalendar
from puhui.data.synth.arrowkit import amount, sigmoid, to_fen
from puhui.data.synth.health import PARAMS, calibrate, expected_sigmoid, forward_pd
from puhui.data.synth.vocab import SPRING_FESTIVAL


def test_expected_sigmoid_matches_sampling():
    rng = np.random.default_rng(1)
    z = rng.standard_normal(2_000_000)
    for mean, var in ((-6.0, 1.2), (-3.0, 0.3), (0.0, 2.0)):
        mc = sigmoid(mean + np.sqrt(var) * z).mean()
        assert expected_sigmoid(np.array(mean), var) == pytest.approx(mc, rel=0.01)


def test_calibration_hits_the_target_yearly_rate():
    rng = np.random.default_rng(2)
    target = np.array([0.02, 0.04, 0.06])
    a = calibrate(target)
    h = np.sqrt(PARAMS.health_var) * rng.standard_normal(1_000_000)
    monthly = np.array([sigmoid(ai + PARAMS.mean_age_term - h).mean() for ai in a])
    assert 1 - (1 - monthly) ** 12 == pytest.approx(target, rel=0.02)


def _simulate(state: dict[str, np.ndarray], paths: int, rng: np.random.Generator) -> np.ndarray:
    """Monte Carlo P(default within 12 months) per state, drawing the future of every component."""
    p = PARAMS
    n = len(state["u"])
    x, m, i, r, c = (np.repeat(state[k][:, None], paths, axis=1) for k in ("x", "macro", "industry", "region", "core"))
    alive = np.ones((n, paths), dtype=bool)
    for k in range(1, 13):
        x = p.phi_x * x + p.sigma_x * rng.standard_normal((n, paths))
        m = p.phi_macro * m + p.sigma_macro * rng.standard_normal((n, paths))
        i = p.phi_industry * i + p.sigma_industry * rng.standard_normal((n, paths))
        r = p.phi_region * r + p.sigma_region * rng.standard_normal((n, paths))
        jump = rng.random((n, paths)) < p.core_jump_prob
        c = p.phi_core * c + p.sigma_core * rng.standard_normal((n, paths)) - p.core_jump_size * jump
        h = state["u"][:, None] + x + m + i + r + state["dependence"][:, None] * c
        age_years = (state["month_day"][:, None] + 30.4375 * k - state["founding"][:, None]) / 365.25
        age = p.age_effect * np.exp(-np.maximum(age_years, 0) / p.age_scale_years)
        hazard = sigmoid(state["intercept"][:, None] + age - h)
        alive &= rng.random((n, paths)) >= hazard
    return 1.0 - alive.mean(axis=1)


def test_forward_pd_agrees_with_monte_carlo():
    rng = np.random.default_rng(3)
    n = 300
    state = {
        "u": 0.8 * rng.standard_normal(n),
        "x": 0.7 * rng.standard_normal(n),
        "macro": 0.1 * rng.standard_normal(n),
        "industry": 0.15 * rng.standard_normal(n),
        "region": 0.1 * rng.standard_normal(n),
        "core": np.where(rng.random(n) < 0.2, -2.0, 0.3 * rng.standard_normal(n)),
        "dependence": np.where(rng.random(n) < 0.4, rng.uniform(0.1, 0.8, n), 0.0),
        "intercept": rng.uniform(-6.5, -4.5, n),
        "month_day": np.full(n, 20_000.0),
        "founding": 20_000.0 - rng.uniform(100, 5000, n),
    }
    pd = forward_pd(
        u=state["u"], x=state["x"][:, None], macro=state["macro"][:, None], industry=state["industry"][:, None],
        region=state["region"][:, None], core=state["core"][:, None], dependence=state["dependence"],
        intercept=state["intercept"], founding_day=state["founding"], month_days=np.array([20_000.0]),
    )[:, 0]  # fmt: skip
    mc = _simulate(state, 4000, rng)
    # the analytical PD neglects the correlation of hazards across months: allow a few per cent overall
    assert pd.mean() == pytest.approx(mc.mean(), rel=0.04)
    assert np.corrcoef(pd, mc)[0, 1] > 0.98
    high = pd > np.quantile(pd, 0.9)
    assert pd[high].mean() == pytest.approx(mc[high].mean(), rel=0.06)


def test_spring_festival_dates_fall_in_the_state_council_holiday():
    cal = ChinaCalendar.default()
    checked = 0
    for year, day in SPRING_FESTIVAL.items():
        if cal.covers(day):
            assert cal.holiday_name(day) == "春节", year
            checked += 1
    assert checked >= 10


def test_money_is_rounded_half_up_to_the_fen():
    assert list(to_fen(np.array([0.125, 0.135, 2.5e-3, 1234.5649]))) == [13, 14, 0, 123456]
    col = amount(np.array([1.5, -3.0, 7.0]), np.array([True, True, False]))
    assert [str(v) if v is not None else None for v in col.to_pylist()] == ["1.50", "0.00", None]
    assert str(col.type) == "decimal128(18, 2)"


def test_spring_festival_is_known_for_the_default_history():
    assert min(SPRING_FESTIVAL) <= date(2021, 1, 1).year and max(SPRING_FESTIVAL) >= 2027
