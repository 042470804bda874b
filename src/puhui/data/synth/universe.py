"""One chunk of the synthetic universe before it becomes tables: who the firms are and how their business
moves month by month.

`build_chunk` draws, for the chunk's enterprises (all vectorised, one RNG stream per purpose):

* identity — industry (weights of `vocab.INDUSTRIES`), city (GDP weights of the shared geography) and
  district, 企业 or 个体工商户, founding date (age ≈ 0.5 + Gamma(2, 4) years, so about one in eight is
  founded inside the history), USCC, legal representative (name, ID number; founding no earlier than his
  or her 18th birthday);
* size — annual revenue lognormal by industry (heavy right tail, clipped near the SME upper bounds),
  employees from revenue per employee with noise, so MIIT 2011 classes come out mostly micro and small
  with some medium;
* coverage — which sources know the firm (see `COVERAGE`), as in life: not every firm banks, pays
  salaries or meters electricity with us, and only traders, farms, clinics and online sellers appear in
  customs, agriculture, medical-insurance and e-commerce data;
* the supply chain — suppliers and distributors of the core enterprises (compatible industries, nearer
  cores preferred), tier 1 with the core, tier 2 with a tier-1 member of the same chunk, a share of
  business that is also the dependence through which a core's distress reaches the member;
* health (`health.simulate_health`) and the **business volume** V_it, the firm's true monthly sales:
  revenue/12 × industry seasonality × Spring Festival dip (or the pre-festival 年货 boost) × firm trend ×
  ramp-up of young firms × exp(0.7·S_it) (health moves sales) × AR(1) noise, collapsing after a default.
  Every source derives its figures from V and the health state with its own noise, which is what makes
  invoice sales ≈ settlement inflow and kWh ≈ output without copying one number into another.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date

import numpy as np
import pyarrow as pa

from puhui.data.synth import ids, names
from puhui.data.synth.arrowkit import choice, choice_rows
from puhui.data.synth.config import SynthConfig
from puhui.data.synth.geography import CITIES, city_weights, district_arrays, sample_districts
from puhui.data.synth.health import PARAMS, PRE_MONTHS, GlobalState, HealthPanel, simulate_health
from puhui.data.synth.vocab import (
    DISTRIBUTORS_BY_SECTOR,
    INDUSTRIES,
    SUPPLIERS_BY_SECTOR,
    industry_array,
    industry_weights,
    seasonality,
    spring_festival,
)

COVERAGE: dict[str, str] = {
    "tax_monthly": "enterprises 90%, 个体工商户 75% (authorised 银税互动)",
    "settlement_monthly": "enterprises 62%, 个体工商户 45% (settlement account at the bank)",
    "payroll_monthly": "half of the settlement customers with 3+ employees (代发 at the bank)",
    "social_insurance_monthly": "enterprises 80%, 个体工商户 30%",
    "electricity_monthly": "by industry: manufacturers ~90%, shops and offices 15–55%",
    "customs_monthly": "by industry: exporters of textiles and electronics 35–40%, wholesale 12%, else ≤ 15%",
    "bureau_enterprise_accounts": "enterprises that have borrowed, ~45% (more for bigger, older firms)",
    "bureau_person_accounts": "legal representatives with personal credit, ~85%",
}
"""Documented coverage of the main sources (the summary reports the realised shares)."""

KAPPA_SALES = 0.7  # elasticity of sales to the business state S


@dataclass
class Months:
    """Calendar of the extended months (PRE_MONTHS before the window, then the window)."""

    first_ext: np.datetime64  # datetime64[M]
    start_day: np.ndarray  # (E,) days since epoch of the 1st
    days: np.ndarray  # (E,) days in month
    moy: np.ndarray  # (E,) 0..11
    year: np.ndarray  # (E,)
    window: slice

    @property
    def n_ext(self) -> int:
        return len(self.start_day)

    @property
    def n(self) -> int:
        return self.n_ext - PRE_MONTHS

    @property
    def w_start(self) -> np.ndarray:
        return self.start_day[self.window]

    @property
    def w_days(self) -> np.ndarray:
        return self.days[self.window]

    @property
    def end_day(self) -> int:
        """Last day of the history (days since epoch)."""
        return int(self.start_day[-1] + self.days[-1] - 1)


def months_of(config: SynthConfig) -> Months:
    first = np.datetime64(config.first_month.isoformat()[:7], "M") - PRE_MONTHS
    e = PRE_MONTHS + config.months
    m = first + np.arange(e + 1)
    start = m.astype("datetime64[D]").astype(np.int64)
    return Months(
        first_ext=first,
        start_day=start[:-1],
        days=np.diff(start),
        moy=(m[:-1].astype(np.int64) % 12),
        year=(m[:-1].astype("datetime64[Y]").astype(np.int64) + 1970),
        window=slice(PRE_MONTHS, e),
    )


def spring_festival_factors(months: Months) -> np.ndarray:
    """(G, E) activity factor of each industry each month from the Spring Festival.

    Work stops from a week before 正月初一 to two weeks after (the dip, `sf_dip` of activity lost over those
    days); shops sell more in the three weeks before (the 年货 boost, `sf_boost`).
    """
    dip = np.zeros(months.n_ext)
    boost = np.zeros(months.n_ext)
    month_end = months.start_day + months.days
    for y in np.unique(months.year):
        sf = np.datetime64(spring_festival(int(y))).astype(np.int64)
        dip += np.clip(np.minimum(sf + 15, month_end) - np.maximum(sf - 7, months.start_day), 0, None) / months.days
        boost += np.clip(np.minimum(sf - 7, month_end) - np.maximum(sf - 21, months.start_day), 0, None) / months.days
    d = industry_array("sf_dip")[:, None]
    b = industry_array("sf_boost")[:, None]
    return 1.0 - d * dip[None, :] + b * boost[None, :]


@dataclass
class Chunk:
    """Everything the source builders need about one chunk of enterprises."""

    config: SynthConfig
    index: int
    g: GlobalState
    months: Months
    n: int
    global_index: np.ndarray
    industry: np.ndarray
    city: np.ndarray
    district: np.ndarray  # index into district_arrays()
    individual: np.ndarray
    revenue: np.ndarray  # annual, yuan (level at the end of the history)
    size_z: np.ndarray
    employees: np.ndarray
    founding_day: np.ndarray
    uscc: np.ndarray  # <U18
    name: pa.Array
    rep_name: pa.Array
    rep_surname: pa.Array
    rep_id: np.ndarray  # <U18
    rep_birth: np.ndarray
    u: np.ndarray
    invoice_ratio: np.ndarray
    margin: np.ndarray
    dormant: np.ndarray
    # supply chain
    core: np.ndarray  # core index or -1
    role: np.ndarray  # 0 supplier, 1 distributor, -1 none
    tier: np.ndarray  # 1, 2 or 0
    parent: np.ndarray  # chunk-local index of the tier-1 counterparty, or -1
    share: np.ndarray  # share of business with the counterparty
    dependence: np.ndarray
    since_day: np.ndarray
    terms: np.ndarray  # contractual payment days
    # dynamics
    hp: HealthPanel
    volume: np.ndarray  # (n, E) true monthly sales, yuan
    # coverage
    cov: dict[str, np.ndarray]
    cache: dict[str, object] = field(default_factory=dict)  # derived facts shared between source builders

    @property
    def t(self) -> int:
        return self.months.n

    @property
    def w(self) -> slice:
        return self.months.window

    @property
    def state_w(self) -> np.ndarray:
        return self.hp.state[:, self.w]

    @property
    def health_w(self) -> np.ndarray:
        return self.hp.health[:, self.w]

    @property
    def volume_w(self) -> np.ndarray:
        return self.volume[:, self.w]

    @property
    def defaulted_w(self) -> np.ndarray:
        """(n, T) True from the onset month on."""
        return np.arange(self.t)[None, :] >= self.hp.onset[:, None]

    def uscc_col(self, idx: np.ndarray | None = None) -> pa.Array:
        """USCCs of the firms at `idx` (all firms if None) as an Arrow column (built once, then taken)."""
        if "uscc_arrow" not in self.cache:
            self.cache["uscc_arrow"] = pa.array(self.uscc, pa.string())
        col: pa.Array = self.cache["uscc_arrow"]  # type: ignore[assignment]
        return col if idx is None else col.take(pa.array(np.asarray(idx, dtype=np.int64)))

    def rep_id_col(self, idx: np.ndarray) -> pa.Array:
        """Legal representatives' ID numbers of the firms at `idx`."""
        if "rep_id_arrow" not in self.cache:
            self.cache["rep_id_arrow"] = pa.array(self.rep_id, pa.string())
        col: pa.Array = self.cache["rep_id_arrow"]  # type: ignore[assignment]
        return col.take(pa.array(np.asarray(idx, dtype=np.int64)))

    def core_uscc_col(self, core_idx: np.ndarray) -> pa.Array:
        """USCCs of core enterprises by index."""
        if "core_arrow" not in self.cache:
            self.cache["core_arrow"] = pa.array(self.g.core_uscc, pa.string())
        col: pa.Array = self.cache["core_arrow"]  # type: ignore[assignment]
        return col.take(pa.array(np.asarray(core_idx, dtype=np.int64)))

    def rng(self, source_id: int) -> np.random.Generator:
        """The RNG stream of one source builder in this chunk (independent of every other)."""
        return np.random.default_rng(np.random.SeedSequence([self.config.seed, 2, self.index, source_id]))

    def day_in_month(self, t: np.ndarray, rng: np.random.Generator) -> np.ndarray:
        """A uniformly random day (days since epoch) inside window month(s) `t`."""
        t = np.asarray(t, dtype=np.int64)
        return self.months.w_start[t] + np.floor(rng.random(len(t)) * self.months.w_days[t]).astype(np.int64)

    def report_years(self) -> np.ndarray:
        """Years whose 31 December lies in the history, plus the year before it (reports filed in the window)."""
        years = self.months.year[self.w][self.months.moy[self.w] == 11]
        return np.concatenate([[self.months.year[self.w][0] - 1], years]).astype(np.int64)

    @property
    def months_since_onset(self) -> np.ndarray:
        """(n, T) months since onset (negative before)."""
        return np.arange(self.t)[None, :] - self.hp.onset[:, None]


def _streams(config: SynthConfig, chunk: int) -> dict[str, np.random.Generator]:
    names_ = ("firms", "names", "chain", "health", "volume", "coverage")
    return {k: np.random.default_rng(np.random.SeedSequence([config.seed, 1, chunk, i])) for i, k in enumerate(names_)}


def _chain(
    ch_rng: np.random.Generator, g: GlobalState, industry: np.ndarray, city: np.ndarray, founding: np.ndarray,
    end_day: int,
) -> dict[str, np.ndarray]:  # fmt: skip
    from puhui.data.contracts.enterprise import CHAIN_SECTORS

    n = len(industry)
    keys = [p.key for p in INDUSTRIES]
    k_n = len(g.core_sector)
    sup_ok = np.zeros((len(keys), k_n))
    dis_ok = np.zeros((len(keys), k_n))
    for k in range(k_n):
        sector = CHAIN_SECTORS[g.core_sector[k]]
        for key in SUPPLIERS_BY_SECTOR[sector]:
            sup_ok[keys.index(key), k] = 1
        for key in DISTRIBUTORS_BY_SECTOR[sector]:
            dis_ok[keys.index(key), k] = 1
    want_sup = ch_rng.random(n) < industry_array("p_supplier")[industry]
    want_dis = ~want_sup & (ch_rng.random(n) < industry_array("p_distributor")[industry])
    role = np.where(want_sup, 0, np.where(want_dis, 1, -1))
    core = np.full(n, -1)
    prov = np.array([c.province_code for c in CITIES])
    size_w = np.sqrt(g.core_revenue / g.core_revenue.mean())
    for r, ok in ((0, sup_ok), (1, dis_ok)):
        members = np.flatnonzero(role == r)
        if not len(members):
            continue
        same = prov[city[members]][:, None] == prov[g.core_city][None, :]
        w = ok[industry[members]] * size_w[None, :] * (1.0 + 2.0 * same)
        has = w.sum(axis=1) > 0
        pick = choice_rows(ch_rng, np.where(has[:, None], w, 1.0))
        core[members] = np.where(has, pick, -1)
    role = np.where(core >= 0, role, -1)
    member = core >= 0
    tier = np.where(member, np.where(ch_rng.random(n) < 0.35, 2, 1), 0)
    parent = np.full(n, -1)
    t1 = np.flatnonzero(tier == 1)
    key1 = core[t1] * 2 + role[t1]
    order = np.argsort(key1, kind="stable")
    t1, key1 = t1[order], key1[order]
    t2 = np.flatnonzero(tier == 2)
    key2 = core[t2] * 2 + role[t2]
    lo = np.searchsorted(key1, key2, side="left")
    hi = np.searchsorted(key1, key2, side="right")
    cnt = hi - lo
    pos = lo + np.floor(ch_rng.random(len(t2)) * np.maximum(cnt, 1)).astype(np.int64)
    parent[t2] = np.where(cnt > 0, t1[np.minimum(pos, max(len(t1) - 1, 0))] if len(t1) else -1, -1)
    tier[t2[cnt == 0]] = 1
    share = np.where(tier == 1, np.where(role == 0, ch_rng.beta(3, 3, n), ch_rng.beta(3, 4, n)), ch_rng.beta(2, 4, n))
    share = np.where(member, share, 0.0)
    dep = np.where(tier == 2, share * share[np.maximum(parent, 0)] * 0.8, share)
    dep = np.where(member, dep, 0.0)
    lo_d = np.maximum(founding + 90, end_day - 3650)
    hi_d = np.maximum(end_day - 60, lo_d + 1)
    since = (lo_d + ch_rng.random(n) * (hi_d - lo_d)).astype(np.int64)
    sup_terms = np.array([30, 60, 90, 120])[choice(ch_rng, np.array([0.2, 0.4, 0.3, 0.1]), n)]
    dis_terms = np.array([0, 15, 30, 60])[choice(ch_rng, np.array([0.3, 0.2, 0.35, 0.15]), n)]
    terms = np.where(role == 0, sup_terms, np.where(role == 1, dis_terms, 0))
    return {"core": core, "role": role, "tier": tier, "parent": parent, "share": share, "dependence": dep,
            "since": since, "terms": terms}  # fmt: skip


def build_chunk(config: SynthConfig, g: GlobalState, chunk_index: int) -> Chunk:
    """Draw the chunk's enterprises, their chain ties, health and monthly business volume."""
    rs = _streams(config, chunk_index)
    r = rs["firms"]
    start = chunk_index * config.chunk_size
    n = min(config.chunk_size, config.enterprises - start)
    gidx = start + np.arange(n, dtype=np.int64)
    months = months_of(config)
    end_day = months.end_day
    last_day = date.fromordinal(date(1970, 1, 1).toordinal() + end_day)

    industry = choice(r, industry_weights(), n)
    city = choice(r, city_weights(), n)
    district = sample_districts(city, r)
    individual = r.random(n) < industry_array("individual_share")[industry]
    size_z = np.clip(r.standard_normal(n), -3.0, 3.2)
    med = industry_array("revenue_median")[industry] * np.where(individual, 0.35, 1.0)
    revenue = med * np.exp(industry_array("revenue_sigma")[industry] * size_z)
    emp_raw = revenue / industry_array("revenue_per_employee")[industry] * np.exp(0.35 * r.standard_normal(n))
    employees = np.maximum(1, np.round(emp_raw)).astype(np.int64)
    employees = np.where(individual, np.minimum(employees, 1 + r.poisson(4, n)), employees)
    age_years = 0.5 + np.where(individual, r.gamma(2.0, 3.0, n), r.gamma(2.0, 4.0, n))
    founding = end_day - np.floor(age_years * 365.25).astype(np.int64)
    u = PARAMS.sigma_u * r.standard_normal(n) + PARAMS.size_effect * size_z
    invoice_ratio = np.clip(
        industry_array("invoice_ratio")[industry] * np.where(individual, 0.8, 1.0) + 0.06 * r.standard_normal(n),
        0.15, 1.0,
    )  # fmt: skip
    margin = np.clip(industry_array("margin")[industry] + 0.03 * r.standard_normal(n), -0.05, 0.3)
    dormant = r.random(n) < 0.02

    # identifiers and names
    rn = rs["names"]
    da = district_arrays()
    other = rn.random(n) < 1 / 7
    birth_district = np.where(other, sample_districts(choice(rn, city_weights(), n), rn), district)
    rep_id, rep_birth = ids.person_ids(gidx, da.code[birth_district], last_day, config.seed)
    founding = np.maximum(founding, rep_birth + int(18 * 365.25) + 30)
    founding = np.minimum(founding, end_day - 10)
    bodies = ids.org_bodies(gidx, founding, config.seed)
    uscc = ids.usccs(np.where(individual, "2", "1"), da.code[district], bodies)
    rep_name, rep_surname = names.person_names(rn, n)
    name = names.company_names(rn, industry, city, district, individual, rep_surname)

    ch = _chain(rs["chain"], g, industry, city, founding, end_day)

    hp = simulate_health(
        g=g, industry=industry, city=city, u=u, core=ch["core"], dependence=ch["dependence"],
        founding_day=founding, ext_month_days=months.start_day, rng=rs["health"],
    )  # fmt: skip
    volume = _volume(rs["volume"], months, industry, revenue, founding, hp, dormant)
    cov = _coverage(rs["coverage"], industry, individual, size_z, employees, founding, end_day)
    return Chunk(
        config=config, index=chunk_index, g=g, months=months, n=n, global_index=gidx, industry=industry,
        city=city, district=district, individual=individual, revenue=revenue, size_z=size_z, employees=employees,
        founding_day=founding, uscc=uscc, name=name, rep_name=rep_name, rep_surname=rep_surname, rep_id=rep_id,
        rep_birth=rep_birth, u=u, invoice_ratio=invoice_ratio, margin=margin, dormant=dormant, core=ch["core"],
        role=ch["role"], tier=ch["tier"], parent=ch["parent"], share=ch["share"], dependence=ch["dependence"],
        since_day=ch["since"], terms=ch["terms"], hp=hp, volume=volume, cov=cov,
    )  # fmt: skip


def _volume(
    r: np.random.Generator, months: Months, industry: np.ndarray, revenue: np.ndarray, founding: np.ndarray,
    hp: HealthPanel, dormant: np.ndarray,
) -> np.ndarray:  # fmt: skip
    n, e = hp.state.shape
    season = seasonality()[industry][:, months.moy] * spring_festival_factors(months)[industry]
    growth = 0.03 + 0.08 * r.standard_normal(n)
    trend = np.exp(growth[:, None] * (np.arange(e) - (e - 1))[None, :] / 12.0)
    age_m = (months.start_day[None, :] + months.days[None, :] - founding[:, None]) / 30.4375
    ramp = np.where(age_m <= 0, 0.0, np.minimum(1.0, 0.35 + 0.65 * age_m / 12.0))
    noise = np.empty((n, e))
    prev = r.standard_normal(n) * 0.08 / np.sqrt(1 - 0.16)
    eps = r.standard_normal((n, e)) * 0.08
    for t in range(e):
        prev = 0.4 * prev + eps[:, t]
        noise[:, t] = prev
    var_s = PARAMS.stationary_var(PARAMS.phi_x, PARAMS.sigma_x)
    health = np.exp(KAPPA_SALES * hp.state - 0.5 * KAPPA_SALES**2 * var_s)
    v = revenue[:, None] / 12.0 * season * trend * ramp * health * np.exp(noise)
    since = np.arange(e)[None, :] - (PRE_MONTHS + hp.onset)[:, None]
    v *= np.where(since >= 0, np.maximum(0.04, np.exp(-0.35 * (since + 1))), 1.0)
    v *= np.where(dormant[:, None], r.random((n, e)) < 0.2, 1.0)
    return v


def _coverage(
    r: np.random.Generator, industry: np.ndarray, individual: np.ndarray, size_z: np.ndarray,
    employees: np.ndarray, founding: np.ndarray, end_day: int,
) -> dict[str, np.ndarray]:  # fmt: skip
    n = len(industry)

    def draw(p: np.ndarray) -> np.ndarray:
        return r.random(n) < p

    age = (end_day - founding) / 365.25
    bank = draw(np.where(individual, 0.45, 0.62))
    return {
        "tax": draw(np.where(individual, 0.75, 0.90)),
        "bank": bank,
        "payroll": bank & (employees >= 3) & draw(np.full(n, 0.5)),
        "social": draw(np.where(individual, 0.30, 0.80)),
        "electricity": draw(industry_array("p_electricity")[industry] * np.where(individual, 0.7, 1.0)),
        "customs": draw(industry_array("p_customs")[industry] * np.where(individual, 0.2, 1.0)),
        "logistics": draw(industry_array("p_logistics")[industry]),
        "ecommerce": draw(industry_array("p_ecommerce")[industry]),
        "medical": draw(industry_array("p_medical")[industry]),
        "agri": draw(industry_array("p_agri")[industry]),
        "credit": ~individual & draw(1 / (1 + np.exp(-(-0.35 + 0.7 * size_z + 0.08 * np.minimum(age, 10) - 0.4)))),
        "personal_credit": draw(np.full(n, 0.85)),
    }
