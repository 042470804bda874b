"""`puhui model retrain` on a tiny synthetic universe: candidate on the latest matured snapshots, registered
with its fingerprint, compared with the champion on the same out-of-time rows, reports written.

Independent checks: the training fingerprint is recomputed from a training set rebuilt here; the
champion's and candidate's AUCs come from scikit-learn on PDs scored here from the registry's files.
"""

from __future__ import annotations

import json
from dataclasses import replace
from datetime import date
from pathlib import Path

import numpy as np
import pytest
from sklearn.metrics import roc_auc_score
from typer.testing import CliRunner

from puhui.cli import app
from puhui.data.synth.config import SynthConfig
from puhui.data.synth.runner import run_synth
from puhui.models import registry
from puhui.models.evaluate_universe import GBM_SETTINGS, LOOKAHEAD_FEATURES
from puhui.models.retrain import RetrainConfig, retrain
from puhui.models.trainset import build_trainset
from puhui.store import make_engine, migrate

# 24 months leave six matured snapshots (month indices 6 … 11); the retrains use the latest four
SMALL = SynthConfig(enterprises=1_500, months=24, chunk_size=1_500, compounds=100, property_years=2)
PREFIXES = ("bur_", "tax_", "stl_")


@pytest.fixture(scope="module")
def universe(tmp_path_factory: pytest.TempPathFactory) -> Path:
    home = tmp_path_factory.mktemp("universe")
    run_synth(SMALL, home=home, fresh=True, console=None)
    return home


@pytest.fixture(scope="module")
def flow(universe: Path) -> dict:
    """First retrain through the CLI (scorecard, promoted as the first champion), then a GBM challenger."""
    url = f"sqlite:///{universe / 'puhui.sqlite'}"
    migrate.upgrade(url)
    res = CliRunner().invoke(app, ["model", "retrain", "--home", str(universe), "--max-snapshots", "4",
                                   "--features", ",".join(PREFIXES), "--promote-if-no-champion", "--json"])  # fmt: skip
    assert res.exit_code == 0, res.output
    first = json.loads(res.stdout)
    engine = make_engine(url)
    cfg = RetrainConfig(kind="gbm", max_snapshots=4, include_prefixes=PREFIXES,
                        gbm=replace(GBM_SETTINGS, max_rounds=200))  # fmt: skip
    second = retrain(engine, universe, cfg)
    return {"first": first, "second": second, "engine": engine, "cfg": cfg}


@pytest.fixture(scope="module")
def ts(universe: Path, flow: dict):
    """The training set rebuilt here, independently of the retrain runs."""
    return build_trainset(universe, flow["cfg"].trainset())


def test_first_retrain_registers_and_promotes_a_champion(universe: Path, flow: dict) -> None:
    first, engine = flow["first"], flow["engine"]
    assert first["candidate"]["version"] == "sme_pd-v1" and first["promoted"] is True
    assert first["champion"] is None and first["recommendation"]["action"] == "promote"
    # history ends 2026-10; a 12-month outcome has matured for snapshots up to 2025-10 (month index 11 of 24)
    assert first["trainset"]["test_as_of"] == ["2025-10-31"]
    assert len(first["trainset"]["train_as_of"]) == 3
    champ = registry.champion(engine, "sme_pd", home=universe)
    assert champ is not None and champ.version == "sme_pd-v1" and champ.kind == "scorecard"
    assert all(f.startswith(PREFIXES) for f in champ.features)
    for ext in ("json", "md", "html"):
        assert (universe / "models" / "reports" / f"retrain_sme_pd-v1.{ext}").stat().st_size > 200


def test_training_fingerprint_matches_a_rebuilt_training_set(universe: Path, flow: dict, ts) -> None:
    train = ts.train
    pool = [f for f in ts.features if f.startswith(PREFIXES) and f not in LOOKAHEAD_FEATURES]
    pool = [f for f in pool if train[f].nunique(dropna=False) > 1]
    frame = train[["uscc", "as_of", "label", *pool]]
    cand = registry.get(flow["engine"], "sme_pd", flow["second"]["candidate"]["version"], home=universe)
    assert cand.metadata["training_data"]["sha256"] == registry.frame_fingerprint(frame)
    assert cand.metadata["training_data"]["rows"] == len(train)
    # both retrains read the same matured snapshots and feature pool, hence the same training data
    v1 = registry.get(flow["engine"], "sme_pd", "sme_pd-v1", home=universe)
    assert v1.metadata["training_data"]["sha256"] == cand.metadata["training_data"]["sha256"]
    m = cand.metadata["metrics"]
    assert m["train_rows"] == len(train) and m["bad_rate"] == pytest.approx(train["label"].mean())
    ref = cand.metadata["reference"]
    assert ref["performance"]["auc"] == pytest.approx(m["test_auc"]) and ref["rows"] == len(train)


def test_challenger_compared_with_champion_on_the_same_rows(universe: Path, flow: dict, ts) -> None:
    second, engine = flow["second"], flow["engine"]
    assert second["candidate"]["version"] == "sme_pd-v2" and second["champion"]["version"] == "sme_pd-v1"
    assert second["promoted"] is False  # a champion exists: promotion stays a person's decision
    test = ts.test
    y = test["label"].to_numpy()
    p1 = registry.get(engine, "sme_pd", "sme_pd-v1", home=universe).load().predict_pd(test, allow_extra=True)
    p2 = registry.get(engine, "sme_pd", "sme_pd-v2", home=universe).load().predict_pd(test, allow_extra=True)
    assert second["champion"]["test_auc"] == pytest.approx(roc_auc_score(y, p1))
    assert second["candidate"]["test_auc"] == pytest.approx(roc_auc_score(y, p2))
    cmp = second["comparison"]
    assert cmp["rows"] == len(test) == second["test_rows"]
    assert cmp["delta_auc"] == pytest.approx(roc_auc_score(y, p2) - roc_auc_score(y, p1))
    assert cmp["delta_auc_p05"] <= cmp["delta_auc"] <= cmp["delta_auc_p95"]
    assert 0 < cmp["rank_correlation"] <= 1 and 0 <= cmp["grade_changed_share"] <= 1
    want = "promote" if cmp["delta_auc"] > 0 and cmp["delta_auc_p05"] > -0.005 else "keep_champion"
    assert second["recommendation"]["action"] == want
    md = (universe / "models" / "reports" / "retrain_sme_pd-v2.md").read_text(encoding="utf-8")
    assert "sme_pd-v1" in md and "ΔAUC" in md
    saved = json.loads(Path(second["files"]["json"]).read_text(encoding="utf-8"))
    assert saved["comparison"]["delta_auc"] == pytest.approx(cmp["delta_auc"])
    assert [v.state for v in registry.list_versions(engine, "sme_pd")] == ["champion", "candidate"]
    assert np.isfinite(p2).all()


def test_cli_lists_and_shows_the_registry(universe: Path, flow: dict) -> None:
    url = f"sqlite:///{universe / 'puhui.sqlite'}"
    run = CliRunner().invoke
    res = run(app, ["model", "list", "--database-url", url, "--json"])
    assert res.exit_code == 0, res.output
    assert [(v["version"], v["state"]) for v in json.loads(res.stdout)] == [("sme_pd-v1", "champion"),
                                                                             ("sme_pd-v2", "candidate")]  # fmt: skip
    res = run(app, ["model", "show", "sme_pd", "--database-url", url, "--json"])
    assert res.exit_code == 0 and json.loads(res.stdout)["version"] == "sme_pd-v1"
    res = run(app, ["model", "promote", "sme_pd", "sme_pd-v1", "--actor", "staff:x", "--reason", "r",
                    "--database-url", url])  # fmt: skip
    assert res.exit_code == 2 and "already_champion" in res.output
    res = run(app, ["model", "show", "nope", "--database-url", url])
    assert res.exit_code == 2 and "unknown_model" in res.output


def test_retrain_refuses_an_unknown_kind(universe: Path) -> None:
    res = CliRunner().invoke(app, ["model", "retrain", "--home", str(universe), "--kind", "forest"])
    assert res.exit_code == 2 and "invalid_model_kind" in res.output


def test_shadow_run_on_an_indicator_table(universe: Path, flow: dict) -> None:
    import pyarrow.parquet as pq

    from puhui.indicators.batch import indicator_table_path

    url = f"sqlite:///{universe / 'puhui.sqlite'}"
    res = CliRunner().invoke(app, ["model", "shadow", "--as-of", "2025-10-31", "--home", str(universe),
                                   "--database-url", url, "--json"])  # fmt: skip
    assert res.exit_code == 0, res.output
    out = json.loads(res.stdout)
    enterprises = pq.read_table(indicator_table_path(universe, date(2025, 10, 31)), columns=["uscc"]).num_rows
    assert out["rows"] == enterprises and out["stored"] == 2 * enterprises
    assert out["champion"]["version"] == "sme_pd-v1"
    assert [c["version"] for c in out["challengers"]] == ["sme_pd-v2"]
    assert 0 < out["challengers"][0]["rank_correlation"] <= 1
