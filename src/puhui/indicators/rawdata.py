"""The raw zone as the indicator engines see it: DuckDB relations per source, a fingerprint, the data window.

`RawData(home, library)` exposes each source the library reads as a relation `src_<source>` (a view over
its Parquet parts, or an empty table of the contract schema when the source has no parts), fingerprints
the parts (name, size, modification time) so a computed table or a serving store can tell it is stale,
and finds when the data starts. `check_as_of` refuses an as-of date in the future or before the data
starts, with the typed errors the API maps to 422.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import date, timedelta
from pathlib import Path

import duckdb
import pyarrow as pa

from puhui.core.dates import month_end
from puhui.core.errors import ValidationError
from puhui.data.rawzone import RawZone
from puhui.indicators.compiler import relation_name
from puhui.indicators.library import Library, SourceKind

__all__ = ["DataWindow", "RawData", "check_as_of"]


@dataclass(frozen=True)
class DataWindow:
    """When the data starts (the first day any monthly source has a month available) and its last month."""

    start: date | None
    last_month: date | None


class RawData:
    """The raw zone under `home/raw`, for the sources `library` reads."""

    def __init__(self, home: Path, library: Library) -> None:
        self.home = Path(home)
        self.library = library
        self.zone = RawZone(self.home / "raw")

    def parts(self, source: str) -> list[Path]:
        return self.zone.parts(source)

    def fingerprint(self) -> str:
        """A short hash of every part of every source read (name, size, mtime): changes when data changes."""
        h = hashlib.sha256()
        for source in sorted(self.library.sources):
            for p in self.parts(source):
                st = p.stat()
                h.update(f"{source}/{p.name}:{st.st_size}:{st.st_mtime_ns}\n".encode())
        return h.hexdigest()[:16]

    def attach(self, con: duckdb.DuckDBPyConnection) -> None:
        """Create `src_<source>` in `con` for every source: a view over its parts, or an empty typed table."""
        for source, spec in self.library.sources.items():
            parts = self.parts(source)
            name = relation_name(source)
            if parts:
                files = ", ".join("'" + str(p).replace("'", "''") + "'" for p in parts)
                cols = ", ".join(f.name for f in spec.contract.fields)
                con.execute(f"CREATE OR REPLACE VIEW {name} AS SELECT {cols} FROM read_parquet([{files}])")
            else:
                empty = pa.Table.from_batches([], schema=spec.contract.arrow_schema)  # noqa: F841 - replacement scan
                con.execute(f"CREATE OR REPLACE TABLE {name} AS SELECT * FROM empty")

    def window(self, con: duckdb.DuckDBPyConnection) -> DataWindow:
        """The data window from the monthly sources' first and last months (Parquet statistics; fast)."""
        start: date | None = None
        last: date | None = None
        for source, spec in self.library.sources.items():
            if spec.kind is not SourceKind.MONTHLY or not self.parts(source):
                continue
            first_m, last_m = con.execute(
                f"SELECT MIN({spec.time_field}), MAX({spec.time_field}) FROM {relation_name(source)}"
            ).fetchall()[0]
            if first_m is None:
                continue
            available = _first_available(first_m, spec.lag_days)
            start = available if start is None else min(start, available)
            last = last_m if last is None else max(last, last_m)
        return DataWindow(start, last)


def _first_available(month: date, lag_days: int) -> date:
    """The first day the row of `month` is available (`pit.month_available` turns true)."""
    return month_end(month) + timedelta(days=lag_days)


def check_as_of(as_of: date, window: DataWindow, today: date) -> date:
    """Refuse an as-of date after `today` or before the data starts (ValidationError, HTTP 422)."""
    if as_of > today:
        raise ValidationError(
            f"as_of {as_of.isoformat()} is in the future (today is {today.isoformat()}): indicators use only "
            "data known on the as-of date",
            code="as_of_in_future", field="as_of", as_of=as_of.isoformat(), today=today.isoformat(),
        )  # fmt: skip
    if window.start is None:
        raise ValidationError(
            "the raw zone holds no monthly data yet: generate (puhui synth) or ingest it first",
            code="no_data", field="as_of",
        )  # fmt: skip
    if as_of < window.start:
        raise ValidationError(
            f"as_of {as_of.isoformat()} is before the data starts: the first month of data is available on "
            f"{window.start.isoformat()}",
            code="as_of_before_data", field="as_of", as_of=as_of.isoformat(), data_start=window.start.isoformat(),
        )  # fmt: skip
    return as_of
