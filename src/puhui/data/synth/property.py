"""The synthetic national property database: compounds, buildings, units, sales, listings and holdings.

Prices follow one explicit model so that a valuation model built on the raw zone can be checked
against the truth. For a unit u in compound c at month t:

    ln(value per m²) = ln(city price level) + ring + district + compound effects        (static, 小区)
                       + unit hedonics (area, floor position, orientation, rooms, finish, latent)
                       - age depreciation at the sale date
                       + ln I_c(t)

with the compound-level monthly index ln I_c(t) = city trend + district deviation + compound
idiosyncratic path (AR(1) plus a compound drift), I_c(first month) = 1. A sale's price is the true
value times channel noise (agency deals tight, private sales loose and low, judicial auctions at a
discount), rounded to 1,000 yuan; agency sales are preceded by a listing whose asking price sits above
the value; some listings are withdrawn or still open at the end. Sales hazards differ by unit, so the
same unit sells more than once (repeat sales for a Case–Shiller index). Everything is a pure,
vectorised function of `SynthConfig` (its own `SeedSequence` stream): the same config gives
byte-identical Parquet. The true index, true values at sale and at the last month, and the model's
coefficients go to `<home>/truth/`, never to the raw zone.

Holdings (`generate_holdings`) rebuild the same universe from the config (cached per process), so the
enterprise generator can attach homes to enterprises and legal representatives chunk by chunk without
reading the raw zone; each chunk draws from its own slice of the units, so no unit has two owners.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass, replace
from functools import lru_cache
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from puhui.core.errors import ValidationError
from puhui.data.contracts.property import (
    BUILDING_TYPES,
    CHANNELS,
    DECORATIONS,
    DELIST_REASONS,
    ORIENTATIONS,
    PROPERTY_BUILDINGS,
    PROPERTY_CITIES,
    PROPERTY_COMPOUNDS,
    PROPERTY_DISTRICTS,
    PROPERTY_HOLDINGS,
    PROPERTY_LISTINGS,
    PROPERTY_TRANSACTIONS,
    PROPERTY_TYPES,
    PROPERTY_UNITS,
)
from puhui.data.rawzone import RawZone
from puhui.data.synth.config import SynthConfig
from puhui.data.synth.geography import CITIES, city_latlon, city_price_levels, city_tiers, district_arrays

__all__ = ["MODEL", "PROPERTY_STREAM", "generate_holdings", "generate_property", "truth_root"]

PROPERTY_STREAM = 0x50524F50
"""Spawn key of the property stream under `config.seed` ("PROP"): independent of every other stream."""

PART = "part-0000"

# --- the price model (log points); written to truth/property_model.json ------------------------------
MODEL: dict[str, Any] = {
    "ring": [0.262364, 0.0, -0.328504],  # ln(1.30), 0, ln(0.72): geography.RING_PRICE_FACTOR
    "district_sd": 0.08,
    "compound_sd": 0.10,
    "type": {"ordinary": 0.0, "apartment": -0.25, "villa": 0.30},
    "school_district": 0.15,
    "metro_per_km": -0.04,  # up to 5 km
    "greening_per_unit": 0.5,  # x (greening_rate - 0.30)
    "plot_ratio": -0.02,  # x (plot_ratio - 2.5)
    "area_log": -0.06,  # x ln(area / 90)
    "rooms_extra": 0.015,  # x (rooms - round(area / 38))
    "orientation": {"south": 0.02, "south_north": 0.04, "east": 0.0, "west": -0.02, "north": -0.05,
                    "east_west": 0.0},
    "decoration": {"rough": -0.03, "simple": 0.0, "fine": 0.04},
    # floor position (bottom, low, middle, high, top). Walk-ups: public Beijing deal data (avm_scf.md A2.5:
    # 底 +1.2%, 低 -0.3%, 中 +0.9%, 高 +0.1%, 顶 -3.3%); lift buildings: assumed.
    "floor_walkup": [0.012, -0.003, 0.009, 0.001, -0.033],
    "floor_lift": [-0.04, -0.015, 0.01, 0.02, -0.015],
    "unit_latent_sd": 0.04,
    "age_per_year": -0.007,  # up to 40 years
    "noise": {"agency": [0.0, 0.045], "private": [-0.05, 0.12], "auction": [-0.20, 0.08]},
    "agency_outlier": [0.03, 0.20],  # share, sd
    "asking_premium": {"sold": [0.07, 0.04], "unsold": [0.10, 0.05]},
}  # fmt: skip

_CHANNEL_P = (0.82, 0.14, 0.04)
_MONTHLY_TURNOVER = 0.025 / 12  # mean share of units sold a month
_MIN_REPEAT_GAP_DAYS = 180  # repeat sales < 6 months apart are dropped (Case–Shiller practice, avm_scf.md A2.2)


def _words(text: str) -> list[str]:
    return text.split()


_PREFIXES = np.array(_words(
    "锦绣 阳光 翠湖 金色 碧水 星河 紫荆 丽景 和平 幸福 康乐 盛世 滨江 湖畔 香樟 桂花 玉兰 海棠 枫林 绿洲 "
    "世纪 东方 新城 中央 龙湖 凤凰 天鹅 嘉禾 瑞祥 华府 御景 江南 春晓 清华 博雅 书香 明珠 观澜 望江 云山 "
    "泰和 恒安 广厦 宏福 富丽 怡景 悦华 金桥 银河 朝阳 南湖 北苑 西园 东湖 青年 育才 颐和 长青 万寿 永安"
))  # fmt: skip
_SUFFIXES = {
    "ordinary": np.array(_words("花园 家园 小区 新村 雅苑 华庭 名苑 嘉园 府 湾 城 里 佳园 花苑 公馆")),
    "apartment": np.array(_words("公寓 国际 中心 广场 大厦 时代 SOHO")),
    "villa": np.array(_words("别墅 山庄 庄园 墅 御园")),
}
_PHASES = np.array(["", "一期", "二期", "三期"])


# ---------------------------------------------------------------------------------------------------
# the numeric universe
# ---------------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class _Compounds:
    city: np.ndarray  # index into CITIES
    district: np.ndarray  # index into district_arrays()
    ptype: np.ndarray  # index into PROPERTY_TYPES
    btype: np.ndarray  # dominant building type, index into BUILDING_TYPES
    build_year: np.ndarray
    lat: np.ndarray
    lon: np.ndarray
    greening: np.ndarray
    plot_ratio: np.ndarray
    fee_fen: np.ndarray
    school: np.ndarray
    metro_m: np.ndarray
    tenure: np.ndarray
    effect: np.ndarray  # static log price per m² of the compound (incl. city, ring, district)
    null_greening: np.ndarray
    null_plot: np.ndarray
    null_fee: np.ndarray
    null_metro: np.ndarray


@dataclass(frozen=True)
class _Buildings:
    compound: np.ndarray
    no: np.ndarray  # 1-based within compound
    btype: np.ndarray
    floors: np.ndarray
    per_floor: np.ndarray
    elevator: np.ndarray
    build_year: np.ndarray
    first_unit: np.ndarray  # offsets into units, len n+1


@dataclass(frozen=True)
class _Units:
    building: np.ndarray
    floor: np.ndarray
    door: np.ndarray
    area: np.ndarray
    rooms: np.ndarray
    halls: np.ndarray
    orientation: np.ndarray
    decoration: np.ndarray
    null_rooms: np.ndarray
    null_orientation: np.ndarray
    null_decoration: np.ndarray
    effect: np.ndarray  # static unit hedonic log effect (excl. age)
    compound: np.ndarray
    build_year: np.ndarray  # of the building
    hazard: np.ndarray  # relative sale hazard


@dataclass(frozen=True)
class _Sales:
    unit: np.ndarray
    day: np.ndarray  # days since 1970-01-01
    month: np.ndarray  # index into the history months
    channel: np.ndarray
    true_value: np.ndarray  # yuan, float
    price_fen: np.ndarray
    log_index: np.ndarray


@dataclass(frozen=True)
class _Listings:
    unit: np.ndarray
    list_day: np.ndarray
    asking_fen: np.ndarray
    delist_day: np.ndarray  # -1 = still listed
    reason: np.ndarray  # index into DELIST_REASONS, -1 = still listed


@dataclass(frozen=True)
class _Universe:
    months: np.ndarray  # datetime64[M]
    month_day: np.ndarray  # first day of each month (+ one past the end), days since epoch
    log_city: np.ndarray  # (n_cities, M)
    log_district: np.ndarray  # (n_districts, M)
    log_compound: np.ndarray  # (n_compounds, M)
    compounds: _Compounds
    buildings: _Buildings
    units: _Units
    sales: _Sales
    listings: _Listings
    last_sale: np.ndarray  # per unit: index into sales of its last sale, -1 if none

    def log_index(self, compound: np.ndarray, month: np.ndarray) -> np.ndarray:
        """ln I_c(t) of compound indices at month indices."""
        return self.log_compound[compound, month]

    def unit_value(self, unit: np.ndarray, month: np.ndarray, day: np.ndarray) -> np.ndarray:
        """True value in yuan of units at a month index (index) and day (age)."""
        u = self.units
        years = 1970.0 + day / 365.2425
        age = np.clip(years - (u.build_year[unit] + 0.5), 0.0, 40.0)
        ln_ppm2 = (
            self.compounds.effect[u.compound[unit]]
            + u.effect[unit]
            + MODEL["age_per_year"] * age
            + self.log_index(u.compound[unit], month)
        )
        return u.area[unit] * np.exp(ln_ppm2)


def _streams(config: SynthConfig, n: int) -> list[np.random.Generator]:
    ss = np.random.SeedSequence(entropy=config.seed, spawn_key=(PROPERTY_STREAM,))
    return [np.random.default_rng(s) for s in ss.spawn(n)]


def _history(config: SynthConfig) -> tuple[np.ndarray, np.ndarray]:
    if config.compounds < 1 or config.property_years < 1:
        raise ValidationError(
            "property database needs at least 1 compound and 1 year of history",
            code="invalid_synth_config",
            compounds=config.compounds,
            property_years=config.property_years,
        )
    end = np.datetime64(config.end_month, "M")
    m = 12 * config.property_years
    months = np.arange(end - (m - 1), end + 1)
    edges = np.arange(end - (m - 1), end + 2).astype("datetime64[D]").astype(np.int64)
    return months, edges


def _allocate(n: int, weights: np.ndarray, minimum: int) -> np.ndarray:
    """Largest-remainder allocation of n items to weights, each at least `minimum` (if n allows)."""
    k = len(weights)
    base = np.full(k, min(minimum, n // k), dtype=np.int64)
    rest = n - base.sum()
    share = weights / weights.sum() * rest
    out = base + np.floor(share).astype(np.int64)
    left = n - out.sum()
    order = np.argsort(-(share - np.floor(share)), kind="stable")
    out[order[:left]] += 1
    return out


def _national_drift(months: np.ndarray) -> np.ndarray:
    """Stylised national monthly log return: boom to mid-2021, decline to 2024-09, then stabilising."""
    m = months.astype(np.int64)  # months since 1970-01
    peak = np.datetime64("2021-09", "M").astype(np.int64)
    trough = np.datetime64("2024-10", "M").astype(np.int64)
    settle = np.datetime64("2025-04", "M").astype(np.int64)
    return np.select([m < peak, m < trough, m < settle], [0.005, -0.006, -0.001], -0.002)


def _index(
    rng: np.random.Generator, months: np.ndarray, c_city: np.ndarray, c_district: np.ndarray
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """City, district and compound log index paths; every path is 0 in the first month."""
    n_m = len(months)
    tiers = city_tiers()
    mu = _national_drift(months)
    beta_up = np.array([0.0, 1.2, 1.0, 0.7])[tiers]
    beta_down = np.array([0.0, 0.7, 1.0, 1.3])[tiers]
    beta = np.where(mu[None, :] > 0, beta_up[:, None], beta_down[:, None])
    eps = rng.normal(0.0, 0.004, (len(tiers), n_m))
    shock = np.zeros_like(eps)
    for t in range(1, n_m):  # AR(1) momentum in city returns; a loop over months, not rows
        shock[:, t] = 0.5 * shock[:, t - 1] + eps[:, t]
    ret = beta * mu[None, :] + shock
    ret[:, 0] = 0.0
    log_city = np.cumsum(ret, axis=1)

    n_d = len(district_arrays().code)
    d_eps = rng.normal(0.0, 0.004, (n_d, n_m))
    log_district = np.zeros((n_d, n_m))
    for t in range(1, n_m):
        log_district[:, t] = 0.97 * log_district[:, t - 1] + d_eps[:, t]

    n_c = len(c_city)
    drift = rng.normal(0.0, 0.001, n_c)
    c_eps = rng.normal(0.0, 0.004, (n_c, n_m))
    ar = np.zeros((n_c, n_m))
    for t in range(1, n_m):
        ar[:, t] = 0.97 * ar[:, t - 1] + c_eps[:, t]
    log_compound = log_city[c_city] + log_district[c_district] + drift[:, None] * np.arange(n_m)[None, :] + ar
    return log_city, log_district, log_compound


def _compounds(config: SynthConfig, rng: np.random.Generator, end_year: int) -> _Compounds:
    n = config.compounds
    da = district_arrays()
    w = np.array([c.weight for c in CITIES]) ** 0.85
    counts = _allocate(n, w, 10)
    city = np.repeat(np.arange(len(CITIES)), counts)
    # district within city, weighted by ring (outer rings hold more compounds)
    dw = np.array([1.0, 1.6, 2.2])[da.ring]
    within = np.zeros(len(dw))
    for i in range(len(CITIES)):  # 54 cities
        lo, hi = da.offsets[i], da.offsets[i + 1]
        within[lo:hi] = np.cumsum(dw[lo:hi]) / dw[lo:hi].sum()
    global_cum = da.city_index + within
    global_cum[da.offsets[1:] - 1] = da.city_index[da.offsets[1:] - 1] + 1.0
    district = np.searchsorted(global_cum, city + rng.random(n), side="right")
    ring = da.ring[district]

    p_type = np.array([[0.80, 0.17, 0.03], [0.83, 0.12, 0.05], [0.80, 0.08, 0.12]])[ring]
    ptype = np.minimum((rng.random(n)[:, None] > np.cumsum(p_type, axis=1)).sum(axis=1), 2)
    mean_year = np.select([ptype == 1, ptype == 2], [2012.0, 2008.0], np.array([2002.0, 2009.0, 2013.0])[ring])
    build_year = np.clip(np.round(rng.normal(mean_year, 7.0)), 1980, end_year - 1).astype(np.int64)

    # dominant building type: ordinary compounds go from walk-ups (old) to towers (new)
    p_multi = np.select([build_year < 2000, build_year < 2010], [0.85, 0.35], 0.15)
    r = rng.random(n)
    btype = np.where(r < p_multi, 0, np.where(r < p_multi + (1 - p_multi) * 0.4, 1, 2))
    btype = np.select([ptype == 1, ptype == 2], [2, 3], btype)

    sd_km = np.array([1.5, 3.0, 5.0])[ring]
    lat = da.lat[district] + rng.normal(0, 1, n) * sd_km / 111.0
    lon = da.lon[district] + rng.normal(0, 1, n) * sd_km / (111.0 * np.cos(np.radians(da.lat[district])))

    g_lo = np.select([ptype == 1, ptype == 2, build_year < 2000], [0.15, 0.35, 0.20], 0.25)
    g_hi = np.select([ptype == 1, ptype == 2, build_year < 2000], [0.30, 0.55, 0.30], 0.40)
    greening = np.round(g_lo + (g_hi - g_lo) * rng.random(n), 2)
    p_lo = np.array([1.2, 2.0, 2.8, 0.4])[btype]
    p_hi = np.array([2.0, 3.0, 4.5, 1.0])[btype]
    plot_ratio = np.where(ptype == 1, 4.0 + 4.0 * rng.random(n), p_lo + (p_hi - p_lo) * rng.random(n))
    plot_ratio = np.round(plot_ratio, 2)

    tier = city_tiers()[city]
    fee = (
        np.array([0.0, 3.5, 2.0, 1.3])[tier]
        * np.array([1.0, 1.5, 2.0])[ptype]
        * np.where(btype == 0, 0.4, 1.0)
        * rng.lognormal(0.0, 0.25, n)
    )
    fee_fen = (np.round(fee, 1) * 100).round().astype(np.int64)
    school = rng.random(n) < np.array([0.25, 0.12, 0.05])[ring]
    metro_mean = np.array([1200.0, 2500.0, 6000.0])[ring] * np.array([0.0, 1.0, 1.5, 3.0])[tier]
    metro_m = np.round(100 + rng.exponential(metro_mean), -1)
    null_metro = (tier == 3) & (rng.random(n) < 0.6) | (rng.random(n) < 0.03)
    tenure = np.where(ptype == 1, np.where(rng.random(n) < 0.7, 40, 50), 70)

    d_effect = np.random.default_rng(rng.integers(2**63)).normal(0.0, MODEL["district_sd"], len(da.code))
    effect = (
        np.log(city_price_levels()[city])
        + np.array(MODEL["ring"])[ring]
        + d_effect[district]
        + np.array([MODEL["type"][t] for t in PROPERTY_TYPES])[ptype]
        + MODEL["school_district"] * school
        + MODEL["metro_per_km"] * np.minimum(metro_m / 1000.0, 5.0)
        + MODEL["greening_per_unit"] * (greening - 0.30)
        + MODEL["plot_ratio"] * (plot_ratio - 2.5)
        + rng.normal(0.0, MODEL["compound_sd"], n)
    )
    return _Compounds(
        city=city, district=district, ptype=ptype, btype=btype, build_year=build_year, lat=np.round(lat, 5),
        lon=np.round(lon, 5), greening=greening, plot_ratio=plot_ratio, fee_fen=fee_fen, school=school,
        metro_m=metro_m, tenure=tenure, effect=effect, null_greening=rng.random(n) < 0.05,
        null_plot=rng.random(n) < 0.04, null_fee=rng.random(n) < 0.10, null_metro=null_metro,
    )  # fmt: skip


def _buildings(c: _Compounds, rng: np.random.Generator, end_year: int) -> _Buildings:
    n_c = len(c.city)
    lam = np.array([7.0, 5.0, 4.0, 25.0])[c.btype]
    base = np.array([3, 3, 2, 15])[c.btype]
    n_b = np.where(c.ptype == 1, 1 + rng.poisson(1.5, n_c), base + rng.poisson(lam))
    n_b = np.minimum(n_b, 99)
    compound = np.repeat(np.arange(n_c), n_b)
    starts = np.concatenate([[0], np.cumsum(n_b)[:-1]])
    no = np.arange(len(compound)) - starts[compound] + 1
    nb = len(compound)
    btype = c.btype[compound]
    apartment = c.ptype[compound] == 1
    r = rng.random(nb)
    floors = np.select(
        [btype == 0, btype == 1, (btype == 2) & apartment, btype == 2],
        [5 + (r > 0.2) + (r > 0.7), 8 + np.floor(r * 11), 20 + np.floor(r * 21), 19 + np.floor(r * 16)],
        3,
    ).astype(np.int64)
    r2 = rng.random(nb)
    per_floor = np.select(
        [btype == 0, btype == 1, apartment, btype == 2],
        [4 + 2 * np.floor(r2 * 3), 2 + np.floor(r2 * 3), 8 + np.floor(r2 * 9), 2 + np.floor(r2 * 3)],
        1 + np.floor(r2 * 4),
    ).astype(np.int64)
    elevator = (btype == 1) | (btype == 2) | ((btype == 0) & (rng.random(nb) < 0.05))
    later = np.where(rng.random(nb) < 0.2, rng.integers(1, 3, nb), 0)
    build_year = np.minimum(c.build_year[compound] + later, end_year - 1)
    n_units = np.where(btype == 3, per_floor, floors * per_floor)
    first_unit = np.concatenate([[0], np.cumsum(n_units)])
    return _Buildings(compound, no, btype, floors, per_floor, elevator, build_year, first_unit)


def _floor_effect(floor: np.ndarray, total: np.ndarray, lift: np.ndarray, villa: np.ndarray) -> np.ndarray:
    h = floor / total
    pos = np.select([floor == 1, floor == total, h <= 1 / 3, h <= 2 / 3], [0, 4, 1, 2], 3)
    eff = np.where(lift, np.array(MODEL["floor_lift"])[pos], np.array(MODEL["floor_walkup"])[pos])
    return np.where(villa, 0.0, eff)


def _units(c: _Compounds, b: _Buildings, rng: np.random.Generator) -> _Units:
    n_b = len(b.compound)
    n_units = np.diff(b.first_unit)
    building = np.repeat(np.arange(n_b), n_units)
    n = len(building)
    pos = np.arange(n) - b.first_unit[building]
    villa_b = b.btype == 3
    per_floor = b.per_floor[building]
    floor = np.where(villa_b[building], 1, pos // per_floor + 1)
    door = np.where(villa_b[building], pos + 1, pos % per_floor + 1)

    # one layout (户型) per building and door, stacked over all floors
    layout_start = np.concatenate([[0], np.cumsum(b.per_floor)[:-1]])
    n_layout = int(b.per_floor.sum())
    l_building = np.repeat(np.arange(n_b), b.per_floor)
    l_comp = b.compound[l_building]
    ptype = c.ptype[l_comp]
    mean_area = np.select(
        [ptype == 1, ptype == 2, c.build_year[l_comp] < 2000, c.build_year[l_comp] < 2010],
        [55.0, 260.0, 72.0, 95.0],
        110.0,
    )
    comp_area = rng.lognormal(0.0, 0.12, len(c.city))[l_comp]
    l_area = np.round(np.clip(mean_area * comp_area * rng.lognormal(0.0, 0.22, n_layout), 28.0, 600.0), 2)
    l_rooms = np.clip(np.round(l_area / 38.0 + rng.normal(0, 0.4, n_layout)), 1, 7).astype(np.int64)
    l_rooms = np.where(ptype == 2, np.maximum(l_rooms, 4), np.where(ptype == 1, np.minimum(l_rooms, 2), l_rooms))
    l_halls = np.where(
        ptype == 1,
        (rng.random(n_layout) < 0.5).astype(np.int64),
        np.where(l_area < 90, 1, 1 + (rng.random(n_layout) < 0.6)),
    )
    p_or = np.where(ptype[:, None] == 1, [[0.15, 0.05, 0.25, 0.25, 0.20, 0.10]], [[0.30, 0.35, 0.10, 0.10, 0.05, 0.10]])
    l_orient = (rng.random(n_layout)[:, None] > np.cumsum(p_or, axis=1)).sum(axis=1)
    l_orient = np.minimum(l_orient, len(ORIENTATIONS) - 1)

    layout = layout_start[building] + door - 1
    compound = b.compound[building]
    area = l_area[layout]
    rooms = l_rooms[layout]
    orientation = l_orient[layout]
    p_dec = np.where(c.ptype[compound][:, None] == 1, [[0.10, 0.30, 0.60]], [[0.15, 0.45, 0.40]])
    decoration = np.minimum((rng.random(n)[:, None] > np.cumsum(p_dec, axis=1)).sum(axis=1), 2)

    villa = villa_b[building]
    effect = (
        MODEL["area_log"] * np.log(area / 90.0)
        + MODEL["rooms_extra"] * (rooms - np.round(area / 38.0))
        + np.array([MODEL["orientation"][o] for o in ORIENTATIONS])[orientation]
        + np.array([MODEL["decoration"][d] for d in DECORATIONS])[decoration]
        + _floor_effect(floor, b.floors[building], b.elevator[building], villa)
        + rng.normal(0.0, MODEL["unit_latent_sd"], n)
    )
    null_rooms = rng.random(n) < 0.06
    return _Units(
        building=building, floor=floor, door=door, area=area, rooms=rooms, halls=l_halls[layout],
        orientation=orientation, decoration=decoration, null_rooms=null_rooms,
        null_orientation=rng.random(n) < 0.12, null_decoration=rng.random(n) < 0.25, effect=effect,
        compound=compound, build_year=b.build_year[building], hazard=rng.gamma(0.35, 1 / 0.35, n),
    )  # fmt: skip


def _calibrate(c: _Compounds, u: _Units, months: np.ndarray) -> _Compounds:
    """Shift each city's compound effects so that the median unit's value per m² in the first month is
    the city's `price_level` (the other terms - metro, age, area - would otherwise pull it down)."""
    first_year = 1970.0 + months[0].astype("datetime64[D]").astype(np.int64) / 365.2425
    age = np.clip(first_year - (u.build_year + 0.5), 0.0, 40.0)
    ln_ppm2 = c.effect[u.compound] + u.effect + MODEL["age_per_year"] * age
    city = c.city[u.compound]
    offset = np.zeros(len(CITIES))
    target = np.log(city_price_levels())
    for i in range(len(CITIES)):  # 54 cities
        sel = city == i
        if sel.any():
            offset[i] = target[i] - np.median(ln_ppm2[sel])
    return replace(c, effect=c.effect + offset[c.city])


def _month_sampler(log_city: np.ndarray) -> np.ndarray:
    """Per city, cumulative probabilities of a sale falling in each month: volume follows momentum."""
    trailing = log_city - np.concatenate([np.zeros((len(log_city), 6)), log_city[:, :-6]], axis=1)
    trailing[:, :6] = log_city[:, :6] - log_city[:, :1]
    act = np.exp(8.0 * trailing)
    return np.cumsum(act, axis=1) / act.sum(axis=1, keepdims=True)


def _sales(uv: _Universe, rng: np.random.Generator) -> _Sales:
    u = uv.units
    n_m = len(uv.months)
    counts = rng.poisson(_MONTHLY_TURNOVER * n_m * u.hazard)
    unit = np.repeat(np.arange(len(counts)), counts)
    city = uv.compounds.city[u.compound[unit]]
    cum = _month_sampler(uv.log_city)
    draw = rng.random(len(unit))
    month = np.empty(len(unit), dtype=np.int64)
    for i in range(len(CITIES)):  # 54 cities, each its own volume curve
        sel = city == i
        month[sel] = np.searchsorted(cum[i], draw[sel], side="right")
    month = np.minimum(month, n_m - 1)
    start = uv.month_day[month]
    days_in = uv.month_day[month + 1] - start
    day = start + np.floor(rng.random(len(unit)) * days_in).astype(np.int64)
    # no sale before the building is finished (completion taken as 1 January of the next year)
    ready_day = (u.build_year[unit] + 1 - 1970) * 365.2425
    keep = day >= ready_day
    unit, day, month = unit[keep], day[keep], month[keep]
    order = np.lexsort((day, unit))
    unit, day, month = unit[order], day[order], month[order]
    gap_ok = np.ones(len(unit), dtype=bool)
    same = unit[1:] == unit[:-1]
    gap_ok[1:] = ~same | (day[1:] - day[:-1] >= _MIN_REPEAT_GAP_DAYS)
    # one pass suffices: dates are sorted, so a sale far enough from its immediate predecessor is far
    # enough from every earlier one, kept or dropped
    unit, day, month = unit[gap_ok], day[gap_ok], month[gap_ok]
    order = np.lexsort((unit, day))  # txn ids run in date order
    unit, day, month = unit[order], day[order], month[order]

    n = len(unit)
    channel = (rng.random(n)[:, None] > np.cumsum(_CHANNEL_P)[None, :]).sum(axis=1)
    channel = np.minimum(channel, len(CHANNELS) - 1)
    value = uv.unit_value(unit, month, day)
    mean = np.array([MODEL["noise"][ch][0] for ch in CHANNELS])[channel]
    sd = np.array([MODEL["noise"][ch][1] for ch in CHANNELS])[channel]
    out_share, out_sd = MODEL["agency_outlier"]
    sd = np.where((channel == 0) & (rng.random(n) < out_share), out_sd, sd)
    price = value * np.exp(mean + sd * rng.standard_normal(n))
    price_fen = np.maximum(np.round(price / 1000.0), 1).astype(np.int64) * 100_000
    log_idx = uv.log_index(u.compound[unit], month)
    return _Sales(unit, day, month, channel, value, price_fen, log_idx)


def _round_asking(yuan: np.ndarray) -> np.ndarray:
    """Asking prices in whole 万 (10,000 yuan) above a million, whole thousands below; in fen."""
    step = np.where(yuan >= 1_000_000, 10_000.0, 1_000.0)
    return (np.maximum(np.round(yuan / step), 1) * step * 100).astype(np.int64)


def _listings(uv: _Universe, rng: np.random.Generator) -> _Listings:
    s = uv.sales
    end_day = int(uv.month_day[-1]) - 1
    first_day = int(uv.month_day[0])
    # sold listings: every agency sale was listed first
    sold = np.flatnonzero(s.channel == 0)
    dur = (20 + rng.gamma(2.0, 35.0, len(sold))).astype(np.int64)
    l_day = s.day[sold] - dur  # early sales were listed before the history starts: keep the true date
    l_month = np.maximum(np.searchsorted(uv.month_day, l_day, side="right") - 1, 0)
    v = uv.unit_value(s.unit[sold], l_month, l_day)
    prem, psd = MODEL["asking_premium"]["sold"]
    ask_sold = _round_asking(v * np.exp(prem + psd * rng.standard_normal(len(sold))))
    # unsold listings: withdrawn, or still open at the end
    n_un = len(sold) // 2
    p = uv.units.hazard / uv.units.hazard.sum()
    un_unit = rng.choice(len(p), size=n_un, p=p)
    un_day = rng.integers(first_day, end_day + 1, n_un)
    un_month = np.searchsorted(uv.month_day, un_day, side="right") - 1
    un_dur = (30 + rng.gamma(2.0, 60.0, n_un)).astype(np.int64)
    un_end = un_day + un_dur
    open_ = un_end > end_day
    prem, psd = MODEL["asking_premium"]["unsold"]
    ask_un = _round_asking(uv.unit_value(un_unit, un_month, un_day) * np.exp(prem + psd * rng.standard_normal(n_un)))

    unit = np.concatenate([s.unit[sold], un_unit])
    list_day = np.concatenate([l_day, un_day])
    asking = np.concatenate([ask_sold, ask_un])
    delist = np.concatenate([s.day[sold], np.where(open_, -1, un_end)])
    reason = np.concatenate([np.zeros(len(sold), np.int64), np.where(open_, -1, 1)])
    order = np.lexsort((unit, list_day))
    return _Listings(unit[order], list_day[order], asking[order], delist[order], reason[order])


@lru_cache(maxsize=2)
def _universe(config: SynthConfig) -> _Universe:
    """The whole numeric property universe of a config (cached: holdings reuse it chunk by chunk)."""
    months, edges = _history(config)
    end_year = int(str(months[-1])[:4])
    r_comp, r_build, r_unit, r_index, r_sales, r_list = _streams(config, 6)
    comps = _compounds(config, r_comp, end_year)
    log_city, log_district, log_compound = _index(r_index, months, comps.city, comps.district)
    blds = _buildings(comps, r_build, end_year)
    units = _units(comps, blds, r_unit)
    comps = _calibrate(comps, units, months)
    empty_s = _Sales(*(np.zeros(0, np.int64) for _ in range(7)))
    empty_l = _Listings(*(np.zeros(0, np.int64) for _ in range(5)))
    uv = _Universe(
        months, edges, log_city, log_district, log_compound, comps, blds, units, empty_s, empty_l, np.zeros(0, np.int64)
    )
    sales = _sales(uv, r_sales)
    uv = _Universe(
        months, edges, log_city, log_district, log_compound, comps, blds, units, sales, empty_l, np.zeros(0, np.int64)
    )
    listings = _listings(uv, r_list)
    last_sale = np.full(len(units.building), -1, dtype=np.int64)
    last_sale[sales.unit] = np.arange(len(sales.unit))  # sales are in date order: the last write wins
    return _Universe(
        months, edges, log_city, log_district, log_compound, comps, blds, units, sales, listings, last_sale
    )


# ---------------------------------------------------------------------------------------------------
# arrow helpers
# ---------------------------------------------------------------------------------------------------
def _fen(fen: np.ndarray, mask: np.ndarray | None = None) -> pa.Array:
    """Integer fen as an exact decimal128(18, 2) Arrow array (no float on the way)."""
    fen = np.ascontiguousarray(fen, dtype=np.int64)
    words = np.empty((len(fen), 2), dtype=np.int64)
    words[:, 0] = fen
    words[:, 1] = fen >> 63  # sign extension to 128 bits, little endian
    validity = None
    if mask is not None and mask.any():
        validity = pa.array(~mask).buffers()[1]
    return pa.Array.from_buffers(
        pa.decimal128(18, 2),
        len(fen),
        [validity, pa.py_buffer(words.tobytes())],
        null_count=int(mask.sum()) if mask is not None else 0,
    )


def _dates(days: np.ndarray, mask: np.ndarray | None = None) -> pa.Array:
    return pa.array(days.astype(np.int32), type=pa.int32(), mask=mask).cast(pa.date32())


def _codes(idx: np.ndarray, codes: tuple[str, ...], mask: np.ndarray | None = None) -> pa.Array:
    return pc.take(pa.array(codes, pa.string()), pa.array(idx, type=pa.int64(), mask=mask))


def _ids(prefix: str, num: np.ndarray, width: int) -> pa.Array:
    s = pc.utf8_lpad(pc.cast(pa.array(num, pa.int64()), pa.string()), width=width, padding="0")
    return pc.binary_join_element_wise(prefix, s, "")


def _join(a: pa.Array, sep: str, b: pa.Array) -> pa.Array:
    return pc.binary_join_element_wise(a, b, sep)


def _ymd(day: np.ndarray) -> np.ndarray:
    return np.datetime64("1970-01-01") + day.astype("timedelta64[D]")


# ---------------------------------------------------------------------------------------------------
# tables
# ---------------------------------------------------------------------------------------------------
def _compound_ids(n: int) -> pa.Array:
    return _ids("C", np.arange(1, n + 1), 7)


def _names(ptype: np.ndarray, rng: np.random.Generator) -> pa.Array:
    """Compound names (小区名): two stock words, a suffix by property type, sometimes a phase (期)."""
    n = len(ptype)
    suffixes = [_SUFFIXES[t] for t in PROPERTY_TYPES]
    flat = pa.array(np.concatenate(suffixes))
    off = np.concatenate([[0], np.cumsum([len(x) for x in suffixes])])
    size = np.diff(off)
    words = pa.array(_PREFIXES)
    w1 = pc.take(words, pa.array(rng.integers(0, len(_PREFIXES), n)))
    w2 = pc.take(words, pa.array(rng.integers(0, len(_PREFIXES), n)))
    suf = pc.take(flat, pa.array(off[ptype] + np.floor(rng.random(n) * size[ptype]).astype(np.int64)))
    phase = pc.take(pa.array(_PHASES), pa.array(np.where(rng.random(n) < 0.15, rng.integers(1, 4, n), 0)))
    return pc.binary_join_element_wise(w1, w2, suf, phase, "")


def _tables(uv: _Universe) -> dict[str, pa.Table]:
    c, b, u, s, li = uv.compounds, uv.buildings, uv.units, uv.sales, uv.listings
    da = district_arrays()
    latlon = city_latlon()
    n_c = len(c.city)
    cities = pa.table({
        "city_code": [x.code for x in CITIES], "city_name": [x.name for x in CITIES],
        "province_code": [x.province_code for x in CITIES], "province_name": [x.province_name for x in CITIES],
        "tier": [x.tier for x in CITIES], "lat": latlon[:, 0], "lon": latlon[:, 1],
    })  # fmt: skip
    districts = pa.table({
        "district_code": da.code, "city_code": [CITIES[i].code for i in da.city_index],
        "district_name": da.name, "lat": da.lat, "lon": da.lon,
    })  # fmt: skip

    comp_id = _compound_ids(n_c)
    name = _names(c.ptype, np.random.default_rng(np.random.SeedSequence([PROPERTY_STREAM, n_c])))
    n_bld = np.bincount(b.compound, minlength=n_c)
    n_unit = np.bincount(u.compound, minlength=n_c)
    compounds = pa.table({
        "compound_id": comp_id,
        "city_code": pa.array(np.array([x.code for x in CITIES])[c.city]),
        "district_code": pa.array(da.code[c.district]),
        "name": name,
        "lat": c.lat, "lon": c.lon, "build_year": c.build_year,
        "property_type": _codes(c.ptype, PROPERTY_TYPES),
        "land_tenure_years": c.tenure,
        "greening_rate": pa.array(c.greening, mask=c.null_greening),
        "plot_ratio": pa.array(c.plot_ratio, mask=c.null_plot),
        "property_fee": _fen(c.fee_fen, c.null_fee),
        "school_district": c.school,
        "metro_distance_m": pa.array(c.metro_m, mask=c.null_metro),
        "n_buildings": n_bld, "n_units": n_unit,
    })  # fmt: skip

    b_id = _join(pc.take(comp_id, pa.array(b.compound)), "-", _ids("", b.no, 2))
    buildings = pa.table({
        "building_id": b_id,
        "compound_id": pc.take(comp_id, pa.array(b.compound)),
        "building_no": pc.binary_join_element_wise(pc.cast(pa.array(b.no), pa.string()), "号楼", ""),
        "building_type": _codes(b.btype, BUILDING_TYPES),
        "total_floors": b.floors, "units_per_floor": b.per_floor, "elevator": b.elevator,
        "build_year": b.build_year,
    })  # fmt: skip

    room_no = pc.cast(pa.array(u.floor * 100 + u.door), pa.string())
    unit_id = _join(pc.take(b_id, pa.array(u.building)), "-", room_no)
    units = pa.table({
        "unit_id": unit_id, "building_id": pc.take(b_id, pa.array(u.building)), "room_no": room_no,
        "floor": u.floor, "total_floors": b.floors[u.building], "area": u.area,
        "rooms": pa.array(u.rooms, mask=u.null_rooms), "halls": pa.array(u.halls, mask=u.null_rooms),
        "orientation": _codes(u.orientation, ORIENTATIONS, u.null_orientation),
        "decoration": _codes(u.decoration, DECORATIONS, u.null_decoration),
    })  # fmt: skip

    txn_id = _ids("T", np.arange(1, len(s.unit) + 1), 10)
    txn_unit = pc.take(unit_id, pa.array(s.unit))
    transactions = pa.table({
        "txn_id": txn_id, "unit_id": txn_unit, "date": _dates(s.day), "price": _fen(s.price_fen),
        "area": u.area[s.unit], "channel": _codes(s.channel, CHANNELS),
    })  # fmt: skip
    open_ = li.reason < 0
    listings = pa.table({
        "listing_id": _ids("L", np.arange(1, len(li.unit) + 1), 10),
        "unit_id": pc.take(unit_id, pa.array(li.unit)),
        "list_date": _dates(li.list_day), "asking_price": _fen(li.asking_fen),
        "delist_date": _dates(li.delist_day, open_),
        "delist_reason": _codes(np.maximum(li.reason, 0), DELIST_REASONS, open_),
    })  # fmt: skip

    # --- truth ---
    months_d = uv.months.astype("datetime64[D]")
    n_m = len(uv.months)
    index = pa.table({
        "compound_id": pc.take(comp_id, pa.array(np.repeat(np.arange(n_c), n_m))),
        "month": pa.array(np.tile(months_d, n_c)),
        "index": np.exp(uv.log_compound).ravel(),
        "log_city": uv.log_city[c.city].ravel(),
        "log_district": uv.log_district[c.district].ravel(),
        "log_compound": (uv.log_compound - uv.log_city[c.city] - uv.log_district[c.district]).ravel(),
    })  # fmt: skip
    value = pa.table({
        "txn_id": txn_id, "unit_id": txn_unit, "date": _dates(s.day),
        "true_value": _fen(np.round(s.true_value * 100).astype(np.int64)),
        "true_price_per_m2": s.true_value / u.area[s.unit], "log_index": s.log_index,
    })  # fmt: skip
    n_u = len(u.building)
    last = np.full(n_u, n_m - 1)
    end_day = np.full(n_u, int(uv.month_day[-1]) - 1)
    end_val = uv.unit_value(np.arange(n_u), last, end_day)
    unit_value = pa.table({
        "unit_id": unit_id, "month": pa.array(np.full(n_u, months_d[-1])),
        "true_value": _fen(np.round(end_val * 100).astype(np.int64)),
        "log_static": c.effect[u.compound] + u.effect,
    })  # fmt: skip
    return {
        PROPERTY_CITIES.name: cities, PROPERTY_DISTRICTS.name: districts, PROPERTY_COMPOUNDS.name: compounds,
        PROPERTY_BUILDINGS.name: buildings, PROPERTY_UNITS.name: units,
        PROPERTY_TRANSACTIONS.name: transactions, PROPERTY_LISTINGS.name: listings,
        "truth/property_index": index, "truth/property_value": value, "truth/property_unit_value": unit_value,
    }  # fmt: skip


def truth_root(zone: RawZone) -> Path:
    """Where the generator's truth lives: beside the raw zone, never in it."""
    return zone.root.parent / "truth"


def generate_property(config: SynthConfig, zone: RawZone, progress: Any = None) -> dict[str, int]:
    """Write the property sources to the raw zone and the truth beside it; return row counts.

    Deterministic in `config` (seed, compounds, property_years, end_month). With a Rich `progress`,
    adds a task that advances per table written.
    """
    task = progress.add_task("property database", total=12) if progress is not None else None

    def step(n: int = 1) -> None:
        if progress is not None:
            progress.advance(task, n)

    uv = _universe(config)
    step(2)
    tables = _tables(uv)
    truth = truth_root(zone)
    for name, table in tables.items():
        if name.startswith("truth/"):
            folder = truth / name.removeprefix("truth/")
            folder.mkdir(parents=True, exist_ok=True)
            target = folder / f"{PART}.parquet"
            tmp = target.with_suffix(f".tmp{os.getpid()}")
            pq.write_table(table, tmp, compression="zstd")
            tmp.replace(target)
        else:
            zone.write_part(name, PART, table)
        step()
    (truth / "property_model.json").write_text(json.dumps(MODEL, ensure_ascii=False, indent=1), encoding="utf-8")
    s = uv.sales
    repeat_units = int((np.bincount(s.unit) >= 2).sum()) if len(s.unit) else 0
    return {
        "cities": len(CITIES),
        "districts": len(district_arrays().code),
        "compounds": len(uv.compounds.city),
        "buildings": len(uv.buildings.compound),
        "units": len(uv.units.building),
        "transactions": len(s.unit),
        "repeat_sale_units": repeat_units,
        "listings": len(uv.listings.unit),
        "months": len(uv.months),
    }


# ---------------------------------------------------------------------------------------------------
# holdings
# ---------------------------------------------------------------------------------------------------
def _city_of_uscc(usccs: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """City index from the registration division code in a USCC (GB 32100: characters 3–8); where it
    names no covered city, a city drawn by enterprise weight."""
    prefixes, idx = [], []
    for i, c in enumerate(CITIES):
        if c.is_municipality:
            prefixes += [c.code[:2] + "01", c.code[:2] + "02", c.code[:4]]
            idx += [i, i, i]
        else:
            prefixes.append(c.code[:4])
            idx.append(i)
    sub = pc.utf8_slice_codeunits(pa.array(usccs, pa.string()), 2, 6)
    pos = pc.index_in(sub, value_set=pa.array(prefixes)).to_numpy(zero_copy_only=False)
    pos = np.where(np.isnan(pos.astype(np.float64)), -1, pos).astype(np.int64)
    city = np.where(pos >= 0, np.array(idx)[np.maximum(pos, 0)], -1)
    w = np.array([c.weight for c in CITIES])
    fallback = rng.choice(len(CITIES), size=len(city), p=w / w.sum())
    return np.where(city >= 0, city, fallback)


@lru_cache(maxsize=2)
def _holding_slots(config: SynthConfig) -> tuple[np.ndarray, np.ndarray]:
    """Units in a fixed random order and the chunk each belongs to: chunk k only uses its own units."""
    (r,) = _streams(config, 7)[6:]
    n_u = len(_universe(config).units.building)
    order = r.permutation(n_u)
    chunk = np.empty(n_u, dtype=np.int64)
    chunk[order] = np.arange(n_u) % max(config.n_chunks, 1)
    return order, chunk


def generate_holdings(
    config: SynthConfig, chunk_index: int, usccs: np.ndarray, legal_rep_ids: np.ndarray, rng: np.random.Generator
) -> pa.Table:
    """Homes held by the chunk's enterprises and their legal representatives (不动产权属), as of the end
    of the history, in the `property_holdings` contract.

    About 7% of enterprises hold one or two residential units; about 68% of legal representatives hold
    one to three, most in the enterprise's city. Units come from this chunk's own slice of the property
    database, so holdings of different chunks never share a unit. Acquisition follows the unit's last
    sale in the history where there is one (price = that sale's price); otherwise it predates the
    history. Some holdings carry a mortgage, amortised (equal instalments at 4.9% a year) to the
    snapshot date.
    """
    usccs = np.asarray(usccs, dtype=object)
    reps = np.asarray(legal_rep_ids, dtype=object)
    if len(usccs) != len(reps):
        raise ValidationError(
            "usccs and legal_rep_ids differ in length",
            code="invalid_holdings_input",
            usccs=len(usccs),
            legal_rep_ids=len(reps),
        )
    if not 0 <= chunk_index < max(config.n_chunks, 1):
        raise ValidationError(
            f"chunk_index {chunk_index} outside 0..{config.n_chunks - 1}",
            code="invalid_holdings_input",
            chunk_index=chunk_index,
        )
    uv = _universe(config)
    owner_e, is_person, rep_str = _owners(usccs, reps, rng)
    owner_e, is_person, picked = _pick_units(
        config, uv, chunk_index, _city_of_uscc(usccs, rng)[owner_e], owner_e, is_person, rng
    )
    n_h = len(picked)
    day, price_fen, price_null = _acquisition(uv, picked, rng)
    end_day = int(uv.month_day[-1]) - 1
    mortgaged, balance_fen = _mortgage(price_fen, day, end_day, is_person, rng)
    owner_id = np.where(is_person, rep_str[owner_e], usccs[owner_e].astype(str))
    table = pa.table({
        "unit_id": _unit_ids(config, picked),
        "owner_type": pa.array(np.where(is_person, "person", "enterprise")),
        "owner_id": pa.array(owner_id),
        "uscc": pa.array(usccs[owner_e].astype(str)),
        "acquired_date": _dates(day),
        "purchase_price": _fen(price_fen, price_null),
        "mortgaged": mortgaged,
        "mortgage_balance": _fen(balance_fen),
        "as_of": _dates(np.full(n_h, end_day)),
    })  # fmt: skip
    table = table.sort_by([("owner_id", "ascending"), ("unit_id", "ascending")])
    return table.cast(PROPERTY_HOLDINGS.arrow_schema)


def _owners(usccs: np.ndarray, reps: np.ndarray, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """One row per home to place: the enterprise index, whether its legal representative holds it, and
    the representatives as strings. A representative of several enterprises counts once."""
    n_e = len(usccs)
    e_n = np.where(rng.random(n_e) < 0.07, 1 + (rng.random(n_e) < 0.2), 0)
    rep_arr = pc.fill_null(pa.array(reps, pa.string()), "")
    valid = pc.greater(pc.utf8_length(rep_arr), 0).to_numpy(zero_copy_only=False).astype(bool)
    rep_str = np.asarray(rep_arr.to_numpy(zero_copy_only=False), dtype=str) if n_e else np.zeros(0, str)
    _, first = np.unique(rep_str, return_index=True)
    first = np.sort(first[valid[first]])
    r = rng.random(len(first))
    p_n = np.where(r < 0.68 * 0.70, 1, np.where(r < 0.68 * 0.92, 2, np.where(r < 0.68, 3, 0)))
    owner_e = np.concatenate([np.repeat(np.arange(n_e), e_n), np.repeat(first, p_n)])
    is_person = np.concatenate([np.zeros(int(e_n.sum()), bool), np.ones(int(p_n.sum()), bool)])
    return owner_e, is_person, rep_str


def _pick_units(
    config: SynthConfig,
    uv: _Universe,
    chunk_index: int,
    home: np.ndarray,
    owner_e: np.ndarray,
    is_person: np.ndarray,
    rng: np.random.Generator,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """A unit of this chunk's slice for each home, 85% in the owner's city; homes that find no unit left
    in the slice are dropped."""
    n_h = len(owner_e)
    w = np.array([c.weight for c in CITIES])
    elsewhere = rng.choice(len(CITIES), size=n_h, p=w / w.sum())
    want_city = np.where(rng.random(n_h) < 0.85, home, elsewhere)
    order, chunk = _holding_slots(config)
    mine = order[chunk[order] == chunk_index]
    unit_city = uv.compounds.city[uv.units.compound[mine]]
    picked = np.full(n_h, -1, dtype=np.int64)
    leftovers = []
    for ci in range(len(CITIES)):  # 54 cities: match owners to this chunk's units in their city
        need = np.flatnonzero(want_city == ci)
        pool = mine[unit_city == ci]
        take = min(len(need), len(pool))
        picked[need[:take]] = pool[:take]
        leftovers.append(pool[take:])
    short = np.flatnonzero(picked < 0)
    if len(short):
        rest = np.concatenate(leftovers)
        rest = rest[rng.permutation(len(rest))][: len(short)]
        picked[short[: len(rest)]] = rest
    keep = picked >= 0
    return owner_e[keep], is_person[keep], picked[keep]


def _acquisition(
    uv: _Universe, picked: np.ndarray, rng: np.random.Generator
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Acquisition day and price (fen) of each held unit, and where the price is unknown: the unit's last
    sale in the history where there is one, else a day before the history (or within a year of
    completion) at the value then (the history's first index, 5% a year less for each year before)."""
    u, s = uv.units, uv.sales
    n_h = len(picked)
    first_day, end_day = int(uv.month_day[0]), int(uv.month_day[-1]) - 1
    last = uv.last_sale[picked]
    sold = last >= 0
    completion = ((u.build_year[picked] + 1 - 1970) * 365.2425).astype(np.int64)
    lo = np.maximum(completion, first_day - 15 * 365)
    before = lo + np.floor(rng.random(n_h) * np.maximum(first_day - lo, 1)).astype(np.int64)
    after = np.minimum(completion + rng.integers(0, 365, n_h), end_day)
    pre_day = np.where(completion < first_day, before, after)
    day = np.where(sold, s.day[np.maximum(last, 0)], pre_day)
    month = np.clip(np.searchsorted(uv.month_day, day, side="right") - 1, 0, len(uv.months) - 1)
    years_back = np.maximum(first_day - day, 0) / 365.2425
    value = uv.unit_value(picked, month, np.maximum(day, first_day)) * np.exp(-0.05 * years_back)
    price_fen = np.where(sold, s.price_fen[np.maximum(last, 0)], (np.round(value / 1000.0) * 100_000).astype(np.int64))
    price_null = ~sold & (rng.random(n_h) < 0.3)
    return day, price_fen, price_null


def _mortgage(
    price_fen: np.ndarray, day: np.ndarray, end_day: int, is_person: np.ndarray, rng: np.random.Generator
) -> tuple[np.ndarray, np.ndarray]:
    """Existing mortgages (45% of persons' homes, 15% of enterprises'): 30–70% of the price, equal
    instalments (等额本息) at 4.9% a year over 20–30 years (persons) or 10 (enterprises); the balance
    outstanding at `end_day`, in fen. A loan already repaid is no mortgage."""
    n_h = len(day)
    mortgaged = rng.random(n_h) < np.where(is_person, 0.45, 0.15)
    ltv = 0.3 + 0.4 * rng.random(n_h)
    term = np.where(is_person, rng.choice([240, 300, 360], n_h), 120)
    elapsed = np.maximum((end_day - day) // 30, 0)
    rate = 0.049 / 12
    growth_n = (1 + rate) ** term
    growth_p = (1 + rate) ** np.minimum(elapsed, term)
    # balance after p payments of an annuity: L * ((1+r)^n - (1+r)^p) / ((1+r)^n - 1)
    balance = price_fen * ltv * (growth_n - growth_p) / (growth_n - 1)
    mortgaged &= elapsed < term
    return mortgaged, np.where(mortgaged, np.round(balance), 0).astype(np.int64)


def _unit_ids(config: SynthConfig, units: np.ndarray) -> pa.Array:
    """Unit ids of unit indices, exactly as written to property_units."""
    uv = _universe(config)
    b = uv.buildings
    bld = uv.units.building[units]
    comp = _compound_ids(len(uv.compounds.city))
    b_id = _join(pc.take(comp, pa.array(b.compound[bld])), "-", _ids("", b.no[bld], 2))
    room = pc.cast(pa.array(uv.units.floor[units] * 100 + uv.units.door[units]), pa.string())
    return _join(b_id, "-", room)
