"""The real-estate registry (不动产登记中心) adapter: file a maximum-amount mortgage (最高额抵押权登记), ask its
status, file its release (抵押权注销登记) — an interface (`RealEstateRegistry`, a Protocol) and a local fake.

A real adapter talks to a city's 不动产登记 online service ("互联网+不动产登记", bank-side 抵押登记 systems); the
answer to a filing is asynchronous (the registry examines it, then issues a 不动产登记证明 number), so
callers file once and poll `status`. Filings are keyed by the caller's reference: filing the same
reference twice returns the first application (adapters must be idempotent, the service retries).
`FakeRegistry` keeps everything in memory; tests decide each filing with `approve` / `reject`, or set
`auto_approve` to register on filing.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass, field, replace
from datetime import date
from decimal import Decimal
from typing import Protocol, runtime_checkable

from puhui.core.errors import NotFound, PolicyViolation

__all__ = ["FakeRegistry", "MortgageFiling", "RealEstateRegistry", "RegistryAnswer"]


@dataclass(frozen=True)
class MortgageFiling:
    """What a maximum-amount mortgage filing carries (民法典 Art 420: the maximum amount and the period)."""

    reference: str  # the bank's own reference; idempotency key of the filing
    unit_id: str
    mortgagor_id: str  # 抵押人 (the borrower or a third-party owner)
    max_amount: Decimal  # 最高债权额
    period_from: date  # 债权确定期间
    period_to: date


@dataclass(frozen=True)
class RegistryAnswer:
    """The registry's view of a filing: status 'pending' | 'registered' | 'rejected' | 'released'."""

    application_no: str
    status: str
    certificate_no: str | None = None  # 不动产登记证明号, once registered
    decided_on: date | None = None
    reason: str | None = None


@runtime_checkable
class RealEstateRegistry(Protocol):
    def file_mortgage(self, filing: MortgageFiling, on: date) -> RegistryAnswer: ...

    def status(self, application_no: str) -> RegistryAnswer: ...

    def release(self, application_no: str, on: date) -> RegistryAnswer: ...


@dataclass
class FakeRegistry:
    """An in-memory registry for tests and demos."""

    auto_approve: bool = False
    _by_ref: dict[str, str] = field(default_factory=dict)
    _answers: dict[str, RegistryAnswer] = field(default_factory=dict)
    _filings: dict[str, MortgageFiling] = field(default_factory=dict)
    _seq: itertools.count[int] = field(default_factory=lambda: itertools.count(1))

    def file_mortgage(self, filing: MortgageFiling, on: date) -> RegistryAnswer:
        if filing.reference in self._by_ref:
            return self._answers[self._by_ref[filing.reference]]
        no = f"FAKE-DJ-{next(self._seq):06d}"
        self._by_ref[filing.reference] = no
        self._filings[no] = filing
        self._answers[no] = RegistryAnswer(no, "pending")
        if self.auto_approve:
            self.approve(no, on)
        return self._answers[no]

    def status(self, application_no: str) -> RegistryAnswer:
        if application_no not in self._answers:
            raise NotFound(f"registry application {application_no} is unknown", code="registry_application_unknown")
        return self._answers[application_no]

    def release(self, application_no: str, on: date) -> RegistryAnswer:
        a = self.status(application_no)
        if a.status == "released":
            return a
        if a.status != "registered":
            raise PolicyViolation(f"registry application {application_no} is {a.status}, not registered",
                                  code="registry_not_registered")
        self._answers[application_no] = replace(a, status="released", decided_on=on)
        return self._answers[application_no]

    # -- test controls ------------------------------------------------------------------------------------
    def approve(self, application_no: str, on: date) -> RegistryAnswer:
        a = self.status(application_no)
        cert = f"X京(2026)不动产证明第{int(application_no.rsplit('-', 1)[1]):07d}号"
        self._answers[application_no] = replace(a, status="registered", certificate_no=cert, decided_on=on)
        return self._answers[application_no]

    def reject(self, application_no: str, on: date, reason: str) -> RegistryAnswer:
        a = self.status(application_no)
        self._answers[application_no] = replace(a, status="rejected", decided_on=on, reason=reason)
        return self._answers[application_no]

    def filing(self, application_no: str) -> MortgageFiling:
        return self._filings[application_no]
