"""The records HTTP API: decision records and policy versions (a thin router over `records` and `policies`).

- `GET /v1/decisions/{id}`: the full decision record (inputs snapshot, policy and model versions, every
  rule's result, reasons, offer); `GET /v1/decisions/{id}/replay`: decide again and compare.
- `GET /v1/policies` (filters `scenario_id`, `state`), `GET /v1/policies/{id}` (with the YAML text),
  `POST /v1/policies` (draft from YAML text: 201 new, 200 when the same content exists),
  `POST /v1/policies/{id}/approve` (四眼: the actor must not be the author, else 422
  `four_eyes_violation`), `POST /v1/policies/{id}/activate` (`role`, `traffic_share` for a challenger),
  `POST /v1/scenarios/{id}/rollback` (409 `no_previous_version` when there is nothing to roll back to).

The acting party is `get_actor` (the `X-Actor` header until authentication overrides it); errors are the
app's problem+json with a stable `code`. Policy actions are idempotent by state (drafting the same content,
approving or activating twice answer the current row), so they take no Idempotency-Key.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from fastapi import APIRouter, Query
from fastapi.responses import JSONResponse
from pydantic import BaseModel, ConfigDict, Field

from puhui.api.deps import ActorDep, EngineDep
from puhui.decisioning import policies, records

__all__ = ["router"]

router = APIRouter(tags=["decision records"])


class DraftBody(BaseModel):
    model_config = ConfigDict(extra="forbid")

    yaml_text: str = Field(min_length=1, description="The scenario policy as YAML text.")
    note: str | None = Field(None, max_length=2000)


class ActivateBody(BaseModel):
    model_config = ConfigDict(extra="forbid")

    role: Literal["champion", "challenger"] = "champion"
    traffic_share: str | None = Field(None, description="Challenger share of enterprises in (0, 1), e.g. \"0.1\".")


@router.get("/v1/decisions/{decision_id}")
def get_decision(decision_id: int, engine: EngineDep) -> dict[str, Any]:
    """决策记录: everything the decision read and concluded."""
    return records.get_decision(engine, decision_id)


@router.get("/v1/decisions/{decision_id}/replay")
def replay_decision(decision_id: int, engine: EngineDep) -> dict[str, Any]:
    """Re-run the decision from its record and say whether it comes out the same."""
    return records.replay_decision(engine, decision_id)


@router.get("/v1/policies")
def list_policies(engine: EngineDep, scenario_id: Annotated[str | None, Query()] = None,
                  state: Annotated[str | None, Query()] = None) -> list[dict[str, Any]]:
    return policies.list_policies(engine, scenario_id=scenario_id, state=state)


@router.get("/v1/policies/{policy_id}")
def get_policy(policy_id: int, engine: EngineDep) -> dict[str, Any]:
    return policies.get_policy(engine, policy_id)


@router.post("/v1/policies", status_code=201)
def draft_policy(body: DraftBody, engine: EngineDep, actor: ActorDep) -> JSONResponse:
    """起草: a new draft version (201), or the existing version of the same content (200)."""
    row = policies.draft_policy(engine, body.yaml_text, author=actor, source="api", note=body.note)
    return JSONResponse(row, status_code=201 if row["created"] else 200)


@router.post("/v1/policies/{policy_id}/approve")
def approve_policy(policy_id: int, engine: EngineDep, actor: ActorDep) -> dict[str, Any]:
    return policies.approve_policy(engine, policy_id, approver=actor)


@router.post("/v1/policies/{policy_id}/activate")
def activate_policy(policy_id: int, engine: EngineDep, actor: ActorDep,
                    body: ActivateBody | None = None) -> dict[str, Any]:
    b = body or ActivateBody()
    return policies.activate_policy(engine, policy_id, actor=actor, role=b.role, traffic_share=b.traffic_share)


@router.post("/v1/scenarios/{scenario_id}/rollback")
def rollback(scenario_id: str, engine: EngineDep, actor: ActorDep) -> dict[str, Any]:
    """回滚: back to the scenario's previous active version."""
    return policies.rollback(engine, scenario_id, actor=actor)
