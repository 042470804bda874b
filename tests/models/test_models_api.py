"""The model registry HTTP API (FastAPI TestClient on the real app and a real SQLite store): reads, promote,
rollback, idempotency headers and problem+json codes."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine

from puhui.api import create_app
from puhui.models import registry
from puhui.models.scorecard import Scorecard
from tests.models.conftest import make_credit
from tests.models.test_registry import registry_engine

PROBLEM = "application/problem+json"


@pytest.fixture(scope="module")
def card() -> Scorecard:
    df, y, _ = make_credit(2000, seed=3)
    return Scorecard.fit(df, y)


@pytest.fixture
def api(sqlite_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
        card: Scorecard) -> Iterator[tuple[TestClient, Engine, list[str]]]:  # fmt: skip
    monkeypatch.setenv("PUHUI_HOME", str(tmp_path))
    engine = registry_engine(sqlite_url)
    versions = [registry.register(engine, replace(card, base_score=600.0 + k), author="staff:analyst").version
                for k in range(3)]  # fmt: skip
    app = create_app()
    app.state.engine = engine
    with TestClient(app) as client:
        yield client, engine, versions
    engine.dispose()


_n = iter(range(1, 10**6))


def post(client: TestClient, path: str, body: dict, key: str | None = "auto", actor: str = "staff:risk.li"):
    headers = {"X-Actor": actor}
    if key is not None:
        headers["Idempotency-Key"] = f"k-{next(_n)}" if key == "auto" else key
    return client.post(path, json=body, headers=headers)


def _problem(r, status: int, code: str) -> None:
    assert r.status_code == status, r.text
    assert r.headers["content-type"].startswith(PROBLEM)
    assert r.json()["code"] == code


def test_reads(api) -> None:
    client, _, versions = api
    r = client.get("/v1/models")
    assert r.status_code == 200
    assert [v["version"] for v in r.json()["versions"]] == versions
    assert "metadata" not in r.json()["versions"][0]
    r = client.get("/v1/models/sme_pd")
    assert r.json()["champion"] is None and len(r.json()["versions"]) == 3
    r = client.get(f"/v1/models/sme_pd/versions/{versions[1]}")
    assert r.status_code == 200
    body = r.json()
    assert body["state"] == "candidate" and body["metadata"]["version"] == versions[1]
    assert body["metadata"]["bins"]["kind"] == "scorecard"
    assert client.get("/v1/models", params={"state": "champion"}).json()["versions"] == []
    _problem(client.get("/v1/models/sme_pd/champion"), 404, "no_champion")
    _problem(client.get("/v1/models/nope"), 404, "unknown_model")
    _problem(client.get("/v1/models/nope/champion"), 404, "unknown_model")
    _problem(client.get("/v1/models/sme_pd/versions/sme_pd-v9"), 404, "unknown_version")
    _problem(client.get("/v1/models", params={"state": "bogus"}), 422, "invalid_state")


def test_promote_rollback_over_http(api) -> None:
    client, engine, (v1, v2, v3) = api
    base = "/v1/models/sme_pd"
    _problem(post(client, f"{base}/versions/{v1}/promote", {"reason": "first"}, key=None), 400,
             "idempotency_key_required")  # fmt: skip
    r = post(client, f"{base}/versions/{v1}/promote", {"reason": "first"}, key="p1")
    assert r.status_code == 200 and r.json()["state"] == "champion"
    again = post(client, f"{base}/versions/{v1}/promote", {"reason": "first"}, key="p1")
    assert again.headers.get("Idempotent-Replayed") == "true" and again.json() == r.json()
    _problem(post(client, f"{base}/versions/{v1}/promote", {"reason": "first"}, key="p1-other"), 409,
             "already_champion")  # fmt: skip
    _problem(post(client, f"{base}/rollback", {"reason": "no"}), 409, "no_previous_champion")

    r = post(client, f"{base}/versions/{v2}/promote", {"reason": "better"}, actor="staff:risk.wang")
    assert r.json()["previous_champion"] == v1
    assert client.get(f"{base}/champion").json()["version"] == v2
    _problem(post(client, f"{base}/versions/{v1}/promote", {"reason": "back"}), 409, "version_retired")
    r = post(client, f"{base}/rollback", {"reason": "v2 drifts"})
    assert (r.status_code, r.json()["version"], r.json()["previous_champion"]) == (200, v1, v2)
    assert client.get(f"{base}/champion").json()["version"] == v1

    r = post(client, f"{base}/versions/{v3}/shadow", {"reason": "quiet", "on": False})
    assert r.status_code == 200 and r.json()["shadow"] is False
    r = post(client, f"{base}/versions/{v3}/retire", {"reason": "weaker"})
    assert r.json()["state"] == "retired"

    _problem(post(client, "/v1/models/nope/rollback", {"reason": "x"}), 404, "unknown_model")
    _problem(post(client, f"{base}/versions/sme_pd-v9/promote", {"reason": "x"}), 404, "unknown_version")
    _problem(post(client, f"{base}/versions/{v3}/promote", {"reason": ""}), 422, "request_invalid")
    _problem(post(client, f"{base}/versions/{v3}/promote", {"reason": "x", "extra": 1}), 422, "request_invalid")

    evs = client.get(f"{base}/events").json()["events"]
    assert [(e["action"], e["actor"]) for e in evs if e["action"] != "register"] == [
        ("promote", "staff:risk.li"), ("promote", "staff:risk.wang"), ("rollback", "staff:risk.li"),
        ("shadow_off", "staff:risk.li"), ("retire", "staff:risk.li")]  # fmt: skip
    assert {v.version: v.state for v in registry.list_versions(engine, "sme_pd")} == {
        v1: "champion", v2: "retired", v3: "retired"}
