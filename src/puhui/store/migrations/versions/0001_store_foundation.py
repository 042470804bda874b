"""store foundation: the append-only audit trail and idempotency keys

Revision ID: 0001
Revises:
Create Date: 2026-11-29
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from puhui.store.audit import PG_REFUSE_FUNCTION, append_only_ddl, drop_append_only_ddl
from puhui.store.types import JSON_TYPE, PK_TYPE, UTCDateTime

revision: str = "0001"
down_revision: str | None = None
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "audit_log",
        sa.Column("id", PK_TYPE, autoincrement=True, nullable=False),
        sa.Column("at", UTCDateTime(), nullable=False),
        sa.Column("actor", sa.String(length=128), nullable=False),
        sa.Column("action", sa.String(length=64), nullable=False),
        sa.Column("entity", sa.String(length=64), nullable=False),
        sa.Column("entity_id", sa.String(length=64), nullable=False),
        sa.Column("payload", JSON_TYPE, nullable=False),
        sa.Column("business_date", sa.Date(), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_audit_log")),
    )
    op.create_index(op.f("ix_audit_log_at"), "audit_log", ["at"], unique=False)
    op.create_index(op.f("ix_audit_log_entity_entity_id"), "audit_log", ["entity", "entity_id"], unique=False)
    for stmt in append_only_ddl(op.get_bind().dialect.name, "audit_log"):
        op.execute(stmt)

    op.create_table(
        "idempotency_keys",
        sa.Column("id", PK_TYPE, autoincrement=True, nullable=False),
        sa.Column("scope", sa.String(length=200), nullable=False),
        sa.Column("key", sa.String(length=255), nullable=False),
        sa.Column("request_fingerprint", sa.String(length=128), nullable=False),
        sa.Column("state", sa.String(length=16), nullable=False),
        sa.Column("response_status", sa.Integer(), nullable=True),
        sa.Column("response_body", JSON_TYPE, nullable=True),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.Column("updated_at", UTCDateTime(), nullable=False),
        sa.CheckConstraint("state IN ('in_flight', 'done')", name=op.f("ck_idempotency_keys_state")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_idempotency_keys")),
        sa.UniqueConstraint("scope", "key", name=op.f("uq_idempotency_keys_scope_key")),
    )


def downgrade() -> None:
    op.drop_table("idempotency_keys")
    dialect = op.get_bind().dialect.name
    for stmt in drop_append_only_ddl(dialect, "audit_log"):
        op.execute(stmt)
    op.drop_index(op.f("ix_audit_log_entity_entity_id"), table_name="audit_log")
    op.drop_index(op.f("ix_audit_log_at"), table_name="audit_log")
    op.drop_table("audit_log")
    if dialect == "postgresql":
        op.execute(f"DROP FUNCTION IF EXISTS {PG_REFUSE_FUNCTION}()")
