"""The online engine: one enterprise as of one date, the same definitions and SQL as the batch, same numbers.

Two paths:

* `compute(uscc, as_of)` always computes: it runs the stage SQL of each source the enterprise appears
  in (the batch's stage SQL with the entity filter `ukey = k`), assembles the enterprise's row and runs
  the batch's final SQL over it. It reads a **serving store** — `<home>/indicators/serving.duckdb`, a
  copy of the raw zone with every source sorted by an integer enterprise key, so a lookup touches one
  row group per source — rebuilt automatically when the raw zone's fingerprint changes.
* `indicators(uscc, as_of)` is the hot path of the one-minute loan: it answers from the finished batch
  table of that as-of when there is one of the current data and definitions (an in-memory index, about
  1 ms), otherwise computes and memoises.

DuckDB plans every statement afresh (an SQL `PREPARE`d statement is re-planned at each `EXECUTE` in
DuckDB 2.0) and spends tens of microseconds per expression on planning and executor set-up, so a fresh
computation of the ~330 indicators costs 100–250 ms whatever the data size, against about 1 ms from the
batch index; `benchmarks/indicators.py` reports both. `threads=2` runs an enterprise's stages side by side. Input
checks raise the typed errors the API maps to problem+json: a malformed USCC (422, the failed check),
an unknown one (404), an as-of date in the future or before the data (422).
"""

from __future__ import annotations

import hashlib
import os
import threading
import time
from collections import OrderedDict
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any

import duckdb
import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq

from puhui.core.dates import Clock, SystemClock, parse_date
from puhui.core.errors import NotFound
from puhui.core.identifiers import validate_uscc
from puhui.indicators.batch import _ARROW_TYPES as _ARROW
from puhui.indicators.batch import indicator_table_path, read_manifest
from puhui.indicators.compiler import SPINE, Plan, one_key, presence_column, relation_name
from puhui.indicators.library import Library, default_library
from puhui.indicators.rawdata import DataWindow, RawData, check_as_of

__all__ = ["IndicatorValues", "OnlineEngine", "ServingStore"]


@dataclass(frozen=True)
class IndicatorValues:
    """Every indicator of one enterprise as of one date, and which sources describe it."""

    uscc: str
    as_of: date
    values: dict[str, Any]  # indicator id → Decimal | int | float | bool | str | None
    sources: dict[str, bool]  # source → the enterprise has data in it as of the date
    origin: str  # "computed" | "batch"

    def __getitem__(self, indicator_id: str) -> Any:
        return self.values[indicator_id]


class ServingStore:
    """A DuckDB copy of the raw zone keyed and sorted for single-enterprise lookups."""

    VERSION = 1

    def __init__(self, home: Path, library: Library) -> None:
        self.home = Path(home)
        self.library = library
        self.raw = RawData(home, library)
        self.path = self.home / "indicators" / "serving.duckdb"
        self.sources = (SPINE, *(s for s in library.sources if s != SPINE))

    def layout_fingerprint(self) -> str:
        h = hashlib.sha256(f"v{self.VERSION}".encode())
        for s in self.sources:
            spec = self.library.sources[s]
            h.update(f"{s}:{spec.key}:{','.join(f.name for f in spec.contract.fields)}\n".encode())
        return h.hexdigest()[:16]

    def current(self) -> dict[str, str] | None:
        """The fingerprints the store on disk was built from (None when there is none)."""
        if not self.path.exists():
            return None
        try:
            con = duckdb.connect(str(self.path), read_only=True)
        except duckdb.Error:
            return None
        try:
            return dict(con.execute("SELECT key, value FROM meta").fetchall())
        except duckdb.Error:
            return None
        finally:
            con.close()

    def ensure(self) -> str:
        """Build the store unless it is current; returns the raw-zone fingerprint it holds."""
        raw_fp = self.raw.fingerprint()
        meta = self.current()
        if meta and meta.get("raw_fingerprint") == raw_fp and meta.get("layout") == self.layout_fingerprint():
            return raw_fp
        self.build(raw_fp)
        return raw_fp

    def build(self, raw_fp: str) -> None:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        tmp = self.path.with_name(f".{self.path.name}.tmp{os.getpid()}.{threading.get_ident()}")
        tmp.unlink(missing_ok=True)
        con = duckdb.connect(str(tmp))
        try:
            self.raw.attach(con)
            window = self.raw.window(con)
            spine_key = self.library.sources[SPINE].key
            con.execute(
                f"CREATE TABLE keys AS SELECT uscc, CAST(ROW_NUMBER() OVER (ORDER BY uscc) AS INTEGER) AS ukey "
                f"FROM (SELECT DISTINCT {spine_key} AS uscc FROM {relation_name(SPINE)}) d"
            )
            masks = np.zeros(con.execute("SELECT COUNT(*) FROM keys").fetchall()[0][0] + 1, dtype=np.int64)
            for bit, source in enumerate(self.sources):
                spec = self.library.sources[source]
                name = relation_name(source)
                order = ", ".join(["k.ukey", *(f"r.{c}" for c in spec.contract.key)])
                con.execute(f"ALTER VIEW {name} RENAME TO raw_{source}" if self.raw.parts(source)
                            else f"ALTER TABLE {name} RENAME TO raw_{source}")  # fmt: skip
                con.execute(f"CREATE TABLE {name} AS SELECT k.ukey, r.* FROM raw_{source} r "
                            f"JOIN keys k ON k.uscc = r.{spec.key} ORDER BY {order}")  # fmt: skip
                present = con.execute(f"SELECT DISTINCT ukey FROM {name}").fetchnumpy()["ukey"]
                masks[np.asarray(present, dtype=np.int64)] |= 1 << bit
            con.register("mask_table", pa.table({"ukey": np.arange(len(masks), dtype=np.int32), "mask": masks}))
            con.execute("CREATE TABLE key_masks AS SELECT k.uscc, k.ukey, m.mask FROM keys k "
                        "JOIN mask_table m ON m.ukey = k.ukey ORDER BY k.ukey")  # fmt: skip
            meta = {"raw_fingerprint": raw_fp, "layout": self.layout_fingerprint(),
                    "data_start": window.start.isoformat() if window.start else "",
                    "last_month": window.last_month.isoformat() if window.last_month else ""}  # fmt: skip
            con.execute("CREATE TABLE meta (key VARCHAR, value VARCHAR)")
            con.executemany("INSERT INTO meta VALUES (?, ?)", list(meta.items()))
            con.execute("CHECKPOINT")
        finally:
            con.close()
        tmp.replace(self.path)
        tmp.with_name(tmp.name + ".wal").unlink(missing_ok=True)


class _Opened:
    """One open serving store: a read-only connection, the key index and the data window."""

    def __init__(self, path: Path, raw_fp: str) -> None:
        self.raw_fp = raw_fp
        self.con = duckdb.connect(str(path), read_only=True)
        meta = dict(self.con.execute("SELECT key, value FROM meta").fetchall())
        self.window = DataWindow(
            date.fromisoformat(meta["data_start"]) if meta.get("data_start") else None,
            date.fromisoformat(meta["last_month"]) if meta.get("last_month") else None,
        )
        cols = self.con.execute("SELECT uscc, ukey, mask FROM key_masks").fetchnumpy()
        self.keys: dict[str, tuple[int, int]] = {
            u: (int(k), int(m)) for u, k, m in zip(cols["uscc"].tolist(), cols["ukey"], cols["mask"], strict=True)
        }
        self.local = threading.local()

    def cursor(self) -> duckdb.DuckDBPyConnection:
        cur = getattr(self.local, "cursor", None)
        if cur is None:
            cur = self.con.cursor()
            cur.execute("SET threads=1")  # one enterprise: parallelism only adds set-up cost
            self.local.cursor = cur
        return cur

    def close(self) -> None:
        self.con.close()


class _BatchIndex:
    """A finished batch table of one as-of held in memory with a USCC → row index."""

    def __init__(self, folder: Path) -> None:
        parts = sorted(folder.glob("part-*.parquet"))
        self.table = pa.concat_tables([pq.read_table(p) for p in parts]) if parts else None
        self.rows: dict[str, int] = (
            {u: i for i, u in enumerate(self.table.column("uscc").to_pylist())} if self.table is not None else {}
        )
        # one contiguous array per column: reading row i column by column is ~6x faster than slicing the
        # (wide) table and converting the slice, the hot path of an online decision
        self.columns: list[tuple[str, pa.Array]] = (
            [(n, self.table.column(n).combine_chunks()) for n in self.table.column_names]
            if self.table is not None else []
        )  # fmt: skip

    def row(self, uscc: str) -> dict[str, Any] | None:
        i = self.rows.get(uscc)
        if i is None:
            return None
        return {name: column[i].as_py() for name, column in self.columns}


class OnlineEngine:
    """Indicators of one enterprise as of a date: the hot path (`indicators`) and the fresh path (`compute`)."""

    def __init__(
        self,
        home: Path | None = None,
        *,
        library: Library | None = None,
        clock: Clock | None = None,
        use_batch: bool = True,
        cache_size: int = 10_000,
        recheck_seconds: float = 2.0,
        threads: int = 1,
    ) -> None:
        from puhui.config import paths

        self.home = Path(home) if home is not None else paths().home
        self.library = library or default_library()
        self.clock = clock or SystemClock()
        self.use_batch = use_batch
        self.cache_size = cache_size
        self.recheck_seconds = recheck_seconds
        self.store = ServingStore(self.home, self.library)
        self._lock = threading.RLock()
        self._opened: _Opened | None = None
        self._checked_at = 0.0
        self._plans: dict[date, Plan] = {}
        self._stage_sql: dict[tuple[date, str], str] = {}
        self._batches: OrderedDict[date, tuple[str, _BatchIndex | None]] = OrderedDict()
        self._memo: OrderedDict[tuple[date, str], IndicatorValues] = OrderedDict()
        self._pool = ThreadPoolExecutor(max_workers=threads, thread_name_prefix="puhui-online") if threads > 1 else None

    # -- lifecycle --

    def _open(self, force: bool = False) -> _Opened:
        with self._lock:
            now = time.monotonic()
            if self._opened is not None and not force and now - self._checked_at < self.recheck_seconds:
                return self._opened
            raw_fp = self.store.ensure()
            if self._opened is None or self._opened.raw_fp != raw_fp:
                if self._opened is not None:
                    self._opened.close()
                self._opened = _Opened(self.store.path, raw_fp)
                self._memo.clear()
                self._batches.clear()
            self._checked_at = now
            return self._opened

    def refresh(self) -> None:
        """Re-read the raw zone's fingerprint now (rebuilding the serving store if the data changed)."""
        self._open(force=True)

    def close(self) -> None:
        if self._pool is not None:
            self._pool.shutdown(wait=True)
        with self._lock:
            if self._opened is not None:
                self._opened.close()
                self._opened = None

    def window(self) -> DataWindow:
        return self._open().window

    # -- checks --

    def _check(self, uscc: str, as_of: date | str) -> tuple[_Opened, str, date, int, int]:
        code = validate_uscc(uscc)
        day = parse_date(as_of, field="as_of")
        opened = self._open()
        check_as_of(day, opened.window, self.clock.today())
        found = opened.keys.get(code)
        if found is None:
            raise NotFound(f"enterprise {code} is not in the data", code="enterprise_not_found", uscc=code)
        return opened, code, day, found[0], found[1]

    def plan(self, as_of: date) -> Plan:
        with self._lock:
            plan = self._plans.get(as_of)
            if plan is None:
                plan = self._plans[as_of] = Plan(self.library, as_of)
                if len(self._plans) > 32:
                    self._plans.pop(next(iter(self._plans)))
            return plan

    # -- fresh path --

    def compute(self, uscc: str, as_of: date | str) -> IndicatorValues:
        """Compute every indicator of `uscc` as of `as_of` now, from the serving store (no cache)."""
        opened, code, day, ukey, mask = self._check(uscc, as_of)
        return self._compute(opened, code, day, ukey, mask)

    def _stage(self, plan: Plan, source: str) -> str:
        key = (plan.as_of, source)
        sql = self._stage_sql.get(key)
        if sql is None:
            sql = self._stage_sql[key] = plan.stage_sql(source, one_key("$ukey"))
        return sql

    def _compute(self, opened: _Opened, code: str, day: date, ukey: int, mask: int) -> IndicatorValues:
        plan = self.plan(day)
        present = [s for bit, s in enumerate(plan.sources) if mask & (1 << bit)]

        def run(source: str) -> tuple[str, dict[str, Any] | None]:
            cur = opened.cursor().execute(self._stage(plan, source), {"ukey": ukey})
            return source, _one_row(cur)

        if self._pool is not None and len(present) > 1:
            # DuckDB releases the GIL while it plans and runs: the stages of one enterprise run side by side
            results = list(self._pool.map(run, present))
        else:
            results = [run(s) for s in present]
        stages = {s: row for s, row in results if row is not None}
        cur = opened.cursor()
        if SPINE not in stages:
            raise NotFound(
                f"enterprise {code} was not yet registered on {day.isoformat()}",
                code="enterprise_not_registered", uscc=code, as_of=day.isoformat(),
            )  # fmt: skip
        cur.register("base", _assemble(plan, stages))
        try:
            row = _one_row(cur.execute(plan.final_sql("base")))
        finally:
            cur.unregister("base")
        assert row is not None
        return _values(plan, code, day, row, "computed")

    # -- hot path --

    def indicators(self, uscc: str, as_of: date | str) -> IndicatorValues:
        """The indicators of `uscc` as of `as_of`: from the batch table of that date if current, else computed."""
        opened, code, day, ukey, mask = self._check(uscc, as_of)
        if self.use_batch:
            index = self._batch(opened, day)
            if index is not None:
                row = index.row(code)
                if row is not None:
                    return _values(self.plan(day), code, day, row, "batch")
        with self._lock:
            hit = self._memo.get((day, code))
            if hit is not None:
                self._memo.move_to_end((day, code))
                return hit
        values = self._compute(opened, code, day, ukey, mask)
        with self._lock:
            self._memo[(day, code)] = values
            while len(self._memo) > self.cache_size:
                self._memo.popitem(last=False)
        return values

    def _batch(self, opened: _Opened, day: date) -> _BatchIndex | None:
        folder = indicator_table_path(self.home, day)
        try:
            stamp = (folder / "_manifest.json").stat().st_mtime_ns
        except FileNotFoundError:
            stamp = 0
        key = f"{opened.raw_fp}/{stamp}"
        with self._lock:
            cached = self._batches.get(day)
            if cached is not None and cached[0] == key:
                return cached[1]
            manifest = read_manifest(folder)
            index = None
            if (
                manifest is not None
                and manifest.get("status") == "complete"
                and manifest.get("raw_fingerprint") == opened.raw_fp
                and manifest.get("library_fingerprint") == self.library.fingerprint
            ):
                index = _BatchIndex(folder)
            self._batches[day] = (key, index)
            while len(self._batches) > 2:
                self._batches.popitem(last=False)
            return index

    # -- identity for the profile --

    def identity(self, uscc: str, as_of: date | str) -> dict[str, Any]:
        """The registration row as of the date (name, form, founding, places, industry, status)."""
        opened, code, day, ukey, _ = self._check(uscc, as_of)
        plan = self.plan(day)
        cur = opened.cursor()
        row = _one_row(cur.execute(
            f"SELECT uscc, name, entity_type, legal_rep_name, founding_date, industry_section, industry_code, "
            f"region_code, city_code, status, status_date FROM ({plan.view_sql(SPINE, one_key('$ukey'))}) v",
            {"ukey": ukey},
        ))  # fmt: skip
        if row is None:
            raise NotFound(f"enterprise {code} was not yet registered on {day.isoformat()}",
                           code="enterprise_not_registered", uscc=code, as_of=day.isoformat())  # fmt: skip
        return row


def _one_row(cur: duckdb.DuckDBPyConnection) -> dict[str, Any] | None:
    """The single row of a result as {column: value} (DuckDB's Python values: Decimal, int, float …)."""
    rows = cur.fetchall()
    if not rows:
        return None
    return dict(zip((d[0] for d in cur.description), rows[0], strict=True))


def _assemble(plan: Plan, stages: dict[str, dict[str, Any]]) -> pa.Table:
    """The enterprise's assembled row (the batch's `base`) from its stage rows; absent sources are NULL."""
    owner = {presence_column(s): s for s in plan.sources}
    owner.update({i.id: i.source for i in plan.library.indicators if not i.derived})
    arrays: list[pa.Array] = []
    fields: list[pa.Field] = []
    for col in plan.base_columns:
        typ = _ARROW[col.sql_type]
        row = stages.get(SPINE if col.name == "uscc" else owner[col.name])
        arrays.append(pa.array([None if row is None else row[col.name]], type=typ))
        fields.append(pa.field(col.name, typ))
    return pa.Table.from_arrays(arrays, schema=pa.schema(fields))


def _values(plan: Plan, code: str, day: date, row: dict[str, Any], origin: str) -> IndicatorValues:
    sources = {s: bool(row[presence_column(s)]) for s in plan.sources}
    values = {i.id: row[i.id] for i in plan.library.indicators}
    return IndicatorValues(uscc=code, as_of=day, values=values, sources=sources, origin=origin)
