"""Train and evaluate a scorecard or a GBM on any tabular credit data set (the `puhui model train` core).

Owns the generic path from a frame with a binary target to a fitted model and an evaluation summary.
Features are every column except the target and the time column; numeric dtypes are binned as numbers,
the rest as categories; all-missing, constant and identifier-like text columns (more distinct values than half the rows)
are set aside (and listed). Without a test frame
the data is split out-of-time when a time column is given (the latest `test_fraction` of rows by time are
the test set; never a random split across time), else by a seeded stratified random draw. The test frame
must carry the same feature columns (missing or extra columns are refused by name).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Literal

import numpy as np
import pandas as pd

from puhui.core.errors import ValidationError
from puhui.models import metrics
from puhui.models.dataset import binary_target, check_columns, infer_kinds, parse_time
from puhui.models.gbm import GBMConfig, GBMModel
from puhui.models.scorecard import Scorecard, ScorecardConfig

Kind = Literal["scorecard", "gbm"]


@dataclass
class TrainResult:
    """The fitted model, its evaluation summary and what was set aside."""

    model: Scorecard | GBMModel
    summary: dict[str, Any]
    dropped: dict[str, str] = field(default_factory=dict)


def _split(y: np.ndarray, time: pd.Series | None, test_fraction: float, seed: int) -> np.ndarray:
    n = y.size
    test = np.zeros(n, dtype=bool)
    if time is not None:
        order = np.argsort(time.to_numpy(), kind="stable")
        test[order[round(n * (1 - test_fraction)) :]] = True
        return test
    rng = np.random.default_rng(seed)
    for c in (0, 1):
        idx = np.flatnonzero(y == c)
        test[rng.choice(idx, round(idx.size * test_fraction), replace=False)] = True
    return test


def train_and_evaluate(train: pd.DataFrame, target: str, *, test: pd.DataFrame | None = None,
                       time_column: str | None = None, kind: Kind = "scorecard",
                       scorecard_config: ScorecardConfig | None = None, gbm_config: GBMConfig | None = None,
                       test_fraction: float = 0.3, seed: int = 0) -> TrainResult:  # fmt: skip
    """Fit `kind` on `train` and evaluate on `test` (or on a held-out split); see the module docstring."""
    if kind not in ("scorecard", "gbm"):
        raise ValidationError(f"kind must be 'scorecard' or 'gbm', not {kind!r}", code="invalid_kind")
    y_all = binary_target(train, target)
    time_all = parse_time(train, time_column) if time_column else None
    features = [c for c in train.columns if c not in (target, time_column)]
    if not features:
        raise ValidationError("the data has no feature columns besides the target", code="no_features")
    dropped: dict[str, str] = {}
    for f in list(features):
        if train[f].isna().all():
            dropped[f] = "all values missing"
        elif train[f].nunique(dropna=True) < 2 and not train[f].isna().any():
            dropped[f] = "constant"
        elif not pd.api.types.is_numeric_dtype(train[f]) and train[f].nunique() > max(50, 0.5 * len(train)):
            dropped[f] = f"identifier-like text ({train[f].nunique():,} distinct values in {len(train):,} rows)"
    used = [f for f in features if f not in dropped]
    if not used:
        raise ValidationError("every feature column is empty or constant", code="no_features", dropped=dropped)
    kinds = infer_kinds(train, used)
    if test is None:
        is_test = _split(y_all, time_all, test_fraction, seed)
        tr, te = train.loc[~is_test].reset_index(drop=True), train.loc[is_test].reset_index(drop=True)
        y_tr, y_te = y_all[~is_test], y_all[is_test]
        t_tr = time_all.loc[~is_test].reset_index(drop=True) if time_all is not None else None
        split = "out_of_time" if time_all is not None else "stratified_random"
    else:
        y_te = binary_target(test, target)
        check_columns(test.drop(columns=[c for c in (target, time_column) if c and c in test.columns]), features)
        tr, te, y_tr, t_tr = train, test, y_all, time_all
        split = "given_test_file"
    if kind == "scorecard":
        model: Scorecard | GBMModel = Scorecard.fit(tr, y_tr, features=used, kinds=kinds, config=scorecard_config)
        used_final = list(model.features)
    else:
        model = GBMModel.fit(tr, y_tr, features=used, kinds=kinds, config=gbm_config, time=t_tr)
        used_final = list(model.features)
    p_te = model.predict_pd(te[used])
    p_tr = model.predict_pd(tr[used])
    s = metrics.summary(y_te, p_te)
    summary: dict[str, Any] = {
        "kind": kind, "split": split, "test_auc": s["auc"], "ks": s["ks"], "gini": s["gini"],
        "train_auc": metrics.auc(y_tr, p_tr), "rows": int(len(tr) + len(te)), "train_rows": len(tr),
        "test_rows": len(te), "test_bad_rate": s["bad_rate"], "features_used": used_final,
        "psi_train_test": metrics.psi(p_tr, p_te), "mean_pd_test": float(np.mean(p_te)),
        "calibration": metrics.calibration_by_decile(y_te, p_te).to_dict(orient="records"),
    }  # fmt: skip
    if isinstance(model, GBMModel):
        summary["calibrator"] = model.calibrator["kind"]
    return TrainResult(model=model, summary=summary, dropped=dropped)
