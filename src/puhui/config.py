"""Where puhui keeps its files and which database it talks to, read from the environment.

`PUHUI_HOME` (default: `./var`) holds everything generated: the raw zone, quarantine, truth, indicator
tables, models and the SQLite file. `PUHUI_DATABASE_URL` overrides the embedded SQLite store with any
SQLAlchemy URL (PostgreSQL in production). Nothing here is ever committed.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True)
class Paths:
    """The folders under PUHUI_HOME, one job each."""

    home: Path

    @property
    def raw(self) -> Path:
        """The raw zone: one Parquet folder per source (data contracts)."""
        return self.home / "raw"

    @property
    def truth(self) -> Path:
        """Synthetic ground truth (true PDs, defaults) for evaluation only, never a feature."""
        return self.home / "truth"

    @property
    def quarantine(self) -> Path:
        """Rows refused by ingestion, with the reason."""
        return self.home / "quarantine"

    @property
    def sqlite_file(self) -> Path:
        return self.home / "puhui.sqlite"


def paths() -> Paths:
    return Paths(Path(os.environ.get("PUHUI_HOME", "var")).resolve())


def database_url() -> str:
    """PUHUI_DATABASE_URL, else the SQLite file under PUHUI_HOME."""
    url = os.environ.get("PUHUI_DATABASE_URL")
    if url:
        return url
    p = paths()
    p.home.mkdir(parents=True, exist_ok=True)
    return f"sqlite:///{p.sqlite_file}"
