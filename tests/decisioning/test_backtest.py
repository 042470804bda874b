"""Backtest a draft against the active version over history; a registered champion model scores both.

A small universe (250 enterprises to 2026-10), as of 2025-10-31. The model is a tiny scorecard fitted on
the date's indicators and the truth, registered and promoted in the model registry, so this module
exercises the registry path (the fallback is exercised by test_preapprove).
"""

from __future__ import annotations

from datetime import date
from pathlib import Path

import numpy as np
import pyarrow.parquet as pq
import pytest
from sqlalchemy import Engine

from puhui.core.errors import Conflict
from puhui.decisioning import policies
from puhui.decisioning.backtest import backtest
from puhui.decisioning.preapprove import run_preapproval
from puhui.decisioning.records import replay_decision
from puhui.store import load_models, make_engine

AS_OF = date(2025, 10, 31)
SHIPPED = Path(policies.__file__).resolve().parents[3] / "scenarios" / "settlement_loan.yaml"


@pytest.fixture(scope="module")
def home(tmp_path_factory: pytest.TempPathFactory) -> Path:
    from puhui.data.synth.runner import SynthConfig, run_synth
    from puhui.indicators.batch import run_batch

    h = tmp_path_factory.mktemp("universe")
    run_synth(SynthConfig(enterprises=250, months=36, chunk_size=250, core_enterprises=6), home=h, fresh=True,
              console=None)
    run_batch(AS_OF, home=h)
    return h


@pytest.fixture
def engine(home: Path, tmp_path: Path) -> Engine:
    from puhui.models import registry
    from puhui.models.scorecard import Scorecard

    e = make_engine(f"sqlite:///{tmp_path / 'bt.sqlite'}")
    load_models().create_all(e)
    policies.bootstrap_shipped(e, "ops:deploy")
    table = pq.read_table(home / "indicators" / f"as_of={AS_OF}").to_pandas()
    truth = pq.read_table(home / "truth" / "enterprises", columns=["uscc", "default_onset_month"]).to_pandas()
    onset = dict(zip(truth["uscc"], truth["default_onset_month"], strict=True))
    y = np.array([onset.get(u) is not None and onset[u] > date(2025, 10, 1) for u in table["uscc"]], dtype=int)
    feats = ["stl_inflow_12m", "reg_age_months", "bur_worst_dpd_12m"]
    x = table[feats].apply(lambda c: c.astype("float64"))
    card = Scorecard.fit(x, y, features=feats, kinds=dict.fromkeys(feats, "numeric"))
    reg = registry.register(e, card, name="sme_pd", author="risk:model", home=home)
    registry.promote(e, "sme_pd", reg.version, actor="risk:head", reason="test champion")
    return e


def test_backtest_flips_only_what_the_draft_changes(engine: Engine, home: Path) -> None:
    relaxed = SHIPPED.read_text(encoding="utf-8").replace("stl_inflow_12m >= 300000.0", "stl_inflow_12m >= 100000.0")
    draft = policies.draft_policy(engine, relaxed, author="risk:li")
    out = backtest(engine, draft["version"][:8], AS_OF, home=home, examples=3)
    assert out["models"]["sme_pd"]["source"] == "registry" and out["models"]["sme_pd"]["version"] == "sme_pd-v1"
    base, cand = out["baseline"], out["candidate"]
    assert cand["state"] == "draft" and cand["version"] == draft["version"]
    # a lower inflow threshold can only let enterprises in: nothing the active version approves is lost
    assert set(out["flips"]["by_transition"]) <= {"decline→approve", "decline→refer", "refer→approve"}
    moves = out["flips"]["by_transition"]
    gained = sum(n for k, n in moves.items() if k.endswith("→approve"))
    lost = sum(n for k, n in moves.items() if k.startswith("approve→"))
    assert cand["approved"] - base["approved"] == gained - lost
    assert out["flips"]["total"] > 0 and "settlement_inflow_low" in out["flips"]["why"]
    assert all("settlement_inflow_low" in ex["because"] for ex in out["flips"]["examples"])
    assert len(out["flips"]["examples"]) == min(3, out["flips"]["total"])
    assert out["realised_horizon_months"] == 12 and cand["realised_bad_rate"] is not None

    with pytest.raises(Conflict) as e:
        backtest(engine, policies.active_policies(engine)["settlement_loan"].champion_version, AS_OF, home=home)
    assert e.value.code == "candidate_is_active"


def test_registered_champion_scores_preapproval_and_replays_with_rescoring(engine: Engine, home: Path) -> None:
    out = run_preapproval(engine, AS_OF, home=home, scenario_ids=["settlement_loan"], chunk_size=100)
    assert out["models"]["sme_pd"]["source"] == "registry" and out["state"] == "done"
    from sqlalchemy import select

    from puhui.decisioning.store import DecisionRow
    from puhui.store.db import transaction

    with transaction(engine, write=False) as s:
        ids = list(s.scalars(select(DecisionRow.id).where(DecisionRow.run_id == out["run_id"]).limit(3)))
    assert ids
    for did in ids:
        replay = replay_decision(engine, did, rescore=True)  # model inputs re-read from the indicator table
        assert replay["model_source"] == "registry" and replay["equal"], replay["diff"]
