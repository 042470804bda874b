"""The batch engine: every enterprise as of one date → a Parquet indicator table, resumably, with progress.

Layout: `<home>/indicators/as_of=YYYY-MM-DD/part-00000.parquet …` (one part per chunk of enterprises,
sorted by USCC; columns `uscc`, one `src_<source>` presence flag per source, then every indicator in
library order) and `_manifest.json` (as-of, library and raw-zone fingerprints, rows, timings, status).

Work is split into chunks of enterprises (USCC ranges of the registration spine) and, within a chunk,
into one stage per source; each stage is written to `_work/chunk-NNNNN/<source>.parquet` atomically and
each chunk's part when its stages are joined and the final query has run. A re-run skips finished
stages and parts (resume); a run over changed data or definitions is refused unless `fresh`, so a table
never mixes two states of the raw zone. DuckDB runs the compiled SQL (`puhui.indicators.compiler`);
the same plan runs on Spark over the same Parquet.
"""

from __future__ import annotations

import json
import os
import shutil
import time
from dataclasses import asdict, dataclass, field
from datetime import date
from pathlib import Path
from typing import Any

import duckdb
import pyarrow as pa
import pyarrow.parquet as pq
from rich.console import Console
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    TaskID,
    TextColumn,
    TimeElapsedColumn,
    TimeRemainingColumn,
)

from puhui.core.dates import Clock, SystemClock, parse_date
from puhui.core.errors import Conflict
from puhui.indicators.compiler import SPINE, Plan, stage_name, uscc_range
from puhui.indicators.library import Library, default_library
from puhui.indicators.rawdata import RawData, check_as_of

__all__ = ["BatchReport", "indicator_table_path", "read_manifest", "run_batch"]

MANIFEST = "_manifest.json"
WORK = "_work"
DEFAULT_CHUNK = 250_000


def indicator_table_path(home: Path, as_of: date) -> Path:
    """The folder of the indicator table of `as_of` under `home`."""
    return Path(home) / "indicators" / f"as_of={as_of.isoformat()}"


def read_manifest(folder: Path) -> dict[str, Any] | None:
    path = Path(folder) / MANIFEST
    if not path.exists():
        return None
    return json.loads(path.read_text(encoding="utf-8"))


@dataclass
class BatchReport:
    """What a batch run did: where the table is, how many enterprises, how long, what it skipped."""

    as_of: date
    path: Path
    enterprises: int
    indicators: int
    chunks: int
    chunks_computed: int
    seconds: float
    library_fingerprint: str
    raw_fingerprint: str
    stage_seconds: dict[str, float] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        d = asdict(self)
        d["as_of"] = self.as_of.isoformat()
        d["path"] = str(self.path)
        return d


def _write_json(path: Path, data: dict[str, Any]) -> None:
    tmp = path.with_suffix(f".tmp{os.getpid()}")
    tmp.write_text(json.dumps(data, ensure_ascii=False, indent=1, sort_keys=True), encoding="utf-8")
    tmp.replace(path)


def sql_path(path: Path | str) -> str:
    """A path as an SQL string literal."""
    return "'" + str(path).replace("'", "''") + "'"


def _copy(con: duckdb.DuckDBPyConnection, sql: str, target: Path) -> None:
    """`COPY (sql) TO target` atomically (temporary name, then rename)."""
    tmp = target.with_name(f".{target.name}.tmp{os.getpid()}")
    con.execute(f"COPY ({sql}) TO {sql_path(tmp)} (FORMAT parquet, COMPRESSION zstd)")
    tmp.replace(target)


def _chunks(usccs: list[str], size: int) -> list[tuple[str | None, str | None]]:
    """USCC ranges [lo, hi) of at most `size` enterprises of the sorted spine (open at both ends)."""
    if not usccs:
        return []
    bounds = [usccs[i] for i in range(0, len(usccs), size)][1:]
    los: list[str | None] = [None, *bounds]
    his: list[str | None] = [*bounds, None]
    return list(zip(los, his, strict=True))


def run_batch(
    as_of: date | str,
    *,
    home: Path | None = None,
    library: Library | None = None,
    chunk_size: int = DEFAULT_CHUNK,
    fresh: bool = False,
    console: Console | None = None,
    clock: Clock | None = None,
    threads: int | None = None,
) -> BatchReport:
    """Compute every indicator for every enterprise registered on `as_of` into the indicator table.

    Resumes an interrupted run of the same data and definitions; refuses (Conflict) a table of other data
    or definitions unless `fresh`, which deletes it first. `console=None` runs without a progress bar.
    """
    from puhui.config import paths

    started = time.perf_counter()
    as_of = parse_date(as_of, field="as_of")
    library = library or default_library()
    home = Path(home) if home is not None else paths().home
    raw = RawData(home, library)
    out = indicator_table_path(home, as_of)
    con = duckdb.connect()
    if threads:
        con.execute(f"SET threads={int(threads)}")
    try:
        raw.attach(con)
        check_as_of(as_of, raw.window(con), (clock or SystemClock()).today())
        keys = {"as_of": as_of.isoformat(), "library_fingerprint": library.fingerprint,
                "raw_fingerprint": raw.fingerprint(), "chunk_size": chunk_size}  # fmt: skip
        _prepare_folder(out, keys, fresh)
        plan = Plan(library, as_of)
        usccs = [r[0] for r in con.execute(f"SELECT uscc FROM ({plan.view_sql(SPINE)}) v ORDER BY uscc").fetchall()]
        chunks = _chunks(usccs, max(1, chunk_size))
        stage_seconds: dict[str, float] = dict.fromkeys(plan.sources, 0.0)
        computed = 0
        with _progress(console) as progress:
            task = progress.add_task(f"indicators as of {as_of}", total=len(chunks) * (len(plan.sources) + 1))
            for k, (lo, hi) in enumerate(chunks):
                part = out / f"part-{k:05d}.parquet"
                if part.exists():
                    progress.advance(task, len(plan.sources) + 1)
                    continue
                computed += 1
                label = f"as of {as_of} · chunk {k + 1}/{len(chunks)}"
                _run_chunk(con, plan, out / WORK / f"chunk-{k:05d}", part, (lo, hi), progress, task, label,
                           stage_seconds)  # fmt: skip
        shutil.rmtree(out / WORK, ignore_errors=True)
        seconds = time.perf_counter() - started
        report = BatchReport(
            as_of=as_of, path=out, enterprises=len(usccs), indicators=len(library), chunks=len(chunks),
            chunks_computed=computed, seconds=seconds, library_fingerprint=library.fingerprint,
            raw_fingerprint=keys["raw_fingerprint"], stage_seconds={k: round(v, 3) for k, v in stage_seconds.items()},
        )  # fmt: skip
        manifest = {
            **keys,
            "status": "complete",
            "enterprises": len(usccs),
            "indicators": len(library),
            "chunks": len(chunks),
            "columns": [c.name for c in plan.columns],
            "seconds": round(seconds, 3),
        }
        _write_json(out / MANIFEST, manifest)
        return report
    finally:
        con.close()


def _run_chunk(
    con: duckdb.DuckDBPyConnection,
    plan: Plan,
    work: Path,
    part: Path,
    bounds: tuple[str | None, str | None],
    progress: Progress,
    task: TaskID,
    label: str,
    stage_seconds: dict[str, float],
) -> None:
    """Stages of one chunk (each skipped when already written), then its part; the work folder is removed."""
    work.mkdir(parents=True, exist_ok=True)
    flt = uscc_range(*bounds)
    for source in plan.sources:
        target = work / f"{source}.parquet"
        if not target.exists():
            progress.update(task, description=f"{label} · {source}")
            t0 = time.perf_counter()
            _copy(con, plan.stage_sql(source, flt), target)
            stage_seconds[source] += time.perf_counter() - t0
        progress.advance(task)
    progress.update(task, description=f"{label} · final")
    t0 = time.perf_counter()
    for source in plan.sources:
        con.execute(f"CREATE OR REPLACE VIEW {stage_name(source)} AS "
                    f"SELECT * FROM read_parquet({sql_path(work / f'{source}.parquet')})")  # fmt: skip
    con.execute(f"CREATE OR REPLACE VIEW base AS {plan.assemble_sql()}")
    # Through Arrow with the plan's fixed schema: DuckDB would mark a column NOT NULL in a part where it
    # happens to have no NULL, and parts with different schemas do not read as one table.
    table = con.sql(f"{plan.final_sql('base')} ORDER BY uscc").to_arrow_table().cast(table_schema(plan))
    tmp = part.with_name(f".{part.name}.tmp{os.getpid()}")
    pq.write_table(table, tmp, compression="zstd")
    tmp.replace(part)
    stage_seconds["final"] = stage_seconds.get("final", 0.0) + time.perf_counter() - t0
    shutil.rmtree(work, ignore_errors=True)
    progress.advance(task)


_ARROW_TYPES = {
    "DECIMAL(18,2)": pa.decimal128(18, 2),
    "BIGINT": pa.int64(),
    "DOUBLE": pa.float64(),
    "BOOLEAN": pa.bool_(),
    "STRING": pa.string(),
}


def table_schema(plan: Plan) -> pa.Schema:
    """The Arrow schema of an indicator table: `uscc` and the presence flags never NULL, indicators nullable."""
    fields = []
    for c in plan.columns:
        required = c.name == "uscc" or c.name.startswith("src_")
        fields.append(pa.field(c.name, _ARROW_TYPES[c.sql_type], nullable=not required))
    return pa.schema(fields)


def _prepare_folder(out: Path, keys: dict[str, Any], fresh: bool) -> None:
    manifest = read_manifest(out)
    if manifest is not None and fresh:
        shutil.rmtree(out)
        manifest = None
    if manifest is not None:
        mine = {k: manifest.get(k) for k in keys}
        if mine != keys:
            raise Conflict(
                f"the indicator table in {out} was computed from other data or definitions "
                f"({_diff(mine, keys)}); rerun with fresh=True (--fresh) to replace it",
                code="indicator_table_stale", path=str(out),
            )  # fmt: skip
        return
    out.mkdir(parents=True, exist_ok=True)
    _write_json(out / MANIFEST, {**keys, "status": "in_progress"})


def _diff(old: dict[str, Any], new: dict[str, Any]) -> str:
    return ", ".join(f"{k}: {old.get(k)} → {v}" for k, v in new.items() if old.get(k) != v)


def _progress(console: Console | None) -> Progress:
    return Progress(
        TextColumn("[bold]{task.description}"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn(),
        TimeRemainingColumn(), console=console, disable=console is None, transient=False,
    )  # fmt: skip


def open_table(con: duckdb.DuckDBPyConnection, home: Path, as_of: date, name: str = "indicators") -> bool:
    """Create view `name` over the finished indicator table of `as_of`; False when there is none."""
    folder = indicator_table_path(home, as_of)
    manifest = read_manifest(folder)
    if manifest is None or manifest.get("status") != "complete":
        return False
    con.execute(f"CREATE OR REPLACE VIEW {name} AS SELECT * FROM read_parquet({sql_path(folder / 'part-*.parquet')})")
    return True
