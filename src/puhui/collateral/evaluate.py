"""Honest accuracy of the AVM (估值准确性回测): fit on the sales before a date, value the later sales at their
own dates, and report the IAAO ratio-study figures overall, by city and by price band — plus the
loaders that feed it: the property database in the raw zone, and any bank's own sales file (CSV).

Only arm's-length sales (`avm.ARMS_LENGTH_CHANNELS`: 中介成交) are fitted or scored; judicial auctions
(司法拍卖) and private transfers (自行成交) are counted and left out, as IAAO ratio studies require, and
the private ones are reported on their own (they sell below value). Later sales the model declines to
value count against the hit rate and are left out of every other figure; nothing is imputed. On the
synthetic universe the generator's true values give the ceiling ("oracle"): the same figures for the
true value against the same sale prices, i.e. how much of the error is noise in the prices themselves.

A bank's file needs columns `id`, `date`, `price` (yuan), `area` (m²) and a location: `compound` (or
`compound_id`) and/or `lat` + `lon`; optional `unit_id`, `city`, `district`, `floor`, `total_floors`,
`rooms`, `halls`, `build_year`, `orientation`, `decoration`, `building_type`, `property_type`,
`elevator`, `channel`. Rows that fail a check are quarantined with the reason and never fitted. Without
compound ids, pseudo-compounds are grid cells of about 300 m (districts about 3 km, cities about 30 km
unless given), so the same hierarchy of shrinkage applies.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from datetime import date
from pathlib import Path
from typing import Any

import numpy as np
import polars as pl

from puhui.collateral.avm import ARMS_LENGTH_CHANNELS, Avm, AvmSettings, Subject, fit
from puhui.collateral.metrics import RatioStudy, ratio_study
from puhui.core.errors import NotFound, ValidationError

__all__ = [
    "PRICE_BANDS",
    "Evaluation",
    "PropertyData",
    "SalesFile",
    "default_split_date",
    "evaluate_time_split",
    "load_property_data",
    "load_sales_csv",
    "load_truth_values",
    "lookup_unit",
]

PRICE_BANDS: tuple[tuple[str, float, float], ...] = (
    ("<1M", 0.0, 1e6),
    ("1-2M", 1e6, 2e6),
    ("2-5M", 2e6, 5e6),
    ("5-10M", 5e6, 1e7),
    (">=10M", 1e7, float("inf")),
)
"""Sale-price bands in yuan (100万, 200万, 500万, 1000万). Stratifying by sale price makes cheap bands
look over-valued and dear ones under-valued by regression to the mean alone; read them with that in mind."""

MIN_PRICE, MAX_PRICE = 10_000.0, 2e9  # yuan: outside, a sale price is not sane (typo, unit error)
MIN_AREA, MAX_AREA = 5.0, 5_000.0  # m²
CHANNELS = ("agency", "private", "auction")


# ---------------------------------------------------------------------------------------------------
# the property database in the raw zone
# ---------------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class PropertyData:
    """Sales (all channels, with unit and compound attributes), compounds and units, in the AVM's columns."""

    sales: pl.DataFrame
    compounds: pl.DataFrame
    units: pl.DataFrame


def _read(raw: Path, source: str) -> pl.DataFrame:
    folder = raw / source
    if not any(folder.glob("*.parquet")):
        raise NotFound(f"source {source} has no data under {raw}", code="source_not_found", source=source)
    return pl.read_parquet(str(folder / "*.parquet"))


def load_property_data(home: Path | str, *, with_units: bool = True) -> PropertyData:
    """Read the property sources from `<home>/raw` into the AVM's columns (prices as float yuan for the
    statistics; every value the model returns is Money again)."""
    raw = Path(home) / "raw"
    comp = _read(raw, "property_compounds").select(
        pl.col("compound_id").alias("compound"), pl.col("district_code").alias("district"),
        pl.col("city_code").alias("city"), "lat", "lon", "property_type",
        pl.col("build_year").alias("compound_build_year"), pl.col("school_district").cast(pl.Float64),
        "metro_distance_m", "greening_rate", "plot_ratio",
    )  # fmt: skip
    bld = _read(raw, "property_buildings").select(
        "building_id", pl.col("compound_id").alias("compound"), "building_type",
        pl.col("elevator").cast(pl.Float64), "build_year",
    )  # fmt: skip
    units = (
        _read(raw, "property_units")
        .select(
            "unit_id", "building_id", "floor", "total_floors", "area", "rooms", "halls", "orientation", "decoration"
        )
        .join(bld, on="building_id", how="left")
        .drop("building_id")
    )
    txn = _read(raw, "property_transactions").select(
        pl.col("txn_id").alias("sale_id"), "unit_id", "date", pl.col("price").cast(pl.Float64),
        pl.col("area").alias("sale_area"), "channel",
    )  # fmt: skip
    sales = (
        txn.join(units, on="unit_id", how="left")
        .with_columns(pl.coalesce("sale_area", "area").alias("area"))
        .drop("sale_area")
        .join(comp.select("compound", "city"), on="compound", how="left")
        .sort("date", "sale_id")
    )
    return PropertyData(sales=sales, compounds=comp, units=units if with_units else units.head(0))


def lookup_unit(home: Path | str, unit_id: str) -> Subject:
    """The valuation subject of one unit of the property database (raw zone); NotFound if unknown."""
    raw = Path(home) / "raw"
    for src in ("property_units", "property_buildings"):
        if not any((raw / src).glob("*.parquet")):
            raise NotFound(f"source {src} has no data under {raw}", code="source_not_found", source=src)
    row = (
        pl.scan_parquet(str(raw / "property_units" / "*.parquet"))
        .filter(pl.col("unit_id") == unit_id)
        .join(pl.scan_parquet(str(raw / "property_buildings" / "*.parquet")), on="building_id", how="left")
        .collect()
    )
    if row.height == 0:
        raise NotFound(f"unknown unit {unit_id!r}", code="unknown_unit", unit_id=unit_id)
    r = row.row(0, named=True)
    return Subject(
        compound=r["compound_id"], area=float(r["area"]), unit_id=unit_id, floor=r["floor"],
        total_floors=r["total_floors"], elevator=r["elevator"], build_year=r["build_year_right"]
        if "build_year_right" in r else r.get("build_year"), rooms=r["rooms"], halls=r["halls"],
        orientation=r["orientation"], decoration=r["decoration"], building_type=r["building_type"],
    )  # fmt: skip


def load_truth_values(home: Path | str) -> pl.DataFrame:
    """The generator's true value at each sale (`<home>/truth/property_value`): sale_id, true_value (float)."""
    folder = Path(home) / "truth" / "property_value"
    if not any(folder.glob("*.parquet")):
        raise NotFound(f"no truth under {folder}", code="truth_not_found")
    return pl.read_parquet(str(folder / "*.parquet")).select(
        pl.col("txn_id").alias("sale_id"), pl.col("true_value").cast(pl.Float64)
    )


# ---------------------------------------------------------------------------------------------------
# a bank's sales file
# ---------------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class SalesFile:
    """Accepted sales (AVM columns), the compound table derived from them, and quarantined rows with reasons."""

    sales: pl.DataFrame
    compounds: pl.DataFrame
    quarantine: pl.DataFrame  # original text columns + _line + _reason
    location: str  # "compound" | "lat_lon" | "compound+lat_lon"


_ALIASES = {"compound_id": "compound", "sale_id": "id", "txn_id": "id", "latitude": "lat", "longitude": "lon",
            "lng": "lon", "city_code": "city", "district_code": "district"}  # fmt: skip
_NUMERIC = ("price", "area", "lat", "lon", "floor", "total_floors", "rooms", "halls", "build_year")


def _grid(lat: pl.Expr, lon: pl.Expr, step: float, prefix: str) -> pl.Expr:
    return pl.concat_str([
        pl.lit(prefix), (lat / step).floor().cast(pl.Int64).cast(pl.String), pl.lit("_"),
        (lon / step).floor().cast(pl.Int64).cast(pl.String),
    ])  # fmt: skip


def load_sales_csv(path: Path | str, *, today: date | None = None, encoding: str = "utf8") -> SalesFile:
    """Read a bank's sales file; bad rows go to `quarantine` with the reason (first failing check).

    Checks per row: an id (unique in the file), an ISO date not after `today`, a price within
    10,000 – 2,000,000,000 yuan, an area within 5 – 5,000 m², a location (compound id or valid lat/lon),
    floor within the building, a plausible build year, a known channel. Whole-file problems (missing
    required columns, no location column) raise ValidationError."""
    p = Path(path)
    if not p.exists():
        raise NotFound(f"no file {p}", code="file_not_found", path=str(p))
    try:
        text = pl.read_csv(p, infer_schema=False, encoding=encoding, truncate_ragged_lines=False)
    except (pl.exceptions.ComputeError, pl.exceptions.NoDataError) as e:
        raise ValidationError(f"{p.name} is not a readable CSV: {e}", code="unreadable_file", path=str(p)) from e
    text = text.rename({c: _ALIASES.get(c.strip().lower(), c.strip().lower()) for c in text.columns})
    missing = [c for c in ("id", "date", "price", "area") if c not in text.columns]
    if missing:
        raise ValidationError(f"{p.name} lacks required column(s) {missing}", code="missing_column", columns=missing)
    has_comp = "compound" in text.columns
    has_ll = "lat" in text.columns and "lon" in text.columns
    if not (has_comp or has_ll):
        raise ValidationError(
            f"{p.name} needs a location: a compound column or lat and lon", code="missing_location", path=str(p)
        )
    text = text.with_row_index("_line", offset=2)  # header is line 1
    df = text.with_columns(
        pl.col(c).str.strip_chars().str.replace_all(",", "").cast(pl.Float64, strict=False).alias(f"_{c}")
        for c in _NUMERIC
        if c in text.columns
    )
    df = df.with_columns(
        pl.coalesce(
            pl.col("date").str.strip_chars().str.to_date("%Y-%m-%d", strict=False),
            pl.col("date").str.strip_chars().str.to_date("%Y/%m/%d", strict=False),
        ).alias("_date")
    )
    day = today or date.today()

    def num(c: str) -> pl.Expr:
        return pl.col(f"_{c}") if c in text.columns else pl.lit(None, pl.Float64)

    def txt(c: str) -> pl.Expr:
        return pl.col(c).str.strip_chars() if c in text.columns else pl.lit(None, pl.String)

    blank = pl.lit("")
    checks: list[tuple[str, pl.Expr]] = [
        ("missing_id", txt("id").fill_null(blank) == ""),
        ("duplicate_id", txt("id").is_duplicated() & (txt("id").fill_null(blank) != "")),
        ("bad_date", pl.col("_date").is_null()),
        ("date_in_future", pl.col("_date") > pl.lit(day)),
        ("bad_price", num("price").is_null() | num("price").is_nan()),
        ("price_out_of_range", (num("price") < MIN_PRICE) | (num("price") > MAX_PRICE)),
        ("bad_area", num("area").is_null() | num("area").is_nan()),
        ("area_out_of_range", (num("area") < MIN_AREA) | (num("area") > MAX_AREA)),
    ]
    comp_blank = txt("compound").fill_null(blank) == ""
    ll_bad = (
        num("lat").is_null() | num("lon").is_null() | (num("lat").abs() > 90) | (num("lon").abs() > 180)
        | ((num("lat") == 0) & (num("lon") == 0))
    )  # fmt: skip
    if has_comp and has_ll:
        checks.append(("no_location", comp_blank & ll_bad))
    elif has_comp:
        checks.append(("no_location", comp_blank))
    else:
        checks.append(("bad_lat_lon", ll_bad))
    checks += [
        (
            "floor_out_of_range",
            (num("total_floors") < 1)
            | (num("total_floors") > 200)
            | (num("floor") < -5)
            | (num("floor") > num("total_floors")),
        ),
        ("bad_build_year", (num("build_year") < 1900) | (num("build_year") > pl.lit(day.year + 3))),
        ("bad_rooms", (num("rooms") < 0) | (num("rooms") > 30)),
        (
            "unknown_channel",
            txt("channel").is_not_null()
            & (txt("channel") != "")
            & ~txt("channel").str.to_lowercase().is_in(list(CHANNELS)),
        ),
    ]
    reason = pl.lit(None, pl.String)
    for code, cond in reversed(checks):
        reason = pl.when(cond.fill_null(False)).then(pl.lit(code)).otherwise(reason)
    df = df.with_columns(reason.alias("_reason"))
    bad = df.filter(pl.col("_reason").is_not_null())
    good = df.filter(pl.col("_reason").is_null())
    quarantine = bad.select([*text.columns, "_reason"])

    cols: dict[str, pl.Expr] = {
        "sale_id": txt("id"), "date": pl.col("_date"), "price": num("price"), "area": num("area"),
        "unit_id": txt("unit_id"), "floor": num("floor"), "total_floors": num("total_floors"),
        "rooms": num("rooms"), "halls": num("halls"), "build_year": num("build_year"),
        "orientation": txt("orientation"), "decoration": txt("decoration"), "building_type": txt("building_type"),
        "property_type": txt("property_type"), "channel": txt("channel").str.to_lowercase(),
        "lat": num("lat"), "lon": num("lon"),
        "elevator": (txt("elevator").str.to_lowercase().is_in(["1", "true", "yes", "y", "是"]).cast(pl.Float64)
                     .fill_null(None) if "elevator" in text.columns else pl.lit(None, pl.Float64)),
    }  # fmt: skip
    cols.update(
        _compound=txt("compound").fill_null(""), _city=txt("city").fill_null(""),
        _district=txt("district").fill_null(""),
    )  # fmt: skip
    sales = good.select(**cols)
    lat_ok = pl.col("lat").is_not_null() & pl.col("lon").is_not_null()
    sales = sales.with_columns(
        compound=pl.when(pl.col("_compound") != "").then(pl.col("_compound"))
        .otherwise(pl.when(lat_ok).then(_grid(pl.col("lat"), pl.col("lon"), 0.003, "g"))),
        city=pl.when(pl.col("_city") != "").then(pl.col("_city"))
        .otherwise(pl.when(lat_ok).then(_grid(pl.col("lat"), pl.col("lon"), 0.3, "c")).otherwise(pl.lit("all"))),
    )  # fmt: skip
    # a compound's city and district: the most common given value, else grid cells around its centre
    comp = (
        sales.group_by("compound")
        .agg(
            pl.col("city").mode().first().alias("city"),
            pl.col("_district").filter(pl.col("_district") != "").mode().first().alias("_d"),
            pl.col("lat").mean(), pl.col("lon").mean(),
            pl.col("property_type").drop_nulls().mode().first().alias("property_type"),
            pl.col("build_year").median().alias("compound_build_year"),
        )
        .with_columns(
            district=pl.coalesce(
                pl.concat_str([pl.col("city"), pl.lit("/"), pl.col("_d")]),
                pl.when(pl.col("lat").is_not_null()).then(
                    pl.concat_str([pl.col("city"), pl.lit("/"), _grid(pl.col("lat"), pl.col("lon"), 0.03, "d")])
                ),
                pl.concat_str([pl.col("city"), pl.lit("/all")]),
            )
        )
        .drop("_d")
        .sort("compound")
    )  # fmt: skip
    sales = (
        sales.drop("_compound", "_city", "_district", "property_type")
        .drop("city")
        .join(comp.select("compound", "city"), on="compound", how="left")
    )
    location = "compound+lat_lon" if has_comp and has_ll else ("compound" if has_comp else "lat_lon")
    return SalesFile(sales=sales.sort("date", "sale_id"), compounds=comp, quarantine=quarantine, location=location)


# ---------------------------------------------------------------------------------------------------
# the time split
# ---------------------------------------------------------------------------------------------------
@dataclass
class Evaluation:
    """A time-split evaluation: figures on later arm's-length sales, by city and price band, with the
    oracle (true value vs price) where the truth is known, and the FSD's honesty."""

    split_date: date
    last_date: date
    n_train: int
    n_test: int
    excluded: dict[str, int]
    overall: RatioStudy
    by_city: dict[str, RatioStudy]
    by_band: dict[str, RatioStudy]
    fsd_coverage: float  # share of valued later sales within value × (1 ± FSD): ~0.68 if honest
    interval_coverage: float  # share within [low, high]
    interval_level: float
    median_fsd: float
    comparables_mdape: float | None  # the 小区 comparables cross-check on its own
    no_value_reasons: dict[str, int]
    oracle: RatioStudy | None = None
    private_median_ratio: float | None = None  # value / price on private transfers (not scored)
    model_meta: dict[str, Any] = field(default_factory=dict)
    fit_seconds: float = 0.0

    def to_dict(self) -> dict[str, Any]:
        d = asdict(self)
        d["split_date"] = self.split_date.isoformat()
        d["last_date"] = self.last_date.isoformat()
        return d


def default_split_date(dates: pl.Series, months: int = 6) -> date:
    """First day of the month `months` before the last sale's month: fit on what came before."""
    last = dates.max()
    m = np.datetime64(last, "M") - np.timedelta64(months - 1, "M")
    return m.astype("datetime64[D]").astype(date)


def _band_study(
    est: np.ndarray, price: np.ndarray, valued: np.ndarray, keys: np.ndarray, min_n: int
) -> dict[str, RatioStudy]:
    out: dict[str, RatioStudy] = {}
    for k in sorted(set(keys.tolist())):
        sel = keys == k
        if (sel & valued).sum() >= min_n:
            out[str(k)] = ratio_study(np.where(valued[sel], est[sel], 1.0), price[sel], valued[sel])
    return out


def _group_keys(test: pl.DataFrame, price: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """City and price-band label of each test sale."""
    if "city" in test.columns:
        city_keys = test["city"].cast(pl.String).fill_null("?").to_numpy()
    else:
        city_keys = np.full(len(price), "all")
    band_keys = np.full(len(price), "", dtype=object)
    for name, lo_b, hi_b in PRICE_BANDS:
        band_keys[(price >= lo_b) & (price < hi_b)] = name
    return city_keys, band_keys


def evaluate_time_split(
    sales: pl.DataFrame,
    compounds: pl.DataFrame | None = None,
    split_date: date | None = None,
    *,
    settings: AvmSettings | None = None,
    truth: pl.DataFrame | None = None,
    min_group: int = 20,
    progress: Any = None,
) -> tuple[Evaluation, Avm]:
    """Fit on sales dated before `split_date` (default: 6 months before the last month), value the later
    arm's-length sales at their own dates with that model, and score them. `truth` (sale_id, true_value)
    adds the oracle. Returns the evaluation and the fitted model."""
    import time

    if sales.height == 0:
        raise ValidationError("no sales to evaluate", code="too_few_sales")
    split = split_date or default_split_date(sales["date"])
    train = sales.filter(pl.col("date") < pl.lit(split))
    later = sales.filter(pl.col("date") >= pl.lit(split))
    if "channel" in later.columns:
        ch = later["channel"].fill_null("agency")
        excluded = {str(k): int(v) for k, v in zip(*np.unique(ch.to_numpy(), return_counts=True), strict=True)
                    if k not in ARMS_LENGTH_CHANNELS}  # fmt: skip
        test = later.filter(pl.col("channel").is_null() | pl.col("channel").is_in(sorted(ARMS_LENGTH_CHANNELS)))
    else:
        excluded, test = {}, later
    if test.height < 30:
        raise ValidationError(
            f"only {test.height} arm's-length sales on or after {split}: choose an earlier split date",
            code="too_few_test_sales", split_date=split.isoformat(), n=test.height,
        )  # fmt: skip
    t0 = time.perf_counter()
    model = fit(train, compounds, settings, progress=progress)
    fit_s = time.perf_counter() - t0
    out = model.value_frame(test, test["date"])
    valued = out["reason"].is_null().to_numpy()
    if not valued.any():
        raise ValidationError("the model valued none of the later sales", code="no_valuations")
    est = out["value"].fill_nan(None).fill_null(1.0).to_numpy()
    price = test["price"].to_numpy().astype(float)
    overall = ratio_study(est, price, valued)
    fsd = out["fsd"].to_numpy()
    ape = np.abs(price - est) / est
    cov = float(np.mean(ape[valued] <= fsd[valued]))
    lo, hi = out["low"].to_numpy(), out["high"].to_numpy()
    icov = float(np.mean((price[valued] >= lo[valued]) & (price[valued] <= hi[valued])))
    comp = out["comparable_value"].to_numpy()
    has_comp = valued & np.isfinite(comp)
    comp_mdape = float(np.median(np.abs(comp - price)[has_comp] / price[has_comp])) if has_comp.sum() else None
    city_keys, band_keys = _group_keys(test, price)
    reasons = out["reason"].drop_nulls().value_counts()
    no_value = {str(r[0]): int(r[1]) for r in reasons.iter_rows()}
    oracle = None
    if truth is not None:
        tv = test.select("sale_id").join(truth, on="sale_id", how="left")["true_value"].to_numpy()
        if np.isfinite(tv).all():
            oracle = ratio_study(tv, price)
    private_ratio = None
    if "channel" in later.columns:
        priv = later.filter(pl.col("channel") == "private")
        if priv.height >= min_group:
            pv = model.value_frame(priv, priv["date"])
            ok = pv["reason"].is_null().to_numpy()
            if ok.sum() >= min_group:
                private_ratio = float(np.median(pv["value"].to_numpy()[ok] / priv["price"].to_numpy()[ok]))
    ev = Evaluation(
        split_date=split, last_date=later["date"].max(), n_train=train.height, n_test=test.height,
        excluded=excluded, overall=overall, by_city=_band_study(est, price, valued, city_keys, min_group),
        by_band=_band_study(est, price, valued, band_keys, min_group), fsd_coverage=cov, interval_coverage=icov,
        interval_level=model.settings.interval_level, median_fsd=float(np.median(fsd[valued])),
        comparables_mdape=comp_mdape, no_value_reasons=no_value, oracle=oracle,
        private_median_ratio=private_ratio, model_meta=dict(model.meta), fit_seconds=fit_s,
    )  # fmt: skip
    return ev, model
