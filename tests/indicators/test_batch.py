"""The batch table: layout, schema, resume after an interruption, refusal of stale tables."""

from __future__ import annotations

import json
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from rich.console import Console

from puhui.core.errors import Conflict, ValidationError
from puhui.indicators.batch import BatchReport, run_batch
from puhui.indicators.library import Library
from puhui.indicators.online import OnlineEngine

from .conftest import AS_OF, copy_home


def test_the_table_has_one_row_per_registered_enterprise_and_typed_columns(
    batch_report: BatchReport, batch_table: pa.Table, library: Library
) -> None:
    assert batch_table.num_rows == batch_report.enterprises > 900
    assert batch_table.column_names[0] == "uscc"
    assert batch_table.column_names[-len(library) :] == [i.id for i in library.indicators]
    schema = batch_table.schema
    assert schema.field("tax_sales_12m").type == pa.decimal128(18, 2)
    assert schema.field("bur_worst_dpd_24m").type == pa.int64()
    assert schema.field("tax_sales_yoy_12m").type == pa.float64()
    assert schema.field("pr_flag_dishonest").type == pa.bool_()
    assert schema.field("tax_grade").type == pa.string()
    usccs = batch_table.column("uscc").to_pylist()
    assert usccs == sorted(usccs) and len(set(usccs)) == len(usccs)
    manifest = json.loads((batch_report.path / "_manifest.json").read_text())
    assert manifest["status"] == "complete" and manifest["indicators"] == len(library)
    assert not (batch_report.path / "_work").exists()


def test_an_interrupted_run_resumes_and_gives_the_same_table(universe: Path, library: Library, tmp_path: Path) -> None:
    home = copy_home(universe, tmp_path / "resume")
    with (tmp_path / "progress.txt").open("w") as sink:
        first = run_batch(AS_OF, home=home, library=library, chunk_size=300, console=Console(file=sink))
    whole = pq.read_table(first.path)
    parts = sorted(first.path.glob("part-*.parquet"))
    assert len(parts) == first.chunks >= 3
    # simulate a crash: the last part lost, its chunk half way through its stages, manifest in progress
    parts[-1].unlink()
    work = first.path / "_work" / f"chunk-{len(parts) - 1:05d}"
    work.mkdir(parents=True)
    manifest = json.loads((first.path / "_manifest.json").read_text())
    (first.path / "_manifest.json").write_text(json.dumps({**manifest, "status": "in_progress"}))
    again = run_batch(AS_OF, home=home, library=library, chunk_size=300)
    assert again.chunks_computed == 1
    assert pq.read_table(again.path).equals(whole)
    done = run_batch(AS_OF, home=home, library=library, chunk_size=300)
    assert done.chunks_computed == 0


def test_a_table_of_other_data_is_refused_unless_fresh(universe: Path, library: Library, tmp_path: Path) -> None:
    home = copy_home(universe, tmp_path / "stale")
    run_batch(AS_OF, home=home, library=library)
    part = next((home / "raw" / "tax_monthly").glob("*.parquet"))
    part.touch()  # the raw zone changed
    with pytest.raises(Conflict) as err:
        run_batch(AS_OF, home=home, library=library)
    assert err.value.code == "indicator_table_stale" and "raw_fingerprint" in err.value.message
    some = pq.read_table(home / "raw" / "registration").column("uscc")[0].as_py()
    engine = OnlineEngine(home, library=library, recheck_seconds=0)
    assert engine.indicators(some, AS_OF).origin == "computed"  # a stale table is never served
    assert run_batch(AS_OF, home=home, library=library, fresh=True).chunks_computed == 1
    assert engine.indicators(some, AS_OF).origin == "batch"
    engine.close()


def test_an_as_of_date_outside_the_data_is_refused(universe: Path, library: Library) -> None:
    with pytest.raises(ValidationError) as err:
        run_batch("2023-11-30", home=universe, library=library)
    assert err.value.code == "as_of_before_data"
    with pytest.raises(ValidationError) as err:
        run_batch("2999-01-01", home=universe, library=library)
    assert err.value.code == "as_of_in_future"
