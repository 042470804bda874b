"""Batch and online give the same numbers: every indicator, exact equality of value and Python type."""

from __future__ import annotations

import random
from datetime import date
from pathlib import Path

import pyarrow as pa

from puhui.indicators.batch import run_batch
from puhui.indicators.library import Library
from puhui.indicators.online import OnlineEngine

from .conftest import AS_OF


def _assert_same(online: dict, batch: dict, uscc: str) -> None:
    for key, want in batch.items():
        got = online[key]
        assert got == want and type(got) is type(want), (uscc, key, got, want)


def test_online_equals_batch_for_a_sample(engine: OnlineEngine, batch_rows: dict[str, dict]) -> None:
    rng = random.Random(20261129)
    sample = rng.sample(sorted(batch_rows), 20)
    # make sure the sample has the rare cases: a chain member, an exporter, a firm with public records
    rare = ("src_chain_relations", "src_customs_monthly", "src_public_records", "src_bureau_enterprise_guarantees")
    for flag in rare:
        sample.append(next(u for u in sorted(batch_rows) if batch_rows[u][flag]))
    for uscc in sample:
        v = engine.compute(uscc, AS_OF)
        assert v.origin == "computed"
        row = batch_rows[uscc]
        _assert_same(v.values, {i: row[i] for i in v.values}, uscc)
        assert v.sources == {s: row[f"src_{s}"] for s in v.sources}


def test_parity_holds_at_another_date_and_chunking(
    universe: Path, library: Library, engine: OnlineEngine, tmp_path: Path
) -> None:
    """A month-end as-of, a table computed in many small chunks, and the engine's hot path (batch index)."""
    as_of = date(2025, 12, 31)
    report = run_batch(as_of, home=universe, library=library, chunk_size=250)
    assert report.chunks >= 4
    import pyarrow.parquet as pq

    table: pa.Table = pq.read_table(report.path)
    rows = {r["uscc"]: r for r in table.to_pylist()}
    hot = OnlineEngine(universe, library=library)  # with the batch index
    for uscc in random.Random(7).sample(sorted(rows), 8):
        fresh = engine.compute(uscc, as_of)
        _assert_same(fresh.values, {i: rows[uscc][i] for i in fresh.values}, uscc)
        served = hot.indicators(uscc, as_of)
        assert served.origin == "batch"
        assert served.values == fresh.values
    hot.close()
