"""The journey over HTTP (the real app, `fastapi.testclient`): the walk end to end, the review queue, and
every bad input of the issue answered as a 4xx problem+json with its code, writing nothing."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date
from decimal import Decimal

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine

from puhui.api.app import create_app
from puhui.decisioning.walk import walk
from puhui.indicators.api import get_engine as get_online_engine
from tests.decisioning import _journey_kit as kit

AS_OF = kit.AS_OF.isoformat()
PROBLEM = "application/problem+json"


@pytest.fixture(scope="module")
def online():
    e = kit.online_engine()
    yield e
    e.close()


@pytest.fixture
def client(db_engine: Engine, online) -> Iterator[TestClient]:
    kit.setup_db(db_engine)
    app = create_app()
    app.state.engine = db_engine
    app.dependency_overrides[get_online_engine] = lambda: online
    with TestClient(app, raise_server_exceptions=False) as c:
        yield c


def _post(c: TestClient, path: str, body: dict, key: str | None = "k", actor: str = "borrower:web"):
    headers = {"X-Actor": actor, **({"Idempotency-Key": f"{key}-{path}"} if key else {})}
    return c.post(path, json=body, headers=headers)


def test_walk_end_to_end(client: TestClient) -> None:
    uscc = kit.universe().pick("approve")[0]
    lines: list[str] = []
    res = walk(client, uscc=uscc, scenario_id=kit.SCENARIO_ID, as_of=kit.AS_OF, draw=Decimal("50000"),
               echo=lines.append)  # fmt: skip
    assert res.completed, lines
    steps = {name: (status, body) for name, status, body in res.steps}
    assert [s[0] for s in res.steps] == ["consent", "estimate", "apply", "accept", "drawdown", "repay"]
    assert {c["purpose"] for c in steps["consent"][1]["consents"]} == {"registration", "credit_bureau"}
    assert steps["apply"][0] == 201 and steps["apply"][1]["status"] == "approved"
    assert Decimal(steps["accept"][1]["line"]["limit"]) == kit.expected_limit(kit.universe().rows[uscc])
    assert steps["drawdown"][1]["principal"] == "50000.00"
    assert steps["repay"][1]["loan"]["status"] == "closed" and steps["repay"][1]["loan"]["principal"] == "0.00"
    assert len(lines) == 6 and lines[-1].startswith("repay")
    app_id = steps["apply"][1]["application_id"]
    got = client.get(f"/v1/applications/{app_id}").json()
    assert got["status"] == "accepted" and got["line_id"] == steps["accept"][1]["line_id"]
    consents = client.get(f"/v1/enterprises/{uscc}/consents", params={"on": AS_OF}).json()
    assert consents["live_purposes"] == ["credit_bureau", "registration"]


def test_review_over_http(client: TestClient) -> None:
    uscc = kit.universe().pick("refer")[0]
    assert (
        _post(
            client,
            "/v1/consents",
            {
                "uscc": uscc,
                "scenario_id": kit.SCENARIO_ID,
                "granted_by": "法人",
                "expires_on": "2027-06-30",
                "business_date": AS_OF,
            },
        ).status_code
        == 201
    )
    app = _post(client, "/v1/applications", {"uscc": uscc, "scenario_id": kit.SCENARIO_ID,
                                             "requested_amount": "80000", "as_of": AS_OF}).json()  # fmt: skip
    assert app["status"] == "referred"
    queue = client.get("/v1/review-cases").json()
    cid = queue[0]["case_id"]
    r = _post(client, f"/v1/review-cases/{cid}/assign", {"assignee": "officer:li", "business_date": AS_OF},
              actor="lead:zhao")  # fmt: skip
    assert r.status_code == 200 and r.json()["assignee"] == "officer:li"
    r = _post(client, f"/v1/review-cases/{cid}/approve", {"reason": "ok", "business_date": AS_OF},
              actor="officer:wang")  # fmt: skip
    assert r.status_code == 403 and r.json()["code"] == "not_assignee"
    r = _post(client, f"/v1/review-cases/{cid}/approve", {"reason": "核实通过", "business_date": AS_OF},
              actor="officer:li")  # fmt: skip
    assert r.status_code == 200 and r.json()["offer"]["limit"] == "80000.00"
    acc = _post(client, f"/v1/applications/{app['application_id']}/accept", {"signer": "法人"})
    assert acc.status_code == 200 and acc.json()["line"]["limit"] == "80000.00"


def test_bad_input_is_a_problem_and_writes_nothing(client: TestClient, db_engine: Engine) -> None:
    u = kit.universe()
    ok, stale, bare = u.pick("approve", 3)
    declined = u.pick("decline_young")[0]
    for x in (ok, declined):
        kit.grant(db_engine, x)
    kit.grant(db_engine, stale, expires_on=date(2026, 6, 15))
    approved = _post(
        client,
        "/v1/applications",
        {"uscc": ok, "scenario_id": kit.SCENARIO_ID, "requested_amount": "100000", "as_of": AS_OF},
        key="a",
    ).json()
    refused = _post(
        client,
        "/v1/applications",
        {"uscc": declined, "scenario_id": kit.SCENARIO_ID, "requested_amount": "100000", "as_of": AS_OF},
        key="b",
    ).json()
    done = _post(
        client,
        "/v1/applications",
        {"uscc": u.pick("approve", 4)[3], "scenario_id": kit.SCENARIO_ID, "requested_amount": "100000", "as_of": AS_OF},
        key="c",
    )
    assert done.status_code == 422  # its consent was never granted
    apply_ok = {"uscc": ok, "scenario_id": kit.SCENARIO_ID, "requested_amount": "100000", "as_of": AS_OF}
    accept_path = f"/v1/applications/{approved['application_id']}/accept"
    # accept once (the good path), then everything below must be refused
    first = _post(client, accept_path, {"signer": "法人", "business_date": AS_OF}, key="acc1")
    assert first.status_code == 200
    before = kit.counts(db_engine)
    cases = [
        ("/v1/applications", {**apply_ok, "uscc": "91110108551385082X"}, "k1", 422, "uscc_check"),
        ("/v1/limit-estimates", {"uscc": "ABC", "scenario_id": kit.SCENARIO_ID, "as_of": AS_OF}, "k2", 422,
         "uscc_length"),
        ("/v1/applications", {**apply_ok, "uscc": bare}, "k3", 422, "consent_missing"),
        ("/v1/applications", {**apply_ok, "uscc": stale}, "k4", 422, "consent_expired"),
        ("/v1/applications", {**apply_ok, "scenario_id": "lottery_loan"}, "k5", 422, "unknown_scenario"),
        ("/v1/limit-estimates", {"uscc": ok, "scenario_id": "lottery_loan", "as_of": AS_OF}, "k6", 422,
         "unknown_scenario"),
        ("/v1/consents", {"uscc": ok, "scenario_id": "lottery_loan", "granted_by": "x", "expires_on": "2027-01-01"},
         "k7", 422, "unknown_scenario"),
        ("/v1/applications", {**apply_ok, "requested_amount": 100000.5}, "k8", 422, "request_invalid"),
        ("/v1/applications", {**apply_ok, "extra": 1}, "k9", 422, "request_invalid"),
        ("/v1/applications", {**apply_ok, "as_of": "2026-13-01"}, "k10", 422, "request_invalid"),
        ("/v1/applications", {**apply_ok, "as_of": "2099-01-01"}, "k11", 422, "as_of_in_future"),
        ("/v1/applications", apply_ok, None, 400, "idempotency_key_required"),
        (f"/v1/applications/{refused['application_id']}/accept", {"signer": "法人"}, "k12", 409,
         "application_not_approved"),
        (accept_path, {"signer": "法人", "business_date": AS_OF}, "k13", 409, "already_accepted"),
        (accept_path, {"signer": "法人"}, None, 400, "idempotency_key_required"),
        ("/v1/applications/999999/accept", {"signer": "法人"}, "k14", 404, "application_not_found"),
        ("/v1/review-cases/999999/assign", {"assignee": "officer:li"}, "k15", 404, "case_not_found"),
    ]  # fmt: skip
    for path, body, key, status, code in cases:
        r = _post(client, path, body, key=key)
        assert (r.status_code, r.json().get("code")) == (status, code), (path, body, r.text[:300])
        assert r.headers["content-type"].startswith(PROBLEM)
        assert kit.counts(db_engine) == before, code
    r = client.get("/v1/applications/999999")
    assert r.status_code == 404 and r.json()["code"] == "application_not_found"
    # an expired offer: a fresh approval accepted 31 days after its decision
    kit.grant(db_engine, u.pick("approve", 5)[4])
    late = _post(client, "/v1/applications", {**apply_ok, "uscc": u.pick("approve", 5)[4]}, key="late").json()
    n = kit.counts(db_engine)
    r = _post(client, f"/v1/applications/{late['application_id']}/accept",
              {"signer": "法人", "business_date": "2026-07-31"}, key="late-acc")  # fmt: skip
    assert (r.status_code, r.json()["code"]) == (422, "offer_expired") and kit.counts(db_engine) == n
