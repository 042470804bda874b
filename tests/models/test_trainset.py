"""Training sets from the synthetic universe: point-in-time features, labels, exclusions, out-of-time split.

Labels are re-derived here from a different truth field than the module uses (`truth/health_monthly.
default_onset`, the monthly draw outcome, instead of `truth/enterprises.default_onset_month`), so a
mistake in the month arithmetic shows up as a mismatch.
"""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pandas as pd
import pyarrow.parquet as pq
import pytest

from puhui.core.errors import ConfigurationError
from puhui.data.synth.config import SynthConfig
from puhui.data.synth.runner import run_synth
from puhui.indicators.batch import indicator_table_path, read_manifest
from puhui.models.trainset import META_COLUMNS, TrainsetConfig, build_trainset, month_end, snapshot_dates

SMALL = SynthConfig(enterprises=1_500, months=30, chunk_size=1_500, compounds=100, property_years=2)
CFG = TrainsetConfig(max_snapshots=6, test_snapshots=2)


@pytest.fixture(scope="module")
def universe(tmp_path_factory: pytest.TempPathFactory) -> Path:
    home = tmp_path_factory.mktemp("universe")
    run_synth(SMALL, home=home, fresh=True, console=None)
    return home


@pytest.fixture(scope="module")
def ts(universe: Path):
    return build_trainset(universe, CFG)


def _months(n: int) -> list[date]:
    return [date(2023 + (10 + k) // 12, (10 + k) % 12 + 1, 1) for k in range(n)]


def test_snapshot_schedule_36_months() -> None:
    # The worked case: 36 months of history, 6 months before the first snapshot, a 12-month
    # horizon → month indices 6 … 23 (the last with 12 observed months after it); the last 6 are test.
    months = _months(36)
    train, test = snapshot_dates(months, TrainsetConfig())
    assert train == months[6:18]
    assert test == months[18:24]
    assert months.index(test[-1]) + 12 == len(months) - 1


def test_gap_and_short_history() -> None:
    months = _months(36)
    train, test = snapshot_dates(months, TrainsetConfig(gap_months=3))
    assert months.index(train[-1]) == months.index(test[0]) - 4
    with pytest.raises(ConfigurationError, match="holdout"):
        TrainsetConfig(holdout_fraction=1.0)
    with pytest.raises(ConfigurationError, match="history"):
        snapshot_dates(_months(20), TrainsetConfig())


def test_out_of_time_split(ts, universe: Path) -> None:
    f = ts.frame
    assert f.loc[f["split"] == "train", "as_of"].max() < f.loc[f["split"] == "test", "as_of"].min()
    assert sorted(f.loc[f["split"] == "test", "as_of"].dt.date.unique()) == ts.test_as_of
    assert len(ts.test_as_of) == 2 and len(ts.train_as_of) == 4
    assert all(d == month_end(d) for d in ts.train_as_of + ts.test_as_of)
    last = max(pq.read_table(universe / "truth" / "health_monthly", columns=["month"])["month"]
               .to_pylist())  # fmt: skip
    # every test snapshot has its whole 12-month outcome window inside the history
    m = ts.test_as_of[-1]
    assert (last.year * 12 + last.month) - (m.year * 12 + m.month) >= 12


def test_features_exclude_labels_and_truth(ts) -> None:
    assert not set(META_COLUMNS) & set(ts.features)
    assert list(ts.frame.columns[: len(META_COLUMNS)]) == list(META_COLUMNS)
    assert ts.frame["true_pd_12m"].notna().all()
    assert set(ts.frame["label"].unique()) == {0, 1}


def test_features_are_the_indicator_table_of_their_as_of(ts, universe: Path) -> None:
    # Point in time: each row's features are exactly the batch table computed as of its snapshot date
    # (the batch engine reads only data known by then — tests/indicators/test_point_in_time.py).
    for as_of in (ts.train_as_of[0], ts.test_as_of[-1]):
        folder = indicator_table_path(universe, as_of)
        assert read_manifest(folder)["as_of"] == as_of.isoformat()
        table = pq.read_table(folder, partitioning=None).to_pandas().set_index("uscc")
        rows = ts.frame.loc[ts.frame["as_of"] == pd.Timestamp(as_of)].set_index("uscc")
        numeric = [c for c in ts.features if ts.kinds[c] == "numerical" and rows[c].notna().sum() > 10]
        assert len(numeric) > 100
        for col in numeric:
            want = pd.to_numeric(table.loc[rows.index, col].astype(object), errors="coerce").astype(float)
            pd.testing.assert_series_equal(rows[col], want, check_names=False)


def test_labels_from_the_next_12_months_only(ts, universe: Path) -> None:
    p = pq.read_table(universe / "truth" / "health_monthly", columns=["uscc", "month", "default_onset"]).to_pandas()
    onsets = p.loc[p["default_onset"]].set_index("uscc")["month"]
    onsets = pd.to_datetime(onsets)
    f = ts.frame
    start = f["as_of"].dt.to_period("M").dt.to_timestamp()
    onset = f["uscc"].map(onsets)
    expect = ((onset > start) & (onset <= start + pd.DateOffset(months=12))).astype(int)
    assert (f["label"].to_numpy() == expect.to_numpy()).all()
    assert f["label"].sum() > 20


def test_exclusions(ts, universe: Path) -> None:
    e = pq.read_table(universe / "truth" / "enterprises", columns=["uscc", "founding_date", "default_onset_month"])
    e = e.to_pandas().set_index("uscc")
    f = ts.frame
    start = f["as_of"].dt.to_period("M").dt.to_timestamp()
    onset = pd.to_datetime(f["uscc"].map(e["default_onset_month"]))
    assert not (onset <= start).any()  # nobody already in default at the as-of
    founded = pd.to_datetime(f["uscc"].map(e["founding_date"]))
    assert (founded <= f["as_of"] - pd.DateOffset(months=6)).all()  # nobody younger than 6 months
    x = ts.exclusions
    assert (x["kept"] + x["in_default"] + x["exited"] + x["too_young"] + x["no_data"] == x["registered"]).all()
    assert x["in_default"].sum() > 0 and x["too_young"].sum() > 0
    # the enterprise holdout (default 0.3) removes held-out firms' train rows and the others' test rows
    assert list(x["kept"] - x["held_out"]) == list(f.groupby("as_of").size())
    assert (x["held_out"] > 0).all()


def test_default_split_is_out_of_time_and_out_of_sample(ts) -> None:
    # One default for the library and `puhui model evaluate --holdout`: test firms never appear in train.
    assert TrainsetConfig().holdout_fraction == 0.3
    train, test = set(ts.train["uscc"]), set(ts.test["uscc"])
    assert train and test and not train & test
    share = len(test) / len(train | test)
    assert 0.2 < share < 0.4


def test_cli_default_holdout_is_the_library_default() -> None:
    import inspect

    from puhui.models.cli_universe import evaluate_universe as cmd

    option = inspect.signature(cmd).parameters["holdout"].default
    assert option == TrainsetConfig().holdout_fraction


def test_stale_indicator_table_is_recomputed(ts, universe: Path) -> None:
    # A table written by other definitions (or another universe in the same home) must not be read.
    import json

    folder = indicator_table_path(universe, ts.test_as_of[-1])
    manifest = json.loads((folder / "_manifest.json").read_text(encoding="utf-8"))
    good = manifest["library_fingerprint"]
    manifest["library_fingerprint"] = "stale"
    (folder / "_manifest.json").write_text(json.dumps(manifest), encoding="utf-8")
    again = build_trainset(universe, CFG)
    assert read_manifest(folder)["library_fingerprint"] == good
    pd.testing.assert_frame_equal(again.frame, ts.frame)


def test_min_age_is_a_parameter(ts, universe: Path) -> None:
    older = build_trainset(universe, TrainsetConfig(max_snapshots=6, test_snapshots=2, min_age_months=24))
    assert older.exclusions["too_young"].sum() > ts.exclusions["too_young"].sum()
    assert len(older.frame) < len(ts.frame)
