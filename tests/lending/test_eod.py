"""End of day: catch-up equals day by day, a crash resumes to identical books, a date never runs twice."""

from __future__ import annotations

import io
from collections.abc import Callable
from datetime import date, timedelta
from decimal import Decimal

import pytest
from rich.console import Console
from sqlalchemy import Engine, text

from puhui.core.errors import Conflict, PolicyViolation, ValidationError
from puhui.lending import service
from puhui.lending.classification import FiveClass
from puhui.lending.eod import run_eod
from puhui.lending.ledger import LOANS_BY_CLASS
from puhui.store import load_models, make_engine
from puhui.store.db import transaction
from tests.lending._lendkit import draw, key, open_line, reconcile, snapshot

D0 = date(2026, 1, 5)
DAY = timedelta(days=1)


def _portfolio(engine: Engine) -> list[int]:
    """Four borrowers, six loans of every method; one borrower has a second, smaller loan."""
    loans = []
    for i, method in enumerate(["equal_instalment", "equal_principal", "interest_only", "revolving"]):
        line_id = open_line(engine, borrower=f"B{i}", contract_no=f"HT-P{i}")
        loans.append(draw(engine, line_id, f"{(i + 1) * 10000}", method=method, term_months=6))
        if i == 0:
            loans.append(draw(engine, line_id, "3000", method="bullet", term_months=3))
    loans.append(draw(engine, open_line(engine, borrower="B9", contract_no="HT-P9"), "8000", method="bullet",
                      term_months=1))
    return loans


def _repay_due(engine: Engine, loan_id: int, on: date) -> None:
    due = Decimal(service.get_loan(engine, loan_id, on=on)["due_now"])
    if due:
        service.do_repay(engine, loan_id, amount=str(due), on=on, idempotency_key=key())


def _scenario(engine: Engine, eod: Callable[[date], None]) -> None:
    """Draw, run 35 days (instalments fall due, some stay unpaid), repay some, run 15 more."""
    loans = _portfolio(engine)
    eod(D0 + 34 * DAY)  # through 2026-02-08
    on = D0 + 35 * DAY
    for loan_id in loans[:3]:
        _repay_due(engine, loan_id, on)
    service.do_repay(engine, loans[4], amount="5000", on=on, kind="prepayment", idempotency_key=key())
    eod(on + 15 * DAY)


def _fresh(url: str) -> Engine:
    engine = make_engine(url)
    load_models().create_all(engine)
    return engine


def _day_by_day(engine: Engine) -> Callable[[date], None]:
    def eod(until: date) -> None:
        opened = date.fromisoformat(service.business_date(engine)["open_date"])
        while opened <= until:
            run_eod(engine, until=opened)
            opened += DAY
    return eod


def test_catch_up_equals_day_by_day(db_url: str, tmp_path: object) -> None:
    one = _fresh(db_url)
    _scenario(one, lambda until: run_eod(one, until=until))
    books_catch_up = snapshot(one)
    one.dispose()
    other_url = f"sqlite:///{tmp_path}/daily.sqlite" if db_url.startswith("sqlite") else db_url
    if not db_url.startswith("sqlite"):
        with make_engine(db_url).begin() as c:  # same schema, emptied: the postgres fixture gives one schema
            load_models().drop_all(c)
    two = _fresh(other_url)
    _scenario(two, _day_by_day(two))
    assert snapshot(two) == books_catch_up
    reconcile(two)
    two.dispose()


class _Crash(Exception):
    pass


def _crash_after(n: int) -> Callable[[date, int], None]:
    count = {"steps": 0}

    def hook(day: date, step: int) -> None:
        count["steps"] += 1
        if count["steps"] == n:
            raise _Crash(f"injected after step {step} of {day}")
    return hook


@pytest.mark.parametrize("crash_at", [2, 3, 8])
def test_crash_in_the_middle_then_resume_gives_identical_books(sqlite_url: str, tmp_path: object,
                                                              crash_at: int) -> None:
    ref = _fresh(f"sqlite:///{tmp_path}/ref.sqlite")
    _portfolio(ref)
    run_eod(ref, until=D0 + 20 * DAY, batch_size=2)
    crashed = _fresh(sqlite_url)
    _portfolio(crashed)
    with pytest.raises(_Crash):
        run_eod(crashed, until=D0 + 20 * DAY, batch_size=2, on_step=_crash_after(crash_at))
    # five borrowers in batches of two: a date is [start + batch 1] [batch 2] [batch 3 + reconcile, close]
    state = service.business_date(crashed)
    if crash_at % 3:
        assert state["eod_running_for"] is not None  # the date stays open, mid-run
        with pytest.raises(Conflict) as e:
            service.do_repay(crashed, 1, amount="1", on=state["eod_running_for"], idempotency_key=key())
        assert e.value.code == "eod_running"
    else:
        assert state["eod_running_for"] is None  # crashed right after a date closed
    result = run_eod(crashed, until=D0 + 20 * DAY, batch_size=2)
    assert result.days[0].steps_skipped == crash_at % 3
    assert snapshot(crashed) == snapshot(ref)
    reconcile(crashed)


def test_crash_on_postgres_resumes_too(pg_url: str) -> None:
    engine = _fresh(pg_url)
    _portfolio(engine)
    with pytest.raises(_Crash):
        run_eod(engine, until=D0 + 5 * DAY, batch_size=2, on_step=_crash_after(4))
    run_eod(engine, until=D0 + 5 * DAY, batch_size=2)
    with transaction(engine, write=False) as s:
        steps = s.execute(text("SELECT business_date, step FROM eod_steps ORDER BY 1, 2")).all()
    assert len(steps) == len(set(steps)) == 6 * 3  # six days × three batches of two borrowers, each once
    reconcile(engine)
    engine.dispose()


def test_running_a_date_twice_posts_nothing(db_engine: Engine) -> None:
    _portfolio(db_engine)
    first = run_eod(db_engine, until=D0 + 3 * DAY)
    assert len(first.days) == 4 and first.loans == 4 * 6
    before = snapshot(db_engine)
    assert run_eod(db_engine, until=D0 + 3 * DAY).days == []
    assert run_eod(db_engine, until=D0).days == []
    assert snapshot(db_engine) == before


def test_borrower_level_classification_and_suspense(sqlite_url: str) -> None:
    engine = _fresh(sqlite_url)
    line_id = open_line(engine, borrower="B-NPL")
    small = draw(engine, line_id, "1000", method="bullet", term_months=1)
    big = draw(engine, line_id, "90000", method="interest_only", term_months=12)
    due = date.fromisoformat(service.get_loan(engine, small)["maturity"])
    run_eod(engine, until=due)  # the bullet falls due and stays unpaid
    run_eod(engine, until=due + DAY)  # 1 day past due: 关注 for the borrower, so for both loans
    _repay_due(engine, big, due + 2 * DAY)  # the big loan itself is paid on time
    loans = [service.get_loan(engine, i) for i in (small, big)]
    assert [x["five_class"] for x in loans] == ["special_mention", "special_mention"]
    assert [x["dpd"] for x in loans] == [1, 0]
    with transaction(engine, write=False) as s:
        bal = service.gl_balances(s)
    assert bal[LOANS_BY_CLASS[FiveClass.SPECIAL_MENTION]] == Decimal("91000.00")
    run_eod(engine, until=due + 91 * DAY)  # dpd 91: 次级, non-accrual, interest to suspense
    small_loan = service.get_loan(engine, small)
    assert (small_loan["dpd"], small_loan["five_class"], small_loan["non_accrual"]) == (91, "substandard", True)
    assert service.get_loan(engine, big)["five_class"] == "substandard"
    assert Decimal(small_loan["interest_suspense"]) > 0 and small_loan["interest_receivable"] == "0.00"
    with transaction(engine, write=False) as s:
        kinds = s.execute(text("SELECT kind FROM loan_transactions WHERE loan_id = :i ORDER BY id"),
                          {"i": small}).scalars().all()
    assert kinds == ["drawdown", "overdue", "reclassify", "to_suspense", "reclassify"]
    reconcile(engine)


def test_lines_expire_at_the_end_of_their_validity(sqlite_url: str) -> None:
    engine = _fresh(sqlite_url)
    line_id = open_line(engine, valid_to="2026-01-07")
    loan_id = draw(engine, line_id, "1000", method="bullet", term_months=2)
    r = run_eod(engine, until="2026-01-07")
    assert [d.lines_expired for d in r.days] == [0, 0, 1]
    line = service.line_statement(engine, line_id)
    assert line["status"] == "expired" and line["changes"][-1]["kind"] == "expire"
    with pytest.raises(PolicyViolation) as e:
        draw(engine, line_id, "1", on="2026-01-08")
    assert e.value.code == "line_expired"
    assert service.get_loan(engine, loan_id)["status"] == "active"  # loans run to their own maturity


def test_progress_bar_and_empty_store(sqlite_url: str) -> None:
    engine = _fresh(sqlite_url)
    assert run_eod(engine, until="2026-01-10").days == []  # no business yet: nothing to close
    with pytest.raises(ValidationError) as e:
        run_eod(engine, until="2026-01-10", batch_size=0)
    assert e.value.code == "invalid_batch_size"
    _portfolio(engine)
    out = io.StringIO()
    run_eod(engine, until="2026-01-06", progress=Console(file=out, width=100, force_terminal=False))
    assert "end of day" in out.getvalue() and "2/2" in out.getvalue()
