"""A bank's own sales file: every bad row quarantined with its reason and never fitted; files located by
compound id or only by lat/lon; and the time-split evaluation running on such a file."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import numpy as np
import polars as pl
import pytest

from puhui.collateral.evaluate import evaluate_time_split, load_property_data, load_sales_csv
from puhui.core.errors import NotFound, ValidationError
from puhui.data.rawzone import RawZone
from puhui.data.synth.config import SynthConfig
from puhui.data.synth.property import generate_property

TODAY = date(2026, 11, 30)

GOOD = "g1,2026-01-05,1250000,88.5,C1,,,5,18,3\n"
BAD_ROWS = {
    "missing_id": ",2026-01-05,1250000,88.5,C1,,,5,18,3",
    "bad_date": "b2,05/01/2026x,1250000,88.5,C1,,,5,18,3",
    "date_in_future": "b3,2027-03-01,1250000,88.5,C1,,,5,18,3",
    "bad_price": "b4,2026-01-05,abc,88.5,C1,,,5,18,3",
    "price_out_of_range": "b5,2026-01-05,12,88.5,C1,,,5,18,3",
    "bad_area": "b6,2026-01-05,1250000,,C1,,,5,18,3",
    "area_out_of_range": "b7,2026-01-05,1250000,0,C1,,,5,18,3",
    "no_location": "b8,2026-01-05,1250000,88.5,,,,5,18,3",
    "floor_out_of_range": "b9,2026-01-05,1250000,88.5,C1,,,25,18,3",
    "bad_rooms": "b10,2026-01-05,1250000,88.5,C1,,,5,18,-1",
}


def test_each_bad_row_is_quarantined_with_its_reason(tmp_path: Path) -> None:
    f = tmp_path / "sales.csv"
    lines = ["id,date,price,area,compound,lat,lon,floor,total_floors,rooms", GOOD.strip(),
             "dup,2026-01-05,1250000,88.5,C1,,,5,18,3", "dup,2026-01-06,1250000,88.5,C1,,,5,18,3",
             *BAD_ROWS.values()]  # fmt: skip
    f.write_text("\n".join(lines) + "\n", encoding="utf-8")
    out = load_sales_csv(f, today=TODAY)
    assert out.sales["sale_id"].to_list() == ["g1"]
    reasons = dict(zip(out.quarantine["id"].fill_null("").to_list(), out.quarantine["_reason"].to_list(), strict=True))
    assert reasons.pop("dup") == "duplicate_id"
    expected = {line.split(",")[0]: code for code, line in BAD_ROWS.items()}
    assert reasons == expected
    assert out.quarantine.height == len(BAD_ROWS) + 2
    assert out.sales["price"][0] == 1_250_000.0 and out.location == "compound+lat_lon"


def test_whole_file_problems_raise(tmp_path: Path) -> None:
    f = tmp_path / "x.csv"
    f.write_text("id,date,price\n1,2026-01-01,100000\n", encoding="utf-8")
    with pytest.raises(ValidationError) as e:
        load_sales_csv(f, today=TODAY)
    assert e.value.code == "missing_column"
    f.write_text("id,date,price,area\n1,2026-01-01,100000,80\n", encoding="utf-8")
    with pytest.raises(ValidationError) as e:
        load_sales_csv(f, today=TODAY)
    assert e.value.code == "missing_location"
    with pytest.raises(NotFound):
        load_sales_csv(tmp_path / "none.csv")


def test_lat_lon_only_files_get_grid_compounds(tmp_path: Path) -> None:
    f = tmp_path / "ll.csv"
    f.write_text(
        "id,date,price,area,lat,lon\n"
        "a,2026-01-01,3000000,90,31.2301,121.4701\n"
        "b,2026-01-02,3100000,92,31.2302,121.4702\n"
        "c,2026-01-03,1000000,90,30.2,120.1\n"
        "d,2026-01-03,1000000,90,95.0,120.1\n",
        encoding="utf-8",
    )
    out = load_sales_csv(f, today=TODAY)
    c = dict(zip(out.sales["sale_id"].to_list(), out.sales["compound"].to_list(), strict=True))
    assert c["a"] == c["b"] != c["c"]  # 20 m apart: one pseudo-compound; 120 km apart: another
    assert out.quarantine["_reason"].to_list() == ["bad_lat_lon"]
    assert out.location == "lat_lon" and set(out.compounds["compound"]) == set(c.values())


@pytest.fixture(scope="module")
def bank_file(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The synthetic universe exported as a bank would: lat/lon only (no compound ids), a few bad rows."""
    home = tmp_path_factory.mktemp("bank")
    generate_property(SynthConfig(compounds=250, seed=11), RawZone(home / "raw"))
    data = load_property_data(home, with_units=False)
    comp = data.compounds.select("compound", "lat", "lon", "district")
    s = data.sales.join(comp, on="compound").select(
        pl.col("sale_id").alias("id"), "date", "price", "area", "lat", "lon", "floor", "total_floors", "rooms",
        "orientation", "decoration", "unit_id", "channel", "city",
    )  # fmt: skip
    s = s.with_columns(pl.col("price").round(0).cast(pl.Int64))
    bad = s.head(3).with_columns(pl.lit(-1).cast(pl.Int64).alias("price"), pl.format("bad{}", "id").alias("id"))
    f = home / "bank_sales.csv"
    pl.concat([s, bad]).write_csv(f)
    return f


def test_time_split_runs_on_a_bank_file(bank_file: Path) -> None:
    f = load_sales_csv(bank_file, today=TODAY)
    assert f.quarantine.height == 3 and set(f.quarantine["_reason"]) == {"price_out_of_range"}
    assert not f.sales["sale_id"].str.starts_with("bad").any()  # never fitted
    ev, _ = evaluate_time_split(f.sales, f.compounds)
    # pseudo-compounds from a 300 m grid are coarser than real 小区, so the bar is lower than on the raw zone
    assert ev.overall.hit_rate > 0.9
    assert ev.overall.mdape < 0.09
    assert 0.95 < ev.overall.median_ratio < 1.05
    assert abs(ev.fsd_coverage - 0.683) < 0.08
    assert ev.split_date == date(2026, 5, 1)


def test_split_date_leaving_too_few_later_sales_is_refused(bank_file: Path) -> None:
    f = load_sales_csv(bank_file, today=TODAY)
    with pytest.raises(ValidationError) as e:
        evaluate_time_split(f.sales, f.compounds, date(2026, 10, 31))
    assert e.value.code == "too_few_test_sales"
    assert np.isfinite(f.sales["lat"].to_numpy()).all()
