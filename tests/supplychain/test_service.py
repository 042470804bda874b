"""The voucher service on a real SQLite and PostgreSQL store: flows, bad input with the ledger unchanged,
idempotency, concurrency (row locks keep the chain limit), migrations and the append-only records."""

from __future__ import annotations

import threading
from collections.abc import Callable
from datetime import date
from decimal import Decimal
from typing import Any

import pytest
from sqlalchemy import Engine, text
from sqlalchemy.exc import IntegrityError

from puhui.core.errors import PuhuiError
from puhui.store import make_engine, migrate
from puhui.supplychain import service
from tests.supplychain._kit import (
    BANK,
    CORE,
    ISSUE_ON,
    MATURITY,
    T1,
    T2,
    T3,
    issue_active,
    key,
    setup_store,
    store_snapshot,
)

D = date


def refused(engine: Engine, fn: Callable[[], Any], code: str) -> PuhuiError:
    before = store_snapshot(engine)
    with pytest.raises(PuhuiError) as e:
        fn()
    assert e.value.code == code, e.value
    assert 400 <= e.value.http_status < 500
    assert store_snapshot(engine) == before  # ledger, audit trail and idempotency keys unchanged
    return e.value


def test_full_flow_and_queries(db_engine: Engine) -> None:
    setup_store(db_engine)
    no = issue_active(db_engine)
    on = D(2025, 7, 10)
    service.do_transfer(db_engine, f"{no}-1", to=T2, by=T1, on=on, amount="600000", idempotency_key=key())
    pending = service.holdings_of(db_engine, T2)["awaiting_acceptance"]
    assert pending == [{"holding": f"{no}-2", "amount": "600000.00", "from": T1, "requested_on": "2025-07-10"}]
    service.do_accept(db_engine, f"{no}-2", by=T2, on=on, idempotency_key=key())  # → 4
    body = service.do_distribute(db_engine, f"{no}-4", transfers=[(T3, "100000.01")], by=T2, on=on,
                                 idempotency_key=key()).body
    assert body["event"] == "distribution_requested"
    service.do_accept(db_engine, f"{no}-5", by=T3, on=on, idempotency_key=key())  # 7: T3 100,000.01
    fin = service.do_finance(db_engine, f"{no}-3", funder=BANK, annual_rate="2.4%", registration_ref="ZD-1", by=T1,
                             on=on, idempotency_key=key()).body["financings"][0]
    assert (fin["days"], fin["interest"], fin["proceeds"]) == (174, "4640.00", "395360.00")
    service.do_pledge(db_engine, f"{no}-6", pledgee="BANK-P", registration_ref="ZD-P", by=T2, on=on,
                      idempotency_key=key())
    service.reconcile(db_engine)

    v = service.get_voucher(db_engine, no)
    assert v["totals"] == {"live": "1000000.00", "settled": "0.00", "cancelled": "0.00"}
    assert [(h["holder"], h["amount"], h["status"]) for h in v["holdings"]] == [
        (T3, "100000.01", "active"), (T2, "499999.99", "pledged"), (BANK, "400000.00", "financed")]
    exposure = service.voucher_exposure(db_engine, CORE)["cores"][CORE]
    assert exposure["outstanding"] == "1000000.00"
    assert exposure["holders"][BANK] == {"financed": "400000.00", "total": "400000.00"}
    assert exposure["holders"][T2] == {"pledged": "499999.99", "total": "499999.99"}

    settled = service.do_settle(db_engine, no, on=MATURITY, idempotency_key=key()).body
    assert settled["paid_to"] == {T3: "100000.01", "BANK-P": "499999.99", BANK: "400000.00"}
    assert settled["paid_total"] == "1000000.00"
    assert service.get_limit(db_engine, CORE)["outstanding"] == "0.00"
    assert service.reconcile(db_engine) == {"vouchers": 1, "holdings": 8, "ok": True}

    hist = service.voucher_history(db_engine, no)
    assert [e["kind"] for e in hist["events"]] == [
        "issued", "issue_accepted", "transfer_requested", "transferred", "distribution_requested", "transferred",
        "financed", "pledged", "settled"]
    by_seq = {h["seq"]: h for h in hist["holdings"]}
    assert (by_seq[7]["holder"], by_seq[7]["parent"], by_seq[5]["parent"], by_seq[4]["parent"]) == (T3, 5, 4, 2)
    assert by_seq[2]["opened_on"] == "2025-07-10" and by_seq[2]["closed_on"] == "2025-07-10"
    assert len(hist["payments"]) == 3 and hist["financings"][0]["registration_ref"] == "ZD-1"
    assert service.holdings_of(db_engine, T3)["count"] == 0  # settled: nothing live
    assert service.holdings_of(db_engine, T3, live_only=False)["totals"] == {"settled": "100000.01"}


def test_bad_input_leaves_the_ledger_unchanged(db_engine: Engine) -> None:
    setup_store(db_engine, limit="1500000")
    no = issue_active(db_engine)
    on = D(2025, 7, 2)
    cases: list[tuple[Callable[[], Any], str]] = [
        (lambda: service.do_split(db_engine, f"{no}-1", parts=["0.001"], by=T1, on=on, idempotency_key=key()),
         "sub_fen_amount"),
        (lambda: service.do_split(db_engine, f"{no}-1", parts=["0"], by=T1, on=on, idempotency_key=key()),
         "non_positive_amount"),
        (lambda: service.do_transfer(db_engine, f"{no}-1", to=T3, by=T2, on=on, idempotency_key=key()),
         "not_holder"),
        (lambda: service.do_finance(db_engine, f"{no}-1", funder=BANK, annual_rate="0.02", registration_ref=None,
                                    by=T1, on=on, idempotency_key=key()), "registration_required"),
        (lambda: service.do_issue(db_engine, payable_no="AP1", face="500000.01", maturity=MATURITY, on=ISSUE_ON,
                                  by=CORE, idempotency_key=key()), "over_chain_limit"),
        (lambda: service.do_issue(db_engine, payable_no="AP1", face="1", maturity=D(2026, 7, 2), on=ISSUE_ON,
                                  by=CORE, idempotency_key=key()), "tenor_exceeds_maximum"),
        (lambda: service.do_settle(db_engine, no, on=D(2025, 12, 30), idempotency_key=key()), "not_yet_due"),
        (lambda: service.do_settle(db_engine, "CV-nope", on=MATURITY, idempotency_key=key()), "voucher_not_found"),
        (lambda: service.do_accept(db_engine, f"{no}-7", by=T1, on=on, idempotency_key=key()),
         "holding_not_found"),
    ]
    for fn, code in cases:
        refused(db_engine, fn, code)
    # a locked holding cannot move; a used registration cannot back a second financing
    service.do_split(db_engine, f"{no}-1", parts=["1"], by=T1, on=on, idempotency_key=key())  # 2: 1.00, 3: rest
    service.do_transfer(db_engine, f"{no}-3", to=T2, by=T1, on=on, idempotency_key=key())
    refused(db_engine, lambda: service.do_transfer(db_engine, f"{no}-3", to=T3, by=T1, on=on, idempotency_key=key()),
            "holding_locked")
    service.do_finance(db_engine, f"{no}-2", funder=BANK, annual_rate="0.02", registration_ref="ZD-9", by=T1, on=on,
                       idempotency_key=key())
    service.do_withdraw(db_engine, f"{no}-3", by=T1, on=on, idempotency_key=key())
    refused(db_engine, lambda: service.do_finance(db_engine, f"{no}-3", funder=BANK, annual_rate="0.02",
                                                  registration_ref="ZD-9", by=T1, on=on, idempotency_key=key()),
            "registration_ref_used")
    service.do_settle(db_engine, no, on=MATURITY, idempotency_key=key())
    refused(db_engine, lambda: service.do_settle(db_engine, no, on=MATURITY, idempotency_key=key()), "already_settled")
    service.reconcile(db_engine)


def test_idempotent_replay_and_key_reuse(db_engine: Engine) -> None:
    setup_store(db_engine)
    k = key()
    first = service.do_issue(db_engine, payable_no="AP1", face="1000", maturity=MATURITY, on=ISSUE_ON, by=CORE,
                             idempotency_key=k)
    snap = store_snapshot(db_engine)
    again = service.do_issue(db_engine, payable_no="AP1", face="1000", maturity=MATURITY, on=ISSUE_ON, by=CORE,
                             idempotency_key=k)
    assert again.replayed and again.body == first.body and again.status == first.status == 201
    assert store_snapshot(db_engine) == snap  # one voucher, however often it is sent
    refused(db_engine, lambda: service.do_issue(db_engine, payable_no="AP1", face="1001", maturity=MATURITY,
                                                on=ISSUE_ON, by=CORE, idempotency_key=k), "idempotency_key_reused")
    assert service.get_limit(db_engine, CORE)["outstanding"] == "1000.00"


def test_cancelled_issue_restores_limit_and_payable(db_engine: Engine) -> None:
    setup_store(db_engine)
    body = service.do_issue(db_engine, payable_no="AP1", face="2000000", maturity=MATURITY, on=ISSUE_ON, by=CORE,
                            idempotency_key=key()).body
    no = body["voucher"]["voucher_no"]
    assert service.get_payable(db_engine, "AP1")["remaining"] == "0.00"
    service.do_reject(db_engine, f"{no}-1", by=T1, on=ISSUE_ON, idempotency_key=key())
    assert service.get_payable(db_engine, "AP1")["remaining"] == "2000000.00"
    assert service.get_limit(db_engine, CORE)["outstanding"] == "0.00"
    assert service.get_voucher(db_engine, no)["status"] == "cancelled"
    service.reconcile(db_engine)


@pytest.mark.parametrize("db_url", ["postgresql"], indirect=True)
def test_concurrent_issues_never_exceed_the_chain_limit(db_engine: Engine) -> None:
    """Eight issuers at once against a limit with room for three (row lock on the chain limit)."""
    setup_store(db_engine, limit="3000000", payable="9000000")
    results: list[str] = []
    barrier = threading.Barrier(8)

    def issue() -> None:
        barrier.wait()
        try:
            service.do_issue(db_engine, payable_no="AP1", face="1000000", maturity=MATURITY, on=ISSUE_ON, by=CORE,
                             idempotency_key=key())
            results.append("ok")
        except PuhuiError as e:
            results.append(e.code)

    threads = [threading.Thread(target=issue) for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)
    assert sorted(results) == ["ok"] * 3 + ["over_chain_limit"] * 5
    assert service.get_limit(db_engine, CORE)["outstanding"] == "3000000.00"
    service.reconcile(db_engine)


@pytest.mark.parametrize("db_url", ["postgresql"], indirect=True)
def test_concurrent_moves_of_one_holding_move_it_once(db_engine: Engine) -> None:
    setup_store(db_engine)
    no = issue_active(db_engine, transfer_mode="notice")
    results: list[str] = []
    barrier = threading.Barrier(6)

    def move(i: int) -> None:
        barrier.wait()
        try:
            if i % 2:
                service.do_transfer(db_engine, f"{no}-1", to=T2, by=T1, on=ISSUE_ON, idempotency_key=key())
            else:
                service.do_finance(db_engine, f"{no}-1", funder=BANK, annual_rate="0.02", registration_ref=f"R{i}",
                                   by=T1, on=ISSUE_ON, idempotency_key=key())
            results.append("ok")
        except PuhuiError as e:
            results.append(e.code)

    threads = [threading.Thread(target=move, args=(i,)) for i in range(6)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)
    assert results.count("ok") == 1 and set(results) - {"ok"} == {"holding_superseded"}
    assert service.reconcile(db_engine)["holdings"] == 2


def test_migrated_schema_runs_the_ledger_and_keeps_records_append_only(db_url: str) -> None:
    migrate.upgrade(db_url)
    engine = make_engine(db_url)
    try:
        setup_store(engine)
        no = issue_active(engine, face="10")
        service.do_finance(engine, f"{no}-1", funder=BANK, annual_rate="0.02", registration_ref="ZD", by=T1,
                           on=ISSUE_ON, idempotency_key=key())
        service.do_settle(engine, no, on=MATURITY, idempotency_key=key())
        assert service.reconcile(engine)["ok"]
        for table in ("voucher_events", "voucher_financings", "voucher_payments"):
            with pytest.raises(IntegrityError, match="append-only"), engine.begin() as c:
                c.execute(text(f"UPDATE {table} SET voucher_id = voucher_id"))
            with pytest.raises(IntegrityError, match="append-only"), engine.begin() as c:
                c.execute(text(f"DELETE FROM {table}"))
        with pytest.raises(IntegrityError), engine.begin() as c:  # the database checks amount = range length
            c.execute(text("UPDATE voucher_holdings SET amount = amount + 1"))
        assert Decimal(service.get_voucher(engine, no)["totals"]["settled"]) == Decimal("10.00")
    finally:
        engine.dispose()
