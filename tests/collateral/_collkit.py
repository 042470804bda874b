"""Shared helpers for the collateral service, job and API tests (not a test module)."""

from __future__ import annotations

import itertools
from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import Engine

from puhui.collateral import service
from puhui.collateral.avm import Valuation
from puhui.collateral.registry import FakeRegistry
from puhui.core.money import Money

ON = date(2026, 1, 5)
TERMS: dict[str, Any] = {"valid_from": "2026-01-05", "valid_to": "2028-12-31", "annual_rate": "0.0395",
                         "methods": ["revolving", "interest_only"], "max_term_months": 12}
SUBJECT = {"unit_id": "U-0001-01-1203", "compound": "C-0001", "area": 89.5, "floor": 12, "total_floors": 18}
_n = itertools.count(1)


def key() -> str:
    return f"coll-key-{next(_n)}"


def valuation(value: str | None, confidence: int | None = 92, *, as_of: date = ON,
              reason: str | None = None) -> Valuation:
    fsd = None if confidence is None else (100 - confidence) / 100
    m = None if value is None else Money(Decimal(value))
    return Valuation(as_of=as_of, subject=SUBJECT["unit_id"], value=m, value_per_m2=None, fsd=fsd,
                     confidence=confidence, low=None, high=None, interval_level=0.9, comparable_value=None,
                     n_comparables=0, reason=reason if value is None else None, model_version="test-avm-1")


def apply(engine: Engine, registry: FakeRegistry, *, value: str | None = "3000000", confidence: int | None = 92,
          existing: str = "400000", idem: str | None = None, subject: dict[str, Any] | None = None,
          **kw: Any) -> service.Posted:
    no = kw.pop("application_no", f"APP-{next(_n)}")
    return service.do_apply_collateral_line(
        engine, application_no=no, borrower_id="110101199001011234", subject=subject or SUBJECT,
        valuation=valuation(value, confidence, reason=kw.pop("reason", "stale_market")), existing_mortgage=existing,
        terms=TERMS, contract_text=f"最高额抵押借款合同 {no}", signer="张三",
        signed_at=datetime(2026, 1, 5, 2, 0, tzinfo=UTC), on=kw.pop("on", ON), registry=registry,
        idempotency_key=idem or key(), **kw,
    )
