"""The lending HTTP API: a thin FastAPI router over `puhui.lending.service`.

Routes under `/v1/lending`: contracts (sign, read with verification), credit lines (open, read, statement,
freeze, unfreeze, reduce, close), drawdowns, loans (read, schedule, statement, payoff quote), repayments,
a schedule preview, the business date and the trial balance.

Every POST changes state and **requires an `Idempotency-Key` header** (400 `idempotency_key_required`
without it): a replay answers the stored status and body with `Idempotent-Replayed: true`, the same key
with another body is 422 `idempotency_key_reused`, and a key whose first request is still running is 409
`idempotency_in_flight`. Amounts travel as strings (or integers) of yuan — a JSON fraction would be a
binary float — and errors are RFC 9457 problem+json with a stable `code` (the app's `PuhuiError`
handler). The business date defaults to the open business date; the acting party comes from the
`get_actor` dependency (the `X-Actor` header here; an authenticating app overrides it). The engine comes
from `app.state.engine`, made from the configuration on first use when the app did not set one.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Annotated, Any

from fastapi import APIRouter, Query
from fastapi.responses import JSONResponse
from pydantic import BaseModel, ConfigDict, Field
from sqlalchemy import Engine

from puhui.api.deps import (
    ActorDep,
    EngineDep,
    KeyHeader,
    get_actor,
    get_engine,
    require_idempotency_key,
)
from puhui.api.deps import (
    respond as _respond,
)
from puhui.lending import service

__all__ = ["get_actor", "get_engine", "router"]

router = APIRouter(prefix="/v1/lending", tags=["lending"])

AmountText = Annotated[str | int, Field(description="Yuan as a string ('1234.56') or an integer; never a float.")]







def _key(key: str | None) -> str:
    return require_idempotency_key(key, "this endpoint moves money or changes state")



class _Body(BaseModel):
    model_config = ConfigDict(extra="forbid")

    business_date: date | None = Field(None, description="Business date; default the open business date.")


class SignContract(_Body):
    contract_no: str
    borrower_id: str
    text: str = Field(description="The contract text exactly as signed (its SHA-256 is the evidence).")
    terms: dict[str, Any] = Field(description="Limit, validity, rate, methods, … (see ContractTerms).")
    signer: str
    signed_at: datetime = Field(description="The instant of signing, with its offset.")
    signature: str | None = None
    certificate: str | None = None


class OpenLine(_Body):
    contract_id: int


class LineAction(_Body):
    reason: str


class ReduceLine(_Body):
    limit: AmountText
    reason: str


class Drawdown(_Body):
    amount: AmountText
    term_months: int | None = None
    method: str | None = Field(None, description="One of the contract's methods; default its first.")


class Repayment(_Body):
    amount: AmountText
    kind: str = Field("regular", description="regular | prepayment | payoff")
    mode: str = Field("reduce_instalment", description="prepayment: reduce_instalment | reduce_term")


def _on(engine: Engine, body: _Body) -> date:
    return service.default_on(engine, body.business_date)


@router.post("/contracts", status_code=201)
def sign_contract(body: SignContract, engine: EngineDep, actor: ActorDep, key: KeyHeader = None) -> JSONResponse:
    """签约: store a signed contract and its e-signature evidence."""
    return _respond(service.do_sign_contract(
        engine, contract_no=body.contract_no, borrower_id=body.borrower_id, text=body.text, terms=body.terms,
        signer=body.signer, signed_at=body.signed_at, on=_on(engine, body), actor=actor, signature=body.signature,
        certificate=body.certificate, idempotency_key=_key(key)))


@router.get("/contracts/{contract_id}")
def get_contract(contract_id: int, engine: EngineDep) -> dict[str, Any]:
    """A contract with `verified`: does the stored text still match its signature evidence?"""
    return service.get_contract(engine, contract_id)


@router.post("/lines", status_code=201)
def open_line(body: OpenLine, engine: EngineDep, actor: ActorDep, key: KeyHeader = None) -> JSONResponse:
    """开立额度 from a signed contract."""
    return _respond(service.do_open_line(engine, contract_id=body.contract_id, on=_on(engine, body), actor=actor,
                                         idempotency_key=_key(key)))


@router.get("/lines/{line_id}")
def get_line(line_id: int, engine: EngineDep) -> dict[str, Any]:
    return service.get_line(engine, line_id)


@router.get("/lines/{line_id}/statement")
def line_statement(line_id: int, engine: EngineDep) -> dict[str, Any]:
    """The line, its change log and its loans."""
    return service.line_statement(engine, line_id)


@router.post("/lines/{line_id}/freeze")
def freeze_line(line_id: int, body: LineAction, engine: EngineDep, actor: ActorDep,
                key: KeyHeader = None) -> JSONResponse:
    return _respond(service.do_freeze_line(engine, line_id, on=_on(engine, body), reason=body.reason, actor=actor,
                                           idempotency_key=_key(key)))


@router.post("/lines/{line_id}/unfreeze")
def unfreeze_line(line_id: int, body: LineAction, engine: EngineDep, actor: ActorDep,
                  key: KeyHeader = None) -> JSONResponse:
    return _respond(service.do_unfreeze_line(engine, line_id, on=_on(engine, body), reason=body.reason,
                                             actor=actor, idempotency_key=_key(key)))


@router.post("/lines/{line_id}/reduce")
def reduce_line(line_id: int, body: ReduceLine, engine: EngineDep, actor: ActorDep,
                key: KeyHeader = None) -> JSONResponse:
    return _respond(service.do_reduce_line(engine, line_id, new_limit=body.limit, on=_on(engine, body),
                                           reason=body.reason, actor=actor, idempotency_key=_key(key)))


@router.post("/lines/{line_id}/close")
def close_line(line_id: int, body: LineAction, engine: EngineDep, actor: ActorDep,
               key: KeyHeader = None) -> JSONResponse:
    return _respond(service.do_close_line(engine, line_id, on=_on(engine, body), reason=body.reason, actor=actor,
                                          idempotency_key=_key(key)))


@router.post("/lines/{line_id}/drawdowns", status_code=201)
def drawdown(line_id: int, body: Drawdown, engine: EngineDep, actor: ActorDep,
             key: KeyHeader = None) -> JSONResponse:
    """用信: draw on the line; the response is the new loan with its schedule and the line after it."""
    return _respond(service.do_drawdown(engine, line_id, amount=body.amount, on=_on(engine, body),
                                        term_months=body.term_months, method=body.method, actor=actor,
                                        idempotency_key=_key(key)))


@router.get("/loans/{loan_id}")
def get_loan(loan_id: int, engine: EngineDep,
             business_date: Annotated[date | None, Query()] = None) -> dict[str, Any]:
    return service.get_loan(engine, loan_id, on=business_date)


@router.get("/loans/{loan_id}/schedule")
def loan_schedule(loan_id: int, engine: EngineDep) -> dict[str, Any]:
    return service.loan_schedule(engine, loan_id)


@router.get("/loans/{loan_id}/statement")
def loan_statement(loan_id: int, engine: EngineDep) -> dict[str, Any]:
    return service.loan_statement(engine, loan_id)


@router.get("/loans/{loan_id}/payoff-quote")
def payoff_quote(loan_id: int, engine: EngineDep,
                 business_date: Annotated[date | None, Query()] = None) -> dict[str, Any]:
    return service.payoff_quote(engine, loan_id, on=business_date)


@router.post("/loans/{loan_id}/repayments", status_code=201)
def repay(loan_id: int, body: Repayment, engine: EngineDep, actor: ActorDep,
          key: KeyHeader = None) -> JSONResponse:
    """还款: regular, prepayment (reduce_instalment | reduce_term) or payoff."""
    return _respond(service.do_repay(engine, loan_id, amount=body.amount, on=_on(engine, body), kind=body.kind,
                                     mode=body.mode, actor=actor, idempotency_key=_key(key)))


@router.get("/schedule-preview")
def schedule_preview(
    principal: str,
    annual_rate: str,
    term_months: int,
    method: str,
    start: date,
    day_count: str = "ACT/360",
    rounding: str = "half_up",
    multiples_of: str | None = None,
    repayment_day: int | None = None,
) -> dict[str, Any]:
    """A schedule from terms alone, nothing stored (unknown method or day count: 422 with its code)."""
    return service.preview_schedule(principal=principal, annual_rate=annual_rate, term_months=term_months,
                                    method=method, start=start, day_count=day_count, rounding=rounding,
                                    multiples_of=multiples_of, repayment_day=repayment_day)


@router.get("/business-date")
def business_date(engine: EngineDep) -> dict[str, Any]:
    return service.business_date(engine)


@router.get("/ledger/trial-balance")
def trial_balance(engine: EngineDep) -> dict[str, Any]:
    tb = service.trial_balance(engine)
    return {"balanced": tb.balanced, "debits": str(tb.debits), "credits": str(tb.credits),
            "memo_debits": str(tb.memo_debits), "memo_credits": str(tb.memo_credits), "accounts": tb.to_rows()}
