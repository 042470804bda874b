"""The collateral API over real HTTP (uvicorn on a free port) with an AVM fitted once on a small synthetic
universe (300 compounds): address search, valuation requests and their 4xx problems, the application →
registration → line flow, the line's collateral view, and the revalue job (in process and as a command)."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date
from pathlib import Path
from typing import Any

import httpx
import polars as pl
import pytest
import typer
from fastapi import FastAPI
from sqlalchemy import Engine
from typer.testing import CliRunner

from puhui.api import create_app
from puhui.collateral import service
from puhui.collateral.avm import Avm, fit
from puhui.collateral.cli import revalue
from puhui.collateral.evaluate import load_property_data, lookup_unit
from puhui.collateral.jobs import revalue_all
from puhui.collateral.registry import FakeRegistry
from puhui.core.errors import ValidationError
from puhui.data.rawzone import RawZone
from puhui.data.synth.config import SynthConfig
from puhui.data.synth.property import generate_property
from puhui.store import load_models, make_engine
from tests._http import serving

PROBLEM = "application/problem+json"
TODAY = date(2026, 11, 29)
ON = "2026-11-16"


@pytest.fixture(scope="session")
def universe(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Avm]:
    home = tmp_path_factory.mktemp("collateral_home")
    generate_property(SynthConfig(compounds=300, seed=7), RawZone(home / "raw"))
    data = load_property_data(home, with_units=False)
    model = fit(data.sales, data.compounds)
    model.save(home / "models" / "avm")
    return home, model


@pytest.fixture(scope="module")
def server(universe: tuple[Path, Avm]) -> Iterator[tuple[FastAPI, str]]:
    app = create_app()
    home, model = universe
    app.state.puhui_home, app.state.avm, app.state.today = home, model, TODAY
    with serving(app) as base:
        yield app, base


@pytest.fixture
def api(server: tuple[FastAPI, str], sqlite_url: str) -> Iterator[tuple[httpx.Client, Engine, FakeRegistry]]:
    app, base = server
    engine = make_engine(sqlite_url)
    load_models().create_all(engine)
    registry = FakeRegistry()
    app.state.engine, app.state.collateral_registry = engine, registry
    with httpx.Client(base_url=base, timeout=60) as client:
        yield client, engine, registry
    app.state.engine = app.state.collateral_registry = None
    engine.dispose()


def _problem(r: httpx.Response, status: int, code: str) -> None:
    assert r.status_code == status, r.text
    assert r.headers["content-type"].startswith(PROBLEM)
    assert r.json()["code"] == code


def _a_unit(home: Path) -> dict[str, Any]:
    """A unit of the raw zone with its address parts (compound name, city name, building, room)."""
    raw = home / "raw"
    u = pl.read_parquet(str(raw / "property_units" / "*.parquet")).filter(pl.col("area") > 60).head(1)
    b = pl.read_parquet(str(raw / "property_buildings" / "*.parquet"))
    c = pl.read_parquet(str(raw / "property_compounds" / "*.parquet"))
    ci = pl.read_parquet(str(raw / "property_cities" / "*.parquet"))
    return u.join(b, on="building_id").join(c, on="compound_id").join(ci, on="city_code").row(0, named=True)


_n = iter(range(1, 10**6))


def test_address_search_is_fuzzy_on_the_compound_name(api: tuple, universe: tuple) -> None:
    client, engine, _ = api
    u = _a_unit(universe[0])
    r = client.get("/v1/properties/search", params={"city": u["city_name"], "compound": u["name"],
                                                    "building": u["building_no"], "unit": u["room_no"]})
    assert r.status_code == 200, r.text
    assert u["unit_id"] in [x["unit_id"] for x in r.json()["results"]]
    # one character dropped from the name, building without 号楼, city by code: still found
    name = u["name"][:-1] if len(u["name"]) > 3 else u["name"]
    r = client.get("/v1/properties/search", params={"city": u["city_code"], "compound": name,
                                                    "building": u["building_no"].removesuffix("号楼"),
                                                    "unit": u["room_no"]})
    assert u["unit_id"] in [x["unit_id"] for x in r.json()["results"]]
    r = client.get("/v1/properties/search", params={"city": u["city_name"], "compound": "完全不存在的楼盘名字"})
    assert r.json()["count"] == 0 and r.json()["source"] == "raw_zone"
    # once the property store holds the city, the search reads it and finds the same unit
    service.load_property_store(engine, universe[0], cities=[u["city_code"]])
    r = client.get("/v1/properties/search", params={"city": u["city_name"], "compound": name,
                                                    "building": u["building_no"], "unit": u["room_no"]})
    assert r.json()["source"] == "store" and u["unit_id"] in [x["unit_id"] for x in r.json()["results"]]


def test_valuations_and_bad_requests(api: tuple, universe: tuple) -> None:
    client, _, _ = api
    u = _a_unit(universe[0])
    r = client.post("/v1/valuations", json={"unit_id": u["unit_id"], "as_of": ON})
    assert r.status_code == 200, r.text
    v = r.json()
    assert v["subject"] == u["unit_id"] and v["model_version"] == universe[1].version
    assert (v["value"] is None) == (v["reason"] is not None)
    r = client.post("/v1/valuations", json={"compound": u["compound_id"], "area": 88.0, "floor": 5,
                                            "total_floors": 18, "as_of": ON})
    assert r.status_code == 200 and r.json()["as_of"] == ON
    _problem(client.post("/v1/valuations", json={"unit_id": "NOPE-1"}), 404, "unknown_unit")
    _problem(client.post("/v1/valuations", json={"compound": "C9999999", "area": 80.0}), 404, "unknown_compound")
    _problem(client.post("/v1/valuations", json={"compound": u["compound_id"], "area": 0}), 422, "area_out_of_range")
    _problem(client.post("/v1/valuations", json={"compound": u["compound_id"], "area": 1e7}), 422,
             "area_out_of_range")
    _problem(client.post("/v1/valuations", json={"unit_id": u["unit_id"], "as_of": "2026-12-31"}), 422,
             "valuation_date_in_future")


def _valued_unit(model: Avm, home: Path) -> str:
    """The first unit (area > 60 m²) the model values with a confidence of at least 80."""
    units = pl.read_parquet(str(home / "raw" / "property_units" / "*.parquet")).filter(pl.col("area") > 60)
    for uid in units["unit_id"].head(50):
        v = model.value(lookup_unit(home, uid), date.fromisoformat(ON), today=TODAY)
        if v.valued and (v.confidence or 0) >= 80:
            return str(uid)
    raise AssertionError("no confidently valued unit among the first 50")


def test_application_registration_view_and_revalue(api: tuple, universe: tuple, sqlite_url: str) -> None:
    client, engine, registry = api
    home, model = universe
    uid = _valued_unit(model, home)
    body = {"application_no": f"APP-API-{next(_n)}", "borrower_id": "110101199001011234", "unit_id": uid,
            "existing_mortgage": "0", "terms": {"valid_from": ON, "valid_to": "2029-11-15", "annual_rate": "0.0395",
                                                "methods": ["revolving"], "max_term_months": 12},
            "contract_text": "最高额抵押借款合同", "signer": "张三", "signed_at": "2026-11-16T10:00:00+08:00",
            "business_date": ON}
    _problem(client.post("/v1/collateral/applications", json=body), 400, "idempotency_key_required")
    _problem(client.post("/v1/collateral/applications", json={**body, "unit_id": "NOPE-1"},
                         headers={"Idempotency-Key": "app-x1"}), 404, "unknown_unit")
    _problem(client.post("/v1/collateral/applications", json={**body, "business_date": "2026-12-01"},
                         headers={"Idempotency-Key": "app-x2"}), 422, "date_in_future")
    _problem(client.post("/v1/collateral/applications", json={**body, "terms": {**body["terms"], "limit": "1"}},
                         headers={"Idempotency-Key": "app-x3"}), 422, "limit_in_terms")
    r = client.post("/v1/collateral/applications", json=body, headers={"Idempotency-Key": "app-1"})
    assert r.status_code == 201, r.text
    out = r.json()
    assert out["decision"]["outcome"] == "approve"
    value = float(out["valuation"]["value"])
    limit = float(out["decision"]["limit"])
    assert 0 < limit <= value * 0.70 and limit % 1000 == 0
    mid = out["mortgage"]["mortgage_id"]
    replay = client.post("/v1/collateral/applications", json=body, headers={"Idempotency-Key": "app-1"})
    assert replay.headers.get("Idempotent-Replayed") == "true"
    # not registered yet: no line
    reg = client.post(f"/v1/collateral/mortgages/{mid}/registration", json={})
    assert reg.status_code == 200 and reg.json()["status"] == "pending" and reg.json()["line_id"] is None
    registry.approve(out["mortgage"]["registry_application_no"], date.fromisoformat(ON))
    reg = client.post(f"/v1/collateral/mortgages/{mid}/registration", json={})
    line_id = reg.json()["line_id"]
    assert reg.json()["status"] == "registered" and line_id
    view = client.get(f"/v1/collateral/lines/{line_id}").json()
    assert view["breach"] is False and view["mortgage"]["mortgage_id"] == mid
    _problem(client.get("/v1/collateral/lines/99999"), 404, "line_collateral_not_found")
    _problem(client.get("/v1/collateral/mortgages/99999"), 404, "mortgage_not_found")
    # release over HTTP: needs a key; the never-drawn line closes and the mortgage is released
    _problem(client.post(f"/v1/collateral/mortgages/{mid}/release", json={"reason": "结清"}), 400,
             "idempotency_key_required")
    # re-mark with the real model: values again, no breach right after origination
    res = revalue_all(engine, model, as_of=date(2026, 11, 20), today=TODAY, progress=False)
    assert res.pledged == 1 and res.valued + res.no_value == 1 and res.errors == 0
    # the batch path (value_frame) gives exactly the single-unit answer
    single = model.value(lookup_unit(home, uid), date(2026, 11, 20), today=TODAY)
    got = client.get(f"/v1/collateral/mortgages/{mid}").json()
    assert got["last_value"] == (None if single.value is None else str(single.value.amount))
    assert got["last_valued_on"] == "2026-11-20"
    with pytest.raises(ValidationError):
        revalue_all(engine, model, as_of=date(2026, 12, 1), today=TODAY, progress=False)
    # the command: same job through Typer, on its own model folder and database URL — a re-run skips
    app = typer.Typer()
    app.command()(revalue)
    app.command("noop")(lambda: None)
    cli = CliRunner().invoke(app, ["revalue", "--as-of", "2026-11-20", "--home", str(home),
                                   "--database-url", sqlite_url])
    assert cli.exit_code == 0, cli.output
    assert "re-marked as of 2026-11-20" in cli.output
    bad = CliRunner().invoke(app, ["revalue", "--as-of", "2026-13-01", "--home", str(home),
                                   "--database-url", sqlite_url])
    assert bad.exit_code == 2
    rel = client.post(f"/v1/collateral/mortgages/{mid}/release", json={"reason": "客户结清"},
                      headers={"Idempotency-Key": "rel-1"})
    assert rel.status_code == 200, rel.text
    assert rel.json()["status"] == "released" and rel.json()["released_on"] == ON
    assert client.get(f"/v1/lending/lines/{line_id}").json()["status"] == "closed"


def test_no_registry_configured_is_a_configuration_problem(api: tuple, server: tuple) -> None:
    client, _, _ = api
    app, _ = server
    app.state.collateral_registry = None
    r = client.post("/v1/collateral/mortgages/1/registration", json={})
    assert r.status_code == 503 and r.json()["code"] == "registry_not_configured"
