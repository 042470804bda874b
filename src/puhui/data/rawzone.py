"""The raw zone: one folder of Parquet parts per source, written atomically, read by DuckDB or Spark.

Layout: `<home>/raw/<source>/<part>.parquet`. A part is written to a temporary name and renamed, so a
crash never leaves a half-written part and a re-run can skip parts that exist (resume). Every part is
checked against its source's contract schema before it is written.
"""

from __future__ import annotations

import os
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq

from puhui.data.contracts import SourceContract, contract


class RawZone:
    """Parquet parts per source under `root`; the only code that writes the raw zone."""

    def __init__(self, root: Path) -> None:
        self.root = Path(root)

    def folder(self, source: str) -> Path:
        return self.root / source

    def part_path(self, source: str, part: str) -> Path:
        return self.folder(source) / f"{part}.parquet"

    def has_part(self, source: str, part: str) -> bool:
        return self.part_path(source, part).exists()

    def write_part(self, source: str | SourceContract, part: str, table: pa.Table) -> Path:
        """Write `table` as part `part` of `source`, cast to the contract schema, atomically."""
        c = source if isinstance(source, SourceContract) else contract(source)
        table = table.select([f.name for f in c.fields]).cast(c.arrow_schema)
        target = self.part_path(c.name, part)
        target.parent.mkdir(parents=True, exist_ok=True)
        tmp = target.with_suffix(f".tmp{os.getpid()}")
        pq.write_table(table, tmp, compression="zstd")
        tmp.replace(target)
        return target

    def parts(self, source: str) -> list[Path]:
        return sorted(self.folder(source).glob("*.parquet"))

    def glob(self, source: str) -> str:
        """The glob DuckDB / Spark read for a source (`read_parquet('<glob>')`)."""
        return str(self.folder(source) / "*.parquet")

    def sources(self) -> list[str]:
        return sorted(p.name for p in self.root.iterdir() if p.is_dir() and any(p.glob("*.parquet"))) if (
            self.root.exists()
        ) else []
