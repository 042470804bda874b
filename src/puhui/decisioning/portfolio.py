"""Portfolio limits (组合限额): a borrower's total credit across products, and exposure to a core enterprise.

**Borrower exposure (单户授信总额)** is what the inclusive-finance cap (`inclusive_sme_credit_cap`, 10m
CNY, a dated setting) limits. It is *committed credit*, not drawn balance: the cap is on 授信总额, and an
undrawn revolving line can be drawn in a minute (随借随还), so it is exposure already. Per credit line —
whatever product opened it (credit loans, collateral lines, chain loans all open `credit_lines`) — it is
`max(limit, outstanding principal)` while the line is open (active or frozen and valid on the date), and
the outstanding principal once the line has expired or closed (a reduced or expired line still carries
its loans); loans drawn without a line count with their outstanding principal. Open offers do **not**
count: an offer is not credit until accepted, pre-approval keeps one offer per enterprise, and acceptance
opens a line that from then on counts (the journey re-checks the cap then). `borrower_exposures` computes
the same figure for many enterprises in two grouped queries (pre-approval).

**Core-enterprise exposure (核心企业风险敞口)**, 银发〔2025〕77号 and the large-exposure rules: the live face of
the vouchers the core enterprise has issued (what it owes through the platform, which the bank stands
behind through its chain limit) plus the credit of chain loans (e链快贷) to its chain's members — lines
opened by applications under a chain-loan scenario, attributed to the core recorded in the decision's
facts (`extra.chain_core`), or, for decisions that did not record one, to the core of which the borrower
is a member (`members`). This total is the `core_exposure` a chain-loan decision reads; the cap itself is
bank policy and lives in the chain-loan scenario (`limit.exposure_caps`, e.g. 5 % of the core's revenue),
which the engine applies — `core_exposure(..., cap=…)` reports the headroom under a cap the caller gives.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from datetime import date
from decimal import Decimal
from typing import Any

from sqlalchemy import Engine, func, select
from sqlalchemy.orm import Session

from puhui.core.regulatory import REGULATORY
from puhui.decisioning.store import ApplicationRow, DecisionRow
from puhui.lending.store import CreditLineRow, LoanRow
from puhui.store.db import transaction

__all__ = [
    "CHAIN_SCENARIOS",
    "borrower_cap",
    "borrower_exposure",
    "borrower_exposures",
    "borrower_headroom",
    "core_exposure",
]

ZERO = Decimal("0.00")
#: Scenarios whose loans count against the core enterprise of the borrower's chain.
CHAIN_SCENARIOS: tuple[str, ...] = ("supply_chain_loan",)
_OPEN_LINE = ("active", "frozen")


def borrower_cap(on: date) -> Decimal:
    """普惠型小微企业 single-borrower credit cap in force on `on`."""
    return Decimal(str(REGULATORY.get("inclusive_sme_credit_cap", on=on)))


def _session_run(target: Engine | Session, fn: Any) -> Any:
    if isinstance(target, Session):
        return fn(target)
    with transaction(target, write=False) as s:
        return fn(s)


def _line_exposures(s: Session, on: date, usccs: list[str] | None) -> dict[str, Decimal]:
    lines, loans = CreditLineRow.__table__.c, LoanRow.__table__.c
    outstanding = (select(loans.line_id, func.sum(loans.principal).label("p"))
                   .where(loans.status == "active", loans.line_id.is_not(None))
                   .group_by(loans.line_id).subquery())
    stmt = (select(lines.borrower_id, lines.credit_limit, lines.status, lines.valid_from, lines.valid_to,
                   outstanding.c.p)
            .outerjoin(outstanding, outstanding.c.line_id == lines.id))
    loose = (select(loans.borrower_id, func.sum(loans.principal))
             .where(loans.status == "active", loans.line_id.is_(None)).group_by(loans.borrower_id))
    if usccs is not None:
        stmt = stmt.where(lines.borrower_id.in_(usccs))
        loose = loose.where(loans.borrower_id.in_(usccs))
    out: dict[str, Decimal] = defaultdict(lambda: ZERO)
    for borrower, limit, status, valid_from, valid_to, principal in s.execute(stmt):
        drawn = Decimal(principal) if principal is not None else ZERO
        is_open = status in _OPEN_LINE and valid_from <= on <= valid_to
        out[borrower] += max(limit, drawn) if is_open else drawn
    for borrower, principal in s.execute(loose):
        out[borrower] += Decimal(principal or 0)
    return out


def borrower_exposure(target: Engine | Session, uscc: str, on: date) -> Decimal:
    """单户授信总额 of `uscc` on `on`, across every product (see the module docstring)."""
    return _session_run(target, lambda s: _line_exposures(s, on, [uscc]).get(uscc, ZERO))


def borrower_exposures(target: Engine | Session, on: date, usccs: Iterable[str] | None = None,
                       *, chunk: int = 900) -> dict[str, Decimal]:
    """The exposure of many enterprises at once (only those with any appear); all borrowers when None."""
    if usccs is None:
        return _session_run(target, lambda s: dict(_line_exposures(s, on, None)))
    wanted = list(dict.fromkeys(usccs))

    def run(s: Session) -> dict[str, Decimal]:
        out: dict[str, Decimal] = {}
        for i in range(0, len(wanted), chunk):
            out.update(_line_exposures(s, on, wanted[i:i + chunk]))
        return out

    return _session_run(target, run)


def borrower_headroom(target: Engine | Session, uscc: str, on: date) -> dict[str, str]:
    """The cap, the exposure and what is left under the cap (never negative)."""
    cap = borrower_cap(on)
    exposure = borrower_exposure(target, uscc, on)
    return {"uscc": uscc, "on": on.isoformat(), "cap": str(cap), "exposure": str(exposure),
            "headroom": str(max(cap - exposure, ZERO))}


def _chain_loans(s: Session, core_uscc: str, on: date, members: set[str],
                 scenarios: tuple[str, ...]) -> dict[str, Decimal]:
    a, d = ApplicationRow.__table__.c, DecisionRow.__table__.c
    rows = s.execute(select(a.uscc, a.line_id, d.inputs).outerjoin(DecisionRow.__table__, d.id == a.decision_id)
                     .where(a.scenario_id.in_(scenarios), a.line_id.is_not(None))).all()
    line_ids = []
    for uscc, line_id, inputs in rows:
        extra = (inputs or {}).get("extra") or {}
        core = extra.get("chain_core") or extra.get("core_uscc")
        if core == core_uscc or (core is None and uscc in members):
            line_ids.append(line_id)
    if not line_ids:
        return {}
    lines, loans = CreditLineRow.__table__.c, LoanRow.__table__.c
    drawn = dict(s.execute(select(loans.line_id, func.sum(loans.principal))
                           .where(loans.status == "active", loans.line_id.in_(line_ids))
                           .group_by(loans.line_id)).all())
    out: dict[str, Decimal] = defaultdict(lambda: ZERO)
    for lid, borrower, limit, status, vf, vt in s.execute(
            select(lines.id, lines.borrower_id, lines.credit_limit, lines.status, lines.valid_from, lines.valid_to)
            .where(lines.id.in_(line_ids))):
        d_ = Decimal(drawn.get(lid) or 0)
        out[borrower] += max(limit, d_) if (status in _OPEN_LINE and vf <= on <= vt) else d_
    return dict(out)


def core_exposure(engine: Engine, core_uscc: str, *, on: date, members: Iterable[str] = (),
                  chain_scenarios: tuple[str, ...] = CHAIN_SCENARIOS, cap: Decimal | None = None) -> dict[str, Any]:
    """Exposure to one core enterprise: live voucher face + chain-loan credit of its members (and the
    headroom under `cap` when given)."""
    from puhui.supplychain.service import voucher_exposure

    entry = voucher_exposure(engine, core_uscc)["cores"].get(core_uscc, {})
    if "outstanding" in entry:  # the chain limit's outstanding face: issued, neither settled nor cancelled
        vouchers = Decimal(entry["outstanding"])
    else:
        vouchers = sum((Decimal(by["total"]) for by in entry.get("holders", {}).values()), ZERO)
    with transaction(engine, write=False) as s:
        loans = _chain_loans(s, core_uscc, on, set(members), chain_scenarios)
    chain_total = sum(loans.values(), ZERO)
    total = vouchers + chain_total
    out: dict[str, Any] = {
        "core": core_uscc, "on": on.isoformat(), "vouchers": str(vouchers), "chain_loans": str(chain_total),
        "chain_loans_by_member": {k: str(v) for k, v in sorted(loans.items())}, "total": str(total),
    }
    if cap is not None:
        out.update(cap=str(cap), headroom=str(max(Decimal(cap) - total, ZERO)), within_cap=total <= Decimal(cap))
    return out
