"""Policy versions: draft → approved (four eyes) → active → retired, rollback, challengers, shipped bootstrap."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import Engine, select

from puhui.core.errors import Conflict, PolicyViolation, ValidationError
from puhui.decisioning import policies
from puhui.decisioning.scenario import policy_version
from puhui.decisioning.store import PolicyVersionRow
from puhui.store import audit
from puhui.store.db import transaction
from tests.decisioning._records_kit import scenario_text

SID = "test_tax_loan"


def _approved(engine: Engine, text: str, author: str = "risk:li") -> int:
    row = policies.draft_policy(engine, text, author=author)
    return int(policies.approve_policy(engine, row["id"], approver="risk:wang")["id"])


def test_life_cycle_four_eyes_activate_retire_and_rollback(db_engine: Engine) -> None:
    v1 = policies.draft_policy(db_engine, scenario_text(), author="risk:li")
    assert v1["created"] and v1["state"] == "draft" and v1["scenario_id"] == SID
    assert v1["version"] == policy_version(scenario_text())  # the content hash, from the scenario module
    # the same content (even re-formatted) is the same version
    again = policies.draft_policy(db_engine, scenario_text().replace("  - source: registration",
                                                                       "  -   source: registration"), author="x:y")
    assert again["id"] == v1["id"] and not again["created"]

    with pytest.raises(PolicyViolation) as e:
        policies.approve_policy(db_engine, v1["id"], approver="risk:li")
    assert e.value.code == "four_eyes_violation"
    with pytest.raises(Conflict) as c:
        policies.activate_policy(db_engine, v1["id"], actor="ops:zhao")
    assert c.value.code == "policy_not_approved"
    approved = policies.approve_policy(db_engine, v1["id"], approver="risk:wang")
    assert (approved["state"], approved["approver"]) == ("approved", "risk:wang")
    with pytest.raises(Conflict) as c:
        policies.approve_policy(db_engine, v1["id"], approver="risk:zhou")
    assert c.value.code == "policy_not_draft"
    policies.activate_policy(db_engine, v1["id"], actor="ops:zhao")
    assert policies.active_policies(db_engine)[SID].champion_version == v1["version"]

    v2 = _approved(db_engine, scenario_text(spread_b=200))
    policies.activate_policy(db_engine, v2, actor="ops:zhao")
    states = {r["id"]: r["state"] for r in policies.list_policies(db_engine, scenario_id=SID)}
    assert states == {v1["id"]: "retired", v2: "active"}
    active = policies.active_policies(db_engine)[SID]
    assert active.champion_id == v2 and active.champion.pricing.spread_bp["B"] == 200

    back = policies.rollback(db_engine, SID, actor="ops:zhao")
    assert back["id"] == v1["id"] and back["state"] == "active" and back["rolled_back_from"]["id"] == v2
    assert policies.active_policies(db_engine)[SID].champion_id == v1["id"]
    # rolling back again returns to v2 (the most recently retired), never to nothing
    assert policies.rollback(db_engine, SID, actor="ops:zhao")["id"] == v2

    with transaction(db_engine, write=False) as s:
        actions = [a.action for a in audit.history(s, "policy_version", v1["id"])]
    assert actions == ["draft_policy", "approve_policy", "activate_policy", "retire_policy", "rollback_policy",
                       "retire_policy"]


def test_rollback_without_history_and_bad_inputs_are_refused(db_engine: Engine) -> None:
    with pytest.raises(Conflict) as c:
        policies.rollback(db_engine, SID, actor="ops:zhao")
    assert c.value.code == "no_active_champion"
    v1 = _approved(db_engine, scenario_text())
    policies.activate_policy(db_engine, v1, actor="ops:zhao")
    with pytest.raises(Conflict) as c:
        policies.rollback(db_engine, SID, actor="ops:zhao")
    assert c.value.code == "no_previous_version"
    with pytest.raises(ValidationError) as v:
        policies.draft_policy(db_engine, "id: [unclosed", author="risk:li")
    assert "not valid YAML" in str(v.value)


def test_challenger_takes_its_share_and_one_active_per_role(db_engine: Engine) -> None:
    champion = _approved(db_engine, scenario_text())
    challenger = _approved(db_engine, scenario_text(min_age=12))
    with pytest.raises(Conflict) as c:
        policies.activate_policy(db_engine, challenger, actor="ops:zhao", role="challenger", traffic_share="0.2")
    assert c.value.code == "no_active_champion"
    policies.activate_policy(db_engine, champion, actor="ops:zhao")
    with pytest.raises(ValidationError) as v:
        policies.activate_policy(db_engine, challenger, actor="ops:zhao", role="challenger", traffic_share="1.5")
    assert v.value.code == "invalid_traffic_share"
    policies.activate_policy(db_engine, challenger, actor="ops:zhao", role="challenger", traffic_share="0.2")
    active = policies.active_policies(db_engine)[SID]
    assert (active.challenger_id, active.traffic_share) == (challenger, 0.2)
    assert active.for_arm("challenger")[2] == challenger and active.for_arm("champion")[2] == champion

    # the database itself refuses a second active champion (partial unique index)
    with pytest.raises(Exception, match=r"(?i)unique|duplicate"), transaction(db_engine) as s:
        s.get(PolicyVersionRow, challenger).role = "champion"

    promoted = policies.activate_policy(db_engine, challenger, actor="ops:zhao")  # promote the challenger
    assert (promoted["role"], promoted["traffic_share"]) == ("champion", None)
    active = policies.active_policies(db_engine)[SID]
    assert active.champion_id == challenger and active.challenger is None
    with transaction(db_engine, write=False) as s:
        assert s.get(PolicyVersionRow, champion).state == "retired"


def test_bootstrap_shipped_registers_each_file_once_with_a_release_approver(db_engine: Engine,
                                                                           tmp_path: Path) -> None:
    (tmp_path / "a.yaml").write_text(scenario_text(scenario_id="scn_a"), encoding="utf-8")
    (tmp_path / "b.yaml").write_text(scenario_text(scenario_id="scn_b"), encoding="utf-8")
    done = policies.bootstrap_shipped(db_engine, "ops:deploy", directory=tmp_path)
    assert [(d["scenario_id"], d["action"]) for d in done] == [("scn_a", "activated"), ("scn_b", "activated")]
    rows = policies.list_policies(db_engine)
    assert {(r["author"], r["approver"], r["state"]) for r in rows} == {
        ("ops:deploy", policies.RELEASE_APPROVER, "active")}
    assert [d["action"] for d in policies.bootstrap_shipped(db_engine, "ops:deploy", directory=tmp_path)] == [
        "already_active", "already_active"]
    (tmp_path / "b.yaml").write_text(scenario_text(scenario_id="scn_b", spread_b=300), encoding="utf-8")
    done = policies.bootstrap_shipped(db_engine, "ops:deploy", directory=tmp_path)
    assert [d["action"] for d in done] == ["already_active", "activated"]
    with transaction(db_engine, write=False) as s:
        n = len(list(s.scalars(select(PolicyVersionRow).where(PolicyVersionRow.scenario_id == "scn_b"))))
    assert n == 2
    with pytest.raises(PolicyViolation):
        policies.bootstrap_shipped(db_engine, policies.RELEASE_APPROVER, directory=tmp_path)
