"""The registry adapter's contract, on the local fake: idempotent filing, async decision, release rules."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest

from puhui.collateral.registry import FakeRegistry, MortgageFiling, RealEstateRegistry
from puhui.core.errors import NotFound, PolicyViolation

FILING = MortgageFiling("M-1", "U-1", "110101199001011234", Decimal("1000000.00"), date(2026, 1, 5),
                        date(2029, 1, 4))


def test_fake_satisfies_the_protocol() -> None:
    assert isinstance(FakeRegistry(), RealEstateRegistry)


def test_filing_is_idempotent_and_decided_later() -> None:
    reg = FakeRegistry()
    a = reg.file_mortgage(FILING, date(2026, 1, 5))
    assert a.status == "pending" and a.certificate_no is None
    assert reg.file_mortgage(FILING, date(2026, 1, 6)).application_no == a.application_no
    r = reg.approve(a.application_no, date(2026, 1, 8))
    assert r.status == "registered" and r.certificate_no and r.decided_on == date(2026, 1, 8)
    assert reg.status(a.application_no) == r
    assert reg.release(a.application_no, date(2026, 6, 1)).status == "released"
    assert reg.release(a.application_no, date(2026, 6, 2)).decided_on == date(2026, 6, 1)  # idempotent


def test_release_needs_a_registered_mortgage_and_unknown_numbers_are_404() -> None:
    reg = FakeRegistry()
    a = reg.file_mortgage(FILING, date(2026, 1, 5))
    with pytest.raises(PolicyViolation):
        reg.release(a.application_no, date(2026, 1, 6))
    assert reg.reject(a.application_no, date(2026, 1, 6), "产权有查封").status == "rejected"
    with pytest.raises(NotFound):
        reg.status("nope")
    assert FakeRegistry(auto_approve=True).file_mortgage(FILING, date(2026, 1, 5)).status == "registered"
