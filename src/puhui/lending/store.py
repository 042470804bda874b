"""Lending tables on the store base, and the repository functions that map them to the domain.

Tables: `lending_state` (the open business date; one row), `loan_contracts` (signed contracts and their
evidence, append-only), `credit_lines` and `credit_line_changes` (the change log, append-only), `loans`
(one row per drawdown: terms, sub-ledger balances 分户账余额, overdue state and the accrual cursor),
`loan_instalments` (schedule lines with what was paid; superseded lines stay), `repayments` and
`loan_transactions` (sub-ledger detail, append-only), `journal_entries` and `journal_postings` (the
general ledger, append-only: a correction is a reversing entry), `eod_runs` and `eod_steps` (end-of-day
progress; a step is one committed batch and never runs twice).

Amounts are integer fen (`Amount`), rates exact (`Rate`); unrounded carries (积数 remainders) are kept as
decimal text so nothing is ever cut. Append-only tables refuse UPDATE/DELETE in the ORM and, through
triggers, in the database (`puhui.store.audit.make_append_only`; the migration adds the triggers).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from datetime import date, datetime
from decimal import Decimal
from functools import lru_cache
from typing import Any

from sqlalchemy import (
    Boolean,
    CheckConstraint,
    Date,
    ForeignKey,
    Index,
    Integer,
    SmallInteger,
    String,
    Text,
    UniqueConstraint,
    bindparam,
    func,
    insert,
    select,
    update,
)
from sqlalchemy.orm import Mapped, Session, mapped_column

from puhui.core.calendar import RollRule
from puhui.core.daycount import DayCount
from puhui.core.errors import NotFound
from puhui.core.money import Rounding
from puhui.core.rates import AnnualRate
from puhui.lending.allocation import parse_order
from puhui.lending.classification import FiveClass
from puhui.lending.ledger import JournalEntry
from puhui.lending.lines import CreditLine, LineStatus
from puhui.lending.loans import AccruingLine, Instalment, InstalmentStatus, LoanAccount, LoanEvent, LoanStatus
from puhui.lending.terms import RepaymentMethod
from puhui.store.audit import make_append_only
from puhui.store.base import Base, CreatedAtMixin, IdMixin, TimestampMixin
from puhui.store.types import JSON_TYPE, PK_TYPE, Amount, Rate, UTCDateTime, utcnow

__all__ = [
    "APPEND_ONLY_TABLES",
    "CreditLineRow",
    "EodRun",
    "EodStep",
    "InstalmentRow",
    "JournalEntryRow",
    "JournalPostingRow",
    "LendingState",
    "LineChangeRow",
    "LoanContractRow",
    "LoanRow",
    "LoanTransactionRow",
    "RepaymentRow",
    "gl_balances",
    "insert_entry",
    "insert_loan",
    "line_from_row",
    "load_loan",
    "loan_from_row",
    "save_loan",
]

_ZERO = Decimal("0.00")


class LendingState(Base):
    """营业日: the first business date whose end of day has not completed, and a running end of day."""

    __tablename__ = "lending_state"

    id: Mapped[int] = mapped_column(Integer(), primary_key=True, autoincrement=False)
    open_date: Mapped[date] = mapped_column(Date())
    eod_running_for: Mapped[date | None] = mapped_column(Date())


@make_append_only
class LoanContractRow(IdMixin, CreatedAtMixin, Base):
    """A signed contract: its text, structured terms and the e-signature evidence (电子签名法 Art 13)."""

    __tablename__ = "loan_contracts"

    contract_no: Mapped[str] = mapped_column(String(64), unique=True)
    borrower_id: Mapped[str] = mapped_column(String(64), index=True)
    text: Mapped[str] = mapped_column(Text())
    text_sha256: Mapped[str] = mapped_column(String(64))
    evidence_sha256: Mapped[str] = mapped_column(String(64))
    terms: Mapped[dict[str, Any]] = mapped_column(JSON_TYPE)
    signer: Mapped[str] = mapped_column(String(128))
    signed_at: Mapped[datetime] = mapped_column(UTCDateTime())
    signature: Mapped[str | None] = mapped_column(Text())
    certificate: Mapped[str | None] = mapped_column(String(200))
    business_date: Mapped[date] = mapped_column(Date())


class CreditLineRow(IdMixin, TimestampMixin, Base):
    """授信额度: limit, validity, status and what is drawn."""

    __tablename__ = "credit_lines"
    __table_args__ = (
        CheckConstraint("status IN ('active', 'frozen', 'expired', 'closed')", name="status"),
        CheckConstraint("credit_limit >= 0 AND drawn_principal >= 0 AND drawn_total >= drawn_principal",
                        name="amounts"),
        Index(None, "status", "valid_to"),
    )

    contract_id: Mapped[int] = mapped_column(PK_TYPE, ForeignKey("loan_contracts.id"), unique=True)
    borrower_id: Mapped[str] = mapped_column(String(64), index=True)
    currency: Mapped[str] = mapped_column(String(3), default="CNY")
    credit_limit: Mapped[Decimal] = mapped_column(Amount())
    drawn_principal: Mapped[Decimal] = mapped_column(Amount(), default=_ZERO)
    drawn_total: Mapped[Decimal] = mapped_column(Amount(), default=_ZERO)
    revolving: Mapped[bool] = mapped_column(Boolean())
    valid_from: Mapped[date] = mapped_column(Date())
    valid_to: Mapped[date] = mapped_column(Date())
    status: Mapped[str] = mapped_column(String(16))
    terms: Mapped[dict[str, Any]] = mapped_column(JSON_TYPE)


@make_append_only
class LineChangeRow(IdMixin, CreatedAtMixin, Base):
    """One change of a line's status or limit (额度变更日志)."""

    __tablename__ = "credit_line_changes"

    line_id: Mapped[int] = mapped_column(PK_TYPE, ForeignKey("credit_lines.id"), index=True)
    business_date: Mapped[date] = mapped_column(Date())
    kind: Mapped[str] = mapped_column(String(16))
    before: Mapped[dict[str, Any]] = mapped_column(JSON_TYPE)
    after: Mapped[dict[str, Any]] = mapped_column(JSON_TYPE)
    reason: Mapped[str] = mapped_column(Text())
    actor: Mapped[str] = mapped_column(String(128))


class LoanRow(IdMixin, TimestampMixin, Base):
    """One drawdown (借据): its terms, sub-ledger balances, overdue state and accrual cursor."""

    __tablename__ = "loans"
    __table_args__ = (
        CheckConstraint("status IN ('active', 'closed')", name="status"),
        CheckConstraint("principal >= 0 AND overdue_principal >= 0 AND overdue_principal <= principal",
                        name="principal"),
        CheckConstraint("five_class BETWEEN 1 AND 5", name="five_class"),
        Index(None, "status", "borrower_id"),
    )

    line_id: Mapped[int | None] = mapped_column(PK_TYPE, ForeignKey("credit_lines.id"), index=True)
    contract_id: Mapped[int | None] = mapped_column(PK_TYPE, ForeignKey("loan_contracts.id"))
    borrower_id: Mapped[str] = mapped_column(String(64), index=True)
    currency: Mapped[str] = mapped_column(String(3), default="CNY")
    status: Mapped[str] = mapped_column(String(16))
    principal_original: Mapped[Decimal] = mapped_column(Amount())
    annual_rate: Mapped[Decimal] = mapped_column(Rate())
    penalty_rate: Mapped[Decimal] = mapped_column(Rate())
    method: Mapped[str] = mapped_column(String(32))
    day_count: Mapped[str] = mapped_column(String(16))
    rounding: Mapped[str] = mapped_column(String(16))
    multiples_of: Mapped[Decimal | None] = mapped_column(Amount())
    repayment_day: Mapped[int | None] = mapped_column(SmallInteger())
    roll: Mapped[str] = mapped_column(String(32))
    term_months: Mapped[int] = mapped_column(Integer())
    start_date: Mapped[date] = mapped_column(Date())
    maturity_date: Mapped[date] = mapped_column(Date())
    allocation_order: Mapped[str] = mapped_column(String(200))
    level: Mapped[Decimal | None] = mapped_column(Amount())
    principal: Mapped[Decimal] = mapped_column(Amount())
    overdue_principal: Mapped[Decimal] = mapped_column(Amount())
    overdue_interest: Mapped[Decimal] = mapped_column(Amount())
    interest_accrued: Mapped[Decimal] = mapped_column(Amount())
    interest_paid: Mapped[Decimal] = mapped_column(Amount())
    interest_receivable: Mapped[Decimal] = mapped_column(Amount())
    interest_suspense: Mapped[Decimal] = mapped_column(Amount())
    interest_base: Mapped[Decimal] = mapped_column(Amount())
    penalty_accrued: Mapped[Decimal] = mapped_column(Amount())
    compound_accrued: Mapped[Decimal] = mapped_column(Amount())
    penalty_paid: Mapped[Decimal] = mapped_column(Amount())
    compound_paid: Mapped[Decimal] = mapped_column(Amount())
    penalty_receivable: Mapped[Decimal] = mapped_column(Amount())
    penalty_suspense: Mapped[Decimal] = mapped_column(Amount())
    five_class: Mapped[int] = mapped_column(SmallInteger())
    dpd: Mapped[int] = mapped_column(Integer())
    non_accrual: Mapped[bool] = mapped_column(Boolean())
    oldest_unpaid_due: Mapped[date | None] = mapped_column(Date())
    next_due: Mapped[date | None] = mapped_column(Date())
    eod_through: Mapped[date | None] = mapped_column(Date())
    closed_on: Mapped[date | None] = mapped_column(Date())
    acc_period: Mapped[int | None] = mapped_column(Integer())
    acc_start: Mapped[date | None] = mapped_column(Date())
    acc_end: Mapped[date | None] = mapped_column(Date())
    acc_opening: Mapped[Decimal | None] = mapped_column(Amount())
    acc_interest: Mapped[Decimal | None] = mapped_column(Amount())
    acc_carry: Mapped[str | None] = mapped_column(String(64))
    acc_monthly: Mapped[bool | None] = mapped_column(Boolean())
    accrual: Mapped[dict[str, Any] | None] = mapped_column(JSON_TYPE)


class InstalmentRow(IdMixin, Base):
    """One schedule line of a loan (还款计划) and what has been paid on it."""

    __tablename__ = "loan_instalments"
    __table_args__ = (
        CheckConstraint("status IN ('pending', 'overdue', 'paid', 'superseded')", name="status"),
        CheckConstraint("paid_principal <= principal AND paid_interest <= interest", name="paid"),
        Index(None, "loan_id", "status"),
    )

    loan_id: Mapped[int] = mapped_column(PK_TYPE, ForeignKey("loans.id"))
    period: Mapped[int] = mapped_column(Integer())
    due_date: Mapped[date] = mapped_column(Date())
    accrual_start: Mapped[date] = mapped_column(Date())
    accrual_end: Mapped[date] = mapped_column(Date())
    principal: Mapped[Decimal] = mapped_column(Amount())
    interest: Mapped[Decimal] = mapped_column(Amount())
    balance: Mapped[Decimal] = mapped_column(Amount())
    monthly: Mapped[bool] = mapped_column(Boolean())
    carry: Mapped[str] = mapped_column(String(64), default="0")
    paid_principal: Mapped[Decimal] = mapped_column(Amount(), default=_ZERO)
    paid_interest: Mapped[Decimal] = mapped_column(Amount(), default=_ZERO)
    status: Mapped[str] = mapped_column(String(16))
    created_on: Mapped[date] = mapped_column(Date())


@make_append_only
class RepaymentRow(IdMixin, CreatedAtMixin, Base):
    """One repayment (还款): amount received, how it was split, and its journal entry."""

    __tablename__ = "repayments"

    loan_id: Mapped[int] = mapped_column(PK_TYPE, ForeignKey("loans.id"), index=True)
    business_date: Mapped[date] = mapped_column(Date())
    kind: Mapped[str] = mapped_column(String(16))
    mode: Mapped[str | None] = mapped_column(String(32))
    amount: Mapped[Decimal] = mapped_column(Amount())
    applied: Mapped[Decimal] = mapped_column(Amount())
    unapplied: Mapped[Decimal] = mapped_column(Amount())
    principal: Mapped[Decimal] = mapped_column(Amount())
    interest: Mapped[Decimal] = mapped_column(Amount())
    penalty: Mapped[Decimal] = mapped_column(Amount())
    compound: Mapped[Decimal] = mapped_column(Amount())
    prepaid_principal: Mapped[Decimal] = mapped_column(Amount())
    journal_entry_id: Mapped[int | None] = mapped_column(PK_TYPE, ForeignKey("journal_entries.id"))


@make_append_only
class LoanTransactionRow(IdMixin, CreatedAtMixin, Base):
    """分户账明细: a notable event of one loan (drawdown, repayment, overdue, reclassify, to_suspense)."""

    __tablename__ = "loan_transactions"

    loan_id: Mapped[int] = mapped_column(PK_TYPE, ForeignKey("loans.id"), index=True)
    business_date: Mapped[date] = mapped_column(Date())
    kind: Mapped[str] = mapped_column(String(32))
    amount: Mapped[Decimal] = mapped_column(Amount())
    principal: Mapped[Decimal] = mapped_column(Amount())
    interest: Mapped[Decimal] = mapped_column(Amount())
    penalty: Mapped[Decimal] = mapped_column(Amount())
    compound: Mapped[Decimal] = mapped_column(Amount())
    details: Mapped[dict[str, Any]] = mapped_column(JSON_TYPE, default=dict)
    journal_entry_id: Mapped[int | None] = mapped_column(PK_TYPE, ForeignKey("journal_entries.id"))


@make_append_only
class JournalEntryRow(IdMixin, CreatedAtMixin, Base):
    """记账凭证: a balanced entry; its postings are `JournalPostingRow`s."""

    __tablename__ = "journal_entries"

    business_date: Mapped[date] = mapped_column(Date(), index=True)
    kind: Mapped[str] = mapped_column(String(16))
    ref: Mapped[str] = mapped_column(String(120), unique=True)
    description: Mapped[str] = mapped_column(Text())
    loan_id: Mapped[int | None] = mapped_column(PK_TYPE, ForeignKey("loans.id"), index=True)
    reverses_id: Mapped[int | None] = mapped_column(PK_TYPE, ForeignKey("journal_entries.id"))


@make_append_only
class JournalPostingRow(IdMixin, Base):
    """One leg of a journal entry: debit positive, credit negative, whole fen."""

    __tablename__ = "journal_postings"

    entry_id: Mapped[int] = mapped_column(PK_TYPE, ForeignKey("journal_entries.id"), index=True)
    account: Mapped[str] = mapped_column(String(64), index=True)
    amount: Mapped[Decimal] = mapped_column(Amount())
    memo: Mapped[str] = mapped_column(String(120), default="")


class EodRun(IdMixin, TimestampMixin, Base):
    """One business date's end of day: running until every step and the reconciliation are done."""

    __tablename__ = "eod_runs"
    __table_args__ = (CheckConstraint("status IN ('running', 'done')", name="status"),)

    business_date: Mapped[date] = mapped_column(Date(), unique=True)
    status: Mapped[str] = mapped_column(String(16))
    steps: Mapped[int] = mapped_column(Integer(), default=0)
    loans: Mapped[int] = mapped_column(Integer(), default=0)
    summary: Mapped[dict[str, Any] | None] = mapped_column(JSON_TYPE)


@make_append_only
class EodStep(IdMixin, CreatedAtMixin, Base):
    """One committed end-of-day batch (a set of borrowers on one date); its presence means done."""

    __tablename__ = "eod_steps"
    __table_args__ = (UniqueConstraint("business_date", "step"),)

    business_date: Mapped[date] = mapped_column(Date())
    step: Mapped[int] = mapped_column(Integer())
    loans: Mapped[int] = mapped_column(Integer())
    journal_entry_id: Mapped[int | None] = mapped_column(PK_TYPE, ForeignKey("journal_entries.id"))


#: Tables whose rows are never updated or deleted (the migration adds their triggers).
APPEND_ONLY_TABLES = (
    "loan_contracts",
    "credit_line_changes",
    "repayments",
    "loan_transactions",
    "journal_entries",
    "journal_postings",
    "eod_steps",
)

# ---- mapping ----------------------------------------------------------------------------------------

_BALANCES = (
    "principal", "overdue_principal", "overdue_interest", "interest_accrued", "interest_paid",
    "interest_receivable", "interest_suspense", "interest_base", "penalty_accrued", "compound_accrued",
    "penalty_paid", "compound_paid", "penalty_receivable", "penalty_suspense",
)
_STATE = ("dpd", "non_accrual", "oldest_unpaid_due", "next_due", "eod_through", "closed_on")


_METHOD = {m.value: m for m in RepaymentMethod}
_DAY_COUNT = {d.value: d for d in DayCount}
_ROUNDING = {r.name.lower(): r for r in Rounding}
_ROLL = {r.value: r for r in RollRule}
_STATUS = {x.value: x for x in LoanStatus}
_CLASS = {int(c): c for c in FiveClass}
_order = lru_cache(maxsize=256)(parse_order)
_annual = lru_cache(maxsize=4096)(AnnualRate)


def loan_from_row(r: Any) -> LoanAccount:
    """A `LoanAccount` from a Core row of `loans` (instalments not loaded)."""
    get = r._mapping.__getitem__
    loan = LoanAccount(
        loan_id=get("id"), line_id=get("line_id"), borrower_id=get("borrower_id"),
        principal_original=get("principal_original"), annual_rate=_annual(get("annual_rate")),
        penalty_rate=_annual(get("penalty_rate")), method=_METHOD[get("method")],
        day_count=_DAY_COUNT[get("day_count")], rounding=_ROUNDING[get("rounding")],
        multiples_of=get("multiples_of"), repayment_day=get("repayment_day"), roll=_ROLL[get("roll")],
        term_months=get("term_months"), start=get("start_date"), maturity=get("maturity_date"),
        allocation_order=_order(get("allocation_order")), status=_STATUS[get("status")],
        level=get("level"), five_class=_CLASS[get("five_class")],
    )
    for name in _BALANCES + _STATE:
        setattr(loan, name, get(name))
    if get("acc_period") is not None:
        loan.acc = AccruingLine(get("acc_period"), get("acc_start"), get("acc_end"), get("acc_opening"),
                                get("acc_interest"), Decimal(get("acc_carry")), bool(get("acc_monthly")))
    loan.load_accrual_state(get("accrual"))
    return loan


def loan_values(loan: LoanAccount) -> dict[str, Any]:
    """The mutable columns of a loan row (balances, state, cursor, accumulators)."""
    v: dict[str, Any] = {name: getattr(loan, name) for name in _BALANCES + _STATE}
    a = loan.acc
    v.update(
        status=loan.status.value, five_class=int(loan.five_class), level=loan.level,
        acc_period=None if a is None else a.period, acc_start=None if a is None else a.start,
        acc_end=None if a is None else a.end, acc_opening=None if a is None else a.opening,
        acc_interest=None if a is None else a.interest, acc_carry=None if a is None else str(a.carry),
        acc_monthly=None if a is None else a.monthly, accrual=loan.accrual_state(),
    )
    return v


def _instalment(r: Any) -> Instalment:
    return Instalment(r.period, r.due_date, r.accrual_start, r.accrual_end, r.principal, r.interest, r.balance,
                      bool(r.monthly), Decimal(r.carry), r.paid_principal, r.paid_interest,
                      InstalmentStatus(r.status), r.id)


_OPEN = ("pending", "overdue")


def load_open_lines(session: Session, loan_ids: Sequence[int]) -> dict[int, list[Instalment]]:
    """Open (pending and overdue) instalments of `loan_ids`, in period order, by loan."""
    out: dict[int, list[Instalment]] = {i: [] for i in loan_ids}
    t = InstalmentRow.__table__
    for chunk in _chunks(list(loan_ids), 500):
        rows = session.execute(
            select(t).where(t.c.loan_id.in_(chunk), t.c.status.in_(_OPEN)).order_by(t.c.loan_id, t.c.period)
        )
        for r in rows:
            out[r.loan_id].append(_instalment(r))
    return out


def _chunks(items: list[Any], n: int) -> Iterable[list[Any]]:
    for i in range(0, len(items), n):
        yield items[i:i + n]


def load_loan(session: Session, loan_id: int, *, lock: bool = True, lines: bool = True) -> LoanAccount:
    """One loan (row-locked with `lock`, as `get_for_update`), with its open instalments."""
    stmt = select(LoanRow.__table__).where(LoanRow.__table__.c.id == loan_id)
    if lock:
        stmt = stmt.with_for_update()
    row = session.execute(stmt).first()
    if row is None:
        raise NotFound(f"loan {loan_id} does not exist", code="loan_not_found", loan_id=loan_id)
    loan = loan_from_row(row)
    if lines:
        loan.lines = load_open_lines(session, [loan_id])[loan_id]
    return loan


def new_loan_values(loan: LoanAccount, *, contract_id: int | None) -> dict[str, Any]:
    """Every column of a new loan's row (terms and initial state)."""
    values = loan_values(loan)
    values.update(
        line_id=loan.line_id, contract_id=contract_id, borrower_id=loan.borrower_id,
        principal_original=loan.principal_original, annual_rate=loan.annual_rate.value,
        penalty_rate=loan.penalty_rate.value, method=loan.method.value, day_count=loan.day_count.value,
        rounding=loan.rounding.name.lower(), multiples_of=loan.multiples_of, repayment_day=loan.repayment_day,
        roll=loan.roll.value, term_months=loan.term_months, start_date=loan.start, maturity_date=loan.maturity,
        allocation_order=",".join(b.value for b in loan.allocation_order),
    )
    return values


def insert_loan(session: Session, loan: LoanAccount, *, contract_id: int | None, on: date) -> int:
    """Insert a new loan and its schedule; sets `loan.loan_id`."""
    row = LoanRow(**new_loan_values(loan, contract_id=contract_id))
    session.add(row)
    session.flush()
    loan.loan_id = row.id
    insert_instalments(session, loan.loan_id, loan.lines or [], on)
    return row.id


def insert_instalments(session: Session, loan_id: int, lines: Sequence[Instalment], on: date) -> None:
    if not lines:
        return
    session.execute(insert(InstalmentRow), [instalment_values(loan_id, ln, on) for ln in lines])


def instalment_values(loan_id: int, ln: Instalment, on: date) -> dict[str, Any]:
    return {
        "loan_id": loan_id, "period": ln.period, "due_date": ln.due_date, "accrual_start": ln.accrual_start,
        "accrual_end": ln.accrual_end, "principal": ln.principal, "interest": ln.interest, "balance": ln.balance,
        "monthly": ln.monthly, "carry": str(ln.carry), "paid_principal": ln.paid_principal,
        "paid_interest": ln.paid_interest, "status": ln.status.value, "created_on": on,
    }


def save_loan(session: Session, loans: Sequence[LoanAccount], *, on: date,
              superseded: Sequence[Instalment] = (), originals: Mapping[int, Any] | None = None) -> None:
    """Write back loans (balances, state) and their loaded instalments; insert new ones (no id yet).

    With `originals` (loan id → the row it was loaded from) only the columns that changed are written,
    grouped into one executemany per set of changed columns: end of day changes four or five of them.
    """
    if not loans:
        return
    rows = []
    for loan in loans:
        values = loan_values(loan)
        if originals is not None:
            before = originals[loan.loan_id]._mapping  # type: ignore[index]
            values = {k: v for k, v in values.items() if before[k] != v}
        rows.append((loan.loan_id, values))
    _update_loans(session, rows)
    changed: list[dict[str, Any]] = []
    new: list[dict[str, Any]] = []
    for loan in loans:
        for ln in list(loan.lines or []) + list(superseded):
            if ln.id is None:
                new.append(instalment_values(loan.loan_id, ln, on))  # type: ignore[arg-type]
            else:
                changed.append({"b_id": ln.id, "b_status": ln.status.value, "b_paid_principal": ln.paid_principal,
                                "b_paid_interest": ln.paid_interest})
    if changed:
        t = InstalmentRow.__table__
        session.execute(update(t).where(t.c.id == bindparam("b_id")).values(
            status=bindparam("b_status"), paid_principal=bindparam("b_paid_principal"),
            paid_interest=bindparam("b_paid_interest")), changed)
    if new:
        session.execute(insert(InstalmentRow), new)


def _update_loans(session: Session, rows: Sequence[tuple[int | None, dict[str, Any]]]) -> None:
    t = LoanRow.__table__
    groups: dict[tuple[str, ...], list[dict[str, Any]]] = {}
    for loan_id, values in rows:
        if values:
            keys = tuple(sorted(values))
            groups.setdefault(keys, []).append({"b_id": loan_id, **{f"b_{k}": v for k, v in values.items()}})
    now = utcnow()
    for keys, params in groups.items():
        stmt = (update(t).where(t.c.id == bindparam("b_id"))
                .values({**{k: bindparam(f"b_{k}") for k in keys}, "updated_at": now}))
        session.execute(stmt, params)


def line_from_row(row: CreditLineRow) -> CreditLine:
    return CreditLine(row.borrower_id, row.credit_limit, row.valid_from, row.valid_to, row.revolving,
                      LineStatus(row.status), row.drawn_principal, row.drawn_total)


def insert_entry(session: Session, entry: JournalEntry, *, loan_id: int | None = None,
                 reverses_id: int | None = None) -> int:
    """Append a journal entry and its postings; returns its id (its `ref` is unique: a second post fails)."""
    t = JournalEntryRow.__table__
    entry_id = session.execute(
        insert(t).values(business_date=entry.business_date, kind=entry.kind.value, ref=entry.ref,
                         description=entry.description[:2000], loan_id=loan_id, reverses_id=reverses_id,
                         created_at=utcnow()).returning(t.c.id)
    ).scalar_one()
    session.execute(insert(JournalPostingRow), [
        {"entry_id": entry_id, "account": p.account, "amount": p.amount, "memo": p.memo[:120]}
        for p in entry.postings
    ])
    return int(entry_id)


def insert_events(session: Session, loan_id: int | None, events: Iterable[LoanEvent | tuple[int, LoanEvent]], *,
                  journal_entry_id: int | None = None) -> None:
    """Append sub-ledger transactions: `events` of `loan_id`, or (loan id, event) pairs when it is None."""
    now = utcnow()
    rows = []
    for item in events:
        lid, e = (loan_id, item) if isinstance(item, LoanEvent) else item
        rows.append({"loan_id": lid, "business_date": e.business_date, "kind": e.kind, "amount": e.amount,
                     "principal": e.principal, "interest": e.interest, "penalty": e.penalty,
                     "compound": e.compound, "details": e.details, "journal_entry_id": journal_entry_id,
                     "created_at": now})
    if rows:
        session.execute(insert(LoanTransactionRow), rows)


def gl_balances(session: Session) -> dict[str, Decimal]:
    """Every account's balance (debit positive) summed from the postings."""
    t = JournalPostingRow.__table__
    rows = session.execute(select(t.c.account, func.sum(t.c.amount)).group_by(t.c.account))
    return {account: _amount(total) for account, total in rows}


def _amount(total: Any) -> Decimal:
    return _ZERO if total is None else Decimal(total).quantize(Decimal("0.01"))
