"""The limit formula (额度测算): CEL candidates → min → grade multiplier → caps → rounded down to the step.

Each candidate is a CEL number over indicators and context names (`tax_total_paid_12m * 3.0`,
`tax_sales_12m * 0.2`). CEL works in doubles, so each result is taken at its shortest decimal text
(`repr`) and rounded to the fen (ROUND_HALF_UP) before any money arithmetic: `0.2 × 50000.0` is exactly
10 000.00, not 9 999.999… A negative result counts as 0; a non-finite one (a division by zero) or one
with missing inputs makes the limit un-computable (`limit_no_data`) unless the candidate is `optional`,
in which case it is left out of the min.

base = min(candidates); scaled = base × multiplier[grade]; the limit is the least of scaled, the product
cap (`limit.max`), the inclusive-finance headroom (`inclusive_sme_credit_cap` on the date − the borrower's
existing credit across products, 单户授信总额 ≤ 1000万, cn_domain §1.4) and each scenario exposure cap's
headroom (`cap` − `used`, e.g. a core enterprise's cap − its vouchers and chain loans), rounded **down** to
`limit.step`. Below `limit.min` the scenario declines, with the code of the constraint that bound:
`inclusive_cap_reached`, the exposure cap's own code, or `limit_below_minimum`.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from decimal import ROUND_DOWN, ROUND_HALF_UP, Decimal
from typing import TYPE_CHECKING, Any

from puhui.decisioning.cel import MissingInput

if TYPE_CHECKING:
    from puhui.decisioning.scenario import Compiled, Scenario

__all__ = ["LimitResult", "compute_limit", "money_from_cel", "round_down"]

_FEN = Decimal("0.01")
_ZERO = Decimal("0.00")


@dataclass(frozen=True)
class LimitResult:
    """The limit and how it came about (for the decision's explanation)."""

    amount: Decimal  # rounded down to the step; 0 when declined
    candidates: dict[str, str | None]  # name → amount as text (None: missing / skipped)
    base: Decimal | None
    multiplier: Decimal | None
    caps: dict[str, str]  # constraint → headroom as text
    binding: str | None  # the candidate or cap that set the amount
    reason: str | None = None  # a decline code, or None
    missing: tuple[str, ...] = ()

    def trace(self) -> dict[str, Any]:
        return {"candidates": dict(self.candidates), "base": _txt(self.base), "multiplier": _txt(self.multiplier),
                "caps": dict(self.caps), "binding": self.binding, "amount": str(self.amount),
                "missing": list(self.missing)}  # fmt: skip


def _txt(d: Decimal | None) -> str | None:
    return None if d is None else str(d)


def money_from_cel(x: Any) -> Decimal | None:
    """A CEL number as money: shortest decimal text, rounded to the fen; None when not finite."""
    if isinstance(x, bool) or not isinstance(x, (int, float)):
        return None
    if isinstance(x, float) and not math.isfinite(x):
        return None
    d = Decimal(repr(x) if isinstance(x, float) else x).quantize(_FEN, rounding=ROUND_HALF_UP)
    return max(d, _ZERO)


def round_down(amount: Decimal, step: Decimal) -> Decimal:
    """Round down to a multiple of `step` (never below 0), kept at the fen."""
    if amount <= 0:
        return _ZERO
    return ((amount / step).to_integral_value(rounding=ROUND_DOWN) * step).quantize(_FEN)


def compute_limit(scenario: Scenario, env: Mapping[str, Any], grade: str, *, exposure: Decimal,
                  inclusive_cap: Decimal, compiled: Compiled | None = None) -> LimitResult:  # fmt: skip
    """The limit for `grade` given CEL values `env` (absent = missing) and the borrower's existing credit."""
    c = compiled or scenario.compiled
    spec = scenario.limit
    values: dict[str, str | None] = {}
    found: list[tuple[Decimal, str]] = []
    missing: list[str] = []
    for cand, expr in zip(spec.candidates, c.candidates, strict=True):
        try:
            amount = money_from_cel(expr.run(env))
        except MissingInput:
            amount = None
        values[cand.name] = None if amount is None else str(amount)
        if amount is None:
            if not cand.optional:
                missing.append(cand.name)
            continue
        found.append((amount, cand.name))
    if missing or not found:
        return LimitResult(_ZERO, values, None, None, {}, None, "limit_no_data", tuple(missing or values))
    base, binding = min(found)
    multiplier = spec.grade_multipliers[grade]
    amount = (base * multiplier).quantize(_FEN, rounding=ROUND_DOWN)
    caps: dict[str, str] = {"product_cap": str(spec.max)}
    limits: list[tuple[Decimal, str]] = [(amount, binding), (spec.max, "product_cap")]
    headroom = max(inclusive_cap - exposure, _ZERO)
    caps["inclusive_cap"] = str(headroom)
    limits.append((headroom, "inclusive_cap"))
    for cap, (cap_expr, used_expr) in zip(spec.exposure_caps, c.caps, strict=True):
        try:
            total, used = money_from_cel(cap_expr.run(env)), money_from_cel(used_expr.run(env))
        except MissingInput as gone:
            return LimitResult(_ZERO, values, base, multiplier, caps, cap.code, f"{cap.code}_no_data", (gone.name,))
        if total is None or used is None:
            return LimitResult(_ZERO, values, base, multiplier, caps, cap.code, f"{cap.code}_no_data", ())
        room = max(total - used, _ZERO)
        caps[cap.code] = str(room)
        limits.append((room, cap.code))
    # the first constraint at the minimum binds (the formula before a cap on a tie)
    low = min(v for v, _ in limits)
    binding = next(name for v, name in limits if v == low)
    final = round_down(low, spec.step)
    if final < spec.min:
        if binding == "inclusive_cap":
            reason = "inclusive_cap_reached"
        elif binding in {c.code for c in spec.exposure_caps}:
            reason = binding
        else:
            reason = "limit_below_minimum"
        return LimitResult(_ZERO, values, base, multiplier, caps, binding, reason)
    return LimitResult(final, values, base, multiplier, caps, binding)
