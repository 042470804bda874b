"""Pre-approval on a small synthetic universe: summary, best offers, records, resume, arms, exposure cap.

One universe per module (400 enterprises × 36 months to 2026-10, as of 2025-10-31 so that the 12 months
after the date are in the truth). No model is registered, so the run uses — and must say it uses — the
on-the-fly scorecard fallback (trained once, cached in the universe's home).
"""

from __future__ import annotations

import hashlib
from collections import defaultdict
from datetime import date
from decimal import Decimal
from pathlib import Path

import pyarrow.parquet as pq
import pytest
from sqlalchemy import Engine, func, select

from puhui.decisioning import policies
from puhui.decisioning.preapprove import run_preapproval
from puhui.decisioning.records import replay_decision
from puhui.decisioning.store import DecisionRow, OfferRow, PreapprovalRunRow
from puhui.store import load_models, make_engine
from puhui.store.db import transaction

AS_OF = date(2025, 10, 31)
SCENARIOS = ["logistics_loan", "payroll_loan", "settlement_loan"]
N = 150
QUICK = {"fallback_snapshots": 2, "fallback_features": ("stl_", "bur_")}  # a small fallback model, quick to fit


@pytest.fixture(scope="module")
def home(tmp_path_factory: pytest.TempPathFactory) -> Path:
    from puhui.data.synth.runner import SynthConfig, run_synth

    h = tmp_path_factory.mktemp("universe")
    run_synth(SynthConfig(enterprises=400, months=36, chunk_size=400, core_enterprises=8), home=h, fresh=True,
              console=None)
    return h


def _engine(path: Path) -> Engine:
    engine = make_engine(f"sqlite:///{path}")
    load_models().create_all(engine)
    policies.bootstrap_shipped(engine, "ops:deploy")
    return engine


def test_summary_best_offers_and_records(home: Path, tmp_path: Path) -> None:
    engine = _engine(tmp_path / "a.sqlite")
    out = run_preapproval(engine, AS_OF, home=home, scenario_ids=SCENARIOS, limit_enterprises=N, chunk_size=60,
                          record_all=True, **QUICK)
    assert out["state"] == "done" and out["chunks"] == 3 and out["evaluations"] == N * len(SCENARIOS)
    assert out["models"]["sme_pd"]["source"] == "trained_on_the_fly"  # the fallback is stated, not silent
    with transaction(engine, write=False) as s:
        decisions = s.scalars(select(DecisionRow).where(DecisionRow.run_id == out["run_id"])).all()
        offers = s.scalars(select(OfferRow).where(OfferRow.run_id == out["run_id"])).all()
    assert len(decisions) == N * len(SCENARIOS)
    for sid in SCENARIOS:
        mine = [d for d in decisions if d.scenario_id == sid]
        approved = [d for d in mine if d.outcome == "approve"]
        r = out["per_scenario"][sid]
        assert (r["evaluated"], r["approved"]) == (N, len(approved))
        assert r["referred"] == sum(d.outcome == "refer" for d in mine)
        assert r["total_limit"] == str(sum((d.limit for d in approved), Decimal("0.00")))
        # expected loss = Σ PD × limit × LGD (0.40, Basel CRE32.6 foundation IRB), recomputed from the records
        el = sum((Decimal(repr(d.pd)) * d.limit * Decimal("0.40") for d in approved), Decimal(0))
        assert Decimal(r["expected_loss"]) == el.quantize(Decimal("0.01"))
    # the best offer per enterprise: the highest approved limit, ties to the lowest rate
    by_uscc = defaultdict(list)
    for d in decisions:
        if d.outcome == "approve":
            by_uscc[d.uscc].append(d)
    assert {o.uscc for o in offers} == set(by_uscc) and out["offers"]["enterprises_with_offer"] == len(offers)
    for o in offers:
        best = max(by_uscc[o.uscc], key=lambda d: (d.limit, -d.annual_rate))
        assert (o.limit, o.annual_rate) == (best.limit, best.annual_rate)
        assert o.status == "open" and o.expires_on > AS_OF
    # realised bad rate of the approved, from the truth: default onset in the 12 months after the date
    truth = pq.read_table(home / "truth" / "enterprises", columns=["uscc", "default_onset_month"]).to_pylist()
    bad = {t["uscc"] for t in truth if t["default_onset_month"] is not None
           and date(2025, 11, 1) <= t["default_onset_month"] <= date(2026, 10, 1)}
    approved = [d.uscc for d in decisions if d.scenario_id == "settlement_loan" and d.outcome == "approve"]
    expected = round(sum(u in bad for u in approved) / len(approved), 6)
    assert out["per_scenario"]["settlement_loan"]["realised_bad_rate"] == expected
    # records replay exactly
    for d in decisions[::37]:
        assert replay_decision(engine, d.id)["equal"]


def test_a_killed_run_resumes_to_the_same_result(home: Path, tmp_path: Path) -> None:
    engine = _engine(tmp_path / "b.sqlite")
    first = run_preapproval(engine, AS_OF, home=home, scenario_ids=SCENARIOS, limit_enterprises=N, chunk_size=50,
                            stop_after_chunks=1, **QUICK)
    assert (first["state"], first["chunks_done"]) == ("running", 1)
    run = {"home": home, "scenario_ids": SCENARIOS, "limit_enterprises": N, "chunk_size": 50, **QUICK}
    done = run_preapproval(engine, AS_OF, **run)
    assert (done["state"], done["run_id"], done["resumed_chunks"]) == ("done", first["run_id"], 1)
    straight = run_preapproval(_engine(tmp_path / "c.sqlite"), AS_OF, home=home, scenario_ids=SCENARIOS,
                               limit_enterprises=N, chunk_size=50, **QUICK)
    assert done["per_scenario"] == straight["per_scenario"] and done["offers"] == straight["offers"]
    with transaction(engine, write=False) as s:
        per_uscc = s.execute(select(OfferRow.uscc, func.count()).where(OfferRow.status == "open")
                             .group_by(OfferRow.uscc)).all()
        assert per_uscc and all(n == 1 for _, n in per_uscc)
        assert s.scalar(select(PreapprovalRunRow.state).where(PreapprovalRunRow.id == done["run_id"])) == "done"
    # a new run supersedes the open offers of the earlier one
    again = run_preapproval(engine, AS_OF, **run)
    with transaction(engine, write=False) as s:
        states = dict(s.execute(select(OfferRow.run_id, func.min(OfferRow.status)).group_by(OfferRow.run_id)).all())
    assert states == {done["run_id"]: "superseded", again["run_id"]: "open"}



def test_forked_deciders_store_exactly_the_serial_result(home: Path, tmp_path: Path) -> None:
    run = {"home": home, "scenario_ids": SCENARIOS, "limit_enterprises": N, "chunk_size": 40, **QUICK}
    serial = run_preapproval(_engine(tmp_path / "serial.sqlite"), AS_OF, **run)
    engine = _engine(tmp_path / "forked.sqlite")
    forked = run_preapproval(engine, AS_OF, workers=2, **run)
    assert forked["chunks_done"] == serial["chunks_done"] > 2
    assert forked["per_scenario"] == serial["per_scenario"] and forked["offers"] == serial["offers"]

    def offers(e: Engine) -> list[tuple]:
        with transaction(e, write=False) as s:
            return s.execute(select(OfferRow.uscc, OfferRow.scenario_id, OfferRow.limit, OfferRow.annual_rate)
                             .order_by(OfferRow.uscc)).all()  # fmt: skip

    assert offers(engine) == offers(_engine(tmp_path / "serial.sqlite"))
    # the parent's pooled connection still works after the children exit
    with transaction(engine, write=False) as s:
        assert s.scalar(select(func.count()).select_from(OfferRow)) == len(offers(engine))

def test_challenger_arm_and_exposure_cap(home: Path, tmp_path: Path) -> None:
    from tests.lending._lendkit import open_line

    engine = _engine(tmp_path / "d.sqlite")
    text = (Path(policies.__file__).resolve().parents[3] / "scenarios" / "settlement_loan.yaml").read_text()
    relaxed = text.replace("stl_inflow_12m >= 300000.0", "stl_inflow_12m >= 100000.0")
    draft = policies.draft_policy(engine, relaxed, author="risk:li")
    policies.approve_policy(engine, draft["id"], approver="risk:wang")
    policies.activate_policy(engine, draft["id"], actor="ops:zhao", role="challenger", traffic_share="0.5")
    # an enterprise already near the inclusive-finance cap (1000万): 9,990,000 of credit elsewhere
    frame = pq.read_table(home / "indicators" / f"as_of={AS_OF}", columns=["uscc"]).column("uscc").to_pylist()
    heavy = sorted(frame)[0]
    open_line(engine, borrower=heavy, limit="9990000", on=AS_OF, valid_from=str(AS_OF), valid_to="2026-10-31")
    out = run_preapproval(engine, AS_OF, home=home, scenario_ids=["settlement_loan"], limit_enterprises=N,
                          **QUICK)
    salt = f"settlement_loan/{draft['version']}"
    usccs = sorted(frame)[:N]
    expected = sum(int.from_bytes(hashlib.sha256(f"{salt}:{u}".encode()).digest()[:8], "big") / 2**64 < 0.5
                   for u in usccs)
    assert out["per_scenario"]["settlement_loan"]["challenger_arm"] == expected
    with transaction(engine, write=False) as s:
        rows = s.execute(select(DecisionRow.arm, DecisionRow.policy_version)
                         .where(DecisionRow.run_id == out["run_id"])).all()
        assert {(a, v == draft["version"]) for a, v in rows} <= {("champion", False), ("challenger", True)}
        heavy_offer = s.scalar(select(OfferRow.limit).where(OfferRow.uscc == heavy))
    assert heavy_offer is None or heavy_offer <= Decimal("10000")  # only the headroom under the cap is left


def test_cli_bootstraps_runs_and_replays(home: Path, tmp_path: Path) -> None:
    import json

    from typer.testing import CliRunner

    from puhui.cli import app

    db = f"sqlite:///{tmp_path / 'cli.sqlite'}"
    load_models().create_all(make_engine(db))
    runner = CliRunner()
    args = ["preapprove", "--as-of", AS_OF.isoformat(), "--home", str(home), "--database-url", db, "--scenario",
            "settlement_loan", "--limit-enterprises", "40", "--fallback-features", "stl_,bur_",
            "--fallback-snapshots", "2", "--json"]
    r = runner.invoke(app, args)
    assert r.exit_code == 2 and "scenario_not_active" in r.output  # nothing is active before the bootstrap
    r = runner.invoke(app, [*args, "--bootstrap", "--actor", "ops:deploy"])
    assert r.exit_code == 0, r.output
    out = json.loads(r.stdout[r.stdout.index("{"):])
    assert out["evaluations"] == 40 and out["models"]["sme_pd"]["source"] == "trained_on_the_fly"
    engine = make_engine(db)
    with transaction(engine, write=False) as s:
        did = s.scalar(select(func.min(DecisionRow.id)))
    assert did is not None
    r = runner.invoke(app, ["decision", "replay", str(did), "--database-url", db])
    assert r.exit_code == 0 and "identical" in r.output
    r = runner.invoke(app, ["policy", "list", "--database-url", db, "--json"])
    assert {p["approver"] for p in json.loads(r.stdout)} == {policies.RELEASE_APPROVER}
    r = runner.invoke(app, ["policy", "rollback", "settlement_loan", "--database-url", db])
    assert r.exit_code == 2 and "no_previous_version" in r.output
