"""The automated valuation model (自动估值模型, AVM) for residential collateral: fit on arm's-length sales,
value any unit at a date with a forecast standard deviation (FSD), a confidence score, an interval, a
comparables cross-check — or say "no value" and why.

How a value is made (avm_scf.md A2), all on log price per m²:
1. **Hedonic part**: a compound effect (小区 fixed effect, shrunk towards a prior built from the city, the
   district and the compound's attributes when the compound has few sales) plus unit terms estimated
   within compounds: log area, rooms for the size, orientation (朝向), finish (装修), floor position
   (底/低/中/高/顶 × lift), age and building type.
2. **Time**: a city → district → compound monthly index (`index.HierarchicalIndex`) fitted jointly with
   the hedonic part by backfitting, so every old deal is brought to the valuation date.
3. **Gradient boosting** (scikit-learn `HistGradientBoostingRegressor`) on what the hedonic model leaves,
   over unit and location features (lat/lon, floor, size, age, compound level): non-linearities and
   interactions the linear terms miss; early-stopped on held-out sales.
4. **The unit's own history**: a unit that sold before carries a persistent premium or discount; its
   past residuals are shrunk by the best linear predictor σ²_u / (σ²_u + σ²_n / k), both variances
   estimated from repeat sales.
5. **Comparables** (比较法 / the 小区 unit-price method): the median of the compound's recent deals,
   each indexed to the valuation date and hedonically adjusted to the subject; reported beside the value
   as a cross-check and used in the FSD, never averaged into the value.
6. **FSD**: a model of the size of the error (data thinness, horizon, comparables disagreement,
   compound dispersion …) fitted on an internal time split — the last months before the data end are
   valued by a model fitted without them — and scaled so that value ± FSD holds 68 % of those sales
   (split-conformal calibration). Confidence score = 100 × (1 − FSD) (HouseCanary convention, A1).

Non-arm's-length sales are excluded from fitting (and from evaluation, see `evaluate`): judicial
auctions (司法拍卖, forced sales at a discount) and private transfers (自行成交, incl. between relatives),
which the property contract marks as not arm's length. A value is refused ("no value", never faked)
when the city has no recent sales, the date is too far past the data, the subject is outside the range
the model has seen, or the FSD is above the limit. Bad requests raise `ValidationError` / `NotFound`.
The model is pure numpy / polars / scikit-learn; `save` and `load` are its only I/O.
"""

from __future__ import annotations

import hashlib
import json
import pickle
from collections.abc import Mapping
from dataclasses import asdict, dataclass, field, replace
from datetime import date
from pathlib import Path
from typing import Any

import numpy as np
import polars as pl

from puhui.collateral.index import HierarchicalIndex, smooth_paths
from puhui.core.errors import ConfigurationError, NotFound, ValidationError
from puhui.core.money import Money

__all__ = [
    "ARMS_LENGTH_CHANNELS",
    "COMPOUND_COLUMNS",
    "NO_VALUE_REASONS",
    "UNIT_COLUMNS",
    "Avm",
    "AvmSettings",
    "Subject",
    "Valuation",
    "fit",
    "load",
]

MODEL_FORMAT = 1

ARMS_LENGTH_CHANNELS: frozenset[str] = frozenset({"agency"})
"""Sale channels fitted and evaluated: 中介成交 only. `auction` (司法拍卖) and `private` (自行成交) are not
arm's length (data contract `property_transactions`, IAAO ratio studies use arm's-length sales only)."""

UNIT_COLUMNS = (
    "area", "floor", "total_floors", "elevator", "build_year", "rooms", "halls", "orientation", "decoration",
    "building_type",
)  # fmt: skip
"""Columns describing a unit (all but `area` optional; nulls allowed)."""

COMPOUND_COLUMNS = (
    "compound", "district", "city", "lat", "lon", "property_type", "compound_build_year", "school_district",
    "metro_distance_m", "greening_rate", "plot_ratio",
)  # fmt: skip
"""Columns describing a compound (小区): the first three required, the rest optional."""

NO_VALUE_REASONS = {
    "no_market_data": "no arm's-length sale in the subject's city in the model's data",
    "stale_market": "the city's last sale, or the model's data end, is too long before the valuation date",
    "outside_model_range": "the subject lies outside the range of units the model has seen",
    "fsd_above_limit": "the forecast standard deviation is above the limit for a usable value",
}
"""Why the model declines to value (a "no value" answer counts against the hit rate)."""

_CATEGORICAL = ("orientation", "decoration", "building_type", "property_type")
_FLOOR_POS = ("bottom", "low", "middle", "high", "top")
_MAX_AREA = 5_000.0  # m²: above this no residential unit is plausible (bad input, not a thin market)
_FLOOR_LIMIT = 200


@dataclass(frozen=True)
class AvmSettings:
    """Settings of a fit. The priors are standard deviations in log points (0.01 ≈ 1 %)."""

    max_fsd: float = 0.20  # no value above (confidence < 80); a lending policy setting, not a statistic
    interval_level: float = 0.90  # the reported low/high interval
    max_horizon_months: int = 12  # valuation date at most this far past the data end
    stale_months: int = 18  # no value if the city's last sale is older than this at the valuation date
    calibration_months: int = 6  # FSD calibration window before the data end
    backfit_iterations: int = 6
    city_rw_sd: float = 0.008  # monthly innovation of the city index
    district_rw_sd: float = 0.004
    district_level_sd: float = 0.03
    compound_rw_sd: float = 0.006
    compound_level_sd: float = 0.15
    trend_damping: float = 0.0  # past the data end: 0 = hold the last index level
    gbm: bool = True
    gbm_max_iter: int = 300
    gbm_learning_rate: float = 0.05
    comparables_max: int = 10
    comparables_window_months: int = 24  # GB/T 50291-2015 prefers comparables within about a year [R]
    comparables_min: int = 3  # GB/T 50291-2015: at least three comparables [R]
    huber_k: float = 2.0  # robust weights: residuals beyond k σ are down-weighted
    seed: int = 20261129

    def __post_init__(self) -> None:
        if not 0.0 < self.max_fsd < 1.0 or not 0.5 < self.interval_level < 1.0:
            raise ConfigurationError(
                "max_fsd must be in (0, 1) and interval_level in (0.5, 1)", code="invalid_avm_setting"
            )
        if self.max_horizon_months < 0 or self.calibration_months < 1 or self.backfit_iterations < 1:
            raise ConfigurationError("horizon, calibration and iterations must be positive", code="invalid_avm_setting")


@dataclass(frozen=True)
class Subject:
    """A unit to value: its compound and what is known of it (unknowns as None)."""

    compound: str
    area: float
    unit_id: str | None = None
    floor: int | None = None
    total_floors: int | None = None
    elevator: bool | None = None
    build_year: int | None = None
    rooms: int | None = None
    halls: int | None = None
    orientation: str | None = None
    decoration: str | None = None
    building_type: str | None = None

    def row(self) -> dict[str, Any]:
        return asdict(self)


@dataclass(frozen=True)
class Valuation:
    """One answer. With `value` None the model declined: `reason` (a `NO_VALUE_REASONS` code) says why."""

    as_of: date
    subject: str
    value: Money | None
    value_per_m2: Money | None
    fsd: float | None  # forecast standard deviation as a fraction: value × (1 ± fsd) holds ~68 % of prices
    confidence: int | None  # 100 × (1 − fsd), 0–100
    low: Money | None  # interval at `interval_level`
    high: Money | None
    interval_level: float
    comparable_value: Money | None  # the 小区 comparables cross-check (None with fewer than 3 comparables)
    n_comparables: int
    reason: str | None
    model_version: str
    flags: tuple[str, ...] = ()

    @property
    def valued(self) -> bool:
        return self.value is not None

    def to_dict(self) -> dict[str, Any]:
        def m(x: Money | None) -> str | None:
            return None if x is None else str(x.amount)

        return {
            "as_of": self.as_of.isoformat(), "subject": self.subject, "value": m(self.value),
            "value_per_m2": m(self.value_per_m2), "currency": "CNY", "fsd": self.fsd,
            "confidence": self.confidence, "low": m(self.low), "high": m(self.high),
            "interval_level": self.interval_level, "comparable_value": m(self.comparable_value),
            "n_comparables": self.n_comparables, "reason": self.reason,
            "reason_text": NO_VALUE_REASONS.get(self.reason or ""), "model_version": self.model_version,
            "flags": list(self.flags),
        }  # fmt: skip


# ---------------------------------------------------------------------------------------------------
# input arrays
# ---------------------------------------------------------------------------------------------------
def _days(dates: Any) -> np.ndarray:
    """Dates (polars Series of Date, numpy datetime64, or python dates) as int days since 1970-01-01."""
    if isinstance(dates, pl.Series):
        return dates.cast(pl.Date).cast(pl.Int32).to_numpy().astype(np.int64)
    arr = np.asarray(dates)
    if arr.dtype.kind == "M":
        return arr.astype("datetime64[D]").astype(np.int64)
    return np.array([np.datetime64(d, "D") for d in arr.ravel()]).astype(np.int64)


def _floats(frame: pl.DataFrame, name: str) -> np.ndarray:
    if name not in frame.columns:
        return np.full(frame.height, np.nan)
    return frame[name].cast(pl.Float64).fill_null(np.nan).to_numpy().astype(np.float64)


def _strings(frame: pl.DataFrame, name: str) -> np.ndarray:
    if name not in frame.columns:
        return np.full(frame.height, "", dtype=object)
    return np.asarray(frame[name].cast(pl.String).fill_null("").to_numpy(), dtype=object)


def _lookup(keys: np.ndarray, values: np.ndarray) -> np.ndarray:
    """Position of each value in the sorted `keys` array, −1 where absent."""
    if len(keys) == 0:
        return np.full(len(values), -1, dtype=np.int64)
    v = np.asarray(values, dtype=str)
    pos = np.clip(np.searchsorted(keys, v), 0, len(keys) - 1)
    return np.where(keys[pos] == v, pos, -1).astype(np.int64)


def _onehot(codes: np.ndarray, n_levels: int) -> np.ndarray:
    """Dummies for levels 1 … n_levels−1 (level 0 is the reference)."""
    out = np.zeros((len(codes), max(n_levels - 1, 0)))
    sel = codes > 0
    out[np.flatnonzero(sel), codes[sel] - 1] = 1.0
    return out


@dataclass
class _Units:
    """Numeric view of unit rows (a sale or a subject) against a fitted vocabulary."""

    compound: np.ndarray
    district: np.ndarray
    city: np.ndarray
    area: np.ndarray
    floor: np.ndarray
    total_floors: np.ndarray
    elevator: np.ndarray  # 1, 0, nan
    build_year: np.ndarray
    rooms: np.ndarray
    halls: np.ndarray
    cat: dict[str, np.ndarray]  # level codes, 0 = missing
    unit_id: np.ndarray
    house: np.ndarray  # villa / low-rise unit: no floor position


@dataclass
class _Vocab:
    """What a fit learned about the identifiers and category levels."""

    compounds: np.ndarray  # sorted compound ids (str)
    comp_district: np.ndarray  # district index of each compound
    comp_city: np.ndarray
    districts: np.ndarray
    district_city: np.ndarray
    cities: np.ndarray
    levels: dict[str, list[str]]  # category levels; index 0 = missing
    comp_z: np.ndarray  # compound attribute matrix for the prior
    comp_lat: np.ndarray
    comp_lon: np.ndarray
    comp_build_year: np.ndarray
    comp_ptype: np.ndarray
    area_per_room: float


def _vocab(compounds: pl.DataFrame, sales: pl.DataFrame) -> _Vocab:
    for col in ("compound", "district", "city"):
        if col not in compounds.columns:
            raise ValidationError(f"compound table lacks column {col!r}", code="missing_column", column=col)
    compounds = compounds.unique(subset=["compound"], keep="first").sort("compound")
    comp = np.asarray(compounds["compound"].cast(pl.String).to_numpy(), dtype=str)
    dist_of = np.asarray(_strings(compounds, "district"), dtype=str)
    city_of = np.asarray(_strings(compounds, "city"), dtype=str)
    cities = np.unique(city_of)
    pairs = np.unique(np.char.add(np.char.add(dist_of, "|"), city_of))
    districts = np.array([p.split("|")[0] for p in pairs], dtype=str)
    order = np.argsort(districts, kind="stable")
    districts = districts[order]
    d_city = np.array([p.split("|")[1] for p in pairs], dtype=str)[order]
    if len(np.unique(districts)) != len(districts):
        raise ValidationError("a district belongs to two cities", code="inconsistent_geography")
    levels: dict[str, list[str]] = {}
    for name in _CATEGORICAL:
        src = compounds if name == "property_type" else sales
        vals = sorted({v for v in _strings(src, name) if v})
        levels[name] = ["", *vals]
    rooms = _floats(sales, "rooms")
    area = _floats(sales, "area")
    ok = np.isfinite(rooms) & (rooms > 0) & np.isfinite(area)
    apr = float(np.median(area[ok] / rooms[ok])) if ok.sum() > 10 else 35.0
    ptype_levels = np.array(levels["property_type"][1:], dtype=str)
    ptype = _lookup(ptype_levels, np.asarray(_strings(compounds, "property_type"), dtype=str)) + 1
    z, by = _compound_z(compounds, ptype, len(levels["property_type"]))
    return _Vocab(
        compounds=comp, comp_district=_lookup(districts, dist_of), comp_city=_lookup(cities, city_of),
        districts=districts, district_city=_lookup(cities, d_city), cities=cities, levels=levels, comp_z=z,
        comp_lat=_floats(compounds, "lat"), comp_lon=_floats(compounds, "lon"), comp_build_year=by,
        comp_ptype=ptype, area_per_room=apr,
    )  # fmt: skip


def _fill(x: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Missing values replaced by the median (0 if all missing), and the missing flag."""
    miss = ~np.isfinite(x)
    med = float(np.median(x[~miss])) if (~miss).any() else 0.0
    return np.where(miss, med, x), miss.astype(float)


def _compound_z(compounds: pl.DataFrame, ptype: np.ndarray, n_ptype: int) -> tuple[np.ndarray, np.ndarray]:
    """Compound attributes for the prior of a thin compound's effect (property type, school, metro,
    greening, plot ratio, age); missing values filled with the median and flagged."""
    cols = [_onehot(ptype, n_ptype)]
    school = _floats(compounds, "school_district")
    cols.append(np.nan_to_num(school)[:, None])
    metro = np.minimum(_floats(compounds, "metro_distance_m") / 1000.0, 5.0)
    for x in (metro, _floats(compounds, "greening_rate"), _floats(compounds, "plot_ratio")):
        v, miss = _fill(x)
        cols += [v[:, None], miss[:, None]]
    by = _floats(compounds, "compound_build_year")
    v, miss = _fill(by)
    cols += [((v - 2005.0) / 10.0)[:, None], (((v - 2005.0) / 10.0) ** 2)[:, None], miss[:, None]]
    z = np.hstack(cols)
    keep = z.std(axis=0) > 0
    return z[:, keep], by


def _units(frame: pl.DataFrame, vocab: _Vocab, *, strict: bool) -> _Units:
    """Unit rows against the vocabulary. With `strict`, an unknown compound or category level is an error."""
    comp_ids = np.asarray(_strings(frame, "compound"), dtype=str)
    compound = _lookup(vocab.compounds, comp_ids)
    if strict and (compound < 0).any():
        bad = str(comp_ids[compound < 0][0])
        raise NotFound(f"unknown compound {bad!r}", code="unknown_compound", compound=str(bad))
    cat: dict[str, np.ndarray] = {}
    for name in _CATEGORICAL:
        if name == "property_type":
            cat[name] = np.where(compound >= 0, vocab.comp_ptype[np.maximum(compound, 0)], 0)
            continue
        raw = np.asarray(_strings(frame, name), dtype=str)
        lv = vocab.levels[name]
        code = _lookup(np.array(lv[1:], dtype=str), raw) + 1
        unknown = (code == 0) & (raw != "")
        if strict and unknown.any():
            raise ValidationError(
                f"unknown {name} {raw[unknown][0]!r}; known: {lv[1:]}", code=f"unknown_{name}", field=name
            )
        cat[name] = code
    elevator = _floats(frame, "elevator")
    house = np.zeros(len(compound), bool)
    for name, level in (("building_type", "low_rise"), ("property_type", "villa")):
        if level in vocab.levels[name]:
            house |= cat[name] == vocab.levels[name].index(level)
    return _Units(
        compound=compound,
        district=np.where(compound >= 0, vocab.comp_district[np.maximum(compound, 0)], -1),
        city=np.where(compound >= 0, vocab.comp_city[np.maximum(compound, 0)], -1),
        area=_floats(frame, "area"), floor=_floats(frame, "floor"), total_floors=_floats(frame, "total_floors"),
        elevator=elevator, build_year=_floats(frame, "build_year"), rooms=_floats(frame, "rooms"),
        halls=_floats(frame, "halls"), cat=cat, unit_id=np.asarray(_strings(frame, "unit_id"), dtype=str),
        house=house,
    )  # fmt: skip


def _floor_position(u: _Units) -> np.ndarray:
    """0 unknown, 1–5 bottom/low/middle/high/top (底/低/中/高/顶) in a walk-up, 6–10 the same with a lift,
    11 a single-storey or villa unit (no floor position)."""
    f, tot = u.floor, u.total_floors
    known = np.isfinite(f) & np.isfinite(tot) & (tot >= 1)
    h = np.where(known, f / np.where(known, tot, 1), 0.0)
    pos = np.select([f == 1, f == tot, h <= 1 / 3, h <= 2 / 3], [1, 5, 2, 3], 4)
    lift = np.where(np.isfinite(u.elevator), u.elevator > 0, np.where(known, tot > 7, False))
    pos = np.where(lift, pos + 5, pos)
    pos = np.where(known, pos, 0)
    return np.where(u.house, 11, pos).astype(np.int64)


def _age(u: _Units, vocab: _Vocab, ref_day: int) -> tuple[np.ndarray, np.ndarray]:
    """Years since completion (building year, else the compound's) at the model's reference day, clipped
    to 0–60; missing flag.

    Age is taken at one fixed day, not at each sale's date: within a compound, ageing is perfectly
    collinear with time, so an age slope fitted on sale-date ages trades off against the index and then
    keeps depreciating past the data end while the index is held — a bias that grows with the horizon.
    The index carries the average ageing instead."""
    by = u.build_year.copy()
    use_c = ~np.isfinite(by) & (u.compound >= 0)
    by[use_c] = vocab.comp_build_year[u.compound[use_c]]
    miss = ~np.isfinite(by)
    years = 1970.0 + ref_day / 365.2425
    age = np.clip(years - (np.where(miss, years, by) + 0.5), 0.0, 60.0)
    return age, miss.astype(float)


def _design(u: _Units, vocab: _Vocab, ref_day: int) -> np.ndarray:
    """The hedonic unit terms (within-compound regressors)."""
    la = np.log(u.area / 90.0)
    rooms_ok = np.isfinite(u.rooms)
    extra = np.where(rooms_ok, u.rooms - np.round(u.area / vocab.area_per_room), 0.0)
    extra = np.clip(extra, -3, 3)
    age, age_miss = _age(u, vocab, ref_day)
    cols = [
        la[:, None], extra[:, None], (~rooms_ok).astype(float)[:, None],
        age[:, None], np.maximum(age - 30.0, 0.0)[:, None], age_miss[:, None],
        _onehot(_floor_position(u), 12),
    ]  # fmt: skip
    for name in ("orientation", "decoration", "building_type"):
        cols.append(_onehot(u.cat[name], len(vocab.levels[name])))
    return np.hstack(cols)


def _gbm_features(u: _Units, vocab: _Vocab, ref_day: int, level: np.ndarray, n_comp: np.ndarray) -> np.ndarray:
    """Features of the boosting stage: the unit's physical terms, where it is, and its compound's level."""
    c = np.maximum(u.compound, 0)
    age, _ = _age(u, vocab, ref_day)
    tot = u.total_floors
    return np.column_stack([
        np.log(u.area), u.floor, tot, np.where(np.isfinite(tot) & (tot > 0), u.floor / tot, np.nan), u.elevator,
        age, u.rooms, u.halls,
        u.cat["orientation"], u.cat["decoration"], u.cat["building_type"], u.cat["property_type"],
        vocab.comp_lat[c], vocab.comp_lon[c], level, np.log1p(n_comp),
    ])  # fmt: skip


_GBM_CATEGORICAL = [8, 9, 10, 11]
_PARALLEL_ROWS = 2_000


# ---------------------------------------------------------------------------------------------------
# the fitted state
# ---------------------------------------------------------------------------------------------------
@dataclass
class _State:
    beta: np.ndarray
    mu: np.ndarray  # compound effect (log price per m², static part) per compound
    n_comp: np.ndarray  # effective number of sales per compound
    index: HierarchicalIndex
    sigma: float
    sigma_unit: float  # sd of the persistent unit effect
    gbm: Any
    unit_ids: np.ndarray  # sorted unit ids with arm's-length sales
    unit_sum: np.ndarray  # sum of their final residuals
    unit_n: np.ndarray
    comp_disp: np.ndarray  # compound residual sd (shrunk)
    comp_last_day: np.ndarray  # last sale day per compound (−1 none)
    city_last_day: np.ndarray
    comps_compound: np.ndarray  # comparables table: compound index, day, z (sorted by compound, day)
    comps_day: np.ndarray
    comps_z: np.ndarray
    area_lo: float
    area_hi: float
    data_end_day: int
    first_day: int


@dataclass
class _Scale:
    coef: np.ndarray
    q68: float
    q_level: float
    n: int
    source: str  # "time_split" | "in_sample"


@dataclass
class Avm:
    """A fitted valuation model. Use `value` for one unit, `value_frame` for many, `save` / `load`."""

    settings: AvmSettings
    vocab: _Vocab
    state: _State
    scale: _Scale
    version: str
    meta: dict[str, Any] = field(default_factory=dict)

    # -- public -------------------------------------------------------------------------------------
    @property
    def data_end(self) -> date:
        return _to_date(self.state.data_end_day)

    @property
    def first_date(self) -> date:
        return _to_date(self.state.first_day)

    def value(self, subject: Subject | Mapping[str, Any], as_of: date, today: date | None = None) -> Valuation:
        """Value one unit at `as_of`. Raises ValidationError / NotFound for a bad request; a thin market or
        an uncertain value is a `Valuation` with `value` None and a `reason`."""
        row = subject.row() if isinstance(subject, Subject) else dict(subject)
        _check_request(row, as_of, today, self)
        frame = pl.DataFrame([row], schema_overrides={"floor": pl.Float64, "total_floors": pl.Float64}, strict=False)
        out = self.value_frame(frame, np.array([np.datetime64(as_of, "D")]), strict=True)
        return _valuation(out.row(0, named=True), as_of, str(row.get("unit_id") or row.get("compound")), self)

    def value_frame(self, units: pl.DataFrame, as_of: Any, *, strict: bool = False) -> pl.DataFrame:
        """Value many units (rows with `UNIT_COLUMNS`, `compound`, optional `unit_id`) at dates `as_of`
        (one date for all, or one per row). Returns float columns `value`, `value_per_m2`, `fsd`,
        `confidence`, `low`, `high`, `comparable_value`, `n_comparables`, `reason` (null when valued)."""
        n = units.height
        days = _as_days(as_of, n)
        u = _units(units, self.vocab, strict=strict)
        return _predict(self, u, days)

    def save(self, folder: Path | str) -> Path:
        """Write the model to `folder` (JSON + npz + the boosting model, with its SHA-256 checked on load)."""
        return _save(self, Path(folder))


def _to_date(day: int) -> date:
    return np.datetime64(int(day), "D").astype(date)


def _as_days(as_of: Any, n: int) -> np.ndarray:
    if isinstance(as_of, date):
        return np.full(n, np.datetime64(as_of, "D").astype(np.int64))
    days = _days(as_of)
    if len(days) == 1 and n != 1:
        return np.full(n, days[0])
    if len(days) != n:
        raise ValidationError("as_of must be one date or one per row", code="as_of_length_mismatch")
    return days


def _check_request(row: Mapping[str, Any], as_of: date, today: date | None, model: Avm) -> None:
    """The checks that make a request bad input (4xx) rather than a thin market (no value)."""
    if not isinstance(as_of, date):
        raise ValidationError("as_of must be a date", code="invalid_valuation_date")
    if today is not None and as_of > today:
        raise ValidationError(
            f"valuation date {as_of} is in the future (today is {today})", code="valuation_date_in_future",
            as_of=as_of.isoformat(), today=today.isoformat(),
        )  # fmt: skip
    if as_of < model.first_date:
        raise ValidationError(
            f"valuation date {as_of} is before the model's history ({model.first_date})",
            code="valuation_date_before_history", as_of=as_of.isoformat(),
        )  # fmt: skip
    if not row.get("compound"):
        raise ValidationError("the subject needs a compound", code="missing_compound")
    area = row.get("area")
    if isinstance(area, bool) or not isinstance(area, (int, float)) or not np.isfinite(area):
        raise ValidationError(f"area must be a number of m², not {area!r}", code="invalid_area", field="area")
    if area <= 0 or area > _MAX_AREA:
        raise ValidationError(
            f"area {area} m² is not a plausible residential unit (0 < area <= {_MAX_AREA:g})",
            code="area_out_of_range", field="area", area=area,
        )  # fmt: skip
    floor, total = row.get("floor"), row.get("total_floors")
    if total is not None and not 1 <= total <= _FLOOR_LIMIT:
        raise ValidationError(f"total_floors {total} out of range", code="floor_out_of_range", field="total_floors")
    if floor is not None and (not -5 <= floor <= _FLOOR_LIMIT or (total is not None and floor > total)):
        raise ValidationError(
            f"floor {floor} is impossible in a building of {total} floors", code="floor_out_of_range", field="floor"
        )


# ---------------------------------------------------------------------------------------------------
# fitting
# ---------------------------------------------------------------------------------------------------
def _arms_length(sales: pl.DataFrame) -> pl.DataFrame:
    if "channel" not in sales.columns:
        return sales
    return sales.filter(pl.col("channel").is_null() | pl.col("channel").is_in(sorted(ARMS_LENGTH_CHANNELS)))


def _check_sales(sales: pl.DataFrame) -> None:
    for col in ("date", "price", "area", "compound"):
        if col not in sales.columns:
            raise ValidationError(f"sales lack column {col!r}", code="missing_column", column=col)
    if sales.height < 50:
        raise ValidationError(
            f"{sales.height} arm's-length sales are too few to fit a valuation model (need >= 50)",
            code="too_few_sales", n=sales.height,
        )  # fmt: skip
    price = _floats(sales, "price")
    area = _floats(sales, "area")
    bad = ~(np.isfinite(price) & (price > 0) & np.isfinite(area) & (area > 0))
    if bad.any():
        raise ValidationError(
            f"{int(bad.sum())} sales with a missing or non-positive price or area; clean them first "
            "(evaluate.load_sales_csv quarantines such rows)", code="invalid_sales", n=int(bad.sum()),
        )  # fmt: skip


def fit(
    sales: pl.DataFrame,
    compounds: pl.DataFrame | None = None,
    settings: AvmSettings | None = None,
    progress: Any = None,
) -> Avm:
    """Fit the AVM on `sales` (columns: `date`, `price` in yuan, `area`, `compound`, optional `unit_id`,
    `channel` and `UNIT_COLUMNS`) with the compound table `compounds` (`COMPOUND_COLUMNS`; by default the
    compounds seen in the sales). Non-arm's-length channels are dropped. The FSD is calibrated on an
    internal time split (the last `calibration_months` valued by a model fitted without them)."""
    settings = settings or AvmSettings()
    sales = _arms_length(sales)
    _check_sales(sales)
    if compounds is None:
        keep = [c for c in COMPOUND_COLUMNS if c in sales.columns]
        compounds = sales.select(keep).unique(subset=["compound"], keep="first")
    task = progress.add_task("fit AVM", total=3) if progress is not None else None

    def step() -> None:
        if progress is not None:
            progress.advance(task)

    sales = sales.sort("date")
    vocab = _vocab(compounds, sales)
    days = _days(sales["date"])
    end_day = int(days.max())
    end_month = np.datetime64(end_day, "D").astype("datetime64[M]")
    cut = (end_month - np.timedelta64(settings.calibration_months - 1, "M")).astype("datetime64[D]").astype(np.int64)
    early = days < cut
    scale: _Scale | None = None
    if early.sum() >= 200 and (~early).sum() >= 200:
        sub = _fit_state(sales.filter(pl.Series(early)), vocab, settings)
        step()
        probe = Avm(settings, vocab, sub, _Scale(np.zeros(0), 1.0, 1.6, 0, "none"), "calibration")
        held = sales.filter(pl.Series(~early))
        u = _units(held, vocab, strict=False)
        raw = _raw_predict(probe, u, _days(held["date"]))
        ok = raw["valuable"]
        if ok.sum() >= 200:
            scale = _fit_scale(raw, _floats(held, "price"), ok, settings, "time_split")
    else:
        step()
    state = _fit_state(sales, vocab, settings)
    step()
    if scale is None:  # too little data for a time split: in-sample residuals (reported as such)
        u = _units(sales, vocab, strict=False)
        raw = _raw_predict(Avm(settings, vocab, state, _Scale(np.zeros(0), 1.0, 1.6, 0, "none"), "x"), u, days)
        scale = _fit_scale(raw, _floats(sales, "price"), raw["valuable"], settings, "in_sample")
    step()
    digest = hashlib.sha256()
    digest.update(json.dumps(asdict(settings), sort_keys=True).encode())
    digest.update(state.beta.tobytes())
    digest.update(state.mu.tobytes())
    version = f"avm-{MODEL_FORMAT}-{digest.hexdigest()[:12]}"
    meta = {
        "n_sales": sales.height, "n_compounds": len(vocab.compounds), "data_end": _to_date(end_day).isoformat(),
        "first_date": _to_date(state.first_day).isoformat(), "calibration": scale.source,
        "calibration_n": scale.n, "sigma": state.sigma, "sigma_unit": state.sigma_unit,
    }  # fmt: skip
    return Avm(settings, vocab, state, scale, version, meta)


def _wmean_by(group: np.ndarray, n_groups: int, x: np.ndarray, w: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    sw = np.bincount(group, weights=w, minlength=n_groups)
    if x.ndim == 1:
        s = np.bincount(group, weights=w * x, minlength=n_groups)
        return s / np.maximum(sw, 1e-12), sw
    s = np.stack([np.bincount(group, weights=w * x[:, j], minlength=n_groups) for j in range(x.shape[1])], axis=1)
    return s / np.maximum(sw, 1e-12)[:, None], sw


def _fit_static(
    r: np.ndarray, x: np.ndarray, u: _Units, vocab: _Vocab, w: np.ndarray, sigma2: float
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Within-compound hedonic coefficients, then empirical-Bayes compound effects shrunk to a prior of
    city level + compound attributes + a shrunk district effect. Returns beta, mu, n_eff per compound."""
    n_c = len(vocab.compounds)
    c = u.compound
    xm, _ = _wmean_by(c, n_c, x, w)
    rm, _ = _wmean_by(c, n_c, r, w)
    xd = x - xm[c]
    rd = r - rm[c]
    a = (xd.T * w) @ xd + 1e-3 * np.eye(x.shape[1])
    beta = np.linalg.solve(a, (xd.T * w) @ rd)
    mu_raw, n_eff = _wmean_by(c, n_c, r - x @ beta, w)
    seen = n_eff > 0
    # prior: city dummies + compound attributes, fitted on compounds with sales (weights ~ reliability)
    n_city = len(vocab.cities)
    city_d = np.zeros((n_c, n_city))
    city_d[np.arange(n_c), vocab.comp_city] = 1.0
    design = np.hstack([city_d, vocab.comp_z])
    wt = n_eff / (n_eff + 3.0)
    dw = design[seen] * wt[seen, None]
    coef = np.linalg.lstsq(dw.T @ design[seen] + 1e-4 * np.eye(design.shape[1]), dw.T @ mu_raw[seen], rcond=None)[0]
    prior = design @ coef
    dev = np.where(seen, mu_raw - prior, 0.0)
    n_d = len(vocab.districts)
    d_sum = np.bincount(vocab.comp_district, weights=wt * dev, minlength=n_d)
    d_n = np.bincount(vocab.comp_district, weights=wt, minlength=n_d)
    prior = prior + (d_sum / (d_n + 2.0))[vocab.comp_district]
    dev = mu_raw - prior
    rich = n_eff >= 5
    tau2 = float(np.mean(dev[rich] ** 2 - sigma2 / n_eff[rich])) if rich.sum() >= 5 else 0.01
    tau2 = max(tau2, 1e-4)
    prec = n_eff / sigma2
    mu = np.where(seen, (prec * mu_raw + prior / tau2) / (prec + 1.0 / tau2), prior)
    return beta, mu, n_eff


def _backfit(
    y: np.ndarray,
    x: np.ndarray,
    u: _Units,
    vocab: _Vocab,
    month: np.ndarray,
    n_m: int,
    first_month: np.datetime64,
    s: AvmSettings,
) -> tuple[np.ndarray, np.ndarray, np.ndarray, HierarchicalIndex, np.ndarray, float]:
    """Alternate the static part (hedonic + compound effects) and the three index levels until they settle;
    robust (Huber) weights against outlying deals. Returns beta, mu, n_eff, the index, weights, σ²."""
    n_city, n_d, n_c = len(vocab.cities), len(vocab.districts), len(vocab.compounds)
    a_path = np.zeros((n_city, n_m))
    b_path = np.zeros((n_d, n_m))
    d_path = np.zeros((n_c, n_m))
    w = np.ones(len(y))
    sigma2 = 0.01
    beta = np.zeros(x.shape[1])
    mu = np.zeros(n_c)
    n_eff = np.zeros(n_c)
    for _ in range(s.backfit_iterations):
        t_part = a_path[u.city, month] + b_path[u.district, month] + d_path[u.compound, month]
        beta, mu, n_eff = _fit_static(y - t_part, x, u, vocab, w, sigma2)
        stat = mu[u.compound] + x @ beta
        r = y - stat - b_path[u.district, month] - d_path[u.compound, month]
        a_path = smooth_paths(u.city, month, r, n_city, n_m, sigma2 / s.city_rw_sd**2, 0.0, w)
        r = y - stat - a_path[u.city, month] - d_path[u.compound, month]
        b_path = smooth_paths(
            u.district, month, r, n_d, n_m, sigma2 / s.district_rw_sd**2, sigma2 / s.district_level_sd**2, w
        )
        r = y - stat - a_path[u.city, month] - b_path[u.district, month]
        d_path = smooth_paths(
            u.compound, month, r, n_c, n_m, sigma2 / s.compound_rw_sd**2, sigma2 / s.compound_level_sd**2, w
        )
        e = r - d_path[u.compound, month]
        sigma = 1.4826 * float(np.median(np.abs(e - np.median(e))))
        sigma2 = max(sigma**2, 1e-6)
        k = s.huber_k * sigma
        w = np.minimum(1.0, k / np.maximum(np.abs(e), 1e-12))
    # present the city paths as indices (first month = 0): move each city's start level into mu
    shift = a_path[:, 0].copy()
    a_path -= shift[:, None]
    mu = mu + shift[vocab.comp_city]
    index = HierarchicalIndex(first_month, a_path, b_path, d_path, trend_damping=s.trend_damping)
    return beta, mu, n_eff, index, w, sigma2


def _fit_gbm(e: np.ndarray, feats: np.ndarray, w: np.ndarray, sigma2: float, s: AvmSettings) -> tuple[Any, np.ndarray]:
    """Boosting on the hedonic residuals (clipped at 4σ so outlying deals do not steer it), early-stopped."""
    from sklearn.ensemble import HistGradientBoostingRegressor

    gbm = HistGradientBoostingRegressor(
        loss="squared_error", learning_rate=s.gbm_learning_rate, max_iter=s.gbm_max_iter, max_leaf_nodes=31,
        min_samples_leaf=100, l2_regularization=1.0, early_stopping=True, validation_fraction=0.15,
        n_iter_no_change=15, categorical_features=_GBM_CATEGORICAL, random_state=s.seed,
    )  # fmt: skip
    booster = _Booster(gbm, np.all(~np.isfinite(feats), axis=0))
    booster.fit(feats, np.clip(e, -4 * np.sqrt(sigma2), 4 * np.sqrt(sigma2)), w)
    return booster, e - booster.predict(feats)


@dataclass
class _Booster:
    """The boosting model and the features that were blank in training (a file without, say, floors):
    those are set to a constant, in training and at prediction alike."""

    model: Any
    blank: np.ndarray

    def _x(self, feats: np.ndarray) -> np.ndarray:
        if self.blank.any():
            feats = feats.copy()
            feats[:, self.blank] = 0.0
        return feats

    def fit(self, feats: np.ndarray, target: np.ndarray, weight: np.ndarray) -> None:
        self.model.fit(self._x(feats), target, sample_weight=weight)

    def predict(self, feats: np.ndarray) -> np.ndarray:
        if len(feats) >= _PARALLEL_ROWS:
            return self.model.predict(self._x(feats))
        # one tree at a time on a few rows: starting OpenMP threads costs more than the work (≈ 6× slower)
        from threadpoolctl import threadpool_limits

        with threadpool_limits(1, user_api="openmp"):
            return self.model.predict(self._x(feats))


def _fit_state(sales: pl.DataFrame, vocab: _Vocab, s: AvmSettings) -> _State:
    u = _units(sales, vocab, strict=False)
    keep = u.compound >= 0
    if not keep.all():
        sales = sales.filter(pl.Series(keep))
        u = _units(sales, vocab, strict=False)
    days = _days(sales["date"])
    y = np.log(_floats(sales, "price") / u.area)
    ref_day = int(days.max())
    x = _design(u, vocab, ref_day)
    first_month = np.datetime64(int(days.min()), "D").astype("datetime64[M]")
    last_month = np.datetime64(int(days.max()), "D").astype("datetime64[M]")
    n_m = int((last_month - first_month).astype(np.int64)) + 1
    month = (days.astype("datetime64[D]").astype("datetime64[M]") - first_month).astype(np.int64)
    beta, mu, n_eff, index, w, sigma2 = _backfit(y, x, u, vocab, month, n_m, first_month, s)
    n_city, n_c = len(vocab.cities), len(vocab.compounds)
    t_part = index.log_index(u.city, u.district, u.compound, month)
    level = mu[u.compound]
    e = y - level - x @ beta - t_part
    gbm = None
    if s.gbm and len(y) >= 500:
        gbm, e = _fit_gbm(e, _gbm_features(u, vocab, ref_day, level, n_eff[u.compound]), w, sigma2, s)
    # persistent unit effect from repeat sales: cov of consecutive residuals of the same unit
    uid = u.unit_id
    has_id = uid != ""
    order = np.lexsort((days, uid))
    same = has_id[order][1:] & (uid[order][1:] == uid[order][:-1])
    e_c = np.clip(e, -3 * np.sqrt(sigma2), 3 * np.sqrt(sigma2))
    cov = float(np.mean(e_c[order][1:][same] * e_c[order][:-1][same])) if same.sum() >= 30 else 0.0
    var_e = float(np.mean(e_c**2))
    sigma_unit = float(np.sqrt(min(max(cov, 0.0), 0.9 * var_e)))
    ids, inv = np.unique(uid[has_id], return_inverse=True)
    unit_sum = np.bincount(inv, weights=e_c[has_id], minlength=len(ids))
    unit_n = np.bincount(inv, minlength=len(ids)).astype(float)
    # compound dispersion (shrunk to the overall sd) and recency
    n_c_sales = np.bincount(u.compound, minlength=n_c).astype(float)
    ss = np.bincount(u.compound, weights=e_c**2, minlength=n_c)
    comp_disp = np.sqrt((ss + 5.0 * var_e) / (n_c_sales + 5.0))
    comp_last = np.full(n_c, -1, dtype=np.int64)
    np.maximum.at(comp_last, u.compound, days)
    city_last = np.full(n_city, -1, dtype=np.int64)
    np.maximum.at(city_last, u.city, days)
    # comparables: per compound, the latest sales' compound-level reading z = y − xβ − index
    z = y - x @ beta - t_part
    order = np.lexsort((-days, u.compound))
    c_sorted = u.compound[order]
    starts = np.searchsorted(c_sorted, c_sorted, side="left")
    rank = np.arange(len(order)) - starts
    take = order[rank < s.comparables_max]
    take = take[np.lexsort((days[take], u.compound[take]))]
    area = u.area
    return _State(
        beta=beta, mu=mu, n_comp=n_eff, index=index, sigma=float(np.sqrt(sigma2)), sigma_unit=sigma_unit, gbm=gbm,
        unit_ids=ids, unit_sum=unit_sum, unit_n=unit_n, comp_disp=comp_disp, comp_last_day=comp_last,
        city_last_day=city_last, comps_compound=u.compound[take], comps_day=days[take], comps_z=z[take],
        area_lo=float(np.quantile(area, 0.001)) / 1.5, area_hi=float(np.quantile(area, 0.999)) * 1.5,
        data_end_day=int(days.max()), first_day=int(days.min()),
    )  # fmt: skip


# ---------------------------------------------------------------------------------------------------
# prediction
# ---------------------------------------------------------------------------------------------------
def _comparables(
    st: _State, compound: np.ndarray, days: np.ndarray, window: int, need: int
) -> tuple[np.ndarray, np.ndarray]:
    """Median compound-level reading of each subject's comparables (same compound, within `window`
    months before the valuation date), and their count; nan where fewer than `need`."""
    n = len(compound)
    out = np.full(n, np.nan)
    count = np.zeros(n, dtype=np.int64)
    if len(st.comps_compound) == 0:
        return out, count
    lo = np.searchsorted(st.comps_compound, compound, side="left")
    hi = np.searchsorted(st.comps_compound, compound, side="right")
    kmax = int((hi - lo).max()) if n else 0
    if kmax == 0:
        return out, count
    idx = lo[:, None] + np.arange(kmax)[None, :]
    valid = idx < hi[:, None]
    idx = np.minimum(idx, len(st.comps_z) - 1)
    cday = st.comps_day[idx]
    valid &= (cday <= days[:, None]) & (cday >= days[:, None] - int(window * 30.44))
    zz = np.where(valid, st.comps_z[idx], np.nan)
    count = valid.sum(axis=1)
    enough = count >= need
    if enough.any():
        out[enough] = np.nanmedian(zz[enough], axis=1)
    return out, count


def _raw_predict(model: Avm, u: _Units, days: np.ndarray) -> dict[str, np.ndarray]:
    """Point values and the FSD features, before the FSD scale and the no-value rules."""
    st, vocab, s = model.state, model.vocab, model.settings
    n = len(days)
    known = u.compound >= 0
    c = np.maximum(u.compound, 0)
    city = np.maximum(u.city, 0)
    x = _design(u, vocab, st.data_end_day)
    idx = st.index
    month = idx.month_of(days)
    t_part = idx.log_index(city, np.where(known, u.district, -1), np.where(known, u.compound, -1), month)
    level = st.mu[c]
    xb = x @ st.beta
    log_ppm2 = level + xb + t_part
    if st.gbm is not None and n:
        log_ppm2 = log_ppm2 + st.gbm.predict(_gbm_features(u, vocab, st.data_end_day, level, st.n_comp[c]))
    # the unit's own history
    k = np.zeros(n)
    ebar = np.zeros(n)
    has = np.zeros(n, bool)
    if len(st.unit_ids):
        pos = _lookup(st.unit_ids, u.unit_id)
        has = (pos >= 0) & (u.unit_id != "")
        k[has] = st.unit_n[pos[has]]
        ebar[has] = st.unit_sum[pos[has]] / k[has]
    su2 = st.sigma_unit**2
    sn2 = max(st.sigma**2 - su2, 1e-6)
    log_ppm2 = log_ppm2 + np.where(has, su2 / (su2 + sn2 / np.maximum(k, 1)) * ebar, 0.0)
    comp_z, n_comps = _comparables(st, c, days, s.comparables_window_months, s.comparables_min)
    comp_log = comp_z + xb + t_part
    div = np.where(np.isfinite(comp_log), np.abs(comp_log - log_ppm2), 0.0)
    horizon = np.maximum(month - (idx.n_months - 1), 0).astype(float)
    comp_age = np.where(st.comp_last_day[c] >= 0, (days - st.comp_last_day[c]) / 30.44, 120.0)
    city_age = np.where(st.city_last_day[city] >= 0, (days - st.city_last_day[city]) / 30.44, np.inf)
    med_la = np.log(90.0)
    feats = np.column_stack([
        np.ones(n), 1.0 / np.sqrt(1.0 + st.n_comp[c]), has.astype(float), horizon, div,
        (~np.isfinite(comp_log)).astype(float), st.comp_disp[c], np.log1p(np.clip(comp_age, 0, 120)),
        np.abs(np.log(u.area) - med_la),
    ])  # fmt: skip
    reason = np.full(n, "", dtype=object)
    reason[~(u.area >= st.area_lo) | ~(u.area <= st.area_hi)] = "outside_model_range"
    reason[(horizon > s.max_horizon_months) | (city_age > s.stale_months)] = "stale_market"
    reason[~known | (st.city_last_day[city] < 0)] = "no_market_data"
    return {
        "log_ppm2": log_ppm2, "comp_log": comp_log, "n_comps": n_comps, "feats": feats, "reason": reason,
        "valuable": reason == "", "area": u.area,
    }  # fmt: skip


def _fit_scale(raw: dict[str, np.ndarray], price: np.ndarray, ok: np.ndarray, s: AvmSettings, source: str) -> _Scale:
    """Fit log(|% error| + 1 %) on the FSD features, then conformal quantiles of |% error| / scale."""
    value = raw["area"] * np.exp(raw["log_ppm2"])
    a = np.abs(price - value) / value
    f = raw["feats"][ok]
    aa = a[ok]
    coef = np.linalg.lstsq(f.T @ f + 1e-6 * np.eye(f.shape[1]), f.T @ np.log(aa + 0.01), rcond=None)[0]
    sc = np.exp(f @ coef)
    ratio = aa / sc
    q68 = float(np.quantile(ratio, 0.6827))
    q_level = float(np.quantile(ratio, s.interval_level))
    return _Scale(coef=coef, q68=q68, q_level=q_level, n=int(ok.sum()), source=source)


def _predict(model: Avm, u: _Units, days: np.ndarray) -> pl.DataFrame:
    raw = _raw_predict(model, u, days)
    sc = model.scale
    scale = np.exp(raw["feats"] @ sc.coef) if len(sc.coef) else np.full(len(days), np.nan)
    fsd = sc.q68 * scale
    reason = raw["reason"]
    reason[(reason == "") & ~(fsd <= model.settings.max_fsd)] = "fsd_above_limit"
    valued = reason == ""
    area = raw["area"]
    ppm2 = np.exp(raw["log_ppm2"])
    value = area * ppm2
    band = sc.q_level * scale
    nan = np.nan
    return pl.DataFrame({
        "value": np.where(valued, value, nan),
        "value_per_m2": np.where(valued, ppm2, nan),
        "fsd": np.where(valued, fsd, nan),
        "confidence": np.where(valued, np.clip(np.round(100 * (1 - fsd)), 0, 100), nan),
        "low": np.where(valued, value * np.maximum(1 - band, 0.0), nan),
        "high": np.where(valued, value * (1 + band), nan),
        "comparable_value": np.where(valued, area * np.exp(raw["comp_log"]), nan),
        "n_comparables": raw["n_comps"],
        "reason": pl.Series(np.where(valued, None, reason).tolist(), dtype=pl.String),
        "raw_value": value,
        "raw_fsd": fsd,
    })  # fmt: skip


def _money(x: float | None) -> Money | None:
    if x is None or not np.isfinite(x):
        return None
    return Money(round(x))


def _valuation(row: Mapping[str, Any], as_of: date, subject: str, model: Avm) -> Valuation:
    flags: list[str] = []
    v, cv, fsd = row["value"], row["comparable_value"], row["fsd"]
    both = v is not None and np.isfinite(v) and cv is not None and np.isfinite(cv)
    if both and abs(np.log(cv / v)) > max(2 * fsd, 0.1):
        flags.append("comparables_disagree")
    if row["n_comparables"] < model.settings.comparables_min:
        flags.append("few_comparables")
    valued = row["reason"] is None
    return Valuation(
        as_of=as_of, subject=subject, value=_money(v) if valued else None,
        value_per_m2=_money(row["value_per_m2"]) if valued else None,
        fsd=round(float(fsd), 4) if valued else None,
        confidence=int(row["confidence"]) if valued else None,
        low=_money(row["low"]) if valued else None, high=_money(row["high"]) if valued else None,
        interval_level=model.settings.interval_level,
        comparable_value=_money(cv) if valued else None, n_comparables=int(row["n_comparables"]),
        reason=row["reason"], model_version=model.version, flags=tuple(flags),
    )  # fmt: skip


# ---------------------------------------------------------------------------------------------------
# persistence
# ---------------------------------------------------------------------------------------------------
_ARRAYS_VOCAB = ("compounds", "comp_district", "comp_city", "districts", "district_city", "cities", "comp_z",
                 "comp_lat", "comp_lon", "comp_build_year", "comp_ptype")  # fmt: skip
_ARRAYS_STATE = ("beta", "mu", "n_comp", "unit_ids", "unit_sum", "unit_n", "comp_disp", "comp_last_day",
                 "city_last_day", "comps_compound", "comps_day", "comps_z")  # fmt: skip


def _save(model: Avm, folder: Path) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    arrays: dict[str, np.ndarray] = {f"v_{k}": getattr(model.vocab, k) for k in _ARRAYS_VOCAB}
    arrays.update({f"s_{k}": getattr(model.state, k) for k in _ARRAYS_STATE})
    ix = model.state.index
    arrays.update({"i_city": ix.city, "i_district": ix.district, "i_compound": ix.compound,
                   "scale_coef": model.scale.coef})  # fmt: skip
    for k, v in list(arrays.items()):
        if v.dtype == object:
            arrays[k] = v.astype(str)
    np.savez_compressed(folder / "arrays.npz", **arrays)
    gbm_bytes = pickle.dumps(model.state.gbm, protocol=pickle.HIGHEST_PROTOCOL)
    (folder / "gbm.pkl").write_bytes(gbm_bytes)
    st = model.state
    doc = {
        "format": MODEL_FORMAT, "version": model.version, "settings": asdict(model.settings), "meta": model.meta,
        "levels": model.vocab.levels, "area_per_room": model.vocab.area_per_room,
        "state": {"sigma": st.sigma, "sigma_unit": st.sigma_unit, "area_lo": st.area_lo, "area_hi": st.area_hi,
                  "data_end_day": st.data_end_day, "first_day": st.first_day},
        "index": {"first_month": str(ix.first_month), "trend_damping": ix.trend_damping,
                  "trend_window": ix.trend_window},
        "scale": {"q68": model.scale.q68, "q_level": model.scale.q_level, "n": model.scale.n,
                  "source": model.scale.source},
        "gbm_sha256": hashlib.sha256(gbm_bytes).hexdigest(),
    }  # fmt: skip
    (folder / "avm.json").write_text(json.dumps(doc, indent=1, ensure_ascii=False), encoding="utf-8")
    return folder


def load(folder: Path | str) -> Avm:
    """Read a model written by `Avm.save`; refuses a folder whose boosting file does not match its hash."""
    folder = Path(folder)
    meta_file = folder / "avm.json"
    if not meta_file.exists():
        raise NotFound(f"no valuation model in {folder}", code="avm_model_not_found", path=str(folder))
    doc = json.loads(meta_file.read_text(encoding="utf-8"))
    if doc.get("format") != MODEL_FORMAT:
        raise ConfigurationError(f"model format {doc.get('format')} is not {MODEL_FORMAT}", code="avm_model_format")
    gbm_bytes = (folder / "gbm.pkl").read_bytes()
    if hashlib.sha256(gbm_bytes).hexdigest() != doc["gbm_sha256"]:
        raise ConfigurationError(f"{folder / 'gbm.pkl'} does not match its recorded hash", code="avm_model_tampered")
    gbm = pickle.loads(gbm_bytes)  # our own file, integrity checked above
    with np.load(folder / "arrays.npz", allow_pickle=False) as z:
        arr = {k: z[k] for k in z.files}
    vocab = _Vocab(**{k: arr[f"v_{k}"] for k in _ARRAYS_VOCAB}, levels=doc["levels"],
                   area_per_room=doc["area_per_room"])  # fmt: skip
    ixd = doc["index"]
    index = HierarchicalIndex(np.datetime64(ixd["first_month"], "M"), arr["i_city"], arr["i_district"],
                              arr["i_compound"], ixd["trend_damping"], ixd["trend_window"])  # fmt: skip
    state = _State(**{k: arr[f"s_{k}"] for k in _ARRAYS_STATE}, index=index, gbm=gbm, **doc["state"])
    sc = doc["scale"]
    scale = _Scale(arr["scale_coef"], sc["q68"], sc["q_level"], sc["n"], sc["source"])
    return Avm(AvmSettings(**doc["settings"]), vocab, state, scale, doc["version"], doc["meta"])


def with_settings(model: Avm, **changes: Any) -> Avm:
    """The same fitted model under changed serving settings (e.g. `max_fsd`), without refitting."""
    return replace(model, settings=replace(model.settings, **changes))
