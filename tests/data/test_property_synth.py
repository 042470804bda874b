"""The synthetic property database: geography, contracts, determinism, integrity and the price model.

Golden values: the city codes are GB/T 2260 as published by 民政部 (县以上行政区划代码): 110000 北京,
310000 上海, 440100 广州, 440300 深圳, 330100 杭州, 510100 成都; the USCC check digit is python-stdnum's
GB 32100-2015 implementation; the repeat-sales index is Bailey–Muth–Nourse (1963), as in
avm_scf.md A2.2. Everything runs on a small universe (300 compounds) generated once per module.
"""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq
import pytest
from hypothesis import given
from hypothesis import strategies as st
from stdnum.cn import uscc as stdnum_uscc

from puhui.core.errors import NotFound, ValidationError
from puhui.data.contracts.property import PROPERTY_CONTRACTS, PROPERTY_HOLDINGS
from puhui.data.rawzone import RawZone
from puhui.data.synth import geography as geo
from puhui.data.synth import property as prop
from puhui.data.synth.config import SynthConfig

SMALL = SynthConfig(enterprises=2_000, chunk_size=1_000, compounds=300, property_years=6, seed=7)
RAW = {c.name for c in PROPERTY_CONTRACTS} - {"property_holdings"}


@pytest.fixture(scope="module")
def universe(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict[str, int]]:
    home = tmp_path_factory.mktemp("prop")
    summary = prop.generate_property(SMALL, RawZone(home / "raw"))
    return home, summary


def _raw(home: Path, source: str) -> pa.Table:
    return pq.read_table(home / "raw" / source)


def _truth(home: Path, name: str) -> pa.Table:
    return pq.read_table(home / "truth" / name)


def _np(col: pa.ChunkedArray) -> np.ndarray:
    return col.to_numpy()


# --- geography -------------------------------------------------------------------------------------
def test_geography_has_30_plus_cities_with_unique_valid_codes():
    codes = geo.city_codes()
    assert len(geo.CITIES) >= 30
    assert len(set(codes)) == len(codes)
    assert all(len(c) == 6 and c.isdigit() for c in codes)
    for c in geo.CITIES:
        assert c.province_code == c.code[:2] + "0000"
        assert c.province_code in geo.PROVINCES
        assert c.tier in (1, 2, 3)
        assert 18 < c.lat < 54 and 73 < c.lon < 135  # inside China's extent
        assert c.districts
        for d in c.districts:  # a district sits under its city (municipalities: under the province)
            assert d.code[:4] == c.code[:4] or (c.is_municipality and d.code[:2] == c.code[:2])
    district_codes = geo.district_arrays().code
    assert len(set(district_codes)) == len(district_codes)
    assert not set(district_codes) & set(codes)


def test_geography_golden_codes_from_gbt2260():
    expected = {"110000": "北京", "310000": "上海", "440100": "广州", "440300": "深圳", "330100": "杭州",
                "510100": "成都"}  # fmt: skip
    for code, name in expected.items():
        assert geo.city(code).name == name
    assert geo.city("440300").province_name == "广东省"
    assert geo.district("440305")[1].name == "南山区"
    assert sorted(c.name for c in geo.CITIES if c.tier == 1) == sorted(["北京", "上海", "广州", "深圳"])


def test_geography_arrays_are_aligned_and_weights_sum_to_one():
    w = geo.city_weights()
    assert w.shape == (len(geo.CITIES),) and np.isclose(w.sum(), 1.0) and (w > 0).all()
    assert list(geo.city_codes()) == sorted(geo.city_codes())
    da = geo.district_arrays()
    assert da.offsets[-1] == len(da.code)
    assert all(geo.CITIES[i].code[:2] == code[:2] for i, code in zip(da.city_index, da.code, strict=True))
    picks = geo.sample_districts(np.array([0, 0, 5, 5]), np.random.default_rng(1))
    assert (da.city_index[picks] == [0, 0, 5, 5]).all()


def test_unknown_city_raises_not_found():
    with pytest.raises(NotFound) as e:
        geo.city("999999")
    assert e.value.code == "unknown_city"


# --- sizes and determinism -------------------------------------------------------------------------
def test_default_config_asks_for_5000_compounds_and_5_years():
    c = SynthConfig()
    assert c.compounds >= 5_000
    assert c.property_years >= 5


def test_invalid_config_is_a_validation_error():
    with pytest.raises(ValidationError):
        prop.generate_property(SynthConfig(compounds=0), RawZone(Path("/nonexistent/raw")))


def test_same_seed_gives_identical_files_and_another_seed_does_not(tmp_path: Path):
    cfg = SynthConfig(compounds=60, property_years=2, seed=11)
    prop._universe.cache_clear()  # rebuild from scratch: the cache must not hide nondeterminism
    prop.generate_property(cfg, RawZone(tmp_path / "a" / "raw"))
    prop._universe.cache_clear()
    prop.generate_property(cfg, RawZone(tmp_path / "b" / "raw"))
    prop.generate_property(SynthConfig(compounds=60, property_years=2, seed=12), RawZone(tmp_path / "c" / "raw"))
    files = sorted(p.relative_to(tmp_path / "a") for p in (tmp_path / "a").rglob("*") if p.is_file())
    assert len(files) >= 11
    for f in files:
        assert (tmp_path / "a" / f).read_bytes() == (tmp_path / "b" / f).read_bytes(), f
    txn = Path("raw/property_transactions/part-0000.parquet")
    assert (tmp_path / "a" / txn).read_bytes() != (tmp_path / "c" / txn).read_bytes()


def test_tiny_config_still_generates(tmp_path: Path):
    summary = prop.generate_property(SynthConfig(compounds=5, property_years=1), RawZone(tmp_path / "raw"))
    assert summary["compounds"] == 5 and summary["months"] == 12 and summary["units"] > 0


# --- schema, keys and integrity --------------------------------------------------------------------
def test_raw_zone_holds_exactly_the_contracts_and_truth_is_outside(universe):
    home, summary = universe
    assert set(RawZone(home / "raw").sources()) == RAW
    assert {p.name for p in (home / "truth").iterdir()} >= {
        "property_index", "property_value", "property_unit_value", "property_model.json"}  # fmt: skip
    assert summary["compounds"] == SMALL.compounds


def test_schema_codes_and_nulls_follow_the_contracts(universe):
    home, _ = universe
    for c in PROPERTY_CONTRACTS:
        if c.name not in RAW:
            continue
        t = _raw(home, c.name)
        assert t.schema == c.arrow_schema, c.name
        assert t.num_rows > 0, c.name
        for f in c.fields:
            col = t.column(f.name)
            if not f.nullable:
                assert col.null_count == 0, (c.name, f.name)
            if f.codes is not None:
                assert set(pc.unique(col.drop_null()).to_pylist()) <= set(f.codes), (c.name, f.name)
        assert len(pc.unique(t.column(c.key[0]))) == t.num_rows, c.name


def test_every_unit_reaches_a_city_through_building_compound_district(universe):
    home, _ = universe
    cities = _raw(home, "property_cities")
    districts = _raw(home, "property_districts")
    compounds = _raw(home, "property_compounds")
    buildings = _raw(home, "property_buildings")
    units = _raw(home, "property_units")
    assert pc.all(pc.is_in(units["building_id"], buildings["building_id"])).as_py()
    assert pc.all(pc.is_in(buildings["compound_id"], compounds["compound_id"])).as_py()
    assert pc.all(pc.is_in(compounds["district_code"], districts["district_code"])).as_py()
    assert pc.all(pc.is_in(compounds["city_code"], cities["city_code"])).as_py()
    # a compound's district belongs to the compound's city
    d_city = dict(zip(districts["district_code"].to_pylist(), districts["city_code"].to_pylist(), strict=True))
    assert all(d_city[d] == c for d, c in zip(compounds["district_code"].to_pylist(),
                                              compounds["city_code"].to_pylist(), strict=True))  # fmt: skip
    for name in ("property_transactions", "property_listings"):
        assert pc.all(pc.is_in(_raw(home, name)["unit_id"], units["unit_id"])).as_py(), name
    # counts in the compound table agree with the detail tables
    assert pc.sum(compounds["n_units"]).as_py() == units.num_rows
    assert pc.sum(compounds["n_buildings"]).as_py() == buildings.num_rows
    floor, total = _np(units["floor"]), _np(units["total_floors"])
    assert ((floor >= 1) & (floor <= total)).all()


def test_units_carry_price_attributes_with_some_gaps(universe):
    home, _ = universe
    units = _raw(home, "property_units")
    area = _np(units["area"])
    assert area.min() >= 25 and area.max() <= 600 and 60 < np.median(area) < 130
    for col in ("rooms", "orientation", "decoration"):
        share = units[col].null_count / units.num_rows
        assert 0.02 < share < 0.4, col
    compounds = _raw(home, "property_compounds")
    assert set(compounds["property_type"].to_pylist()) == {"ordinary", "apartment", "villa"}


# --- history and the price model -------------------------------------------------------------------
def test_transactions_span_the_history_and_never_the_future(universe):
    home, _ = universe
    d = _raw(home, "property_transactions")["date"].to_numpy().astype("datetime64[D]")
    first = np.datetime64("2020-11-01")  # end_month 2026-10 minus 6 years + 1 month
    assert d.min() >= first and d.min() < first + 31
    assert d.max() <= np.datetime64("2026-10-31") and d.max() >= np.datetime64("2026-10-01")
    assert (d.max() - d.min()).astype(int) >= 5 * 365
    years = np.unique(d.astype("datetime64[Y]"))
    assert len(years) >= 6


def test_repeat_sales_exist_at_least_six_months_apart(universe):
    home, summary = universe
    t = _raw(home, "property_transactions").sort_by([("unit_id", "ascending"), ("date", "ascending")])
    unit = np.asarray(t["unit_id"].to_pylist())
    day = t["date"].to_numpy().astype("datetime64[D]").astype(np.int64)
    same = unit[1:] == unit[:-1]
    assert same.sum() > 0.05 * len(unit)  # plenty of repeat pairs for a repeat-sales index
    assert (day[1:][same] - day[:-1][same]).min() >= 180
    assert summary["repeat_sale_units"] > 0


def test_prices_track_the_true_value_by_channel(universe):
    home, _ = universe
    t = _raw(home, "property_transactions")
    v = _truth(home, "property_value")
    assert t["txn_id"].to_pylist() == v["txn_id"].to_pylist()
    ratio = np.array([float(p / q) for p, q in zip(t["price"].to_pylist(), v["true_value"].to_pylist(),
                                                  strict=True)])  # fmt: skip
    channel = np.asarray(t["channel"].to_pylist())
    agency = np.log(ratio[channel == "agency"])
    assert abs(np.median(agency)) < 0.01  # level: median ratio ≈ 1 (IAAO wants 0.90–1.10)
    assert 0.04 < np.std(agency) < 0.09  # 4.5% noise plus a 3% tail of 20%
    assert np.median(ratio[channel == "auction"]) < 0.88  # forced sales at a discount
    assert np.median(ratio[channel == "private"]) < 0.98


def test_true_index_starts_at_one_and_is_its_components(universe):
    home, _ = universe
    idx = _truth(home, "property_index")
    n_m = 12 * SMALL.property_years
    assert idx.num_rows == SMALL.compounds * n_m
    index = _np(idx["index"]).reshape(SMALL.compounds, n_m)
    assert np.allclose(index[:, 0], 1.0)
    parts = _np(idx["log_city"]) + _np(idx["log_district"]) + _np(idx["log_compound"])
    assert np.allclose(np.log(_np(idx["index"])), parts)
    # the stylised cycle: most compounds ended the 2021 boom higher than they start 2026
    assert np.median(index[:, 10]) > np.median(index[:, -1])


def test_value_at_sale_is_area_times_ppm2_and_index_matches_truth_index(universe):
    home, _ = universe
    v = _truth(home, "property_value")
    t = _raw(home, "property_transactions")
    tv = np.array([float(x) for x in v["true_value"].to_pylist()])
    assert np.allclose(tv, _np(v["true_price_per_m2"]) * _np(t["area"]), rtol=1e-6, atol=0.01)
    # log_index of a sale = the truth index of its compound in its month
    idx = _truth(home, "property_index")
    key = {(c, m): x for c, m, x in zip(idx["compound_id"].to_pylist(), idx["month"].to_pylist(),
                                        _np(idx["index"]), strict=True)}  # fmt: skip
    for unit, date, li in list(zip(v["unit_id"].to_pylist(), v["date"].to_pylist(), _np(v["log_index"]),
                                   strict=True))[:500]:  # fmt: skip
        assert np.isclose(np.log(key[(unit[:8], date.replace(day=1))]), li)


def test_repeat_sales_regression_recovers_the_true_index(universe):
    """Bailey–Muth–Nourse on agency repeat pairs (quarterly dummies) tracks the pair-weighted true
    log index: the raw data carry the index a valuation model is meant to find."""
    home, _ = universe
    t = _raw(home, "property_transactions").filter(pc.equal(_raw(home, "property_transactions")["channel"],
                                                            "agency"))  # fmt: skip
    t = t.sort_by([("unit_id", "ascending"), ("date", "ascending")])
    unit = np.asarray(t["unit_id"].to_pylist())
    day = t["date"].to_numpy().astype("datetime64[D]")
    month = (day.astype("datetime64[M]") - np.datetime64("2020-11", "M")).astype(np.int64)
    price = np.array([float(x) for x in t["price"].to_pylist()])
    pair = np.flatnonzero(unit[1:] == unit[:-1])
    q1, q2 = month[pair] // 3, month[pair + 1] // 3
    keep = q2 > q1
    pair, q1, q2 = pair[keep], q1[keep], q2[keep]
    years = (day[pair + 1] - day[pair]).astype(np.int64) / 365.2425
    # ageing between the sales is not market movement: take it out with the model's known rate
    y = np.log(price[pair + 1] / price[pair]) - prop.MODEL["age_per_year"] * years
    n_q = 4 * SMALL.property_years
    x = np.zeros((len(pair), n_q - 1))
    rows = np.arange(len(pair))
    x[rows[q2 > 0], q2[q2 > 0] - 1] += 1
    x[rows[q1 > 0], q1[q1 > 0] - 1] -= 1
    beta, *_ = np.linalg.lstsq(x, y, rcond=None)
    est = np.concatenate([[0.0], beta])
    # truth: the average change of each pair's compound index over the same quarters, regressed the same way
    idx = _truth(home, "property_index")
    log_idx = np.log(_np(idx["index"])).reshape(SMALL.compounds, -1)
    comp = np.array([int(u[1:8]) - 1 for u in unit[pair]])
    yt = log_idx[comp, month[pair + 1]] - log_idx[comp, month[pair]]
    truth, *_ = np.linalg.lstsq(x, yt, rcond=None)
    truth = np.concatenate([[0.0], truth])
    assert len(pair) > 500
    assert np.corrcoef(est, truth)[0, 1] > 0.97
    assert np.max(np.abs(est - truth)) < 0.05


def test_listings_ask_above_the_deal_and_end_when_sold(universe):
    home, _ = universe
    li = _raw(home, "property_listings")
    t = _raw(home, "property_transactions")
    sold = li.filter(pc.equal(li["delist_reason"], "sold"))
    joined = sold.join(t, keys=["unit_id", "delist_date"], right_keys=["unit_id", "date"], join_type="inner")
    assert joined.num_rows == sold.num_rows  # every sold listing ends on a sale of its unit
    ratio = np.array([float(a / p) for a, p in zip(joined["asking_price"].to_pylist(),
                                                  joined["price"].to_pylist(), strict=True)])  # fmt: skip
    assert 1.03 < np.median(ratio) < 1.12
    assert pc.all(pc.less_equal(li.drop_null()["list_date"], li.drop_null()["delist_date"])).as_py()
    reasons = li["delist_reason"]
    assert reasons.null_count > 0  # some listings are still open at the end
    assert pc.sum(pc.equal(reasons, "withdrawn")).as_py() > 0


# --- holdings --------------------------------------------------------------------------------------
def _usccs(n: int, region: str, rng: np.random.Generator) -> np.ndarray:
    body = [f"91{region}{x:09d}" for x in rng.integers(0, 10**9, n)]
    return np.array([b + stdnum_uscc.calc_check_digit(b) for b in body])


def test_holdings_reference_units_of_their_chunk_and_city(universe):
    home, _ = universe
    rng = np.random.default_rng(3)
    usccs = _usccs(1_000, "330106", rng)  # all registered in 杭州西湖区
    reps = np.array([f"P{i:08d}" for i in range(1_000)], dtype=object)
    reps[::10] = None  # some enterprises have no recorded representative
    h0 = prop.generate_holdings(SMALL, 0, usccs, reps, np.random.default_rng(5))
    assert h0.schema == PROPERTY_HOLDINGS.arrow_schema
    assert 500 < h0.num_rows < 1_500
    assert all(stdnum_uscc.is_valid(x) for x in h0["uscc"].to_pylist())
    units = _raw(home, "property_units")
    assert pc.all(pc.is_in(h0["unit_id"], units["unit_id"])).as_py()
    assert len(pc.unique(h0["unit_id"])) == h0.num_rows
    # mostly in the enterprises' own city: compound ids map to 杭州 via property_compounds
    comp = _raw(home, "property_compounds")
    city = dict(zip(comp["compound_id"].to_pylist(), comp["city_code"].to_pylist(), strict=True))
    share_hz = np.mean([city[u[:8]] == "330100" for u in h0["unit_id"].to_pylist()])
    assert share_hz > 0.6
    # another chunk never takes the same unit
    h1 = prop.generate_holdings(SMALL, 1, usccs, reps, np.random.default_rng(5))
    assert not set(h0["unit_id"].to_pylist()) & set(h1["unit_id"].to_pylist())
    # same inputs, same table
    again = prop.generate_holdings(SMALL, 0, usccs, reps, np.random.default_rng(5))
    assert again.equals(h0)


def test_holdings_are_consistent_with_sales_and_mortgages(universe):
    home, _ = universe
    rng = np.random.default_rng(8)
    usccs = _usccs(800, "440305", rng)
    reps = np.array([f"R{i:08d}" for i in range(800)], dtype=object)
    h = prop.generate_holdings(SMALL, 0, usccs, reps, rng)
    kinds = set(h["owner_type"].to_pylist())
    assert kinds == {"enterprise", "person"}
    persons = h.filter(pc.equal(h["owner_type"], "person"))
    assert set(persons["owner_id"].to_pylist()) <= set(reps)
    firms = h.filter(pc.equal(h["owner_type"], "enterprise"))
    assert firms["owner_id"].to_pylist() == firms["uscc"].to_pylist()
    balance = [Decimal(x) for x in h["mortgage_balance"].to_pylist()]
    assert all(b >= 0 for b in balance)
    mortgaged = h["mortgaged"].to_pylist()
    assert all((b > 0) == m for b, m in zip(balance, mortgaged, strict=True))
    assert 0.15 < np.mean(mortgaged) < 0.6
    for b, p in zip(balance, h["purchase_price"].to_pylist(), strict=True):
        assert p is None or b <= p
    as_of = h["as_of"].to_pylist()
    assert all(a <= d for a, d in zip(h["acquired_date"].to_pylist(), as_of, strict=True))
    # a held unit that sold in the history was bought at its last sale
    t = _raw(home, "property_transactions").sort_by([("date", "ascending")])
    last = dict(zip(t["unit_id"].to_pylist(), zip(t["date"].to_pylist(), t["price"].to_pylist(), strict=True),
                    strict=True))  # fmt: skip
    checked = 0
    for u, d, p in zip(h["unit_id"].to_pylist(), h["acquired_date"].to_pylist(), h["purchase_price"].to_pylist(),
                       strict=True):  # fmt: skip
        if u in last:
            assert (d, p) == last[u]
            checked += 1
    assert checked > 0


def test_holdings_reject_bad_input():
    with pytest.raises(ValidationError):
        prop.generate_holdings(SMALL, 0, np.array(["a", "b"]), np.array(["x"]), np.random.default_rng(0))
    with pytest.raises(ValidationError):
        prop.generate_holdings(SMALL, SMALL.n_chunks, np.array(["a"]), np.array(["x"]), np.random.default_rng(0))


# --- exact money ----------------------------------------------------------------------------------
@given(st.lists(st.integers(min_value=-(10**17) + 1, max_value=10**17 - 1), max_size=50))
def test_fen_arrays_are_exact_decimals(fen: list[int]):
    arr = prop._fen(np.array(fen, dtype=np.int64))
    assert arr.type == pa.decimal128(18, 2)
    assert arr.to_pylist() == [Decimal(f) / 100 for f in fen]
