"""Shared helpers for the lending service, end-of-day, API and concurrency tests (not a test module)."""

from __future__ import annotations

import itertools
from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import Engine, select, text

from puhui.lending import service
from puhui.lending.store import (
    CreditLineRow,
    InstalmentRow,
    JournalEntryRow,
    JournalPostingRow,
    LineChangeRow,
    LoanRow,
    LoanTransactionRow,
    RepaymentRow,
)
from puhui.store.db import transaction

_keys = itertools.count(1)

TERMS: dict[str, Any] = {
    "limit": "500000", "valid_from": "2026-01-05", "valid_to": "2026-12-31", "annual_rate": "0.0435",
    "methods": ["revolving", "equal_instalment", "equal_principal", "interest_only", "bullet"],
    "max_term_months": 12,
}


def key() -> str:
    return f"test-key-{next(_keys)}"


def open_line(engine: Engine, *, on: date | str = "2026-01-05", borrower: str = "91110108MA01BORR01",
              contract_no: str | None = None, **terms: Any) -> int:
    """Sign a contract and open its line; returns the line id."""
    no = contract_no or f"HT-{next(_keys)}"
    c = service.do_sign_contract(engine, contract_no=no, borrower_id=borrower, text=f"借款合同 {no}",
                                 terms={**TERMS, **terms}, signer="法定代表人", on=on,
                                 signed_at=datetime(2026, 1, 5, 2, 0, tzinfo=UTC), idempotency_key=key())
    return int(service.do_open_line(engine, contract_id=c.body["contract_id"], on=on,
                                    idempotency_key=key()).body["line_id"])


def draw(engine: Engine, line_id: int, amount: str, on: date | str = "2026-01-05", **kw: Any) -> int:
    return int(service.do_drawdown(engine, line_id, amount=amount, on=on, idempotency_key=key(), **kw)
               .body["loan_id"])


def books(engine: Engine) -> dict[str, Any]:
    """What 'the books' are for an unchanged-books check: GL balances, entry count, loans, lines."""
    with transaction(engine, write=False) as s:
        return {
            "gl": service.gl_balances(s),
            "entries": s.execute(text("SELECT count(*) FROM journal_entries")).scalar_one(),
            "loans": s.execute(text("SELECT count(*) FROM loans")).scalar_one(),
            "repayments": s.execute(text("SELECT count(*) FROM repayments")).scalar_one(),
            "lines": [(r.id, r.status, r.credit_limit, r.drawn_principal) for r in
                      s.scalars(select(CreditLineRow).order_by(CreditLineRow.id))],
            "keys": s.execute(text("SELECT count(*) FROM idempotency_keys")).scalar_one(),
        }


_SKIP = {"created_at", "updated_at"}


def _rows(s: Any, model: Any, order: Any) -> list[tuple[Any, ...]]:
    t = model.__table__
    cols = [c for c in t.c if c.name not in _SKIP]
    return [tuple(r) for r in s.execute(select(*cols).order_by(*order))]


def snapshot(engine: Engine) -> dict[str, Any]:
    """Everything the ledger and sub-ledger hold, minus wall-clock timestamps: equal books compare equal."""
    with transaction(engine, write=False) as s:
        return {
            "entries": _rows(s, JournalEntryRow, [JournalEntryRow.id]),
            "postings": _rows(s, JournalPostingRow, [JournalPostingRow.id]),
            "loans": _rows(s, LoanRow, [LoanRow.id]),
            "instalments": _rows(s, InstalmentRow, [InstalmentRow.loan_id, InstalmentRow.period, InstalmentRow.id]),
            "repayments": _rows(s, RepaymentRow, [RepaymentRow.id]),
            "transactions": _rows(s, LoanTransactionRow, [LoanTransactionRow.id]),
            "lines": _rows(s, CreditLineRow, [CreditLineRow.id]),
            "changes": _rows(s, LineChangeRow, [LineChangeRow.id]),
        }


def reconcile(engine: Engine) -> dict[str, Any]:
    with transaction(engine, write=False) as s:
        return service.reconcile(s)


def gl(engine: Engine, account: str) -> Decimal:
    with transaction(engine, write=False) as s:
        return service.gl_balances(s).get(account, Decimal("0.00"))
