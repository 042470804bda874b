"""The `avm` sub-app through Typer's CliRunner: fit, evaluate (raw zone and a bank CSV, text and JSON),
value a unit, and clear one-line errors with exit status 2 for bad requests."""

from __future__ import annotations

import json
from pathlib import Path

import polars as pl
import pytest
from typer.testing import CliRunner

from puhui.collateral.cli import avm_app
from puhui.data.rawzone import RawZone
from puhui.data.synth.config import SynthConfig
from puhui.data.synth.property import generate_property

runner = CliRunner()
TODAY = ["--today", "2026-11-30"]


@pytest.fixture(scope="module")
def home(tmp_path_factory: pytest.TempPathFactory) -> Path:
    h = tmp_path_factory.mktemp("cli")
    generate_property(SynthConfig(compounds=200, seed=3), RawZone(h / "raw"))
    res = runner.invoke(avm_app, ["fit", "--home", str(h)])
    assert res.exit_code == 0, res.output
    return h


def test_fit_saves_a_model(home: Path) -> None:
    assert (home / "models" / "avm" / "avm.json").exists()


def test_evaluate_json_reports_the_ratio_study_and_the_oracle(home: Path) -> None:
    res = runner.invoke(avm_app, ["evaluate", "--home", str(home), "--json", "--split-date", "2026-04-01"])
    assert res.exit_code == 0, res.output
    doc = json.loads(res.output)
    assert doc["split_date"] == "2026-04-01"
    for key in ("mdape", "ppe10", "ppe20", "median_ratio", "cod", "prd", "prb", "hit_rate"):
        assert key in doc["overall"]
    assert doc["oracle"]["mdape"] < doc["overall"]["mdape"]
    assert doc["by_band"] and doc["by_city"] is not None


def test_evaluate_text_on_a_bank_file_quarantines_bad_rows(home: Path, tmp_path: Path) -> None:
    sales = pl.read_parquet(str(home / "raw" / "property_transactions" / "*.parquet"))
    units = pl.read_parquet(str(home / "raw" / "property_units" / "*.parquet")).select("unit_id", "building_id")
    bld = pl.read_parquet(str(home / "raw" / "property_buildings" / "*.parquet")).select("building_id", "compound_id")
    df = (
        sales.join(units, on="unit_id").join(bld, on="building_id")
        .select(pl.col("txn_id").alias("id"), "date", pl.col("price").cast(pl.Float64), "area",
                pl.col("compound_id").alias("compound"), "channel")
    )  # fmt: skip
    f = tmp_path / "mine.csv"
    df.with_columns(
        pl.when(pl.col("id") == "T0000000001").then(pl.lit(-1.0)).otherwise("area").alias("area")
    ).write_csv(f)
    res = runner.invoke(avm_app, ["evaluate", "--data", str(f), "--home", str(tmp_path)])
    assert res.exit_code == 0, res.output
    assert "MdAPE" in res.output and "1 rows quarantined" in res.output
    q = pl.read_csv(tmp_path / "quarantine" / "avm_sales" / "mine.csv")
    assert q["_reason"].to_list() == ["area_out_of_range"]


def test_value_a_unit(home: Path) -> None:
    unit = pl.read_parquet(str(home / "raw" / "property_units" / "*.parquet"))["unit_id"][0]
    res = runner.invoke(avm_app, ["value", "--unit", unit, "--home", str(home), "--as-of", "2026-10-31", "--json",
                                  *TODAY])  # fmt: skip
    assert res.exit_code == 0, res.output
    v = json.loads(res.output)
    assert v["subject"] == unit and float(v["low"]) < float(v["value"]) < float(v["high"])
    assert 0 <= v["confidence"] <= 100


@pytest.mark.parametrize(
    ("args", "code"),
    [(["--unit", "C0000001-99-9999"], "unknown_unit"), (["--compound", "C0000001", "--area", "0"], "area_out_of_range"),
     (["--compound", "nowhere", "--area", "80"], "unknown_compound"),
     (["--unit", "C0000001-01-101", "--as-of", "2027-06-01"], "valuation_date_in_future"),
     (["--unit", "C0000001-01-101", "--as-of", "junk"], "invalid_date")],
)  # fmt: skip
def test_value_errors_are_one_line_with_the_code(home: Path, args: list[str], code: str) -> None:
    res = runner.invoke(avm_app, ["value", *args, "--home", str(home), *TODAY])
    assert res.exit_code == 2
    assert f"[{code}]" in res.output


def test_value_without_a_model_says_so(tmp_path: Path) -> None:
    res = runner.invoke(avm_app, ["value", "--compound", "C1", "--area", "80", "--home", str(tmp_path)])
    assert res.exit_code == 2 and "[avm_model_not_found]" in res.output
