"""The WoE logistic-regression scorecard (评分卡): selection, fitting, points, exports, reason codes.

Owns the readable model a risk officer defends to a regulator. Training bins every feature
(`puhui.models.binning`), keeps features by information value (IV ≥ `iv_min`), drops the lower-IV one of
each pair whose WoE correlation exceeds `corr_max`, removes the highest-VIF feature while any VIF exceeds
`vif_max`, fits scikit-learn's `LogisticRegression` on WoE, and drops features whose coefficient has the
wrong sign (a card whose points run against the bad rate cannot be defended). Points follow Siddiqi
(Credit Risk Scorecards, 2006, ch. 6, "Scaling"): Score = Offset + Factor·ln(odds good:bad), Factor =
PDO/ln 2, Offset = BaseScore − Factor·ln(BaseOdds), and each attribute earns
−(β_i·WoE_ij + β_0/n)·Factor + Offset/n. Points are rounded to `point_decimals` and stored; a score is
the sum of the stored points in feature order, the same arithmetic in batch, one row, after a JSON
reload and in the exported SQL `CASE` expression. Reason codes rank the points each feature lost against
its best populated bin, in Chinese and English.
"""

from __future__ import annotations

import hashlib
import json
import math
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from puhui.core.errors import ConfigurationError, ValidationError
from puhui.models.binning import BinningConfig, FrozenBinning, fit_binning, information_value, weighted_counts
from puhui.models.dataset import check_columns, infer_kinds, to_frame

FORMAT = "puhui.scorecard/1"


@dataclass(frozen=True)
class ScorecardConfig:
    """Training and scaling settings. `base_odds` is good:bad at `base_score`; `names` maps a column to
    (Chinese name, English name) for reason codes and tables."""

    binning: BinningConfig = field(default_factory=BinningConfig)
    iv_min: float = 0.02
    iv_max: float | None = None
    corr_max: float = 0.7
    vif_max: float = 5.0
    base_score: float = 600.0
    base_odds: float = 50.0
    pdo: float = 20.0
    point_decimals: int | None = 2
    c: float = 1.0
    names: dict[str, tuple[str, str]] = field(default_factory=dict)

    def __post_init__(self) -> None:
        if self.pdo <= 0 or self.base_odds <= 0:
            raise ConfigurationError("pdo and base_odds must be positive", code="invalid_scaling",
                                     pdo=self.pdo, base_odds=self.base_odds)  # fmt: skip


def _checked_weights(sample_weight: np.ndarray, rows: int, labels: int) -> np.ndarray:
    w = np.asarray(sample_weight, dtype=float)
    if w.shape != (labels,) or rows != labels:
        raise ValidationError(f"{rows} rows, {labels} labels and {w.size} weights must match", code="length_mismatch")
    if not (np.isfinite(w).all() and (w >= 0).all() and w.sum() > 0):
        raise ValidationError("sample weights must be finite, non-negative and not all zero", code="invalid_weights")
    return w


def vif(x: np.ndarray) -> np.ndarray:
    """Variance inflation factors, the diagonal of the inverse correlation matrix (Belsley et al. 1980)."""
    if x.shape[1] < 2:
        return np.ones(x.shape[1])
    r = np.corrcoef(x, rowvar=False)
    return np.diag(np.linalg.pinv(r))


@dataclass
class Scorecard:
    """A fitted scorecard: frozen bins, coefficients and points per bin for each selected feature."""

    features: list[str]
    bins: dict[str, FrozenBinning]
    coef: dict[str, float]
    intercept: float
    points: dict[str, list[float]]
    base_score: float
    base_odds: float
    pdo: float
    names: dict[str, tuple[str, str]] = field(default_factory=dict)
    selection: dict[str, str] = field(default_factory=dict)
    all_bins: dict[str, FrozenBinning] = field(default_factory=dict)
    inputs: list[str] = field(default_factory=list)

    # ---- scaling ----
    @property
    def factor(self) -> float:
        return self.pdo / math.log(2)

    @property
    def offset(self) -> float:
        return self.base_score - self.factor * math.log(self.base_odds)

    # ---- training ----
    @classmethod
    def fit(cls, df: pd.DataFrame, y: np.ndarray, *, features: Iterable[str] | None = None,
            kinds: Mapping[str, str] | None = None, config: ScorecardConfig | None = None,
            sample_weight: np.ndarray | None = None) -> Scorecard:  # fmt: skip
        """Bin, select, fit and scale on `df` (features) and `y` (1 = bad).

        `sample_weight` (≥ 0, e.g. the augmented rows of reject inference) weighs the bins, their WoE and IV
        and the logistic regression; rows of weight 0 are left out. Integer weights equal replicated rows.
        """
        from sklearn.linear_model import LogisticRegression

        cfg = config or ScorecardConfig()
        feats = list(features) if features is not None else list(df.columns)
        kinds = dict(kinds) if kinds is not None else infer_kinds(df, feats)
        y = np.asarray(y, dtype=int)
        w = None if sample_weight is None else _checked_weights(sample_weight, len(df), y.size)
        if w is not None and not (w > 0).all():
            keep = w > 0
            df, y, w = df.loc[keep].reset_index(drop=True), y[keep], w[keep]
        all_bins = {f: fit_binning(df[f], y, name=f, kind=kinds[f], config=cfg.binning, sample_weight=w)  # type: ignore[arg-type]
                    for f in feats}  # fmt: skip
        selection: dict[str, str] = {}
        iv = {f: b.iv if w is None else information_value(*weighted_counts(b, df[f], y, w))
              for f, b in all_bins.items()}  # fmt: skip
        kept, woe = _select(df, all_bins, iv, cfg, selection)
        if not kept:
            raise ValidationError("no feature passed selection (IV, correlation, VIF); nothing to fit",
                                  code="no_features", dropped=selection)  # fmt: skip
        while True:
            lr = LogisticRegression(C=cfg.c, max_iter=1000)
            lr.fit(np.column_stack([woe[f] for f in kept]), y, sample_weight=w)
            coefs = lr.coef_[0]
            wrong = [i for i, c in enumerate(coefs) if c > 0]  # WoE is good-positive, so β must be ≤ 0
            if not wrong or len(kept) == 1:
                break
            i = max(wrong, key=lambda i: coefs[i])
            selection[kept[i]] = f"dropped: coefficient sign {coefs[i]:+.4f} contradicts WoE"
            kept.pop(i)
        for f in kept:
            selection[f] = f"selected: IV {iv[f]:.4f}"
        card = cls(features=kept, bins={f: all_bins[f] for f in kept},
                   coef={f: float(c) for f, c in zip(kept, coefs, strict=True)},
                   intercept=float(lr.intercept_[0]), points={}, base_score=cfg.base_score,
                   base_odds=cfg.base_odds, pdo=cfg.pdo, names=dict(cfg.names), selection=selection,
                   all_bins=all_bins, inputs=feats)  # fmt: skip
        card.points = card._scale(cfg.point_decimals)
        return card

    def _scale(self, decimals: int | None) -> dict[str, list[float]]:
        n = len(self.features)
        out: dict[str, list[float]] = {}
        for f in self.features:
            pts = [-(self.coef[f] * w + self.intercept / n) * self.factor + self.offset / n for w in self.bins[f].woe]
            out[f] = [round(p, decimals) if decimals is not None else p for p in pts]
        return out

    # ---- scoring ----
    def _frame(self, data: Any, allow_extra: bool) -> pd.DataFrame:
        df = to_frame(data)
        check_columns(df, self.features, inputs=self.inputs, allow_extra=allow_extra)
        return df

    def bin_indices(self, data: Any, *, allow_extra: bool = False) -> dict[str, np.ndarray]:
        df = self._frame(data, allow_extra)
        return {f: self.bins[f].bin_index(df[f]) for f in self.features}

    def points_table(self, data: Any, *, allow_extra: bool = False) -> pd.DataFrame:
        """Points per feature per row (columns in feature order)."""
        idx = self.bin_indices(data, allow_extra=allow_extra)
        return pd.DataFrame({f: np.asarray(self.points[f])[idx[f]] for f in self.features})

    def score(self, data: Any, *, allow_extra: bool = False) -> np.ndarray:
        """Total points per row (higher = safer). Batch, one dict, or a list of dicts: identical arithmetic."""
        idx = self.bin_indices(data, allow_extra=allow_extra)
        total = np.zeros(len(next(iter(idx.values()))), dtype=float)
        for f in self.features:
            total += self._points_array(f)[idx[f]]
        return total

    def _points_array(self, feature: str) -> np.ndarray:
        cache = self.__dict__.setdefault("_points_cache", {})
        arr = cache.get(feature)
        if arr is None:
            arr = cache[feature] = np.asarray(self.points[feature], dtype=float)
        return arr

    def pd_from_score(self, score: np.ndarray | float) -> np.ndarray:
        """Probability of default implied by the scaling: odds good:bad = exp((score − Offset)/Factor)."""
        return 1.0 / (1.0 + np.exp((np.asarray(score, dtype=float) - self.offset) / self.factor))

    def predict_pd(self, data: Any, *, allow_extra: bool = False) -> np.ndarray:
        return self.pd_from_score(self.score(data, allow_extra=allow_extra))

    def reasons(self, data: Any, *, k: int = 4, allow_extra: bool = False) -> list[list[dict[str, Any]]]:
        """Top-k adverse factors per row: points lost against the feature's best populated bin (toad
        `get_reason` style; Reg B §1002.9 'principal reasons'), with Chinese and English text."""
        idx = self.bin_indices(data, allow_extra=allow_extra)
        best = {f: max(p for p, c in zip(self.points[f], self.bins[f].counts, strict=True) if c > 0)
                for f in self.features}  # fmt: skip
        labels = {f: self.bins[f].labels() for f in self.features}
        n = len(next(iter(idx.values())))
        out: list[list[dict[str, Any]]] = []
        for r in range(n):
            lost = []
            for f in self.features:
                b = int(idx[f][r])
                loss = best[f] - self.points[f][b]
                if loss > 0:
                    lost.append((loss, f, b))
            lost.sort(key=lambda t: (-t[0], self.features.index(t[1])))
            row = []
            for rank, (loss, f, b) in enumerate(lost[:k], start=1):
                zh, en = self.names.get(f, (f, f))
                pts = round(loss, 2)
                row.append({"rank": rank, "feature": f, "bin": labels[f][b], "points_lost": pts,
                            "text_zh": f"{zh}（{labels[f][b]}）较最优分箱少{pts:g}分",
                            "text_en": f"{en} ({labels[f][b]}) scored {pts:g} points below its best bin"})  # fmt: skip
            out.append(row)
        return out

    # ---- exports ----
    def table(self) -> pd.DataFrame:
        """The scorecard table: one row per feature and bin, with counts, bad rate, WoE, IV and points."""
        rows = []
        for f in self.features:
            b = self.bins[f]
            zh, en = self.names.get(f, (f, f))
            for i, label in enumerate(b.labels()):
                c, e = b.counts[i], b.events[i]
                rows.append({"feature": f, "name_zh": zh, "name_en": en, "bin": label, "count": c, "bads": e,
                             "bad_rate": e / c if c else float("nan"), "woe": b.woe[i],
                             "points": self.points[f][i]})  # fmt: skip
        return pd.DataFrame(rows)

    def to_csv(self, path: Path) -> None:
        self.table().to_csv(path, index=False)

    def to_markdown(self) -> str:
        t = self.table()
        head = "| " + " | ".join(t.columns) + " |\n|" + "---|" * len(t.columns) + "\n"
        body = "".join("| " + " | ".join(_md(v) for v in row) + " |\n" for row in t.itertuples(index=False))
        return head + body

    def to_sql(self) -> str:
        """A SQL expression (DuckDB/Spark) giving the same total points as `score` for every row."""
        parts = []
        for f in self.features:
            b = self.bins[f]
            p = self.points[f]
            col = '"' + f.replace('"', '""') + '"'
            whens: list[str] = []
            if b.kind == "numerical":
                whens.append(f"WHEN {col} IS NULL OR isnan(CAST({col} AS DOUBLE)) THEN {_lit(p[b.missing_bin])}")
                if b.special_codes:
                    codes = ", ".join(_lit(c) for c in b.special_codes)
                    whens.append(f"WHEN CAST({col} AS DOUBLE) IN ({codes}) THEN {_lit(p[b.special_bin])}")
                whens.extend(f"WHEN CAST({col} AS DOUBLE) < {_lit(s)} THEN {_lit(p[i])}"
                             for i, s in enumerate(b.splits))  # fmt: skip
                whens.append(f"ELSE {_lit(p[b.n_regular - 1])}")
            else:
                whens.append(f"WHEN {col} IS NULL OR CAST({col} AS STRING) = '' THEN {_lit(p[b.missing_bin])}")
                for i, g in enumerate(b.groups):
                    cats = ", ".join("'" + c.replace("'", "''") + "'" for c in g)
                    whens.append(f"WHEN CAST({col} AS STRING) IN ({cats}) THEN {_lit(p[i])}")
                whens.append(f"ELSE {_lit(p[b.missing_bin])}")
            parts.append("(CASE " + " ".join(whens) + " END)")
        return "\n + ".join(parts)

    # ---- persistence ----
    def binning_hash(self) -> str:
        blob = json.dumps([self.bins[f].to_dict() for f in self.features], sort_keys=True).encode()
        return hashlib.sha256(blob).hexdigest()

    def to_dict(self) -> dict[str, Any]:
        return {"format": FORMAT, "features": self.features, "inputs": self.inputs,
                "bins": [self.bins[f].to_dict() for f in self.features],
                "coef": self.coef, "intercept": self.intercept, "points": self.points,
                "scaling": {"base_score": self.base_score, "base_odds": self.base_odds, "pdo": self.pdo},
                "names": {k: list(v) for k, v in self.names.items()}, "selection": self.selection,
                "binning_sha256": self.binning_hash()}  # fmt: skip

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> Scorecard:
        if d.get("format") != FORMAT:
            raise ValidationError(f"not a scorecard file (format {d.get('format')!r}, expected {FORMAT!r})",
                                  code="invalid_model_file")  # fmt: skip
        bins = {b["name"]: FrozenBinning.from_dict(b) for b in d["bins"]}
        sc = d["scaling"]
        card = cls(features=list(d["features"]), bins=bins, coef={k: float(v) for k, v in d["coef"].items()},
                   intercept=float(d["intercept"]), points={k: [float(p) for p in v] for k, v in d["points"].items()},
                   base_score=float(sc["base_score"]), base_odds=float(sc["base_odds"]), pdo=float(sc["pdo"]),
                   names={k: (v[0], v[1]) for k, v in d.get("names", {}).items()},
                   selection=dict(d.get("selection", {})), inputs=list(d.get("inputs", d["features"])))  # fmt: skip
        if d.get("binning_sha256") and card.binning_hash() != d["binning_sha256"]:
            raise ValidationError("scorecard file is corrupt: binning hash mismatch", code="invalid_model_file")
        return card

    def save(self, path: Path) -> None:
        Path(path).write_text(json.dumps(self.to_dict(), ensure_ascii=False, indent=1), encoding="utf-8")

    @classmethod
    def load(cls, path: Path) -> Scorecard:
        return cls.from_dict(json.loads(Path(path).read_text(encoding="utf-8")))


def _select(df: pd.DataFrame, all_bins: dict[str, FrozenBinning], iv: dict[str, float], cfg: ScorecardConfig,
            selection: dict[str, str]) -> tuple[list[str], dict[str, np.ndarray]]:  # fmt: skip
    """IV floor/ceiling, then the correlation filter (keeps the higher IV), then VIF; logs each drop."""
    feats = list(all_bins)
    cand = []
    for f in sorted(feats, key=lambda f: -iv[f]):
        if iv[f] < cfg.iv_min:
            selection[f] = f"dropped: IV {iv[f]:.4f} < {cfg.iv_min}"
        elif cfg.iv_max is not None and iv[f] > cfg.iv_max:
            selection[f] = f"dropped: IV {iv[f]:.4f} > {cfg.iv_max} (suspected leakage)"
        else:
            cand.append(f)
    woe = {f: all_bins[f].transform(df[f]) for f in cand}
    kept: list[str] = []
    for f in cand:  # highest IV first, so a correlated pair keeps the higher-IV feature
        clash = next((k for k in kept if _corr(woe[f], woe[k]) > cfg.corr_max), None)
        if clash is None:
            kept.append(f)
        else:
            selection[f] = f"dropped: |corr| {_corr(woe[f], woe[clash]):.3f} with {clash} > {cfg.corr_max}"
    while len(kept) > 1:
        v = vif(np.column_stack([woe[f] for f in kept]))
        worst = int(np.argmax(v))
        if v[worst] <= cfg.vif_max:
            break
        selection[kept[worst]] = f"dropped: VIF {v[worst]:.2f} > {cfg.vif_max}"
        kept.pop(worst)
    return kept, woe


def _corr(a: np.ndarray, b: np.ndarray) -> float:
    if a.std() == 0 or b.std() == 0:
        return 0.0
    return abs(float(np.corrcoef(a, b)[0, 1]))


def _lit(v: float) -> str:
    """A float as a SQL DOUBLE literal that parses back to the same binary value (scientific form)."""
    r = repr(float(v))
    return r if ("e" in r or "inf" in r or "nan" in r) else r + "e0"


def _md(v: Any) -> str:
    if isinstance(v, float):
        return "" if math.isnan(v) else f"{v:.4g}"
    return str(v).replace("|", "\\|")
