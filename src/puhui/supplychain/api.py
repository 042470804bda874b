"""The supply-chain HTTP API: a thin FastAPI router over `puhui.supplychain.service` and the chain reader.

Routes under `/v1`:

* chains — `GET /chains` (core enterprises with their approved limits), `GET /chains/{core}` (the chain
  view: a graph of members by tier and role with their trade, tenure and dependence on the core),
  `PUT /chains/{core}/limit` (approve a chain limit), `GET /chains/{core}/exposure` (voucher exposure to the
  core, per holder, with each member's dependence — what chain loans and contagion warnings read);
* vouchers — `POST /vouchers/payables` (confirm a payable), `POST /vouchers` (issue),
  `POST /vouchers/holdings/{ref}/accept|reject|withdraw|split|transfer|distribute|finance|pledge|release`,
  `POST /vouchers/{no}/settle|dishonour`, `GET /vouchers/{no}`, `GET /vouchers/{no}/history` (who held
  which part, when), `GET /vouchers/discount` (a discount quote), `GET /enterprises/{party}/holdings`.

Every POST/PUT changes state and **requires an `Idempotency-Key` header** (400 `idempotency_key_required`
without it); a replay answers the stored status and body with `Idempotent-Replayed: true`. Amounts travel
as strings (or integers) of yuan — never JSON fractions, which are binary floats. `by` in a body is the
party acting on the ledger (an enterprise's USCC, a bank's code); the audit actor comes from `get_actor`
(the `X-Actor` header here; an authenticating app overrides both). Errors are RFC 9457 problem+json with
a stable `code` through the app's `PuhuiError` handler. The business date defaults to today in China
Standard Time. The engine is `app.state.engine` (made from the configuration when absent), the raw zone
`app.state.chain_source` (default: `PUHUI_HOME/raw`).
"""

from __future__ import annotations

from datetime import date
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import JSONResponse
from pydantic import BaseModel, ConfigDict, Field, StrictInt, StrictStr

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
from puhui.core.dates import SystemClock
from puhui.core.errors import NotFound
from puhui.supplychain import service
from puhui.supplychain import vouchers as dom
from puhui.supplychain.chains import ChainSource

__all__ = ["get_actor", "get_chain_source", "get_engine", "router"]

router = APIRouter(prefix="/v1", tags=["supply chain"])

AmountText = Annotated[StrictStr | StrictInt, Field(description="Yuan as a string ('1234.56') or an integer.")]




def get_chain_source(request: Request) -> ChainSource:
    """The raw-zone reader of the chain sources (`app.state.chain_source`, else `PUHUI_HOME/raw`)."""
    src = getattr(request.app.state, "chain_source", None)
    return src if src is not None else ChainSource.default()



SourceDep = Annotated[ChainSource, Depends(get_chain_source)]


def _key(key: str | None) -> str:
    return require_idempotency_key(key, "this endpoint changes the voucher ledger")



def _today() -> date:
    return SystemClock().today()


class _Body(BaseModel):
    model_config = ConfigDict(extra="forbid")

    business_date: date | None = Field(None, description="Business date; default today (China Standard Time).")

    @property
    def on(self) -> date:
        return self.business_date or _today()


class _Party(_Body):
    by: str = Field(description="The party acting: an enterprise's USCC, or a funder's / pledgee's code.")


class ChainLimitBody(_Body):
    limit: AmountText
    valid_from: date
    valid_to: date
    status: Literal["active", "frozen"] = "active"


class PayableBody(_Body):
    payable_no: str
    core: str = Field(description="USCC of the core enterprise that owes it.")
    supplier: str = Field(description="USCC of the supplier it is owed to.")
    amount: AmountText
    due_date: date | None = None
    invoices: list[str] = Field(default_factory=list, description="Invoice numbers (发票号码) behind it.")


class IssueBody(_Party):
    payable_no: str
    face: AmountText
    maturity_date: date
    transferable: bool = True
    transfer_mode: Literal["acceptance", "notice"] = "acceptance"
    voucher_no: str | None = Field(None, description="The platform's own number; default a generated one.")


class SplitBody(_Party):
    parts: list[AmountText] = Field(description="Amounts to cut off, in order; a remainder is the last part.")


class TransferBody(_Party):
    to: str = Field(description="USCC of the recipient.")
    amount: AmountText | None = Field(None, description="Part to transfer (split off first); default all.")


class Recipient(BaseModel):
    model_config = ConfigDict(extra="forbid")

    to: str
    amount: AmountText


class DistributeBody(_Party):
    transfers: list[Recipient]


class FinanceBody(_Party):
    funder: str
    annual_rate: str = Field(description="Discount rate: a fraction ('0.02') or a percent ('2%').")
    registration_ref: str | None = Field(None, description="动产融资统一登记公示系统 registration (required).")
    amount: AmountText | None = None
    basis: Literal[360, 365] = 360


class PledgeBody(_Party):
    pledgee: str
    registration_ref: str | None = None


class DishonourBody(_Body):
    reason: str


# ---- chains -------------------------------------------------------------------------------------------------


@router.get("/chains")
def list_chains(engine: EngineDep, source: SourceDep) -> dict[str, Any]:
    """Core enterprises of the raw zone, each with its approved chain limit (or null)."""
    limits = {x["core"]: x for x in service.list_limits(engine)}
    return {"cores": [{**c.to_dict(), "limit": limits.get(c.uscc)} for c in source.cores()]}


@router.get("/chains/{core}")
def chain_view(core: str, source: SourceDep, engine: EngineDep, as_of: date | None = None,
               window_months: Annotated[int, Query(ge=1, le=120)] = 12) -> dict[str, Any]:
    """The chain view: nodes (core and members by tier/role, tenure, dependence) and edges (trade flows)."""
    graph = source.chain(core, as_of=as_of or _today(), window_months=window_months).graph()
    try:
        graph["limit"] = service.get_limit(engine, core)
    except NotFound:
        graph["limit"] = None
    return graph


@router.put("/chains/{core}/limit")
def approve_chain_limit(core: str, body: ChainLimitBody, engine: EngineDep, source: SourceDep, actor: ActorDep,
                        key: KeyHeader = None) -> JSONResponse:
    """供应链授信额度: approve, change or freeze the voucher limit of a core enterprise of the raw zone."""
    k = _key(key)
    name = source.core(core).name
    return _respond(service.do_approve_chain_limit(
        engine, core=core, limit=body.limit, valid_from=body.valid_from, valid_to=body.valid_to, on=body.on,
        actor=actor, name=name, status=body.status, idempotency_key=k))


@router.get("/chains/{core}/exposure")
def chain_exposure(core: str, engine: EngineDep, source: SourceDep, as_of: date | None = None) -> dict[str, Any]:
    """Exposure to a core through its vouchers, per holder, with each chain member's dependence on the core."""
    exposure = service.voucher_exposure(engine, core).get("cores", {}).get(core, {"core": core, "holders": {}})
    chain = source.chain(core, as_of=as_of or _today())
    dep = chain.dependence()
    members = [{"uscc": m.uscc, "role": m.role, "tier": m.tier, "dependence": str(dep[m.uscc]),
                "vouchers_held": exposure["holders"].get(m.uscc, {}).get("total", "0.00")} for m in chain.members]
    return {**exposure, "as_of": chain.as_of.isoformat(), "members": members}


# ---- vouchers -----------------------------------------------------------------------------------------------


@router.post("/vouchers/payables", status_code=201)
def confirm_payable(body: PayableBody, engine: EngineDep, actor: ActorDep, key: KeyHeader = None) -> JSONResponse:
    """应付账款确权: record a payable the core enterprise confirmed (the trade background of vouchers)."""
    return _respond(service.do_confirm_payable(
        engine, payable_no=body.payable_no, core=body.core, supplier=body.supplier, amount=body.amount, on=body.on,
        due_date=body.due_date, invoices=body.invoices, actor=actor, idempotency_key=_key(key)))


@router.get("/vouchers/payables/{payable_no}")
def get_payable(payable_no: str, engine: EngineDep) -> dict[str, Any]:
    return service.get_payable(engine, payable_no)


@router.post("/vouchers", status_code=201)
def issue_voucher(body: IssueBody, engine: EngineDep, actor: ActorDep, key: KeyHeader = None) -> JSONResponse:
    """开立: the core enterprise issues a voucher against a confirmed payable, within its chain limit."""
    return _respond(service.do_issue(
        engine, payable_no=body.payable_no, face=body.face, maturity=body.maturity_date, on=body.on, by=body.by,
        transferable=body.transferable, transfer_mode=body.transfer_mode, voucher_no=body.voucher_no, actor=actor,
        idempotency_key=_key(key)))


@router.get("/vouchers/discount")
def discount_quote(face: str, annual_rate: str, maturity_date: date, start: date | None = None,
                   basis: Literal[360, 365] = 360) -> dict[str, Any]:
    """贴现试算: interest and proceeds for a face amount financed on `start` (default today)."""
    return dom.discount(dom.to_fen(face, "face"), annual_rate, start=start or _today(), maturity=maturity_date,
                        basis=basis, calendar=service.default_calendar()).to_dict()


@router.get("/vouchers/{voucher_no}")
def get_voucher(voucher_no: str, engine: EngineDep) -> dict[str, Any]:
    """A voucher with its current holdings and totals (live, settled, cancelled)."""
    return service.get_voucher(engine, voucher_no)


@router.get("/vouchers/{voucher_no}/history")
def voucher_history(voucher_no: str, engine: EngineDep) -> dict[str, Any]:
    """全程流转记录: every holding (who held which part, opened and closed when), events, financings, payments."""
    return service.voucher_history(engine, voucher_no)


@router.post("/vouchers/{voucher_no}/settle")
def settle(voucher_no: str, body: _Body, engine: EngineDep, actor: ActorDep, key: KeyHeader = None) -> JSONResponse:
    """兑付: at maturity the issuer pays every current holder exactly; a second settlement is 409."""
    return _respond(service.do_settle(engine, voucher_no, on=body.on, actor=actor, idempotency_key=_key(key)))


@router.post("/vouchers/{voucher_no}/dishonour")
def dishonour(voucher_no: str, body: DishonourBody, engine: EngineDep, actor: ActorDep,
              key: KeyHeader = None) -> JSONResponse:
    """拒付: the issuer did not pay at presentment."""
    return _respond(service.do_dishonour(engine, voucher_no, on=body.on, reason=body.reason, actor=actor,
                                         idempotency_key=_key(key)))


@router.post("/vouchers/holdings/{ref}/accept")
def accept(ref: str, body: _Party, engine: EngineDep, actor: ActorDep, key: KeyHeader = None) -> JSONResponse:
    """签收: the payee signs an issued voucher, or the recipient a pending transfer."""
    return _respond(service.do_accept(engine, ref, by=body.by, on=body.on, actor=actor, idempotency_key=_key(key)))


@router.post("/vouchers/holdings/{ref}/reject")
def reject(ref: str, body: _Party, engine: EngineDep, actor: ActorDep, key: KeyHeader = None) -> JSONResponse:
    """拒签/驳回: refuse an issued voucher (it is cancelled) or a pending transfer (the holding is restored)."""
    return _respond(service.do_reject(engine, ref, by=body.by, on=body.on, actor=actor, idempotency_key=_key(key)))


@router.post("/vouchers/holdings/{ref}/withdraw")
def withdraw(ref: str, body: _Party, engine: EngineDep, actor: ActorDep, key: KeyHeader = None) -> JSONResponse:
    """撤回: withdraw an unsigned voucher (issuer) or a pending transfer (holder)."""
    return _respond(service.do_withdraw(engine, ref, by=body.by, on=body.on, actor=actor, idempotency_key=_key(key)))


@router.post("/vouchers/holdings/{ref}/split")
def split(ref: str, body: SplitBody, engine: EngineDep, actor: ActorDep, key: KeyHeader = None) -> JSONResponse:
    """拆分: cut a holding into parts of at least 0.01 yuan."""
    return _respond(service.do_split(engine, ref, parts=body.parts, by=body.by, on=body.on, actor=actor,
                                     idempotency_key=_key(key)))


@router.post("/vouchers/holdings/{ref}/transfer")
def transfer(ref: str, body: TransferBody, engine: EngineDep, actor: ActorDep, key: KeyHeader = None) -> JSONResponse:
    """转让: pass a holding (or part of it) to another enterprise."""
    return _respond(service.do_transfer(engine, ref, to=body.to, by=body.by, on=body.on, amount=body.amount,
                                        actor=actor, idempotency_key=_key(key)))


@router.post("/vouchers/holdings/{ref}/distribute")
def distribute(ref: str, body: DistributeBody, engine: EngineDep, actor: ActorDep,
               key: KeyHeader = None) -> JSONResponse:
    """拆分转让: split a holding and pass the parts to several recipients at once."""
    return _respond(service.do_distribute(engine, ref, transfers=[(t.to, t.amount) for t in body.transfers],
                                          by=body.by, on=body.on, actor=actor, idempotency_key=_key(key)))


@router.post("/vouchers/holdings/{ref}/finance")
def finance(ref: str, body: FinanceBody, engine: EngineDep, actor: ActorDep, key: KeyHeader = None) -> JSONResponse:
    """融资: discount a holding at a funder; proceeds = face − face × rate × days / basis."""
    return _respond(service.do_finance(engine, ref, funder=body.funder, annual_rate=body.annual_rate,
                                       registration_ref=body.registration_ref, by=body.by, on=body.on,
                                       amount=body.amount, basis=body.basis, actor=actor, idempotency_key=_key(key)))


@router.post("/vouchers/holdings/{ref}/pledge")
def pledge(ref: str, body: PledgeBody, engine: EngineDep, actor: ActorDep, key: KeyHeader = None) -> JSONResponse:
    """质押: pledge a holding to a bank."""
    return _respond(service.do_pledge(engine, ref, pledgee=body.pledgee, registration_ref=body.registration_ref,
                                      by=body.by, on=body.on, actor=actor, idempotency_key=_key(key)))


@router.post("/vouchers/holdings/{ref}/release")
def release(ref: str, body: _Party, engine: EngineDep, actor: ActorDep, key: KeyHeader = None) -> JSONResponse:
    """解除质押: the pledgee releases the pledge."""
    return _respond(service.do_release_pledge(engine, ref, by=body.by, on=body.on, actor=actor,
                                              idempotency_key=_key(key)))


@router.get("/enterprises/{party}/holdings")
def enterprise_holdings(party: str, engine: EngineDep, all_holdings: Annotated[bool, Query(alias="all")] = False,
                        limit: Annotated[int, Query(ge=1, le=10000)] = 1000,
                        offset: Annotated[int, Query(ge=0)] = 0) -> dict[str, Any]:
    """An enterprise's voucher holdings (live by default; `all=true` adds settled, cancelled and passed-on
    ones) and the transfers waiting for its signature."""
    return service.holdings_of(engine, party, live_only=not all_holdings, limit=limit, offset=offset)
