"""The app's error contract over real HTTP (uvicorn on a free port): problem+json, never a 500 for bad input."""

from __future__ import annotations

from collections.abc import Iterator

import httpx
import pytest
from fastapi import FastAPI
from pydantic import BaseModel

from puhui.api import create_app
from puhui.core.errors import NotFound
from tests._http import serving


class _Body(BaseModel):
    amount: int


def _app() -> FastAPI:
    app = create_app()

    @app.get("/v1/_test/missing")
    def missing() -> None:
        raise NotFound("enterprise 91110108551385082Q is unknown", code="enterprise_not_found")

    @app.post("/v1/_test/echo")
    def echo(body: _Body) -> dict[str, int]:
        return {"amount": body.amount}

    return app


@pytest.fixture(scope="module")
def base_url() -> Iterator[str]:
    with serving(_app()) as base:
        yield base


def test_domain_error_is_problem_json(base_url: str) -> None:
    r = httpx.get(f"{base_url}/v1/_test/missing")
    assert r.status_code == 404
    assert r.headers["content-type"].startswith("application/problem+json")
    body = r.json()
    assert body["code"] == "enterprise_not_found"
    assert "91110108551385082Q" in body["detail"]


def test_bad_body_names_the_field(base_url: str) -> None:
    r = httpx.post(f"{base_url}/v1/_test/echo", json={"amount": "lots"})
    assert r.status_code == 422
    body = r.json()
    assert body["code"] == "request_invalid"
    assert body["errors"][0]["field"] == "body.amount"


def test_malformed_json_is_422_not_500(base_url: str) -> None:
    r = httpx.post(f"{base_url}/v1/_test/echo", content=b"{not json", headers={"content-type": "application/json"})
    assert r.status_code == 422
    assert r.json()["code"] == "request_invalid"


def test_unknown_route_is_problem(base_url: str) -> None:
    r = httpx.get(f"{base_url}/v1/nowhere")
    assert r.status_code == 404
    assert r.json()["code"] == "not_found"


def test_docs_need_no_cdn(base_url: str) -> None:
    html = httpx.get(f"{base_url}/docs").text
    assert "cdn.jsdelivr" not in html and "unpkg" not in html
    script = html.split('src="', 1)[1].split('"', 1)[0]
    assert script.startswith("/")
    assert httpx.get(f"{base_url}{script}").status_code == 200


def test_every_capability_is_mounted_once() -> None:
    import warnings

    with warnings.catch_warnings():
        warnings.simplefilter("error")  # FastAPI warns on duplicate operation ids (a router mounted twice)
        paths = create_app().openapi()["paths"]
    expected_paths = ("/v1/enterprises/{uscc}/profile", "/v1/lending/lines/{line_id}/drawdowns", "/v1/valuations",
                      "/v1/vouchers")
    for expected in expected_paths:
        assert expected in paths, expected


def test_an_action_answer_renders_decimals_as_text_first_time_and_on_replay(sqlite_url: str) -> None:
    """A body read back from the idempotency store carries fractions as Decimal; the answer must not be a
    500 (JSONResponse cannot encode Decimal) and must not pass money through a float."""
    from decimal import Decimal

    from fastapi.testclient import TestClient

    from puhui.api.deps import respond
    from puhui.store import make_engine, migrate
    from puhui.store.idempotency import run_once

    migrate.upgrade(sqlite_url)
    engine = make_engine(sqlite_url)
    app = FastAPI()

    @app.post("/act")
    def act() -> object:
        posted = run_once(engine, scope="t", action="act", key="k-1", request={"x": 1}, status=201,
                          work=lambda s: {"limit": Decimal("300000.00"), "pd": 0.0123})  # fmt: skip
        return respond(posted)

    with TestClient(app) as client:
        first, again = client.post("/act"), client.post("/act")
    assert first.status_code == again.status_code == 201
    assert first.json() == again.json() == {"limit": "300000.00", "pd": "0.0123"}
    assert again.headers["Idempotent-Replayed"] == "true"
