"""Model scores for decisions (模型评分): a registry model (scorecard or GBM) over facts → `ModelResult`s.

`score_facts(model, data, name=..., version=...)` scores one or many enterprises given as a Polars or
pandas frame (e.g. `facts.facts_frame`) or a sequence of `Facts`, and returns one `ModelResult` per row:
calibrated PD, the scorecard's points (None for a GBM) and the top-k adverse factors in Chinese and
English (the scorecard's points lost, the GBM's positive contributions). Features are typed as the
models were trained (`puhui.models.trainset`): text indicators (type `code`) stay text with None for
missing, everything else becomes float64 (Decimals and booleans included). `score_registered` does the
same for a `puhui.models.registry.RegisteredModel`, naming the result by its name and version.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from functools import cache
from typing import TYPE_CHECKING, Any

from puhui.decisioning.engine import Facts, ModelResult

if TYPE_CHECKING:
    import pandas as pd

__all__ = ["model_frame", "score_facts", "score_registered"]


@cache
def _text_indicators() -> frozenset[str]:
    from puhui.decisioning.scenario import _library_names

    _, _, kinds = _library_names()
    return frozenset(k for k, v in kinds.items() if v == "text")


def model_frame(features: Sequence[str], data: Any) -> pd.DataFrame:
    """A pandas frame of exactly `features`, typed for the models, from a frame or a sequence of Facts."""
    import pandas as pd

    if isinstance(data, Sequence) and (not data or isinstance(data[0], Facts)):
        raw = pd.DataFrame([{f: fa.value(f) for f in features} for fa in data], columns=list(features))
    elif hasattr(data, "to_pandas"):  # polars
        raw = data.select(list(features)).to_pandas()
    else:
        raw = data[list(features)]
    text = _text_indicators()
    out = {}
    for c in features:
        s = raw[c]
        if c in text or (s.dtype == object and s.map(lambda v: isinstance(v, str)).any()):
            out[c] = s.astype(object).where(s.notna(), None)
        else:
            out[c] = pd.to_numeric(s.astype(object), errors="coerce").astype("float64")
    return pd.DataFrame(out, index=raw.index)


def score_facts(model: Any, data: Any, *, name: str = "sme_pd", version: str = "", reasons: bool = True,
                k: int = 4) -> list[ModelResult]:  # fmt: skip
    """One `ModelResult` per row of `data` from a fitted `Scorecard` or `GBMModel`."""
    frame = model_frame(model.features, data)
    pds = model.predict_pd(frame)
    scores = model.score(frame) if hasattr(model, "score") else None
    why = model.reasons(frame, k=k) if reasons else [[] for _ in range(len(frame))]
    return [ModelResult(name=name, version=version, pd=float(pds[i]),
                        score=None if scores is None else float(scores[i]),
                        reasons=tuple(_plain(r) for r in why[i])) for i in range(len(frame))]  # fmt: skip


def score_registered(registered: Any, data: Any, *, reasons: bool = True, k: int = 4) -> list[ModelResult]:
    """`score_facts` with a registry entry's model, name and version."""
    return score_facts(registered.load(), data, name=registered.name, version=registered.version, reasons=reasons,
                       k=k)  # fmt: skip


def _plain(d: dict[str, Any]) -> dict[str, Any]:
    """A reason dict with plain JSON values (numpy scalars → Python), so decisions round-trip exactly."""
    out = {}
    for key, raw in d.items():
        v = raw.item() if hasattr(raw, "item") else raw
        out[key] = None if isinstance(v, float) and math.isnan(v) else v
    return out
