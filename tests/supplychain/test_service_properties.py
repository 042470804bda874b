"""The service on SQLite against the pure ledger: random sequences of issue, accept, reject, withdraw, split,
transfer, finance and settle go through both; after every step they agree — the same answer or the same
error code, the same holdings to the fen — and the stored ledger reconciles (`service.reconcile`)."""

from __future__ import annotations

import itertools
import tempfile
from collections.abc import Callable
from datetime import date, timedelta
from pathlib import Path
from typing import Any

from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, initialize, invariant, precondition, rule

from puhui.core.errors import PuhuiError
from puhui.core.money import Money
from puhui.store import load_models, make_engine
from puhui.supplychain import service
from puhui.supplychain.vouchers import HoldingStatus, Voucher, VoucherLedger
from tests.supplychain._kit import uscc

CORE = uscc(1, "110108")
MEMBERS = [uscc(200 + i, "440106") for i in range(4)]
PARTIES = [CORE, *MEMBERS, "BANK"]


class ServiceMachine(RuleBasedStateMachine):
    def __init__(self) -> None:
        super().__init__()
        self.tmp = tempfile.TemporaryDirectory()
        self.engine = make_engine(f"sqlite:///{Path(self.tmp.name) / 'sm.sqlite'}")
        load_models().create_all(self.engine)
        self.led = VoucherLedger(calendar=service.default_calendar())
        self.today = date(2025, 7, 1)
        self.n = itertools.count(1)

    def teardown(self) -> None:
        self.engine.dispose()
        self.tmp.cleanup()

    @initialize()
    def setup(self) -> None:
        self.led.approve_limit(CORE, "2000000", valid_from=date(2025, 6, 15), valid_to=date(2027, 1, 1))
        service.do_approve_chain_limit(self.engine, core=CORE, limit="2000000", valid_from="2025-06-15",
                                       valid_to="2027-01-01", on=self.today, idempotency_key="limit")

    def both(self, pure: Callable[[], Any], stored: Callable[[], Any]) -> None:
        """Run the step on both; they must agree on success (event kind) or failure (code)."""
        outcome: list[tuple[str, str]] = []
        for fn in (pure, stored):
            try:
                r = fn()
                if isinstance(r, Voucher):
                    outcome.append(("ok", "issued"))
                else:
                    outcome.append(("ok", r.event.kind if hasattr(r, "event") else r.body["event"]))
            except PuhuiError as e:
                assert 400 <= e.http_status < 500, e
                outcome.append(("error", e.code))
        assert outcome[0] == outcome[1], outcome

    def key(self) -> str:
        return f"k{next(self.n)}"

    def pick(self, data: st.DataObject, *prefer: HoldingStatus) -> str | None:
        """A holding: one in a `prefer`red status nine times in ten (if any), else any non-superseded one."""
        refs = sorted(h.ref for hs in self.led.holdings.values() for h in hs.values()
                      if h.status is not HoldingStatus.SUPERSEDED)
        good = sorted(h.ref for hs in self.led.holdings.values() for h in hs.values() if h.status in prefer)
        pool = good if good and data.draw(st.integers(0, 9)) else refs
        return data.draw(st.sampled_from(pool)) if pool else None

    @rule(payee=st.sampled_from(MEMBERS), fen=st.integers(1, 90_000_000), tenor=st.integers(1, 380),
          notice=st.booleans(), accept=st.integers(0, 3))
    def issue(self, payee: str, fen: int, tenor: int, notice: bool, accept: int) -> None:
        ap, no = f"AP{next(self.n)}", f"CV{next(self.n)}"
        amount = Money.from_fen(fen)
        self.led.confirm_payable(ap, core=CORE, supplier=payee, amount=amount, on=self.today)
        service.do_confirm_payable(self.engine, payable_no=ap, core=CORE, supplier=payee, amount=amount,
                                   on=self.today, idempotency_key=self.key())
        mat, mode = self.today + timedelta(days=tenor), "notice" if notice else "acceptance"
        self.both(lambda: self.led.issue(ap, face=amount, maturity=mat, on=self.today, by=CORE, transfer_mode=mode,
                                         no=no),
                  lambda: service.do_issue(self.engine, payable_no=ap, face=amount, maturity=mat, on=self.today,
                                           by=CORE, transfer_mode=mode, voucher_no=no, idempotency_key=self.key()))
        if accept and no in self.led.vouchers:
            self.both(lambda: self.led.accept(f"{no}-1", by=payee, on=self.today),
                      lambda: service.do_accept(self.engine, f"{no}-1", by=payee, on=self.today,
                                                idempotency_key=self.key()))

    @rule(data=st.data(), verb=st.sampled_from(["accept", "accept", "reject", "withdraw"]),
          by=st.sampled_from(PARTIES))
    def respond(self, data: st.DataObject, verb: str, by: str) -> None:
        ref = self.pick(data, HoldingStatus.LOCKED, HoldingStatus.ISSUED)
        if ref is None:
            return
        v, h = self.led.holding(ref)
        if data.draw(st.booleans()):  # mostly the right party
            by = (h.pending.by if verb == "withdraw" else h.pending.to) if h.pending else (
                v.issuer if verb == "withdraw" else h.holder)
        do = {"accept": service.do_accept, "reject": service.do_reject, "withdraw": service.do_withdraw}[verb]
        self.both(lambda: getattr(self.led, verb)(ref, by=by, on=self.today),
                  lambda: do(self.engine, ref, by=by, on=self.today, idempotency_key=self.key()))

    @rule(data=st.data(), share=st.integers(0, 100))
    def split(self, data: st.DataObject, share: int) -> None:
        ref = self.pick(data, HoldingStatus.ACTIVE)
        if ref is None:
            return
        h = self.led.holding(ref)[1]
        part = Money.from_fen(max(1, h.amount_fen * share // 100))
        self.both(lambda: self.led.split(ref, [part], by=h.holder, on=self.today),
                  lambda: service.do_split(self.engine, ref, parts=[part], by=h.holder, on=self.today,
                                           idempotency_key=self.key()))

    @rule(data=st.data(), to=st.sampled_from(MEMBERS), share=st.integers(1, 100))
    def transfer(self, data: st.DataObject, to: str, share: int) -> None:
        ref = self.pick(data, HoldingStatus.ACTIVE)
        if ref is None:
            return
        h = self.led.holding(ref)[1]
        amount = None if share == 100 else Money.from_fen(max(1, h.amount_fen * share // 100))
        self.both(lambda: self.led.transfer(ref, to=to, by=h.holder, on=self.today, amount=amount),
                  lambda: service.do_transfer(self.engine, ref, to=to, by=h.holder, on=self.today, amount=amount,
                                              idempotency_key=self.key()))

    @rule(data=st.data(), rate_bp=st.integers(0, 600), registered=st.integers(0, 5))
    def finance(self, data: st.DataObject, rate_bp: int, registered: int) -> None:
        ref = self.pick(data, HoldingStatus.ACTIVE)
        if ref is None:
            return
        h = self.led.holding(ref)[1]
        reg, rate = (f"ZD{next(self.n)}" if registered else None), f"{rate_bp / 10000}"
        self.both(lambda: self.led.finance(ref, funder="BANK", annual_rate=rate, registration_ref=reg, by=h.holder,
                                           on=self.today),
                  lambda: service.do_finance(self.engine, ref, funder="BANK", annual_rate=rate, registration_ref=reg,
                                             by=h.holder, on=self.today, idempotency_key=self.key()))

    @rule(days=st.sampled_from([1, 30, 90, 200]))
    def advance(self, days: int) -> None:
        self.today += timedelta(days=days)

    @precondition(lambda self: bool(self.led.vouchers))
    @rule(data=st.data())
    def settle(self, data: st.DataObject) -> None:
        no = data.draw(st.sampled_from(sorted(self.led.vouchers)))
        self.both(lambda: self.led.settle(no, on=self.today),
                  lambda: service.do_settle(self.engine, no, on=self.today, idempotency_key=self.key()))

    @invariant()
    def store_equals_ledger(self) -> None:
        self.led.check()
        if not self.led.vouchers:
            return
        assert service.reconcile(self.engine)["vouchers"] == len(self.led.vouchers)
        for no in self.led.vouchers:
            stored = service.voucher_history(self.engine, no)
            assert stored["voucher"] == self.led.vouchers[no].to_dict()
            assert stored["holdings"] == [h.to_dict() for h in sorted(self.led.holdings[no].values(),
                                                                      key=lambda h: h.seq)]
        assert service.get_limit(self.engine, CORE)["outstanding"] == self.led.limits[CORE].to_dict()["outstanding"]


TestServiceMachine = ServiceMachine.TestCase
TestServiceMachine.settings = settings(max_examples=20, stateful_step_count=20, deadline=None,
                                       suppress_health_check=[HealthCheck.too_slow])
