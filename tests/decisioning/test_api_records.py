"""The records API over HTTP (FastAPI TestClient on a real SQLite store): policies, four eyes, decisions."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine

from puhui.api import create_app
from puhui.decisioning import records
from puhui.store import load_models, make_engine
from puhui.store.db import transaction
from tests.decisioning._records_kit import scenario_text
from tests.decisioning.test_store_records import _decide

PROBLEM = "application/problem+json"


@pytest.fixture
def client(sqlite_url: str) -> Iterator[tuple[TestClient, Engine]]:
    engine = make_engine(sqlite_url)
    load_models().create_all(engine)
    app = create_app()
    app.state.engine = engine
    with TestClient(app) as c:
        yield c, engine
    engine.dispose()


def test_policy_workflow_over_http(client: tuple[TestClient, Engine]) -> None:
    c, _ = client
    li, wang = {"X-Actor": "risk:li"}, {"X-Actor": "risk:wang"}
    r = c.post("/v1/policies", json={"yaml_text": scenario_text()}, headers=li)
    assert r.status_code == 201 and r.json()["state"] == "draft"
    pid = r.json()["id"]
    assert c.post("/v1/policies", json={"yaml_text": scenario_text()}, headers=wang).status_code == 200
    r = c.post(f"/v1/policies/{pid}/approve", headers=li)
    assert (r.status_code, r.headers["content-type"], r.json()["code"]) == (422, PROBLEM, "four_eyes_violation")
    assert c.post(f"/v1/policies/{pid}/approve", headers=wang).json()["approver"] == "risk:wang"
    assert c.post(f"/v1/policies/{pid}/activate", headers=wang).json()["state"] == "active"

    p2 = c.post("/v1/policies", json={"yaml_text": scenario_text(spread_b=250)}, headers=li).json()["id"]
    c.post(f"/v1/policies/{p2}/approve", headers=wang)
    r = c.post(f"/v1/policies/{p2}/activate", json={"role": "challenger", "traffic_share": "0.25"}, headers=wang)
    assert (r.json()["role"], r.json()["traffic_share"]) == ("challenger", "0.25")
    listed = c.get("/v1/policies", params={"scenario_id": "test_tax_loan", "state": "active"}).json()
    assert {x["id"] for x in listed} == {pid, p2}
    assert "yaml_text" in c.get(f"/v1/policies/{pid}").json()

    r = c.post("/v1/scenarios/test_tax_loan/rollback", headers=wang)
    assert (r.status_code, r.json()["code"]) == (409, "no_previous_version")
    r = c.post("/v1/policies", json={"yaml_text": "id: [broken"}, headers=li)
    assert r.status_code == 422 and r.json()["code"] == "invalid_scenario"
    assert c.get("/v1/policies/999").status_code == 404


def test_decision_record_and_replay_over_http(client: tuple[TestClient, Engine]) -> None:
    c, engine = client
    text, facts, decision = _decide()
    with transaction(engine) as s:
        did = records.record_decision(s, decision, channel="application", facts=facts, policy_text=text)
    body = c.get(f"/v1/decisions/{did}").json()
    assert (body["outcome"], body["limit"], body["policy_version"]) == ("approve", "1000000.00",
                                                                         decision.policy_version)
    assert body["inputs"]["indicators"]["reg_age_months"] == 40
    replay = c.get(f"/v1/decisions/{did}/replay").json()
    assert replay["equal"] and replay["outcome_equal"]
    r = c.get("/v1/decisions/424242")
    assert (r.status_code, r.json()["code"]) == (404, "decision_not_found")
