"""The supply-chain API over real HTTP (uvicorn on a free port): chains from the raw zone, the voucher flow
with Idempotency-Key headers, and bad input as 4xx problem+json with a code — the ledger unchanged."""

from __future__ import annotations

import itertools
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from sqlalchemy import Engine

from puhui.api import create_app
from puhui.store import load_models, make_engine
from tests._http import serving
from tests.supplychain._kit import BANK, CORE, T1, T2, T3, store_snapshot
from tests.supplychain.test_chains import make_raw_zone

PROBLEM = "application/problem+json"
_n = itertools.count(1)


@pytest.fixture(scope="module")
def server() -> Iterator[tuple[FastAPI, str]]:
    app = create_app()
    with serving(app) as base:
        yield app, base


@pytest.fixture
def api(server: tuple[FastAPI, str], tmp_path: Path, sqlite_url: str) -> Iterator[tuple[httpx.Client, Engine]]:
    """A client of the running server, which now uses this test's own database and raw zone."""
    app, base = server
    engine = make_engine(sqlite_url)
    load_models().create_all(engine)
    app.state.engine = engine
    app.state.chain_source = make_raw_zone(tmp_path / "raw")
    with httpx.Client(base_url=base, timeout=30) as client:
        yield client, engine
    app.state.engine = None
    app.state.chain_source = None
    engine.dispose()


def post(client: httpx.Client, path: str, body: dict[str, Any], key: str | None = "auto",
         method: str = "POST") -> httpx.Response:
    headers = {"X-Actor": "test:api"}
    if key is not None:
        headers["Idempotency-Key"] = f"api-{next(_n)}" if key == "auto" else key
    return client.request(method, path, json=body, headers=headers)


def ok(r: httpx.Response, status: int = 200) -> dict[str, Any]:
    assert r.status_code == status, r.text
    return r.json()


def problem(r: httpx.Response, status: int, code: str) -> dict[str, Any]:
    assert r.status_code == status, r.text
    assert r.headers["content-type"].startswith(PROBLEM)
    body = r.json()
    assert body["code"] == code and body["status"] == status and body["detail"]
    return body


def prepare(client: httpx.Client, limit: str = "3000000") -> str:
    ok(post(client, f"/v1/chains/{CORE}/limit", {"limit": limit, "valid_from": "2025-06-15",
                                                "valid_to": "2026-12-31", "business_date": "2025-07-01"},
            method="PUT"))
    ok(post(client, "/v1/vouchers/payables", {"payable_no": "AP1", "core": CORE, "supplier": T1,
                                              "amount": "2000000", "business_date": "2025-07-01"}), 201)
    body = ok(post(client, "/v1/vouchers", {"payable_no": "AP1", "face": "1000000", "maturity_date": "2025-12-31",
                                            "by": CORE, "business_date": "2025-07-01"}), 201)
    no = body["voucher"]["voucher_no"]
    ok(post(client, f"/v1/vouchers/holdings/{no}-1/accept", {"by": T1, "business_date": "2025-07-01"}))
    return str(no)


def test_chain_view_limit_and_exposure(api: tuple[httpx.Client, Engine]) -> None:
    client, _ = api
    cores = ok(client.get("/v1/chains"))["cores"]
    assert [c["limit"] for c in cores] == [None, None]
    view = ok(client.get(f"/v1/chains/{CORE}", params={"as_of": "2026-04-06"}))
    assert view["tiers"] == {"1": 2, "2": 1} and view["limit"] is None
    problem(client.get(f"/v1/chains/{T1}"), 404, "unknown_core_enterprise")
    problem(post(client, f"/v1/chains/{T1}/limit", {"limit": "1", "valid_from": "2025-06-15",
                                                   "valid_to": "2026-12-31"}, method="PUT"), 404,
            "unknown_core_enterprise")
    no = prepare(client)
    limit = ok(client.get(f"/v1/chains/{CORE}", params={"as_of": "2026-04-06"}))["limit"]
    assert (limit["name"], limit["limit"], limit["outstanding"]) == (
        "北京核心制造集团有限公司", "3000000.00", "1000000.00")
    exp = ok(client.get(f"/v1/chains/{CORE}/exposure", params={"as_of": "2026-04-06"}))
    assert exp["outstanding"] == "1000000.00" and exp["holders"][T1] == {"active": "1000000.00", "total": "1000000.00"}
    members = {m["uscc"]: m for m in exp["members"]}
    assert members[T1]["vouchers_held"] == "1000000.00" and members[T1]["dependence"] == "0.600000"
    assert members[T2]["vouchers_held"] == "0.00" and members[T2]["dependence"] == "0.300000"
    assert no


def test_voucher_flow_over_http(api: tuple[httpx.Client, Engine]) -> None:
    client, _ = api
    no = prepare(client)
    d = {"business_date": "2025-07-10"}
    split = ok(post(client, f"/v1/vouchers/holdings/{no}-1/split", {"by": T1, "parts": ["300000", 200000], **d}))
    assert split["created"] == [f"{no}-2", f"{no}-3", f"{no}-4"]
    assert [h["sub_ticket_range"] for h in split["holdings"][1:]] == ["1-30000000", "30000001-50000000",
                                                                      "50000001-100000000"]
    ok(post(client, f"/v1/vouchers/holdings/{no}-2/transfer", {"by": T1, "to": T2, **d}))
    assert ok(client.get(f"/v1/enterprises/{T2}/holdings"))["awaiting_acceptance"][0]["holding"] == f"{no}-2"
    ok(post(client, f"/v1/vouchers/holdings/{no}-2/accept", {"by": T2, **d}))
    ok(post(client, f"/v1/vouchers/holdings/{no}-3/distribute",
            {"by": T1, "transfers": [{"to": T3, "amount": "50000"}], **d}))
    ok(post(client, f"/v1/vouchers/holdings/{no}-6/reject", {"by": T3, **d}))
    fin = ok(post(client, f"/v1/vouchers/holdings/{no}-4/finance",
                  {"by": T1, "funder": BANK, "annual_rate": "2.4%", "registration_ref": "ZD-77", **d}))
    assert fin["financings"][0]["interest"] == "5800.00"  # 500,000 × 2.4 % × 174 / 360
    quote = ok(client.get("/v1/vouchers/discount", params={"face": "500000", "annual_rate": "0.024",
                                                           "maturity_date": "2025-12-31", "start": "2025-07-10"}))
    assert quote["interest"] == "5800.00" and quote["proceeds"] == "494200.00"
    held = ok(client.get(f"/v1/enterprises/{T2}/holdings"))
    assert held["totals"] == {"active": "300000.00"}
    settled = ok(post(client, f"/v1/vouchers/{no}/settle", {"business_date": "2025-12-31"}))
    assert settled["paid_to"] == {T2: "300000.00", T1: "200000.00", BANK: "500000.00"}
    hist = ok(client.get(f"/v1/vouchers/{no}/history"))
    assert hist["events"][-1]["kind"] == "settled" and hist["events"][-1]["actor"] == "test:api"
    assert {h["holder"] for h in hist["holdings"]} == {T1, T2, BANK}  # T3 refused its part: it never held one
    assert [e["kind"] for e in hist["events"]][5:7] == ["distribution_requested", "transfer_rejected"]
    assert ok(client.get(f"/v1/vouchers/{no}"))["totals"]["settled"] == "1000000.00"


def test_idempotency_key_required_and_replayed(api: tuple[httpx.Client, Engine]) -> None:
    client, _ = api
    no = prepare(client)
    problem(post(client, f"/v1/vouchers/holdings/{no}-1/split", {"by": T1, "parts": ["1"]}, key=None), 400,
            "idempotency_key_required")
    first = post(client, f"/v1/vouchers/holdings/{no}-1/split", {"by": T1, "parts": ["1"],
                                                                 "business_date": "2025-07-02"}, key="same")
    again = post(client, f"/v1/vouchers/holdings/{no}-1/split", {"by": T1, "parts": ["1"],
                                                                 "business_date": "2025-07-02"}, key="same")
    assert again.headers.get("Idempotent-Replayed") == "true" and again.json() == first.json()
    problem(post(client, f"/v1/vouchers/holdings/{no}-1/split", {"by": T1, "parts": ["2"],
                                                                 "business_date": "2025-07-02"}, key="same"), 422,
            "idempotency_key_reused")


def test_bad_input_is_a_problem_and_changes_nothing(api: tuple[httpx.Client, Engine]) -> None:
    client, engine = api
    no = prepare(client, limit="1500000")
    d = {"business_date": "2025-07-02"}
    ok(post(client, f"/v1/vouchers/holdings/{no}-1/split", {"by": T1, "parts": ["100"], **d}))  # 2: 100, 3: rest
    ok(post(client, f"/v1/vouchers/holdings/{no}-2/transfer", {"by": T1, "to": T2, **d}))  # 2 locked
    cases: list[tuple[str, dict[str, Any], int, str]] = [
        (f"/v1/vouchers/holdings/{no}-3/split", {"by": T1, "parts": ["0.001"]}, 422, "sub_fen_amount"),
        (f"/v1/vouchers/holdings/{no}-3/split", {"by": T1, "parts": ["0"]}, 422, "non_positive_amount"),
        (f"/v1/vouchers/holdings/{no}-3/split", {"by": T1, "parts": [0.5]}, 422, "request_invalid"),
        (f"/v1/vouchers/holdings/{no}-2/transfer", {"by": T1, "to": T3}, 409, "holding_locked"),
        (f"/v1/vouchers/holdings/{no}-3/transfer", {"by": T2, "to": T3}, 403, "not_holder"),
        (f"/v1/vouchers/holdings/{no}-3/finance", {"by": T1, "funder": BANK, "annual_rate": "0.02"}, 422,
         "registration_required"),
        ("/v1/vouchers", {"payable_no": "AP1", "face": "500000.01", "maturity_date": "2025-12-31", "by": CORE}, 422,
         "over_chain_limit"),
        ("/v1/vouchers", {"payable_no": "AP1", "face": "1", "maturity_date": "2026-07-03", "by": CORE}, 422,
         "tenor_exceeds_maximum"),
        (f"/v1/vouchers/{no}/settle", {}, 422, "not_yet_due"),
        ("/v1/vouchers/CV404/settle", {}, 404, "voucher_not_found"),
        (f"/v1/vouchers/holdings/{no}/accept", {"by": T1}, 422, "invalid_holding_ref"),
        (f"/v1/vouchers/holdings/{no}-3/split", {"by": T1, "parts": ["1"], "extra": 1}, 422, "request_invalid"),
    ]
    for path, body, status, code in cases:
        before = store_snapshot(engine)
        problem(post(client, path, {**d, **body}), status, code)
        assert store_snapshot(engine) == before, code
    ok(post(client, f"/v1/vouchers/{no}/settle", {"business_date": "2025-12-31"}))
    before = store_snapshot(engine)
    problem(post(client, f"/v1/vouchers/{no}/settle", {"business_date": "2025-12-31"}), 409, "already_settled")
    assert store_snapshot(engine) == before
