"""The hidden health of every enterprise, the shocks that move it, and the default it drives.

For enterprise i in industry g, city c, tied to core enterprise k with dependence d_i (0 outside a chain),
in month t:

    S_it = x_it + M_t + I_gt + R_ct + d_i · C_kt                 business state (moves the data)
    H_it = u_i + S_it                                           health (higher is healthier)
    h_it = σ(a_gc + age_it − H_it)                              monthly default hazard, σ = logistic

* x_it — idiosyncratic AR(1): x_t = φx x_{t−1} + σx ε (half-life ≈ 9.5 months, so decline shows 3–12
  months ahead of a default);
* M_t, I_gt, R_ct — macro, industry and region shock paths, AR(1) each;
* C_kt — the core enterprise's health: AR(1) plus rare large negative jumps (distress) that reach the
  chain in proportion to each member's dependence (its share of business with the chain) — contagion;
* u_i — a firm level (bigger firms a little healthier); age_it = 0.5·exp(−age in years / 2) makes young
  firms riskier;
* a_gc — calibrated at the global stage so that the yearly default rate of industry g in city c is the
  industry's target (2–6%, `vocab.INDUSTRIES`) times the city's risk multiplier (tier-1 0.8, tier-2 1.0,
  tier-3 1.2, times a seeded regional effect), under the stationary law of H.

**Default** (the onset of a default that runs to 90+ days past due) is drawn each month from exactly
h_it: the firm defaults in month t when U_it < h_it and it is at risk (founded, not yet defaulted or
cancelled). The truth stores h_it as the true PD of that month, so realised defaults are calibrated by
construction. A default's onset is the month of the first instalment that is never cured: the credit
report shows 1–30 days past due that month, 31–60 and 61–90 in the next two and 91+ (次级, the 90+ DPD
default) from the third month after onset (`dpd90_month`). After onset the firm stays defaulted.
Voluntary cancellations (注销) are a competing risk drawn after the default draw in each month; licences
of defaulted firms are revoked (吊销) 6+ months later.

**Forward PD.** `pd_12m` at month t is P(onset in t+1 … t+12 | state at t, no default by t): every component
is Gaussian AR(1) given its value at t (the core's jumps enter through their mean and variance), so
H_{t+k} | t is normal with known mean and variance; E[h_{t+k}] is a logistic-normal integral (Gauss–Hermite
quadrature, tabulated) and pd_12m = 1 − Π_k (1 − E[h_{t+k}]), which neglects the correlation of hazards
across months (a second-order effect; checked against Monte Carlo in the tests).

The global stage (macro, industry, region and core paths; calibration) is drawn once from the seed and
persisted under `<home>/truth/`; chunks read it back, so chunks are independent and a resumed run is
byte-identical.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numpy.polynomial.hermite_e import hermegauss

from puhui.data.synth.arrowkit import sigmoid
from puhui.data.synth.config import SynthConfig
from puhui.data.synth.geography import CITIES, city_tiers
from puhui.data.synth.vocab import INDUSTRIES, industry_array

PRE_MONTHS = 24
"""Months simulated before the history window (for 24-month repayment strings and prior-year reports)."""


@dataclass(frozen=True)
class HealthParams:
    """Dynamics of the health process (see the module docstring)."""

    phi_x: float = 0.93
    sigma_x: float = 0.27
    sigma_u: float = 0.90
    size_effect: float = 0.25
    age_effect: float = 0.5
    age_scale_years: float = 2.0
    phi_macro: float = 0.90
    sigma_macro: float = 0.05
    phi_industry: float = 0.85
    sigma_industry: float = 0.08
    phi_region: float = 0.85
    sigma_region: float = 0.05
    phi_core: float = 0.92
    sigma_core: float = 0.12
    core_jump_prob: float = 0.004
    core_jump_size: float = 2.5
    region_sd: float = 0.15  # spread of the seeded regional risk effect (log multiplier)
    tier_multiplier: tuple[float, float, float] = (0.8, 1.0, 1.2)
    mean_age_term: float = 0.07  # average of age_it over the universe, used in calibration
    exit_prob: float = 0.0012  # voluntary cancellation per month
    revoke_after: int = 6  # months after onset before a licence can be revoked
    revoke_prob: float = 0.04

    def stationary_var(self, phi: float, sigma: float) -> float:
        return sigma**2 / (1.0 - phi**2)

    @property
    def core_innovation_mean(self) -> float:
        return -self.core_jump_prob * self.core_jump_size

    @property
    def core_innovation_var(self) -> float:
        p, j = self.core_jump_prob, self.core_jump_size
        return self.sigma_core**2 + p * (1 - p) * j**2

    @property
    def health_var(self) -> float:
        """Stationary variance of H outside chains (u, x, macro, industry, region)."""
        return (
            self.sigma_u**2
            + self.size_effect**2
            + self.stationary_var(self.phi_x, self.sigma_x)
            + self.stationary_var(self.phi_macro, self.sigma_macro)
            + self.stationary_var(self.phi_industry, self.sigma_industry)
            + self.stationary_var(self.phi_region, self.sigma_region)
        )


PARAMS = HealthParams()

_GH_X, _GH_W = hermegauss(32)
_GH_W = _GH_W / _GH_W.sum()
_GH16_X, _GH16_W = hermegauss(16)
_GH16_W = _GH16_W / _GH16_W.sum()


def expected_sigmoid(mean: np.ndarray, var: np.ndarray | float, nodes: int = 32) -> np.ndarray:
    """E[σ(Z)] for Z ~ N(mean, var), by Gauss–Hermite quadrature."""
    x, w = (_GH_X, _GH_W) if nodes == 32 else (_GH16_X, _GH16_W)
    mean = np.asarray(mean, dtype=np.float64)
    sd = np.sqrt(np.asarray(var, dtype=np.float64))
    z = mean[..., None] + np.asarray(sd)[..., None] * x
    return (sigmoid(z) * w).sum(axis=-1)


@dataclass(frozen=True)
class GlobalState:
    """What every chunk shares: shock paths over the extended months, calibration, core enterprises."""

    first_ext_month: np.datetime64  # first simulated month (PRE_MONTHS before the window)
    macro: np.ndarray  # (E,)
    industry: np.ndarray  # (G, E)
    region: np.ndarray  # (C, E)
    region_multiplier: np.ndarray  # (C,)
    intercept: np.ndarray  # (G, C) a_gc
    target_pd: np.ndarray  # (G, C) yearly target
    core_health: np.ndarray  # (K, E)
    core_jump: np.ndarray  # (K, E) bool
    core_sector: np.ndarray  # (K,) index into CHAIN_SECTORS
    core_city: np.ndarray  # (K,) index into CITIES
    core_revenue: np.ndarray  # (K,) yuan
    core_uscc: np.ndarray  # (K,) str

    @property
    def n_ext(self) -> int:
        return len(self.macro)


def _ar1(rng: np.random.Generator, shape: tuple[int, ...], e: int, phi: float, sigma: float) -> np.ndarray:
    out = np.empty((*shape, e))
    prev = rng.standard_normal(shape) * sigma / np.sqrt(1 - phi**2)
    eps = rng.standard_normal((*shape, e)) * sigma
    for t in range(e):
        prev = phi * prev + eps[..., t]
        out[..., t] = prev
    return out


def calibrate(target_annual: np.ndarray, p: HealthParams = PARAMS) -> np.ndarray:
    """Intercepts a with E[σ(a + mean age term − H)] = monthly target, H ~ N(0, Var H) stationary."""
    monthly = 1.0 - (1.0 - np.asarray(target_annual, dtype=np.float64)) ** (1.0 / 12.0)
    lo = np.full(monthly.shape, -20.0)
    hi = np.full(monthly.shape, 5.0)
    for _ in range(60):
        mid = 0.5 * (lo + hi)
        val = expected_sigmoid(mid + p.mean_age_term, p.health_var)
        below = val < monthly
        lo = np.where(below, mid, lo)
        hi = np.where(below, hi, mid)
    return 0.5 * (lo + hi)


def build_global_paths(
    config: SynthConfig, rng: np.random.Generator, n_cores: int, p: HealthParams = PARAMS
) -> dict[str, np.ndarray]:
    """Draw macro, industry, region and core paths and the calibration (pure; persisted by the runner)."""
    e = PRE_MONTHS + config.months
    n_g, n_c = len(INDUSTRIES), len(CITIES)
    macro = _ar1(rng, (), e, p.phi_macro, p.sigma_macro)
    industry = _ar1(rng, (n_g,), e, p.phi_industry, p.sigma_industry)
    region = _ar1(rng, (n_c,), e, p.phi_region, p.sigma_region)
    tiers = city_tiers()
    region_mult = np.array(p.tier_multiplier)[tiers - 1] * np.exp(rng.standard_normal(n_c) * p.region_sd)
    target = np.clip(industry_array("annual_pd")[:, None] * region_mult[None, :], 0.005, 0.2)
    intercept = calibrate(target, p)
    # core enterprises: AR(1) with rare distress jumps
    core = np.empty((n_cores, e))
    jump = rng.random((n_cores, e)) < p.core_jump_prob
    eps = rng.standard_normal((n_cores, e)) * p.sigma_core
    prev = rng.standard_normal(n_cores) * np.sqrt(p.stationary_var(p.phi_core, p.sigma_core))
    for t in range(e):
        prev = p.phi_core * prev + eps[:, t] - p.core_jump_size * jump[:, t]
        core[:, t] = prev
    return {
        "macro": macro,
        "industry": industry,
        "region": region,
        "region_multiplier": region_mult,
        "intercept": intercept,
        "target_pd": target,
        "core_health": core,
        "core_jump": jump,
    }


def _decay(phi: float, k: np.ndarray) -> np.ndarray:
    return phi ** np.asarray(k, dtype=np.float64)


def _cond_var(phi: float, innov_var: float, k: int) -> float:
    return innov_var * (1.0 - phi ** (2 * k)) / (1.0 - phi**2)


_TABLE_GRID = np.arange(-25.0, 12.0, 0.01)


def forward_pd(
    *,
    u: np.ndarray,
    x: np.ndarray,
    macro: np.ndarray,
    industry: np.ndarray,
    region: np.ndarray,
    core: np.ndarray,
    dependence: np.ndarray,
    intercept: np.ndarray,
    founding_day: np.ndarray,
    month_days: np.ndarray,
    horizon: int = 12,
    p: HealthParams = PARAMS,
) -> np.ndarray:
    """12-month forward PD for states at (n, T) enterprise-months (see the module docstring).

    `u`, `dependence`, `intercept`, `founding_day`: (n,); `x`, `macro`, `industry`, `region`, `core`:
    (n, T) values at t; `month_days`: (T,) first day of each month t (days since epoch).
    """
    n, t_len = x.shape
    survive = np.ones((n, t_len))
    chain = dependence > 0
    d = dependence[:, None]
    mu_c = p.core_innovation_mean / (1 - p.phi_core)
    for k in range(1, horizon + 1):
        mean_h = (
            u[:, None]
            + _decay(p.phi_x, k) * x
            + _decay(p.phi_macro, k) * macro
            + _decay(p.phi_industry, k) * industry
            + _decay(p.phi_region, k) * region
            + d * (_decay(p.phi_core, k) * core + mu_c * (1 - _decay(p.phi_core, k)))
        )
        var0 = (
            _cond_var(p.phi_x, p.sigma_x**2, k)
            + _cond_var(p.phi_macro, p.sigma_macro**2, k)
            + _cond_var(p.phi_industry, p.sigma_industry**2, k)
            + _cond_var(p.phi_region, p.sigma_region**2, k)
        )
        age_k = age_terms(founding_day, month_days + 30.4375 * k, p)
        z_mean = intercept[:, None] + age_k - mean_h
        eh = np.interp(z_mean, _TABLE_GRID, _table(round(var0, 12)))
        if chain.any():
            var_c = var0 + dependence[chain] ** 2 * _cond_var(p.phi_core, p.core_innovation_var, k)
            eh[chain] = expected_sigmoid(z_mean[chain], np.broadcast_to(var_c[:, None], z_mean[chain].shape), 16)
        survive *= 1.0 - eh
    return 1.0 - survive


_TABLES: dict[float, np.ndarray] = {}


def _table(var: float) -> np.ndarray:
    """E[σ(m + N(0, var))] on `_TABLE_GRID` (cached per variance)."""
    if var not in _TABLES:
        if len(_TABLES) > 64:
            _TABLES.clear()
        _TABLES[var] = expected_sigmoid(_TABLE_GRID, var)
    return _TABLES[var]


@dataclass
class HealthPanel:
    """One chunk's simulated health and outcomes over the extended months (PRE_MONTHS + window)."""

    x: np.ndarray  # (n, E)
    state: np.ndarray  # (n, E) S_it
    health: np.ndarray  # (n, E) H_it
    hazard: np.ndarray  # (n, T) h_it over the window
    founded: np.ndarray  # (n, T) bool
    onset: np.ndarray  # (n,) window month of default onset, T if none
    exit: np.ndarray  # (n,) window month of voluntary cancellation, T if none
    revoke: np.ndarray  # (n,) window month of licence revocation, T if none
    at_risk: np.ndarray  # (n, T) bool
    pd_12m: np.ndarray  # (n, T), NaN unless at risk and not defaulted by the end of the month
    active: np.ndarray  # (n, T) bool: the firm operates and produces data


def age_terms(founding_day: np.ndarray, month_days: np.ndarray, p: HealthParams = PARAMS) -> np.ndarray:
    """(n, m) age term for each firm at each month start (days since epoch)."""
    age_years = np.maximum(month_days[None, :] - founding_day[:, None], 0) / 365.25
    return p.age_effect * np.exp(-age_years / p.age_scale_years)


def simulate_health(
    *,
    g: GlobalState,
    industry: np.ndarray,
    city: np.ndarray,
    u: np.ndarray,
    core: np.ndarray,
    dependence: np.ndarray,
    founding_day: np.ndarray,
    ext_month_days: np.ndarray,
    rng: np.random.Generator,
    p: HealthParams = PARAMS,
) -> HealthPanel:
    """Simulate x, derive S, H and hazards, draw default, cancellation and revocation (vectorised)."""
    n, e = len(u), g.n_ext
    t_len = e - PRE_MONTHS
    x = _ar1(rng, (n,), e, p.phi_x, p.sigma_x)
    core_part = np.where(core[:, None] >= 0, g.core_health[np.maximum(core, 0)], 0.0) * dependence[:, None]
    state = x + g.macro[None, :] + g.industry[industry] + g.region[city] + core_part
    health = u[:, None] + state
    ages = age_terms(founding_day, ext_month_days, p)
    a = g.intercept[industry, city]
    w = slice(PRE_MONTHS, e)
    hazard = sigmoid(a[:, None] + ages[:, w] - health[:, w])
    month_days = ext_month_days[w]
    next_month = np.append(month_days[1:], month_days[-1] + 31)
    founded = founding_day[:, None] < next_month[None, :]
    u_default = rng.random((n, t_len))
    u_exit = rng.random((n, t_len))
    hit = founded & (u_default < hazard)
    onset = np.where(hit.any(axis=1), hit.argmax(axis=1), t_len)
    leave = founded & (u_exit < p.exit_prob)
    exit_m = np.where(leave.any(axis=1), leave.argmax(axis=1), t_len)
    defaulted = onset <= exit_m
    onset = np.where(defaulted, onset, t_len)
    exit_m = np.where(defaulted, t_len, exit_m)
    gap = rng.geometric(p.revoke_prob, n) - 1
    revoke = np.where(onset < t_len, onset + p.revoke_after + gap, t_len)
    revoke = np.minimum(revoke, t_len)
    tt = np.arange(t_len)[None, :]
    at_risk = founded & (tt <= np.minimum(onset, exit_m)[:, None])
    active = founded & (tt < exit_m[:, None]) & (tt < revoke[:, None])
    # forward PD where the firm has not defaulted by the end of month t
    pd = forward_pd(
        u=u,
        x=x[:, w],
        macro=np.broadcast_to(g.macro[w], (n, t_len)),
        industry=g.industry[industry][:, w],
        region=g.region[city][:, w],
        core=np.where(core[:, None] >= 0, g.core_health[np.maximum(core, 0)][:, w], 0.0),
        dependence=dependence,
        intercept=a,
        founding_day=founding_day,
        month_days=month_days.astype(np.float64),
        p=p,
    )
    pd = np.where(at_risk & (tt < onset[:, None]), pd, np.nan)
    return HealthPanel(x, state, health, hazard, founded, onset, exit_m, revoke, at_risk, pd, active)
