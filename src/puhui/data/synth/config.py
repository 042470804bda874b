"""The settings of one synthetic universe: size, history, seed, chunking.

Everything the generator produces is a pure function of this object: the same `SynthConfig` gives
byte-identical Parquet files. The fingerprint is stored with the universe so a resumed run refuses to
mix parts of two different configurations.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import asdict, dataclass
from datetime import date


@dataclass(frozen=True)
class SynthConfig:
    """Size and shape of a synthetic universe (defaults: 20,000 enterprises, 36 months to 2026-10)."""

    enterprises: int = 20_000
    months: int = 36
    seed: int = 20261129
    end_month: str = "2026-10"  # last month of history, YYYY-MM
    chunk_size: int = 20_000  # enterprises per part; bounds peak memory
    compounds: int = 5_000  # residential compounds in the property database
    property_years: int = 6  # years of property transactions
    core_enterprises: int = 60  # supply-chain core enterprises (≥ 50)

    @property
    def last_month(self) -> date:
        y, m = (int(x) for x in self.end_month.split("-"))
        return date(y, m, 1)

    @property
    def first_month(self) -> date:
        y, m = self.last_month.year, self.last_month.month - (self.months - 1)
        while m <= 0:
            y, m = y - 1, m + 12
        return date(y, m, 1)

    @property
    def n_chunks(self) -> int:
        return -(-self.enterprises // self.chunk_size)

    def fingerprint(self) -> str:
        """A short hash of every setting, written beside the universe for safe resume."""
        return hashlib.sha256(json.dumps(asdict(self), sort_keys=True).encode()).hexdigest()[:16]
