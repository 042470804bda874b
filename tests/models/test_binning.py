"""Binning: monotonic trends, Special and Missing bins, manual splits kept, frozen bins that survive JSON."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from puhui.core.errors import ConfigurationError, ValidationError
from puhui.models.binning import BinningConfig, FrozenBinning, fit_binning


@pytest.fixture(scope="module")
def data() -> tuple[pd.Series, np.ndarray]:
    rng = np.random.default_rng(1)
    x = rng.normal(0, 1, 3000)
    y = (rng.random(3000) < 1 / (1 + np.exp(-(x - 1.5)))).astype(int)
    x[:150] = np.nan
    x[150:250] = -9.0
    return pd.Series(x), y


def test_ascending_trend_special_and_missing(data: tuple[pd.Series, np.ndarray]) -> None:
    s, y = data
    cfg = BinningConfig(special_codes=(-9,), trends={"x": "ascending"})
    b = fit_binning(s, y, name="x", kind="numerical", config=cfg)
    rates = [e / c for c, e in zip(b.counts[: b.n_regular], b.events[: b.n_regular], strict=True)]
    assert rates == sorted(rates)  # bad rate rises bin by bin
    assert b.counts[b.special_bin] == 100 and b.counts[b.missing_bin] == 150
    assert sum(b.counts) == 3000 and sum(b.events) == y.sum()
    assert b.source == "optbinning" and b.iv > 0.1
    assert list(b.woe[: b.n_regular]) == sorted(b.woe[: b.n_regular], reverse=True)  # WoE good-positive


def test_split_boundary_goes_to_upper_bin() -> None:
    b = FrozenBinning("x", "numerical", (1.0, 2.0), (), (-9.0,), (1,) * 5, (0,) * 5, (0.0,) * 5, "manual")
    assert b.bin_index([0.5, 1.0, 1.5, 2.0, 7.0, -9, None]).tolist() == [0, 1, 1, 2, 2, 3, 4]
    assert b.labels()[1] == "[1, 2)"


def test_manual_splits_are_kept(data: tuple[pd.Series, np.ndarray]) -> None:
    s, y = data
    b = fit_binning(s, y, name="x", kind="numerical", config=BinningConfig(user_splits={"x": [0.0, 1.0]}))
    assert b.splits == (0.0, 1.0) and b.source == "manual"
    back = FrozenBinning.from_dict(json.loads(json.dumps(b.to_dict())))
    assert back == b


def test_categorical_groups_and_unseen_go_to_missing() -> None:
    rng = np.random.default_rng(2)
    c = rng.choice(["a", "b", "c"], 2000)
    y = (rng.random(2000) < np.where(c == "a", 0.4, np.where(c == "b", 0.2, 0.05))).astype(int)
    s = pd.Series(c, dtype=object)
    s[:100] = None
    b = fit_binning(s, y, name="c", kind="categorical", config=BinningConfig())
    assert sorted(x for g in b.groups for x in g) == ["a", "b", "c"]
    assert b.counts[b.missing_bin] == 100
    assert b.bin_index(["zzz", None])[0] == b.missing_bin == b.bin_index([None])[0]
    woe_a = b.transform(["a"])[0]
    woe_c = b.transform(["c"])[0]
    assert woe_a < 0 < woe_c  # riskier category has negative WoE


def test_text_in_numeric_column_names_the_column() -> None:
    b = FrozenBinning("revenue", "numerical", (1.0,), (), (), (1, 1, 0, 0), (0, 1, 0, 0), (0.1, -0.1, 0, 0), "manual")
    with pytest.raises(ValidationError, match="revenue"):
        b.bin_index(pd.Series(["12", "abc"]))


def test_unknown_trend_refused() -> None:
    with pytest.raises(ConfigurationError, match="sideways"):
        BinningConfig(trends={"x": "sideways"})


@settings(max_examples=60, deadline=None)
@given(st.lists(st.one_of(st.floats(allow_nan=True, allow_infinity=False), st.none()), min_size=1, max_size=30))
def test_frozen_bins_identical_after_json(values: list[float | None]) -> None:
    b = FrozenBinning("x", "numerical", (-1.5, 0.1, 3e7), (), (-9.0, 0.0), (1,) * 6, (0,) * 6,
                      (0.3, 0.2, 0.1, -0.1, 0.0, 0.05), "manual")  # fmt: skip
    back = FrozenBinning.from_dict(json.loads(json.dumps(b.to_dict())))
    assert np.array_equal(b.transform(values), back.transform(values))
    assert np.array_equal(b.bin_index(values), back.bin_index(values))


def test_infinite_values_fit_and_land_in_outer_bins() -> None:
    rng = np.random.default_rng(4)
    x = rng.normal(0, 1, 2000)
    y = (rng.random(2000) < 1 / (1 + np.exp(-2 * x))).astype(int)
    x[:20] = np.inf
    x[20:40] = -np.inf
    b = fit_binning(pd.Series(x), y, name="x", kind="numerical", config=BinningConfig())
    assert b.source == "optbinning"
    assert b.bin_index([np.inf, -np.inf]).tolist() == [b.n_regular - 1, 0]


def test_optbinning_failure_falls_back_to_quantiles(monkeypatch: pytest.MonkeyPatch, data) -> None:
    from puhui.models import binning

    def broken(*args, **kwargs):
        raise RuntimeError("solver crashed")

    monkeypatch.setattr(binning, "_fit_optbinning", broken)
    s, y = data
    b = fit_binning(s, y, name="x", kind="numerical", config=BinningConfig(max_n_bins=4))
    assert b.source.startswith("fallback") and "solver crashed" in b.source
    assert len(b.splits) == 3 and sum(b.counts) == len(s)


def test_a_feature_left_in_one_bin_has_no_information_value() -> None:
    # IV = Σ (%good − %bad)·WoE over bins with rows (Siddiqi 2006): one populated bin carries no evidence,
    # whatever the smoothing of the empty Special/Missing bins.
    rng = np.random.default_rng(3)
    y = (rng.random(2_000) < 0.1).astype(int)
    b = fit_binning(pd.Series(np.full(2_000, 7.0)), y, name="constant", kind="numerical", config=BinningConfig())
    assert sum(1 for c in b.counts if c > 0) == 1
    assert b.iv == 0.0
