"""Out-of-time evaluation on a small synthetic universe, against the oracle (the generator's true PD).

The oracle AUC is checked against scikit-learn's `roc_auc_score` on the same rows (an independent AUC
implementation). "Our AUC ≤ oracle AUC" holds only when test enterprises are held out of training: with
an out-of-time split alone, adjacent snapshots share default events and the models beat the oracle by
memorising firms (an expected failure, kept to document it).
"""

from __future__ import annotations

import json
from datetime import timedelta
from functools import partial
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import typer
from sklearn.metrics import roc_auc_score
from typer.testing import CliRunner

from puhui.data.synth.config import SynthConfig
from puhui.data.synth.runner import run_synth
from puhui.models.cli_universe import evaluate_universe as evaluate_cmd
from puhui.models.evaluate_universe import (
    LOOKAHEAD_FEATURES,
    EvaluationConfig,
    enterprise_valid_order,
    evaluate_models,
    group_auc,
)
from puhui.models.gbm import GBMConfig, _valid_mask
from puhui.models.trainset import TrainsetConfig, build_trainset

SMALL = SynthConfig(enterprises=1_500, months=30, chunk_size=1_500, compounds=100, property_years=2)
# Out-of-time only (holdout 0, not the default 0.3): the optimistic split the xfail below documents.
CFG = TrainsetConfig(max_snapshots=6, test_snapshots=2, holdout_fraction=0.0)
# A slice of the library keeps the test fast (binning 300+ indicators twice takes minutes on 2 cores).
PREFIXES = ("bur_", "tax_", "reg_", "stl_", "ss_")


@pytest.fixture(scope="module")
def universe(tmp_path_factory: pytest.TempPathFactory) -> Path:
    home = tmp_path_factory.mktemp("universe")
    run_synth(SMALL, home=home, fresh=True, console=None)
    return home


@pytest.fixture(scope="module")
def ts(universe: Path):
    return build_trainset(universe, CFG)


@pytest.fixture(scope="module")
def result(ts) -> dict:
    include = tuple(f for f in ts.features if f.startswith(PREFIXES))[:60]
    return evaluate_models(ts, EvaluationConfig(trainset=CFG, gbm=GBMConfig(max_rounds=200), include=include))


def test_oracle_auc_from_truth(ts, result: dict) -> None:
    test = ts.test
    want = roc_auc_score(test["label"], test["true_pd_12m"])
    assert result["oracle"]["test_auc"] == pytest.approx(want, abs=1e-12)
    assert 0.6 < want < 0.95
    for m in result["models"].values():
        assert m["share_of_oracle"] == pytest.approx(m["test_auc"] / want)


def test_models_discriminate_and_report_everything(result: dict) -> None:
    for name in ("scorecard", "gbm"):
        m = result["models"][name]
        assert 0.65 < m["test_auc"] < 1.0
        assert m["gini"] == pytest.approx(2 * m["test_auc"] - 1)
        assert 0 < m["ks"] < 1
        assert len(m["calibration"]) == 10
        assert sum(r["n"] for r in m["calibration"]) == result["trainset"]["test_rows"]
        # deciles run riskiest first: the top decile's mean PD exceeds the bottom's
        assert m["calibration"][0]["mean_pd"] > m["calibration"][-1]["mean_pd"]
        assert {r["group"] for r in m["auc_by_month"]} == set(result["trainset"]["test_as_of"])
        assert sum(r["rows"] for r in m["auc_by_industry"]) == result["trainset"]["test_rows"]
        assert m["psi_train_test"] >= 0
    assert "true_pd_12m" not in result["models"]["scorecard"]["features"]


@pytest.mark.xfail(
    strict=True,
    reason="out-of-time only: adjacent snapshots share default events (overlapping 12-month windows), "
    "so a model that memorises the firm beats the oracle; the enterprise holdout removes this",
)
def test_out_of_time_only_beats_the_oracle(result: dict) -> None:
    oracle = result["oracle"]["test_auc"]
    for m in result["models"].values():
        assert m["test_auc"] <= oracle + 0.02


def test_enterprise_holdout_stays_below_the_oracle(universe: Path, ts) -> None:
    held = build_trainset(universe, TrainsetConfig(max_snapshots=6, test_snapshots=2, holdout_fraction=0.4))
    assert not set(held.train["uscc"]) & set(held.test["uscc"])
    assert held.frame["as_of"].isin(ts.frame["as_of"]).all()
    include = tuple(f for f in held.features if f.startswith(PREFIXES))[:60]
    r = evaluate_models(held, EvaluationConfig(gbm=GBMConfig(max_rounds=200), include=include))
    for m in r["models"].values():
        assert m["test_auc"] <= r["oracle"]["test_auc"] + 0.02


def test_gbm_validates_on_enterprises_it_never_fits(ts) -> None:
    # Early stopping on the latest rows of the same firms rewards memorising them; the ordering key makes
    # the GBM's own latest-rows validation part exactly a hashed quarter of the training enterprises.
    train = ts.train
    key, fraction = enterprise_valid_order(train)
    mask = _valid_mask(train["label"].to_numpy(), GBMConfig(valid_fraction=fraction), key)
    fit, valid = set(train.loc[~mask, "uscc"]), set(train.loc[mask, "uscc"])
    assert fit and valid and not fit & valid
    assert 0.15 < len(valid) / len(fit | valid) < 0.35


def test_lookahead_features_are_left_out(ts, universe: Path, result: dict) -> None:
    assert set(result["features_excluded"]) == set(LOOKAHEAD_FEATURES) & set(ts.features)
    assert not set(LOOKAHEAD_FEATURES) & set(result["models"]["scorecard"]["features"])
    # Why: the legal representative's age is NULL exactly when a change of representative after the as-of
    # is on file (the register keeps no history), i.e. its missingness reads the future.
    import pyarrow.parquet as pq

    ch = pq.read_table(universe / "raw" / "registration_changes").to_pandas()
    ch = ch.loc[ch["change_item"] == "legal_rep"]
    as_of = ts.test_as_of[0]
    rows = ts.frame.loc[ts.frame["as_of"] == pd.Timestamp(as_of)]
    later = set(ch.loc[pd.to_datetime(ch["change_date"]).dt.date > as_of - timedelta(days=31), "uscc"])
    after = set(ch.loc[pd.to_datetime(ch["change_date"]).dt.date > as_of, "uscc"])
    null = rows["reg_legal_rep_age"].isna()
    assert null.sum() > 0
    assert rows.loc[null, "uscc"].isin(later).all()
    assert not rows.loc[~null, "uscc"].isin(after).any()


def test_group_auc_skips_thin_groups() -> None:
    y = np.array([0, 1] * 20 + [0, 0, 1])
    p = np.linspace(0, 1, y.size)
    g = np.array(["a"] * 40 + ["b"] * 3)
    out = {r["group"]: r for r in group_auc(y, p, g, min_bads=5)}
    assert out["b"]["auc"] is None and out["b"]["rows"] == 3
    assert out["a"]["auc"] == pytest.approx(roc_auc_score(y[:40], p[:40]))


def test_cli_writes_json(universe: Path, ts, monkeypatch: pytest.MonkeyPatch) -> None:
    import puhui.models.evaluate_universe as ev

    include = tuple(f for f in ts.features if f.startswith(PREFIXES))[:30]
    monkeypatch.setattr(ev, "EvaluationConfig", partial(EvaluationConfig, include=include,
                                                        gbm=GBMConfig(max_rounds=100)))  # fmt: skip
    app = typer.Typer()
    app.command()(evaluate_cmd)
    r = CliRunner().invoke(app, ["--home", str(universe), "--test-snapshots", "2", "--first-month", "12", "--json"])
    assert r.exit_code == 0, r.output
    saved = json.loads((universe / "models" / "evaluation.json").read_text(encoding="utf-8"))
    assert set(saved["models"]) == {"scorecard", "gbm"}
    assert saved["trainset"]["test_as_of"] == [d.isoformat() for d in ts.test_as_of]
    assert json.loads(r.stdout)["oracle"]["test_auc"] == pytest.approx(saved["oracle"]["test_auc"])


def test_cli_refuses_short_history(universe: Path) -> None:
    app = typer.Typer()
    app.command()(evaluate_cmd)
    r = CliRunner().invoke(app, ["--home", str(universe), "--test-snapshots", "40"])
    assert r.exit_code == 2
    assert "history_too_short" in r.output
