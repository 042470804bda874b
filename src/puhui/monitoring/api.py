"""The early-warning HTTP API: a thin FastAPI router over `puhui.monitoring.service` under `/v1/alerts`.

`GET /v1/alerts` lists alerts with filters (tier, status — `live` for every status but closed — uscc,
as_of, source; limit/offset), most severe first; `GET /v1/alerts/{id}` is one alert with its actions;
`POST /v1/alerts/{id}/acknowledge` and `POST /v1/alerts/{id}/close` are a credit officer's work on the
queue (the acting party from `X-Actor`), each **requiring an `Idempotency-Key`** (400 without it; a replay
answers the stored body with `Idempotent-Replayed: true`). Bad input answers RFC 9457 problem+json:
an unknown tier, status or closure code, a missing reason 422; an unknown alert 404; closing a closed
alert or acknowledging twice 409.
"""

from __future__ import annotations

from datetime import date
from enum import StrEnum
from typing import Annotated, Any

from fastapi import APIRouter, Query
from fastapi.responses import JSONResponse
from pydantic import BaseModel, ConfigDict, Field

from puhui.api.deps import ActorDep, EngineDep, KeyHeader, require_idempotency_key, respond
from puhui.monitoring import service

__all__ = ["router"]

router = APIRouter(prefix="/v1/alerts", tags=["monitoring"])


class TierParam(StrEnum):
    yellow = "yellow"
    orange = "orange"
    red = "red"


class StatusParam(StrEnum):
    open = "open"
    acknowledged = "acknowledged"
    actioned = "actioned"
    closed = "closed"
    live = "live"


class SourceParam(StrEnum):
    signal = "signal"
    contagion = "contagion"
    manual = "manual"


class CloseCode(StrEnum):
    false_positive = "false_positive"
    confirmed = "confirmed"
    resolved = "resolved"


class Acknowledge(BaseModel):
    model_config = ConfigDict(extra="forbid")

    reason: str = Field(min_length=1, max_length=500, description="What the officer saw or will do.")
    business_date: date | None = None


class Close(Acknowledge):
    code: CloseCode = Field(CloseCode.resolved, description="false_positive | confirmed | resolved (feeds the "
                                                           "signal's precision).")


def _key(key: str | None) -> str:
    return require_idempotency_key(key, "this endpoint changes an alert")


@router.get("")
def list_alerts(
    engine: EngineDep,
    tier: Annotated[TierParam | None, Query()] = None,
    status: Annotated[StatusParam | None, Query()] = None,
    uscc: Annotated[str | None, Query(min_length=1, max_length=64)] = None,
    as_of: Annotated[date | None, Query(description="Alerts whose span (first as-of … last seen) has this date.")]
    = None,
    source: Annotated[SourceParam | None, Query()] = None,
    limit: Annotated[int, Query(ge=1, le=1000)] = 100,
    offset: Annotated[int, Query(ge=0)] = 0,
) -> dict[str, Any]:
    """预警列表: alerts matching the filters, most severe and newest first, with the total count."""
    return service.list_alerts(engine, tier=tier.value if tier else None, status=status.value if status else None,
                               uscc=uscc, as_of=as_of, source=source.value if source else None, limit=limit,
                               offset=offset)


@router.get("/{alert_id}")
def get_alert(alert_id: int, engine: EngineDep) -> dict[str, Any]:
    """One alert with its evidence and every action taken on it."""
    return service.get_alert(engine, alert_id)


@router.post("/{alert_id}/acknowledge")
def acknowledge(alert_id: int, body: Acknowledge, engine: EngineDep, actor: ActorDep,
                key: KeyHeader = None) -> JSONResponse:
    """确认: the officer has seen the alert."""
    return respond(service.do_acknowledge(engine, alert_id, actor=actor, reason=body.reason,
                                          on=body.business_date, idempotency_key=_key(key)))


@router.post("/{alert_id}/close")
def close(alert_id: int, body: Close, engine: EngineDep, actor: ActorDep, key: KeyHeader = None) -> JSONResponse:
    """关闭 with a closure code and a reason."""
    return respond(service.do_close(engine, alert_id, actor=actor, reason=body.reason, code=body.code.value,
                                    on=body.business_date, idempotency_key=_key(key)))
