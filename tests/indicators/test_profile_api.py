"""GET /v1/enterprises/{uscc}/profile over HTTP: the profile, and problem+json for every bad input."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from puhui.api import create_app
from puhui.core.dates import FixedClock
from puhui.core.identifiers import make_uscc
from puhui.indicators.api import get_engine
from puhui.indicators.batch import BatchReport
from puhui.indicators.library import Library
from puhui.indicators.online import OnlineEngine
from tests._http import serving

from .conftest import AS_OF

PROBLEM = "application/problem+json"


@pytest.fixture(scope="module")
def client(universe: Path, library: Library, batch_report: BatchReport) -> Iterator[httpx.Client]:
    """The app with the profile router, served by uvicorn on a free port (real HTTP)."""
    engine = OnlineEngine(universe, library=library, clock=FixedClock("2026-11-29"))
    app = create_app()
    app.dependency_overrides[get_engine] = lambda: engine
    with serving(app) as base, httpx.Client(base_url=base, timeout=30) as c:
        yield c
    engine.close()


def test_the_profile_of_an_enterprise(client: httpx.Client, batch_rows: dict[str, dict]) -> None:
    uscc = sorted(batch_rows)[3]
    r = client.get(f"/v1/enterprises/{uscc}/profile", params={"as_of": AS_OF.isoformat()})
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["uscc"] == uscc and body["as_of"] == "2026-06-30"
    dims = {d["id"]: d for d in body["dimensions"]}
    tax = {i["id"]: i for i in dims["tax"]["indicators"]}
    want = batch_rows[uscc]["tax_sales_12m"]
    assert tax["tax_sales_12m"]["value"] == (None if want is None else str(want))
    assert body["computed_from"] == "batch"


def test_as_of_defaults_to_today(client: httpx.Client, batch_rows: dict[str, dict]) -> None:
    r = client.get(f"/v1/enterprises/{sorted(batch_rows)[3]}/profile")
    assert r.status_code == 200 and r.json()["as_of"] == "2026-11-29"


@pytest.mark.parametrize(
    ("uscc", "as_of", "status", "code"),
    [
        ("91110108551385082Y", "2026-06-30", 422, "uscc_check"),
        ("9111010855138508", "2026-06-30", 422, "uscc_length"),
        ("UNKNOWN", "2026-06-30", 404, "enterprise_not_found"),
        ("FIRST", "2027-01-01", 422, "as_of_in_future"),
        ("FIRST", "2020-01-01", 422, "as_of_before_data"),
        ("FIRST", "2026-13-01", 422, "invalid_date"),
    ],
)
def test_bad_input_answers_problem_json(
    client: httpx.Client, batch_rows: dict[str, dict], uscc: str, as_of: str, status: int, code: str
) -> None:
    if uscc == "UNKNOWN":
        uscc = make_uscc("9", "1", "110108", "MA000001")
    elif uscc == "FIRST":
        uscc = sorted(batch_rows)[0]
    r = client.get(f"/v1/enterprises/{uscc}/profile", params={"as_of": as_of})
    assert r.status_code == status
    assert r.headers["content-type"].startswith(PROBLEM)
    body = r.json()
    assert body["code"] == code and body["status"] == status and body["detail"]


def test_the_route_is_documented_without_a_cdn(client: httpx.Client) -> None:
    spec = client.get("/openapi.json").json()
    op = spec["paths"]["/v1/enterprises/{uscc}/profile"]["get"]
    assert {"200", "404", "422"} <= set(op["responses"])
    docs = client.get("/docs")
    assert docs.status_code == 200 and "cdn.jsdelivr.net" not in docs.text
