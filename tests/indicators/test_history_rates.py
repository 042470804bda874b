"""The record-long rate indicators (issue 4: persistent firm quality) against a plain-Python reference.

Rare lapses — a month not filed or not paid, a late electricity bill, a cured past-due or a 关注 month at
the bureau — say more about a firm's habits as a rate over its whole record (up to 24 months) than as a
count over the latest year; the mean of all published tax credit scores likewise. Each is recomputed here
from the raw rows with the point-in-time rule written out by hand (`test_dimensions` helpers) and compared
for every enterprise of the shared universe.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta
from pathlib import Path

import pytest

from puhui.indicators.library import Library

from .conftest import AS_OF
from .test_dimensions import _check, _monthly, _rows


def _rate(by_mb: dict[int, list[dict]], hit: Callable, base: Callable = lambda r: True) -> float | None:
    rows = [r for mb in range(24) for r in by_mb.get(mb, [])]
    den = sum(1 for r in rows if base(r))
    return sum(1 for r in rows if base(r) and hit(r)) / den if den else None


def test_tax_rates_and_scores(universe: Path, batch_rows: dict[str, dict]) -> None:
    tax = _monthly(universe, "tax_monthly")
    unfiled, unpaid = {}, {}
    for u, by_mb in tax.items():
        if u in batch_rows:
            unfiled[u] = _rate(by_mb, lambda r: not r["filed"])
            due = lambda r: r["filed"] and r["vat_payable"] is not None and r["vat_payable"] > 0  # noqa: E731
            unpaid[u] = _rate(by_mb, lambda r: (r["vat_paid"] or 0) < r["vat_payable"], due)
    _check(batch_rows, "tax_unfiled_rate_24m", unfiled, rel=1e-12)
    _check(batch_rows, "tax_unpaid_rate_24m", unpaid, rel=1e-12)
    assert any(v for v in unfiled.values()) and any(v for v in unpaid.values())
    avg, low = {}, {}
    for u, rows in _rows(universe, "tax_credit_grades").items():
        scores = [r["score"] for r in rows if r["period_end"] + timedelta(days=120) <= AS_OF and r["score"] is not None]
        if scores and u in batch_rows:
            avg[u], low[u] = sum(scores) / len(scores), min(scores)
    _check(batch_rows, "tax_grade_score_avg", avg, rel=1e-9)
    _check(batch_rows, "tax_grade_score_min", low, rel=1e-12)
    assert any(avg[u] != low[u] for u in avg)  # several years published: the mean is not the latest alone


def test_social_insurance_and_electricity_rates(universe: Path, batch_rows: dict[str, dict]) -> None:
    si = _monthly(universe, "social_insurance_monthly")
    want = {u: _rate(m, lambda r: (r["contribution_paid"] or 0) < r["contribution_due"]) for u, m in si.items()
            if u in batch_rows}  # fmt: skip
    _check(batch_rows, "si_unpaid_rate_24m", want, rel=1e-12)
    elec = _monthly(universe, "electricity_monthly")
    late = {u: _rate(m, lambda r: not r["paid_on_time"]) for u, m in elec.items() if u in batch_rows}
    _check(batch_rows, "elec_late_rate_24m", late, rel=1e-12)
    assert any(v for v in want.values()) and any(v for v in late.values())


def test_bureau_account_month_rates(universe: Path, batch_rows: dict[str, dict]) -> None:
    acc = _monthly(universe, "bureau_enterprise_accounts")
    overdue = {u: _rate(m, lambda r: r["overdue_days"] > 0) for u, m in acc.items() if u in batch_rows}
    mention = {u: _rate(m, lambda r: r["five_class"] == "special_mention") for u, m in acc.items() if u in batch_rows}
    _check(batch_rows, "bur_overdue_account_month_rate_24m", overdue, rel=1e-12)
    _check(batch_rows, "bur_special_mention_month_rate_24m", mention, rel=1e-12)
    assert any(v for v in overdue.values()) and any(v for v in mention.values())


def test_credit_to_sales(batch_rows: dict[str, dict]) -> None:
    want = {}
    for u, r in batch_rows.items():
        a, s = r["bur_credit_amount"], r["tax_sales_12m"]
        want[u] = float(a) / float(s) if a is not None and s is not None and s != 0 else None
    _check(batch_rows, "xs_credit_to_sales", want, rel=1e-12)
    assert sum(v is not None for v in want.values()) > 50


@pytest.mark.parametrize(
    "indicator",
    ["tax_grade_score_avg", "si_unpaid_rate_24m", "bur_special_mention_month_rate_24m", "xs_credit_to_sales"],
)
def test_rates_are_in_the_library_with_a_risk_direction(library: Library, indicator: str) -> None:
    ind = {i.id: i for i in library.indicators}[indicator]
    assert ind.risk.value in ("higher", "lower")
