"""Shared helpers for the supply-chain tests (not a test module): parties, a ready ledger, store snapshots."""

from __future__ import annotations

import itertools
from datetime import date
from typing import Any

from sqlalchemy import Engine, text

from puhui.core.identifiers import make_uscc
from puhui.store.db import transaction
from puhui.supplychain import service
from puhui.supplychain.vouchers import VoucherLedger


def uscc(n: int, region: str = "440106") -> str:
    """A valid USCC (GB 32100) for party number n."""
    return make_uscc("9", "1", region, f"{n:08d}")


CORE = uscc(1, "110108")
T1 = uscc(11, "310104")
T2 = uscc(12, "320102")
T3 = uscc(13, "330106")
T4 = uscc(14, "440106")
BANK = "BANK-PUHUI"
ISSUE_ON = date(2025, 7, 1)
MATURITY = date(2025, 12, 31)

_keys = itertools.count(1)


def key() -> str:
    return f"sc-key-{next(_keys)}"


def ledger(limit: str = "5000000", payable: str = "2000000") -> VoucherLedger:
    """A ledger with CORE's chain limit approved and payable AP1 (CORE owes T1) confirmed."""
    led = VoucherLedger()
    led.approve_limit(CORE, limit, valid_from=date(2025, 6, 15), valid_to=date(2026, 12, 31))
    led.confirm_payable("AP1", core=CORE, supplier=T1, amount=payable, on=ISSUE_ON)
    return led


def active_voucher(led: VoucherLedger, face: str = "1000000", **kw: Any) -> str:
    """Issue a voucher against AP1 and have T1 sign it; its number."""
    v = led.issue("AP1", face=face, maturity=kw.pop("maturity", MATURITY), on=ISSUE_ON, by=CORE, **kw)
    led.accept(v.root_ref(), by=T1, on=ISSUE_ON)
    return v.no


def setup_store(engine: Engine, *, limit: str = "5000000", payable: str = "2000000") -> None:
    """The store twin of `ledger()`."""
    service.do_approve_chain_limit(engine, core=CORE, limit=limit, valid_from="2025-06-15", valid_to="2026-12-31",
                                   on=ISSUE_ON, idempotency_key=key())
    service.do_confirm_payable(engine, payable_no="AP1", core=CORE, supplier=T1, amount=payable, on=ISSUE_ON,
                               idempotency_key=key())


def issue_active(engine: Engine, face: str = "1000000", **kw: Any) -> str:
    body = service.do_issue(engine, payable_no="AP1", face=face, maturity=kw.pop("maturity", MATURITY),
                            on=ISSUE_ON, by=CORE, idempotency_key=key(), **kw).body
    no = body["voucher"]["voucher_no"]
    service.do_accept(engine, f"{no}-1", by=T1, on=ISSUE_ON, idempotency_key=key())
    return str(no)


_LEDGER_TABLES = ("chain_limits", "voucher_payables", "vouchers", "voucher_holdings", "voucher_events",
                  "voucher_financings", "voucher_payments", "audit_log", "idempotency_keys")


def store_snapshot(engine: Engine) -> dict[str, list[tuple[Any, ...]]]:
    """Every row of the voucher ledger's tables (and the audit log), for an unchanged-ledger check."""
    out = {}
    with transaction(engine, write=False) as s:
        for t in _LEDGER_TABLES:
            out[t] = [tuple(r) for r in s.execute(text(f"SELECT * FROM {t} ORDER BY id"))]
    return out
