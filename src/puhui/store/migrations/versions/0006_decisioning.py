"""decisioning: policy versions, decisions (append-only), offers, pre-approval runs, consents, applications,
review cases

The append-only triggers of `decisions` are added here: autogenerate cannot see them.

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-29 18:40:00
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import puhui.store.types
from puhui.store.audit import append_only_ddl, drop_append_only_ddl

revision: str = "0006"
down_revision: str | None = "0005"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "consents",
        sa.Column("id", puhui.store.types.PK_TYPE, autoincrement=True, nullable=False),
        sa.Column("uscc", sa.String(length=32), nullable=False),
        sa.Column("purpose", sa.String(length=64), nullable=False),
        sa.Column("sources", puhui.store.types.JSON_TYPE, nullable=False),
        sa.Column("granted_by", sa.String(length=128), nullable=False),
        sa.Column("granted_at", puhui.store.types.UTCDateTime(timezone=True), nullable=False),
        sa.Column("expires_on", sa.Date(), nullable=False),
        sa.Column("revoked_at", puhui.store.types.UTCDateTime(timezone=True), nullable=True),
        sa.Column("evidence_sha256", sa.String(length=64), nullable=False),
        sa.Column("created_at", puhui.store.types.UTCDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_consents")),
    )
    with op.batch_alter_table("consents", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_consents_uscc_purpose"), ["uscc", "purpose"], unique=False)

    op.create_table(
        "decisions",
        sa.Column("id", puhui.store.types.PK_TYPE, autoincrement=True, nullable=False),
        sa.Column("uscc", sa.String(length=32), nullable=False),
        sa.Column("scenario_id", sa.String(length=64), nullable=False),
        sa.Column("policy_version", sa.String(length=64), nullable=False),
        sa.Column("model_name", sa.String(length=64), nullable=True),
        sa.Column("model_version", sa.String(length=64), nullable=True),
        sa.Column("arm", sa.String(length=16), nullable=False),
        sa.Column("channel", sa.String(length=16), nullable=False),
        sa.Column("outcome", sa.String(length=16), nullable=False),
        sa.Column("grade", sa.String(length=8), nullable=True),
        sa.Column("pd", sa.Float(), nullable=True),
        sa.Column("score", sa.Float(), nullable=True),
        sa.Column("limit", puhui.store.types.Amount(), nullable=True),
        sa.Column("annual_rate", puhui.store.types.Rate(precision=12, scale=8), nullable=True),
        sa.Column("apr", puhui.store.types.Rate(precision=12, scale=8), nullable=True),
        sa.Column("term_months", sa.Integer(), nullable=True),
        sa.Column("rules", puhui.store.types.JSON_TYPE, nullable=False),
        sa.Column("reasons", puhui.store.types.JSON_TYPE, nullable=False),
        sa.Column("offer", puhui.store.types.JSON_TYPE, nullable=True),
        sa.Column("limit_trace", puhui.store.types.JSON_TYPE, nullable=True),
        sa.Column("model_result", puhui.store.types.JSON_TYPE, nullable=True),
        sa.Column("inputs", puhui.store.types.JSON_TYPE, nullable=True),
        sa.Column("inputs_ref", sa.String(length=500), nullable=True),
        sa.Column("inputs_sha256", sa.String(length=64), nullable=False),
        sa.Column("as_of", sa.Date(), nullable=False),
        sa.Column("run_id", puhui.store.types.PK_TYPE, nullable=True),
        sa.Column("actor", sa.String(length=128), nullable=True),
        sa.Column("created_at", puhui.store.types.UTCDateTime(timezone=True), nullable=False),
        sa.CheckConstraint(
            "channel IN ('preapproval', 'application', 'estimate', 'backtest')", name=op.f("ck_decisions_channel")
        ),
        sa.CheckConstraint("outcome IN ('approve', 'decline', 'refer')", name=op.f("ck_decisions_outcome")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_decisions")),
    )
    with op.batch_alter_table("decisions", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_decisions_as_of"), ["as_of"], unique=False)
        batch_op.create_index(batch_op.f("ix_decisions_run_id"), ["run_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_decisions_uscc_scenario_id"), ["uscc", "scenario_id"], unique=False)

    op.create_table(
        "policy_versions",
        sa.Column("id", puhui.store.types.PK_TYPE, autoincrement=True, nullable=False),
        sa.Column("scenario_id", sa.String(length=64), nullable=False),
        sa.Column("version", sa.String(length=64), nullable=False),
        sa.Column("yaml_text", sa.Text(), nullable=False),
        sa.Column("source", sa.String(length=300), nullable=True),
        sa.Column("state", sa.String(length=16), nullable=False),
        sa.Column("role", sa.String(length=16), nullable=False),
        sa.Column("traffic_share", puhui.store.types.Rate(precision=12, scale=8), nullable=True),
        sa.Column("author", sa.String(length=128), nullable=False),
        sa.Column("approver", sa.String(length=128), nullable=True),
        sa.Column("activated_by", sa.String(length=128), nullable=True),
        sa.Column("note", sa.Text(), nullable=True),
        sa.Column("approved_at", puhui.store.types.UTCDateTime(timezone=True), nullable=True),
        sa.Column("activated_at", puhui.store.types.UTCDateTime(timezone=True), nullable=True),
        sa.Column("retired_at", puhui.store.types.UTCDateTime(timezone=True), nullable=True),
        sa.Column("created_at", puhui.store.types.UTCDateTime(timezone=True), nullable=False),
        sa.CheckConstraint("role IN ('champion', 'challenger')", name=op.f("ck_policy_versions_role")),
        sa.CheckConstraint(
            "state IN ('draft', 'approved', 'active', 'retired')", name=op.f("ck_policy_versions_state")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_policy_versions")),
    )
    with op.batch_alter_table("policy_versions", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_policy_versions_scenario_id"), ["scenario_id"], unique=False)
        batch_op.create_index(
            batch_op.f("ix_policy_versions_scenario_id_version"), ["scenario_id", "version"], unique=True
        )
        batch_op.create_index(
            "uq_policy_versions_active_role",
            ["scenario_id", "role"],
            unique=True,
            sqlite_where=sa.text("state = 'active'"),
            postgresql_where=sa.text("state = 'active'"),
        )

    op.create_table(
        "preapproval_runs",
        sa.Column("id", puhui.store.types.PK_TYPE, autoincrement=True, nullable=False),
        sa.Column("as_of", sa.Date(), nullable=False),
        sa.Column("state", sa.String(length=16), nullable=False),
        sa.Column("scenarios", puhui.store.types.JSON_TYPE, nullable=False),
        sa.Column("params", puhui.store.types.JSON_TYPE, nullable=False),
        sa.Column("chunk_size", sa.Integer(), nullable=False),
        sa.Column("n_enterprises", sa.Integer(), nullable=False),
        sa.Column("done_chunks", puhui.store.types.JSON_TYPE, nullable=False),
        sa.Column("summary", puhui.store.types.JSON_TYPE, nullable=True),
        sa.Column("started_at", puhui.store.types.UTCDateTime(timezone=True), nullable=False),
        sa.Column("finished_at", puhui.store.types.UTCDateTime(timezone=True), nullable=True),
        sa.Column("actor", sa.String(length=128), nullable=False),
        sa.Column("created_at", puhui.store.types.UTCDateTime(timezone=True), nullable=False),
        sa.Column("updated_at", puhui.store.types.UTCDateTime(timezone=True), nullable=False),
        sa.CheckConstraint("state IN ('running', 'done', 'failed')", name=op.f("ck_preapproval_runs_state")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_preapproval_runs")),
    )
    with op.batch_alter_table("preapproval_runs", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_preapproval_runs_as_of"), ["as_of"], unique=False)

    op.create_table(
        "offers",
        sa.Column("id", puhui.store.types.PK_TYPE, autoincrement=True, nullable=False),
        sa.Column("uscc", sa.String(length=32), nullable=False),
        sa.Column("scenario_id", sa.String(length=64), nullable=False),
        sa.Column("decision_id", puhui.store.types.PK_TYPE, nullable=False),
        sa.Column("limit", puhui.store.types.Amount(), nullable=False),
        sa.Column("annual_rate", puhui.store.types.Rate(precision=12, scale=8), nullable=False),
        sa.Column("apr", puhui.store.types.Rate(precision=12, scale=8), nullable=False),
        sa.Column("term_months", sa.Integer(), nullable=False),
        sa.Column("methods", puhui.store.types.JSON_TYPE, nullable=False),
        sa.Column("as_of", sa.Date(), nullable=False),
        sa.Column("expires_on", sa.Date(), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("run_id", puhui.store.types.PK_TYPE, nullable=True),
        sa.Column("created_at", puhui.store.types.UTCDateTime(timezone=True), nullable=False),
        sa.Column("updated_at", puhui.store.types.UTCDateTime(timezone=True), nullable=False),
        sa.CheckConstraint("status IN ('open', 'accepted', 'expired', 'superseded')", name=op.f("ck_offers_status")),
        sa.ForeignKeyConstraint(["decision_id"], ["decisions.id"], name=op.f("fk_offers_decision_id_decisions")),
        sa.ForeignKeyConstraint(["run_id"], ["preapproval_runs.id"], name=op.f("fk_offers_run_id_preapproval_runs")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_offers")),
    )
    with op.batch_alter_table("offers", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_offers_decision_id"), ["decision_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_offers_run_id"), ["run_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_offers_uscc_status"), ["uscc", "status"], unique=False)

    op.create_table(
        "applications",
        sa.Column("id", puhui.store.types.PK_TYPE, autoincrement=True, nullable=False),
        sa.Column("uscc", sa.String(length=32), nullable=False),
        sa.Column("scenario_id", sa.String(length=64), nullable=False),
        sa.Column("decision_id", puhui.store.types.PK_TYPE, nullable=True),
        sa.Column("offer_id", puhui.store.types.PK_TYPE, nullable=True),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("channel", sa.String(length=32), nullable=True),
        sa.Column("requested_amount", puhui.store.types.Amount(), nullable=True),
        sa.Column("contract_id", puhui.store.types.PK_TYPE, nullable=True),
        sa.Column("line_id", puhui.store.types.PK_TYPE, nullable=True),
        sa.Column("decided_at", puhui.store.types.UTCDateTime(timezone=True), nullable=True),
        sa.Column("accepted_at", puhui.store.types.UTCDateTime(timezone=True), nullable=True),
        sa.Column("expires_on", sa.Date(), nullable=True),
        sa.Column("created_at", puhui.store.types.UTCDateTime(timezone=True), nullable=False),
        sa.Column("updated_at", puhui.store.types.UTCDateTime(timezone=True), nullable=False),
        sa.CheckConstraint(
            "status IN ('approved', 'declined', 'referred', 'accepted', 'expired')", name=op.f("ck_applications_status")
        ),
        sa.ForeignKeyConstraint(
            ["contract_id"], ["loan_contracts.id"], name=op.f("fk_applications_contract_id_loan_contracts")
        ),
        sa.ForeignKeyConstraint(["decision_id"], ["decisions.id"], name=op.f("fk_applications_decision_id_decisions")),
        sa.ForeignKeyConstraint(["line_id"], ["credit_lines.id"], name=op.f("fk_applications_line_id_credit_lines")),
        sa.ForeignKeyConstraint(["offer_id"], ["offers.id"], name=op.f("fk_applications_offer_id_offers")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_applications")),
    )
    with op.batch_alter_table("applications", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_applications_decision_id"), ["decision_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_applications_uscc_status"), ["uscc", "status"], unique=False)

    op.create_table(
        "review_cases",
        sa.Column("id", puhui.store.types.PK_TYPE, autoincrement=True, nullable=False),
        sa.Column("application_id", puhui.store.types.PK_TYPE, nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("assignee", sa.String(length=128), nullable=True),
        sa.Column("reason", sa.String(length=200), nullable=False),
        sa.Column("note", sa.Text(), nullable=True),
        sa.Column("decided_by", sa.String(length=128), nullable=True),
        sa.Column("decided_at", puhui.store.types.UTCDateTime(timezone=True), nullable=True),
        sa.Column("created_at", puhui.store.types.UTCDateTime(timezone=True), nullable=False),
        sa.Column("updated_at", puhui.store.types.UTCDateTime(timezone=True), nullable=False),
        sa.CheckConstraint(
            "status IN ('open', 'assigned', 'approved', 'declined')", name=op.f("ck_review_cases_status")
        ),
        sa.ForeignKeyConstraint(
            ["application_id"], ["applications.id"], name=op.f("fk_review_cases_application_id_applications")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_review_cases")),
    )
    with op.batch_alter_table("review_cases", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_review_cases_application_id"), ["application_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_review_cases_status_assignee"), ["status", "assignee"], unique=False)

    dialect = op.get_bind().dialect.name
    for stmt in append_only_ddl(dialect, "decisions"):
        op.execute(stmt)


def downgrade() -> None:
    dialect = op.get_bind().dialect.name
    for stmt in drop_append_only_ddl(dialect, "decisions"):
        op.execute(stmt)
    with op.batch_alter_table("review_cases", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_review_cases_status_assignee"))
        batch_op.drop_index(batch_op.f("ix_review_cases_application_id"))

    op.drop_table("review_cases")
    with op.batch_alter_table("applications", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_applications_uscc_status"))
        batch_op.drop_index(batch_op.f("ix_applications_decision_id"))

    op.drop_table("applications")
    with op.batch_alter_table("offers", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_offers_uscc_status"))
        batch_op.drop_index(batch_op.f("ix_offers_run_id"))
        batch_op.drop_index(batch_op.f("ix_offers_decision_id"))

    op.drop_table("offers")
    with op.batch_alter_table("preapproval_runs", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_preapproval_runs_as_of"))

    op.drop_table("preapproval_runs")
    with op.batch_alter_table("policy_versions", schema=None) as batch_op:
        batch_op.drop_index(
            "uq_policy_versions_active_role",
            sqlite_where=sa.text("state = 'active'"),
            postgresql_where=sa.text("state = 'active'"),
        )
        batch_op.drop_index(batch_op.f("ix_policy_versions_scenario_id_version"))
        batch_op.drop_index(batch_op.f("ix_policy_versions_scenario_id"))

    op.drop_table("policy_versions")
    with op.batch_alter_table("decisions", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_decisions_uscc_scenario_id"))
        batch_op.drop_index(batch_op.f("ix_decisions_run_id"))
        batch_op.drop_index(batch_op.f("ix_decisions_as_of"))

    op.drop_table("decisions")
    with op.batch_alter_table("consents", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_consents_uscc_purpose"))

    op.drop_table("consents")
