"""Decision records: the migrated schema keeps `decisions` append-only; records are written, read and replayed."""

from __future__ import annotations

from datetime import date

import pytest
from sqlalchemy import text
from sqlalchemy.exc import DBAPIError

from puhui.core.errors import Conflict
from puhui.decisioning.store import DecisionRow
from puhui.store import make_engine
from puhui.store.db import transaction
from puhui.store.migrate import downgrade, schema_diff, upgrade

MINE = {"policy_versions", "decisions", "offers", "preapproval_runs", "consents", "applications", "review_cases"}


def test_migration_0006_builds_the_models_and_decisions_refuse_change(db_url: str) -> None:
    upgrade(db_url)
    assert [d for d in schema_diff(db_url) if any(t in repr(d) for t in MINE)] == []
    engine = make_engine(db_url)
    try:
        with transaction(engine) as s:
            row = DecisionRow(uscc="91110108MA01BORR01", scenario_id="s", policy_version="v", channel="estimate",
                              outcome="approve", rules=[], reasons=[], inputs_sha256="0" * 64, as_of=date(2026, 1, 5))
            s.add(row)
        for stmt in ("UPDATE decisions SET outcome = 'decline'", "DELETE FROM decisions"):
            with pytest.raises(DBAPIError, match="append-only"), engine.begin() as conn:
                conn.execute(text(stmt))
        with pytest.raises(Conflict) as e, transaction(engine) as s:
            s.get(DecisionRow, row.id).outcome = "decline"
        assert e.value.code == "append_only"
        with engine.connect() as conn:
            assert conn.execute(text("SELECT outcome FROM decisions")).scalar_one() == "approve"
    finally:
        engine.dispose()
    downgrade(db_url, "0005")
    upgrade(db_url)


# ---- records: write, read, replay ------------------------------------------------------------------------

UA = "91110108MA01BORR01"


def _decide(min_age: int = 24, *, pd: float = 0.0123, age: int = 40, revenue: str = "5000000.00",
            tags: dict | None = None) -> tuple:
    from decimal import Decimal

    from puhui.decisioning.engine import Facts, ModelResult, decide
    from puhui.decisioning.scenario import parse_scenario
    from tests.decisioning._records_kit import scenario_text

    text = scenario_text(min_age=min_age)
    facts = Facts(UA, date(2026, 10, 31), {"reg_age_months": age, "ar_revenue": Decimal(revenue),
                                           "sh_top_share": 0.1 + 0.2},  # a float that is not its own decimal
                  {"registration": True, "annual_reports": True}, extra=tags or {})
    model = ModelResult("sme_pd", "sme_pd-v1", pd, 612.5, ({"feature": "tax_x", "zh": "纳税", "en": "tax",
                                                            "points": -12.5},))
    return text, facts, decide(parse_scenario(text), facts, model)


def test_record_get_and_replay_exactly(db_engine) -> None:
    from puhui.decisioning import records

    text, facts, decision = _decide()
    assert decision.outcome == "approve"
    with transaction(db_engine) as s:
        did = records.record_decision(s, decision, channel="application", facts=facts, policy_text=text,
                                      actor="partner:tax-portal")
    rec = records.get_decision(db_engine, did)
    # golden: limit = 20% × revenue 5,000,000 × grade A multiplier 1.0; rate = LPR 1Y 3.00% (2025-05-20) + 50 bp
    assert (rec["outcome"], rec["grade"], rec["limit"], rec["annual_rate"]) == ("approve", "A", "1000000.00",
                                                                                "0.035")
    assert rec["inputs"]["indicators"]["sh_top_share"] == 0.1 + 0.2 and rec["pd"] == 0.0123
    assert rec["model_version"] == "sme_pd-v1" and rec["rules"][0]["status"] == "pass"
    out = records.replay_decision(db_engine, did)
    assert out["equal"] and out["outcome_equal"] and out["diff"] == []
    assert out["replayed"] == decision.to_json()

    # a decline is replayed as exactly; its policy text was stored once as an unapproved draft
    text2, facts2, declined = _decide(age=10)
    with transaction(db_engine) as s:
        did2 = records.record_decision(s, declined, channel="estimate", facts=facts2, policy_text=text2)
    again = records.replay_decision(db_engine, did2)
    assert again["equal"] and again["replayed"]["outcome"] == "decline"
    assert [r["code"] for r in again["replayed"]["reasons"]] == ["too_young"]


def test_records_refuse_foreign_inputs_and_detect_a_changed_outcome(db_engine) -> None:
    from puhui.core.errors import NotFound, ValidationError
    from puhui.decisioning import records

    text, facts, decision = _decide()
    _, other_facts, _ = _decide(age=41)
    with pytest.raises(ValidationError) as e, transaction(db_engine) as s:
        records.record_decision(s, decision, channel="application", facts=other_facts, policy_text=text)
    assert e.value.code == "inputs_mismatch"
    with pytest.raises(ValidationError) as e, transaction(db_engine) as s:
        records.record_decision(s, decision, channel="application", facts=facts)
    assert e.value.code == "policy_text_missing"
    with pytest.raises(NotFound):
        records.get_decision(db_engine, 12345)

    # a record whose stored outcome differs from what its policy gives is caught by the replay
    import dataclasses

    forged = dataclasses.replace(decision, outcome="refer")
    with transaction(db_engine) as s:
        did = records.record_decision(s, forged, channel="application", facts=facts, policy_text=text)
    out = records.replay_decision(db_engine, did)
    assert not out["outcome_equal"] and out["diff"] == [{"field": "outcome", "original": "refer",
                                                          "replayed": "approve"}]
