"""Training sets (训练样本) from the synthetic universe: monthly as-of snapshots, labels, out-of-time split.

Owns the step from the indicator tables and the generator's truth to a modelling frame. One snapshot per
month end `as_of` (the indicator batch is run for it when its table is missing), one row per enterprise
registered on that date, with every indicator computed as of that date — so a feature never reads data
after its snapshot.

**Label.** 1 when the enterprise's default *onset* (`truth/enterprises.default_onset_month`: the month of
the first instalment that is never cured, a default that runs to 90+ days past due) falls in the 12 months
after the as-of month, i.e. onset month index in t+1 … t+12, else 0. We date the default at onset, not at
`dpd90_month` (= onset + 3, when 90+ DPD is recognised), for two reasons: (1) the truth's `pd_12m` at month
t is exactly P(onset in t+1 … t+12 | state at t), so the oracle and the label measure the same event;
(2) a 90+ DPD window of t+1 … t+12 would count firms whose onset was in t−2 … t, already delinquent at the
as-of, i.e. it would reward detecting current arrears rather than predicting default. Only the
12 months after the as-of are read, and only snapshots whose horizon ends inside the history are built.

**Exclusions** (counted per snapshot in `TrainingSet.exclusions`): `in_default` (onset on or before the
as-of month), `exited` (cancelled or revoked: no longer at risk), `too_young` (founded less than
`min_age_months` before the as-of), `no_data` (no source other than the registration family). These are
facts a bank knows at the as-of; the truth table only supplies them conveniently. `held_out` counts the kept
rows the enterprise holdout (below) removes: a held-out firm's train rows and the other firms' test rows.

**Out-of-time split.** Snapshot months run from `first_month_index` (default 6: six months of history
before the first as-of) to the last month whose 12-month outcome is fully observed (T − 1 − 12; with 36
months: 6 … 23). The latest `test_snapshots` of those (default 6) are the test window, the earlier ones
train (optionally `gap_months` apart). Never a random split across time.

**Out-of-sample too, by default.** Because adjacent snapshots' 12-month outcome windows overlap, the same
default event is a bad in up to twelve snapshots, several of them in train and some in test; a model that
memorises the firm (static features, or a booster deep enough to recognise it) then looks better than it
is — out-of-time only, both models beat the oracle on a small universe. A bank scores firms it has never
seen as well as firms it has, and it can only ever test on the future, so the honest test is both
out-of-time *and* out-of-sample: `holdout_fraction` (default 0.3, the same default as `puhui model evaluate
--holdout`) sends a hashed share of enterprises (SHA-256 of the USCC, stable across runs and universes) to
test only, and removes every row of theirs from train. Set it to 0 only to reproduce the optimistic
out-of-time-only figure. `true_pd_12m` (truth, for the oracle AUC only) is kept in its own column and is
never in `features`.
"""

from __future__ import annotations

import calendar
import hashlib
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pyarrow.compute as pc
import pyarrow.parquet as pq
from rich.console import Console

from puhui.core.errors import ConfigurationError, NotFound

__all__ = ["META_COLUMNS", "TrainingSet", "TrainsetConfig", "build_trainset", "month_end", "snapshot_dates"]

META_COLUMNS = ("uscc", "as_of", "label", "true_pd_12m", "industry", "split")
MAX_CATEGORIES = 100  # text indicators with more distinct values (e.g. a district code) are left out


@dataclass(frozen=True)
class TrainsetConfig:
    """Snapshot schedule, label horizon, exclusions and the out-of-time split."""

    horizon_months: int = 12
    min_age_months: int = 6
    first_month_index: int = 6
    step_months: int = 1
    test_snapshots: int = 6
    gap_months: int = 0
    max_snapshots: int | None = None  # keep only the latest N eligible snapshots (tests, quick runs)
    holdout_fraction: float = 0.3  # test only on enterprises never seen in train (hash of the USCC); 0 = off

    def __post_init__(self) -> None:
        if self.horizon_months < 1 or self.step_months < 1 or self.test_snapshots < 1 or self.min_age_months < 0:
            raise ConfigurationError("horizon, step and test snapshots must be ≥ 1 and min_age ≥ 0",
                                     code="invalid_trainset_config")  # fmt: skip
        if not 0 <= self.holdout_fraction < 1:
            raise ConfigurationError(f"holdout_fraction must be in [0, 1), not {self.holdout_fraction}",
                                     code="invalid_trainset_config")  # fmt: skip


@dataclass
class TrainingSet:
    """The frame (META_COLUMNS + features), feature kinds and risk trends, and what was excluded."""

    frame: pd.DataFrame
    features: list[str]
    kinds: dict[str, str]
    trends: dict[str, str]
    exclusions: pd.DataFrame
    train_as_of: list[date]
    test_as_of: list[date]
    config: TrainsetConfig = field(default_factory=TrainsetConfig)

    @property
    def train(self) -> pd.DataFrame:
        return self.frame.loc[self.frame["split"] == "train"].reset_index(drop=True)

    @property
    def test(self) -> pd.DataFrame:
        return self.frame.loc[self.frame["split"] == "test"].reset_index(drop=True)

    def describe(self) -> dict[str, Any]:
        f = self.frame
        return {
            "rows": len(f), "features": len(self.features),
            "train_rows": int((f["split"] == "train").sum()), "test_rows": int((f["split"] == "test").sum()),
            "train_bad_rate": float(f.loc[f["split"] == "train", "label"].mean()),
            "test_bad_rate": float(f.loc[f["split"] == "test", "label"].mean()),
            "train_as_of": [d.isoformat() for d in self.train_as_of],
            "test_as_of": [d.isoformat() for d in self.test_as_of],
            "exclusions": self.exclusions.drop(columns="as_of").sum().astype(int).to_dict(),
            "label": "default onset in the 12 months after the as-of month",
            "enterprise_holdout": self.config.holdout_fraction,
        }  # fmt: skip


def month_end(d: date) -> date:
    return date(d.year, d.month, calendar.monthrange(d.year, d.month)[1])


def _add_months(d: date, k: int) -> date:
    m = d.year * 12 + d.month - 1 + k
    return date(m // 12, m % 12 + 1, 1)


def _history(home: Path) -> list[date]:
    """Month starts of the universe's history, from the truth panel."""
    t = pq.read_table(Path(home) / "truth" / "health_monthly", columns=["month"])
    months = sorted(pc.unique(t["month"]).to_pylist())
    if not months:
        raise NotFound(f"no truth panel under {home}/truth: generate the universe first (puhui synth)",
                       code="no_truth")  # fmt: skip
    return months


def snapshot_dates(months: list[date], cfg: TrainsetConfig) -> tuple[list[date], list[date]]:
    """(train, test) month starts of the snapshots for a history of `months` (see the module docstring)."""
    last_ok = len(months) - 1 - cfg.horizon_months
    idx = list(range(cfg.first_month_index, last_ok + 1, cfg.step_months))
    if cfg.max_snapshots is not None:
        idx = idx[-cfg.max_snapshots :]
    if len(idx) <= cfg.test_snapshots:
        raise ConfigurationError(
            f"{len(months)} months of history give {len(idx)} snapshots with a full {cfg.horizon_months}-month "
            f"outcome; need more than the {cfg.test_snapshots} test snapshots", code="history_too_short")  # fmt: skip
    test = idx[-cfg.test_snapshots :]
    train = [i for i in idx[: -cfg.test_snapshots] if i <= test[0] - 1 - cfg.gap_months]
    if not train:
        raise ConfigurationError("no train snapshots left before the test window (gap too large)",
                                 code="history_too_short")  # fmt: skip
    return [months[i] for i in train], [months[i] for i in test]


def _indicators(home: Path, as_of: date, console: Console | None) -> pd.DataFrame:
    """The indicator table of `as_of`, (re)computed unless a complete one of the same definitions and data
    exists: a table left by an older library or another universe in the same home is replaced, not read."""
    from puhui.indicators.batch import indicator_table_path, read_manifest, run_batch
    from puhui.indicators.library import default_library
    from puhui.indicators.rawdata import RawData

    lib = default_library()
    folder = indicator_table_path(home, as_of)
    manifest = read_manifest(folder)
    same = manifest is not None and manifest.get("library_fingerprint") == lib.fingerprint and \
        manifest.get("raw_fingerprint") == RawData(home, lib).fingerprint()  # fmt: skip
    if not same or manifest is None or manifest.get("status") != "complete":
        run_batch(as_of, home=home, library=lib, console=console, fresh=manifest is not None and not same)
    return pq.read_table(folder, partitioning=None).to_pandas()


def _to_model_dtypes(df: pd.DataFrame, kinds: dict[str, str]) -> pd.DataFrame:
    """Decimals and booleans to float64 (features, not money), text to object with None for missing."""
    out = {}
    for c in df.columns:
        s = df[c]
        if kinds.get(c) == "categorical":
            out[c] = s.astype(object).where(s.notna(), None)
        else:
            out[c] = pd.to_numeric(s.astype(object), errors="coerce").astype("float64")
    return pd.DataFrame(out, index=df.index)


def _holdout_bucket(uscc: str) -> float:
    """A stable number in [0, 1) per enterprise (SHA-256 of the USCC), for the enterprise holdout."""
    return int(hashlib.sha256(uscc.encode()).hexdigest()[:8], 16) / 2**32


def _hold_out(frame: pd.DataFrame, exclusions: pd.DataFrame, fraction: float) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Keep test rows of the held-out enterprises and train rows of the others; count the rest per as-of."""
    exclusions = exclusions.assign(held_out=0)
    if fraction <= 0:
        return frame, exclusions
    held = frame["uscc"].map(_holdout_bucket) < fraction
    keep = (frame["split"] == "test") == held
    dropped = frame.loc[~keep].groupby("as_of").size()
    exclusions["held_out"] = [int(dropped.get(pd.Timestamp(d), 0)) for d in exclusions["as_of"]]
    return frame.loc[keep].reset_index(drop=True), exclusions


def build_trainset(home: Path, config: TrainsetConfig | None = None, *, console: Console | None = None) -> TrainingSet:
    """Snapshots, labels, exclusions and the out-of-time split for the universe under `home`."""
    from puhui.indicators.library import IndicatorType, Risk, default_library

    cfg = config or TrainsetConfig()
    home = Path(home)
    months = _history(home)
    train_m, test_m = snapshot_dates(months, cfg)
    lib = default_library()
    ents = pq.read_table(home / "truth" / "enterprises",
                         columns=["uscc", "industry", "founding_date", "default_onset_month"]).to_pandas()  # fmt: skip
    ents = ents.set_index("uscc")
    panel = pq.read_table(home / "truth" / "health_monthly",
                          columns=["uscc", "month", "at_risk", "in_default", "pd_12m"]).to_pandas()  # fmt: skip
    panel["month"] = pd.to_datetime(panel["month"]).dt.date
    frames, excl = [], []
    for m in [*train_m, *test_m]:
        as_of = month_end(m)
        ind = _indicators(home, as_of, console)
        ind = ind.set_index("uscc")
        st = panel.loc[panel["month"] == m].set_index("uscc").reindex(ind.index)
        e = ents.reindex(ind.index)
        onset = pd.to_datetime(e["default_onset_month"]).dt.date
        founded = pd.to_datetime(e["founding_date"]).dt.date
        in_default = st["in_default"].fillna(False).astype(bool).to_numpy()
        exited = (~st["at_risk"].fillna(False).astype(bool).to_numpy() | st["pd_12m"].isna().to_numpy()) & ~in_default
        young = np.array([f is None or pd.isna(f) or f > _add_months(as_of, -cfg.min_age_months) for f in founded])
        young &= ~in_default & ~exited
        src = [c for c in ind.columns if c.startswith("src_") and not c.startswith("src_registration")]
        no_data = ~ind[src].any(axis=1).to_numpy() & ~in_default & ~exited & ~young
        keep = ~(in_default | exited | young | no_data)
        horizon_end = _add_months(m, cfg.horizon_months)
        label = np.array([o is not None and not pd.isna(o) and m < o <= horizon_end for o in onset], dtype=int)
        excl.append({"as_of": as_of, "registered": len(ind), "in_default": int(in_default.sum()),
                     "exited": int(exited.sum()), "too_young": int(young.sum()), "no_data": int(no_data.sum()),
                     "kept": int(keep.sum())})  # fmt: skip
        meta = pd.DataFrame({"uscc": ind.index, "as_of": pd.Timestamp(as_of), "label": label,
                             "true_pd_12m": st["pd_12m"].to_numpy(dtype=float), "industry": e["industry"].to_numpy(),
                             "split": "train" if m in train_m else "test"})  # fmt: skip
        frames.append(pd.concat([meta.loc[keep].reset_index(drop=True),
                                 ind.loc[keep].reset_index(drop=True)], axis=1))  # fmt: skip
    frame, exclusions = _hold_out(pd.concat(frames, ignore_index=True), pd.DataFrame(excl), cfg.holdout_fraction)
    kinds: dict[str, str] = {}
    trends: dict[str, str] = {}
    by_id = {i.id: i for i in lib.indicators}
    for c in frame.columns:
        if c in META_COLUMNS:
            continue
        ind_def = by_id.get(c)
        is_text = ind_def is not None and ind_def.type == IndicatorType.CODE
        if is_text and frame[c].nunique() > MAX_CATEGORIES:
            continue
        kinds[c] = "categorical" if is_text else "numerical"
        if ind_def is not None and not is_text and ind_def.risk != Risk.NONE:
            trends[c] = "ascending" if ind_def.risk == Risk.HIGHER else "descending"
    feats = list(kinds)
    frame = pd.concat([frame[list(META_COLUMNS)], _to_model_dtypes(frame[feats], kinds)], axis=1)
    frame["industry"] = frame["industry"].astype(str)
    return TrainingSet(frame=frame, features=feats, kinds=kinds, trends=trends, exclusions=exclusions,
                       train_as_of=[month_end(m) for m in train_m], test_as_of=[month_end(m) for m in test_m],
                       config=cfg)  # fmt: skip
