"""Data quality of an indicator table: coverage and missingness per indicator and source, drift between dates.

* **Coverage** (`coverage`): per indicator, how many enterprises have a value (coverage) and how many
  do not (missing share), split into *structural* missingness — the enterprise is absent from the
  source — and missing *within* the source's population; per source, the share of enterprises it
  describes; per dimension, the mean coverage.
* **Drift** (`drift`): the population stability index (PSI) per indicator between a reference as-of
  and a current one, with bins frozen on the reference: deciles of the reference's non-null values
  for numbers, the categories for codes and booleans, and a bin of its own for NULL. Empty bins are
  smoothed with ε = 1e-4. PSI = Σ (a − e) · ln(a / e). The verdict bands — < 0.10 stable, 0.10–0.25
  watch, ≥ 0.25 act — are practitioner convention (Lewis 1994, Siddiqi 2006), not a statistical test.

Pure numpy for the statistics (`psi`, `frozen_bins`); DuckDB only reads the Parquet tables.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Any

import duckdb
import numpy as np
import pyarrow as pa

from puhui.core.errors import NotFound
from puhui.indicators.batch import indicator_table_path, read_manifest, sql_path
from puhui.indicators.compiler import presence_column
from puhui.indicators.library import IndicatorType, Library, default_library

__all__ = ["CoverageReport", "DriftReport", "coverage", "drift", "frozen_bins", "psi", "verdict"]

EPSILON = 1e-4
STABLE, WATCH = 0.10, 0.25


def psi(expected: np.ndarray, actual: np.ndarray, epsilon: float = EPSILON) -> float:
    """Population stability index of two count (or share) vectors over the same bins."""
    e = np.asarray(expected, dtype=float)
    a = np.asarray(actual, dtype=float)
    if e.shape != a.shape or e.sum() <= 0 or a.sum() <= 0:
        raise ValueError("psi needs two non-empty distributions over the same bins")
    e = np.maximum(e / e.sum(), epsilon)
    a = np.maximum(a / a.sum(), epsilon)
    return float(np.sum((a - e) * np.log(a / e)))


def verdict(value: float | None) -> str:
    if value is None or math.isnan(value):
        return "n/a"
    return "stable" if value < STABLE else ("watch" if value < WATCH else "act")


def frozen_bins(reference: np.ndarray, n: int = 10) -> np.ndarray:
    """Inner bin edges: the distinct interior quantiles (deciles by default) of the reference values."""
    ref = np.asarray(reference, dtype=float)
    ref = ref[~np.isnan(ref)]
    if ref.size == 0:
        return np.array([])
    return np.unique(np.quantile(ref, np.linspace(0, 1, n + 1)[1:-1]))


def _numeric_counts(values: np.ndarray, edges: np.ndarray) -> np.ndarray:
    """Counts per bin (−∞, e1], (e1, e2] … (ek, ∞), then one for NaN (missing)."""
    v = np.asarray(values, dtype=float)
    missing = np.isnan(v)
    idx = np.searchsorted(edges, v[~missing], side="left")
    counts = np.bincount(idx, minlength=len(edges) + 1)
    return np.append(counts, missing.sum())


@dataclass
class IndicatorCoverage:
    id: str
    dimension: str
    source: str
    coverage: float  # share of enterprises with a value
    missing: float  # 1 − coverage
    missing_absent: float  # share missing because the enterprise is absent from the source
    missing_within: float  # share missing although the enterprise is in the source


@dataclass
class CoverageReport:
    as_of: date
    enterprises: int
    indicators: list[IndicatorCoverage] = field(default_factory=list)
    sources: dict[str, float] = field(default_factory=dict)  # source → share of enterprises present
    dimensions: dict[str, float] = field(default_factory=dict)  # dimension → mean indicator coverage

    def to_dict(self) -> dict[str, Any]:
        return {
            "as_of": self.as_of.isoformat(), "enterprises": self.enterprises, "sources": self.sources,
            "dimensions": self.dimensions, "indicators": [i.__dict__ for i in self.indicators],
        }  # fmt: skip


def _open(con: duckdb.DuckDBPyConnection, home: Path, as_of: date, name: str) -> None:
    folder = indicator_table_path(home, as_of)
    manifest = read_manifest(folder)
    if manifest is None or manifest.get("status") != "complete":
        raise NotFound(
            f"no finished indicator table for {as_of.isoformat()} under {home}; run `puhui indicators --as-of "
            f"{as_of.isoformat()}` first", code="indicator_table_not_found", as_of=as_of.isoformat(),
        )  # fmt: skip
    con.execute(f"CREATE OR REPLACE VIEW {name} AS SELECT * FROM read_parquet({sql_path(folder / 'part-*.parquet')})")


def coverage(home: Path, as_of: date, library: Library | None = None) -> CoverageReport:
    """Coverage and missingness of the indicator table of `as_of` (one pass of DuckDB over its parts)."""
    library = library or default_library()
    con = duckdb.connect()
    try:
        _open(con, home, as_of, "t")
        n = con.execute("SELECT COUNT(*) FROM t").fetchall()[0][0]
        sources = list(library.sources)
        exprs = [f"COUNT(CASE WHEN {presence_column(s)} THEN 1 END)" for s in sources]
        inds = library.indicators
        for ind in inds:
            exprs.append(f"COUNT({ind.id})")
            srcs = library.base_sources(ind)
            present = " AND ".join(presence_column(s) for s in srcs)
            exprs.append(f"COUNT(CASE WHEN {ind.id} IS NULL AND NOT ({present}) THEN 1 END)")
        row = con.execute(f"SELECT {', '.join(exprs)} FROM t").fetchall()[0]
    finally:
        con.close()
    share = (lambda k: k / n) if n else (lambda k: 0.0)
    present = {s: round(share(row[i]), 4) for i, s in enumerate(sources)}
    report = CoverageReport(as_of=as_of, enterprises=n, sources=present)
    base = len(sources)
    for j, ind in enumerate(inds):
        have, absent = row[base + 2 * j], row[base + 2 * j + 1]
        miss = n - have
        report.indicators.append(IndicatorCoverage(
            id=ind.id, dimension=ind.dimension, source=ind.source, coverage=round(share(have), 4),
            missing=round(share(miss), 4), missing_absent=round(share(absent), 4),
            missing_within=round(share(miss - absent), 4),
        ))  # fmt: skip
    for d in library.dimensions:
        covs = [i.coverage for i in report.indicators if i.dimension == d.id]
        report.dimensions[d.id] = round(float(np.mean(covs)), 4) if covs else 0.0
    return report


@dataclass
class IndicatorDrift:
    id: str
    dimension: str
    psi: float | None
    verdict: str
    missing_reference: float
    missing_current: float
    bins: int


@dataclass
class DriftReport:
    reference: date
    current: date
    indicators: list[IndicatorDrift] = field(default_factory=list)

    def worst(self, k: int = 15) -> list[IndicatorDrift]:
        return sorted((i for i in self.indicators if i.psi is not None), key=lambda i: -(i.psi or 0.0))[:k]

    def counts(self) -> dict[str, int]:
        out = {"stable": 0, "watch": 0, "act": 0, "n/a": 0}
        for i in self.indicators:
            out[i.verdict] += 1
        return out

    def to_dict(self) -> dict[str, Any]:
        return {"reference": self.reference.isoformat(), "current": self.current.isoformat(),
                "counts": self.counts(), "indicators": [i.__dict__ for i in self.indicators]}  # fmt: skip


def _column(table: pa.Table, name: str, itype: IndicatorType) -> np.ndarray:
    col = table.column(name)
    if itype.numeric:
        return np.array([np.nan if v is None else float(v) for v in col.to_pylist()], dtype=float)
    return np.array(["\x00null" if v is None else str(v) for v in col.to_pylist()], dtype=object)


def drift(home: Path, reference: date, current: date, library: Library | None = None) -> DriftReport:
    """PSI per indicator between the indicator tables of `reference` and `current` (bins frozen on the reference)."""
    library = library or default_library()
    con = duckdb.connect()
    try:
        _open(con, home, reference, "ref")
        _open(con, home, current, "cur")
        cols = ", ".join(i.id for i in library.indicators)
        ref = con.sql(f"SELECT {cols} FROM ref").to_arrow_table()
        cur = con.sql(f"SELECT {cols} FROM cur").to_arrow_table()
    finally:
        con.close()
    report = DriftReport(reference=reference, current=current)
    for ind in library.indicators:
        r = _column(ref, ind.id, ind.type)
        c = _column(cur, ind.id, ind.type)
        if ind.type.numeric:
            edges = frozen_bins(r)
            e_counts, a_counts = _numeric_counts(r, edges), _numeric_counts(c, edges)
            miss_r, miss_c = float(np.isnan(r).mean()) if r.size else 0.0, float(np.isnan(c).mean()) if c.size else 0.0
        else:
            cats = sorted(set(r.tolist()) | set(c.tolist()))
            e_counts = np.array([(r == k).sum() for k in cats])
            a_counts = np.array([(c == k).sum() for k in cats])
            miss_r = float((r == "\x00null").mean()) if r.size else 0.0
            miss_c = float((c == "\x00null").mean()) if c.size else 0.0
        value = psi(e_counts, a_counts) if e_counts.sum() and a_counts.sum() else None
        report.indicators.append(IndicatorDrift(
            id=ind.id, dimension=ind.dimension, psi=None if value is None else round(value, 6),
            verdict=verdict(value), missing_reference=round(miss_r, 4), missing_current=round(miss_c, 4),
            bins=len(e_counts),
        ))  # fmt: skip
    return report
