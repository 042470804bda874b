"""A small synthetic universe shared by the indicator tests (one per xdist worker, in a tmp dir).

`universe`: 1,000 enterprises × 36 months to 2026-10 (about 5 s to generate). `batch_table`: the batch
indicator table of `AS_OF` on it. `engine`: an online engine over it (without the batch cache, so every
call computes). Tests that change data copy the raw zone into their own tmp home first (`copy_home`).
"""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from datetime import date
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from puhui.indicators.batch import BatchReport, run_batch
from puhui.indicators.library import Library, default_library
from puhui.indicators.online import OnlineEngine

AS_OF = date(2026, 6, 30)
"""Mid-universe: 31 months of history before it, 4 after (later data the point-in-time tests rely on)."""

ENTERPRISES = 1_000


@pytest.fixture(scope="session")
def library() -> Library:
    return default_library()


@pytest.fixture(scope="session")
def universe(tmp_path_factory: pytest.TempPathFactory) -> Path:
    from puhui.data.synth.runner import SynthConfig, run_synth

    home = tmp_path_factory.mktemp("universe")
    run_synth(SynthConfig(enterprises=ENTERPRISES, months=36, chunk_size=500), home=home, fresh=True, console=None)
    return home


@pytest.fixture(scope="session")
def batch_report(universe: Path, library: Library) -> BatchReport:
    return run_batch(AS_OF, home=universe, library=library, chunk_size=400)


@pytest.fixture(scope="session")
def batch_table(batch_report: BatchReport) -> pa.Table:
    return pq.read_table(batch_report.path)


@pytest.fixture(scope="session")
def batch_rows(batch_table: pa.Table) -> dict[str, dict]:
    return {r["uscc"]: r for r in batch_table.to_pylist()}


@pytest.fixture(scope="session")
def engine(universe: Path, library: Library) -> Iterator[OnlineEngine]:
    e = OnlineEngine(universe, library=library, use_batch=False)
    yield e
    e.close()


def copy_home(src: Path, dst: Path) -> Path:
    """A private copy of a universe's raw zone (no truth, no indicator tables) to change freely."""
    shutil.copytree(src / "raw", dst / "raw")
    return dst
