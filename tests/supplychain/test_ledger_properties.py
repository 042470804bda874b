"""Properties of the voucher ledger (pure domain) under random sequences of operations.

A hypothesis state machine issues, accepts, rejects, withdraws, splits, transfers, distributes, finances,
pledges, releases, presents, settles and dishonours at random — by the right party most of the time and
by a random one otherwise — while the business date advances. After every step the invariants hold
(`VoucherLedger.check`: live + settled + cancelled = face to the fen, no overlap, no gap, every holding
traces to its root and issuer, chain limits and payables agree, settlements pay each face exactly), and
every refused step is a typed 4xx error that left the ledger unchanged.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable
from datetime import date, timedelta
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, initialize, invariant, rule

from puhui.core.calendar import ChinaCalendar
from puhui.core.errors import PuhuiError
from puhui.core.money import Money
from puhui.supplychain.vouchers import HoldingStatus, VoucherLedger, VoucherStatus, paid_by_party
from tests.supplychain._kit import uscc

CORES = [uscc(1, "110108"), uscc(2, "310104")]
MEMBERS = [uscc(100 + i, "440106") for i in range(5)]
FUNDERS = ["BANK-A", "BANK-B"]
PARTIES = CORES + MEMBERS + FUNDERS
_CAL = ChinaCalendar.default()


class LedgerMachine(RuleBasedStateMachine):
    def __init__(self) -> None:
        super().__init__()
        self.led = VoucherLedger(calendar=_CAL)
        self.today = date(2025, 7, 1)
        self.serial = itertools.count(1)
        self.refused = 0

    @initialize()
    def limits(self) -> None:
        for core in CORES:
            self.led.approve_limit(core, "3000000", valid_from=date(2025, 6, 15), valid_to=date(2027, 12, 31))

    # -- helpers
    def attempt(self, fn: Callable[[], Any]) -> Any:
        before = self.led.snapshot()
        try:
            return fn()
        except PuhuiError as e:
            assert 400 <= e.http_status < 500, e  # never a broken invariant (500)
            assert self.led.snapshot() == before, f"{e.code} changed the ledger"
            self.refused += 1
            return None

    def refs(self, *statuses: HoldingStatus) -> list[str]:
        return sorted(h.ref for hs in self.led.holdings.values() for h in hs.values()
                      if not statuses or h.status in statuses)

    def pick(self, data: st.DataObject, statuses: tuple[HoldingStatus, ...]) -> Any:
        pool = self.refs(*statuses) if data.draw(st.integers(0, 9)) else self.refs()
        return self.led.holding(data.draw(st.sampled_from(pool))) if pool else (None, None)

    def actor(self, data: st.DataObject, right: str) -> str:
        return right if data.draw(st.integers(0, 9)) else data.draw(st.sampled_from(PARTIES))

    # -- rules
    @rule(core=st.sampled_from(CORES), payee=st.sampled_from(MEMBERS), fen=st.integers(1, 150_000_000),
          extra=st.integers(0, 50_000_000), tenor_days=st.one_of(st.integers(1, 45), st.integers(1, 400)),
          notice=st.booleans(), transferable=st.integers(0, 7), accept=st.booleans())
    def issue(self, core: str, payee: str, fen: int, extra: int, tenor_days: int, notice: bool, transferable: int,
              accept: bool) -> None:
        no = f"AP{next(self.serial)}"
        self.led.confirm_payable(no, core=core, supplier=payee, amount=Money.from_fen(fen + extra), on=self.today)
        v = self.attempt(lambda: self.led.issue(no, face=Money.from_fen(fen), maturity=self.today + timedelta(
            days=tenor_days), on=self.today, by=core, transferable=transferable > 0,
            transfer_mode="notice" if notice else "acceptance"))
        if v is not None and accept:
            self.led.accept(v.root_ref(), by=payee, on=self.today)

    @rule(data=st.data(), verb=st.sampled_from(["accept", "reject", "withdraw"]))
    def respond(self, data: st.DataObject, verb: str) -> None:
        v, h = self.pick(data, (HoldingStatus.ISSUED, HoldingStatus.LOCKED))
        if h is None:
            return
        if h.status is HoldingStatus.LOCKED and h.pending is not None:
            right = h.pending.by if verb == "withdraw" else h.pending.to
        else:
            right = v.issuer if verb == "withdraw" else h.holder
        by = self.actor(data, right)
        self.attempt(lambda: getattr(self.led, verb)(h.ref, by=by, on=self.today))

    @rule(data=st.data(), cuts=st.lists(st.integers(1, 10_000), min_size=1, max_size=4))
    def split(self, data: st.DataObject, cuts: list[int]) -> None:
        _, h = self.pick(data, (HoldingStatus.ACTIVE,))
        if h is None:
            return
        total = sum(cuts)
        parts = [Money.from_fen(max(1, h.amount_fen * c // (total + 1))) for c in cuts]
        if data.draw(st.integers(0, 19)) == 0:
            parts.append(Money.from_fen(h.amount_fen))  # more than the holding
        self.attempt(lambda: self.led.split(h.ref, parts, by=self.actor(data, h.holder), on=self.today))

    @rule(data=st.data(), to=st.sampled_from(MEMBERS + CORES[:1]), share=st.integers(0, 100))
    def transfer(self, data: st.DataObject, to: str, share: int) -> None:
        _, h = self.pick(data, (HoldingStatus.ACTIVE,))
        if h is None:
            return
        amount = None if share == 100 else Money.from_fen(max(1, h.amount_fen * share // 100))
        self.attempt(lambda: self.led.transfer(h.ref, to=to, by=self.actor(data, h.holder), on=self.today,
                                               amount=amount))

    @rule(data=st.data(), tos=st.lists(st.sampled_from(MEMBERS), min_size=1, max_size=4))
    def distribute(self, data: st.DataObject, tos: list[str]) -> None:
        _, h = self.pick(data, (HoldingStatus.ACTIVE,))
        if h is None:
            return
        each = max(1, h.amount_fen // (len(tos) + 1))
        self.attempt(lambda: self.led.distribute(h.ref, [(t, Money.from_fen(each)) for t in tos],
                                                 by=self.actor(data, h.holder), on=self.today))

    @rule(data=st.data(), funder=st.sampled_from(FUNDERS), rate_bp=st.integers(0, 900), share=st.integers(1, 100),
          registered=st.integers(0, 9))
    def finance(self, data: st.DataObject, funder: str, rate_bp: int, share: int, registered: int) -> None:
        _, h = self.pick(data, (HoldingStatus.ACTIVE,))
        if h is None:
            return
        amount = None if share == 100 else Money.from_fen(max(1, h.amount_fen * share // 100))
        ref = f"ZD{next(self.serial)}" if registered else None
        self.attempt(lambda: self.led.finance(h.ref, funder=funder, annual_rate=f"{rate_bp / 10000}",
                                              registration_ref=ref, by=self.actor(data, h.holder), on=self.today,
                                              amount=amount))

    @rule(data=st.data(), pledgee=st.sampled_from(FUNDERS))
    def pledge_or_release(self, data: st.DataObject, pledgee: str) -> None:
        _, h = self.pick(data, (HoldingStatus.ACTIVE, HoldingStatus.PLEDGED))
        if h is None:
            return
        if h.status is HoldingStatus.PLEDGED:
            self.attempt(lambda: self.led.release_pledge(h.ref, by=self.actor(data, h.pledgee or ""), on=self.today))
        else:
            self.attempt(lambda: self.led.pledge(h.ref, pledgee=pledgee, registration_ref=f"P{next(self.serial)}",
                                                 by=self.actor(data, h.holder), on=self.today))

    @rule(days=st.sampled_from([1, 7, 30, 61, 120]))
    def advance(self, days: int) -> None:
        self.today += timedelta(days=days)

    @rule(data=st.data(), verb=st.sampled_from(["settle", "settle", "present", "dishonour"]))
    def mature(self, data: st.DataObject, verb: str) -> None:
        if not self.led.vouchers:
            return
        due = sorted(no for no, v in self.led.vouchers.items() if v.maturity_date <= self.today)
        pool = due if due and data.draw(st.integers(0, 4)) else sorted(self.led.vouchers)
        no = data.draw(st.sampled_from(pool))
        before = self.led.vouchers[no]
        if verb == "dishonour":
            self.attempt(lambda: self.led.dishonour(no, on=self.today, reason="no funds"))
        else:
            c = self.attempt(lambda: getattr(self.led, verb)(no, on=self.today))
            if c is not None and verb == "settle":
                # every current holder is paid exactly its fen, and the whole face is paid
                assert sum(p.amount_fen for p in c.payments) == before.face_fen
                assert {p.seq for p in c.payments} == set(c.event.holdings)

    # -- invariants
    @invariant()
    def ledger_balances(self) -> None:
        totals = self.led.check()
        for no, t in totals.items():
            v = self.led.vouchers[no]
            assert t["live"] + t["settled"] + t["cancelled"] == v.face_fen
            if v.status is VoucherStatus.SETTLED:
                assert sum(paid_by_party(p for p in self.led.payments if p.voucher_no == no).values()) == v.face_fen

    @invariant()
    def every_holding_traces_to_its_root_and_issuer(self) -> None:
        for no, hs in self.led.holdings.items():
            v = self.led.vouchers[no]
            for h in hs.values():
                node, depth = h, 0
                while node.parent is not None:
                    parent = hs[node.parent]
                    assert parent.start <= node.start and node.end <= parent.end
                    node, depth = parent, depth + 1
                assert node.seq == 1 and node.holder == v.payee and (node.start, node.end) == (0, v.face_fen)
                assert v.issuer in CORES


TestLedgerMachine = LedgerMachine.TestCase
TestLedgerMachine.settings = settings(max_examples=100, stateful_step_count=50, deadline=None,
                                      suppress_health_check=[HealthCheck.too_slow])


@settings(max_examples=40, deadline=None)
@given(depth=st.integers(1, 60), cuts=st.lists(st.integers(1, 99), min_size=60, max_size=60),
       face=st.integers(1, 10**11))
def test_a_transfer_chain_of_any_depth_settles_exactly(depth: int, cuts: list[int], face: int) -> None:
    """Each tier keeps a share and passes the rest on; at maturity every tier is paid exactly its share."""
    led = VoucherLedger()
    core = CORES[0]
    tiers = [uscc(1000 + i, "440106") for i in range(depth + 1)]
    led.approve_limit(core, str(Money.from_fen(face).amount), valid_from=date(2025, 6, 15), valid_to=date(2027, 1, 1))
    led.confirm_payable("AP", core=core, supplier=tiers[0], amount=Money.from_fen(face), on=date(2025, 7, 1))
    v = led.issue("AP", face=Money.from_fen(face), maturity=date(2026, 1, 1), on=date(2025, 7, 1), by=core,
                  transfer_mode="notice")
    led.accept(v.root_ref(), by=tiers[0], on=date(2025, 7, 1))
    expected: dict[str, int] = {}
    holding, amount = v.root_ref(), face
    for i in range(depth):
        passed = amount * cuts[i] // 100
        if passed == 0:
            break
        c = led.transfer(holding, to=tiers[i + 1], by=tiers[i], on=date(2025, 7, 2), amount=(
            None if passed == amount else Money.from_fen(passed)))
        expected[tiers[i]] = amount - passed
        holding, amount = c.created[-1].ref, passed
    expected[led.holding(holding)[1].holder] = amount
    paid = paid_by_party(led.settle(v.no, on=date(2026, 1, 1)).payments)
    assert paid == {k: x for k, x in expected.items() if x}
    assert sum(paid.values()) == face
    led.check()
