"""Repayment allocation (还款顺序 / 冲账顺序): how a payment is split across what a loan owes.

`allocate(amount, dues, on=...)` walks the buckets in a configurable order and, inside each bucket, the
instalments oldest first, paying each as far as the money goes. It never pays more than is owed and
returns the unapplied remainder, which the caller turns into a prepayment or a refund (its decision,
not this module's). Money is conserved exactly: applied + unapplied = amount, to the fen.

Buckets, and the default order (penalty → overdue interest → overdue principal → current interest →
current principal, with 复利 taken with the penalties):

1. `PENALTY` — 罚息 on overdue principal;
2. `COMPOUND` — 复利 on overdue interest;
3. `OVERDUE_INTEREST`, 4. `OVERDUE_PRINCIPAL` — of instalments whose due date is before the payment day;
5. `CURRENT_INTEREST`, 6. `CURRENT_PRINCIPAL` — of instalments due on the payment day or later.

"Overdue" is decided against the instalment's (rolled) payment date: paying on the due date is on time.
The order is horizontal (all overdue interest before any overdue principal), the usual Chinese bank
rule (先息后本; 先逾期后正常), unlike Fineract's per-instalment `mifos-standard-strategy`. A product may
order the buckets differently or leave some out (those are then not paid from this payment).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from enum import StrEnum
from types import MappingProxyType

from puhui.core.dates import parse_date
from puhui.core.errors import ValidationError
from puhui.core.money import Money


class Bucket(StrEnum):
    """A kind of amount owed, as the allocation order names it."""

    PENALTY = "penalty"
    COMPOUND = "compound"
    OVERDUE_INTEREST = "overdue_interest"
    OVERDUE_PRINCIPAL = "overdue_principal"
    CURRENT_INTEREST = "current_interest"
    CURRENT_PRINCIPAL = "current_principal"

    def __str__(self) -> str:
        return self.value


#: penalty → overdue interest → overdue principal → current interest → current principal (issue 5 §3).
DEFAULT_ORDER: tuple[Bucket, ...] = (
    Bucket.PENALTY,
    Bucket.COMPOUND,
    Bucket.OVERDUE_INTEREST,
    Bucket.OVERDUE_PRINCIPAL,
    Bucket.CURRENT_INTEREST,
    Bucket.CURRENT_PRINCIPAL,
)


def parse_order(order: str | Iterable[str | Bucket]) -> tuple[Bucket, ...]:
    """`"penalty,compound,overdue_interest,…"` or a sequence of names → buckets; duplicates/unknown refused."""
    items = order.split(",") if isinstance(order, str) else list(order)
    out: list[Bucket] = []
    for item in items:
        try:
            b = item if isinstance(item, Bucket) else Bucket(str(item).strip().lower())
        except ValueError:
            raise ValidationError(
                f"unknown allocation bucket {item!r}; use {[b.value for b in Bucket]}",
                code="invalid_allocation_order", field="order",
            ) from None
        if b in out:
            raise ValidationError(f"allocation bucket {b.value!r} appears twice", code="invalid_allocation_order",
                                  field="order")
        out.append(b)
    if not out:
        raise ValidationError("the allocation order is empty", code="invalid_allocation_order", field="order")
    return tuple(out)


@dataclass(frozen=True)
class Due:
    """What one instalment still owes (after earlier payments); all amounts ≥ 0, one currency."""

    period: int
    due_date: date
    principal: Money
    interest: Money
    penalty: Money = field(default_factory=Money.zero)
    compound: Money = field(default_factory=Money.zero)

    def __post_init__(self) -> None:
        cur = self.principal.currency
        for name in ("principal", "interest", "penalty", "compound"):
            m = getattr(self, name)
            if not isinstance(m, Money):
                raise ValidationError(f"due {self.period}: {name} must be Money", code="invalid_due", field=name)
            if m.currency != cur:
                raise ValidationError(f"due {self.period}: mixed currencies", code="currency_mismatch")
            if m.amount < 0:
                raise ValidationError(
                    f"due {self.period}: {name} owed is negative ({m.amount})", code="negative_amount", field=name
                )


@dataclass(frozen=True)
class AppliedLine:
    """What a payment paid on one instalment."""

    period: int
    principal: Money
    interest: Money
    penalty: Money
    compound: Money

    @property
    def total(self) -> Money:
        return self.principal + self.interest + self.penalty + self.compound


@dataclass(frozen=True)
class Allocation:
    """The split of one payment: per bucket, per instalment, and the unapplied remainder."""

    amount: Money
    on: date
    by_bucket: Mapping[Bucket, Money]
    lines: tuple[AppliedLine, ...]
    unapplied: Money

    @property
    def applied(self) -> Money:
        return self.amount - self.unapplied


_PART = {
    Bucket.PENALTY: "penalty",
    Bucket.COMPOUND: "compound",
    Bucket.OVERDUE_INTEREST: "interest",
    Bucket.OVERDUE_PRINCIPAL: "principal",
    Bucket.CURRENT_INTEREST: "interest",
    Bucket.CURRENT_PRINCIPAL: "principal",
}
_OVERDUE_ONLY = {Bucket.OVERDUE_INTEREST, Bucket.OVERDUE_PRINCIPAL}
_CURRENT_ONLY = {Bucket.CURRENT_INTEREST, Bucket.CURRENT_PRINCIPAL}


def allocate(
    amount: Money,
    dues: Sequence[Due],
    *,
    on: date | str,
    order: Sequence[Bucket | str] | str = DEFAULT_ORDER,
) -> Allocation:
    """Split `amount` paid on `on` over `dues` in `order` (see the module docstring)."""
    on = parse_date(on, field="on")
    buckets = parse_order(order)
    if not isinstance(amount, Money):
        raise ValidationError("amount must be Money", code="invalid_amount", field="amount")
    if amount.amount <= 0:
        raise ValidationError(
            f"repayment amount must be positive, got {amount.amount}", code="non_positive_amount", field="amount"
        )
    cur = amount.currency
    for d in dues:
        if d.principal.currency != cur:
            raise ValidationError(
                f"due {d.period} is in {d.principal.currency}, the payment in {cur}", code="currency_mismatch"
            )
    ordered = sorted(range(len(dues)), key=lambda i: (dues[i].due_date, dues[i].period))
    paid = [dict.fromkeys(("principal", "interest", "penalty", "compound"), Decimal(0)) for _ in dues]
    left = amount.amount
    totals = dict.fromkeys(Bucket, Decimal(0))
    for bucket in buckets:
        part = _PART[bucket]
        for i in ordered:
            if left == 0:
                break
            d = dues[i]
            overdue = d.due_date < on
            if (bucket in _OVERDUE_ONLY and not overdue) or (bucket in _CURRENT_ONLY and overdue):
                continue
            owed = getattr(d, part).amount - paid[i][part]
            take = owed if owed < left else left
            if take > 0:
                paid[i][part] += take
                totals[bucket] += take
                left -= take
    lines = tuple(
        AppliedLine(d.period, Money(p["principal"], cur), Money(p["interest"], cur), Money(p["penalty"], cur),
                    Money(p["compound"], cur))
        for d, p in zip(dues, paid, strict=True)
    )
    by_bucket = MappingProxyType({b: Money(v, cur) for b, v in totals.items()})
    return Allocation(amount, on, by_bucket, lines, Money(left, cur))
