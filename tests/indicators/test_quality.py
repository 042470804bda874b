"""Coverage, missingness and drift (PSI) of indicator tables."""

from __future__ import annotations

import math
from datetime import date
from pathlib import Path

import numpy as np
import pytest

from puhui.core.errors import NotFound
from puhui.indicators.batch import BatchReport, run_batch
from puhui.indicators.library import Library
from puhui.indicators.quality import coverage, drift, frozen_bins, psi, verdict

from .conftest import AS_OF


def test_psi_worked_example() -> None:
    """Σ (a − e) ln(a / e) over quartiles 25/25/25/25 % → 10/20/30/40 %, computed term by term with math.log."""
    e, a = [0.25] * 4, [0.10, 0.20, 0.30, 0.40]
    expected = sum((ai - ei) * math.log(ai / ei) for ai, ei in zip(a, e, strict=True))
    assert expected == pytest.approx(0.228218, abs=1e-6)
    assert psi(np.array(e), np.array(a)) == pytest.approx(expected, rel=1e-12)
    assert psi(np.array([5, 5]), np.array([50, 50])) == 0.0  # counts, not shares: scale does not matter
    assert verdict(0.05) == "stable" and verdict(0.1) == "watch" and verdict(0.25) == "act"


def test_empty_bins_are_smoothed_not_infinite() -> None:
    assert math.isfinite(psi(np.array([10, 0]), np.array([0, 10])))


def test_bins_are_frozen_on_the_reference_deciles() -> None:
    edges = frozen_bins(np.arange(1, 101, dtype=float))
    assert len(edges) == 9
    assert edges[0] == pytest.approx(10.9) and edges[-1] == pytest.approx(90.1)  # numpy linear quantiles
    assert frozen_bins(np.array([3.0] * 50)).tolist() == [3.0]  # ties collapse to one edge


def test_coverage_reports_each_indicator_source_and_dimension(
    universe: Path, library: Library, batch_report: BatchReport, batch_rows: dict[str, dict]
) -> None:
    cov = coverage(universe, AS_OF, library)
    n = len(batch_rows)
    assert cov.enterprises == n
    assert set(cov.dimensions) == {d.id for d in library.dimensions}
    for s, share in cov.sources.items():
        assert share == round(sum(r[f"src_{s}"] for r in batch_rows.values()) / n, 4)
    by_id = {i.id: i for i in cov.indicators}
    for ind in ("tax_sales_12m", "pay_headcount_latest", "pr_lawsuits_12m", "xs_invoice_to_inflow_12m"):
        c = by_id[ind]
        have = sum(r[ind] is not None for r in batch_rows.values())
        assert c.coverage == round(have / n, 4)
        assert c.missing_absent + c.missing_within == pytest.approx(c.missing, abs=2e-4)
    assert by_id["pr_lawsuits_12m"].coverage == 1.0  # a count of events: zero, never NULL
    assert by_id["pay_headcount_latest"].missing_absent > 0.5  # most firms pay salaries elsewhere


def test_drift_between_two_dates(universe: Path, library: Library, batch_report: BatchReport) -> None:
    same = drift(universe, AS_OF, AS_OF, library)
    assert all(i.psi == 0.0 for i in same.indicators if i.psi is not None)
    later = date(2026, 10, 31)
    run_batch(later, home=universe, library=library)
    report = drift(universe, AS_OF, later, library)
    assert len(report.indicators) == len(library)
    assert sum(report.counts().values()) == len(library)
    worst = report.worst(5)
    assert worst[0].psi >= worst[-1].psi > 0
    # registration age shifts by four months for everyone: a clear shift, though not a population change
    age = next(i for i in report.indicators if i.id == "reg_age_months")
    assert age.psi > 0.0


def test_coverage_of_a_missing_table_says_how_to_make_it(universe: Path, library: Library) -> None:
    with pytest.raises(NotFound, match="puhui indicators --as-of 2024-01-31"):
        coverage(universe, date(2024, 1, 31), library)
