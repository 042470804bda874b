"""Checks on tabular training and scoring input shared by the scorecard and the GBM.

Owns the rules that refuse bad input before any model sees it: the target column must exist, be binary
(0/1, or two values of a boolean) and not constant, with no missing labels; a time column must parse as
dates; a scoring frame must carry exactly the model's features (missing and extra columns are named).
Also infers each feature's kind (numerical or categorical) from its dtype.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

import numpy as np
import pandas as pd

from puhui.core.errors import ValidationError


def to_frame(data: pd.DataFrame | Mapping[str, Any] | Iterable[Mapping[str, Any]]) -> pd.DataFrame:
    """A DataFrame from a frame, one row as a dict, or a list of row dicts."""
    if isinstance(data, pd.DataFrame):
        return data
    if isinstance(data, Mapping):
        return pd.DataFrame([dict(data)])
    return pd.DataFrame([dict(r) for r in data])


def binary_target(df: pd.DataFrame, target: str) -> np.ndarray:
    """The target as an int array of 0/1, or a ValidationError naming the column and the problem."""
    if target not in df.columns:
        raise ValidationError(f"target column {target!r} is not in the data (columns: {list(df.columns)})",
                              code="missing_target", column=target)  # fmt: skip
    s = df[target]
    if s.isna().any():
        raise ValidationError(f"target column {target!r} has {int(s.isna().sum())} missing values",
                              code="invalid_target", column=target)  # fmt: skip
    values = set(pd.unique(s).tolist())
    if len(values) < 2:
        raise ValidationError(f"target column {target!r} is constant ({values}); it needs both 0 and 1",
                              code="constant_target", column=target)  # fmt: skip
    if not values <= {0, 1}:
        shown = sorted(map(str, values))[:5]
        raise ValidationError(f"target column {target!r} is not binary 0/1 (values: {shown})",
                              code="non_binary_target", column=target)  # fmt: skip
    return s.astype(int).to_numpy()


def parse_time(df: pd.DataFrame, column: str) -> pd.Series:
    """The time column as datetimes; unparseable or missing values are refused, naming the column."""
    if column not in df.columns:
        raise ValidationError(f"time column {column!r} is not in the data", code="missing_column", column=column)
    try:
        t = pd.to_datetime(df[column], errors="raise")
    except (ValueError, TypeError) as e:
        raise ValidationError(f"time column {column!r} does not parse as dates: {e}",
                              code="invalid_time_column", column=column) from None  # fmt: skip
    if t.isna().any():
        raise ValidationError(f"time column {column!r} has {int(t.isna().sum())} missing dates",
                              code="invalid_time_column", column=column)  # fmt: skip
    return t


def infer_kinds(df: pd.DataFrame, features: Iterable[str]) -> dict[str, str]:
    """`numerical` for numeric/bool dtypes, `categorical` for anything else."""
    kinds: dict[str, str] = {}
    for f in features:
        s = df[f]
        kinds[f] = "numerical" if pd.api.types.is_numeric_dtype(s) or pd.api.types.is_bool_dtype(s) else "categorical"
    return kinds


def check_columns(df: pd.DataFrame, features: Iterable[str], *, inputs: Iterable[str] | None = None,
                  allow_extra: bool = False) -> None:  # fmt: skip
    """Refuse a scoring frame that lacks a model feature, or has a column outside the training inputs
    (`inputs`, default the features), naming what is missing or extra."""
    want = list(features)
    known = set(want) | set(inputs or ())
    have = set(df.columns)
    missing = [f for f in want if f not in have]
    extra = sorted(str(c) for c in have - known)
    if missing:
        raise ValidationError(f"scoring data lacks the model's columns {missing}", code="missing_columns",
                              columns=missing)  # fmt: skip
    if extra and not allow_extra:
        raise ValidationError(f"scoring data has columns the model does not use: {extra} (pass allow_extra=True "
                              "to ignore them)", code="extra_columns", columns=extra)  # fmt: skip
