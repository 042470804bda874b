"""Model registry tables (模型注册表): versions and their life cycle, promotion events, shadow scores.

`model_versions` holds one row per registered model version: its name (`sme_pd`), version id
(`sme_pd-v3`), kind (scorecard | gbm), state (candidate → champion → retired), whether it shadow-scores
beside the champion, where its artifact folder lies under PUHUI_HOME and the artifact's SHA-256, and the
full metadata document (features, bins, training-data fingerprint, metrics, reference profile). A partial
unique index allows **at most one champion per name** on both engines, behind the row locks that
`puhui.models.registry` takes. `model_events` is the append-only history of every register, promote,
rollback, retire and shadow switch, with actor and reason (the audit trail proper is `audit_log`; this
table is the model's own ledger, read to find the previous champion). `shadow_scores` keeps each score
of a shadow run, champion and challengers side by side, keyed by run id.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlalchemy import Boolean, CheckConstraint, Date, Float, Index, String, Text, text
from sqlalchemy.orm import Mapped, mapped_column

from puhui.store.audit import make_append_only
from puhui.store.base import Base, CreatedAtMixin, IdMixin, TimestampMixin, one_of
from puhui.store.types import JSON_TYPE, UTCDateTime

__all__ = [
    "APPEND_ONLY_TABLES",
    "EVENT_ACTIONS",
    "MODEL_KINDS",
    "MODEL_STATES",
    "ModelEventRow",
    "ModelVersionRow",
    "ShadowScoreRow",
]

MODEL_STATES = ("candidate", "champion", "retired")
MODEL_KINDS = ("scorecard", "gbm")
EVENT_ACTIONS = ("register", "promote", "rollback", "retire", "shadow_on", "shadow_off")
APPEND_ONLY_TABLES = ("model_events",)


_CHAMPION = text("state = 'champion'")


class ModelVersionRow(IdMixin, TimestampMixin, Base):
    """One registered model version and its state; `meta` is the metadata document (metadata.json)."""

    __tablename__ = "model_versions"
    __table_args__ = (
        one_of("state", MODEL_STATES),
        one_of("kind", MODEL_KINDS),
        Index(None, "name", "version", unique=True),
        # At most one champion per model name, on SQLite and PostgreSQL alike.
        Index("uq_model_versions_champion", "name", unique=True, sqlite_where=_CHAMPION, postgresql_where=_CHAMPION),
    )

    name: Mapped[str] = mapped_column(String(64))
    version: Mapped[str] = mapped_column(String(64))
    seq: Mapped[int] = mapped_column()
    kind: Mapped[str] = mapped_column(String(16))
    state: Mapped[str] = mapped_column(String(16), default="candidate")
    shadow: Mapped[bool] = mapped_column(Boolean(), default=True)
    author: Mapped[str] = mapped_column(String(128))
    artifact_path: Mapped[str] = mapped_column(String(400))  # relative to PUHUI_HOME
    artifact_sha256: Mapped[str] = mapped_column(String(64))
    features: Mapped[list[Any]] = mapped_column(JSON_TYPE)
    meta: Mapped[dict[str, Any]] = mapped_column(JSON_TYPE)
    promoted_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    retired_at: Mapped[datetime | None] = mapped_column(UTCDateTime())


@make_append_only
class ModelEventRow(IdMixin, CreatedAtMixin, Base):
    """One life-cycle event of a model name: who moved which version, from which champion, and why."""

    __tablename__ = "model_events"
    __table_args__ = (one_of("action", EVENT_ACTIONS),)

    name: Mapped[str] = mapped_column(String(64), index=True)
    version: Mapped[str] = mapped_column(String(64))
    action: Mapped[str] = mapped_column(String(16))
    previous_champion: Mapped[str | None] = mapped_column(String(64))
    actor: Mapped[str] = mapped_column(String(128))
    reason: Mapped[str] = mapped_column(Text())
    payload: Mapped[dict[str, Any]] = mapped_column(JSON_TYPE, default=dict)


class ShadowScoreRow(IdMixin, CreatedAtMixin, Base):
    """One row's score by one model version in a shadow run (champion and challengers share `run_id`)."""

    __tablename__ = "shadow_scores"
    __table_args__ = (
        CheckConstraint("role IN ('champion', 'challenger')", name="role"),
        Index(None, "name", "version"),
    )

    run_id: Mapped[str] = mapped_column(String(32), index=True)
    name: Mapped[str] = mapped_column(String(64))
    version: Mapped[str] = mapped_column(String(64))
    role: Mapped[str] = mapped_column(String(16))
    entity_id: Mapped[str] = mapped_column(String(64))
    as_of: Mapped[date | None] = mapped_column(Date())
    pd: Mapped[float] = mapped_column(Float())
    score: Mapped[float | None] = mapped_column(Float())
    grade: Mapped[str | None] = mapped_column(String(16))
