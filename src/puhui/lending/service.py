"""Lending use cases: one transaction each, every state change a `do_*` action with its audit row.

Zulip-style actions — `do_sign_contract`, `do_open_line`, `do_freeze_line`, `do_unfreeze_line`,
`do_reduce_line`, `do_close_line`, `do_drawdown`, `do_repay` — each load what they change (row-locked),
call the pure domain (`contracts`, `lines`, `loans`), write the rows, the journal entry, the sub-ledger
detail and the audit record, and commit once. Nothing else in puhui changes lending state.

**Money moves once.** Every action takes an `idempotency_key` (required for drawdowns and repayments):
the claim, the work and the stored response commit in the same transaction (`puhui.store.idempotency`),
so a replay returns the stored response (`Posted.replayed`), a key reused for another request is a 422,
and a key still held by an unfinished request is a 409. A refused request rolls back whole — the books,
the key and the audit trail are unchanged.

**Business dates.** Actions are dated by the business date `on` and accepted only on the *open* business
date (`lending_state.open_date`, the first date whose end of day has not run; the first action ever
sets it): an earlier date is `business_date_closed`, a later one `eod_pending` (run `puhui eod` first),
and while an end of day runs every action is `eod_running` (409). Each action holds a share lock on the
state row, so end of day starts only once in-flight actions have committed.

**Concurrency.** A drawdown locks its credit line (`SELECT … FOR UPDATE` on PostgreSQL; SQLite serialises
writers with `BEGIN IMMEDIATE`), so concurrent drawdowns never take more than the available limit. A
repayment locks the loan, then the line (one lock order everywhere: state → line | loan → line).

Queries (`get_line`, `get_loan`, `loan_schedule`, `loan_statement`, `line_statement`, `payoff_quote`,
`trial_balance`, `reconcile`) read in one snapshot and return JSON-ready dicts.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import Engine, func, select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from puhui.core.dates import parse_date
from puhui.core.errors import Conflict, NotFound, PolicyViolation, ValidationError
from puhui.core.money import Money
from puhui.lending.accrual import penalty_rate
from puhui.lending.classification import FiveClass
from puhui.lending.contracts import ContractTerms, SignedContract, parse_amount, sign, verify
from puhui.lending.ledger import (
    CLEARING,
    INTEREST_INCOME,
    INTEREST_RECEIVABLE,
    LOANS_BY_CLASS,
    PENALTY_INCOME,
    PENALTY_RECEIVABLE,
    SUSPENSE_CONTRA,
    SUSPENSE_INTEREST,
    SUSPENSE_PENALTY,
    BalanceAssertion,
    Balances,
    EntryKind,
    ReconciliationError,
    TrialBalance,
    make_entry,
)
from puhui.lending.lines import CreditLine, LineChange, LineStatus
from puhui.lending.loans import LoanAccount, LoanEvent, RepaymentKind, open_loan
from puhui.lending.prepayment import PrepaymentMode
from puhui.lending.schedule import build_schedule
from puhui.lending.store import (
    CreditLineRow,
    InstalmentRow,
    LendingState,
    LineChangeRow,
    LoanContractRow,
    LoanRow,
    LoanTransactionRow,
    RepaymentRow,
    gl_balances,
    insert_entry,
    insert_events,
    insert_loan,
    line_from_row,
    load_loan,
    save_loan,
)
from puhui.lending.terms import LoanTerms, RepaymentMethod
from puhui.store import audit, idempotency
from puhui.store.db import transaction
from puhui.store.idempotency import Posted

__all__ = [
    "Posted",
    "business_date",
    "do_close_line",
    "do_drawdown",
    "do_freeze_line",
    "do_open_line",
    "do_reduce_line",
    "do_repay",
    "do_sign_contract",
    "do_unfreeze_line",
    "get_contract",
    "get_line",
    "get_loan",
    "line_statement",
    "loan_schedule",
    "loan_statement",
    "payoff_quote",
    "preview_schedule",
    "reconcile",
    "trial_balance",
]

_ZERO = Decimal("0.00")


# ---- plumbing -----------------------------------------------------------------------------------------


def _date(on: date | str, field: str = "on") -> date:
    return parse_date(on, field=field)


def _scope(actor: str, action: str) -> str:
    return f"{actor}:lending.{action}"[:200]


def _act(
    engine: Engine,
    *,
    actor: str,
    action: str,
    key: str | None,
    request: dict[str, Any],
    status: int,
    work: Callable[[Session], dict[str, Any]],
) -> Posted:
    """Run `work` in one writing transaction behind the idempotency key (if any)."""
    return idempotency.run_once(engine, scope=_scope(actor, action), action=action,
                                key=key, request=request, status=status,
                                work=work)


def _require_key(key: str | None) -> str:
    if key is None:
        raise ValidationError("an Idempotency-Key is required for a posting", code="idempotency_key_required",
                              field="Idempotency-Key")
    return key


def _state(s: Session, *, lock: str | None) -> LendingState | None:
    stmt = select(LendingState).where(LendingState.id == 1).execution_options(populate_existing=True)
    if lock == "share":
        stmt = stmt.with_for_update(read=True)
    elif lock == "update":
        stmt = stmt.with_for_update()
    return s.execute(stmt).scalar_one_or_none()


def open_day(s: Session, on: date) -> None:
    """Accept `on` only as the open business date (see the module docstring); sets it on first use."""
    st = _state(s, lock="share")
    if st is None:
        insert = postgresql.insert if s.get_bind().dialect.name == "postgresql" else sqlite.insert
        s.execute(insert(LendingState.__table__).values(id=1, open_date=on).on_conflict_do_nothing())
        st = _state(s, lock="share")
        assert st is not None
    if st.eod_running_for is not None:
        raise Conflict(f"end of day for {st.eod_running_for} is running; retry when it is done",
                       code="eod_running", business_date=st.eod_running_for.isoformat())
    if on < st.open_date:
        raise Conflict(f"business date {on} is closed; the open business date is {st.open_date}",
                       code="business_date_closed", on=on.isoformat(), open_date=st.open_date.isoformat())
    if on > st.open_date:
        raise Conflict(f"end of day has not run through {st.open_date}; run `puhui eod --date` first",
                       code="eod_pending", on=on.isoformat(), open_date=st.open_date.isoformat())


def business_date(engine: Engine) -> dict[str, Any]:
    """The open business date and the date of a running end of day (None when nothing has happened yet)."""
    with transaction(engine, write=False) as s:
        st = _state(s, lock=None)
        return {
            "open_date": None if st is None else st.open_date.isoformat(),
            "eod_running_for": None if st is None or st.eod_running_for is None else st.eod_running_for.isoformat(),
        }


def default_on(engine: Engine, on: date | str | None) -> date:
    """`on`, or the open business date when None (a ValidationError when there is none yet)."""
    if on is not None:
        return _date(on)
    opened = business_date(engine)["open_date"]
    if opened is None:
        raise ValidationError("no business date is open yet: pass the business date", code="business_date_required",
                              field="business_date")
    return date.fromisoformat(opened)


def _rate(d: Decimal) -> str:
    n = d.normalize()
    return format(n, "f")


# ---- contracts --------------------------------------------------------------------------------------


def _signed(row: LoanContractRow) -> SignedContract:
    return SignedContract(row.contract_no, row.borrower_id, row.text, ContractTerms.from_json(row.terms), row.signer,
                          row.signed_at, row.text_sha256, row.evidence_sha256, row.signature, row.certificate)


def _contract_json(row: LoanContractRow, *, with_text: bool = False) -> dict[str, Any]:
    out = {
        "contract_id": row.id, "contract_no": row.contract_no, "borrower_id": row.borrower_id,
        "terms": row.terms, "signer": row.signer, "signed_at": row.signed_at.isoformat(),
        "text_sha256": row.text_sha256, "evidence_sha256": row.evidence_sha256, "signature": row.signature,
        "certificate": row.certificate, "business_date": row.business_date.isoformat(),
        "verified": verify(_signed(row)),
    }
    if with_text:
        out["text"] = row.text
    return out


def do_sign_contract(
    engine: Engine,
    *,
    contract_no: str,
    borrower_id: str,
    text: str,
    terms: ContractTerms | dict[str, Any],
    signer: str,
    signed_at: datetime,
    on: date | str,
    actor: str = "system",
    signature: str | None = None,
    certificate: str | None = None,
    idempotency_key: str | None = None,
) -> Posted:
    """签约: record a signed contract with its evidence (text hash, signer, instant). 201."""
    on = _date(on)
    terms = terms if isinstance(terms, ContractTerms) else ContractTerms.from_json(terms)
    signed = sign(contract_no=contract_no, borrower_id=borrower_id, text=text, terms=terms, signer=signer,
                  signed_at=signed_at, signature=signature, certificate=certificate)

    def work(s: Session) -> dict[str, Any]:
        open_day(s, on)
        if s.execute(select(LoanContractRow.id).where(LoanContractRow.contract_no == signed.contract_no)).first():
            raise Conflict(f"contract {signed.contract_no} is already signed", code="contract_exists",
                           contract_no=signed.contract_no)
        row = LoanContractRow(
            contract_no=signed.contract_no, borrower_id=signed.borrower_id, text=signed.text,
            text_sha256=signed.text_sha256, evidence_sha256=signed.evidence_sha256, terms=terms.to_json(),
            signer=signed.signer, signed_at=signed.signed_at, signature=signature, certificate=certificate,
            business_date=on,
        )
        s.add(row)
        s.flush()
        audit.record(s, actor=actor, action="sign_contract", entity="loan_contract", entity_id=row.id,
                     payload={"contract_no": row.contract_no, "text_sha256": row.text_sha256}, business_date=on)
        return _contract_json(row)

    request = {"contract_no": contract_no, "borrower_id": borrower_id, "text_sha256": signed.text_sha256,
               "terms": terms.to_json(), "signer": signer, "signed_at": signed.signed_at.isoformat(),
               "on": on.isoformat()}
    return _act(engine, actor=actor, action="sign_contract", key=idempotency_key, request=request, status=201,
                work=work)


def get_contract(engine: Engine, contract_id: int, *, with_text: bool = True) -> dict[str, Any]:
    with transaction(engine, write=False) as s:
        row = s.get(LoanContractRow, contract_id)
        if row is None:
            raise NotFound(f"contract {contract_id} does not exist", code="contract_not_found")
        return _contract_json(row, with_text=with_text)


# ---- credit lines -------------------------------------------------------------------------------------


def _line_json(row: CreditLineRow) -> dict[str, Any]:
    line = line_from_row(row)
    return {
        "line_id": row.id, "contract_id": row.contract_id, "borrower_id": row.borrower_id,
        "status": row.status, "limit": str(row.credit_limit), "available": str(line.available),
        "drawn_principal": str(row.drawn_principal), "drawn_total": str(row.drawn_total),
        "revolving": row.revolving, "valid_from": row.valid_from.isoformat(), "valid_to": row.valid_to.isoformat(),
        "currency": row.currency, "terms": row.terms,
    }


def _lock_line(s: Session, line_id: int) -> CreditLineRow:
    row = s.execute(select(CreditLineRow).where(CreditLineRow.id == line_id).with_for_update()
                    .execution_options(populate_existing=True)).scalar_one_or_none()
    if row is None:
        raise NotFound(f"credit line {line_id} does not exist", code="line_not_found", line_id=line_id)
    return row


def _write_line(s: Session, row: CreditLineRow, line: CreditLine, change: LineChange | None, actor: str) -> None:
    row.status = line.status.value
    row.credit_limit = line.limit
    row.drawn_principal = line.drawn_principal
    row.drawn_total = line.drawn_total
    if change is not None:
        s.add(LineChangeRow(line_id=row.id, business_date=change.on, kind=change.kind.value, before=change.before,
                            after=change.after, reason=change.reason, actor=actor))
        audit.record(s, actor=actor, action=f"{change.kind.value}_line", entity="credit_line", entity_id=row.id,
                     payload={"before": change.before, "after": change.after, "reason": change.reason},
                     business_date=change.on)


def do_open_line(engine: Engine, *, contract_id: int, on: date | str, actor: str = "system",
                 idempotency_key: str | None = None) -> Posted:
    """开立额度: a credit line from a signed contract whose evidence still verifies. 201."""
    on = _date(on)

    def work(s: Session) -> dict[str, Any]:
        open_day(s, on)
        crow = s.get(LoanContractRow, contract_id)
        if crow is None:
            raise NotFound(f"contract {contract_id} does not exist", code="contract_not_found")
        if not verify(_signed(crow)):
            raise PolicyViolation(f"contract {crow.contract_no}: the stored text or terms no longer match the "
                                  "signature evidence", code="contract_evidence_mismatch")
        if s.execute(select(CreditLineRow.id).where(CreditLineRow.contract_id == contract_id)).first():
            raise Conflict(f"contract {crow.contract_no} already has a credit line", code="line_exists")
        terms = ContractTerms.from_json(crow.terms)
        if on > terms.valid_to:
            raise PolicyViolation(f"the contract's validity ended on {terms.valid_to}", code="outside_validity")
        row = CreditLineRow(contract_id=crow.id, borrower_id=crow.borrower_id, credit_limit=terms.limit,
                            drawn_principal=_ZERO, drawn_total=_ZERO, revolving=terms.revolving,
                            valid_from=terms.valid_from, valid_to=terms.valid_to, status=LineStatus.ACTIVE.value,
                            terms=crow.terms)
        s.add(row)
        s.flush()
        line = line_from_row(row)
        s.add(LineChangeRow(line_id=row.id, business_date=on, kind="open", before={}, after=line.snapshot(),
                            reason=f"contract {crow.contract_no}", actor=actor))
        audit.record(s, actor=actor, action="open_line", entity="credit_line", entity_id=row.id,
                     payload={"contract_no": crow.contract_no, "limit": str(terms.limit)}, business_date=on)
        return _line_json(row)

    return _act(engine, actor=actor, action="open_line", key=idempotency_key,
                request={"contract_id": contract_id, "on": on.isoformat()}, status=201, work=work)


def _line_action(engine: Engine, line_id: int, *, action: str, on: date | str, actor: str, key: str | None,
                 request: dict[str, Any],
                 change: Callable[[CreditLine, date], tuple[CreditLine, LineChange]]) -> Posted:
    on = _date(on)

    def work(s: Session) -> dict[str, Any]:
        open_day(s, on)
        row = _lock_line(s, line_id)
        line, log = change(line_from_row(row), on)
        _write_line(s, row, line, log, actor)
        return _line_json(row)

    return _act(engine, actor=actor, action=action, key=key,
                request={"line_id": line_id, "on": on.isoformat(), **request}, status=200, work=work)


def do_freeze_line(engine: Engine, line_id: int, *, on: date | str, reason: str, actor: str = "system",
                   idempotency_key: str | None = None) -> Posted:
    """冻结: stop drawdowns on a line."""
    return _line_action(engine, line_id, action="freeze_line", on=on, actor=actor, key=idempotency_key,
                        request={"reason": reason}, change=lambda ln, d: ln.freeze(d, reason))


def do_unfreeze_line(engine: Engine, line_id: int, *, on: date | str, reason: str, actor: str = "system",
                     idempotency_key: str | None = None) -> Posted:
    """解冻: allow drawdowns again."""
    return _line_action(engine, line_id, action="unfreeze_line", on=on, actor=actor, key=idempotency_key,
                        request={"reason": reason}, change=lambda ln, d: ln.unfreeze(d, reason))


def do_reduce_line(engine: Engine, line_id: int, *, new_limit: Decimal | str | int, on: date | str, reason: str,
                   actor: str = "system", idempotency_key: str | None = None) -> Posted:
    """压降: lower the limit (loans already drawn are untouched)."""
    limit = parse_amount(new_limit, "limit", allow_zero=True)
    return _line_action(engine, line_id, action="reduce_line", on=on, actor=actor, key=idempotency_key,
                        request={"reason": reason, "limit": str(limit)},
                        change=lambda ln, d: ln.reduce(limit, d, reason))


def do_close_line(engine: Engine, line_id: int, *, on: date | str, reason: str, actor: str = "system",
                  idempotency_key: str | None = None) -> Posted:
    """终止: close a line with nothing outstanding."""
    return _line_action(engine, line_id, action="close_line", on=on, actor=actor, key=idempotency_key,
                        request={"reason": reason}, change=lambda ln, d: ln.close(d, reason))


def get_line(engine: Engine, line_id: int) -> dict[str, Any]:
    with transaction(engine, write=False) as s:
        row = s.get(CreditLineRow, line_id)
        if row is None:
            raise NotFound(f"credit line {line_id} does not exist", code="line_not_found", line_id=line_id)
        return _line_json(row)


def line_statement(engine: Engine, line_id: int) -> dict[str, Any]:
    """额度对账单: the line, its change log and its loans."""
    with transaction(engine, write=False) as s:
        row = s.get(CreditLineRow, line_id)
        if row is None:
            raise NotFound(f"credit line {line_id} does not exist", code="line_not_found", line_id=line_id)
        changes = s.scalars(select(LineChangeRow).where(LineChangeRow.line_id == line_id).order_by(LineChangeRow.id))
        t = LoanRow.__table__
        loans = s.execute(select(t.c.id, t.c.status, t.c.principal_original, t.c.principal, t.c.start_date,
                                 t.c.maturity_date, t.c.five_class, t.c.dpd).where(t.c.line_id == line_id)
                          .order_by(t.c.id))
        return {
            **_line_json(row),
            "changes": [{"business_date": c.business_date.isoformat(), "kind": c.kind, "before": c.before,
                         "after": c.after, "reason": c.reason, "actor": c.actor} for c in changes],
            "loans": [{"loan_id": r.id, "status": r.status, "principal_original": str(r.principal_original),
                       "principal": str(r.principal), "start": r.start_date.isoformat(),
                       "maturity": r.maturity_date.isoformat(), "five_class": FiveClass(r.five_class).key,
                       "dpd": r.dpd} for r in loans],
        }


# ---- drawdowns ----------------------------------------------------------------------------------------


def _borrower_class(s: Session, borrower_id: str) -> FiveClass:
    t = LoanRow.__table__
    worst = s.execute(select(func.max(t.c.five_class)).where(t.c.borrower_id == borrower_id,
                                                             t.c.status == "active")).scalar_one()
    return FiveClass(worst) if worst is not None else FiveClass.NORMAL


def loan_terms_for(terms: ContractTerms, *, amount: Decimal, on: date, term_months: int | None,
                   method: str | RepaymentMethod | None) -> LoanTerms:
    """The `LoanTerms` of a drawdown under a line's contract terms (method and term checked against them)."""
    m = terms.method if method is None else RepaymentMethod.parse(method)
    if m not in terms.methods:
        raise PolicyViolation(f"the contract does not offer {m.value} ({m.chinese}); it offers "
                              f"{[x.value for x in terms.methods]}", code="method_not_allowed", method=m.value)
    n = terms.max_term_months if term_months is None else term_months
    if isinstance(n, bool) or not isinstance(n, int) or n < 1:
        raise ValidationError(f"term_months must be a positive whole number, got {n!r}", code="invalid_term",
                              field="term_months")
    if n > terms.max_term_months:
        raise PolicyViolation(f"term {n} months exceeds the contract's {terms.max_term_months}",
                              code="term_exceeds_max", max_term_months=terms.max_term_months)
    return LoanTerms(principal=Money(amount), annual_rate=terms.annual_rate, term_months=n, method=m, start=on,
                     day_count=terms.day_count, rounding=terms.rounding, multiples_of=terms.multiples_of,
                     repayment_day=terms.repayment_day, roll=terms.roll)


def do_drawdown(
    engine: Engine,
    line_id: int,
    *,
    amount: Decimal | str | int,
    on: date | str,
    idempotency_key: str | None,
    term_months: int | None = None,
    method: str | None = None,
    actor: str = "system",
) -> Posted:
    """用信/放款: draw `amount` on the open business date; opens a loan with its schedule. 201.

    Refusals (nothing written): `line_not_found`, `line_frozen`, `line_expired`, `line_closed`,
    `outside_validity`, `over_limit`, `method_not_allowed`, `unknown_repayment_method`, `term_exceeds_max`,
    `non_positive_amount`, `sub_fen_amount`.
    """
    key = _require_key(idempotency_key)
    on = _date(on)
    value = parse_amount(amount, "amount")
    if method is not None:
        RepaymentMethod.parse(method)

    def work(s: Session) -> dict[str, Any]:
        open_day(s, on)
        row = _lock_line(s, line_id)
        line = line_from_row(row)
        line.check_drawdown(value, on)
        terms = ContractTerms.from_json(row.terms)
        loan_terms = loan_terms_for(terms, amount=value, on=on, term_months=term_months, method=method)
        prate = penalty_rate(terms.annual_rate, on, uplift=terms.penalty_uplift)
        loan, legs = open_loan(terms=loan_terms, borrower_id=row.borrower_id, line_id=row.id, penalty_rate=prate,
                               five_class=_borrower_class(s, row.borrower_id),
                               allocation_order=terms.allocation_order)
        loan_id = insert_loan(s, loan, contract_id=row.contract_id, on=on)
        entry = make_entry(on, EntryKind.DRAWDOWN, f"drawdown:loan:{loan_id}",
                           f"drawdown of loan {loan_id} on line {row.id}", legs)
        assert entry is not None
        entry_id = insert_entry(s, entry, loan_id=loan_id)
        insert_events(s, loan_id, [LoanEvent("drawdown", on, value, value, details={"line_id": row.id})],
                      journal_entry_id=entry_id)
        _write_line(s, row, line.draw(value, on), None, actor)
        audit.record(s, actor=actor, action="drawdown", entity="loan", entity_id=loan_id,
                     payload={"line_id": row.id, "amount": str(value), "method": loan.method.value,
                              "term_months": loan.term_months}, business_date=on)
        body = _loan_json(loan, on)
        body["line"] = _line_json(row)
        body["schedule"] = [_line_row(ln) for ln in loan.lines or []]
        return body

    request = {"line_id": line_id, "amount": str(value), "on": on.isoformat(), "term_months": term_months,
               "method": method}
    return _act(engine, actor=actor, action="drawdown", key=key, request=request, status=201, work=work)


# ---- repayments ---------------------------------------------------------------------------------------


def do_repay(
    engine: Engine,
    loan_id: int,
    *,
    amount: Decimal | str | int,
    on: date | str,
    idempotency_key: str | None,
    kind: RepaymentKind | str = RepaymentKind.REGULAR,
    mode: PrepaymentMode | str = PrepaymentMode.REDUCE_INSTALMENT,
    actor: str = "system",
) -> Posted:
    """还款: apply `amount` received on the open business date (regular, prepayment or payoff). 201.

    Principal repaid restores the line's available limit. Refusals (nothing written): `loan_not_found`,
    `loan_closed`, `non_positive_amount`, `nothing_due`, `amount_exceeds_due`, `insufficient_for_prepayment`,
    `insufficient_for_payoff`, `unknown_repayment_kind`, `unknown_prepayment_mode`, `eod_pending`, ….
    """
    key = _require_key(idempotency_key)
    on = _date(on)
    value = parse_amount(amount, "amount")
    kind = RepaymentKind.parse(kind)
    mode = PrepaymentMode.parse(mode)

    def work(s: Session) -> dict[str, Any]:
        open_day(s, on)
        loan = load_loan(s, loan_id, lock=True)
        out = loan.repay(value, on, kind=kind, mode=mode)
        seq = s.execute(select(func.count()).select_from(RepaymentRow).where(RepaymentRow.loan_id == loan_id)
                        ).scalar_one() + 1
        entry = make_entry(on, EntryKind.REPAYMENT, f"repayment:loan:{loan_id}:{seq}",
                           f"{kind.value} repayment {seq} of loan {loan_id}", out.legs)
        entry_id = insert_entry(s, entry, loan_id=loan_id) if entry is not None else None
        rep = RepaymentRow(loan_id=loan_id, business_date=on, kind=kind.value,
                           mode=mode.value if kind is RepaymentKind.PREPAYMENT else None, amount=out.amount,
                           applied=out.applied, unapplied=out.unapplied, principal=out.principal,
                           interest=out.interest, penalty=out.penalty, compound=out.compound,
                           prepaid_principal=out.prepaid_principal, journal_entry_id=entry_id)
        s.add(rep)
        s.flush()
        save_loan(s, [loan], on=on, superseded=out.superseded)
        details = {"repayment_id": rep.id, "kind": kind.value, "unapplied": str(out.unapplied),
                   "prepaid_principal": str(out.prepaid_principal)}
        if out.allocation is not None:
            details["by_bucket"] = {b.value: str(m.amount) for b, m in out.allocation.by_bucket.items() if m.amount}
        events = [LoanEvent("repayment", on, out.applied, out.principal, out.interest, out.penalty, out.compound,
                            details)]
        if out.closed:
            events.append(LoanEvent("closed", on))
        insert_events(s, loan_id, events, journal_entry_id=entry_id)
        line_json = None
        if loan.line_id is not None and out.principal:
            lrow = _lock_line(s, loan.line_id)
            _write_line(s, lrow, line_from_row(lrow).restore(out.principal), None, actor)
            line_json = _line_json(lrow)
        audit.record(s, actor=actor, action="repay", entity="loan", entity_id=loan_id,
                     payload={"repayment_id": rep.id, **out.to_json()}, business_date=on)
        body = {"repayment_id": rep.id, "loan_id": loan_id, **out.to_json(), "loan": _loan_json(loan, on)}
        if line_json is not None:
            body["line"] = line_json
        return body

    request = {"loan_id": loan_id, "amount": str(value), "on": on.isoformat(), "kind": kind.value,
               "mode": mode.value}
    return _act(engine, actor=actor, action="repay", key=key, request=request, status=201, work=work)


# ---- loan queries -------------------------------------------------------------------------------------


def _line_row(ln: Any) -> dict[str, Any]:
    return {
        "period": ln.period, "due_date": ln.due_date.isoformat(), "principal": str(ln.principal),
        "interest": str(ln.interest), "instalment": str(ln.principal + ln.interest), "balance": str(ln.balance),
        "paid_principal": str(ln.paid_principal), "paid_interest": str(ln.paid_interest),
        "status": ln.status if isinstance(ln.status, str) else ln.status.value,
    }


def _loan_json(loan: LoanAccount, on: date | None = None) -> dict[str, Any]:
    out: dict[str, Any] = {
        "loan_id": loan.loan_id, "line_id": loan.line_id, "borrower_id": loan.borrower_id,
        "status": loan.status.value, "method": loan.method.value, "annual_rate": _rate(loan.annual_rate.value),
        "penalty_rate": _rate(loan.penalty_rate.value), "day_count": loan.day_count.value,
        "term_months": loan.term_months, "start": loan.start.isoformat(), "maturity": loan.maturity.isoformat(),
        "principal_original": str(loan.principal_original), "principal": str(loan.principal),
        "overdue_principal": str(loan.overdue_principal), "overdue_interest": str(loan.overdue_interest),
        "interest_accrued": str(loan.interest_accrued), "interest_paid": str(loan.interest_paid),
        "interest_receivable": str(loan.interest_receivable), "interest_suspense": str(loan.interest_suspense),
        "penalty_owed": str(loan.penalty_owed), "compound_owed": str(loan.compound_owed),
        "five_class": loan.five_class.key, "five_class_cn": loan.five_class.chinese, "dpd": loan.dpd,
        "non_accrual": loan.non_accrual,
        "next_due": None if loan.next_due is None else loan.next_due.isoformat(),
        "eod_through": None if loan.eod_through is None else loan.eod_through.isoformat(),
        "closed_on": None if loan.closed_on is None else loan.closed_on.isoformat(),
    }
    if on is not None and loan.lines is not None and loan.status.value == "active":
        out["due_now"] = str(loan.due_now(on))
    return out


def get_loan(engine: Engine, loan_id: int, *, on: date | str | None = None) -> dict[str, Any]:
    """A loan's balances and state, with what is due on `on` (default: the open business date)."""
    day = default_on(engine, on)
    with transaction(engine, write=False) as s:
        return _loan_json(load_loan(s, loan_id, lock=False), day)


def loan_schedule(engine: Engine, loan_id: int) -> dict[str, Any]:
    """还款计划: the current schedule (superseded lines excluded) with what is paid on each line."""
    with transaction(engine, write=False) as s:
        load_loan(s, loan_id, lock=False, lines=False)
        rows = s.scalars(select(InstalmentRow).where(InstalmentRow.loan_id == loan_id,
                                                     InstalmentRow.status != "superseded")
                         .order_by(InstalmentRow.period))
        return {"loan_id": loan_id, "lines": [_line_row(r) for r in rows]}


def loan_statement(engine: Engine, loan_id: int) -> dict[str, Any]:
    """贷款对账单: the loan, its transactions (drawdown, repayments, overdue, reclassification, …)."""
    with transaction(engine, write=False) as s:
        loan = load_loan(s, loan_id, lock=False)
        txns = s.scalars(select(LoanTransactionRow).where(LoanTransactionRow.loan_id == loan_id)
                         .order_by(LoanTransactionRow.id))
        return {
            **_loan_json(loan),
            "transactions": [
                {"business_date": t.business_date.isoformat(), "kind": t.kind, "amount": str(t.amount),
                 "principal": str(t.principal), "interest": str(t.interest), "penalty": str(t.penalty),
                 "compound": str(t.compound), "details": t.details} for t in txns
            ],
        }


def payoff_quote(engine: Engine, loan_id: int, *, on: date | str | None = None) -> dict[str, Any]:
    """提前结清 quote for `on` (default: the open business date)."""
    day = default_on(engine, on)
    with transaction(engine, write=False) as s:
        loan = load_loan(s, loan_id, lock=False)
        loan.check_open_day(day)
        q = loan.payoff_quote(day)
        return {"loan_id": loan_id, "business_date": day.isoformat(), "due_now": str(q.due_now),
                "principal": str(q.principal), "interest": str(q.interest), "total": str(q.total)}


def preview_schedule(*, principal: Any, annual_rate: Any, term_months: Any, method: Any, start: Any,
                     day_count: Any = "ACT/360", rounding: Any = "half_up", multiples_of: Any = None,
                     repayment_day: Any = None) -> dict[str, Any]:
    """A schedule computed from terms alone (nothing stored); unknown method or day count → 422."""
    terms = LoanTerms(principal=principal, annual_rate=annual_rate, term_months=term_months, method=method,
                      start=start, day_count=day_count, rounding=rounding, multiples_of=multiples_of,
                      repayment_day=repayment_day)
    sched = build_schedule(terms)
    return {"method": terms.method.value, "day_count": terms.day_count.value, "lines": sched.to_rows(),
            "total_interest": str(sched.total_interest.amount), "total_principal": str(sched.total_principal.amount)}


# ---- books --------------------------------------------------------------------------------------------


def trial_balance(engine: Engine) -> TrialBalance:
    """试算平衡表 from every posting."""
    with transaction(engine, write=False) as s:
        return Balances(gl_balances(s)).trial_balance()


def reconcile(s: Session) -> dict[str, Any]:
    """总分核对: assert the GL control accounts equal the loan sub-ledger and the trial balance balances.

    Raises `ReconciliationError` naming every failed assertion; returns the checked figures.
    """
    books = Balances(gl_balances(s))
    t = LoanRow.__table__
    by_class = {FiveClass(c): v for c, v in s.execute(select(t.c.five_class, func.sum(t.c.principal))
                                                        .group_by(t.c.five_class))}
    cols = ("interest_receivable", "penalty_receivable", "interest_suspense", "penalty_suspense",
            "interest_accrued", "interest_paid", "penalty_accrued", "compound_accrued", "penalty_paid",
            "compound_paid", "principal_original")
    row = s.execute(select(*[func.coalesce(func.sum(t.c[c]), 0) for c in cols])).one()
    v = {c: Decimal(x).quantize(Decimal("0.01")) for c, x in zip(cols, row, strict=True)}
    applied = Decimal(s.execute(select(func.coalesce(func.sum(RepaymentRow.__table__.c.amount -
                                                             RepaymentRow.__table__.c.unapplied), 0))).scalar_one())
    assertions = [
        BalanceAssertion(LOANS_BY_CLASS[c], by_class.get(c, _ZERO) or _ZERO, f"Σ principal of {c.key} loans")
        for c in FiveClass
    ]
    penalty_net = v["penalty_accrued"] + v["compound_accrued"]
    assertions += [
        BalanceAssertion(INTEREST_RECEIVABLE, v["interest_receivable"], "Σ loan interest receivable"),
        BalanceAssertion(PENALTY_RECEIVABLE, v["penalty_receivable"], "Σ loan penalty receivable"),
        BalanceAssertion(SUSPENSE_INTEREST, v["interest_suspense"], "Σ loan interest in suspense"),
        BalanceAssertion(SUSPENSE_PENALTY, v["penalty_suspense"], "Σ loan penalty in suspense"),
        BalanceAssertion(SUSPENSE_CONTRA, -(v["interest_suspense"] + v["penalty_suspense"]), "memo contra"),
        BalanceAssertion(INTEREST_INCOME, -(v["interest_accrued"] - v["interest_suspense"]),
                         "Σ interest accrued − in suspense"),
        BalanceAssertion(PENALTY_INCOME, -(penalty_net - v["penalty_suspense"]), "Σ 罚息/复利 accrued − in suspense"),
        BalanceAssertion(CLEARING, applied.quantize(Decimal("0.01")) - v["principal_original"],
                         "Σ repayments applied − Σ drawn"),
    ]
    books.check(assertions)
    books.trial_balance().assert_balanced()
    problems = []
    if v["interest_receivable"] + v["interest_suspense"] != v["interest_accrued"] - v["interest_paid"]:
        problems.append("Σ interest receivable + suspense ≠ Σ accrued − paid")
    if v["penalty_receivable"] + v["penalty_suspense"] != penalty_net - v["penalty_paid"] - v["compound_paid"]:
        problems.append("Σ penalty receivable + suspense ≠ Σ accrued − paid")
    lt = CreditLineRow.__table__
    drawn = dict(s.execute(select(lt.c.id, lt.c.drawn_principal)).all())
    outstanding = dict(s.execute(select(t.c.line_id, func.sum(t.c.principal)).where(t.c.line_id.is_not(None))
                                 .group_by(t.c.line_id)).all())
    for line_id, d in drawn.items():
        if (outstanding.get(line_id) or _ZERO) != d:
            problems.append(f"line {line_id}: drawn {d} ≠ Σ loan principal {outstanding.get(line_id) or _ZERO}")
    if problems:
        raise ReconciliationError("sub-ledger inconsistent: " + "; ".join(problems), failures=problems)
    return {"accounts": {k: str(val) for k, val in sorted(books.amounts.items())},
            "loans_principal": str(sum(by_class.values(), _ZERO))}
