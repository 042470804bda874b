"""Portfolio limits: a borrower's committed credit across lines, and exposure to a core enterprise."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

from sqlalchemy import Engine

from puhui.decisioning import portfolio
from puhui.decisioning.store import ApplicationRow, DecisionRow
from puhui.lending import service
from puhui.store.db import transaction
from tests.lending._lendkit import draw, key, open_line
from tests.supplychain._kit import CORE, issue_active, setup_store, uscc

A = "91110108MA01BORR01"
B = "91110108MA01BORR02"
D0 = date(2026, 1, 5)


def test_borrower_exposure_is_committed_credit_across_lines(db_engine: Engine) -> None:
    first = open_line(db_engine, borrower=A, limit="500000")
    draw(db_engine, first, "120000")
    second = open_line(db_engine, borrower=A, limit="300000")
    draw(db_engine, second, "200000")
    service.do_reduce_line(db_engine, second, new_limit="100000", on=D0, reason="压降", idempotency_key=key())
    short = open_line(db_engine, borrower=A, limit="80000", valid_to="2026-06-30")
    draw(db_engine, short, "50000", term_months=3)
    open_line(db_engine, borrower=B, limit="40000")

    # 500k (limit > drawn) + 200k (drawn above the reduced 100k limit) + 80k (open short line)
    assert portfolio.borrower_exposure(db_engine, A, D0) == Decimal("780000.00")
    # after the short line's validity only its 50k drawn principal still counts
    assert portfolio.borrower_exposure(db_engine, A, date(2026, 7, 1)) == Decimal("750000.00")
    assert portfolio.borrower_exposures(db_engine, D0, [A, B, "91110108MA01NONE00"]) == {
        A: Decimal("780000.00"), B: Decimal("40000.00")}
    head = portfolio.borrower_headroom(db_engine, A, D0)
    assert (head["cap"], head["headroom"]) == ("10000000", "9220000.00")  # 普惠 cap 1000万 − 78万


def test_core_exposure_adds_chain_loans_to_voucher_face(db_engine: Engine) -> None:
    on = date(2025, 7, 1)
    setup_store(db_engine)
    issue_active(db_engine, face="1000000")
    member, stranger = uscc(21), uscc(22)
    chain_line = open_line(db_engine, borrower=member, limit="300000", on=on, valid_from="2025-07-01")
    other_line = open_line(db_engine, borrower=stranger, limit="900000", on=on, valid_from="2025-07-01")
    with transaction(db_engine) as s:
        for who, line, core in ((member, chain_line, CORE), (stranger, other_line, uscc(99))):
            d = DecisionRow(uscc=who, scenario_id="supply_chain_loan", policy_version="v1", channel="application",
                            outcome="approve", rules=[], reasons=[], inputs={"extra": {"chain_core": core}},
                            inputs_sha256="0" * 64, as_of=on)
            s.add(d)
            s.flush()
            s.add(ApplicationRow(uscc=who, scenario_id="supply_chain_loan", decision_id=d.id, status="accepted",
                                 line_id=line))
    out = portfolio.core_exposure(db_engine, CORE, on=on, cap=Decimal("1200000"))
    assert (out["vouchers"], out["chain_loans"], out["total"]) == ("1000000.00", "300000.00", "1300000.00")
    assert out["chain_loans_by_member"] == {member: "300000.00"}
    assert (out["headroom"], out["within_cap"]) == ("0.00", False)
    # the other loan counts for the core its decision recorded …
    assert portfolio.core_exposure(db_engine, uscc(99), on=on)["chain_loans"] == "900000.00"
    # … and a decision that recorded none counts for the chain the borrower is a member of
    third = uscc(23)
    line = open_line(db_engine, borrower=third, limit="50000", on=on, valid_from="2025-07-01")
    with transaction(db_engine) as s:
        d = DecisionRow(uscc=third, scenario_id="supply_chain_loan", policy_version="v1", channel="application",
                        outcome="approve", rules=[], reasons=[], inputs={"extra": {}}, inputs_sha256="0" * 64,
                        as_of=on)
        s.add(d)
        s.flush()
        s.add(ApplicationRow(uscc=third, scenario_id="supply_chain_loan", decision_id=d.id, status="accepted",
                             line_id=line))
    assert portfolio.core_exposure(db_engine, CORE, on=on, members=[third])["chain_loans"] == "350000.00"
    assert portfolio.core_exposure(db_engine, CORE, on=on)["chain_loans"] == "300000.00"
    assert "cap" not in portfolio.core_exposure(db_engine, CORE, on=on)
