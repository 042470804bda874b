"""The model registry (模型注册表): versioned artifacts with metadata, candidate → champion → retired.

Owns where a credit model lives once trained and which version decides. `register` writes the model's
files and a `metadata.json` under `<PUHUI_HOME>/models/registry/<name>/<version>/` and a `model_versions`
row; **version ids are sequential per name, `<name>-v<n>`** (`sme_pd-v1`, `sme_pd-v2`, …), readable in a
decision record and in a rollback. The artifact's SHA-256 (over the model files, not metadata.json) is kept
in the row and checked on first load, and registering the same artifact again under a name returns the
existing version instead of a copy. Metadata: features, bins (the scorecard's binning table with points, or
the GBM's features, kinds and monotone constraints), the training-data fingerprint (`frame_fingerprint`:
SHA-256 of the training frame's canonical bytes), metrics, author, created_at and a reference profile for
monitoring (`reference_profile`).

Life cycle, each step one transaction with its `model_events` row and its `audit_log` entry (actor and
reason; no four eyes): `promote` makes a candidate the champion and retires the previous champion;
`rollback` re-promotes the champion before the current one (the champion history is a stack replayed
from the events: promote pushes, rollback pops) and retires the current one; `retire` drops a candidate;
`set_shadow` switches a candidate's shadow scoring beside the champion. Concurrent actions on one name
serialise: every action locks the name (PostgreSQL: a transaction advisory lock plus `SELECT … FOR
UPDATE` of the name's rows; SQLite: `BEGIN IMMEDIATE`), and a partial unique index allows one champion
per name whatever happens. State-changing actions take an optional idempotency key (`Posted` answers, as
in `puhui.lending.service`).

Reading: `champion(engine, name)`, `get(engine, name, version)`, `list_versions`, `events`; a
`RegisteredModel.load()` returns the `Scorecard` or `GBMModel`, cached per artifact in-process, so only
the first load of a version reads files.
"""

from __future__ import annotations

import hashlib
import json
import math
import re
import shutil
import threading
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from sqlalchemy import Engine, select, text
from sqlalchemy.orm import Session, defer

from puhui.core.errors import Conflict, NotFound, ValidationError
from puhui.models.gbm import GBMModel
from puhui.models.scorecard import Scorecard
from puhui.models.store import MODEL_KINDS, MODEL_STATES, ModelEventRow, ModelVersionRow
from puhui.store import audit, idempotency
from puhui.store.db import transaction
from puhui.store.idempotency import Posted
from puhui.store.types import utcnow

__all__ = [
    "DEFAULT_NAME",
    "METADATA_FORMAT",
    "Posted",
    "RegisteredModel",
    "challengers",
    "champion",
    "clear_cache",
    "events",
    "frame_fingerprint",
    "get",
    "jsonable",
    "list_versions",
    "model_bins",
    "model_kind",
    "promote",
    "register",
    "registry_root",
    "retire",
    "rollback",
    "set_shadow",
]

DEFAULT_NAME = "sme_pd"
METADATA_FORMAT = "puhui.registry/1"
_NAME = re.compile(r"^[a-z][a-z0-9_]{0,47}$")
_MODEL_FILES = {"scorecard": ("scorecard.json",), "gbm": ("gbm.txt", "gbm.json")}

Model = Scorecard | GBMModel


# ---- the registered model ---------------------------------------------------------------------------

_CACHE: dict[tuple[str, str], Model] = {}
_CACHE_LOCK = threading.Lock()


@dataclass(frozen=True)
class RegisteredModel:
    """One registered version: identity, state, features, the metadata document, and where its files are.

    `metadata` and the object `load()` returns are shared per version within the process: read them, never
    change them.
    """

    name: str
    version: str
    kind: str
    state: str
    shadow: bool
    features: list[str]
    metadata: dict[str, Any] = field(repr=False)
    author: str
    created_at: datetime
    promoted_at: datetime | None
    retired_at: datetime | None
    artifact_dir: Path
    artifact_sha256: str

    def load(self) -> Model:
        """The Scorecard or GBMModel; read and hash-checked once per artifact, then served from memory."""
        key = (str(self.artifact_dir), self.artifact_sha256)
        with _CACHE_LOCK:
            hit = _CACHE.get(key)
        if hit is not None:
            return hit
        model = _load_artifact(self.artifact_dir, self.kind, self.artifact_sha256)
        with _CACHE_LOCK:
            return _CACHE.setdefault(key, model)

    def to_json(self, *, with_metadata: bool = False) -> dict[str, Any]:
        out = {
            "name": self.name, "version": self.version, "kind": self.kind, "state": self.state,
            "shadow": self.shadow, "features": list(self.features), "author": self.author,
            "created_at": self.created_at.isoformat(),
            "promoted_at": self.promoted_at.isoformat() if self.promoted_at else None,
            "retired_at": self.retired_at.isoformat() if self.retired_at else None,
            "artifact_sha256": self.artifact_sha256, "metrics": self.metadata.get("metrics", {}),
            "training_data": self.metadata.get("training_data", {}),
        }  # fmt: skip
        if with_metadata:
            out["metadata"] = self.metadata
        return out


def clear_cache() -> None:
    """Forget every loaded model (tests; a server never needs it: artifacts are immutable)."""
    with _CACHE_LOCK:
        _CACHE.clear()


def _files_sha256(directory: Path, kind: str) -> tuple[str, dict[str, str]]:
    files = {}
    for fname in _MODEL_FILES[kind]:
        path = directory / fname
        if not path.is_file():
            raise NotFound(f"model artifact file {path} is missing", code="artifact_missing", path=str(path))
        files[fname] = hashlib.sha256(path.read_bytes()).hexdigest()
    blob = json.dumps(files, sort_keys=True, separators=(",", ":")).encode()
    return hashlib.sha256(blob).hexdigest(), files


def _load_artifact(directory: Path, kind: str, sha256: str) -> Model:
    got, _ = _files_sha256(directory, kind)
    if got != sha256:
        raise ValidationError(f"model artifact {directory} does not match its registered SHA-256 (changed on disk)",
                              code="artifact_corrupt", path=str(directory), expected=sha256, found=got)  # fmt: skip
    if kind == "scorecard":
        return Scorecard.load(directory / "scorecard.json")
    model = GBMModel.load(directory)
    _ = model.booster  # parse the booster now, not on the first request
    return model


def model_kind(model: Any) -> str:
    if isinstance(model, Scorecard):
        return "scorecard"
    if isinstance(model, GBMModel):
        return "gbm"
    raise ValidationError(f"cannot register a {type(model).__name__}: a Scorecard or GBMModel is required",
                          code="unsupported_model")  # fmt: skip


def registry_root(home: Path | None = None) -> Path:
    """`<home>/models/registry` (home defaults to PUHUI_HOME)."""
    from puhui.config import paths

    return Path(home if home is not None else paths().home) / "models" / "registry"


def _home(home: Path | None) -> Path:
    from puhui.config import paths

    return Path(home) if home is not None else paths().home


# ---- metadata: fingerprint, bins, reference profile --------------------------------------------------


def frame_fingerprint(frame: pd.DataFrame) -> str:
    """SHA-256 of a frame's canonical bytes: equal data → equal digest, whatever the column order or index.

    Layout (format `puhui.frame/1`): the header `puhui.frame/1\\n<rows>\\n`, then per column in sorted name
    order the JSON line `[name, tag]\\n` and its values — tag `f`: numbers and booleans as little-endian
    float64 (−0.0 as 0.0, every missing value as the one quiet NaN 0x7ff8000000000000); tag `t`: datetimes as
    little-endian int64 nanoseconds (missing: int64 minimum); tag `s`: anything else as the compact JSON
    array of its text forms (missing: null) — then `\\n`. Rows keep their order (the fit depends on it).
    """
    h = hashlib.sha256(f"puhui.frame/1\n{len(frame)}\n".encode())
    for name in sorted(frame.columns, key=str):
        s = frame[name]
        if pd.api.types.is_bool_dtype(s) or pd.api.types.is_numeric_dtype(s):
            tag = "f"
            x = s.to_numpy(dtype=float, na_value=np.nan) + 0.0  # + 0.0 turns −0.0 into 0.0
            x = np.where(np.isnan(x), np.nan, x).astype("<f8")
            body = x.tobytes()
        elif pd.api.types.is_datetime64_any_dtype(s):
            tag = "t"
            t = pd.to_datetime(s)
            if t.dt.tz is not None:
                t = t.dt.tz_convert("UTC").dt.tz_localize(None)
            body = t.astype("datetime64[ns]").to_numpy().view("<i8").tobytes()
        else:
            tag = "s"
            vals = [None if v is None or (isinstance(v, float) and math.isnan(v)) or v is pd.NA or v is pd.NaT
                    else str(v) for v in s.tolist()]  # fmt: skip
            body = json.dumps(vals, ensure_ascii=False, separators=(",", ":")).encode()
        h.update(json.dumps([str(name), tag], ensure_ascii=False).encode() + b"\n")
        h.update(body)
        h.update(b"\n")
    return h.hexdigest()


def model_bins(model: Model) -> dict[str, Any]:
    """The scorecard's binning table (bins, WoE, points) or the GBM's features, kinds and monotone constraints."""
    if isinstance(model, Scorecard):
        return {"kind": "scorecard", "features": list(model.features),
                "binning": [model.bins[f].to_dict() for f in model.features], "points": model.points,
                "table": jsonable(model.table().to_dict(orient="records")),
                "scaling": {"base_score": model.base_score, "base_odds": model.base_odds,
                            "pdo": model.pdo}}  # fmt: skip
    return {"kind": "gbm", "features": list(model.features), "kinds": dict(model.kinds),
            "monotone": {f: int(c) for f, c in zip(model.features, model.monotone, strict=True)},
            "categories": model.categories, "best_iteration": model.best_iteration,
            "calibrator": model.calibrator.get("kind")}  # fmt: skip


def _reference(model: Model, training: pd.DataFrame | None, performance: dict[str, Any] | None) -> dict | None:
    """The release profile in monitoring's format (see `puhui.models.monitoring.reference_profile`)."""
    if training is None:
        return None
    from puhui.models.monitoring import reference_profile

    ref = reference_profile(model, training)
    if performance is not None:
        ref["performance"] = dict(performance)
    return ref


def jsonable(obj: Any) -> Any:
    """Plain JSON values: numpy scalars to Python, NaN/±inf to None, tuples to lists, Decimals to float."""
    if isinstance(obj, dict):
        return {str(k): jsonable(v) for k, v in obj.items()}
    if isinstance(obj, list | tuple):
        return [jsonable(v) for v in obj]
    if isinstance(obj, np.generic):
        obj = obj.item()
    if isinstance(obj, Decimal):
        obj = float(obj)
    if isinstance(obj, float) and not math.isfinite(obj):
        return None
    if isinstance(obj, datetime | pd.Timestamp):
        return obj.isoformat()
    return obj


def _floats(obj: Any) -> Any:
    """The store reads JSON fractions back as Decimal; metadata is float data (exact: both parse the text)."""
    if isinstance(obj, dict):
        return {k: _floats(v) for k, v in obj.items()}
    if isinstance(obj, list):
        return [_floats(v) for v in obj]
    return float(obj) if isinstance(obj, Decimal) else obj


# ---- reading ----------------------------------------------------------------------------------------


_META: dict[tuple[str, str, str, str], dict[str, Any]] = {}


def _metadata(row: ModelVersionRow) -> dict[str, Any]:
    """The row's metadata document; read (a deferred column) and converted once per version, as it never
    changes after registration — so `champion()` on the decision path is one small indexed query."""
    key = (row.name, row.version, row.artifact_sha256, row.created_at.isoformat())  # unique across databases too
    hit = _META.get(key)
    if hit is None:
        hit = _META.setdefault(key, _floats(row.meta))
    return hit


def _model(row: ModelVersionRow, home: Path | None) -> RegisteredModel:
    return RegisteredModel(name=row.name, version=row.version, kind=row.kind, state=row.state, shadow=row.shadow,
                           features=[str(f) for f in row.features], metadata=_metadata(row), author=row.author,
                           created_at=row.created_at, promoted_at=row.promoted_at, retired_at=row.retired_at,
                           artifact_dir=_home(home) / row.artifact_path,
                           artifact_sha256=row.artifact_sha256)  # fmt: skip


def _check_name(name: str) -> str:
    if not isinstance(name, str) or not _NAME.match(name):
        raise ValidationError(f"model name {name!r} must be 1–48 of a-z, 0-9 and _, starting with a letter",
                              code="invalid_model_name", field="name")  # fmt: skip
    return name


def _rows(s: Session, name: str, *, lock: bool = False) -> list[ModelVersionRow]:
    stmt = (select(ModelVersionRow).options(defer(ModelVersionRow.meta)).where(ModelVersionRow.name == name)
            .order_by(ModelVersionRow.seq).execution_options(populate_existing=True))  # fmt: skip
    if lock:
        stmt = stmt.with_for_update()
    return list(s.scalars(stmt))


def _unknown_name(name: str) -> NotFound:
    return NotFound(f"no model named {name!r} is registered", code="unknown_model", name=name)


def _find(rows: list[ModelVersionRow], name: str, version: str) -> ModelVersionRow:
    if not rows:
        raise _unknown_name(name)
    row = next((r for r in rows if r.version == version), None)
    if row is None:
        raise NotFound(f"model {name!r} has no version {version!r}", code="unknown_version", name=name,
                       version=version, known=[r.version for r in rows][-20:])  # fmt: skip
    return row


def get(engine: Engine, name: str, version: str, *, home: Path | None = None) -> RegisteredModel:
    """One version (NotFound `unknown_model` / `unknown_version`)."""
    with transaction(engine, write=False) as s:
        return _model(_find(_rows(s, name), name, version), home)


def champion(engine: Engine, name: str = DEFAULT_NAME, *, home: Path | None = None) -> RegisteredModel | None:
    """The champion of `name`, or None when no version has been promoted (or the name is unknown)."""
    with transaction(engine, write=False) as s:
        stmt = select(ModelVersionRow).options(defer(ModelVersionRow.meta)).where(
            ModelVersionRow.name == name, ModelVersionRow.state == "champion")  # fmt: skip
        row = s.scalars(stmt).one_or_none()
        return None if row is None else _model(row, home)


def list_versions(engine: Engine, name: str | None = None, *, state: str | None = None,
                  home: Path | None = None) -> list[RegisteredModel]:  # fmt: skip
    """Versions, by name then sequence; filtered by name and state (NotFound for an unknown name)."""
    if state is not None and state not in MODEL_STATES:
        raise ValidationError(f"state {state!r} is not one of {MODEL_STATES}", code="invalid_state", field="state")
    stmt = select(ModelVersionRow).options(defer(ModelVersionRow.meta)).order_by(ModelVersionRow.name,
                                                                                 ModelVersionRow.seq)  # fmt: skip
    if name is not None:
        stmt = stmt.where(ModelVersionRow.name == name)
    with transaction(engine, write=False) as s:
        rows = list(s.scalars(stmt))
        if name is not None and not rows:
            raise _unknown_name(name)
        return [_model(r, home) for r in rows if state is None or r.state == state]


def challengers(engine: Engine, name: str = DEFAULT_NAME, *, home: Path | None = None) -> list[RegisteredModel]:
    """Candidates of `name` that shadow-score beside the champion."""
    with transaction(engine, write=False) as s:
        rows = list(s.scalars(select(ModelVersionRow).options(defer(ModelVersionRow.meta)).where(
            ModelVersionRow.name == name, ModelVersionRow.state == "candidate", ModelVersionRow.shadow.is_(True))
            .order_by(ModelVersionRow.seq)))  # fmt: skip
        return [_model(r, home) for r in rows]


def events(engine: Engine, name: str) -> list[dict[str, Any]]:
    """The life-cycle events of `name`, oldest first."""
    with transaction(engine, write=False) as s:
        rows = list(s.scalars(select(ModelEventRow).where(ModelEventRow.name == name).order_by(ModelEventRow.id)))
        if not rows and not _rows(s, name):
            raise _unknown_name(name)
    return [{"id": r.id, "at": r.created_at.isoformat(), "version": r.version, "action": r.action,
             "previous_champion": r.previous_champion, "actor": r.actor, "reason": r.reason,
             "payload": _floats(r.payload)} for r in rows]  # fmt: skip


# ---- writing ----------------------------------------------------------------------------------------


def _lock_name(s: Session, name: str) -> None:
    """Serialise every writer of one model name (SQLite: BEGIN IMMEDIATE already holds the database)."""
    if s.get_bind().dialect.name == "postgresql":
        s.execute(text("SELECT pg_advisory_xact_lock(hashtextextended(:k, 0))"), {"k": f"puhui.models:{name}"})


def _text(value: str, what: str, limit: int) -> str:
    t = (value or "").strip()
    if not t or len(t) > limit:
        raise ValidationError(f"{what} must be 1–{limit} characters", code=f"invalid_{what}", field=what)
    return t


def _event(s: Session, *, name: str, version: str, action: str, actor: str, reason: str,
           previous: str | None = None, payload: dict[str, Any] | None = None) -> ModelEventRow:  # fmt: skip
    row = ModelEventRow(name=name, version=version, action=action, previous_champion=previous, actor=actor,
                        reason=reason, payload=payload or {})  # fmt: skip
    s.add(row)
    audit.record(s, actor=actor, action=f"model_{action}", entity="model_version", entity_id=version,
                 payload={"name": name, "previous_champion": previous, "reason": reason,
                          **(payload or {})})  # fmt: skip
    return row


def register(engine: Engine, model: Model, *, name: str = DEFAULT_NAME, author: str,
             training: pd.DataFrame | None = None, metrics: dict[str, Any] | None = None,
             performance: dict[str, Any] | None = None, extra: dict[str, Any] | None = None, shadow: bool = True,
             reason: str = "registered", home: Path | None = None) -> RegisteredModel:  # fmt: skip
    """Register `model` as a new candidate of `name` (or return the version already holding this artifact).

    `training` is the training frame (features and label as used for the fit): its fingerprint and the
    reference profile (`puhui.models.monitoring.reference_profile`, the format monitoring reads) come from
    it; without it both are None. `performance` becomes `reference["performance"]`, the release numbers
    monitoring compares matured cohorts with (retrain passes the out-of-time test AUC, Gini, KS, bad rate,
    rows, mean PD). `metrics` are the model's evaluation numbers; `extra` is merged into the metadata.
    """
    _check_name(name)
    author = _text(author, "author", 128)
    kind = model_kind(model)
    root = registry_root(home) / name
    tmp = root / f".tmp-{uuid.uuid4().hex}"
    tmp.mkdir(parents=True)
    try:
        if isinstance(model, Scorecard):
            model.save(tmp / "scorecard.json")
        else:
            model.save(tmp)
        sha, files = _files_sha256(tmp, kind)
        created = utcnow()
        base = {
            "format": METADATA_FORMAT, "kind": kind, "features": list(model.features), "inputs": list(model.inputs),
            "bins": model_bins(model),
            "training_data": ({"sha256": frame_fingerprint(training), "rows": len(training),
                               "columns": len(training.columns), "fingerprint_format": "puhui.frame/1"}
                              if training is not None else None),
            "metrics": jsonable(metrics or {}), "author": author, "created_at": created.isoformat(),
            "reference": _reference(model, training, performance),
            "artifact": {"sha256": sha, "files": files}, **jsonable(extra or {}),
        }  # fmt: skip
        with transaction(engine) as s:
            _lock_name(s, name)
            rows = _rows(s, name, lock=True)
            same = next((r for r in rows if r.artifact_sha256 == sha), None)
            if same is not None:
                return _model(same, home)
            seq = max((r.seq for r in rows), default=0) + 1
            version = f"{name}-v{seq}"
            meta = jsonable({**base, "name": name, "version": version})
            (tmp / "metadata.json").write_text(json.dumps(meta, ensure_ascii=False, indent=1), encoding="utf-8")
            final = root / version
            if final.exists():  # files of a registration that never committed (we hold the name's lock)
                shutil.rmtree(final)
            tmp.rename(final)
            try:
                row = ModelVersionRow(name=name, version=version, seq=seq, kind=kind, state="candidate",
                                      shadow=shadow, author=author, artifact_path=str(final.relative_to(_home(home))),
                                      artifact_sha256=sha, features=list(model.features), meta=meta,
                                      created_at=created)  # fmt: skip
                s.add(row)
                _event(s, name=name, version=version, action="register", actor=author,
                       reason=_text(reason, "reason", 2000), payload={"kind": kind, "artifact_sha256": sha})
                s.flush()
            except BaseException:
                shutil.rmtree(final, ignore_errors=True)
                raise
        return _model(row, home)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


def _scope(actor: str, action: str) -> str:
    return f"{actor}:models.{action}"[:200]


def _act(engine: Engine, *, actor: str, action: str, key: str | None, request: dict[str, Any],
         work: Callable[[Session], dict[str, Any]]) -> Posted:  # fmt: skip
    return idempotency.run_once(engine, scope=_scope(actor, action), action=f"models.{action}", key=key,
                                request=request, status=200, work=work)  # fmt: skip


def _champion_stack(s: Session, name: str) -> list[str]:
    """Champions in order, replayed from the events: promote pushes, rollback pops (top = current)."""
    stack: list[str] = []
    for ev in s.scalars(select(ModelEventRow).where(ModelEventRow.name == name,
                                                    ModelEventRow.action.in_(("promote", "rollback")))
                        .order_by(ModelEventRow.id)):  # fmt: skip
        if ev.action == "promote":
            stack.append(ev.version)
        elif stack:
            stack.pop()
    return stack


def _summary(row: ModelVersionRow, previous: str | None, action: str, event: ModelEventRow) -> dict[str, Any]:
    return {"name": row.name, "version": row.version, "state": row.state, "action": action,
            "previous_champion": previous, "event_id": event.id}  # fmt: skip


def promote(engine: Engine, name: str, version: str, *, actor: str, reason: str,
            idempotency_key: str | None = None, only_if_no_champion: bool = False) -> Posted:  # fmt: skip
    """Make `version` the champion of `name`; the previous champion is retired. 409 `already_champion` or
    `version_retired` when the version cannot be promoted (roll back to bring a former champion back);
    with `only_if_no_champion`, 409 `champion_exists` when another version is champion (checked under the
    name's lock, so a first champion is never promoted over one that appeared meanwhile)."""
    actor, reason = _text(actor, "actor", 128), _text(reason, "reason", 2000)

    def work(s: Session) -> dict[str, Any]:
        _lock_name(s, name)
        rows = _rows(s, name, lock=True)
        row = _find(rows, name, version)
        if row.state == "champion":
            raise Conflict(f"{version} is already the champion of {name}", code="already_champion",
                           name=name, version=version)  # fmt: skip
        if row.state == "retired":
            raise Conflict(f"{version} is retired; register it again or roll back to bring a former champion back",
                           code="version_retired", name=name, version=version)  # fmt: skip
        now = utcnow()
        current = next((r for r in rows if r.state == "champion"), None)
        if current is not None and only_if_no_champion:
            raise Conflict(f"{name} already has a champion ({current.version})", code="champion_exists", name=name,
                           champion=current.version)  # fmt: skip
        if current is not None:
            current.state, current.retired_at = "retired", now
            s.flush()  # the old champion steps down before the new one takes the unique champion slot
        row.state, row.promoted_at, row.shadow = "champion", now, False
        ev = _event(s, name=name, version=version, action="promote", actor=actor, reason=reason,
                    previous=current.version if current else None)  # fmt: skip
        s.flush()
        return _summary(row, current.version if current else None, "promote", ev)

    return _act(engine, actor=actor, action="promote", key=idempotency_key,
                request={"name": name, "version": version, "reason": reason, "only_if_no_champion":
                         only_if_no_champion}, work=work)  # fmt: skip


def rollback(engine: Engine, name: str, *, actor: str, reason: str, idempotency_key: str | None = None) -> Posted:
    """Re-promote the champion before the current one and retire the current one. 409 `no_champion` when
    nothing is champion, `no_previous_champion` when the current champion is the first."""
    actor, reason = _text(actor, "actor", 128), _text(reason, "reason", 2000)

    def work(s: Session) -> dict[str, Any]:
        _lock_name(s, name)
        rows = _rows(s, name, lock=True)
        if not rows:
            raise _unknown_name(name)
        current = next((r for r in rows if r.state == "champion"), None)
        if current is None:
            raise Conflict(f"{name} has no champion to roll back", code="no_champion", name=name)
        stack = _champion_stack(s, name)
        if len(stack) < 2 or stack[-1] != current.version:
            raise Conflict(f"{name} has no previous champion to roll back to ({current.version} is the first)",
                           code="no_previous_champion", name=name, champion=current.version)  # fmt: skip
        target = _find(rows, name, stack[-2])
        now = utcnow()
        current.state, current.retired_at = "retired", now
        s.flush()
        target.state, target.promoted_at, target.retired_at = "champion", now, None
        ev = _event(s, name=name, version=target.version, action="rollback", actor=actor, reason=reason,
                    previous=current.version)  # fmt: skip
        s.flush()
        return _summary(target, current.version, "rollback", ev)

    return _act(engine, actor=actor, action="rollback", key=idempotency_key,
                request={"name": name, "reason": reason}, work=work)  # fmt: skip


def retire(engine: Engine, name: str, version: str, *, actor: str, reason: str,
           idempotency_key: str | None = None) -> Posted:  # fmt: skip
    """Retire a candidate (it stops shadow-scoring and can no longer be promoted). The champion is retired
    only by promoting another version or rolling back (409 `champion_retire`)."""
    actor, reason = _text(actor, "actor", 128), _text(reason, "reason", 2000)

    def work(s: Session) -> dict[str, Any]:
        _lock_name(s, name)
        row = _find(_rows(s, name, lock=True), name, version)
        if row.state != "candidate":
            code = "champion_retire" if row.state == "champion" else "version_retired"
            raise Conflict(f"{version} is {row.state}; only a candidate can be retired", code=code, name=name,
                           version=version)  # fmt: skip
        row.state, row.retired_at, row.shadow = "retired", utcnow(), False
        ev = _event(s, name=name, version=version, action="retire", actor=actor, reason=reason)
        s.flush()
        return _summary(row, None, "retire", ev)

    return _act(engine, actor=actor, action="retire", key=idempotency_key,
                request={"name": name, "version": version, "reason": reason}, work=work)  # fmt: skip


def set_shadow(engine: Engine, name: str, version: str, on: bool, *, actor: str, reason: str,
               idempotency_key: str | None = None) -> Posted:  # fmt: skip
    """Switch a candidate's shadow scoring beside the champion on or off (409 for a champion or retired one)."""
    actor, reason = _text(actor, "actor", 128), _text(reason, "reason", 2000)

    def work(s: Session) -> dict[str, Any]:
        _lock_name(s, name)
        row = _find(_rows(s, name, lock=True), name, version)
        if row.state != "candidate":
            raise Conflict(f"{version} is {row.state}; only candidates shadow-score", code="not_a_candidate",
                           name=name, version=version)  # fmt: skip
        row.shadow = bool(on)
        ev = _event(s, name=name, version=version, action="shadow_on" if on else "shadow_off", actor=actor,
                    reason=reason)  # fmt: skip
        s.flush()
        return {**_summary(row, None, ev.action, ev), "shadow": row.shadow}

    return _act(engine, actor=actor, action="shadow", key=idempotency_key,
                request={"name": name, "version": version, "on": bool(on), "reason": reason}, work=work)  # fmt: skip


assert set(_MODEL_FILES) == set(MODEL_KINDS)
