"""`/v1/alerts` over HTTP (FastAPI TestClient on the real app): list filters, get, acknowledge, close, and the
problem+json 4xx answers for bad input."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine

from puhui.api import create_app
from puhui.monitoring import service
from puhui.monitoring.signals import load_signals
from puhui.store import load_models, make_engine
from tests.lending._lendkit import open_line
from tests.monitoring._kit import AS_OF, uscc, write_signals, write_table

PROBLEM = "application/problem+json"
A, B = uscc(201), uscc(202)
HEADERS = {"X-Actor": "staff:wang", "Idempotency-Key": "k-1"}


@pytest.fixture
def api(sqlite_url: str, tmp_path: Path) -> Iterator[tuple[TestClient, Engine, dict[str, int]]]:
    engine = make_engine(sqlite_url)
    load_models().create_all(engine)
    open_line(engine, borrower=A)
    open_line(engine, borrower=B)
    write_table(tmp_path, [{"uscc": A, "tax_sales_yoy_3m": -0.6, "pr_enforcement_open": 1},
                           {"uscc": B, "tax_sales_yoy_3m": -0.35}])
    cat = load_signals(write_signals(tmp_path), check_indicators=False)
    service.run_monitoring(engine, tmp_path, AS_OF, catalogue=cat)
    ids = {f"{a['uscc']}:{a['signal_id']}": a["alert_id"] for a in service.list_alerts(engine)["items"]}
    app = create_app()
    app.state.engine = engine
    with TestClient(app) as client:
        yield client, engine, ids
    engine.dispose()


def _problem(r: object, status: int, code: str) -> dict:
    assert r.status_code == status, r.text  # type: ignore[attr-defined]
    assert r.headers["content-type"].startswith(PROBLEM)  # type: ignore[attr-defined]
    body = r.json()  # type: ignore[attr-defined]
    assert body["code"] == code
    return body


def test_list_filters_and_get(api: tuple[TestClient, Engine, dict[str, int]]) -> None:
    client, _, ids = api
    all_ = client.get("/v1/alerts").json()
    assert all_["total"] == 3 and [a["tier"] for a in all_["items"]] == ["red", "orange", "yellow"]
    red = client.get("/v1/alerts", params={"tier": "red"}).json()["items"]
    assert [(a["uscc"], a["signal_id"], a["status"]) for a in red] == [(A, "enforcement_case", "actioned")]
    assert client.get("/v1/alerts", params={"uscc": B}).json()["total"] == 1
    assert client.get("/v1/alerts", params={"status": "open"}).json()["total"] == 2
    assert client.get("/v1/alerts", params={"as_of": "2026-10-31"}).json()["total"] == 3
    assert client.get("/v1/alerts", params={"as_of": "2026-09-30"}).json()["total"] == 0
    one = client.get(f"/v1/alerts/{ids[f'{A}:enforcement_case']}").json()
    assert [x["kind"] for x in one["actions"]] == ["freeze_line", "freeze"]


def test_acknowledge_then_close(api: tuple[TestClient, Engine, dict[str, int]]) -> None:
    client, engine, ids = api
    aid = ids[f"{B}:sales_decline"]
    r = client.post(f"/v1/alerts/{aid}/acknowledge", json={"reason": "calling the customer"}, headers=HEADERS)
    assert r.status_code == 200 and r.json()["status"] == "acknowledged"
    assert r.json()["acknowledged_by"] == "staff:wang"
    replay = client.post(f"/v1/alerts/{aid}/acknowledge", json={"reason": "calling the customer"}, headers=HEADERS)
    assert replay.headers.get("Idempotent-Replayed") == "true" and replay.json() == r.json()
    _problem(client.post(f"/v1/alerts/{aid}/acknowledge", json={"reason": "again"},
                         headers={**HEADERS, "Idempotency-Key": "k-2"}), 409, "alert_already_acknowledged")
    c = client.post(f"/v1/alerts/{aid}/close", json={"reason": "seasonal", "code": "false_positive"},
                    headers={**HEADERS, "Idempotency-Key": "k-3"})
    assert c.status_code == 200 and (c.json()["status"], c.json()["close_code"]) == ("closed", "false_positive")
    assert service.worst_open_tier(engine, B) is None
    _problem(client.post(f"/v1/alerts/{aid}/close", json={"reason": "again"},
                         headers={**HEADERS, "Idempotency-Key": "k-4"}), 409, "alert_closed")


def test_bad_input_is_a_problem(api: tuple[TestClient, Engine, dict[str, int]]) -> None:
    client, _, ids = api
    aid = ids[f"{B}:sales_decline"]
    _problem(client.get("/v1/alerts", params={"tier": "purple"}), 422, "request_invalid")
    _problem(client.get("/v1/alerts", params={"status": "sleeping"}), 422, "request_invalid")
    _problem(client.get("/v1/alerts", params={"limit": 0}), 422, "request_invalid")
    _problem(client.get("/v1/alerts", params={"as_of": "31/10/2026"}), 422, "request_invalid")
    _problem(client.get("/v1/alerts/999999"), 404, "alert_not_found")
    _problem(client.get("/v1/alerts/abc"), 422, "request_invalid")
    _problem(client.post(f"/v1/alerts/{aid}/acknowledge", json={"reason": "x"}, headers={"X-Actor": "s"}), 400,
             "idempotency_key_required")
    _problem(client.post(f"/v1/alerts/{aid}/acknowledge", json={}, headers=HEADERS), 422, "request_invalid")
    _problem(client.post(f"/v1/alerts/{aid}/acknowledge", json={"reason": ""}, headers=HEADERS), 422,
             "request_invalid")
    _problem(client.post(f"/v1/alerts/{aid}/close", json={"reason": "x", "code": "bored"}, headers=HEADERS), 422,
             "request_invalid")
    _problem(client.post(f"/v1/alerts/{aid}/close", json={"reason": "x", "colour": "red"}, headers=HEADERS), 422,
             "request_invalid")
    _problem(client.post("/v1/alerts/999999/close", json={"reason": "x"}, headers=HEADERS), 404, "alert_not_found")
    # The same key with another request is refused, not replayed.
    ok = client.post(f"/v1/alerts/{aid}/acknowledge", json={"reason": "first"}, headers={**HEADERS,
                                                                                         "Idempotency-Key": "k-9"})
    assert ok.status_code == 200
    _problem(client.post(f"/v1/alerts/{aid}/acknowledge", json={"reason": "second"},
                         headers={**HEADERS, "Idempotency-Key": "k-9"}), 422, "idempotency_key_reused")
