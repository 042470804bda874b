"""`puhui model train` through typer's CliRunner: JSON summary, out-of-time split, --test, --out files, and
bad input refused with exit 2 and the column named."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from typer.testing import CliRunner

from puhui.models.cli import model_app
from puhui.models.scorecard import Scorecard

from .conftest import make_credit

pytestmark = pytest.mark.filterwarnings("ignore::Warning:optbinning.*")
runner = CliRunner()


@pytest.fixture(scope="module")
def files(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    d = tmp_path_factory.mktemp("cli")
    df, y, _ = make_credit(3000, seed=11)
    df["bad"] = y
    df["month"] = pd.date_range("2024-01-01", periods=24, freq="MS").strftime("%Y-%m-%d").to_numpy()[
        np.arange(3000) * 24 // 3000]  # fmt: skip
    df.iloc[:2200].to_csv(d / "train.csv", index=False)
    df.iloc[2200:].to_csv(d / "test.csv", index=False)
    return d / "train.csv", d / "test.csv"


def _json(res: object) -> dict:
    assert res.exit_code == 0, res.output  # type: ignore[attr-defined]
    return json.loads(res.stdout)  # type: ignore[attr-defined]


def test_train_scorecard_out_of_time_json(files: tuple[Path, Path], tmp_path: Path) -> None:
    train, _ = files
    out = tmp_path / "m"
    doc = _json(runner.invoke(model_app, ["train", "--data", str(train), "--target", "bad", "--time-column", "month",
                                          "--json", "--out", str(out)]))  # fmt: skip
    assert doc["split"] == "out_of_time" and doc["rows"] == 2200
    assert doc["test_auc"] > 0.7 and doc["gini"] == pytest.approx(2 * doc["test_auc"] - 1)
    assert 0 < doc["ks"] < 1 and "debt_ratio" in doc["features_used"]
    assert {p.name for p in out.iterdir()} >= {"scorecard.json", "scorecard.csv", "scorecard.md", "scorecard.sql",
                                                "evaluation.json"}  # fmt: skip
    card = Scorecard.load(out / "scorecard.json")
    assert card.features == doc["features_used"]


def test_train_gbm_with_test_file(files: tuple[Path, Path], tmp_path: Path) -> None:
    train, test = files
    doc = _json(runner.invoke(model_app, ["train", "--data", str(train), "--target", "bad", "--test", str(test),
                                          "--time-column", "month", "--kind", "gbm", "--json",
                                          "--out", str(tmp_path)]))  # fmt: skip
    assert doc["split"] == "given_test_file" and doc["test_rows"] == 800 and doc["test_auc"] > 0.7
    assert doc["calibrator"] in ("platt", "isotonic")
    assert (tmp_path / "gbm.txt").is_file() and (tmp_path / "gbm.json").is_file()


def test_table_output(files: tuple[Path, Path]) -> None:
    train, _ = files
    res = runner.invoke(model_app, ["train", "--data", str(train), "--target", "bad"])
    assert res.exit_code == 0, res.output
    assert "test_auc" in res.output and "stratified_random" in res.output


@pytest.mark.parametrize(
    ("mutate", "target", "needle"),
    [
        (lambda df: df, "default_flag", "default_flag"),
        (lambda df: df.assign(bad=0), "bad", "constant"),
        (lambda df: df.assign(bad=np.arange(len(df)) % 3), "bad", "not binary"),
        (lambda df: df.assign(month="not a date"), "bad", "month"),
    ],
)
def test_bad_training_input_exit_2(files: tuple[Path, Path], tmp_path: Path, mutate, target: str, needle: str) -> None:
    train, _ = files
    p = tmp_path / "bad.csv"
    mutate(pd.read_csv(train)).to_csv(p, index=False)
    res = runner.invoke(model_app, ["train", "--data", str(p), "--target", target, "--time-column", "month"])
    assert res.exit_code == 2
    assert needle in res.output


@pytest.mark.parametrize(("change", "needle"), [("drop", "revenue"), ("extra", "surprise")])
def test_test_file_columns_checked(files: tuple[Path, Path], tmp_path: Path, change: str, needle: str) -> None:
    train, test = files
    df = pd.read_csv(test)
    df = df.drop(columns=["revenue"]) if change == "drop" else df.assign(surprise=1)
    p = tmp_path / "t.csv"
    df.to_csv(p, index=False)
    res = runner.invoke(model_app, ["train", "--data", str(train), "--target", "bad", "--test", str(p)])
    assert res.exit_code == 2 and needle in res.output


def test_unknown_kind_and_missing_file(files: tuple[Path, Path], tmp_path: Path) -> None:
    train, _ = files
    res = runner.invoke(model_app, ["train", "--data", str(train), "--target", "bad", "--kind", "forest"])
    assert res.exit_code == 2 and "forest" in res.output
    res = runner.invoke(model_app, ["train", "--data", str(tmp_path / "nope.csv"), "--target", "bad"])
    assert res.exit_code == 2 and "missing_file" in res.output
