"""Credit lines (授信额度), pure: limit, validity, revolving or not, status and the change log.

A line is opened from a signed contract and lends through drawdowns (用信), each of which opens a loan.
Its state machine::

    ACTIVE ──freeze──► FROZEN ──unfreeze──► ACTIVE
    ACTIVE/FROZEN ──expire (end of day of valid_to)──► EXPIRED
    any but CLOSED ──close (no principal outstanding)──► CLOSED

`available` is `limit − drawn principal` for a revolving line (循环额度: repaid principal restores it,
the Frappe line-of-credit model) and `limit − everything ever drawn` for a one-off line; never below zero
(a reduction below the drawn amount leaves existing loans alone and simply stops new drawdowns).
A drawdown must fall inside the validity window, both days included ("以内", 民法典 Art 1259).

Every change of status or limit returns a `LineChange` (before, after, reason): the change log.
Drawdown refusals are `PolicyViolation`s with stable codes — `line_frozen`, `line_expired`,
`line_closed`, `outside_validity`, `over_limit` — and a transition the state machine forbids is a
`Conflict` (`invalid_line_transition`).
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import date
from decimal import Decimal
from enum import StrEnum
from typing import Any

from puhui.core.errors import Conflict, PolicyViolation, ValidationError
from puhui.lending.contracts import parse_amount

__all__ = ["CreditLine", "LineChange", "LineChangeKind", "LineStatus"]

_ZERO = Decimal("0.00")


class LineStatus(StrEnum):
    ACTIVE = "active"
    """可用: drawdowns allowed inside the validity window and the available limit."""
    FROZEN = "frozen"
    """冻结: no drawdowns until unfrozen (risk signal, dispute, customer request)."""
    EXPIRED = "expired"
    """到期: past `valid_to`; loans already drawn run to their own maturity."""
    CLOSED = "closed"
    """终止: closed for good, nothing outstanding."""


class LineChangeKind(StrEnum):
    OPEN = "open"
    FREEZE = "freeze"
    UNFREEZE = "unfreeze"
    REDUCE = "reduce"
    EXPIRE = "expire"
    CLOSE = "close"


@dataclass(frozen=True)
class LineChange:
    """One entry of a line's change log."""

    kind: LineChangeKind
    on: date
    before: dict[str, Any]
    after: dict[str, Any]
    reason: str


def _reason(reason: str) -> str:
    text = reason.strip() if isinstance(reason, str) else ""
    if not text or len(text) > 500:
        raise ValidationError("a reason of 1–500 characters is required", code="reason_required", field="reason")
    return text


@dataclass(frozen=True)
class CreditLine:
    """A credit line's state. Amounts are Decimal yuan at the fen."""

    borrower_id: str
    limit: Decimal
    valid_from: date
    valid_to: date
    revolving: bool
    status: LineStatus = LineStatus.ACTIVE
    drawn_principal: Decimal = _ZERO
    """Principal outstanding on the line's loans (用信余额)."""
    drawn_total: Decimal = _ZERO
    """Everything ever drawn (a one-off line's availability is measured against it)."""

    def __post_init__(self) -> None:
        object.__setattr__(self, "status", LineStatus(self.status))
        if self.valid_to < self.valid_from:
            raise ValidationError("valid_to is before valid_from", code="invalid_validity", field="valid_to")
        if self.limit < 0 or self.drawn_principal < 0 or self.drawn_total < self.drawn_principal:
            raise ValidationError(
                f"inconsistent line amounts: limit {self.limit}, drawn {self.drawn_principal}, "
                f"ever drawn {self.drawn_total}", code="invalid_line_amounts",
            )

    @property
    def used(self) -> Decimal:
        """What counts against the limit: outstanding principal (revolving) or all drawn (one-off)."""
        return self.drawn_principal if self.revolving else self.drawn_total

    @property
    def available(self) -> Decimal:
        """可用额度 = limit − used, never negative."""
        return max(self.limit - self.used, _ZERO)

    def snapshot(self) -> dict[str, Any]:
        return {"status": self.status.value, "limit": str(self.limit), "available": str(self.available),
                "drawn_principal": str(self.drawn_principal)}

    # ---- drawdowns and repayments -------------------------------------------------------------

    def check_drawdown(self, amount: Decimal, on: date) -> Decimal:
        """The amount, checked against status, validity and availability; refusals are PolicyViolations."""
        amount = parse_amount(amount, "amount")
        if self.status is LineStatus.CLOSED:
            raise PolicyViolation("the credit line is closed", code="line_closed", status=self.status.value)
        if self.status is LineStatus.EXPIRED:
            raise PolicyViolation(f"the credit line expired on {self.valid_to}", code="line_expired",
                                  valid_to=self.valid_to.isoformat())
        if self.status is LineStatus.FROZEN:
            raise PolicyViolation("the credit line is frozen: no drawdowns until it is unfrozen",
                                  code="line_frozen", status=self.status.value)
        if not self.valid_from <= on <= self.valid_to:
            raise PolicyViolation(
                f"drawdown date {on} is outside the line's validity {self.valid_from} – {self.valid_to}",
                code="outside_validity", on=on.isoformat(), valid_from=self.valid_from.isoformat(),
                valid_to=self.valid_to.isoformat(),
            )
        if amount > self.available:
            raise PolicyViolation(
                f"drawdown {amount} exceeds the available limit {self.available}",
                code="over_limit", amount=str(amount), available=str(self.available), limit=str(self.limit),
            )
        return amount

    def draw(self, amount: Decimal, on: date) -> CreditLine:
        """The line after a drawdown of `amount` on `on` (checked)."""
        amount = self.check_drawdown(amount, on)
        return replace(self, drawn_principal=self.drawn_principal + amount, drawn_total=self.drawn_total + amount)

    def restore(self, principal: Decimal) -> CreditLine:
        """The line after `principal` of its loans was repaid (revolving: available again)."""
        principal = parse_amount(principal, "principal", allow_zero=True)
        if principal > self.drawn_principal:
            raise ValidationError(
                f"repaid principal {principal} exceeds the line's drawn principal {self.drawn_principal}",
                code="line_overrepaid",
            )
        return replace(self, drawn_principal=self.drawn_principal - principal)

    # ---- state machine --------------------------------------------------------------------------

    def _refuse(self, action: str) -> Conflict:
        return Conflict(f"cannot {action} a line that is {self.status.value}", code="invalid_line_transition",
                        action=action, status=self.status.value)

    def _change(self, kind: LineChangeKind, on: date, after: CreditLine, reason: str) -> tuple[
            CreditLine, LineChange]:
        return after, LineChange(kind, on, self.snapshot(), after.snapshot(), reason)

    def freeze(self, on: date, reason: str) -> tuple[CreditLine, LineChange]:
        """冻结: ACTIVE → FROZEN."""
        reason = _reason(reason)
        if self.status is not LineStatus.ACTIVE:
            raise self._refuse("freeze")
        return self._change(LineChangeKind.FREEZE, on, replace(self, status=LineStatus.FROZEN), reason)

    def unfreeze(self, on: date, reason: str) -> tuple[CreditLine, LineChange]:
        """解冻: FROZEN → ACTIVE, only while still valid."""
        reason = _reason(reason)
        if self.status is not LineStatus.FROZEN:
            raise self._refuse("unfreeze")
        if on > self.valid_to:
            raise PolicyViolation(f"the line's validity ended on {self.valid_to}", code="line_expired",
                                  valid_to=self.valid_to.isoformat())
        return self._change(LineChangeKind.UNFREEZE, on, replace(self, status=LineStatus.ACTIVE), reason)

    def reduce(self, new_limit: Decimal, on: date, reason: str) -> tuple[CreditLine, LineChange]:
        """压降额度: a lower limit (≥ 0) on an ACTIVE or FROZEN line; loans already drawn are untouched."""
        reason = _reason(reason)
        new_limit = parse_amount(new_limit, "limit", allow_zero=True)
        if self.status not in (LineStatus.ACTIVE, LineStatus.FROZEN):
            raise self._refuse("reduce")
        if new_limit >= self.limit:
            raise PolicyViolation(
                f"new limit {new_limit} is not below the current limit {self.limit}",
                code="not_a_reduction", limit=str(self.limit), new_limit=str(new_limit),
            )
        return self._change(LineChangeKind.REDUCE, on, replace(self, limit=new_limit), reason)

    def expire(self, on: date) -> tuple[CreditLine, LineChange]:
        """到期: at the end of day `on` ≥ valid_to, an ACTIVE or FROZEN line expires."""
        if self.status not in (LineStatus.ACTIVE, LineStatus.FROZEN) or on < self.valid_to:
            raise self._refuse("expire")
        return self._change(LineChangeKind.EXPIRE, on, replace(self, status=LineStatus.EXPIRED),
                            f"validity ended {self.valid_to}")

    def close(self, on: date, reason: str) -> tuple[CreditLine, LineChange]:
        """终止: any line with nothing outstanding."""
        reason = _reason(reason)
        if self.status is LineStatus.CLOSED:
            raise self._refuse("close")
        if self.drawn_principal > 0:
            raise PolicyViolation(
                f"the line still has {self.drawn_principal} principal outstanding",
                code="line_has_outstanding", drawn_principal=str(self.drawn_principal),
            )
        return self._change(LineChangeKind.CLOSE, on, replace(self, status=LineStatus.CLOSED), reason)
