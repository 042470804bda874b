"""The online-journey HTTP API: consents, limit estimates, applications, acceptance, the review queue.

A thin router over `consents`, `journey` and `review`:

- `POST /v1/consents` (201; purposes by name and/or `scenario_id`: the purposes that scenario needs),
  `POST /v1/consents/{id}/revoke`, `GET /v1/enterprises/{uscc}/consents`.
- `POST /v1/limit-estimates` (201, 在线测额: an indicative range, no bureau query, recorded as channel
  `estimate`).
- `POST /v1/applications` (201; **Idempotency-Key required**), `GET /v1/applications/{id}`,
  `POST /v1/applications/{id}/accept` (200; **Idempotency-Key required**: contract + credit line).
- `GET /v1/preapproved-offers` (open pre-approval offers, largest first: whom to invite).
- `GET /v1/review-cases`, `GET /v1/review-cases/{id}`, `POST /v1/review-cases/{id}/assign | approve |
  decline` (the acting officer is the `X-Actor` principal; approve and decline are for the assignee only).

Drawdowns and repayments on the line then go through `/v1/lending`. Dates default to the open business
date of the lending core, else today (Asia/Shanghai) on the indicator engine's clock. Errors are the app's
RFC 9457 problem+json with a stable `code`; bad input is always a 4xx and writes nothing. The indicator
engine is `puhui.indicators.api.get_engine` (one per PUHUI_HOME; tests override the dependency).
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query
from fastapi.responses import JSONResponse
from pydantic import BaseModel, ConfigDict, Field
from sqlalchemy import Engine

from puhui.api.deps import ActorDep, EngineDep, KeyHeader, require_idempotency_key, respond
from puhui.decisioning import consents, journey, review
from puhui.indicators.api import get_engine as get_online_engine
from puhui.indicators.online import OnlineEngine

__all__ = ["router"]

router = APIRouter(prefix="/v1", tags=["online journey"])

OnlineDep = Annotated[OnlineEngine, Depends(get_online_engine)]
AmountText = Annotated[str | int, Field(description="Yuan as a string ('300000.00') or an integer; never a float.")]


def _today(engine: Engine, online: OnlineEngine, given: date | None) -> date:
    if given is not None:
        return given
    from puhui.lending.service import business_date

    opened = business_date(engine)["open_date"]
    return date.fromisoformat(opened) if opened is not None else online.clock.today()


class _Body(BaseModel):
    model_config = ConfigDict(extra="forbid")


class GrantConsents(_Body):
    uscc: str = Field(description="统一社会信用代码 of the enterprise.")
    purposes: list[str] = Field(default_factory=list, description="Consent purposes, e.g. tax_data, credit_bureau.")
    scenario_id: str | None = Field(None, description="Also grant every purpose this scenario needs.")
    granted_by: str = Field(description="Who signs for the enterprise (name and role).")
    expires_on: date
    signer_id_number: str | None = Field(
        None, description="The signer's ID number: validated, hashed, answered masked."
    )
    evidence_text: str | None = Field(None, description="The authorisation text shown (its SHA-256 is kept).")
    business_date: date | None = None


class Revoke(_Body):
    reason: str
    business_date: date | None = None


class EstimateBody(_Body):
    uscc: str
    scenario_id: str
    as_of: date | None = Field(None, description="Decision date; default the open business date / today.")


class ApplyBody(EstimateBody):
    requested_amount: AmountText


class AcceptBody(_Body):
    signer: str = Field(description="Who e-signs for the borrower (name and role).")
    signed_at: datetime | None = Field(None, description="The signing instant from the e-signature service.")
    business_date: date | None = None


class AssignBody(_Body):
    assignee: str
    business_date: date | None = None


class ApproveBody(_Body):
    reason: str
    limit: AmountText | None = Field(None, description="At most the provisional limit; default min(requested, it).")
    business_date: date | None = None


class DeclineBody(_Body):
    reason: str
    business_date: date | None = None


# ---- consents ---------------------------------------------------------------------------------------------


@router.post("/consents", status_code=201)
def grant_consents(body: GrantConsents, engine: EngineDep, online: OnlineDep, actor: ActorDep,
                   key: KeyHeader = None) -> JSONResponse:  # fmt: skip
    """授权: one consent per purpose, until `expires_on`."""
    from puhui.core.identifiers import validate_uscc

    day = _today(engine, online, body.business_date)
    scenario_purposes = None
    if body.scenario_id is not None:
        scenario, _ = journey.policy_for(engine, body.scenario_id, validate_uscc(body.uscc))
        scenario_purposes = scenario.consent_purposes
    return respond(consents.do_grant_consents(
        engine, uscc=body.uscc, purposes=body.purposes, scenario_purposes=scenario_purposes,
        granted_by=body.granted_by, expires_on=body.expires_on, on=day, signer_id_number=body.signer_id_number,
        evidence_text=body.evidence_text, actor=actor, idempotency_key=key))  # fmt: skip


@router.post("/consents/{consent_id}/revoke")
def revoke_consent(consent_id: int, body: Revoke, engine: EngineDep, online: OnlineDep, actor: ActorDep,
                   key: KeyHeader = None) -> JSONResponse:  # fmt: skip
    """撤回授权."""
    return respond(
        consents.do_revoke_consent(
            engine,
            consent_id,
            on=_today(engine, online, body.business_date),
            reason=body.reason,
            actor=actor,
            idempotency_key=key,
        )
    )


@router.get("/enterprises/{uscc}/consents")
def enterprise_consents(uscc: str, engine: EngineDep, online: OnlineDep,
                        on: Annotated[date | None, Query()] = None) -> dict[str, Any]:  # fmt: skip
    """An enterprise's consents with their status on `on`."""
    return consents.list_consents(engine, uscc, on=_today(engine, online, on))


# ---- estimate, application, acceptance ----------------------------------------------------------------------


@router.post("/limit-estimates", status_code=201)
def limit_estimate(body: EstimateBody, engine: EngineDep, online: OnlineDep, actor: ActorDep,
                   key: KeyHeader = None) -> JSONResponse:  # fmt: skip
    """在线测额: an indicative limit and rate range; no credit-bureau query, not an offer."""
    return respond(
        journey.estimate(
            engine, online, body.uscc, body.scenario_id, _today(engine, online, body.as_of), actor=actor, key=key
        )
    )


@router.post("/applications", status_code=201)
def apply(body: ApplyBody, engine: EngineDep, online: OnlineDep, actor: ActorDep,
          key: KeyHeader = None) -> JSONResponse:  # fmt: skip
    """授信申请: decide now — approve (with an offer), decline or refer (to the review queue), with reasons."""
    key = require_idempotency_key(key, "an application is recorded once")
    return respond(
        journey.apply(
            engine,
            online,
            body.uscc,
            body.scenario_id,
            body.requested_amount,
            _today(engine, online, body.as_of),
            actor,
            key,
        )
    )


@router.get("/applications/{application_id}")
def get_application(application_id: int, engine: EngineDep, online: OnlineDep,
                    on: Annotated[date | None, Query()] = None) -> dict[str, Any]:  # fmt: skip
    return journey.get_application(engine, application_id, on=_today(engine, online, on))


@router.post("/applications/{application_id}/accept")
def accept(application_id: int, body: AcceptBody, engine: EngineDep, actor: ActorDep,
           key: KeyHeader = None) -> JSONResponse:  # fmt: skip
    """签约: the e-signed contract and the credit line from the application's offer."""
    key = require_idempotency_key(key, "acceptance signs a contract and opens a line once")
    return respond(
        journey.accept(
            engine, application_id, body.signer, key, on=body.business_date, signed_at=body.signed_at, actor=actor
        )
    )


@router.get("/preapproved-offers")
def preapproved_offers(engine: EngineDep, scenario_id: Annotated[str | None, Query()] = None,
                       limit: Annotated[int, Query(ge=1, le=500)] = 10) -> list[dict[str, Any]]:  # fmt: skip
    """Open pre-approval offers (主动授信), largest first."""
    return journey.preapproved_offers(engine, scenario_id=scenario_id, limit=limit)


# ---- review queue -------------------------------------------------------------------------------------------


@router.get("/review-cases")
def review_cases(engine: EngineDep, status: Annotated[str | None, Query()] = None,
                 assignee: Annotated[str | None, Query()] = None,
                 limit: Annotated[int, Query(ge=1, le=1000)] = 100) -> list[dict[str, Any]]:  # fmt: skip
    """The queue: open and assigned cases, oldest first (or by `status`, `assignee`)."""
    return review.list_cases(engine, status=status, assignee=assignee, limit=limit)


@router.get("/review-cases/{case_id}")
def review_case(case_id: int, engine: EngineDep) -> dict[str, Any]:
    return review.get_case(engine, case_id)


@router.post("/review-cases/{case_id}/assign")
def assign_case(case_id: int, body: AssignBody, engine: EngineDep, online: OnlineDep, actor: ActorDep,
                key: KeyHeader = None) -> JSONResponse:  # fmt: skip
    return respond(
        review.do_assign_case(
            engine,
            case_id,
            assignee=body.assignee,
            actor=actor,
            on=_today(engine, online, body.business_date),
            idempotency_key=key,
        )
    )


@router.post("/review-cases/{case_id}/approve")
def approve_case(case_id: int, body: ApproveBody, engine: EngineDep, online: OnlineDep, actor: ActorDep,
                 key: KeyHeader = None) -> JSONResponse:  # fmt: skip
    """核准 by the assignee, with a reason; the limit may be lowered, never raised."""
    return respond(
        review.do_approve_case(
            engine,
            case_id,
            actor=actor,
            reason=body.reason,
            limit=body.limit,
            on=_today(engine, online, body.business_date),
            idempotency_key=key,
        )
    )


@router.post("/review-cases/{case_id}/decline")
def decline_case(case_id: int, body: DeclineBody, engine: EngineDep, online: OnlineDep, actor: ActorDep,
                 key: KeyHeader = None) -> JSONResponse:  # fmt: skip
    """否决 by the assignee, with a reason."""
    return respond(
        review.do_decline_case(
            engine,
            case_id,
            actor=actor,
            reason=body.reason,
            on=_today(engine, online, body.business_date),
            idempotency_key=key,
        )
    )
