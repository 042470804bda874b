"""The lending API over real HTTP (uvicorn on a free port): flows, idempotency headers, problem+json codes."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from sqlalchemy import Engine

from puhui.api import create_app
from puhui.store import idempotency, load_models, make_engine
from tests._http import serving
from tests.lending._lendkit import TERMS, books

PROBLEM = "application/problem+json"


@pytest.fixture(scope="module")
def server() -> Iterator[tuple[FastAPI, str]]:
    app = create_app()
    with serving(app) as base:
        yield app, f"{base}/v1/lending"


@pytest.fixture
def api(server: tuple[FastAPI, str], sqlite_url: str) -> Iterator[tuple[httpx.Client, Engine]]:
    """A client against the server, which now uses a fresh database of this test's own."""
    app, base = server
    engine = make_engine(sqlite_url)
    load_models().create_all(engine)
    app.state.engine = engine
    with httpx.Client(base_url=base, timeout=30) as client:
        yield client, engine
    app.state.engine = None
    engine.dispose()


_n = iter(range(1, 10**6))


def post(client: httpx.Client, path: str, body: dict[str, Any], key: str | None = "auto") -> httpx.Response:
    headers = {} if key is None else {"Idempotency-Key": f"k-{next(_n)}" if key == "auto" else key}
    return client.post(path, json=body, headers=headers)


def _line(client: httpx.Client, **terms: Any) -> int:
    c = post(client, "/contracts", {
        "contract_no": f"HT-API-{next(_n)}", "borrower_id": "91110108MA01API001", "text": "借款合同 API",
        "terms": {**TERMS, **terms}, "signer": "法定代表人", "signed_at": "2026-01-05T10:00:00+08:00",
        "business_date": "2026-01-05"})
    assert c.status_code == 201, c.text
    assert c.json()["verified"] is True
    r = post(client, "/lines", {"contract_id": c.json()["contract_id"]})
    assert r.status_code == 201, r.text
    return int(r.json()["line_id"])


def _problem(r: httpx.Response, status: int, code: str) -> None:
    assert r.status_code == status, r.text
    assert r.headers["content-type"].startswith(PROBLEM)
    assert r.json()["code"] == code


def test_draw_repay_schedule_and_statement(api: tuple[httpx.Client, Engine]) -> None:
    client, _ = api
    line_id = _line(client)
    r = post(client, f"/lines/{line_id}/drawdowns", {"amount": "60000", "method": "equal_principal",
                                                     "term_months": 6})
    assert r.status_code == 201
    loan = r.json()
    assert loan["line"]["available"] == "440000.00" and len(loan["schedule"]) == 6
    sched = client.get(f"/loans/{loan['loan_id']}/schedule").json()["lines"]
    assert [x["principal"] for x in sched] == ["10000.00"] * 6
    quote = client.get(f"/loans/{loan['loan_id']}/payoff-quote").json()
    assert quote["total"] == "60000.00"  # paid off the day it is drawn: no interest (民法典 Art 677)
    r = post(client, f"/loans/{loan['loan_id']}/repayments", {"amount": "60000.00", "kind": "payoff"})
    assert r.status_code == 201 and r.json()["loan_closed"] is True
    assert r.json()["line"]["available"] == "500000.00"
    st = client.get(f"/loans/{loan['loan_id']}/statement").json()
    assert [t["kind"] for t in st["transactions"]] == ["drawdown", "repayment", "closed"]
    assert client.get(f"/lines/{line_id}/statement").json()["loans"][0]["status"] == "closed"
    tb = client.get("/ledger/trial-balance").json()
    assert tb["balanced"] is True and tb["debits"] == tb["credits"]
    assert client.get("/business-date").json() == {"open_date": "2026-01-05", "eod_running_for": None}


def test_idempotency_headers(api: tuple[httpx.Client, Engine]) -> None:
    client, engine = api
    line_id = _line(client)
    first = post(client, f"/lines/{line_id}/drawdowns", {"amount": "1000"}, key="dd-1")
    again = post(client, f"/lines/{line_id}/drawdowns", {"amount": "1000"}, key="dd-1")
    assert again.status_code == 201 and again.json() == first.json()
    assert again.headers["idempotent-replayed"] == "true" and "idempotent-replayed" not in first.headers
    assert books(engine)["loans"] == 1
    _problem(post(client, f"/lines/{line_id}/drawdowns", {"amount": "1001"}, key="dd-1"), 422,
             "idempotency_key_reused")
    _problem(post(client, f"/lines/{line_id}/drawdowns", {"amount": "1"}, key=None), 400,
             "idempotency_key_required")
    fp = idempotency.fingerprint("drawdown", {"line_id": line_id, "amount": "7.00", "on": "2026-01-05",
                                              "term_months": None, "method": None})
    assert idempotency.claim(engine, "api:anonymous:lending.drawdown", "busy", fp) is None
    _problem(post(client, f"/lines/{line_id}/drawdowns", {"amount": "7"}, key="busy"), 409, "idempotency_in_flight")


@pytest.mark.parametrize(("path", "body", "status", "code"), [
    ("/lines/{line}/drawdowns", {"amount": "500000.01"}, 422, "over_limit"),
    ("/lines/{late}/drawdowns", {"amount": "1"}, 422, "outside_validity"),
    ("/lines/{frozen}/drawdowns", {"amount": "1"}, 422, "line_frozen"),
    ("/loans/{closed}/repayments", {"amount": "1", "kind": "prepayment"}, 422, "loan_closed"),
    ("/loans/{loan}/repayments", {"amount": "-5"}, 422, "non_positive_amount"),
    ("/loans/{loan}/repayments", {"amount": 1.5}, 422, "request_invalid"),
    ("/lines/{line}/drawdowns", {"amount": "1", "method": "balloon"}, 422, "unknown_repayment_method"),
    ("/lines/{line}/drawdowns", {"amount": "1", "surprise": True}, 422, "request_invalid"),
    ("/lines/{line}/drawdowns", {"amount": "1", "business_date": "2026-01-09"}, 409, "eod_pending"),
    ("/lines/999/drawdowns", {"amount": "1"}, 404, "line_not_found"),
    ("/loans/999/repayments", {"amount": "1"}, 404, "loan_not_found"),
    ("/lines/{line}/reduce", {"limit": "600000", "reason": "raise?"}, 422, "not_a_reduction"),
    ("/lines/{line}/unfreeze", {"reason": "not frozen"}, 409, "invalid_line_transition"),
])
def test_bad_input_is_problem_json_and_the_books_do_not_move(
    api: tuple[httpx.Client, Engine], path: str, body: dict[str, Any], status: int, code: str
) -> None:
    client, engine = api
    ids = {"line": _line(client), "late": _line(client, valid_from="2026-02-01"), "frozen": _line(client)}
    post(client, f"/lines/{ids['frozen']}/freeze", {"reason": "early warning"})
    ids["loan"] = post(client, f"/lines/{ids['line']}/drawdowns", {"amount": "100"}).json()["loan_id"]
    ids["closed"] = post(client, f"/lines/{ids['line']}/drawdowns", {"amount": "100"}).json()["loan_id"]
    assert post(client, f"/loans/{ids['closed']}/repayments", {"amount": "100", "kind": "payoff"}).status_code == 201
    before = books(engine)
    _problem(post(client, path.format(**ids), body), status, code)
    assert books(engine) == before


@pytest.mark.parametrize(("query", "code"), [
    ({"method": "balloon"}, "unknown_repayment_method"),
    ({"day_count": "ACT/365"}, "unknown_day_count"),
    ({"day_count": "Actual/999"}, "unknown_day_count"),
    ({"rounding": "bankers"}, "unknown_rounding_mode"),
])
def test_schedule_preview_refuses_unknown_codes(api: tuple[httpx.Client, Engine], query: dict[str, str],
                                                code: str) -> None:
    client, _ = api
    base = {"principal": "12000", "annual_rate": "0.24", "term_months": "4", "method": "equal_instalment",
            "start": "2024-09-20"}
    ok = client.get("/schedule-preview", params=base)
    assert ok.status_code == 200
    # Fineract V1 (loan_servicing.md §2): instalment 1 is 2911.49 principal + 240.00 interest
    assert (ok.json()["lines"][0]["principal"], ok.json()["lines"][0]["interest"]) == ("2911.49", "240.00")
    _problem(client.get("/schedule-preview", params={**base, **query}), 422, code)
