"""Collateral (押品): the automated valuation of residential property behind the collateral loans
(网贷通 / e抵快贷) — a monthly price index, a unit-level valuation model with an honest FSD and a
"no value" answer, and the ratio-study metrics and time-split evaluation that measure it.

Public surface: `fit`, `load`, `Avm`, `AvmSettings`, `Subject`, `Valuation` (avm); `HierarchicalIndex`,
`repeat_sales_index` (index); `ratio_study`, `RatioStudy` and the single metrics (metrics);
`evaluate_time_split`, `load_property_data`, `load_sales_csv` (evaluate). The property store, the
collateral product, monitoring and the API build on these.
"""

from puhui.core.lazy import lazy_exports

# The CLI mounts `puhui avm` without paying for scikit-learn and polars at start-up.
__getattr__, __all__ = lazy_exports(__name__, {
    "Avm": "avm", "AvmSettings": "avm", "Subject": "avm", "Valuation": "avm", "fit": "avm", "load": "avm",
    "HierarchicalIndex": "index", "RepeatSalesIndex": "index", "repeat_sales_index": "index",
    "RatioStudy": "metrics", "cod": "metrics", "mdape": "metrics", "median_ratio": "metrics", "ppe": "metrics",
    "prb": "metrics", "prd": "metrics", "ratio_study": "metrics",
})
