"""The collateral HTTP API: property search, valuation requests, the collateral line application, the
mortgage's registration and release, and a line's collateral view — a thin router over the AVM and
`puhui.collateral.service`.

Routes: `GET /v1/properties/search` (city + compound name, fuzzy + building + unit), `POST /v1/valuations`
(a unit by id, or a compound + attributes), `POST /v1/collateral/applications`, `GET /v1/collateral/
mortgages/{id}`, `POST /v1/collateral/mortgages/{id}/registration` (poll the registry; opens the line once
registered), `POST /v1/collateral/mortgages/{id}/release`, `GET /v1/collateral/lines/{line_id}`.

What it needs from the app: the engine (`app.state.engine`, as every router), the fitted AVM
(`app.state.avm`, else loaded once from `<PUHUI_HOME>/models/avm`), the property raw zone
(`app.state.puhui_home`, else the configured home) and the real-estate registry adapter
(`app.state.collateral_registry`; no default — a bank must configure its registry, so the application
endpoints answer 503 `registry_not_configured` until it does). Errors are problem+json through the
`PuhuiError` handler: unknown unit/compound 404, area ≤ 0 or absurd 422, a date in the future 422. The
address search reads the property store once it is loaded (`service.load_property_store`), else the raw
zone with DuckDB (same answer shape; the store scores names with difflib, the raw zone with Jaro-Winkler).
"""

from __future__ import annotations

from datetime import date, datetime, timedelta, timezone
from pathlib import Path
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import JSONResponse
from pydantic import BaseModel, ConfigDict, Field

from puhui.api.deps import ActorDep, EngineDep, KeyHeader, require_idempotency_key
from puhui.api.deps import respond as _respond
from puhui.collateral import service
from puhui.core.errors import NotFound, ServiceUnavailable, ValidationError
from puhui.lending import service as lending

__all__ = ["get_avm", "get_home", "get_registry", "router", "search_properties"]

router = APIRouter(tags=["collateral"])

_CST = timezone(timedelta(hours=8))
_FUZZY_MIN = 0.80  # Jaro-Winkler similarity accepted for a compound name


def _today(request: Request) -> date:
    fixed = getattr(request.app.state, "today", None)  # tests and replays pin the clock
    return fixed if isinstance(fixed, date) else datetime.now(_CST).date()


def get_home(request: Request) -> Path:
    home = getattr(request.app.state, "puhui_home", None)
    if home is None:
        from puhui.config import paths

        home = paths().home
        request.app.state.puhui_home = home
    return Path(home)


def get_avm(request: Request) -> Any:
    model = getattr(request.app.state, "avm", None)
    if model is None:
        from puhui.collateral.avm import load

        model = load(get_home(request) / "models" / "avm")
        request.app.state.avm = model
    return model


def get_registry(request: Request) -> Any:
    reg = getattr(request.app.state, "collateral_registry", None)
    if reg is None:
        raise ServiceUnavailable("no real-estate registry adapter is configured (app.state.collateral_registry)",
                                 code="registry_not_configured")
    return reg


HomeDep = Annotated[Path, Depends(get_home)]
AvmDep = Annotated[Any, Depends(get_avm)]
RegistryDep = Annotated[Any, Depends(get_registry)]



# ---- property search ---------------------------------------------------------------------------------


def search_properties(home: Path, *, city: str, compound: str, building: str | None = None,
                      unit: str | None = None, limit: int = 20) -> list[dict[str, Any]]:
    """Units (or compounds, without building/unit) matching an address: the city by code or name, the
    compound name fuzzily (Jaro-Winkler ≥ 0.80, or containment), the building as '1' or '1号楼', the unit
    by room number ('1203' or '1203室'). Best matches first."""
    import duckdb

    raw = Path(home) / "raw"
    srcs = {s: raw / s for s in ("property_cities", "property_compounds", "property_buildings", "property_units")}
    for name, folder in srcs.items():
        if not any(folder.glob("*.parquet")):
            raise NotFound(f"source {name} has no data under {raw}", code="source_not_found", source=name)
    q = compound.strip()
    if not q or not city.strip():
        raise ValidationError("city and compound are required", code="missing_address", field="compound")
    b = None if building is None else building.strip().removesuffix("号楼").removesuffix("栋").removesuffix("幢")
    u = None if unit is None else unit.strip().removesuffix("室")
    c = city.strip().removesuffix("市")
    p = {k: str(v / "*.parquet") for k, v in srcs.items()}
    con = duckdb.connect()
    try:
        comps = f"""
            SELECT c.compound_id, c.name, c.city_code, ci.city_name, c.district_code,
                   CASE WHEN contains(c.name, $q) OR contains($q, c.name) THEN 1.0
                        ELSE jaro_winkler_similarity(c.name, $q) END AS score
            FROM read_parquet('{p['property_compounds']}') c
            JOIN read_parquet('{p['property_cities']}') ci USING (city_code)
            WHERE (ci.city_code = $c OR ci.city_name = $c)
        """
        if b is None and u is None:
            sql = f"SELECT * FROM ({comps}) WHERE score >= {_FUZZY_MIN} ORDER BY score DESC, compound_id LIMIT $n"
        else:
            sql = f"""
                SELECT m.*, bl.building_no, un.unit_id, un.room_no, un.floor, un.total_floors, un.area
                FROM ({comps}) m
                JOIN read_parquet('{p['property_buildings']}') bl USING (compound_id)
                JOIN read_parquet('{p['property_units']}') un USING (building_id)
                WHERE m.score >= {_FUZZY_MIN}
                  AND ($b IS NULL OR bl.building_no = $b OR bl.building_no = $b || '号楼')
                  AND ($u IS NULL OR un.room_no = $u)
                ORDER BY m.score DESC, un.unit_id LIMIT $n
            """
        params: dict[str, Any] = {"q": q, "c": c, "n": limit}
        if b is not None or u is not None:
            params |= {"b": b, "u": u}
        cur = con.execute(sql, params)
        cols = [d[0] for d in cur.description]
        return [dict(zip(cols, r, strict=True)) | {"score": round(float(r[cols.index("score")]), 3)}
                for r in cur.fetchall()]
    finally:
        con.close()


@router.get("/v1/properties/search")
def search(
    home: HomeDep,
    engine: EngineDep,
    city: Annotated[str, Query(description="City code (110000) or name (北京).")],
    compound: Annotated[str, Query(description="Compound (小区) name; fuzzy.")],
    building: Annotated[str | None, Query(description="Building number ('1' or '1号楼').")] = None,
    unit: Annotated[str | None, Query(description="Room number ('1203').")] = None,
    limit: Annotated[int, Query(ge=1, le=200)] = 20,
) -> dict[str, Any]:
    if service.has_property_store(engine):
        rows = service.search_units(engine, city=city, compound=compound, building=building, unit=unit, limit=limit)
        source = "store"
    else:
        rows = search_properties(home, city=city, compound=compound, building=building, unit=unit, limit=limit)
        source = "raw_zone"
    return {"results": rows, "count": len(rows), "source": source}


# ---- valuations --------------------------------------------------------------------------------------


class UnitAttributes(BaseModel):
    model_config = ConfigDict(extra="forbid")

    unit_id: str | None = Field(None, description="A unit of the property database; or give compound + area.")
    compound: str | None = None
    area: float | None = Field(None, description="Gross floor area (建筑面积), m².")
    floor: int | None = None
    total_floors: int | None = None
    elevator: bool | None = None
    build_year: int | None = None
    rooms: int | None = None
    halls: int | None = None
    orientation: str | None = None
    decoration: str | None = None
    building_type: str | None = None


class ValuationRequest(UnitAttributes):
    as_of: date | None = Field(None, description="Valuation date; default today (China time).")


def _subject(home: Path, body: UnitAttributes) -> Any:
    from puhui.collateral.avm import Subject
    from puhui.collateral.evaluate import lookup_unit

    if body.unit_id is not None and body.compound is None:
        return lookup_unit(home, body.unit_id)
    if body.compound is None or body.area is None:
        raise ValidationError("give unit_id, or compound and area", code="missing_subject", field="unit_id")
    return Subject(**body.model_dump(include=set(UnitAttributes.model_fields)))


@router.post("/v1/valuations")
def value_unit(body: ValuationRequest, request: Request, home: HomeDep, model: AvmDep) -> dict[str, Any]:
    """估值: value one unit — value, FSD, confidence score, interval, comparables — or no value and why."""
    today = _today(request)
    as_of = body.as_of or today
    return model.value(_subject(home, body), as_of, today=today).to_dict()


# ---- the collateral line -----------------------------------------------------------------------------


class Application(UnitAttributes):
    application_no: str = Field(max_length=60)
    borrower_id: str
    existing_mortgage: str | int = Field("0", description="Balance of prior mortgages on the unit, yuan.")
    requested: str | int | None = Field(None, description="Requested limit, yuan (default: what is supported).")
    credit_outcome: str | None = Field(None, description="The decisioning engine's answer, where one exists.")
    terms: dict[str, Any] = Field(description="Contract terms without the limit (rate, validity, methods …).")
    contract_text: str
    signer: str
    signed_at: datetime
    business_date: date | None = None


class Release(BaseModel):
    model_config = ConfigDict(extra="forbid")

    reason: str
    business_date: date | None = None


class Poll(BaseModel):
    model_config = ConfigDict(extra="forbid")

    business_date: date | None = None


@router.post("/v1/collateral/applications", status_code=201)
def apply(body: Application, request: Request, engine: EngineDep, actor: ActorDep, home: HomeDep, model: AvmDep,
          registry: RegistryDep, key: KeyHeader = None) -> JSONResponse:
    """抵押贷申请: value the unit on the business date and decide; approved → contract + pending mortgage."""
    k = require_idempotency_key(key, "a collateral application signs a contract")
    on = lending.default_on(engine, body.business_date)
    today = _today(request)
    if on > today:
        raise ValidationError(f"business date {on} is in the future (today is {today})", code="date_in_future",
                              field="business_date")
    attrs = UnitAttributes(**body.model_dump(include=set(UnitAttributes.model_fields)))
    subject = _subject(home, attrs)
    valuation = model.value(subject, on, today=today)
    return _respond(service.do_apply_collateral_line(
        engine, application_no=body.application_no, borrower_id=body.borrower_id, subject=subject,
        valuation=valuation, existing_mortgage=body.existing_mortgage, terms=body.terms,
        contract_text=body.contract_text, signer=body.signer, signed_at=body.signed_at, on=on, registry=registry,
        requested=body.requested, credit_outcome=body.credit_outcome, actor=actor, idempotency_key=k,
    ))  # fmt: skip


@router.get("/v1/collateral/mortgages/{mortgage_id}")
def mortgage(mortgage_id: int, engine: EngineDep) -> dict[str, Any]:
    return service.get_mortgage(engine, mortgage_id)


@router.post("/v1/collateral/mortgages/{mortgage_id}/registration")
def register(mortgage_id: int, body: Poll, engine: EngineDep, actor: ActorDep, registry: RegistryDep) -> JSONResponse:
    """抵押登记: ask the registry; once registered the revolving line opens (民法典 Art 402)."""
    on = lending.default_on(engine, body.business_date)
    return _respond(service.do_register_mortgage(engine, mortgage_id, registry=registry, on=on, actor=actor))


@router.post("/v1/collateral/mortgages/{mortgage_id}/release")
def release(mortgage_id: int, body: Release, engine: EngineDep, actor: ActorDep, registry: RegistryDep,
            key: KeyHeader = None) -> JSONResponse:
    """抵押注销: close the line (nothing outstanding), file the release, mark the mortgage released."""
    k = require_idempotency_key(key, "a mortgage release changes state")
    on = lending.default_on(engine, body.business_date)
    return _respond(service.do_release_mortgage(engine, mortgage_id, registry=registry, on=on, reason=body.reason,
                                                actor=actor, idempotency_key=k))


@router.get("/v1/collateral/lines/{line_id}")
def line_collateral(line_id: int, engine: EngineDep) -> dict[str, Any]:
    """The line's collateral: mortgage, valuation history, LTV against the cap, what the value supports."""
    return service.line_collateral(engine, line_id)
