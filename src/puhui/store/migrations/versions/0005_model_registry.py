"""models: registry — model_versions (one champion per name), model_events (append-only), shadow_scores

The append-only triggers of model_events are added here: autogenerate cannot see them.

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-29 18:40:00
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import puhui.store.types
from puhui.store.audit import append_only_ddl, drop_append_only_ddl

revision: str = "0005"
down_revision: str | None = "0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_CHAMPION = sa.text("state = 'champion'")


def upgrade() -> None:
    op.create_table(
        "model_events",
        sa.Column("id", puhui.store.types.PK_TYPE, autoincrement=True, nullable=False),
        sa.Column("name", sa.String(length=64), nullable=False),
        sa.Column("version", sa.String(length=64), nullable=False),
        sa.Column("action", sa.String(length=16), nullable=False),
        sa.Column("previous_champion", sa.String(length=64), nullable=True),
        sa.Column("actor", sa.String(length=128), nullable=False),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("payload", puhui.store.types.JSON_TYPE, nullable=False),
        sa.Column("created_at", puhui.store.types.UTCDateTime(timezone=True), nullable=False),
        sa.CheckConstraint(
            "action IN ('register', 'promote', 'rollback', 'retire', 'shadow_on', 'shadow_off')",
            name=op.f("ck_model_events_action"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_model_events")),
    )
    with op.batch_alter_table("model_events", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_model_events_name"), ["name"], unique=False)

    op.create_table(
        "model_versions",
        sa.Column("id", puhui.store.types.PK_TYPE, autoincrement=True, nullable=False),
        sa.Column("name", sa.String(length=64), nullable=False),
        sa.Column("version", sa.String(length=64), nullable=False),
        sa.Column("seq", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("state", sa.String(length=16), nullable=False),
        sa.Column("shadow", sa.Boolean(), nullable=False),
        sa.Column("author", sa.String(length=128), nullable=False),
        sa.Column("artifact_path", sa.String(length=400), nullable=False),
        sa.Column("artifact_sha256", sa.String(length=64), nullable=False),
        sa.Column("features", puhui.store.types.JSON_TYPE, nullable=False),
        sa.Column("meta", puhui.store.types.JSON_TYPE, nullable=False),
        sa.Column("promoted_at", puhui.store.types.UTCDateTime(timezone=True), nullable=True),
        sa.Column("retired_at", puhui.store.types.UTCDateTime(timezone=True), nullable=True),
        sa.Column("created_at", puhui.store.types.UTCDateTime(timezone=True), nullable=False),
        sa.Column("updated_at", puhui.store.types.UTCDateTime(timezone=True), nullable=False),
        sa.CheckConstraint("kind IN ('scorecard', 'gbm')", name=op.f("ck_model_versions_kind")),
        sa.CheckConstraint("state IN ('candidate', 'champion', 'retired')", name=op.f("ck_model_versions_state")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_model_versions")),
    )
    with op.batch_alter_table("model_versions", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_model_versions_name_version"), ["name", "version"], unique=True)
        batch_op.create_index(
            "uq_model_versions_champion", ["name"], unique=True, sqlite_where=_CHAMPION, postgresql_where=_CHAMPION
        )

    op.create_table(
        "shadow_scores",
        sa.Column("id", puhui.store.types.PK_TYPE, autoincrement=True, nullable=False),
        sa.Column("run_id", sa.String(length=32), nullable=False),
        sa.Column("name", sa.String(length=64), nullable=False),
        sa.Column("version", sa.String(length=64), nullable=False),
        sa.Column("role", sa.String(length=16), nullable=False),
        sa.Column("entity_id", sa.String(length=64), nullable=False),
        sa.Column("as_of", sa.Date(), nullable=True),
        sa.Column("pd", sa.Float(), nullable=False),
        sa.Column("score", sa.Float(), nullable=True),
        sa.Column("grade", sa.String(length=16), nullable=True),
        sa.Column("created_at", puhui.store.types.UTCDateTime(timezone=True), nullable=False),
        sa.CheckConstraint("role IN ('champion', 'challenger')", name=op.f("ck_shadow_scores_role")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_shadow_scores")),
    )
    with op.batch_alter_table("shadow_scores", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_shadow_scores_name_version"), ["name", "version"], unique=False)
        batch_op.create_index(batch_op.f("ix_shadow_scores_run_id"), ["run_id"], unique=False)

    for stmt in append_only_ddl(op.get_bind().dialect.name, "model_events"):
        op.execute(stmt)


def downgrade() -> None:
    for stmt in drop_append_only_ddl(op.get_bind().dialect.name, "model_events"):
        op.execute(stmt)
    with op.batch_alter_table("shadow_scores", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_shadow_scores_run_id"))
        batch_op.drop_index(batch_op.f("ix_shadow_scores_name_version"))
    op.drop_table("shadow_scores")
    with op.batch_alter_table("model_versions", schema=None) as batch_op:
        batch_op.drop_index("uq_model_versions_champion", sqlite_where=_CHAMPION, postgresql_where=_CHAMPION)
        batch_op.drop_index(batch_op.f("ix_model_versions_name_version"))
    op.drop_table("model_versions")
    with op.batch_alter_table("model_events", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_model_events_name"))
    op.drop_table("model_events")
