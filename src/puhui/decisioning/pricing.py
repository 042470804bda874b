"""Pricing (定价): contract rate = dated LPR + spread by grade, inside floor and cap; all-in APR (综合融资成本).

The contract rate is `LPR(base, as_of) + spread_bp[grade] / 10000`, raised to the scenario's floor or cut to
its cap, and held at 6 decimals (ROUND_HALF_UP). LPR comes from `REGULATORY` (`lpr_1y` / `lpr_5y`, dated).

The all-in APR is what the borrower pays for the money, fees included, by the IRR method that Chinese
lenders use to show an annualised rate (人民银行公告〔2021〕第3号: 年化利率 by 内部收益率法; nominal, monthly IRR
× 12). The cash flows are those of a reference drawdown of 1 over the scenario's term under a repayment
method, with monthly periods at 年利率 / 12 (30-day months, ACT/360 ≈ 1/12): the amount less `upfront` fees
at the start; interest (and principal, by the method) each month plus `annual` fees / 12; the rest at
maturity. An offer shows the highest APR among the repayment methods it allows (a fee on the line amount
weighs more on an amortising loan). Without fees the APR **is** the contract rate (the IRR of such flows
equals it exactly). The APR is rounded **up** at 6 decimals, so a rounding never lets an offer slip under the ceiling.

An offer whose APR exceeds `all_in_apr_cap` on the decision date is declined (`apr_above_cap`); the rate is
never silently lowered, because a price the policy did not approve is not one the bank may quote. Loading
refuses a scenario whose rate cap plus fees already breaks the ceiling in force.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from decimal import ROUND_CEILING, ROUND_HALF_UP, Decimal
from functools import lru_cache
from typing import TYPE_CHECKING

from puhui.core.regulatory import REGULATORY, SettingsBook

if TYPE_CHECKING:
    from puhui.decisioning.scenario import Fee, PricingSpec

__all__ = ["RATE_PLACES", "Price", "all_in_apr", "cash_flows", "price"]

RATE_PLACES = Decimal("0.000001")
_BP = Decimal(10000)


@dataclass(frozen=True)
class Price:
    """The price of an offer: base (LPR) + spread, bounded, and its all-in APR."""

    base_key: str
    base_rate: Decimal
    spread_bp: int
    annual_rate: Decimal
    apr: Decimal
    bound: str | None  # "floor" | "cap" when the bound set the rate


def price(spec: PricingSpec, grade: str, as_of: date, *, term_months: int, methods: Sequence[str],
          settings: SettingsBook = REGULATORY) -> Price:  # fmt: skip
    """The rate and APR for `grade` on `as_of` (LPR of that date). With fees the APR depends on the repayment
    method; the offer shows the highest among the methods it allows, so no choice of method breaks it."""
    base = Decimal(settings.get(spec.base, on=as_of))
    bp = spec.spread_bp[grade]
    raw = base + Decimal(bp) / _BP
    bound = None
    if raw < spec.floor:
        raw, bound = spec.floor, "floor"
    elif raw > spec.cap:
        raw, bound = spec.cap, "cap"
    rate = raw.quantize(RATE_PLACES, rounding=ROUND_HALF_UP)
    return Price(base_key=spec.base, base_rate=base, spread_bp=bp, annual_rate=rate,
                 apr=max(all_in_apr(rate, spec.fees, term_months, m) for m in methods), bound=bound)  # fmt: skip


def cash_flows(rate: Decimal, fees: Sequence[Fee], term_months: int, method: str) -> list[float]:
    """Monthly cash flows of a reference drawdown of 1 (borrower's view: + received, − paid), t = 0 … n."""
    r = float(rate) / 12
    n = term_months
    upfront = sum(float(f.rate) for f in fees if f.kind == "upfront")
    monthly_fee = sum(float(f.rate) for f in fees if f.kind == "annual") / 12
    flows = [1.0 - upfront] + [0.0] * n
    balance = 1.0
    if method == "equal_instalment":
        pay = r * (1 + r) ** n / ((1 + r) ** n - 1) if r > 0 else 1.0 / n
        for t in range(1, n + 1):
            interest = balance * r
            principal = pay - interest if t < n else balance
            flows[t] = -(interest + principal)
            balance -= principal
    elif method == "equal_principal":
        for t in range(1, n + 1):
            principal = 1.0 / n if t < n else balance
            flows[t] = -(balance * r + principal)
            balance -= principal
    elif method == "bullet":
        flows[n] = -(1.0 + r * n)
    else:  # interest_only, revolving: interest every month, principal at maturity
        for t in range(1, n + 1):
            flows[t] = -r
        flows[n] -= 1.0
    for t in range(1, n + 1):
        flows[t] -= monthly_fee
    return flows


def _npv(i: float, flows: list[float]) -> float:
    return sum(cf / (1 + i) ** t for t, cf in enumerate(flows))


@lru_cache(maxsize=4096)
def _apr(rate: Decimal, fees: tuple[Fee, ...], term_months: int, method: str) -> Decimal:
    flows = cash_flows(rate, fees, term_months, method)
    # Borrower's flows: cash in first, then only out, so NPV(i) rises with i and has one root.
    lo, hi = 0.0, 1.0  # monthly IRR in [0, 100%]
    if _npv(lo, flows) >= 0:
        return Decimal(0).quantize(RATE_PLACES)
    if _npv(hi, flows) < 0:
        return Decimal(12)
    for _ in range(200):  # bisection
        mid = (lo + hi) / 2
        if _npv(mid, flows) > 0:
            hi = mid
        else:
            lo = mid
        if hi - lo < 1e-15:
            break
    annual = hi * 12
    if not math.isfinite(annual):
        return Decimal(12)
    # 1e-10 first drops the bisection's float noise (0.07000000000001 is 7%), then up to 6 decimals
    return Decimal(repr(annual)).quantize(Decimal("1e-10")).quantize(RATE_PLACES, rounding=ROUND_CEILING)


def all_in_apr(rate: Decimal, fees: Sequence[Fee], term_months: int, method: str) -> Decimal:
    """All-in APR at 6 decimals (rounded up); equals `rate` when there are no fees (or all are zero)."""
    rate = Decimal(rate)
    if not any(f.rate for f in fees):
        return rate.quantize(RATE_PLACES, rounding=ROUND_CEILING)
    return _apr(rate, tuple(fees), term_months, method)
