"""Supply-chain use cases: one transaction each, every state change a `do_*` action with its audit row.

Actions — `do_approve_chain_limit`, `do_confirm_payable`, `do_issue`, `do_accept`, `do_reject`,
`do_withdraw`, `do_split`, `do_transfer`, `do_distribute`, `do_finance`, `do_pledge`, `do_release_pledge`,
`do_settle`, `do_dishonour` — each locks what it changes, calls the pure voucher domain
(`puhui.supplychain.vouchers`), writes the resulting `Change` (voucher, holdings, event, financing,
payments, payable, chain limit) and an audit record (`puhui.store.audit`), and commits once. Nothing else
in puhui changes voucher state.

**Money moves once.** Every action takes an `idempotency_key` (the API requires one): the claim, the work
and the stored answer commit in the same transaction (`puhui.store.idempotency`), so a replay returns the
stored answer (`Posted.replayed`), a key reused for another request is 422 `idempotency_key_reused`, and a
refused request rolls back whole — ledger, key and audit trail unchanged.

**Locks.** One order everywhere: chain limit → payable → voucher. An issue locks the issuer's chain limit
(so concurrent issues never exceed it) and the payable; an operation on holdings locks their voucher row,
which serialises every change to that voucher's holdings (its holdings are written only under it); a
cancellation or settlement first reads the voucher to learn its issuer and payable, then locks in order.
PostgreSQL takes `SELECT … FOR UPDATE` row locks; SQLite serialises writers with `BEGIN IMMEDIATE`.

Discount days roll a holiday maturity to the next working day on the shipped China calendar
(`puhui.core.calendar`). Queries (`get_voucher`, `voucher_history`, `holdings_of`, `get_limit`,
`get_payable`, `voucher_exposure`, `reconcile`) read one snapshot and return JSON-ready dicts.
"""

from __future__ import annotations

import secrets
from collections.abc import Callable, Sequence
from datetime import date
from decimal import Decimal
from functools import cache
from typing import Any

from sqlalchemy import Engine, func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from puhui.core.calendar import ChinaCalendar
from puhui.core.dates import parse_date
from puhui.core.errors import Conflict, NotFound, ValidationError
from puhui.core.money import Money, Number
from puhui.core.rates import AnnualRate
from puhui.core.regulatory import REGULATORY, SettingsBook
from puhui.store import audit, idempotency
from puhui.store.db import get_for_update, transaction
from puhui.store.idempotency import Posted
from puhui.supplychain import vouchers as dom
from puhui.supplychain.chains import approve_limit
from puhui.supplychain.store import (
    ChainLimitRow,
    FinancingRow,
    HoldingRow,
    PayableRow,
    PaymentRow,
    VoucherEventRow,
    VoucherRow,
    event_from_row,
    financing_from_row,
    holding_from_row,
    iter_holding_rows,
    limit_from_row,
    load_holdings,
    payable_from_row,
    payment_from_row,
    voucher_from_row,
    write_change,
)
from puhui.supplychain.vouchers import Change, Holding, HoldingStatus, Voucher, VoucherStatus

__all__ = [
    "Posted",
    "default_calendar",
    "do_accept",
    "do_approve_chain_limit",
    "do_confirm_payable",
    "do_dishonour",
    "do_distribute",
    "do_finance",
    "do_issue",
    "do_pledge",
    "do_reject",
    "do_release_pledge",
    "do_settle",
    "do_split",
    "do_transfer",
    "do_withdraw",
    "get_limit",
    "get_payable",
    "get_voucher",
    "holdings_of",
    "list_limits",
    "reconcile",
    "voucher_exposure",
    "voucher_history",
]


@cache
def default_calendar() -> ChinaCalendar:
    """The shipped China working-day calendar (holiday rolls of discount days), loaded once."""
    return ChinaCalendar.default()


# ---- plumbing -----------------------------------------------------------------------------------------------


def _date(on: date | str, field: str = "on") -> date:
    return parse_date(on, field=field)


def _act(engine: Engine, *, actor: str, action: str, key: str | None, request: dict[str, Any], status: int,
         work: Callable[[Session], dict[str, Any]]) -> Posted:
    """Run `work` in one writing transaction behind the idempotency key (if any)."""
    actor = str(actor or "").strip()
    if not actor or len(actor) > 128 or not actor.isprintable():
        raise ValidationError(f"actor must be 1–128 printable characters, got {actor!r}", code="invalid_actor",
                              field="actor")
    return idempotency.run_once(engine, scope=f"{actor}:vouchers.{action}"[:200], action=action,
                                key=key, request=request,
                                status=status, work=work)


def _audit(s: Session, c: Change, actor: str) -> None:
    e = c.event
    refs = [f"{e.voucher_no}-{x}" for x in e.holdings[:20]]
    audit.record(s, actor=actor, action=f"voucher_{e.kind}", entity="voucher", entity_id=e.voucher_no,
                 payload={"by": e.by, "holdings": refs, "holdings_count": len(e.holdings), **dict(e.details)},
                 business_date=e.on)


def _voucher_id(s: Session, no: str) -> int:
    vid = s.execute(select(VoucherRow.id).where(VoucherRow.voucher_no == no)).scalar_one_or_none()
    if vid is None:
        raise NotFound(f"voucher {no} does not exist", code="voucher_not_found", voucher_no=no)
    return int(vid)


def _lock_voucher(s: Session, no: str) -> tuple[VoucherRow, Voucher]:
    row = get_for_update(s, VoucherRow, _voucher_id(s, no))
    return row, voucher_from_row(row, row.payable_no)


def _lock_limit(s: Session, core: str) -> ChainLimitRow:
    lid = s.execute(select(ChainLimitRow.id).where(ChainLimitRow.core_uscc == core)).scalar_one_or_none()
    if lid is None:
        raise NotFound(f"core enterprise {core} has no approved chain limit", code="no_chain_limit", core=core)
    return get_for_update(s, ChainLimitRow, lid)


def _lock_payable(s: Session, no: str) -> PayableRow:
    pid = s.execute(select(PayableRow.id).where(PayableRow.payable_no == no)).scalar_one_or_none()
    if pid is None:
        raise NotFound(f"payable {no} does not exist", code="payable_not_found", payable_no=no)
    return get_for_update(s, PayableRow, pid)


def _one_holding(s: Session, row: VoucherRow, v: Voucher, seq: int) -> Holding:
    hs = load_holdings(s, row.id, v.no, seqs=[seq])
    if not hs:
        raise NotFound(f"holding {v.no}-{seq} does not exist", code="holding_not_found", holding=f"{v.no}-{seq}")
    return hs[0]


def _on_holding(ref: str, actor: str, fn: Callable[[Voucher, Holding], Change]) -> Callable[[Session],
                                                                                          dict[str, Any]]:
    """The work of an action on one holding: lock its voucher, load it, apply the domain, write, audit."""
    no, seq = dom.parse_ref(ref)

    def work(s: Session) -> dict[str, Any]:
        row, v = _lock_voucher(s, no)
        c = fn(v, _one_holding(s, row, v, seq))
        write_change(s, c, voucher_row=row, actor=actor)
        _audit(s, c, actor)
        return c.to_dict()

    return work


def _registration_unused(s: Session, ref: str | None) -> None:
    if ref is None or not str(ref).strip():
        return  # the domain refuses it with registration_required
    ref = str(ref).strip()
    used = s.execute(select(FinancingRow.id).where(FinancingRow.registration_ref == ref).limit(1)).first() or (
        s.execute(select(HoldingRow.id).where(HoldingRow.pledge_ref == ref).limit(1)).first())
    if used:
        raise Conflict(f"registration {ref} already backs another financing or pledge", code="registration_ref_used",
                       registration_ref=ref)


def _fen_or_none(amount: Number | Money | None, field: str = "amount") -> int | None:
    return None if amount is None else dom.to_fen(amount, field)


def _s(x: Any) -> Any:
    """Request parts for the idempotency fingerprint (dates and Decimals as text)."""
    if isinstance(x, date):
        return x.isoformat()
    if isinstance(x, Decimal | Money | AnnualRate):
        return str(x)
    if isinstance(x, list | tuple):
        return [_s(i) for i in x]
    return x


# ---- chain limits and payables ------------------------------------------------------------------------------


def do_approve_chain_limit(
    engine: Engine, *, core: str, limit: Number | Money, valid_from: date | str, valid_to: date | str,
    on: date | str, actor: str = "system", name: str = "", status: str = "active",
    idempotency_key: str | None = None,
) -> Posted:
    """Approve (or change, or freeze) the chain limit of a core enterprise (供应链授信额度审批)."""
    core = dom.enterprise_id(core, "core")
    fen = dom.to_fen_or_zero(limit, "limit")
    vf, vt, day = _date(valid_from, "valid_from"), _date(valid_to, "valid_to"), _date(on)

    def work(s: Session) -> dict[str, Any]:
        lid = s.execute(select(ChainLimitRow.id).where(ChainLimitRow.core_uscc == core)).scalar_one_or_none()
        row = None if lid is None else get_for_update(s, ChainLimitRow, lid)
        current = None if row is None else limit_from_row(row)
        new = approve_limit(core, fen, valid_from=vf, valid_to=vt, current=current, status=status, name=name)
        if row is None:
            row = ChainLimitRow(core_uscc=core, outstanding=Decimal("0.00"))
            s.add(row)
        row.name = new.name
        row.approved_limit = Money.from_fen(new.limit_fen).amount
        row.valid_from, row.valid_to, row.status = new.valid_from, new.valid_to, new.status.value
        row.approved_by, row.approved_on = actor, day
        audit.record(s, actor=actor, action="approve_chain_limit", entity="chain_limit", entity_id=core,
                     payload={"before": None if current is None else current.to_dict(), "after": new.to_dict()},
                     business_date=day)
        return new.to_dict()

    return _act(engine, actor=actor, action="approve_chain_limit", key=idempotency_key, status=200, work=work,
                request={"core": core, "limit": fen, "valid_from": _s(vf), "valid_to": _s(vt), "on": _s(day),
                         "name": name, "status": status})


def do_confirm_payable(
    engine: Engine, *, payable_no: str, core: str, supplier: str, amount: Number | Money, on: date | str,
    due_date: date | str | None = None, invoices: Sequence[str] = (), actor: str = "system",
    idempotency_key: str | None = None,
) -> Posted:
    """应付账款确权: record a payable the core enterprise confirmed to a supplier."""
    day = _date(on)
    due = None if due_date is None else _date(due_date, "due_date")
    p = dom.confirm_payable(payable_no, core=core, supplier=supplier, amount_fen=dom.to_fen(amount), on=day,
                            due_date=due, invoices=invoices)

    def work(s: Session) -> dict[str, Any]:
        if s.execute(select(PayableRow.id).where(PayableRow.payable_no == p.no)).first():
            raise Conflict(f"payable {p.no} already exists", code="payable_exists", payable_no=p.no)
        s.add(PayableRow(payable_no=p.no, core_uscc=p.core, supplier_uscc=p.supplier,
                         amount=Money.from_fen(p.amount_fen).amount, vouchered=Decimal("0.00"), confirmed_on=day,
                         due_date=due, invoices=list(p.invoices)))
        _flush(s, "payable_exists", f"payable {p.no} already exists")
        audit.record(s, actor=actor, action="confirm_payable", entity="payable", entity_id=p.no,
                     payload=p.to_dict(), business_date=day)
        return p.to_dict()

    return _act(engine, actor=actor, action="confirm_payable", key=idempotency_key, status=201, work=work,
                request={**p.to_dict(), "on": _s(day)})


def _flush(s: Session, code: str, message: str) -> None:
    try:
        s.flush()
    except IntegrityError:
        raise Conflict(message, code=code) from None


# ---- vouchers -----------------------------------------------------------------------------------------------


def do_issue(
    engine: Engine, *, payable_no: str, face: Number | Money, maturity: date | str, on: date | str, by: str,
    transferable: bool = True, transfer_mode: str = "acceptance", voucher_no: str | None = None,
    actor: str = "system", idempotency_key: str | None = None, book: SettingsBook = REGULATORY,
) -> Posted:
    """开立: the core enterprise `by` issues a voucher against a confirmed payable, within its chain limit."""
    day, mat = _date(on), _date(maturity, "maturity")
    face_fen = dom.to_fen(face, "face")
    by = dom.party_id(by)

    def work(s: Session) -> dict[str, Any]:
        payable_hint = s.execute(select(PayableRow.core_uscc).where(PayableRow.payable_no == payable_no)).first()
        if payable_hint is None:
            raise NotFound(f"payable {payable_no} does not exist", code="payable_not_found", payable_no=payable_no)
        limit_row = _lock_limit(s, payable_hint[0])
        payable_row = _lock_payable(s, payable_no)
        no = voucher_no or f"CV{day:%Y%m%d}{secrets.randbelow(10**10):010d}"
        if s.execute(select(VoucherRow.id).where(VoucherRow.voucher_no == no)).first():
            raise Conflict(f"voucher {no} already exists", code="voucher_exists", voucher_no=no)
        c = dom.issue(no, payable=payable_from_row(payable_row), limit=limit_from_row(limit_row), face_fen=face_fen,
                      maturity=mat, on=day, by=by, transferable=transferable, transfer_mode=transfer_mode, book=book)
        v = c.voucher
        row = VoucherRow(voucher_no=v.no, issuer_uscc=v.issuer, payee_uscc=v.payee, payable_id=payable_row.id,
                         payable_no=v.payable_no, face=Money.from_fen(v.face_fen).amount, issue_date=v.issue_date,
                         maturity_date=v.maturity_date, transferable=v.transferable,
                         transfer_mode=v.transfer_mode.value, tenor_review=v.tenor_review, status=v.status.value,
                         next_seq=v.next_seq, last_on=v.last_on)
        s.add(row)
        _flush(s, "voucher_exists", f"voucher {v.no} already exists")
        write_change(s, c, voucher_row=row, actor=actor, payable_row=payable_row, limit_row=limit_row)
        _audit(s, c, actor)
        return c.to_dict()

    return _act(engine, actor=actor, action="issue", key=idempotency_key, status=201, work=work,
                request={"payable_no": payable_no, "face": face_fen, "maturity": _s(mat), "on": _s(day), "by": by,
                         "transferable": transferable, "transfer_mode": transfer_mode, "voucher_no": voucher_no})


def _cancel_or(engine: Engine, action: str, ref: str, by: str, on: date | str, actor: str, key: str | None,
               transfer_op: Callable[..., Change]) -> Posted:
    """Reject/withdraw: of an unsigned issue (cancels the voucher) or of a pending transfer (restores it)."""
    day, by = _date(on), dom.party_id(by)
    no, seq = dom.parse_ref(ref)

    def work(s: Session) -> dict[str, Any]:
        hint = s.execute(select(VoucherRow.status, VoucherRow.issuer_uscc, VoucherRow.payable_no)
                         .where(VoucherRow.voucher_no == no)).first()
        if hint is None:
            raise NotFound(f"voucher {no} does not exist", code="voucher_not_found", voucher_no=no)
        limit_row = payable_row = None
        if hint[0] == VoucherStatus.ISSUED.value:  # may cancel: take the limit and payable first (lock order)
            limit_row, payable_row = _lock_limit(s, hint[1]), _lock_payable(s, hint[2])
        row, v = _lock_voucher(s, no)
        h = _one_holding(s, row, v, seq)
        if h.status is HoldingStatus.ISSUED and limit_row is not None and payable_row is not None:
            c = dom.cancel_issue(v, h, payable=payable_from_row(payable_row), limit=limit_from_row(limit_row), by=by,
                                 on=day)
        else:
            c = transfer_op(v, h, by=by, on=day)
        write_change(s, c, voucher_row=row, actor=actor, payable_row=payable_row, limit_row=limit_row)
        _audit(s, c, actor)
        return c.to_dict()

    return _act(engine, actor=actor, action=action, key=key, status=200, work=work,
                request={"holding": ref, "by": by, "on": _s(day)})


def do_accept(engine: Engine, ref: str, *, by: str, on: date | str, actor: str = "system",
              idempotency_key: str | None = None) -> Posted:
    """签收: the payee signs an issued voucher, or the recipient signs a pending transfer."""
    day, by = _date(on), dom.party_id(by)

    def op(v: Voucher, h: Holding) -> Change:
        if h.status is HoldingStatus.ISSUED:
            return dom.accept_issue(v, h, by=by, on=day)
        return dom.accept_transfer(v, h, by=by, on=day)

    return _act(engine, actor=actor, action="accept", key=idempotency_key, status=200, work=_on_holding(ref, actor, op),
                request={"holding": ref, "by": by, "on": _s(day)})


def do_reject(engine: Engine, ref: str, *, by: str, on: date | str, actor: str = "system",
              idempotency_key: str | None = None) -> Posted:
    """拒签/驳回: the payee refuses an issued voucher (cancelled) or the recipient a pending transfer (restored)."""
    return _cancel_or(engine, "reject", ref, by, on, actor, idempotency_key, dom.reject_transfer)


def do_withdraw(engine: Engine, ref: str, *, by: str, on: date | str, actor: str = "system",
                idempotency_key: str | None = None) -> Posted:
    """撤回: the issuer withdraws an unsigned voucher (cancelled) or the holder its pending transfer (restored)."""
    return _cancel_or(engine, "withdraw", ref, by, on, actor, idempotency_key, dom.withdraw_transfer)


def do_split(engine: Engine, ref: str, *, parts: Sequence[Number | Money], by: str, on: date | str,
             actor: str = "system", idempotency_key: str | None = None) -> Posted:
    """拆分: cut a holding into parts (yuan, each ≥ 0.01); a remainder becomes the last part."""
    day, by = _date(on), dom.party_id(by)
    fen = [dom.to_fen(p, "parts") for p in parts]
    return _act(engine, actor=actor, action="split", key=idempotency_key, status=200,
                work=_on_holding(ref, actor, lambda v, h: dom.split(v, h, parts_fen=fen, by=by, on=day)),
                request={"holding": ref, "parts": fen, "by": by, "on": _s(day)})


def do_transfer(engine: Engine, ref: str, *, to: str, by: str, on: date | str, amount: Number | Money | None = None,
                actor: str = "system", idempotency_key: str | None = None) -> Posted:
    """转让: pass a holding (or `amount` of it) to `to`; locked until `to` accepts, unless in notice mode."""
    day, by, to = _date(on), dom.party_id(by), dom.enterprise_id(to, "to")
    fen = _fen_or_none(amount)
    return _act(engine, actor=actor, action="transfer", key=idempotency_key, status=200,
                work=_on_holding(ref, actor, lambda v, h: dom.transfer(v, h, to=to, by=by, on=day, amount_fen=fen)),
                request={"holding": ref, "to": to, "amount": fen, "by": by, "on": _s(day)})


def do_distribute(engine: Engine, ref: str, *, transfers: Sequence[tuple[str, Number | Money]], by: str,
                  on: date | str, actor: str = "system", idempotency_key: str | None = None) -> Posted:
    """拆分转让: split a holding and pass each part to its recipient in one act."""
    day, by = _date(on), dom.party_id(by)
    parsed = [(dom.enterprise_id(t, "to"), dom.to_fen(a)) for t, a in transfers]
    return _act(engine, actor=actor, action="distribute", key=idempotency_key, status=200,
                work=_on_holding(ref, actor, lambda v, h: dom.distribute(v, h, transfers=parsed, by=by, on=day)),
                request={"holding": ref, "transfers": parsed, "by": by, "on": _s(day)})


def do_finance(engine: Engine, ref: str, *, funder: str, annual_rate: AnnualRate | Number,
               registration_ref: str | None, by: str, on: date | str, amount: Number | Money | None = None,
               basis: int = 360, actor: str = "system", idempotency_key: str | None = None) -> Posted:
    """融资 (贴现/保理): sell a holding (or `amount` of it) to `funder`; needs a registration reference."""
    day, by = _date(on), dom.party_id(by)
    fen = _fen_or_none(amount)
    rate = AnnualRate.of(annual_rate)

    def op(v: Voucher, h: Holding) -> Change:
        return dom.finance(v, h, funder=funder, annual_rate=rate, registration_ref=registration_ref, by=by, on=day,
                           amount_fen=fen, basis=basis, calendar=default_calendar())

    inner = _on_holding(ref, actor, op)

    def work(s: Session) -> dict[str, Any]:
        _registration_unused(s, registration_ref)
        return inner(s)

    return _act(engine, actor=actor, action="finance", key=idempotency_key, status=200, work=work,
                request={"holding": ref, "funder": funder, "annual_rate": str(rate.value), "basis": basis,
                         "registration_ref": registration_ref, "amount": fen, "by": by, "on": _s(day)})


def do_pledge(engine: Engine, ref: str, *, pledgee: str, registration_ref: str | None, by: str, on: date | str,
              actor: str = "system", idempotency_key: str | None = None) -> Posted:
    """质押: pledge a holding to `pledgee`; needs a registration reference."""
    day, by = _date(on), dom.party_id(by)
    inner = _on_holding(ref, actor, lambda v, h: dom.pledge(v, h, pledgee=pledgee, registration_ref=registration_ref,
                                                            by=by, on=day))

    def work(s: Session) -> dict[str, Any]:
        _registration_unused(s, registration_ref)
        return inner(s)

    return _act(engine, actor=actor, action="pledge", key=idempotency_key, status=200, work=work,
                request={"holding": ref, "pledgee": pledgee, "registration_ref": registration_ref, "by": by,
                         "on": _s(day)})


def do_release_pledge(engine: Engine, ref: str, *, by: str, on: date | str, actor: str = "system",
                      idempotency_key: str | None = None) -> Posted:
    """解除质押: the pledgee releases a pledged holding."""
    day, by = _date(on), dom.party_id(by)
    return _act(engine, actor=actor, action="release_pledge", key=idempotency_key, status=200,
                work=_on_holding(ref, actor, lambda v, h: dom.release_pledge(v, h, by=by, on=day)),
                request={"holding": ref, "by": by, "on": _s(day)})


def _on_voucher(no: str, actor: str, fn: Callable[[Voucher, list[Holding], Any], Change], *,
                lock_limit: bool) -> Callable[[Session], dict[str, Any]]:
    def work(s: Session) -> dict[str, Any]:
        issuer = s.execute(select(VoucherRow.issuer_uscc).where(VoucherRow.voucher_no == no)).scalar_one_or_none()
        if issuer is None:
            raise NotFound(f"voucher {no} does not exist", code="voucher_not_found", voucher_no=no)
        limit_row = _lock_limit(s, issuer) if lock_limit else None
        row, v = _lock_voucher(s, no)
        live = load_holdings(s, row.id, no, live_only=True)
        c = fn(v, live, None if limit_row is None else limit_from_row(limit_row))
        write_change(s, c, voucher_row=row, actor=actor, limit_row=limit_row)
        _audit(s, c, actor)
        return c.to_dict()

    return work


def do_settle(engine: Engine, voucher_no: str, *, on: date | str, actor: str = "system",
              idempotency_key: str | None = None) -> Posted:
    """兑付: at maturity the issuer pays every current holder (funder, pledgee) exactly; a second time is 409."""
    day = _date(on)
    return _act(engine, actor=actor, action="settle", key=idempotency_key, status=200,
                work=_on_voucher(voucher_no, actor, lambda v, live, lim: dom.settle(v, live, limit=lim, on=day),
                                 lock_limit=True),
                request={"voucher_no": voucher_no, "on": _s(day)})


def do_dishonour(engine: Engine, voucher_no: str, *, on: date | str, reason: str, actor: str = "system",
                 idempotency_key: str | None = None) -> Posted:
    """拒付: record that the issuer did not pay at presentment."""
    day = _date(on)
    return _act(engine, actor=actor, action="dishonour", key=idempotency_key, status=200,
                work=_on_voucher(voucher_no, actor,
                                 lambda v, live, _: dom.dishonour(v, live, on=day, reason=reason), lock_limit=False),
                request={"voucher_no": voucher_no, "on": _s(day), "reason": reason})


# ---- queries ------------------------------------------------------------------------------------------------


def _voucher(s: Session, no: str) -> tuple[VoucherRow, Voucher]:
    row = s.get(VoucherRow, _voucher_id(s, no))
    assert row is not None
    return row, voucher_from_row(row, row.payable_no)


def get_voucher(engine: Engine, voucher_no: str) -> dict[str, Any]:
    """A voucher, its live holdings (or, once closed, its final ones) and its totals in yuan."""
    with transaction(engine, write=False) as s:
        row, v = _voucher(s, voucher_no)
        hs = load_holdings(s, row.id, v.no)
    leaves = [h for h in hs if h.status is not HoldingStatus.SUPERSEDED]
    totals = {"live": 0, "settled": 0, "cancelled": 0}
    for h in leaves:
        totals["live" if h.is_live else h.status.value] += h.amount_fen
    return {**v.to_dict(), "totals": {k: str(Money.from_fen(x).amount) for k, x in totals.items()},
            "holdings": [h.to_dict() for h in sorted(leaves, key=lambda h: h.start)]}


def voucher_history(engine: Engine, voucher_no: str) -> dict[str, Any]:
    """全程流转记录: every holding ever made (who held which part, from when to when), every event,
    financing and payment, in order."""
    with transaction(engine, write=False) as s:
        row, v = _voucher(s, voucher_no)
        hs = load_holdings(s, row.id, v.no)
        events = s.scalars(select(VoucherEventRow).where(VoucherEventRow.voucher_id == row.id)
                           .order_by(VoucherEventRow.id)).all()
        fins = s.scalars(select(FinancingRow).where(FinancingRow.voucher_id == row.id).order_by(FinancingRow.id)).all()
        pays = s.execute(select(PaymentRow.__table__).where(PaymentRow.voucher_id == row.id)
                         .order_by(PaymentRow.seq)).mappings().all()
        return {
            "voucher": v.to_dict(),
            "holdings": [h.to_dict() for h in hs],
            "events": [{**event_from_row(v.no, e).to_dict(), "actor": e.actor, "at": e.created_at.isoformat()}
                       for e in events],
            "financings": [financing_from_row(v.no, f).to_dict() for f in fins],
            "payments": [payment_from_row(v.no, p).to_dict() for p in pays],
        }


def holdings_of(engine: Engine, party: str, *, live_only: bool = True, limit: int = 1000,
                offset: int = 0) -> dict[str, Any]:
    """The holdings of an enterprise (or funder): each with its voucher's issuer and maturity, and totals."""
    party = dom.party_id(party, "party")
    h, vt = HoldingRow.__table__.c, VoucherRow.__table__.c
    with transaction(engine, write=False) as s:
        stmt = (select(vt.voucher_no, vt.issuer_uscc, vt.maturity_date, vt.status.label("voucher_status"), h)
                .join(VoucherRow.__table__, vt.id == h.voucher_id).where(h.holder == party))
        if live_only:
            stmt = stmt.where(h.status.in_([x.value for x in dom.LIVE_STATUSES]))
        rows = s.execute(stmt.order_by(vt.maturity_date, vt.voucher_no, h.seq).limit(limit).offset(offset)).mappings()
        out, totals = [], {}
        for r in rows:
            hold = holding_from_row(r["voucher_no"], r)
            totals[hold.status.value] = totals.get(hold.status.value, 0) + hold.amount_fen
            out.append({**hold.to_dict(), "issuer": r["issuer_uscc"], "maturity_date": r["maturity_date"].isoformat(),
                        "voucher_status": r["voucher_status"]})
        # pending transfers addressed to the party (签收待办)
        incoming = s.execute(select(vt.voucher_no, h.seq, h.amount, h.pending_by, h.pending_on)
                             .join(VoucherRow.__table__, vt.id == h.voucher_id).where(h.pending_to == party)
                             .order_by(vt.voucher_no, h.seq)).all()
    return {"party": party, "count": len(out), "holdings": out,
            "totals": {k: str(Money.from_fen(x).amount) for k, x in sorted(totals.items())},
            "awaiting_acceptance": [{"holding": f"{r[0]}-{r[1]}", "amount": str(r[2]), "from": r[3],
                                     "requested_on": r[4].isoformat()} for r in incoming]}


def get_limit(engine: Engine, core: str) -> dict[str, Any]:
    with transaction(engine, write=False) as s:
        row = s.execute(select(ChainLimitRow).where(ChainLimitRow.core_uscc == core)).scalar_one_or_none()
        if row is None:
            raise NotFound(f"core enterprise {core} has no approved chain limit", code="no_chain_limit", core=core)
        return {**limit_from_row(row).to_dict(), "approved_by": row.approved_by,
                "approved_on": row.approved_on.isoformat()}


def list_limits(engine: Engine) -> list[dict[str, Any]]:
    with transaction(engine, write=False) as s:
        return [limit_from_row(r).to_dict() for r in s.scalars(select(ChainLimitRow).order_by(ChainLimitRow.core_uscc))]


def get_payable(engine: Engine, payable_no: str) -> dict[str, Any]:
    with transaction(engine, write=False) as s:
        row = s.execute(select(PayableRow).where(PayableRow.payable_no == payable_no)).scalar_one_or_none()
        if row is None:
            raise NotFound(f"payable {payable_no} does not exist", code="payable_not_found", payable_no=payable_no)
        return payable_from_row(row).to_dict()


def voucher_exposure(engine: Engine, core: str | None = None) -> dict[str, Any]:
    """Exposure to each core enterprise through its vouchers — what chain loans and contagion warnings read.

    Per core: the chain limit, the outstanding face, and the live amount each party holds of its vouchers,
    split by status (active, financed, pledged, …): a funder's `financed` is the bank's exposure to the
    core, a member's `active` its receivable from the core (its dependence in money).
    """
    h, vt = HoldingRow.__table__.c, VoucherRow.__table__.c
    with transaction(engine, write=False) as s:
        stmt = (select(vt.issuer_uscc, h.holder, h.status, func.sum(h.amount).label("amount"))
                .join(VoucherRow.__table__, vt.id == h.voucher_id)
                .where(h.status.in_([x.value for x in dom.LIVE_STATUSES]))
                .group_by(vt.issuer_uscc, h.holder, h.status))
        limits_stmt = select(ChainLimitRow)
        if core is not None:
            stmt = stmt.where(vt.issuer_uscc == core)
            limits_stmt = limits_stmt.where(ChainLimitRow.core_uscc == core)
        cores: dict[str, dict[str, Any]] = {}
        for lim in s.scalars(limits_stmt):
            cores[lim.core_uscc] = {**limit_from_row(lim).to_dict(), "holders": {}}
        for issuer, holder, status, amount in s.execute(stmt):
            entry = cores.setdefault(issuer, {"core": issuer, "holders": {}})
            by = entry["holders"].setdefault(holder, {})
            by[status] = str(Money(Decimal(amount)).amount)
    for entry in cores.values():
        for by in entry["holders"].values():
            by["total"] = str(sum((Decimal(x) for x in by.values()), Decimal("0.00")))
    return {"cores": cores}


def reconcile(engine: Engine, *, batch: int = 500) -> dict[str, Any]:
    """Check every invariant on the stored ledger (raises `LedgerInvariantError` on the first breach).

    Per voucher `check_voucher` over all its holdings; per voucher, payments = settled amount; per chain
    limit, outstanding = the face of its open vouchers; per payable, vouchered = its non-cancelled vouchers.
    """
    checked = holdings = 0
    with transaction(engine, write=False) as s:
        vrows = s.scalars(select(VoucherRow).order_by(VoucherRow.id)).all()
        paid = dict(s.execute(select(PaymentRow.voucher_id, func.sum(PaymentRow.amount))
                              .group_by(PaymentRow.voucher_id)).all())
        for i in range(0, len(vrows), batch):
            chunk = {r.id: r for r in vrows[i:i + batch]}
            by_voucher: dict[int, list[Holding]] = {}
            for r in iter_holding_rows(s, chunk):
                vid = r["voucher_id"]
                by_voucher.setdefault(vid, []).append(holding_from_row(chunk[vid].voucher_no, r))
            for vid, row in chunk.items():
                v = voucher_from_row(row, row.payable_no)
                dom.check_voucher(v, by_voucher.get(vid, []))
                if Money(Decimal(paid.get(vid, 0) or 0)).fen != v.settled_fen:
                    raise dom.LedgerInvariantError(f"voucher {v.no}: payments disagree with its settled amount",
                                                   voucher_no=v.no)
                checked += 1
                holdings += len(by_voucher.get(vid, []))
        outstanding: dict[str, int] = {}
        vouchered: dict[int, int] = {}
        for r in vrows:
            fen = Money(r.face).fen
            if r.status not in (VoucherStatus.SETTLED.value, VoucherStatus.CANCELLED.value):
                outstanding[r.issuer_uscc] = outstanding.get(r.issuer_uscc, 0) + fen
            if r.status != VoucherStatus.CANCELLED.value:
                vouchered[r.payable_id] = vouchered.get(r.payable_id, 0) + fen
        for lim in s.scalars(select(ChainLimitRow)):
            if Money(lim.outstanding).fen != outstanding.get(lim.core_uscc, 0):
                raise dom.LedgerInvariantError(f"chain limit of {lim.core_uscc}: outstanding disagrees with its "
                                               "open vouchers", core=lim.core_uscc)
        for p in s.scalars(select(PayableRow)):
            if Money(p.vouchered).fen != vouchered.get(p.id, 0):
                raise dom.LedgerInvariantError(f"payable {p.payable_no}: vouchered disagrees with its vouchers",
                                               payable_no=p.payable_no)
    return {"vouchers": checked, "holdings": holdings, "ok": True}
