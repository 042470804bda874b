"""Collateral (押品): the automated valuation of residential property behind the collateral loans
(网贷通 / e抵快贷) — a monthly price index, a unit-level valuation model with an honest FSD and a
"no value" answer, and the ratio-study metrics and time-split evaluation that measure it.

Public surface: `fit`, `load`, `Avm`, `AvmSettings`, `Subject`, `Valuation` (avm); `HierarchicalIndex`,
`repeat_sales_index` (index); `ratio_study`, `RatioStudy` and the single metrics (metrics);
`evaluate_time_split`, `load_property_data`, `load_sales_csv` (evaluate). The property store, the
collateral product, monitoring and the API build on these.
"""

import importlib
from typing import Any

_EXPORTS = {
    "Avm": "avm", "AvmSettings": "avm", "Subject": "avm", "Valuation": "avm", "fit": "avm", "load": "avm",
    "HierarchicalIndex": "index", "RepeatSalesIndex": "index", "repeat_sales_index": "index",
    "RatioStudy": "metrics", "cod": "metrics", "mdape": "metrics", "median_ratio": "metrics", "ppe": "metrics",
    "prb": "metrics", "prd": "metrics", "ratio_study": "metrics",
}
__all__ = list(_EXPORTS)


def __getattr__(name: str) -> Any:
    # Lazy (PEP 562): the CLI mounts `puhui avm` without paying for scikit-learn and polars at start-up.
    if name in _EXPORTS:
        return getattr(importlib.import_module(f"puhui.collateral.{_EXPORTS[name]}"), name)
    raise AttributeError(f"module 'puhui.collateral' has no attribute {name!r}")
