"""The model registry HTTP API: a thin FastAPI router over `puhui.models.registry`.

Routes under `/v1/models`: list versions (optionally of one name and state), one name's versions with its
champion, one version with its full metadata, the champion, the life-cycle events, and the two actions
a risk officer takes — promote a candidate and roll back to the previous champion — plus retire and the
shadow switch. Every POST requires an `Idempotency-Key` header and names its actor in `X-Actor` (the
`get_actor` dependency), exactly as the lending API does; a replay answers the stored body with
`Idempotent-Replayed: true`. Errors are RFC 9457 problem+json: an unknown name or version is 404
(`unknown_model`, `unknown_version`), promoting a retired or the current champion 409 (`version_retired`,
`already_champion`), rolling back with no previous champion 409 (`no_previous_champion`).
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Query
from fastapi.responses import JSONResponse
from pydantic import BaseModel, ConfigDict, Field

from puhui.api.deps import ActorDep, EngineDep, KeyHeader, require_idempotency_key, respond
from puhui.core.errors import NotFound
from puhui.models import registry

__all__ = ["router"]

router = APIRouter(prefix="/v1/models", tags=["models"])


class ModelActionBody(BaseModel):
    model_config = ConfigDict(extra="forbid")

    reason: str = Field(min_length=1, max_length=2000, description="Why (kept in the audit trail).")


class ShadowSwitchBody(ModelActionBody):
    on: bool = Field(description="Shadow-score this candidate beside the champion?")


def _key(key: str | None) -> str:
    return require_idempotency_key(key, "this endpoint changes which model decides")


@router.get("")
def list_versions(engine: EngineDep, name: Annotated[str | None, Query()] = None,
                  state: Annotated[str | None, Query()] = None) -> dict[str, Any]:  # fmt: skip
    """Registered versions (without the full metadata), by name then sequence."""
    return {"versions": [m.to_json() for m in registry.list_versions(engine, name, state=state)]}


@router.get("/{name}")
def get_name(name: str, engine: EngineDep) -> dict[str, Any]:
    """One model name: its versions and its champion (null when none has been promoted)."""
    versions = registry.list_versions(engine, name)
    champ = next((m.version for m in versions if m.state == "champion"), None)
    return {"name": name, "champion": champ, "versions": [m.to_json() for m in versions]}


@router.get("/{name}/champion")
def get_champion(name: str, engine: EngineDep) -> dict[str, Any]:
    """The champion with its metadata (404 `no_champion` when none)."""
    champ = registry.champion(engine, name)
    if champ is None:
        registry.list_versions(engine, name)  # 404 unknown_model first
        raise NotFound(f"{name} has no champion", code="no_champion", name=name)
    return champ.to_json(with_metadata=True)


@router.get("/{name}/events")
def get_events(name: str, engine: EngineDep) -> dict[str, Any]:
    """Register, promote, rollback, retire and shadow events, oldest first."""
    return {"name": name, "events": registry.events(engine, name)}


@router.get("/{name}/versions/{version}")
def get_version(name: str, version: str, engine: EngineDep) -> dict[str, Any]:
    """One version with its full metadata (features, bins, training fingerprint, metrics, reference)."""
    return registry.get(engine, name, version).to_json(with_metadata=True)


@router.post("/{name}/versions/{version}/promote")
def promote(name: str, version: str, body: ModelActionBody, engine: EngineDep, actor: ActorDep,
            key: KeyHeader = None) -> JSONResponse:  # fmt: skip
    """晋升: make a candidate the champion; the previous champion is retired."""
    return respond(registry.promote(engine, name, version, actor=actor, reason=body.reason,
                                    idempotency_key=_key(key)))  # fmt: skip


@router.post("/{name}/rollback")
def rollback(name: str, body: ModelActionBody, engine: EngineDep, actor: ActorDep,
             key: KeyHeader = None) -> JSONResponse:  # fmt: skip
    """回滚: bring back the previous champion; the current one is retired."""
    return respond(registry.rollback(engine, name, actor=actor, reason=body.reason, idempotency_key=_key(key)))


@router.post("/{name}/versions/{version}/retire")
def retire(name: str, version: str, body: ModelActionBody, engine: EngineDep, actor: ActorDep,
           key: KeyHeader = None) -> JSONResponse:  # fmt: skip
    """Retire a candidate (the champion is replaced by promote or rollback, not retired)."""
    return respond(registry.retire(engine, name, version, actor=actor, reason=body.reason,
                                   idempotency_key=_key(key)))  # fmt: skip


@router.post("/{name}/versions/{version}/shadow")
def shadow(name: str, version: str, body: ShadowSwitchBody, engine: EngineDep, actor: ActorDep,
           key: KeyHeader = None) -> JSONResponse:  # fmt: skip
    """Switch a candidate's shadow scoring beside the champion on or off."""
    return respond(registry.set_shadow(engine, name, version, body.on, actor=actor, reason=body.reason,
                                       idempotency_key=_key(key)))  # fmt: skip
