"""Shadow scoring (影子模式): challengers score the same enterprises beside the champion, without deciding.

Owns the side-by-side run and its comparison. `shadow_score` loads the champion and every shadow
challenger of a model name from the registry, scores one frame with each (PD for both kinds, points for a
scorecard, a grade from the PD master scale), stores every score in `shadow_scores` under one run id, and
summarises each challenger against the champion with `compare_scores`: Spearman rank correlation of the
PDs, the share of rows whose grade changes (and up/down), the grade migration matrix, the mean PD of each,
and — when the frame carries a `label` column — both AUCs. `compare_scores` is pure, so retraining uses
the same comparison on its out-of-time test rows.

Grades: the internal master scale of `puhui.models.monitoring` (`monitoring.yaml`; a scenario's own grades
live in decisioning), unless the caller passes a `grade` function; the summary names the scale used.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from datetime import date
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from scipy.stats import spearmanr
from sqlalchemy import Engine, insert, select

from puhui.core.errors import Conflict, ValidationError
from puhui.models import metrics
from puhui.models.registry import DEFAULT_NAME, RegisteredModel, challengers, champion
from puhui.models.scorecard import Scorecard
from puhui.models.store import ShadowScoreRow
from puhui.store.db import transaction

__all__ = ["compare_scores", "grade_pd", "indicator_frame", "shadow_score", "shadow_score_as_of", "shadow_scores"]

Grader = Callable[[np.ndarray], np.ndarray]


def grade_pd(pd_: np.ndarray) -> np.ndarray:
    """The master-scale grade of each PD (`puhui.models.monitoring.grade_of`, scale in monitoring.yaml)."""
    from puhui.models.monitoring import grade_of

    return np.asarray(grade_of(np.asarray(pd_, dtype=float)), dtype=str)


def compare_scores(champion_pd: np.ndarray, challenger_pd: np.ndarray, *, grade: Grader = grade_pd,
                   labels: np.ndarray | None = None) -> dict[str, Any]:  # fmt: skip
    """Agreement of a challenger with the champion on the same rows (pure)."""
    a = np.asarray(champion_pd, dtype=float)
    b = np.asarray(challenger_pd, dtype=float)
    if a.shape != b.shape or a.size == 0:
        raise ValidationError(f"champion and challenger need the same, non-empty rows ({a.size} vs {b.size})",
                              code="length_mismatch")  # fmt: skip
    ga, gb = grade(a), grade(b)
    # grades ranked by the lowest PD seen in each (safest first), whatever their names
    low: dict[str, float] = {}
    for g, p in zip([*ga.tolist(), *gb.tolist()], [*a.tolist(), *b.tolist()], strict=True):
        low[g] = min(low.get(g, p), p)
    order = {g: i for i, g in enumerate(sorted(low, key=lambda g: (low[g], str(g))))}
    ia = np.array([order[g] for g in ga.tolist()])
    ib = np.array([order[g] for g in gb.tolist()])
    rho = spearmanr(a, b).statistic if a.size > 1 and a.std() > 0 and b.std() > 0 else float("nan")
    migration = pd.crosstab(pd.Series(ga, name="champion"), pd.Series(gb, name="challenger"))
    out: dict[str, Any] = {
        "rows": int(a.size),
        "rank_correlation": None if np.isnan(rho) else float(rho),
        "grade_changed_share": float(np.mean(ga != gb)),
        "grade_worse_share": float(np.mean(ib > ia)),
        "grade_better_share": float(np.mean(ib < ia)),
        "mean_pd_champion": float(a.mean()),
        "mean_pd_challenger": float(b.mean()),
        "migration": {str(r): {str(c): int(v) for c, v in row.items() if v} for r, row in migration.iterrows()},
    }
    if labels is not None:
        y = np.asarray(labels, dtype=int)
        if 0 < y.sum() < y.size:
            out["auc_champion"] = metrics.auc(y, a)
            out["auc_challenger"] = metrics.auc(y, b)
    return out


def _score(model: RegisteredModel, frame: pd.DataFrame) -> tuple[np.ndarray, np.ndarray | None]:
    obj = model.load()
    if isinstance(obj, Scorecard):
        points = obj.score(frame, allow_extra=True)
        return obj.pd_from_score(points), points
    return obj.predict_pd(frame, allow_extra=True), None


def shadow_score(engine: Engine, frame: pd.DataFrame, *, name: str = DEFAULT_NAME, entity_column: str = "uscc",
                 as_of: date | None = None, store: bool = True, grade: Grader | None = None,
                 home: Path | None = None) -> dict[str, Any]:  # fmt: skip
    """Score `frame` with the champion and every shadow challenger of `name`; store and compare.

    Returns `{"run_id", "name", "champion", "challengers": [{version, ...compare_scores}], "grade_scale",
    "stored"}`. 409 `no_champion` when the name has no champion; a missing feature column is a 422 naming it.
    """
    champ = champion(engine, name, home=home)
    if champ is None:
        raise Conflict(f"{name} has no champion: promote a version before shadow scoring", code="no_champion",
                       name=name)  # fmt: skip
    if entity_column not in frame.columns:
        raise ValidationError(f"the frame has no {entity_column!r} column to key the scores", code="missing_column",
                              column=entity_column)  # fmt: skip
    grader, scale = (grade, "caller") if grade is not None else (grade_pd, "monitoring.yaml master_scale")
    models = [champ, *challengers(engine, name, home=home)]
    scored = {m.version: _score(m, frame) for m in models}
    labels = frame["label"].to_numpy() if "label" in frame.columns else None
    run_id = uuid.uuid4().hex
    ids = frame[entity_column].astype(str).to_numpy()
    dates = (pd.to_datetime(frame["as_of"]).dt.date.to_numpy() if as_of is None and "as_of" in frame.columns
             else np.full(len(frame), as_of, dtype=object))  # fmt: skip
    grades = {v: grader(p) for v, (p, _) in scored.items()}
    if store:
        with transaction(engine) as s:
            for m in models:
                p, pts = scored[m.version]
                role = "champion" if m.version == champ.version else "challenger"
                rows = [{"run_id": run_id, "name": name, "version": m.version, "role": role, "entity_id": ids[i],
                         "as_of": dates[i], "pd": float(p[i]), "score": None if pts is None else float(pts[i]),
                         "grade": str(grades[m.version][i])} for i in range(len(frame))]  # fmt: skip
                if rows:
                    s.execute(insert(ShadowScoreRow), rows)
    base = scored[champ.version][0]
    out = []
    for m in models[1:]:
        cmp = compare_scores(base, scored[m.version][0], grade=grader, labels=labels)
        out.append({"version": m.version, "kind": m.kind, **cmp})
    return {"run_id": run_id, "name": name, "champion": {"version": champ.version, "kind": champ.kind,
            "mean_pd": float(base.mean()) if base.size else None}, "challengers": out, "grade_scale": scale,
            "rows": len(frame), "stored": len(frame) * len(models) if store else 0}  # fmt: skip


def shadow_scores(engine: Engine, run_id: str) -> pd.DataFrame:
    """The stored scores of one run (entity, version, role, PD, points, grade), in insertion order."""
    with transaction(engine, write=False) as s:
        rows = s.execute(select(ShadowScoreRow.entity_id, ShadowScoreRow.as_of, ShadowScoreRow.version,
                                ShadowScoreRow.role, ShadowScoreRow.pd, ShadowScoreRow.score, ShadowScoreRow.grade)
                         .where(ShadowScoreRow.run_id == run_id).order_by(ShadowScoreRow.id)).all()  # fmt: skip
    return pd.DataFrame(rows, columns=["entity_id", "as_of", "version", "role", "pd", "score", "grade"])


def indicator_frame(home: Path, as_of: date, *, console: Any = None) -> pd.DataFrame:
    """The indicator table of `as_of` (computed when missing) typed as the models were trained: text
    indicators as text with None for missing, everything else float64 (as `puhui.models.trainset`)."""
    import pyarrow.parquet as pq

    from puhui.indicators.batch import indicator_table_path, read_manifest, run_batch
    from puhui.indicators.library import IndicatorType, default_library

    folder = indicator_table_path(home, as_of)
    manifest = read_manifest(folder)
    if manifest is None or manifest.get("status") != "complete":
        run_batch(as_of, home=home, console=console)
    raw = pq.read_table(folder, partitioning=None).to_pandas()
    text = {i.id for i in default_library().indicators if i.type == IndicatorType.CODE}
    out = {"uscc": raw["uscc"].astype(str)}
    for c in raw.columns:
        if c == "uscc":
            continue
        s = raw[c]
        out[c] = (s.astype(object).where(s.notna(), None) if c in text
                  else pd.to_numeric(s.astype(object), errors="coerce").astype("float64"))  # fmt: skip
    frame = pd.DataFrame(out)
    frame["as_of"] = pd.Timestamp(as_of)
    return frame


def shadow_score_as_of(engine: Engine, home: Path, as_of: date, *, name: str = DEFAULT_NAME, store: bool = True,
                       console: Any = None) -> dict[str, Any]:  # fmt: skip
    """Shadow-score every enterprise of the indicator table of `as_of` (see `shadow_score`)."""
    frame = indicator_frame(Path(home), as_of, console=console)
    out = shadow_score(engine, frame, name=name, as_of=as_of, store=store, home=home)
    out["as_of"] = as_of.isoformat()
    return out
