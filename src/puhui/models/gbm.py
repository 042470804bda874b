"""The LightGBM challenger (挑战者模型): monotone boosted trees with calibrated PDs and native reason codes.

Owns the stronger, less readable model run beside the scorecard. Numeric features whose business risk
direction is known get LightGBM `monotone_constraints` (+1 when risk rises with the value, −1 when it
falls); categorical features are coded by a mapping learned on the training data (unseen and missing →
NaN, LightGBM's missing branch). The training data is split into a fit part and a validation part (the
latest rows by time when a time column is given, else a seeded stratified draw); early stopping and the
PD calibration both use the validation part. Calibration is Platt (logistic on the margin) or isotonic,
chosen by two-fold log loss within the validation part, then refitted on all of it (Niculescu-Mizil &
Caruana 2005, "Predicting good probabilities with supervised learning"). Both calibrators are kept as
plain numbers (Platt a, b; isotonic knots evaluated by `np.interp`). Reason codes are LightGBM's own
`pred_contrib` (TreeSHAP) values: the features that pushed the bad log-odds up most. Saved as LightGBM's
text model plus JSON metadata, never pickle.
"""

from __future__ import annotations

import json
import math
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from puhui.core.errors import ValidationError
from puhui.models.binning import categorical_column, category_codes, numeric_column
from puhui.models.dataset import check_columns, infer_kinds, to_frame

FORMAT = "puhui.gbm/1"
PD_FLOOR = 1e-6


@dataclass(frozen=True)
class GBMConfig:
    """Booster and calibration settings. `trends` maps a feature to `ascending`/`descending` risk."""

    trends: dict[str, str] = field(default_factory=dict)
    num_leaves: int = 15
    learning_rate: float = 0.05
    max_rounds: int = 600
    early_stopping: int = 50
    min_child_samples: int = 40
    valid_fraction: float = 0.25
    calibration: str = "auto"  # auto | isotonic | platt
    monotone_method: str = "basic"  # LightGBM monotone_constraints_method
    seed: int = 0
    names: dict[str, tuple[str, str]] = field(default_factory=dict)


def _logloss(y: np.ndarray, p: np.ndarray) -> float:
    p = np.clip(p, PD_FLOOR, 1 - PD_FLOOR)
    return float(-np.mean(y * np.log(p) + (1 - y) * np.log(1 - p)))


def _fit_calibrator(kind: str, m: np.ndarray, y: np.ndarray) -> dict[str, Any]:
    if kind == "platt":
        from sklearn.linear_model import LogisticRegression

        lr = LogisticRegression(C=1e6, max_iter=1000).fit(m.reshape(-1, 1), y)
        return {"kind": "platt", "a": float(lr.coef_[0, 0]), "b": float(lr.intercept_[0])}
    from sklearn.isotonic import IsotonicRegression

    iso = IsotonicRegression(out_of_bounds="clip", y_min=0.0, y_max=1.0).fit(m, y)
    return {"kind": "isotonic", "x": [float(v) for v in iso.X_thresholds_], "y": [float(v) for v in iso.y_thresholds_]}


def _apply_calibrator(cal: dict[str, Any], m: np.ndarray) -> np.ndarray:
    if cal["kind"] == "platt":
        p = 1.0 / (1.0 + np.exp(-(cal["a"] * m + cal["b"])))
    else:
        p = np.interp(m, np.asarray(cal["x"]), np.asarray(cal["y"]))
    return np.clip(p, PD_FLOOR, 1 - PD_FLOOR)


def choose_calibrator(m: np.ndarray, y: np.ndarray, kind: str = "auto", seed: int = 0) -> tuple[dict[str, Any], dict]:
    """Fit the calibration map on validation margins `m`; with `auto`, pick Platt or isotonic by 2-fold
    log loss on the validation rows. Returns the calibrator and the per-method losses."""
    losses: dict[str, float] = {}
    if kind == "auto":
        rng = np.random.default_rng(seed)
        fold = rng.permutation(m.size) % 2
        for k in ("platt", "isotonic"):
            ll = []
            for f in (0, 1):
                tr, te = fold != f, fold == f
                ll.append(_logloss(y[te], _apply_calibrator(_fit_calibrator(k, m[tr], y[tr]), m[te])))
            losses[k] = float(np.mean(ll))
        kind = min(losses, key=lambda k: losses[k])
    return _fit_calibrator(kind, m, y), losses


@dataclass
class GBMModel:
    """A fitted challenger: booster text, feature coding, monotone constraints and the calibrator."""

    features: list[str]
    kinds: dict[str, str]
    categories: dict[str, list[str]]
    monotone: list[int]
    booster_text: str
    best_iteration: int
    calibrator: dict[str, Any]
    calibration_losses: dict[str, float] = field(default_factory=dict)
    names: dict[str, tuple[str, str]] = field(default_factory=dict)
    inputs: list[str] = field(default_factory=list)
    _booster: Any = field(default=None, repr=False)

    @property
    def booster(self) -> Any:
        if self._booster is None:
            import lightgbm as lgb

            self._booster = lgb.Booster(model_str=self.booster_text)
        return self._booster

    @classmethod
    def fit(cls, df: pd.DataFrame, y: np.ndarray, *, features: Iterable[str] | None = None,
            kinds: Mapping[str, str] | None = None, config: GBMConfig | None = None,
            time: pd.Series | None = None) -> GBMModel:  # fmt: skip
        import lightgbm as lgb

        cfg = config or GBMConfig()
        feats = list(features) if features is not None else list(df.columns)
        kinds = dict(kinds) if kinds is not None else infer_kinds(df, feats)
        y = np.asarray(y, dtype=int)
        cats = {f: sorted({k for k in categorical_column(df[f]) if k is not None}) for f in feats
                if kinds[f] == "categorical"}  # fmt: skip
        mono = [0 if kinds[f] == "categorical" else {"ascending": 1, "descending": -1}.get(cfg.trends.get(f, ""), 0)
                for f in feats]  # fmt: skip
        model = cls(features=feats, kinds=kinds, categories=cats, monotone=mono, booster_text="", best_iteration=0,
                    calibrator={}, names=dict(cfg.names), inputs=feats)  # fmt: skip
        x = model._matrix(df)
        valid = _valid_mask(y, cfg, time)
        params = {"objective": "binary", "num_leaves": cfg.num_leaves, "learning_rate": cfg.learning_rate,
                  "min_child_samples": cfg.min_child_samples, "monotone_constraints": mono,
                  "monotone_constraints_method": cfg.monotone_method, "seed": cfg.seed, "deterministic": True,
                  "num_threads": 1, "verbose": -1, "feature_fraction": 0.9, "bagging_fraction": 0.9,
                  "bagging_freq": 1, "lambda_l2": 1.0}  # fmt: skip
        cat_idx = [i for i, f in enumerate(feats) if kinds[f] == "categorical"]
        dfit = lgb.Dataset(x[~valid], y[~valid], categorical_feature=cat_idx, free_raw_data=False)
        dval = lgb.Dataset(x[valid], y[valid], categorical_feature=cat_idx, reference=dfit)
        booster = lgb.train(params, dfit, num_boost_round=cfg.max_rounds, valid_sets=[dval],
                            callbacks=[lgb.early_stopping(cfg.early_stopping, verbose=False)])  # fmt: skip
        model.best_iteration = int(booster.best_iteration or booster.current_iteration())
        model.booster_text = booster.model_to_string(num_iteration=model.best_iteration)
        m = model.margin(df.loc[valid], allow_extra=True)
        model.calibrator, model.calibration_losses = choose_calibrator(m, y[valid], cfg.calibration, cfg.seed)
        return model

    def _matrix(self, df: pd.DataFrame) -> np.ndarray:
        cols = []
        for f in self.features:
            if self.kinds[f] == "categorical":
                code = {c: i for i, c in enumerate(self.categories[f])}
                c = category_codes(df[f], code, -1).astype(float)
                cols.append(np.where(c < 0, math.nan, c))
            else:
                cols.append(numeric_column(df[f], f))
        return np.column_stack(cols) if cols else np.empty((len(df), 0))

    def _frame(self, data: Any, allow_extra: bool) -> pd.DataFrame:
        df = to_frame(data)
        check_columns(df, self.features, inputs=self.inputs, allow_extra=allow_extra)
        return df

    def margin(self, data: Any, *, allow_extra: bool = False) -> np.ndarray:
        """The booster's raw bad log-odds."""
        x = self._matrix(self._frame(data, allow_extra))
        return np.asarray(self.booster.predict(x, raw_score=True), dtype=float)

    def predict_pd(self, data: Any, *, allow_extra: bool = False) -> np.ndarray:
        """Calibrated probability of default per row."""
        return _apply_calibrator(self.calibrator, self.margin(data, allow_extra=allow_extra))

    def reasons(self, data: Any, *, k: int = 4, allow_extra: bool = False) -> list[list[dict[str, Any]]]:
        """Top-k features that raised the bad log-odds most (LightGBM `pred_contrib`), Chinese and English."""
        df = self._frame(data, allow_extra)
        contrib = np.asarray(self.booster.predict(self._matrix(df), pred_contrib=True))[:, :-1]
        out = []
        for r in range(contrib.shape[0]):
            order = [i for i in np.argsort(-contrib[r], kind="stable") if contrib[r, i] > 0][:k]
            row = []
            for rank, i in enumerate(order, start=1):
                f = self.features[i]
                zh, en = self.names.get(f, (f, f))
                v = df[f].iloc[r]
                v = None if pd.isna(v) else (v.item() if hasattr(v, "item") else v)
                c = float(contrib[r, i])
                row.append({"rank": rank, "feature": f, "value": v, "contribution": c,
                            "text_zh": f"{zh}（{v}）使违约对数几率上升{c:.3f}",
                            "text_en": f"{en} ({v}) raised the log-odds of default by {c:.3f}"})  # fmt: skip
            out.append(row)
        return out

    def metadata(self) -> dict[str, Any]:
        return {"format": FORMAT, "features": self.features, "inputs": self.inputs, "kinds": self.kinds,
                "categories": self.categories, "monotone": self.monotone, "best_iteration": self.best_iteration,
                "calibrator": self.calibrator, "calibration_losses": self.calibration_losses,
                "names": {f: list(v) for f, v in self.names.items()}}  # fmt: skip

    def save(self, directory: Path) -> None:
        """Write `gbm.txt` (LightGBM's text model) and `gbm.json` (metadata) into `directory`."""
        d = Path(directory)
        d.mkdir(parents=True, exist_ok=True)
        (d / "gbm.txt").write_text(self.booster_text, encoding="utf-8")
        (d / "gbm.json").write_text(json.dumps(self.metadata(), ensure_ascii=False, indent=1), encoding="utf-8")

    @classmethod
    def load(cls, directory: Path) -> GBMModel:
        d = Path(directory)
        meta = json.loads((d / "gbm.json").read_text(encoding="utf-8"))
        if meta.get("format") != FORMAT:
            raise ValidationError(f"not a GBM model directory (format {meta.get('format')!r})",
                                  code="invalid_model_file")  # fmt: skip
        return cls(features=meta["features"], kinds=meta["kinds"], categories=meta["categories"],
                   monotone=meta["monotone"], booster_text=(d / "gbm.txt").read_text(encoding="utf-8"),
                   best_iteration=meta["best_iteration"], calibrator=meta["calibrator"],
                   calibration_losses=meta.get("calibration_losses", {}),
                   names={f: (v[0], v[1]) for f, v in meta.get("names", {}).items()},
                   inputs=meta.get("inputs", meta["features"]))  # fmt: skip


def _valid_mask(y: np.ndarray, cfg: GBMConfig, time: pd.Series | None) -> np.ndarray:
    n = y.size
    if time is not None:
        order = np.argsort(pd.to_datetime(time).to_numpy(), kind="stable")
        mask = np.zeros(n, dtype=bool)
        mask[order[int(n * (1 - cfg.valid_fraction)) :]] = True
        return mask
    rng = np.random.default_rng(cfg.seed)
    mask = np.zeros(n, dtype=bool)
    for cls_ in (0, 1):  # stratified
        idx = np.flatnonzero(y == cls_)
        mask[rng.choice(idx, round(idx.size * cfg.valid_fraction), replace=False)] = True
    return mask
