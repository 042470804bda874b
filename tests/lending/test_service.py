"""Lending use cases on SQLite and PostgreSQL: actions, audit, idempotency, business dates, bad input."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest
from sqlalchemy import Engine, text
from sqlalchemy.exc import DBAPIError

from puhui.core.errors import Conflict, NotFound, PolicyViolation, PuhuiError, ValidationError
from puhui.lending import service
from puhui.lending.classification import FiveClass
from puhui.lending.contracts import text_digest
from puhui.lending.eod import run_eod
from puhui.lending.ledger import CLEARING, LOANS_BY_CLASS, EntryKind, ReconciliationError, make_entry, reverse
from puhui.lending.store import JournalEntryRow, insert_entry
from puhui.store import audit, idempotency
from puhui.store.db import transaction
from tests.lending._lendkit import books, draw, gl, key, open_line, reconcile

D0 = date(2026, 1, 5)
NORMAL = LOANS_BY_CLASS[FiveClass.NORMAL]


def test_sign_open_draw_and_repay_keep_the_books(db_engine: Engine) -> None:
    line_id = open_line(db_engine)
    p = service.do_drawdown(db_engine, line_id, amount="120000", on=D0, method="equal_instalment",
                            idempotency_key=key())
    assert p.status == 201 and not p.replayed
    loan_id = p.body["loan_id"]
    assert p.body["line"]["available"] == "380000.00"
    assert len(p.body["schedule"]) == 12
    assert sum(Decimal(r["principal"]) for r in p.body["schedule"]) == Decimal("120000.00")
    assert (gl(db_engine, NORMAL), gl(db_engine, CLEARING)) == (Decimal("120000.00"), Decimal("-120000.00"))
    reconcile(db_engine)
    run_eod(db_engine, until="2026-02-04")
    loan = service.get_loan(db_engine, loan_id)
    assert loan["due_now"] == p.body["schedule"][0]["instalment"]
    r = service.do_repay(db_engine, loan_id, amount=loan["due_now"], on="2026-02-05", idempotency_key=key())
    assert r.body["principal"] == p.body["schedule"][0]["principal"]
    assert r.body["line"]["available"] == str(Decimal("380000.00") + Decimal(r.body["principal"]))
    reconcile(db_engine)
    with transaction(db_engine, write=False) as s:
        actions = [a.action for a in audit.history(s, "loan", loan_id)]
        assert actions == ["drawdown", "repay"]
        assert [a.action for a in audit.history(s, "credit_line", line_id)] == ["open_line"]
        refs = list(s.scalars(text("SELECT ref FROM journal_entries WHERE loan_id = :i ORDER BY id"), {"i": loan_id}))
        assert refs == [f"drawdown:loan:{loan_id}", f"repayment:loan:{loan_id}:1"]
    sched = service.loan_schedule(db_engine, loan_id)["lines"]
    assert sched[0]["status"] == "paid" and sched[1]["status"] == "pending"
    statement = service.loan_statement(db_engine, loan_id)
    assert [t["kind"] for t in statement["transactions"]] == ["drawdown", "repayment"]


def test_a_replay_posts_once_and_returns_the_stored_response(db_engine: Engine) -> None:
    line_id = open_line(db_engine)
    k = key()
    first = service.do_drawdown(db_engine, line_id, amount="1000", on=D0, idempotency_key=k)
    before = books(db_engine)
    again = service.do_drawdown(db_engine, line_id, amount="1000", on=D0, idempotency_key=k)
    assert again.replayed and again.status == 201 and again.body == first.body
    assert books(db_engine) == before
    with pytest.raises(ValidationError) as e:
        service.do_drawdown(db_engine, line_id, amount="1001", on=D0, idempotency_key=k)
    assert e.value.code == "idempotency_key_reused"
    with pytest.raises(ValidationError) as e:
        service.do_drawdown(db_engine, line_id, amount="1", on=D0, idempotency_key=None)
    assert e.value.code == "idempotency_key_required"


def test_a_key_still_in_flight_is_a_409(db_engine: Engine) -> None:
    line_id = open_line(db_engine)
    k = key()
    # another worker holds the same request in flight (two-phase claim committed, not completed)
    fp = idempotency.fingerprint("drawdown", {"line_id": line_id, "amount": "1000.00", "on": D0.isoformat(),
                                              "term_months": None, "method": None})
    assert idempotency.claim(db_engine, "system:lending.drawdown", k, fp) is None
    before = books(db_engine)
    with pytest.raises(Conflict) as e:
        service.do_drawdown(db_engine, line_id, amount="1000", on=D0, idempotency_key=k)
    assert e.value.code == "idempotency_in_flight" and e.value.http_status == 409
    assert books(db_engine) == before


def _closed_loan(engine: Engine, line_id: int) -> int:
    loan_id = draw(engine, line_id, "500")
    q = service.payoff_quote(engine, loan_id, on=D0)
    service.do_repay(engine, loan_id, amount=q["total"], on=D0, kind="payoff", idempotency_key=key())
    return loan_id


@pytest.mark.parametrize(("case", "code"), [
    ("over_limit", "over_limit"),
    ("outside_validity", "outside_validity"),
    ("frozen", "line_frozen"),
    ("closed_loan", "loan_closed"),
    ("negative_repayment", "non_positive_amount"),
    ("negative_drawdown", "non_positive_amount"),
    ("sub_fen", "sub_fen_amount"),
    ("unknown_method", "unknown_repayment_method"),
    ("method_not_offered", "method_not_allowed"),
    ("term_too_long", "term_exceeds_max"),
    ("unknown_kind", "unknown_repayment_kind"),
    ("unknown_line", "line_not_found"),
    ("unknown_loan", "loan_not_found"),
])
def test_bad_input_is_refused_with_a_code_and_the_books_unchanged(db_engine: Engine, case: str, code: str) -> None:
    line_id = open_line(db_engine, limit="10000")
    late_line = open_line(db_engine, valid_from="2026-02-01", borrower="B-LATE")
    loan_id = draw(db_engine, line_id, "2000")
    closed = _closed_loan(db_engine, line_id)
    if case == "frozen":
        service.do_freeze_line(db_engine, line_id, on=D0, reason="early warning")
    narrow = open_line(db_engine, methods=["bullet"], borrower="B-NARROW")
    before = books(db_engine)
    k = key()
    actions = {
        "over_limit": lambda: service.do_drawdown(db_engine, line_id, amount="8000.01", on=D0, idempotency_key=k),
        "outside_validity": lambda: service.do_drawdown(db_engine, late_line, amount="1", on=D0,
                                                        idempotency_key=k),
        "frozen": lambda: service.do_drawdown(db_engine, line_id, amount="1", on=D0, idempotency_key=k),
        "closed_loan": lambda: service.do_repay(db_engine, closed, amount="1", on=D0, kind="prepayment",
                                                idempotency_key=k),
        "negative_repayment": lambda: service.do_repay(db_engine, loan_id, amount="-1", on=D0, idempotency_key=k),
        "negative_drawdown": lambda: service.do_drawdown(db_engine, line_id, amount="-100", on=D0,
                                                         idempotency_key=k),
        "sub_fen": lambda: service.do_drawdown(db_engine, line_id, amount="10.001", on=D0, idempotency_key=k),
        "unknown_method": lambda: service.do_drawdown(db_engine, line_id, amount="1", on=D0, method="balloon",
                                                      idempotency_key=k),
        "method_not_offered": lambda: service.do_drawdown(db_engine, narrow, amount="1", on=D0,
                                                          method="revolving", idempotency_key=k),
        "term_too_long": lambda: service.do_drawdown(db_engine, line_id, amount="1", on=D0, term_months=13,
                                                     idempotency_key=k),
        "unknown_kind": lambda: service.do_repay(db_engine, loan_id, amount="1", on=D0, kind="gift",
                                                 idempotency_key=k),
        "unknown_line": lambda: service.do_drawdown(db_engine, 999, amount="1", on=D0, idempotency_key=k),
        "unknown_loan": lambda: service.do_repay(db_engine, 999, amount="1", on=D0, idempotency_key=k),
    }
    with pytest.raises(PuhuiError) as e:
        actions[case]()
    assert e.value.code == code
    assert 400 <= e.value.http_status < 500
    assert books(db_engine) == before
    reconcile(db_engine)


def test_business_dates_are_enforced(db_engine: Engine) -> None:
    line_id = open_line(db_engine)
    assert service.business_date(db_engine) == {"open_date": "2026-01-05", "eod_running_for": None}
    with pytest.raises(Conflict) as e:
        draw(db_engine, line_id, "100", on="2026-01-06")
    assert e.value.code == "eod_pending"
    run_eod(db_engine, until="2026-01-06")
    assert service.business_date(db_engine)["open_date"] == "2026-01-07"
    with pytest.raises(Conflict) as e:
        draw(db_engine, line_id, "100", on="2026-01-06")
    assert e.value.code == "business_date_closed"
    loan_id = draw(db_engine, line_id, "100", on="2026-01-07")
    assert service.get_loan(db_engine, loan_id)["start"] == "2026-01-07"


def test_line_actions_write_the_change_log(db_engine: Engine) -> None:
    line_id = open_line(db_engine, limit="100000")
    draw(db_engine, line_id, "30000")
    service.do_freeze_line(db_engine, line_id, on=D0, reason="tax arrears signal")
    with pytest.raises(PolicyViolation) as e:
        draw(db_engine, line_id, "1")
    assert e.value.code == "line_frozen"
    service.do_unfreeze_line(db_engine, line_id, on=D0, reason="cleared")
    reduced = service.do_reduce_line(db_engine, line_id, new_limit="20000", on=D0, reason="annual review")
    assert (reduced.body["limit"], reduced.body["available"]) == ("20000.00", "0.00")
    with pytest.raises(PolicyViolation) as e:
        service.do_close_line(db_engine, line_id, on=D0, reason="customer request")
    assert e.value.code == "line_has_outstanding"
    with pytest.raises(Conflict) as c:
        service.do_unfreeze_line(db_engine, line_id, on=D0, reason="not frozen")
    assert c.value.code == "invalid_line_transition"
    st = service.line_statement(db_engine, line_id)
    assert [c["kind"] for c in st["changes"]] == ["open", "freeze", "unfreeze", "reduce"]
    assert st["changes"][3]["before"]["limit"] == "100000.00" and st["changes"][3]["after"]["limit"] == "20000.00"
    assert len(st["loans"]) == 1


def test_one_off_line_is_not_restored_but_revolving_is(db_engine: Engine) -> None:
    revolving = open_line(db_engine, limit="10000")
    one_off = open_line(db_engine, limit="10000", revolving=False, borrower="B2")
    for line_id in (revolving, one_off):
        loan_id = draw(db_engine, line_id, "10000")
        q = service.payoff_quote(db_engine, loan_id)
        service.do_repay(db_engine, loan_id, amount=q["total"], on=D0, kind="payoff", idempotency_key=key())
    assert service.get_line(db_engine, revolving)["available"] == "10000.00"
    assert service.get_line(db_engine, one_off)["available"] == "0.00"
    closed = service.do_close_line(db_engine, one_off, on=D0, reason="used up")
    assert closed.body["status"] == "closed"
    reconcile(db_engine)


def test_contract_evidence_is_checked_before_a_line_opens(db_engine: Engine) -> None:
    line_id = open_line(db_engine, contract_no="HT-EVIDENCE")
    contract_id = service.get_line(db_engine, line_id)["contract_id"]
    c = service.get_contract(db_engine, contract_id)
    assert c["verified"] and c["text_sha256"] == text_digest(c["text"])
    with pytest.raises(Conflict) as e:
        service.do_open_line(db_engine, contract_id=contract_id, on=D0)
    assert e.value.code == "line_exists"
    with pytest.raises(NotFound):
        service.do_open_line(db_engine, contract_id=999, on=D0)


def test_append_only_tables_refuse_changes_in_the_database(db_engine: Engine) -> None:
    line_id = open_line(db_engine)
    draw(db_engine, line_id, "100")
    for sql in ("UPDATE journal_postings SET amount = amount + 1", "DELETE FROM journal_entries",
                "UPDATE loan_contracts SET text = 'forged'", "DELETE FROM credit_line_changes"):
        with pytest.raises(DBAPIError), db_engine.begin() as c:
            c.execute(text(sql))
    reconcile(db_engine)


def test_reconciliation_catches_a_sub_ledger_that_disagrees(db_engine: Engine) -> None:
    line_id = open_line(db_engine)
    draw(db_engine, line_id, "5000")
    run_eod(db_engine, until="2026-01-10")
    with db_engine.begin() as c:
        c.execute(text("UPDATE loans SET interest_receivable = interest_receivable + 1"))
    with pytest.raises(ReconciliationError) as e:
        reconcile(db_engine)
    assert "Assets:InterestReceivable" in e.value.message


def test_a_correction_is_a_reversing_entry_and_the_original_stays(db_engine: Engine) -> None:
    original = make_entry(D0, EntryKind.OPENING, "opening:1", "balance brought in",
                          [(NORMAL, Decimal("10.00")), (CLEARING, Decimal("-10.00"))])
    assert original is not None
    with transaction(db_engine) as s:
        oid = insert_entry(s, original)
        insert_entry(s, reverse(original, on=D0, ref="reversal:opening:1", reason="typo"), reverses_id=oid)
    assert gl(db_engine, NORMAL) == gl(db_engine, CLEARING) == Decimal("0.00")
    with transaction(db_engine, write=False) as s:
        assert s.execute(text("SELECT count(*) FROM journal_entries")).scalar_one() == 2
        assert s.get(JournalEntryRow, oid).ref == "opening:1"
    with pytest.raises(DBAPIError), transaction(db_engine) as s:
        insert_entry(s, original)  # the same ref cannot be posted twice
