"""lending core: contracts, credit lines, loans and instalments, repayments, the general ledger, end of day

The append-only tables (contracts, line changes, repayments, loan transactions, journal entries and
postings, end-of-day steps) get their UPDATE/DELETE-refusing triggers here: autogenerate cannot see them.

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-29
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from puhui.store.audit import append_only_ddl, drop_append_only_ddl
from puhui.store.types import JSON_TYPE, PK_TYPE, Amount, Rate, UTCDateTime

revision: str = "0002"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# Frozen here (not imported from puhui.lending.store) so this revision never changes after release.
APPEND_ONLY_TABLES = (
    "loan_contracts",
    "credit_line_changes",
    "repayments",
    "loan_transactions",
    "journal_entries",
    "journal_postings",
    "eod_steps",
)


def upgrade() -> None:
    op.create_table(
        "eod_runs",
        sa.Column("id", PK_TYPE, autoincrement=True, nullable=False),
        sa.Column("business_date", sa.Date(), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("steps", sa.Integer(), nullable=False),
        sa.Column("loans", sa.Integer(), nullable=False),
        sa.Column("summary", JSON_TYPE, nullable=True),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.Column("updated_at", UTCDateTime(), nullable=False),
        sa.CheckConstraint("status IN ('running', 'done')", name=op.f("ck_eod_runs_status")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_eod_runs")),
        sa.UniqueConstraint("business_date", name=op.f("uq_eod_runs_business_date")),
    )
    op.create_table(
        "lending_state",
        sa.Column("id", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("open_date", sa.Date(), nullable=False),
        sa.Column("eod_running_for", sa.Date(), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_lending_state")),
    )
    op.create_table(
        "loan_contracts",
        sa.Column("id", PK_TYPE, autoincrement=True, nullable=False),
        sa.Column("contract_no", sa.String(length=64), nullable=False),
        sa.Column("borrower_id", sa.String(length=64), nullable=False),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("text_sha256", sa.String(length=64), nullable=False),
        sa.Column("evidence_sha256", sa.String(length=64), nullable=False),
        sa.Column("terms", JSON_TYPE, nullable=False),
        sa.Column("signer", sa.String(length=128), nullable=False),
        sa.Column("signed_at", UTCDateTime(), nullable=False),
        sa.Column("signature", sa.Text(), nullable=True),
        sa.Column("certificate", sa.String(length=200), nullable=True),
        sa.Column("business_date", sa.Date(), nullable=False),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_loan_contracts")),
        sa.UniqueConstraint("contract_no", name=op.f("uq_loan_contracts_contract_no")),
    )
    with op.batch_alter_table("loan_contracts", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_loan_contracts_borrower_id"), ["borrower_id"], unique=False)

    op.create_table(
        "credit_lines",
        sa.Column("id", PK_TYPE, autoincrement=True, nullable=False),
        sa.Column("contract_id", PK_TYPE, nullable=False),
        sa.Column("borrower_id", sa.String(length=64), nullable=False),
        sa.Column("currency", sa.String(length=3), nullable=False),
        sa.Column("credit_limit", Amount(), nullable=False),
        sa.Column("drawn_principal", Amount(), nullable=False),
        sa.Column("drawn_total", Amount(), nullable=False),
        sa.Column("revolving", sa.Boolean(), nullable=False),
        sa.Column("valid_from", sa.Date(), nullable=False),
        sa.Column("valid_to", sa.Date(), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("terms", JSON_TYPE, nullable=False),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.Column("updated_at", UTCDateTime(), nullable=False),
        sa.CheckConstraint("status IN ('active', 'frozen', 'expired', 'closed')", name=op.f("ck_credit_lines_status")),
        sa.CheckConstraint(
            "credit_limit >= 0 AND drawn_principal >= 0 AND drawn_total >= drawn_principal",
            name=op.f("ck_credit_lines_amounts"),
        ),
        sa.ForeignKeyConstraint(
            ["contract_id"], ["loan_contracts.id"], name=op.f("fk_credit_lines_contract_id_loan_contracts")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_credit_lines")),
        sa.UniqueConstraint("contract_id", name=op.f("uq_credit_lines_contract_id")),
    )
    with op.batch_alter_table("credit_lines", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_credit_lines_borrower_id"), ["borrower_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_credit_lines_status_valid_to"), ["status", "valid_to"], unique=False)

    op.create_table(
        "credit_line_changes",
        sa.Column("id", PK_TYPE, autoincrement=True, nullable=False),
        sa.Column("line_id", PK_TYPE, nullable=False),
        sa.Column("business_date", sa.Date(), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("before", JSON_TYPE, nullable=False),
        sa.Column("after", JSON_TYPE, nullable=False),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("actor", sa.String(length=128), nullable=False),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["line_id"], ["credit_lines.id"], name=op.f("fk_credit_line_changes_line_id_credit_lines")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_credit_line_changes")),
    )
    with op.batch_alter_table("credit_line_changes", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_credit_line_changes_line_id"), ["line_id"], unique=False)

    op.create_table(
        "loans",
        sa.Column("id", PK_TYPE, autoincrement=True, nullable=False),
        sa.Column("line_id", PK_TYPE, nullable=True),
        sa.Column("contract_id", PK_TYPE, nullable=True),
        sa.Column("borrower_id", sa.String(length=64), nullable=False),
        sa.Column("currency", sa.String(length=3), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("principal_original", Amount(), nullable=False),
        sa.Column("annual_rate", Rate(precision=16, scale=10), nullable=False),
        sa.Column("penalty_rate", Rate(precision=16, scale=10), nullable=False),
        sa.Column("method", sa.String(length=32), nullable=False),
        sa.Column("day_count", sa.String(length=16), nullable=False),
        sa.Column("rounding", sa.String(length=16), nullable=False),
        sa.Column("multiples_of", Amount(), nullable=True),
        sa.Column("repayment_day", sa.SmallInteger(), nullable=True),
        sa.Column("roll", sa.String(length=32), nullable=False),
        sa.Column("term_months", sa.Integer(), nullable=False),
        sa.Column("start_date", sa.Date(), nullable=False),
        sa.Column("maturity_date", sa.Date(), nullable=False),
        sa.Column("allocation_order", sa.String(length=200), nullable=False),
        sa.Column("level", Amount(), nullable=True),
        sa.Column("principal", Amount(), nullable=False),
        sa.Column("overdue_principal", Amount(), nullable=False),
        sa.Column("overdue_interest", Amount(), nullable=False),
        sa.Column("interest_accrued", Amount(), nullable=False),
        sa.Column("interest_paid", Amount(), nullable=False),
        sa.Column("interest_receivable", Amount(), nullable=False),
        sa.Column("interest_suspense", Amount(), nullable=False),
        sa.Column("interest_base", Amount(), nullable=False),
        sa.Column("penalty_accrued", Amount(), nullable=False),
        sa.Column("compound_accrued", Amount(), nullable=False),
        sa.Column("penalty_paid", Amount(), nullable=False),
        sa.Column("compound_paid", Amount(), nullable=False),
        sa.Column("penalty_receivable", Amount(), nullable=False),
        sa.Column("penalty_suspense", Amount(), nullable=False),
        sa.Column("five_class", sa.SmallInteger(), nullable=False),
        sa.Column("dpd", sa.Integer(), nullable=False),
        sa.Column("non_accrual", sa.Boolean(), nullable=False),
        sa.Column("oldest_unpaid_due", sa.Date(), nullable=True),
        sa.Column("next_due", sa.Date(), nullable=True),
        sa.Column("eod_through", sa.Date(), nullable=True),
        sa.Column("closed_on", sa.Date(), nullable=True),
        sa.Column("acc_period", sa.Integer(), nullable=True),
        sa.Column("acc_start", sa.Date(), nullable=True),
        sa.Column("acc_end", sa.Date(), nullable=True),
        sa.Column("acc_opening", Amount(), nullable=True),
        sa.Column("acc_interest", Amount(), nullable=True),
        sa.Column("acc_carry", sa.String(length=64), nullable=True),
        sa.Column("acc_monthly", sa.Boolean(), nullable=True),
        sa.Column("accrual", JSON_TYPE, nullable=True),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.Column("updated_at", UTCDateTime(), nullable=False),
        sa.CheckConstraint("status IN ('active', 'closed')", name=op.f("ck_loans_status")),
        sa.CheckConstraint("five_class BETWEEN 1 AND 5", name=op.f("ck_loans_five_class")),
        sa.CheckConstraint(
            "principal >= 0 AND overdue_principal >= 0 AND overdue_principal <= principal",
            name=op.f("ck_loans_principal"),
        ),
        sa.ForeignKeyConstraint(
            ["contract_id"], ["loan_contracts.id"], name=op.f("fk_loans_contract_id_loan_contracts")
        ),
        sa.ForeignKeyConstraint(["line_id"], ["credit_lines.id"], name=op.f("fk_loans_line_id_credit_lines")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_loans")),
    )
    with op.batch_alter_table("loans", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_loans_borrower_id"), ["borrower_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_loans_line_id"), ["line_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_loans_status_borrower_id"), ["status", "borrower_id"], unique=False)

    op.create_table(
        "journal_entries",
        sa.Column("id", PK_TYPE, autoincrement=True, nullable=False),
        sa.Column("business_date", sa.Date(), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("ref", sa.String(length=120), nullable=False),
        sa.Column("description", sa.Text(), nullable=False),
        sa.Column("loan_id", PK_TYPE, nullable=True),
        sa.Column("reverses_id", PK_TYPE, nullable=True),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(["loan_id"], ["loans.id"], name=op.f("fk_journal_entries_loan_id_loans")),
        sa.ForeignKeyConstraint(
            ["reverses_id"], ["journal_entries.id"], name=op.f("fk_journal_entries_reverses_id_journal_entries")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_journal_entries")),
        sa.UniqueConstraint("ref", name=op.f("uq_journal_entries_ref")),
    )
    with op.batch_alter_table("journal_entries", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_journal_entries_business_date"), ["business_date"], unique=False)
        batch_op.create_index(batch_op.f("ix_journal_entries_loan_id"), ["loan_id"], unique=False)

    op.create_table(
        "loan_instalments",
        sa.Column("id", PK_TYPE, autoincrement=True, nullable=False),
        sa.Column("loan_id", PK_TYPE, nullable=False),
        sa.Column("period", sa.Integer(), nullable=False),
        sa.Column("due_date", sa.Date(), nullable=False),
        sa.Column("accrual_start", sa.Date(), nullable=False),
        sa.Column("accrual_end", sa.Date(), nullable=False),
        sa.Column("principal", Amount(), nullable=False),
        sa.Column("interest", Amount(), nullable=False),
        sa.Column("balance", Amount(), nullable=False),
        sa.Column("monthly", sa.Boolean(), nullable=False),
        sa.Column("carry", sa.String(length=64), nullable=False),
        sa.Column("paid_principal", Amount(), nullable=False),
        sa.Column("paid_interest", Amount(), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("created_on", sa.Date(), nullable=False),
        sa.CheckConstraint(
            "status IN ('pending', 'overdue', 'paid', 'superseded')", name=op.f("ck_loan_instalments_status")
        ),
        sa.CheckConstraint(
            "paid_principal <= principal AND paid_interest <= interest", name=op.f("ck_loan_instalments_paid")
        ),
        sa.ForeignKeyConstraint(["loan_id"], ["loans.id"], name=op.f("fk_loan_instalments_loan_id_loans")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_loan_instalments")),
    )
    with op.batch_alter_table("loan_instalments", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_loan_instalments_loan_id_status"), ["loan_id", "status"], unique=False)

    op.create_table(
        "eod_steps",
        sa.Column("id", PK_TYPE, autoincrement=True, nullable=False),
        sa.Column("business_date", sa.Date(), nullable=False),
        sa.Column("step", sa.Integer(), nullable=False),
        sa.Column("loans", sa.Integer(), nullable=False),
        sa.Column("journal_entry_id", PK_TYPE, nullable=True),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["journal_entry_id"], ["journal_entries.id"], name=op.f("fk_eod_steps_journal_entry_id_journal_entries")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_eod_steps")),
        sa.UniqueConstraint("business_date", "step", name=op.f("uq_eod_steps_business_date_step")),
    )
    op.create_table(
        "journal_postings",
        sa.Column("id", PK_TYPE, autoincrement=True, nullable=False),
        sa.Column("entry_id", PK_TYPE, nullable=False),
        sa.Column("account", sa.String(length=64), nullable=False),
        sa.Column("amount", Amount(), nullable=False),
        sa.Column("memo", sa.String(length=120), nullable=False),
        sa.ForeignKeyConstraint(
            ["entry_id"], ["journal_entries.id"], name=op.f("fk_journal_postings_entry_id_journal_entries")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_journal_postings")),
    )
    with op.batch_alter_table("journal_postings", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_journal_postings_account"), ["account"], unique=False)
        batch_op.create_index(batch_op.f("ix_journal_postings_entry_id"), ["entry_id"], unique=False)

    op.create_table(
        "loan_transactions",
        sa.Column("id", PK_TYPE, autoincrement=True, nullable=False),
        sa.Column("loan_id", PK_TYPE, nullable=False),
        sa.Column("business_date", sa.Date(), nullable=False),
        sa.Column("kind", sa.String(length=32), nullable=False),
        sa.Column("amount", Amount(), nullable=False),
        sa.Column("principal", Amount(), nullable=False),
        sa.Column("interest", Amount(), nullable=False),
        sa.Column("penalty", Amount(), nullable=False),
        sa.Column("compound", Amount(), nullable=False),
        sa.Column("details", JSON_TYPE, nullable=False),
        sa.Column("journal_entry_id", PK_TYPE, nullable=True),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["journal_entry_id"],
            ["journal_entries.id"],
            name=op.f("fk_loan_transactions_journal_entry_id_journal_entries"),
        ),
        sa.ForeignKeyConstraint(["loan_id"], ["loans.id"], name=op.f("fk_loan_transactions_loan_id_loans")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_loan_transactions")),
    )
    with op.batch_alter_table("loan_transactions", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_loan_transactions_loan_id"), ["loan_id"], unique=False)

    op.create_table(
        "repayments",
        sa.Column("id", PK_TYPE, autoincrement=True, nullable=False),
        sa.Column("loan_id", PK_TYPE, nullable=False),
        sa.Column("business_date", sa.Date(), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("mode", sa.String(length=32), nullable=True),
        sa.Column("amount", Amount(), nullable=False),
        sa.Column("applied", Amount(), nullable=False),
        sa.Column("unapplied", Amount(), nullable=False),
        sa.Column("principal", Amount(), nullable=False),
        sa.Column("interest", Amount(), nullable=False),
        sa.Column("penalty", Amount(), nullable=False),
        sa.Column("compound", Amount(), nullable=False),
        sa.Column("prepaid_principal", Amount(), nullable=False),
        sa.Column("journal_entry_id", PK_TYPE, nullable=True),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["journal_entry_id"], ["journal_entries.id"], name=op.f("fk_repayments_journal_entry_id_journal_entries")
        ),
        sa.ForeignKeyConstraint(["loan_id"], ["loans.id"], name=op.f("fk_repayments_loan_id_loans")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_repayments")),
    )
    with op.batch_alter_table("repayments", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_repayments_loan_id"), ["loan_id"], unique=False)

    dialect = op.get_bind().dialect.name
    for table in APPEND_ONLY_TABLES:
        for stmt in append_only_ddl(dialect, table):
            op.execute(stmt)


def downgrade() -> None:
    dialect = op.get_bind().dialect.name
    for table in APPEND_ONLY_TABLES:
        for stmt in drop_append_only_ddl(dialect, table):
            op.execute(stmt)
    with op.batch_alter_table("repayments", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_repayments_loan_id"))

    op.drop_table("repayments")
    with op.batch_alter_table("loan_transactions", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_loan_transactions_loan_id"))

    op.drop_table("loan_transactions")
    with op.batch_alter_table("journal_postings", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_journal_postings_entry_id"))
        batch_op.drop_index(batch_op.f("ix_journal_postings_account"))

    op.drop_table("journal_postings")
    op.drop_table("eod_steps")
    with op.batch_alter_table("loan_instalments", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_loan_instalments_loan_id_status"))

    op.drop_table("loan_instalments")
    with op.batch_alter_table("journal_entries", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_journal_entries_loan_id"))
        batch_op.drop_index(batch_op.f("ix_journal_entries_business_date"))

    op.drop_table("journal_entries")
    with op.batch_alter_table("loans", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_loans_status_borrower_id"))
        batch_op.drop_index(batch_op.f("ix_loans_line_id"))
        batch_op.drop_index(batch_op.f("ix_loans_borrower_id"))

    op.drop_table("loans")
    with op.batch_alter_table("credit_line_changes", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_credit_line_changes_line_id"))

    op.drop_table("credit_line_changes")
    with op.batch_alter_table("credit_lines", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_credit_lines_status_valid_to"))
        batch_op.drop_index(batch_op.f("ix_credit_lines_borrower_id"))

    op.drop_table("credit_lines")
    with op.batch_alter_table("loan_contracts", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_loan_contracts_borrower_id"))

    op.drop_table("loan_contracts")
    op.drop_table("lending_state")
    op.drop_table("eod_runs")
