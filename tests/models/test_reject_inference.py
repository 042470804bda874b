"""Reject inference: fuzzy augmentation and parcelling on hand-made data, the weighted scorecard fit against
the unweighted `Scorecard.fit` (unit weights; integer weights = replicated rows), and the through-the-door
measurement on a small synthetic universe (structure and sanity only, no hard-coded gain).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from rich.console import Console
from typer.testing import CliRunner

from puhui.core.errors import ConfigurationError, ValidationError
from puhui.data.synth.config import SynthConfig
from puhui.data.synth.runner import run_synth
from puhui.models.cli_reject import print_reject_inference
from puhui.models.reject_inference import fuzzy_augmentation, parcelling
from puhui.models.reject_measure import RejectMeasureConfig, approve, auc_gain_se, measure_reject_inference
from puhui.models.trainset import TrainsetConfig, build_trainset


def _frames(n_a: int, n_r: int) -> tuple[pd.DataFrame, pd.DataFrame]:
    acc = pd.DataFrame({"a": np.arange(n_a, dtype=float), "b": ["x"] * n_a})
    rej = pd.DataFrame({"a": -np.arange(1, n_r + 1, dtype=float), "b": ["y"] * n_r})
    return acc, rej


# ---- fuzzy augmentation ----


def test_fuzzy_each_reject_twice_with_weights_summing_to_the_reject_weight() -> None:
    acc, rej = _frames(4, 3)
    y = np.array([0, 1, 0, 0])
    p = np.array([0.1, 0.5, 0.9])
    aug = fuzzy_augmentation(acc, y, rej, p, reject_weight=0.5)
    assert len(aug) == len(aug.frame) == 4 + 2 * 3
    assert aug.labels.tolist() == [0, 1, 0, 0, 1, 1, 1, 0, 0, 0]
    assert aug.weights.tolist() == pytest.approx([1, 1, 1, 1, 0.05, 0.25, 0.45, 0.45, 0.25, 0.05])
    assert aug.origin.tolist() == ["accepted"] * 4 + ["reject"] * 6
    # the bad row and the good row of each reject: same features, weights summing to the reject weight
    bad, good = aug.frame.iloc[4:7].reset_index(drop=True), aug.frame.iloc[7:10].reset_index(drop=True)
    pd.testing.assert_frame_equal(bad, rej)
    pd.testing.assert_frame_equal(good, rej)
    assert aug.weights[4:7] + aug.weights[7:10] == pytest.approx([0.5, 0.5, 0.5])
    assert aug.inferred_bad_rate == pytest.approx(0.5)
    # weighted bad share of the reject part equals the mean PD
    w, lab = aug.weights[4:], aug.labels[4:]
    assert (w * lab).sum() / w.sum() == pytest.approx(p.mean())


def test_fuzzy_refuses_bad_input() -> None:
    acc, rej = _frames(3, 2)
    with pytest.raises(ValidationError) as e:
        fuzzy_augmentation(acc, np.array([0, 1]), rej, np.array([0.1, 0.2]))
    assert e.value.code == "length_mismatch"
    with pytest.raises(ValidationError) as e:
        fuzzy_augmentation(acc, np.array([0, 1, 0]), rej, np.array([0.1, 1.2]))
    assert e.value.code == "invalid_pd"
    with pytest.raises(ValidationError) as e:
        fuzzy_augmentation(acc, np.array([0, 1, 0]), rej[["b", "a"]], np.array([0.1, 0.2]))
    assert e.value.code == "column_mismatch"
    with pytest.raises(ValidationError) as e:
        fuzzy_augmentation(acc, np.array([0, 1, 0]), rej, np.array([0.1, 0.2]), reject_weight=0)
    assert e.value.code == "invalid_reject_weight"


# ---- parcelling ----


def _banded(seed: int = 3) -> tuple[pd.DataFrame, np.ndarray, pd.DataFrame, np.ndarray, np.ndarray, np.ndarray]:
    """Four score bands of 1,000 approved applicants each with bad rates 2 %, 5 %, 10 %, 40 % (exact counts),
    and 3,000 rejects spread 500 / 700 / 800 / 1,000 over the bands."""
    rng = np.random.default_rng(seed)
    rates = [0.02, 0.05, 0.10, 0.40]
    pd_a = np.concatenate([rng.uniform(b * 0.1, b * 0.1 + 0.1, 1000) for b in range(4)])
    y_a = np.concatenate([rng.permutation(np.arange(1000) < int(r * 1000)).astype(int) for r in rates])
    counts = [500, 700, 800, 1000]
    pd_r = np.concatenate([rng.uniform(b * 0.1 + 0.001, b * 0.1 + 0.099, c) for b, c in enumerate(counts)])
    acc, rej = _frames(4000, 3000)
    return acc, y_a, rej, pd_a, pd_r, np.repeat(np.arange(4), counts)


def test_parcelling_band_bad_rate_is_the_uplifted_kgb_rate() -> None:
    acc, y_a, rej, pd_a, pd_r, band_r = _banded()
    aug = parcelling(acc, y_a, rej, pd_a, pd_r, bands=4, uplift=1.5, reject_weight=0.8, seed=11)
    assert len(aug) == len(aug.frame) == 7000
    assert aug.labels[:4000].tolist() == y_a.tolist()
    assert aug.weights.tolist() == [1.0] * 4000 + [0.8] * 3000
    y_r = aug.labels[4000:]
    t = aug.bands
    assert t["accepted"].tolist() == [1000] * 4
    assert t["accepted_bad_rate"].tolist() == pytest.approx([0.02, 0.05, 0.10, 0.40])
    assert t["target_bad_rate"].tolist() == pytest.approx([0.03, 0.075, 0.15, 0.60])
    assert t["rejects"].tolist() == [500, 700, 800, 1000]
    for b, want in enumerate([0.03, 0.075, 0.15, 0.60]):
        got = y_r[band_r == b].mean()
        assert abs(got - want) <= 0.5 / (band_r == b).sum() + 1e-12  # exact up to rounding of the count
    # 3 % of 500, 7.5 % of 700 (52.5: either rounding), 15 % of 800, 60 % of 1,000
    assert t["rejects_bad"].iloc[[0, 2, 3]].tolist() == [15, 120, 600] and t["rejects_bad"].iloc[1] in (52, 53)
    assert aug.inferred_bad_rate == pytest.approx(y_r.mean()) and y_r.sum() == t["rejects_bad"].sum()


def test_parcelling_is_deterministic_with_a_seed_and_caps_at_one() -> None:
    acc, y_a, rej, pd_a, pd_r, band_r = _banded()
    one = parcelling(acc, y_a, rej, pd_a, pd_r, bands=4, uplift=3.0, seed=5)
    two = parcelling(acc, y_a, rej, pd_a, pd_r, bands=4, uplift=3.0, seed=5)
    other = parcelling(acc, y_a, rej, pd_a, pd_r, bands=4, uplift=3.0, seed=6)
    assert np.array_equal(one.labels, two.labels)
    assert not np.array_equal(one.labels, other.labels)
    assert one.labels.sum() == other.labels.sum()  # same counts per band, different rejects chosen
    assert one.bands["target_bad_rate"].iloc[-1] == 1.0  # 0.40 × 3 capped
    assert one.labels[4000:][band_r == 3].all()


def test_parcelling_refuses_bad_settings() -> None:
    acc, y_a, rej, pd_a, pd_r, _ = _banded()
    with pytest.raises(ValidationError) as e:
        parcelling(acc, y_a, rej, pd_a, pd_r, bands=0)
    assert e.value.code == "invalid_bands"
    with pytest.raises(ValidationError) as e:
        parcelling(acc, y_a, rej, pd_a, pd_r, uplift=-1)
    assert e.value.code == "invalid_uplift"
    with pytest.raises(ValidationError) as e:
        parcelling(acc, y_a, rej, pd_a[:10], pd_r)
    assert e.value.code == "length_mismatch"


def test_approve_takes_the_lowest_risk_share_per_snapshot() -> None:
    as_of = pd.Series(["m1"] * 4 + ["m2"] * 6)
    risk = np.array([0.9, 0.1, 0.5, 0.3, 5, 1, 4, 2, 6, 3])
    ok = approve(as_of, risk, 0.5)
    assert ok.tolist() == [False, True, False, True, False, True, False, True, False, True]


def test_config_refuses_bad_approval_rate() -> None:
    with pytest.raises(ConfigurationError):
        RejectMeasureConfig(approval_rate=1.0)


# ---- the measurement on a small universe ----

SMALL = SynthConfig(enterprises=1_500, months=30, chunk_size=1_500, compounds=100, property_years=2)
CFG = TrainsetConfig(max_snapshots=6, test_snapshots=2)
PREFIXES = ("bur_", "tax_", "stl_")


@pytest.fixture(scope="module")
def measured(tmp_path_factory: pytest.TempPathFactory) -> tuple[dict, object]:
    home = tmp_path_factory.mktemp("ri_universe")
    run_synth(SMALL, home=home, fresh=True, console=None)
    ts = build_trainset(home, CFG)
    include = tuple(f for f in ts.features if f.startswith(PREFIXES))[:30]
    return measure_reject_inference(ts, RejectMeasureConfig(trainset=CFG, include=include)), ts


def test_measurement_structure_and_sanity(measured) -> None:
    r, ts = measured
    s = r["sample"]
    n_train = len(ts.train)
    assert s["train_applicants"] == n_train and s["approved"] + s["rejected"] == n_train
    per_month = ts.train.groupby("as_of").size()
    assert s["approved"] == sum(round(0.5 * n) for n in per_month)
    # the legacy policy is better than chance, so the approved are a better-than-average sample
    assert r["legacy_policy"]["train_auc"] > 0.5
    assert s["approved_bad_rate"] < s["ttd_bad_rate"] < s["rejected_true_bad_rate"]
    assert s["fuzzy_inferred_reject_bad_rate"] == pytest.approx(s["kgb_mean_pd_on_rejects"])
    assert sum(b["rejects"] for b in r["parcelling_bands"]) == s["rejected"]
    assert sum(b["rejects_bad"] for b in r["parcelling_bands"]) == pytest.approx(
        s["parcelling_inferred_reject_bad_rate"] * s["rejected"]
    )
    assert set(r["models"]) == {"kgb", "fuzzy", "parcelling", "all_applicants"}
    y = ts.test["label"].to_numpy()
    for m in r["models"].values():
        # a few dozen test bads: the AUC of a card on 30 indicators is noisy, so only its range is checked
        assert 0 < m["auc"] < 1 and 0 < m["ks"] < 1 and 0 < m["mean_pd"] < 1
        assert m["bad_rate"] == pytest.approx(y.mean())
        assert m["calibration_gap"] == pytest.approx(m["mean_pd"] - m["bad_rate"])
        assert sum(c["n"] for c in m["calibration"]) == len(y)
        assert m["features_used"] >= 1
    assert s["test_applicants"] == len(y) and 0 < s["test_would_decline"] < len(y)
    kgb, top = r["models"]["kgb"], r["models"]["all_applicants"]
    for name in ("fuzzy", "parcelling"):
        g, m = r["gains"][name], r["models"][name]
        assert g["auc_gain"] == pytest.approx(m["auc"] - kgb["auc"])
        assert g["auc_gain_se"] > 0
        if top["auc"] > kgb["auc"]:
            assert g["auc_gap_closed"] == pytest.approx((m["auc"] - kgb["auc"]) / (top["auc"] - kgb["auc"]))
        else:  # no gap to close: the share is not defined
            assert g["auc_gap_closed"] is None
    assert r["oracle"]["auc"] > 0.5


def test_measurement_prints_and_cli_reports_a_missing_universe(measured, tmp_path: Path) -> None:
    from puhui.cli import app

    r, _ = measured
    console = Console(record=True, width=200)
    print_reject_inference(r, console)
    text = console.export_text()
    assert "all_applicants" in text and "Gain over KGB" in text
    res = CliRunner().invoke(app, ["model", "reject-inference", "--home", str(tmp_path / "none"), "--json"])
    assert res.exit_code == 2
    assert "no_truth" in res.output


def test_bootstrap_se_resamples_whole_enterprises() -> None:
    """Six identical snapshots per firm carry the information of one: the firm bootstrap on the copies
    gives about the row bootstrap's SE on the originals, while a row bootstrap on the copies is too small."""
    rng = np.random.default_rng(1)
    n = 1200
    y = (rng.random(n) < 0.15).astype(int)
    a, b = y + rng.standard_normal(n), y + 1.3 * rng.standard_normal(n)
    once = auc_gain_se(y, {"a": a, "b": b}, "a", n_boot=200)["b"]
    rep = np.repeat(np.arange(n), 6)
    firm = auc_gain_se(y[rep], {"a": a[rep], "b": b[rep]}, "a", groups=rep, n_boot=200)["b"]
    rows = auc_gain_se(y[rep], {"a": a[rep], "b": b[rep]}, "a", n_boot=200)["b"]
    assert firm == pytest.approx(once, rel=0.25)
    assert rows < 0.6 * firm
