"""The voucher ledger (pure domain): lifecycle, the reference's test cases (avm_scf.md B4), and bad input as
typed errors that leave the ledger exactly as it was."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from datetime import date
from typing import Any

import pytest

from puhui.core.errors import Conflict, Forbidden, PolicyViolation, PuhuiError, ValidationError
from puhui.supplychain.vouchers import (
    HoldingStatus,
    LedgerInvariantError,
    VoucherLedger,
    VoucherStatus,
    check_voucher,
    paid_by_party,
)
from tests.supplychain._kit import BANK, CORE, ISSUE_ON, MATURITY, T1, T2, T3, T4, active_voucher, ledger

D = date


def refused(led: VoucherLedger, fn: Callable[[], Any], code: str, kind: type[PuhuiError] = PuhuiError) -> PuhuiError:
    """`fn` raises `kind` with `code`, and the whole ledger is unchanged afterwards."""
    before = led.snapshot()
    with pytest.raises(kind) as e:
        fn()
    assert e.value.code == code, e.value
    assert 400 <= e.value.http_status < 500
    assert led.snapshot() == before
    led.check()
    return e.value


def test_issue_accept_and_the_root_holding() -> None:
    led = ledger()
    v = led.issue("AP1", face="1000000", maturity=MATURITY, on=ISSUE_ON, by=CORE)
    assert v.status is VoucherStatus.ISSUED and v.issuer == CORE and v.payee == T1 and not v.tenor_review
    root = led.holdings[v.no][1]
    assert (root.start, root.end, root.holder, root.status) == (0, 100_000_000, T1, HoldingStatus.ISSUED)
    assert root.sub_ticket_range == "1-100000000"
    assert led.limits[CORE].outstanding_fen == 100_000_000 and led.payables["AP1"].vouchered_fen == 100_000_000
    refused(led, lambda: led.accept(v.root_ref(), by=T2, on=ISSUE_ON), "not_holder")
    led.accept(v.root_ref(), by=T1, on=ISSUE_ON)
    assert led.vouchers[v.no].status is VoucherStatus.ACTIVE
    assert led.holdings[v.no][1].status is HoldingStatus.ACTIVE
    assert led.check()[v.no] == {"live": 100_000_000, "settled": 0, "cancelled": 0}


def test_split_keeps_sub_ticket_ranges_and_never_merges_back() -> None:
    """B4: split 1,000,000.00 → 300,000.00 + 700,000.00 keeps ranges [1,30000000] and [30000001,100000000];
    merge-back not allowed; a split of 0.001 yuan is rejected."""
    led = ledger()
    no = active_voucher(led)
    c = led.split(f"{no}-1", ["300000"], by=T1, on=D(2025, 7, 2))
    a, b = c.created
    assert (a.sub_ticket_range, a.amount.amount, b.sub_ticket_range, b.amount.amount) == (
        "1-30000000", 300000, "30000001-100000000", 700000)
    assert a.parent == b.parent == 1 and a.holder == b.holder == T1
    assert led.holdings[no][1].status is HoldingStatus.SUPERSEDED
    # the superseded parent is history: it cannot be split, moved or used to "merge" the parts back
    refused(led, lambda: led.split(f"{no}-1", ["1"], by=T1, on=D(2025, 7, 2)), "holding_superseded", Conflict)
    refused(led, lambda: led.transfer(f"{no}-1", to=T2, by=T1, on=D(2025, 7, 2)), "holding_superseded")
    assert not hasattr(led, "merge")
    refused(led, lambda: led.split(f"{no}-2", ["0.001"], by=T1, on=D(2025, 7, 2)), "sub_fen_amount", ValidationError)


@pytest.mark.parametrize(("parts", "code"), [
    (["0"], "non_positive_amount"), (["-5"], "non_positive_amount"), (["0.009"], "sub_fen_amount"),
    (["1000000"], "split_needs_two_parts"), (["600000", "400000.01"], "split_exceeds_holding"),
    ([], "split_needs_two_parts"),
])  # fmt: skip
def test_bad_splits_are_refused(parts: list[str], code: str) -> None:
    led = ledger()
    no = active_voucher(led)
    refused(led, lambda: led.split(f"{no}-1", parts, by=T1, on=ISSUE_ON), code, ValidationError)


def test_split_down_to_one_fen() -> None:
    led = ledger()
    no = active_voucher(led, face="0.03")
    c = led.split(f"{no}-1", ["0.01", "0.01"], by=T1, on=ISSUE_ON)
    assert [h.amount_fen for h in c.created] == [1, 1, 1]
    assert [h.sub_ticket_range for h in c.created] == ["1-1", "2-2", "3-3"]


def test_rejected_transfer_restores_the_holding_exactly() -> None:
    """B4: transfer rejected by the recipient → holding back to ACTIVE with the same range and holder."""
    led = ledger()
    no = active_voucher(led)
    before = led.holdings[no][1]
    led.transfer(f"{no}-1", to=T2, by=T1, on=D(2025, 7, 2))
    locked = led.holdings[no][1]
    assert locked.status is HoldingStatus.LOCKED and locked.pending is not None and locked.pending.to == T2
    # nothing locked can move
    for fn, code in [
        (lambda: led.transfer(f"{no}-1", to=T3, by=T1, on=D(2025, 7, 2)), "holding_locked"),
        (lambda: led.split(f"{no}-1", ["1"], by=T1, on=D(2025, 7, 2)), "holding_locked"),
        (lambda: led.finance(f"{no}-1", funder=BANK, annual_rate="0.02", registration_ref="R1", by=T1,
                             on=D(2025, 7, 2)), "holding_locked"),
        (lambda: led.pledge(f"{no}-1", pledgee=BANK, registration_ref="R1", by=T1, on=D(2025, 7, 2)),
         "holding_locked"),
        (lambda: led.accept(f"{no}-1", by=T3, on=D(2025, 7, 2)), "not_counterparty"),
        (lambda: led.reject(f"{no}-1", by=T1, on=D(2025, 7, 2)), "not_counterparty"),
        (lambda: led.withdraw(f"{no}-1", by=T2, on=D(2025, 7, 2)), "not_holder"),
    ]:
        refused(led, fn, code)
    led.reject(f"{no}-1", by=T2, on=D(2025, 7, 3))
    assert led.holdings[no][1] == before
    led.transfer(f"{no}-1", to=T2, by=T1, on=D(2025, 7, 3))
    led.withdraw(f"{no}-1", by=T1, on=D(2025, 7, 3))
    assert led.holdings[no][1] == before
    assert [e.kind for e in led.events][-4:] == ["transfer_requested", "transfer_rejected", "transfer_requested",
                                                 "transfer_withdrawn"]


def test_three_tier_flow_settles_exactly() -> None:
    """B4: core → T1 → T2 → T3, with financing; settlement pays T3, T2's residual and the funder exactly,
    total == face."""
    led = ledger()
    no = active_voucher(led)
    on = D(2025, 7, 10)
    led.transfer(f"{no}-1", to=T2, by=T1, on=on, amount="600000")  # 2: 600k locked for T2, 3: 400k T1
    led.accept(f"{no}-2", by=T2, on=on)  # 4: T2 600k
    led.transfer(f"{no}-4", to=T3, by=T2, on=on, amount="250000.55")  # 5: 250,000.55 → T3, 6: T2 residual
    led.accept(f"{no}-5", by=T3, on=on)  # 7: T3
    c = led.finance(f"{no}-3", funder=BANK, annual_rate="0.024", registration_ref="ZD-2025-0001", by=T1, on=on)
    fin = c.financings[0]
    assert fin.quote.days == (MATURITY - on).days == 174
    assert fin.quote.interest_fen == 464_000  # 400,000 × 2.4 % × 174 / 360 = 4,640.00
    assert fin.quote.proceeds_fen == 40_000_000 - 464_000
    h7 = led.holdings[no][7]
    assert [led.holdings[no][s].holder for s in (7, 5, 4, 2, 1)] == [T3, T2, T2, T1, T1]  # the endorsement chain
    assert h7.parent == 5 and led.holdings[no][5].parent == 4
    refused(led, lambda: led.settle(no, on=D(2025, 12, 30)), "not_yet_due")
    s = led.settle(no, on=MATURITY)
    assert paid_by_party(s.payments) == {T3: 25_000_055, T2: 34_999_945, BANK: 40_000_000}
    assert sum(p.amount_fen for p in s.payments) == 100_000_000
    assert {p.capacity for p in s.payments if p.paid_to == BANK} == {"funder"}
    assert led.check()[no] == {"live": 0, "settled": 100_000_000, "cancelled": 0}
    assert led.limits[CORE].outstanding_fen == 0
    refused(led, lambda: led.settle(no, on=MATURITY), "already_settled", Conflict)
    refused(led, lambda: led.transfer(f"{no}-7", to=T4, by=T3, on=MATURITY), "holding_settled")


def test_distribute_pays_several_suppliers_in_one_act() -> None:
    led = ledger()
    no = active_voucher(led, transfer_mode="notice")
    c = led.distribute(f"{no}-1", [(T2, "100000"), (T3, "200000"), (T4, "0.01")], by=T1, on=ISSUE_ON)
    assert c.event.kind == "distributed"
    live = {h.holder: h.amount_fen for h in led.live(no)}
    assert live == {T2: 10_000_000, T3: 20_000_000, T4: 1, T1: 100_000_000 - 30_000_001}
    led.check()


def test_notice_mode_transfers_at_once() -> None:
    led = ledger()
    no = active_voucher(led, transfer_mode="notice")
    c = led.transfer(f"{no}-1", to=T2, by=T1, on=ISSUE_ON, amount="1")
    assert c.event.kind == "transferred"
    assert [(h.holder, h.status) for h in c.created] == [(T1, HoldingStatus.SUPERSEDED), (T1, HoldingStatus.ACTIVE),
                                                         (T2, HoldingStatus.ACTIVE)]
    led.check()


def test_cancelling_an_unsigned_voucher_gives_the_limit_and_payable_back() -> None:
    led = ledger()
    v = led.issue("AP1", face="1500000", maturity=MATURITY, on=ISSUE_ON, by=CORE)
    refused(led, lambda: led.reject(v.root_ref(), by=T2, on=ISSUE_ON), "not_counterparty")
    led.reject(v.root_ref(), by=T1, on=ISSUE_ON)
    assert led.vouchers[v.no].status is VoucherStatus.CANCELLED
    assert led.limits[CORE].outstanding_fen == 0 and led.payables["AP1"].vouchered_fen == 0
    assert led.check()[v.no] == {"live": 0, "settled": 0, "cancelled": 150_000_000}
    w = led.issue("AP1", face="2000000", maturity=MATURITY, on=ISSUE_ON, by=CORE)
    led.withdraw(w.root_ref(), by=CORE, on=ISSUE_ON)
    assert led.vouchers[w.no].status is VoucherStatus.CANCELLED and led.limits[CORE].outstanding_fen == 0
    refused(led, lambda: led.accept(w.root_ref(), by=T1, on=ISSUE_ON), "holding_cancelled")
    refused(led, lambda: led.settle(w.no, on=MATURITY), "voucher_cancelled")


def test_issue_rules() -> None:
    led = ledger(limit="1500000", payable="2000000")
    refused(led, lambda: led.issue("AP1", face="1", maturity=MATURITY, on=ISSUE_ON, by=T1), "not_issuer")
    refused(led, lambda: led.issue("AP1", face="1500000.01", maturity=MATURITY, on=ISSUE_ON, by=CORE),
            "over_chain_limit", PolicyViolation)
    refused(led, lambda: led.issue("AP1", face="100", maturity=D(2026, 7, 2), on=ISSUE_ON, by=CORE),
            "tenor_exceeds_maximum", PolicyViolation)
    refused(led, lambda: led.issue("AP1", face="0.001", maturity=MATURITY, on=ISSUE_ON, by=CORE), "sub_fen_amount")
    refused(led, lambda: led.issue("AP9", face="1", maturity=MATURITY, on=ISSUE_ON, by=CORE), "payable_not_found")
    refused(led, lambda: led.issue("AP1", face="1", maturity=MATURITY, on=D(2025, 6, 30), by=CORE),
            "payable_not_confirmed")
    v = led.issue("AP1", face="1000000", maturity=D(2026, 2, 1), on=ISSUE_ON, by=CORE)
    assert v.tenor_review  # 7 months: accepted, flagged for review
    refused(led, lambda: led.issue("AP1", face="500000.01", maturity=MATURITY, on=ISSUE_ON, by=CORE),
            "over_chain_limit")  # 1,000,000 out of 1,500,000 used
    led.approve_limit(CORE, "9000000", valid_from=D(2025, 6, 15), valid_to=D(2026, 12, 31))
    refused(led, lambda: led.issue("AP1", face="1000000.01", maturity=MATURITY, on=ISSUE_ON, by=CORE),
            "payable_exceeded")  # the payable has 1,000,000 left
    led.approve_limit(CORE, "9000000", valid_from=D(2025, 6, 15), valid_to=D(2025, 6, 30))
    refused(led, lambda: led.issue("AP1", face="1", maturity=MATURITY, on=ISSUE_ON, by=CORE),
            "chain_limit_not_in_force")


def test_foreign_non_transferable_and_matured_holdings_cannot_move() -> None:
    led = ledger()
    no = active_voucher(led)
    refused(led, lambda: led.transfer(f"{no}-1", to=T3, by=T2, on=ISSUE_ON), "not_holder", Forbidden)
    refused(led, lambda: led.transfer(f"{no}-1", to=T1, by=T1, on=ISSUE_ON), "transfer_to_self")
    refused(led, lambda: led.transfer(f"{no}-1", to=CORE, by=T1, on=ISSUE_ON), "transfer_to_issuer")
    refused(led, lambda: led.transfer(f"{no}-1", to="not-a-uscc", by=T1, on=ISSUE_ON), "uscc_length")
    refused(led, lambda: led.transfer(f"{no}-1", to=T2, by=T1, on=D(2025, 6, 30)), "date_before_last_event")
    refused(led, lambda: led.transfer(f"{no}-1", to=T2, by=T1, on=MATURITY), "voucher_matured", PolicyViolation)
    refused(led, lambda: led.split(f"{no}-1", ["1"], by=T1, on=D(2026, 1, 5)), "voucher_matured")
    refused(led, lambda: led.finance(f"{no}-1", funder=BANK, annual_rate="0.02", registration_ref="R", by=T1,
                                     on=MATURITY), "voucher_matured")
    refused(led, lambda: led.transfer(f"{no}-9", to=T2, by=T1, on=ISSUE_ON), "holding_not_found")
    refused(led, lambda: led.transfer("CV0-1", to=T2, by=T1, on=ISSUE_ON), "voucher_not_found")
    led2 = ledger()
    nt = active_voucher(led2, transferable=False)
    for fn in (lambda: led2.transfer(f"{nt}-1", to=T2, by=T1, on=ISSUE_ON),
               lambda: led2.split(f"{nt}-1", ["1"], by=T1, on=ISSUE_ON),
               lambda: led2.finance(f"{nt}-1", funder=BANK, annual_rate="0.02", registration_ref="R", by=T1,
                                    on=ISSUE_ON),
               lambda: led2.pledge(f"{nt}-1", pledgee=BANK, registration_ref="R", by=T1, on=ISSUE_ON)):
        refused(led2, fn, "not_transferable", PolicyViolation)
    assert led2.settle(nt, on=MATURITY).payments[0].paid_to == T1  # held to maturity, paid to its payee


def test_financing_needs_registration_and_an_active_holding() -> None:
    """B4: financing without a registration reference rejected; financing a PLEDGED holding rejected."""
    led = ledger()
    no = active_voucher(led)
    for ref in (None, "", "   "):
        refused(led, lambda ref=ref: led.finance(f"{no}-1", funder=BANK, annual_rate="0.02", registration_ref=ref,
                                                 by=T1, on=ISSUE_ON), "registration_required", ValidationError)
    refused(led, lambda: led.finance(f"{no}-1", funder=T1, annual_rate="0.02", registration_ref="R", by=T1,
                                     on=ISSUE_ON), "funder_is_holder")
    refused(led, lambda: led.finance(f"{no}-1", funder=BANK, annual_rate="-0.01", registration_ref="R", by=T1,
                                     on=ISSUE_ON), "negative_rate")
    led.pledge(f"{no}-1", pledgee=BANK, registration_ref="ZD-P-1", by=T1, on=ISSUE_ON)
    refused(led, lambda: led.finance(f"{no}-1", funder=BANK, annual_rate="0.02", registration_ref="R", by=T1,
                                     on=ISSUE_ON), "holding_pledged", Conflict)
    refused(led, lambda: led.transfer(f"{no}-1", to=T2, by=T1, on=ISSUE_ON), "holding_pledged")
    refused(led, lambda: led.release_pledge(f"{no}-1", by=T1, on=ISSUE_ON), "not_pledgee")
    led.release_pledge(f"{no}-1", by=BANK, on=ISSUE_ON)
    c = led.finance(f"{no}-1", funder=BANK, annual_rate="0.02", registration_ref="ZD-F-1", by=T1, on=ISSUE_ON,
                    amount="100000")
    assert c.financings[0].quote.face_fen == 10_000_000 and c.financings[0].registration_ref == "ZD-F-1"
    refused(led, lambda: led.transfer(f"{no}-4", to=T2, by=BANK, on=ISSUE_ON), "holding_financed")


def test_pledged_part_is_paid_to_the_pledgee_and_dishonour_then_late_payment() -> None:
    led = ledger()
    no = active_voucher(led)
    led.split(f"{no}-1", ["400000"], by=T1, on=ISSUE_ON)
    led.pledge(f"{no}-2", pledgee=BANK, registration_ref="ZD-P-9", by=T1, on=ISSUE_ON)
    led.transfer(f"{no}-3", to=T2, by=T1, on=D(2025, 12, 1))  # still pending at maturity: it lapses
    led.present(no, on=MATURITY)
    assert {h.status for h in led.live(no)} == {HoldingStatus.PRESENTED}
    assert led.holdings[no][3].holder == T1 and led.holdings[no][3].pending is None
    refused(led, lambda: led.accept(f"{no}-3", by=T2, on=MATURITY), "holding_presented")
    refused(led, lambda: led.dishonour(no, on=MATURITY, reason=" "), "reason_required")
    led.dishonour(no, on=D(2026, 1, 5), reason="insufficient funds")
    assert led.vouchers[no].status is VoucherStatus.DISHONOURED
    assert led.limits[CORE].outstanding_fen == 100_000_000  # still owed
    s = led.settle(no, on=D(2026, 2, 2))
    assert paid_by_party(s.payments) == {BANK: 40_000_000, T1: 60_000_000}
    assert s.event.details["late"] is True
    led.check()


def test_check_voucher_catches_corruption() -> None:
    """The invariant checker is not vacuous: overlaps, gaps, orphans and wrong totals all fail it."""
    led = ledger()
    no = active_voucher(led)
    led.split(f"{no}-1", ["300000"], by=T1, on=ISSUE_ON)
    v, hs = led.vouchers[no], dict(led.holdings[no])
    check_voucher(v, hs.values())
    bad_cases = [
        {**hs, 2: replace(hs[2], end=hs[2].end + 1)},  # overlap
        {**hs, 2: replace(hs[2], end=hs[2].end - 1)},  # gap
        {**hs, 3: replace(hs[3], parent=None)},  # an orphan
        {**hs, 3: replace(hs[3], status=HoldingStatus.SETTLED, closed_on=ISSUE_ON)},  # settled without payment
        {**hs, 2: replace(hs[2], status=HoldingStatus.LOCKED)},  # locked with nothing pending
        {k: h for k, h in hs.items() if k != 3},  # a lost part
    ]
    for case in bad_cases:
        with pytest.raises(LedgerInvariantError):
            check_voucher(v, case.values())
    with pytest.raises(LedgerInvariantError):
        check_voucher(replace(v, face_fen=v.face_fen + 1), hs.values())
