"""Supply-chain tables on the store base, and the repository functions that map them to the voucher domain.

Tables: `chain_limits` (the approved chain limit of each core enterprise and its outstanding vouchers),
`voucher_payables` (confirmed payables, the trade background), `vouchers` (root vouchers), `voucher_holdings`
(every holding ever made — live, settled, cancelled and superseded — as a fen interval [range_start,
range_end) with its parent link), and the append-only records `voucher_events` (the voucher's history),
`voucher_financings` and `voucher_payments`.

Amounts are integer fen (`Amount`), rates exact (`Rate`). A holding's `amount` column stores the same
integer as `range_end - range_start` (the `Amount` type is BIGINT fen underneath), and a CHECK says so,
so the database itself refuses a row whose amount and range disagree. The append-only tables refuse
UPDATE/DELETE in the ORM and, through triggers, in the database (`puhui.store.audit.make_append_only`;
the migration adds the triggers). Repository functions read and write with SQLAlchemy Core, in bulk, so
settling a voucher of 10,000 holdings is a few statements, not 10,000 ORM objects.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from datetime import date
from decimal import Decimal
from typing import Any

from sqlalchemy import (
    BigInteger,
    Boolean,
    CheckConstraint,
    Date,
    ForeignKey,
    Index,
    Integer,
    SmallInteger,
    String,
    UniqueConstraint,
    insert,
    select,
    update,
)
from sqlalchemy.orm import Mapped, Session, mapped_column

from puhui.core.money import Money
from puhui.core.rates import AnnualRate
from puhui.store.audit import make_append_only
from puhui.store.base import Base, CreatedAtMixin, IdMixin, TimestampMixin
from puhui.store.types import JSON_TYPE, PK_TYPE, Amount, Rate, utcnow
from puhui.supplychain.chains import ChainLimit, LimitStatus
from puhui.supplychain.vouchers import (
    LIVE_STATUSES,
    Change,
    DiscountQuote,
    Financing,
    Holding,
    HoldingStatus,
    Payable,
    Payment,
    Pending,
    TransferMode,
    Voucher,
    VoucherEvent,
    VoucherStatus,
)

__all__ = [
    "APPEND_ONLY_TABLES",
    "ChainLimitRow",
    "FinancingRow",
    "HoldingRow",
    "PayableRow",
    "PaymentRow",
    "VoucherEventRow",
    "VoucherRow",
    "holding_from_row",
    "limit_from_row",
    "load_holdings",
    "payable_from_row",
    "voucher_from_row",
    "write_change",
]

_HOLDING_STATES = ", ".join(f"'{s.value}'" for s in HoldingStatus)
_VOUCHER_STATES = ", ".join(f"'{s.value}'" for s in VoucherStatus)


def _fen(amount: Decimal) -> int:
    return Money(amount).fen


def _yuan(fen: int) -> Decimal:
    return Money.from_fen(fen).amount


class ChainLimitRow(IdMixin, TimestampMixin, Base):
    """供应链授信额度: a core enterprise's approved limit for vouchers, and what it has outstanding."""

    __tablename__ = "chain_limits"
    __table_args__ = (
        CheckConstraint("approved_limit >= 0 AND outstanding >= 0", name="amounts"),
        CheckConstraint("status IN ('active', 'frozen')", name="status"),
    )

    core_uscc: Mapped[str] = mapped_column(String(18), unique=True)
    name: Mapped[str] = mapped_column(String(200), default="")
    approved_limit: Mapped[Decimal] = mapped_column(Amount())
    outstanding: Mapped[Decimal] = mapped_column(Amount(), default=Decimal("0.00"))
    valid_from: Mapped[date] = mapped_column(Date())
    valid_to: Mapped[date] = mapped_column(Date())
    status: Mapped[str] = mapped_column(String(16))
    approved_by: Mapped[str] = mapped_column(String(128))
    approved_on: Mapped[date] = mapped_column(Date())


class PayableRow(IdMixin, TimestampMixin, Base):
    """应付账款确权: a payable the core enterprise confirmed, and how much of it is in vouchers."""

    __tablename__ = "voucher_payables"
    __table_args__ = (
        CheckConstraint("amount > 0 AND vouchered >= 0 AND vouchered <= amount", name="amounts"),
    )

    payable_no: Mapped[str] = mapped_column(String(64), unique=True)
    core_uscc: Mapped[str] = mapped_column(String(18), index=True)
    supplier_uscc: Mapped[str] = mapped_column(String(18), index=True)
    amount: Mapped[Decimal] = mapped_column(Amount())
    vouchered: Mapped[Decimal] = mapped_column(Amount(), default=Decimal("0.00"))
    confirmed_on: Mapped[date] = mapped_column(Date())
    due_date: Mapped[date | None] = mapped_column(Date())
    invoices: Mapped[list[Any]] = mapped_column(JSON_TYPE, default=list)


class VoucherRow(IdMixin, TimestampMixin, Base):
    """数字信用凭据: one root voucher."""

    __tablename__ = "vouchers"
    __table_args__ = (
        CheckConstraint(f"status IN ({_VOUCHER_STATES})", name="status"),
        CheckConstraint("transfer_mode IN ('acceptance', 'notice')", name="transfer_mode"),
        CheckConstraint("face > 0 AND settled >= 0 AND cancelled >= 0 AND settled + cancelled <= face",
                        name="amounts"),
        CheckConstraint("maturity_date > issue_date", name="dates"),
        Index(None, "issuer_uscc", "status"),
        Index(None, "status", "maturity_date"),
    )

    voucher_no: Mapped[str] = mapped_column(String(40), unique=True)
    issuer_uscc: Mapped[str] = mapped_column(String(18))
    payee_uscc: Mapped[str] = mapped_column(String(18))
    payable_id: Mapped[int] = mapped_column(PK_TYPE, ForeignKey("voucher_payables.id"), index=True)
    payable_no: Mapped[str] = mapped_column(String(64))
    face: Mapped[Decimal] = mapped_column(Amount())
    issue_date: Mapped[date] = mapped_column(Date())
    maturity_date: Mapped[date] = mapped_column(Date())
    transferable: Mapped[bool] = mapped_column(Boolean())
    transfer_mode: Mapped[str] = mapped_column(String(16))
    tenor_review: Mapped[bool] = mapped_column(Boolean())
    status: Mapped[str] = mapped_column(String(16))
    next_seq: Mapped[int] = mapped_column(Integer())
    last_on: Mapped[date] = mapped_column(Date())
    settled: Mapped[Decimal] = mapped_column(Amount(), default=Decimal("0.00"))
    cancelled: Mapped[Decimal] = mapped_column(Amount(), default=Decimal("0.00"))


class HoldingRow(IdMixin, TimestampMixin, Base):
    """持有份额 (子票区间): the fen interval [range_start, range_end) of a voucher held by one party."""

    __tablename__ = "voucher_holdings"
    __table_args__ = (
        UniqueConstraint("voucher_id", "seq"),
        CheckConstraint("range_start >= 0 AND range_end > range_start", name="range"),
        # Amount is BIGINT fen underneath, so the stored amount is exactly the range's length.
        CheckConstraint("amount = range_end - range_start", name="amount_is_range"),
        CheckConstraint(f"status IN ({_HOLDING_STATES})", name="status"),
        CheckConstraint("(status = 'locked') = (pending_to IS NOT NULL)", name="pending"),
        Index(None, "holder", "status"),
        Index(None, "voucher_id", "status"),
        Index(None, "pending_to"),
    )

    voucher_id: Mapped[int] = mapped_column(PK_TYPE, ForeignKey("vouchers.id"))
    seq: Mapped[int] = mapped_column(Integer())
    parent_seq: Mapped[int | None] = mapped_column(Integer())
    range_start: Mapped[int] = mapped_column(BigInteger())
    range_end: Mapped[int] = mapped_column(BigInteger())
    amount: Mapped[Decimal] = mapped_column(Amount())
    holder: Mapped[str] = mapped_column(String(64))
    status: Mapped[str] = mapped_column(String(16))
    prior_status: Mapped[str | None] = mapped_column(String(16))
    pending_kind: Mapped[str | None] = mapped_column(String(16))
    pending_by: Mapped[str | None] = mapped_column(String(64))
    pending_to: Mapped[str | None] = mapped_column(String(64))
    pending_on: Mapped[date | None] = mapped_column(Date())
    pledgee: Mapped[str | None] = mapped_column(String(64))
    pledge_ref: Mapped[str | None] = mapped_column(String(64))
    opened_on: Mapped[date] = mapped_column(Date())
    closed_on: Mapped[date | None] = mapped_column(Date())


@make_append_only
class VoucherEventRow(IdMixin, CreatedAtMixin, Base):
    """One entry of a voucher's history (流转记录): never updated or deleted."""

    __tablename__ = "voucher_events"

    voucher_id: Mapped[int] = mapped_column(PK_TYPE, ForeignKey("vouchers.id"), index=True)
    kind: Mapped[str] = mapped_column(String(32))
    business_date: Mapped[date] = mapped_column(Date())
    by_party: Mapped[str] = mapped_column(String(64))
    actor: Mapped[str] = mapped_column(String(128))
    holdings: Mapped[list[Any]] = mapped_column(JSON_TYPE)
    details: Mapped[dict[str, Any]] = mapped_column(JSON_TYPE)


@make_append_only
class FinancingRow(IdMixin, CreatedAtMixin, Base):
    """贴现/保理: one financing of a holding, with its 动产融资统一登记公示系统 registration."""

    __tablename__ = "voucher_financings"
    __table_args__ = (
        UniqueConstraint("registration_ref"),
        CheckConstraint("interest >= 0 AND proceeds >= 0 AND interest + proceeds = face", name="amounts"),
    )

    voucher_id: Mapped[int] = mapped_column(PK_TYPE, ForeignKey("vouchers.id"), index=True)
    seq: Mapped[int] = mapped_column(Integer())
    parent_seq: Mapped[int] = mapped_column(Integer())
    seller: Mapped[str] = mapped_column(String(64))
    funder: Mapped[str] = mapped_column(String(64), index=True)
    registration_ref: Mapped[str] = mapped_column(String(64))
    annual_rate: Mapped[Decimal] = mapped_column(Rate())
    basis: Mapped[int] = mapped_column(SmallInteger())
    financed_on: Mapped[date] = mapped_column(Date())
    maturity_date: Mapped[date] = mapped_column(Date())
    payment_date: Mapped[date] = mapped_column(Date())
    days: Mapped[int] = mapped_column(Integer())
    face: Mapped[Decimal] = mapped_column(Amount())
    interest: Mapped[Decimal] = mapped_column(Amount())
    proceeds: Mapped[Decimal] = mapped_column(Amount())


@make_append_only
class PaymentRow(IdMixin, CreatedAtMixin, Base):
    """兑付: what the issuer paid for one holding at settlement, and to whom."""

    __tablename__ = "voucher_payments"
    __table_args__ = (
        UniqueConstraint("voucher_id", "seq"),
        CheckConstraint("amount > 0", name="amount"),
        Index(None, "paid_to"),
    )

    voucher_id: Mapped[int] = mapped_column(PK_TYPE, ForeignKey("vouchers.id"))
    seq: Mapped[int] = mapped_column(Integer())
    holder: Mapped[str] = mapped_column(String(64))
    paid_to: Mapped[str] = mapped_column(String(64))
    capacity: Mapped[str] = mapped_column(String(16))
    amount: Mapped[Decimal] = mapped_column(Amount())
    paid_on: Mapped[date] = mapped_column(Date())


APPEND_ONLY_TABLES = ("voucher_events", "voucher_financings", "voucher_payments")


# ---- mapping rows ↔ domain ----------------------------------------------------------------------------------


def limit_from_row(r: ChainLimitRow) -> ChainLimit:
    return ChainLimit(core=r.core_uscc, limit_fen=_fen(r.approved_limit), outstanding_fen=_fen(r.outstanding),
                      valid_from=r.valid_from, valid_to=r.valid_to, status=LimitStatus(r.status), name=r.name)


def payable_from_row(r: PayableRow) -> Payable:
    return Payable(no=r.payable_no, core=r.core_uscc, supplier=r.supplier_uscc, amount_fen=_fen(r.amount),
                   confirmed_on=r.confirmed_on, vouchered_fen=_fen(r.vouchered), due_date=r.due_date,
                   invoices=tuple(r.invoices or ()))


def voucher_from_row(r: VoucherRow, payable_no: str) -> Voucher:
    return Voucher(no=r.voucher_no, issuer=r.issuer_uscc, payee=r.payee_uscc, face_fen=_fen(r.face),
                   issue_date=r.issue_date, maturity_date=r.maturity_date, payable_no=payable_no,
                   transferable=r.transferable, transfer_mode=TransferMode(r.transfer_mode),
                   tenor_review=r.tenor_review, status=VoucherStatus(r.status), next_seq=r.next_seq,
                   last_on=r.last_on, settled_fen=_fen(r.settled), cancelled_fen=_fen(r.cancelled))


_H = HoldingRow.__table__.c


def holding_from_row(voucher_no: str, r: Mapping[str, Any]) -> Holding:
    pending = None
    if r["pending_to"] is not None:
        pending = Pending(kind=r["pending_kind"], by=r["pending_by"], to=r["pending_to"], on=r["pending_on"])
    return Holding(voucher_no=voucher_no, seq=r["seq"], start=r["range_start"], end=r["range_end"],
                   holder=r["holder"], status=HoldingStatus(r["status"]), opened_on=r["opened_on"],
                   parent=r["parent_seq"], closed_on=r["closed_on"],
                   prior_status=None if r["prior_status"] is None else HoldingStatus(r["prior_status"]),
                   pending=pending, pledgee=r["pledgee"], pledge_ref=r["pledge_ref"])


_HOLDING_COLUMNS = (_H.seq, _H.parent_seq, _H.range_start, _H.range_end, _H.holder, _H.status, _H.prior_status,
                    _H.pending_kind, _H.pending_by, _H.pending_to, _H.pending_on, _H.pledgee, _H.pledge_ref,
                    _H.opened_on, _H.closed_on)


def load_holdings(s: Session, voucher_id: int, voucher_no: str, *, seqs: Sequence[int] | None = None,
                  live_only: bool = False) -> list[Holding]:
    """Holdings of one voucher: the given `seqs`, the live ones, or all of them, ordered by seq."""
    stmt = select(*_HOLDING_COLUMNS).where(_H.voucher_id == voucher_id)
    if seqs is not None:
        stmt = stmt.where(_H.seq.in_(list(seqs)))
    if live_only:
        stmt = stmt.where(_H.status.in_([st.value for st in LIVE_STATUSES]))
    return [holding_from_row(voucher_no, r) for r in s.execute(stmt.order_by(_H.seq)).mappings()]


def _mutable(h: Holding) -> dict[str, Any]:
    """The columns an operation may change on an existing holding (its range and holder never change)."""
    p = h.pending
    return {"status": h.status.value,
            "prior_status": None if h.prior_status is None else h.prior_status.value,
            "pending_kind": p.kind if p else None, "pending_by": p.by if p else None,
            "pending_to": p.to if p else None, "pending_on": p.on if p else None, "pledgee": h.pledgee,
            "pledge_ref": h.pledge_ref, "closed_on": h.closed_on}


def _holding_values(voucher_id: int, h: Holding) -> dict[str, Any]:
    now = utcnow()
    return {"voucher_id": voucher_id, "seq": h.seq, "parent_seq": h.parent, "range_start": h.start,
            "range_end": h.end, "amount": _yuan(h.amount_fen), "holder": h.holder, "opened_on": h.opened_on,
            "created_at": now, "updated_at": now, **_mutable(h)}


#: Sequence numbers per `UPDATE … WHERE seq IN (…)`: well under SQLite's and PostgreSQL's bind limits.
_IN_CHUNK = 2000


def _update_holdings(s: Session, voucher_id: int, holdings: Sequence[Holding]) -> None:
    """Write changed holdings, one UPDATE per distinct set of new values (a settlement of 10,000 holdings
    is a handful of statements, not 10,000 round trips)."""
    groups: dict[tuple[Any, ...], list[int]] = {}
    for h in holdings:
        groups.setdefault(tuple(_mutable(h).items()), []).append(h.seq)
    now = utcnow()
    for values, seqs in groups.items():
        for i in range(0, len(seqs), _IN_CHUNK):
            s.execute(update(HoldingRow.__table__)
                      .where(_H.voucher_id == voucher_id, _H.seq.in_(seqs[i:i + _IN_CHUNK]))
                      .values(**dict(values), updated_at=now)
                      .execution_options(synchronize_session=False))


def write_change(s: Session, c: Change, *, voucher_row: VoucherRow, actor: str,
                 payable_row: PayableRow | None = None, limit_row: ChainLimitRow | None = None) -> None:
    """Write one operation's `Change`: the voucher, holdings (updated in bulk, created in bulk), the payable
    and chain limit if they changed, the event, financings and payments. The caller holds the row locks."""
    v = c.voucher
    voucher_row.status = v.status.value
    voucher_row.next_seq = v.next_seq
    voucher_row.last_on = v.last_on
    voucher_row.settled = _yuan(v.settled_fen)
    voucher_row.cancelled = _yuan(v.cancelled_fen)
    if c.payable is not None:
        assert payable_row is not None and payable_row.payable_no == c.payable.no
        payable_row.vouchered = _yuan(c.payable.vouchered_fen)
    if c.limit is not None:
        assert limit_row is not None and limit_row.core_uscc == c.limit.core
        limit_row.outstanding = _yuan(c.limit.outstanding_fen)
    if voucher_row.id is None:
        s.flush()
    vid = voucher_row.id
    if c.updated:
        _update_holdings(s, vid, c.updated)
    if c.created:
        s.execute(insert(HoldingRow.__table__), [_holding_values(vid, h) for h in c.created])
    e = c.event
    s.execute(insert(VoucherEventRow.__table__).values(
        voucher_id=vid, kind=e.kind, business_date=e.on, by_party=e.by, actor=actor, holdings=list(e.holdings),
        details=dict(e.details), created_at=utcnow()))
    if c.financings:
        s.add_all([_financing_row(vid, f) for f in c.financings])
    if c.payments:
        now = utcnow()
        s.execute(insert(PaymentRow.__table__), [
            {"voucher_id": vid, "seq": p.seq, "holder": p.holder, "paid_to": p.paid_to, "capacity": p.capacity,
             "amount": _yuan(p.amount_fen), "paid_on": p.on, "created_at": now} for p in c.payments])


def _financing_row(voucher_id: int, f: Financing) -> FinancingRow:
    q = f.quote
    return FinancingRow(voucher_id=voucher_id, seq=f.seq, parent_seq=f.parent, seller=f.seller, funder=f.funder,
                        registration_ref=f.registration_ref, annual_rate=q.annual_rate.value, basis=q.basis,
                        financed_on=f.on, maturity_date=q.maturity, payment_date=q.payment_date, days=q.days,
                        face=_yuan(q.face_fen), interest=_yuan(q.interest_fen), proceeds=_yuan(q.proceeds_fen))


def financing_from_row(voucher_no: str, r: FinancingRow) -> Financing:
    quote = DiscountQuote(face_fen=_fen(r.face), annual_rate=AnnualRate.of(r.annual_rate), start=r.financed_on,
                          maturity=r.maturity_date, payment_date=r.payment_date, days=r.days, basis=r.basis,
                          interest_fen=_fen(r.interest), proceeds_fen=_fen(r.proceeds))
    return Financing(voucher_no=voucher_no, seq=r.seq, parent=r.parent_seq, seller=r.seller, funder=r.funder,
                     registration_ref=r.registration_ref, quote=quote, on=r.financed_on)


def payment_from_row(voucher_no: str, r: Mapping[str, Any]) -> Payment:
    return Payment(voucher_no=voucher_no, seq=r["seq"], holder=r["holder"], paid_to=r["paid_to"],
                   capacity=r["capacity"], amount_fen=_fen(r["amount"]), on=r["paid_on"])


def event_from_row(voucher_no: str, r: VoucherEventRow) -> VoucherEvent:
    return VoucherEvent(voucher_no=voucher_no, kind=r.kind, on=r.business_date, by=r.by_party,
                        holdings=tuple(int(x) for x in r.holdings), details=dict(r.details or {}))


def iter_holding_rows(s: Session, voucher_ids: Iterable[int]) -> Iterable[Mapping[str, Any]]:
    """All holdings of the given vouchers as row mappings (with voucher_id), for reconciliation."""
    ids = list(voucher_ids)
    if not ids:
        return []
    return s.execute(select(_H.voucher_id, *_HOLDING_COLUMNS).where(_H.voucher_id.in_(ids))
                     .order_by(_H.voucher_id, _H.seq)).mappings()
