"""puhui.indicators: the indicator library (指标库) and customer profiles (画像).

Indicators are data — YAML definitions with an SQL expression each (`definitions/`), checked when the
library loads — compiled to portable SQL for an as-of date that reads only what was known by then.
The batch engine computes every enterprise into a Parquet table; the online engine computes one
enterprise with the same SQL and the same numbers; `quality` measures coverage and drift; `profile`
assembles what a credit officer reads about one enterprise.

Public surface:

* `load_library`, `default_library`, `Library`, `Indicator`, `IndicatorType`, `Risk`, `Severity` —
  the definitions; `catalogue_markdown` documents them.
* `compile_plan`, `Plan`, `DUCKDB`, `SPARK` — SQL for an as-of date and an engine.
* `run_batch`, `BatchReport`, `indicator_table_path` — the batch indicator table.
* `OnlineEngine`, `IndicatorValues` — one enterprise, hot path and fresh path.
* `coverage`, `drift`, `psi` — data quality.
* `build_profile`, `Profile` — the customer profile.
"""

from __future__ import annotations

from importlib import import_module
from typing import Any

_EXPORTS = {
    "BatchReport": "batch", "indicator_table_path": "batch", "run_batch": "batch",
    "DUCKDB": "compiler", "SPARK": "compiler", "Plan": "compiler", "compile_plan": "compiler",
    "Indicator": "library", "IndicatorType": "library", "Library": "library", "Risk": "library",
    "Severity": "library", "catalogue_markdown": "library", "default_library": "library", "load_library": "library",
    "IndicatorValues": "online", "OnlineEngine": "online",
    "Profile": "profile", "build_profile": "profile",
    "coverage": "quality", "drift": "quality", "psi": "quality",
}  # fmt: skip

__all__ = [
    "DUCKDB", "SPARK", "BatchReport", "Indicator", "IndicatorType", "IndicatorValues", "Library", "OnlineEngine",
    "Plan", "Profile", "Risk", "Severity", "build_profile", "catalogue_markdown", "compile_plan", "coverage",
    "default_library", "drift", "indicator_table_path", "load_library", "psi", "run_batch",
]  # fmt: skip


def __getattr__(name: str) -> Any:
    # Lazy (PEP 562): `puhui indicators --help` and the main CLI do not pay for DuckDB and Arrow at import.
    module = _EXPORTS.get(name)
    if module is None:
        raise AttributeError(f"module 'puhui.indicators' has no attribute {name!r}")
    return getattr(import_module(f"puhui.indicators.{module}"), name)


def __dir__() -> list[str]:
    return __all__
