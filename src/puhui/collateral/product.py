"""The collateral revolving line (网贷通 · e抵快贷), pure: the limit a valued property supports, the loan-to-value
check of monitoring, and the maximum-amount mortgage (最高额抵押) state machine.

**Limit.** ``limit = min(product cap, value × (LTV cap − haircut(confidence)) − existing mortgage balance)``,
floored at 0 and rounded *down* to the product step. The LTV cap is the dated setting
``residential_ltv_cap`` (抵押率, 70 % in practice, avm_scf.md A "LTV / collateral rules") in force on the
decision date; the haircut comes from the AVM confidence score (100 × (1 − FSD)) through the product's
dated haircut table (``product.yaml``), so an uncertain value lends less; the existing mortgage balance is a
prior claim on the same property (《房地产抵押估价指导意见》建住房〔2006〕8号: mortgage value = value minus
known priority claims). A valuation with no value, or a confidence below the table, is *referred* to a
manual appraisal (never lent on); a declined credit decision or a limit under the product minimum is a
*decline*. Every outcome carries stable reason codes.

**Monitoring.** ``LTV = (line limit + existing mortgage) / value``: the committed limit, not the drawn
balance, because an undrawn revolving limit can be drawn at any moment. Above the cap the line is in
breach; the policy then freezes it or reduces it to what the new value supports (``value × cap −
existing``, rounded down) — 商业银行押品管理指引 (银监发〔2017〕16号) asks for periodic revaluation and action.

**Mortgage.** A maximum-amount mortgage secures every debt under the line up to a maximum amount within a
period (民法典 Art 420–423); a real-estate mortgage is created only on registration (民法典 Art 402), so the
line opens only once the registry has registered it. States: PENDING → REGISTERED → RELEASED, and PENDING →
REJECTED when the registry refuses the filing.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from decimal import ROUND_FLOOR, Decimal
from enum import StrEnum
from pathlib import Path
from typing import Any

from puhui.core.errors import Conflict, ValidationError
from puhui.core.regulatory import REGULATORY, SettingsBook

__all__ = [
    "PRODUCT",
    "CollateralDecision",
    "LtvCheck",
    "MortgageStatus",
    "Outcome",
    "ProductTerms",
    "collateral_limit",
    "decide",
    "haircut_for",
    "ltv_check",
    "mortgage_transition",
]

PRODUCT = SettingsBook.load(Path(__file__).with_name("product.yaml"))
"""The product's dated settings (haircut table, cap, minimum, step, breach action)."""

_ZERO = Decimal("0.00")
_FEN = Decimal("0.01")


class Outcome(StrEnum):
    APPROVE = "approve"
    REFER = "refer"  # 转人工: manual appraisal / review
    DECLINE = "decline"


class MortgageStatus(StrEnum):
    PENDING = "pending"  # filed (or to be filed) with the registry; no mortgage right yet (Art 402)
    REGISTERED = "registered"  # 已登记: the mortgage right exists; the line may open
    RELEASED = "released"  # 已注销: released after the secured debts are settled
    REJECTED = "rejected"  # the registry refused the filing


_TRANSITIONS = {
    MortgageStatus.PENDING: {MortgageStatus.REGISTERED, MortgageStatus.REJECTED},
    MortgageStatus.REGISTERED: {MortgageStatus.RELEASED},
    MortgageStatus.RELEASED: set(),
    MortgageStatus.REJECTED: set(),
}


def mortgage_transition(current: MortgageStatus | str, target: MortgageStatus | str) -> MortgageStatus:
    """The new status, or a Conflict (`invalid_mortgage_transition`) when the state machine forbids it."""
    cur, tgt = MortgageStatus(current), MortgageStatus(target)
    if tgt not in _TRANSITIONS[cur]:
        raise Conflict(f"a {cur.value} mortgage cannot become {tgt.value}", code="invalid_mortgage_transition",
                       current=cur.value, target=tgt.value)
    return tgt


def _amount(value: Any, name: str) -> Decimal:
    if isinstance(value, (float, bool)):
        raise ValidationError(f"{name}: amounts are Decimal or text, not {type(value).__name__}",
                              code="invalid_amount", field=name)
    try:
        d = Decimal(str(getattr(value, "amount", value)))
    except ArithmeticError:
        raise ValidationError(f"{name}: {value!r} is not an amount", code="invalid_amount", field=name) from None
    if not d.is_finite() or d < 0:
        raise ValidationError(f"{name} must be a non-negative amount, got {value!r}", code="invalid_amount",
                              field=name)
    return d


@dataclass(frozen=True)
class ProductTerms:
    """The settings of one decision date: LTV cap (regulatory), haircut bands, cap, minimum, step, action."""

    ltv_cap: Decimal
    haircuts: tuple[tuple[int, Decimal], ...]  # (minimum confidence, haircut), highest confidence first
    product_cap: Decimal
    min_limit: Decimal
    step: Decimal
    breach_action: str = "reduce"
    max_valuation_age_days: int = 30

    @classmethod
    def on(cls, day: date, *, regulatory: SettingsBook = REGULATORY, product: SettingsBook = PRODUCT) -> ProductTerms:
        bands = tuple(sorted(((int(c), Decimal(h)) for c, h in product.get("collateral_haircut", day)), reverse=True))
        return cls(
            ltv_cap=Decimal(regulatory.get("residential_ltv_cap", day)), haircuts=bands,
            product_cap=Decimal(product.get("collateral_product_cap", day)),
            min_limit=Decimal(product.get("collateral_min_limit", day)),
            step=Decimal(product.get("collateral_limit_step", day)),
            breach_action=str(product.get("collateral_breach_action", day)),
            max_valuation_age_days=int(product.get("collateral_max_valuation_age_days", day)),
        )  # fmt: skip

    def __post_init__(self) -> None:
        if not Decimal(0) < self.ltv_cap <= Decimal(1) or self.step <= 0 or self.breach_action not in {"freeze",
                                                                                                       "reduce"}:
            raise ValidationError("collateral product settings out of range", code="invalid_product_setting")
        if not self.haircuts or any(not Decimal(0) <= h < self.ltv_cap for _, h in self.haircuts):
            raise ValidationError("each haircut must lie in [0, LTV cap)", code="invalid_product_setting")


def haircut_for(confidence: int | None, terms: ProductTerms) -> Decimal | None:
    """The haircut of the highest band whose minimum the confidence reaches; None below every band."""
    if confidence is None:
        return None
    for minimum, cut in terms.haircuts:
        if confidence >= minimum:
            return cut
    return None


def round_down(amount: Decimal, step: Decimal) -> Decimal:
    """`amount` rounded down to a multiple of `step` (never below 0)."""
    if amount <= 0:
        return _ZERO
    return ((amount / step).to_integral_value(rounding=ROUND_FLOOR) * step).quantize(_FEN)


def collateral_limit(value: Any, *, ltv_cap: Decimal, haircut: Decimal, existing_mortgage: Any,
                     product_cap: Any, step: Decimal) -> Decimal:
    """min(product cap, value × (LTV cap − haircut) − existing mortgage), floored at 0, rounded down to `step`."""
    v = _amount(value, "value")
    existing = _amount(existing_mortgage, "existing_mortgage")
    cap = _amount(product_cap, "product_cap")
    raw = min(cap, v * (ltv_cap - haircut) - existing)
    return round_down(raw, step)


@dataclass(frozen=True)
class CollateralDecision:
    """A decision on a collateral line application, with its inputs so that it can be explained."""

    outcome: Outcome
    limit: Decimal  # 0 unless approved
    reasons: tuple[str, ...]
    value: Decimal | None
    confidence: int | None
    ltv_cap: Decimal
    haircut: Decimal | None
    existing_mortgage: Decimal
    supported: Decimal  # what the collateral supports before the product minimum and any request
    details: dict[str, Any] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        def s(x: Decimal | None) -> str | None:
            return None if x is None else str(x)

        return {
            "outcome": self.outcome.value, "limit": str(self.limit), "reasons": list(self.reasons),
            "value": s(self.value), "confidence": self.confidence, "ltv_cap": str(self.ltv_cap),
            "haircut": s(self.haircut), "existing_mortgage": str(self.existing_mortgage),
            "supported": str(self.supported),
        }  # fmt: skip


def decide(  # noqa: PLR0911  (one return per outcome rule reads best)
    *, value: Any | None, confidence: int | None, no_value_reason: str | None, existing_mortgage: Any,
    terms: ProductTerms, requested: Any | None = None, credit_outcome: str | None = None,
) -> CollateralDecision:
    """Decide an application (see the module docstring). `credit_outcome` is the borrower's credit decision
    ("approve" / "refer" / "decline") where the decisioning engine gave one; `requested` caps the limit."""
    existing = _amount(existing_mortgage, "existing_mortgage")
    req = None if requested is None else _amount(requested, "requested")

    def out(outcome: Outcome, limit: Decimal, reasons: list[str], v: Decimal | None, cut: Decimal | None,
            supported: Decimal) -> CollateralDecision:
        return CollateralDecision(outcome, limit, tuple(reasons), v, confidence, terms.ltv_cap, cut, existing,
                                  supported)

    if credit_outcome is not None and credit_outcome not in {"approve", "refer", "decline"}:
        raise ValidationError(f"credit_outcome {credit_outcome!r} is not approve/refer/decline",
                              code="invalid_credit_outcome", field="credit_outcome")
    if credit_outcome == "decline":
        return out(Outcome.DECLINE, _ZERO, ["credit_declined"], None, None, _ZERO)
    if value is None:
        return out(Outcome.REFER, _ZERO, ["avm_no_value", f"avm_{no_value_reason or 'unknown'}"], None, None, _ZERO)
    v = _amount(value, "value")
    cut = haircut_for(confidence, terms)
    if cut is None:
        return out(Outcome.REFER, _ZERO, ["avm_low_confidence"], v, None, _ZERO)
    supported = collateral_limit(v, ltv_cap=terms.ltv_cap, haircut=cut, existing_mortgage=existing,
                                 product_cap=terms.product_cap, step=terms.step)
    if supported < terms.min_limit:
        reason = "no_equity" if supported == 0 else "below_min_limit"
        return out(Outcome.DECLINE, _ZERO, [reason], v, cut, supported)
    limit = supported if req is None else min(supported, round_down(req, terms.step))
    if limit < terms.min_limit:
        return out(Outcome.DECLINE, _ZERO, ["below_min_limit"], v, cut, supported)
    if credit_outcome == "refer":
        return out(Outcome.REFER, limit, ["credit_refer"], v, cut, supported)
    reasons = ["product_cap"] if supported == round_down(terms.product_cap, terms.step) else []
    return out(Outcome.APPROVE, limit, reasons, v, cut, supported)


@dataclass(frozen=True)
class LtvCheck:
    """Monitoring's answer for one pledged property at one date."""

    ltv: Decimal | None  # (limit + existing) / value, 4 places; None with no value
    breach: bool
    supported_limit: Decimal | None  # value × cap − existing, rounded down; None with no value


def ltv_check(*, value: Any | None, limit: Any, existing_mortgage: Any, ltv_cap: Decimal,
              step: Decimal) -> LtvCheck:
    """LTV of the committed limit plus prior claims on the re-marked value, and whether it exceeds the cap."""
    lim = _amount(limit, "limit")
    existing = _amount(existing_mortgage, "existing_mortgage")
    if value is None:
        return LtvCheck(None, False, None)
    v = _amount(value, "value")
    if v == 0:
        return LtvCheck(None, True, _ZERO)
    ltv = ((lim + existing) / v).quantize(Decimal("0.0001"))
    supported = round_down(v * ltv_cap - existing, step)
    return LtvCheck(ltv, (lim + existing) > v * ltv_cap, supported)
