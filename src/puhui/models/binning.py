"""Optimal binning per feature (分箱), frozen as plain data for scoring.

Owns the step from a raw column to bins and Weight of Evidence (WoE, 证据权重). Fitting uses optbinning's
`OptimalBinning` (MIP/CP optimum over CART pre-bins) with a monotonic event-rate trend where the business
direction is known (`ascending` = risk rises with the value) and `auto_asc_desc` elsewhere; manual split
overrides bypass the solver and are kept in the model. The result is a `FrozenBinning`: split points or
category groups, counts, bad counts and WoE, with special codes and missing values in bins of their own.
Scoring only reads that data (numpy `searchsorted` and a dict), never optbinning, so it is fast and gives
the identical bin after a JSON save and load.

WoE follows Siddiqi (Credit Risk Scorecards, 2006, ch. 6): WoE = ln(%good / %bad), positive = safer,
with 0.5 added to each count (Laplace-style smoothing) so that empty cells stay finite. Unseen categories
fall into the Missing bin (neutral evidence when no missing values were seen in training).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any, Literal

import numpy as np
import pandas as pd

from puhui.core.errors import ConfigurationError, ValidationError

Kind = Literal["numerical", "categorical"]
TRENDS = ("ascending", "descending", "auto", "auto_asc_desc", "peak", "valley", "convex", "concave")
SMOOTHING = 0.5


@dataclass(frozen=True)
class BinningConfig:
    """How to bin: size limits, special codes, business trends and manual splits per feature."""

    max_n_bins: int = 8
    min_bin_size: float = 0.05
    special_codes: tuple[float, ...] = ()
    trends: dict[str, str] = field(default_factory=dict)
    default_trend: str = "auto_asc_desc"
    user_splits: dict[str, list[Any]] = field(default_factory=dict)

    def __post_init__(self) -> None:
        for name, trend in {**self.trends, "<default>": self.default_trend}.items():
            if trend not in TRENDS:
                raise ConfigurationError(f"monotonic trend {trend!r} for {name} is not one of {TRENDS}",
                                         code="invalid_trend", field=name)  # fmt: skip


@dataclass(frozen=True)
class FrozenBinning:
    """One feature's bins as plain data: regular bins first, then Special, then Missing.

    Numerical: bin i holds splits[i-1] <= x < splits[i]. Categorical: bin i holds the categories in
    groups[i]. `counts` and `events` (bads) are per bin from the training data; `woe` is per bin.
    """

    name: str
    kind: Kind
    splits: tuple[float, ...]
    groups: tuple[tuple[str, ...], ...]
    special_codes: tuple[float, ...]
    counts: tuple[int, ...]
    events: tuple[int, ...]
    woe: tuple[float, ...]
    source: str  # "optbinning", "manual", or "fallback (why)" when optbinning failed on the column

    @property
    def n_regular(self) -> int:
        return len(self.splits) + 1 if self.kind == "numerical" else len(self.groups)

    @property
    def special_bin(self) -> int:
        return self.n_regular

    @property
    def missing_bin(self) -> int:
        return self.n_regular + 1

    @property
    def iv(self) -> float:
        """Information value Σ (%good − %bad) · WoE (Siddiqi 2006), on the smoothed shares."""
        return information_value(np.asarray(self.counts), np.asarray(self.events))

    def labels(self) -> list[str]:
        """Readable bin labels, e.g. `[0.12, 0.20)`, `{a, b}`, `Special`, `Missing`."""
        if self.kind == "numerical":
            edges = [-math.inf, *self.splits, math.inf]
            regular = [f"[{_fmt(edges[i])}, {_fmt(edges[i + 1])})" for i in range(len(edges) - 1)]
        else:
            regular = ["{" + ", ".join(g) + "}" for g in self.groups]
        return [*regular, "Special", "Missing"]

    def bin_index(self, values: Any) -> np.ndarray:
        """The bin of each value (vectorised; one value or a whole column)."""
        s = values if isinstance(values, pd.Series) else pd.Series(np.atleast_1d(np.asarray(values, dtype=object)))
        if self.kind == "numerical":
            x = numeric_column(s, self.name)
            if len(self.splits) < 255:
                # the number of splits ≤ x, one vectorised comparison per split: several times faster than a
                # binary search per row (np.searchsorted mispredicts on unsorted values); same bins
                idx = np.zeros(x.size, dtype=np.uint8)
                for split in self.splits:
                    idx += x >= split
            else:
                idx = np.searchsorted(np.asarray(self.splits, dtype=float), x, side="right")
            if self.special_codes:
                idx = np.where(np.isin(x, np.asarray(self.special_codes, dtype=float)), self.special_bin, idx)
            return np.where(np.isnan(x), self.missing_bin, idx).astype(np.int64)
        lookup = {c: i for i, g in enumerate(self.groups) for c in g}
        return category_codes(s, lookup, self.missing_bin)

    def transform(self, values: Any) -> np.ndarray:
        """WoE of each value."""
        return np.asarray(self.woe, dtype=float)[self.bin_index(values)]

    def to_dict(self) -> dict[str, Any]:
        return {"name": self.name, "kind": self.kind, "splits": list(self.splits),
                "groups": [list(g) for g in self.groups], "special_codes": list(self.special_codes),
                "counts": list(self.counts), "events": list(self.events), "woe": list(self.woe),
                "source": self.source}  # fmt: skip

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> FrozenBinning:
        return cls(name=d["name"], kind=d["kind"], splits=tuple(float(v) for v in d["splits"]),
                   groups=tuple(tuple(str(c) for c in g) for g in d["groups"]),
                   special_codes=tuple(float(v) for v in d["special_codes"]),
                   counts=tuple(int(v) for v in d["counts"]), events=tuple(int(v) for v in d["events"]),
                   woe=tuple(float(v) for v in d["woe"]), source=d["source"])  # fmt: skip


def _fmt(v: float) -> str:
    return "-inf" if v == -math.inf else "inf" if v == math.inf else f"{v:.6g}"


def information_value(counts: np.ndarray, events: np.ndarray) -> float:
    """Information value Σ (%good − %bad) · WoE over populated bins, on smoothed shares (Siddiqi 2006)."""
    # Only populated bins carry evidence: the smoothing of an empty Special/Missing bin would otherwise give
    # a one-bin (constant-WoE) feature a small positive IV that lets it pass the IV floor.
    populated = counts > 0
    if populated.sum() < 2:
        return 0.0
    goods = counts - events
    pg = (goods + SMOOTHING) / (goods.sum() + SMOOTHING)
    pb = (events + SMOOTHING) / (events.sum() + SMOOTHING)
    return float(np.sum(((pg - pb) * np.log(pg / pb))[populated]))


def woe_from_counts(counts: np.ndarray, events: np.ndarray) -> np.ndarray:
    """ln(%good / %bad) per bin with 0.5 smoothing; an empty bin gets 0 (no evidence)."""
    goods = counts - events
    pg = (goods + SMOOTHING) / (goods.sum() + SMOOTHING)
    pb = (events + SMOOTHING) / (events.sum() + SMOOTHING)
    return np.where(counts > 0, np.log(pg / pb), 0.0)


def numeric_column(s: pd.Series, name: str) -> np.ndarray:
    """A column as float64 with NaN for missing; text that is not a number is refused, naming the column."""
    if pd.api.types.is_bool_dtype(s) or pd.api.types.is_numeric_dtype(s):
        return s.to_numpy(dtype=float, na_value=np.nan)
    try:
        return pd.to_numeric(s, errors="raise").to_numpy(dtype=float, na_value=np.nan)
    except (ValueError, TypeError) as e:
        raise ValidationError(f"column {name!r} must be numeric: {e}", code="invalid_column", column=name) from None


def category_codes(s: pd.Series, lookup: dict[str, int], default: int) -> np.ndarray:
    """Vectorised `lookup` of each value's text form; missing, empty and unseen values get `default`.

    The column is factorised once (hashing in C) and only its distinct values are looked up in Python."""
    codes, uniques = pd.factorize(s, use_na_sentinel=True)
    keys = pd.Index(uniques).astype("string").tolist()
    table = [default if k is pd.NA or k == "" else lookup.get(k, default) for k in keys]
    return np.asarray([*table, default], dtype=np.int64)[codes]  # code −1 (missing) takes the trailing default


def categorical_column(s: pd.Series) -> list[str | None]:
    """A column as text keys (pandas' string form, as `category_codes` uses); missing or empty as None."""
    return [None if k is pd.NA or k == "" else str(k) for k in s.astype("string").tolist()]


def weighted_counts(b: FrozenBinning, s: pd.Series, y: np.ndarray,
                    w: np.ndarray | None = None) -> tuple[np.ndarray, np.ndarray]:  # fmt: skip
    """Rows (or sample-weight sums) and bads per bin of `b` on (`s`, `y`), in bin order incl. Special, Missing."""
    idx = b.bin_index(s)
    n = b.n_regular + 2
    if w is None:
        return np.bincount(idx, minlength=n), np.bincount(idx, weights=y, minlength=n).round()
    return np.bincount(idx, weights=w, minlength=n), np.bincount(idx, weights=w * y, minlength=n)


def _freeze(name: str, kind: Kind, splits: tuple[float, ...], groups: tuple[tuple[str, ...], ...],
            specials: tuple[float, ...], s: pd.Series, y: np.ndarray, source: str,
            w: np.ndarray | None = None) -> FrozenBinning:  # fmt: skip
    """Counts and bads per bin (weight sums, stored rounded, when weighted); WoE from the unrounded sums."""
    proto = FrozenBinning(name, kind, splits, groups, specials, (), (), (), source)
    counts, events = weighted_counts(proto, s, y, w)
    woe = woe_from_counts(counts, events)
    return FrozenBinning(name, kind, splits, groups, specials, tuple(round(float(c)) for c in counts),
                         tuple(round(float(e)) for e in events), tuple(float(v) for v in woe), source)  # fmt: skip


def fit_binning(s: pd.Series, y: np.ndarray, *, name: str, kind: Kind, config: BinningConfig,
                sample_weight: np.ndarray | None = None) -> FrozenBinning:  # fmt: skip
    """Fit one feature's bins (optbinning, or the manual splits in `config.user_splits`) and freeze them;
    with `sample_weight`, optbinning and the bin counts weigh each row."""
    w = sample_weight
    specials = tuple(float(c) for c in config.special_codes) if kind == "numerical" else ()
    manual = config.user_splits.get(name)
    if manual is not None:
        if kind == "numerical":
            splits = tuple(sorted(float(v) for v in manual))
            return _freeze(name, kind, splits, (), specials, s, y, "manual", w)
        groups = tuple(tuple(str(c) for c in g) for g in manual)
        return _freeze(name, kind, (), groups, specials, s, y, "manual", w)

    trend = config.trends.get(name, config.default_trend)
    if kind == "categorical" and trend in ("ascending", "descending"):
        trend = "auto_asc_desc"  # a category has no order; the trend is over the sorted event rates
    try:
        return _fit_optbinning(s, y, name=name, kind=kind, config=config, trend=trend, specials=specials, w=w)
    except (ValueError, RuntimeError, TypeError, ArithmeticError) as e:
        # optbinning (or OR-Tools under it) failed on this column: fall back to quantile bins, named as such
        if kind == "numerical":
            x = numeric_column(s, name)
            x = x[np.isfinite(x) & ~np.isin(x, np.asarray(specials, dtype=float))]
            qs = np.unique(np.quantile(x, np.linspace(0, 1, config.max_n_bins + 1))[1:-1]) if x.size else []
            fb = _freeze(name, kind, tuple(float(q) for q in qs), (), specials, s, y, "quantile_fallback", w)
        else:
            cats = sorted({k for k in categorical_column(s) if k is not None})
            fb = _freeze(name, kind, (), tuple((c,) for c in cats), specials, s, y, "quantile_fallback", w)
        fb_note = f"{type(e).__name__}: {e}"
        return FrozenBinning(**{**fb.__dict__, "source": f"fallback ({fb_note[:200]})"})


def _fit_optbinning(s: pd.Series, y: np.ndarray, *, name: str, kind: Kind, config: BinningConfig, trend: str,
                    specials: tuple[float, ...], w: np.ndarray | None) -> FrozenBinning:  # fmt: skip
    from optbinning import OptimalBinning

    ob = OptimalBinning(name=name, dtype=kind, monotonic_trend=trend, max_n_bins=config.max_n_bins,
                        min_bin_size=config.min_bin_size,
                        special_codes=list(specials) if specials else None)  # fmt: skip
    if kind == "numerical":
        x = numeric_column(s, name)
        # the CART pre-binning works in float32 and refuses ±inf: for the fit only, ±inf become the largest /
        # smallest finite value (scoring still sends ±inf to the outermost bins)
        finite = x[np.isfinite(x)]
        if finite.size and np.isinf(x).any():
            x = np.where(x == np.inf, finite.max(), np.where(x == -np.inf, finite.min(), x))
        lim = float(np.finfo(np.float32).max) / 4
        ob.fit(np.clip(x, -lim, lim), y, sample_weight=w)
        splits = tuple(float(v) for v in ob.splits)
        return _freeze(name, kind, splits, (), specials, s, y, "optbinning", w)
    keys = categorical_column(s)
    x = np.array([np.nan if k is None else k for k in keys], dtype=object)
    ob.fit(x, y, sample_weight=w)
    groups = tuple(tuple(str(c) for c in g) for g in ob.splits)
    return _freeze(name, kind, (), groups, specials, s, y, "optbinning", w)
