"""supply chain vouchers: chain limits, confirmed payables, vouchers and their holdings, events, financings, payments

The append-only tables (voucher events, financings, payments) get their UPDATE/DELETE-refusing triggers
here: autogenerate cannot see them.

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-29
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from puhui.store.audit import append_only_ddl, drop_append_only_ddl
from puhui.store.types import JSON_TYPE, PK_TYPE, Amount, Rate, UTCDateTime

revision: str = "0003"
down_revision: str | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# Frozen here (not imported from puhui.supplychain.store) so this revision never changes after release.
APPEND_ONLY_TABLES = ("voucher_events", "voucher_financings", "voucher_payments")


def upgrade() -> None:
    op.create_table(
        "chain_limits",
        sa.Column("id", PK_TYPE, autoincrement=True, nullable=False),
        sa.Column("core_uscc", sa.String(length=18), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("approved_limit", Amount(), nullable=False),
        sa.Column("outstanding", Amount(), nullable=False),
        sa.Column("valid_from", sa.Date(), nullable=False),
        sa.Column("valid_to", sa.Date(), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("approved_by", sa.String(length=128), nullable=False),
        sa.Column("approved_on", sa.Date(), nullable=False),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.Column("updated_at", UTCDateTime(), nullable=False),
        sa.CheckConstraint("status IN ('active', 'frozen')", name=op.f("ck_chain_limits_status")),
        sa.CheckConstraint("approved_limit >= 0 AND outstanding >= 0", name=op.f("ck_chain_limits_amounts")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_chain_limits")),
        sa.UniqueConstraint("core_uscc", name=op.f("uq_chain_limits_core_uscc")),
    )
    op.create_table(
        "voucher_payables",
        sa.Column("id", PK_TYPE, autoincrement=True, nullable=False),
        sa.Column("payable_no", sa.String(length=64), nullable=False),
        sa.Column("core_uscc", sa.String(length=18), nullable=False),
        sa.Column("supplier_uscc", sa.String(length=18), nullable=False),
        sa.Column("amount", Amount(), nullable=False),
        sa.Column("vouchered", Amount(), nullable=False),
        sa.Column("confirmed_on", sa.Date(), nullable=False),
        sa.Column("due_date", sa.Date(), nullable=True),
        sa.Column("invoices", JSON_TYPE, nullable=False),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.Column("updated_at", UTCDateTime(), nullable=False),
        sa.CheckConstraint(
            "amount > 0 AND vouchered >= 0 AND vouchered <= amount", name=op.f("ck_voucher_payables_amounts")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_voucher_payables")),
        sa.UniqueConstraint("payable_no", name=op.f("uq_voucher_payables_payable_no")),
    )
    with op.batch_alter_table("voucher_payables", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_voucher_payables_core_uscc"), ["core_uscc"], unique=False)
        batch_op.create_index(batch_op.f("ix_voucher_payables_supplier_uscc"), ["supplier_uscc"], unique=False)

    op.create_table(
        "vouchers",
        sa.Column("id", PK_TYPE, autoincrement=True, nullable=False),
        sa.Column("voucher_no", sa.String(length=40), nullable=False),
        sa.Column("issuer_uscc", sa.String(length=18), nullable=False),
        sa.Column("payee_uscc", sa.String(length=18), nullable=False),
        sa.Column("payable_id", PK_TYPE, nullable=False),
        sa.Column("payable_no", sa.String(length=64), nullable=False),
        sa.Column("face", Amount(), nullable=False),
        sa.Column("issue_date", sa.Date(), nullable=False),
        sa.Column("maturity_date", sa.Date(), nullable=False),
        sa.Column("transferable", sa.Boolean(), nullable=False),
        sa.Column("transfer_mode", sa.String(length=16), nullable=False),
        sa.Column("tenor_review", sa.Boolean(), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("next_seq", sa.Integer(), nullable=False),
        sa.Column("last_on", sa.Date(), nullable=False),
        sa.Column("settled", Amount(), nullable=False),
        sa.Column("cancelled", Amount(), nullable=False),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.Column("updated_at", UTCDateTime(), nullable=False),
        sa.CheckConstraint(
            "status IN ('issued', 'active', 'presented', 'settled', 'dishonoured', 'cancelled')",
            name=op.f("ck_vouchers_status"),
        ),
        sa.CheckConstraint("transfer_mode IN ('acceptance', 'notice')", name=op.f("ck_vouchers_transfer_mode")),
        sa.CheckConstraint(
            "face > 0 AND settled >= 0 AND cancelled >= 0 AND settled + cancelled <= face",
            name=op.f("ck_vouchers_amounts"),
        ),
        sa.CheckConstraint("maturity_date > issue_date", name=op.f("ck_vouchers_dates")),
        sa.ForeignKeyConstraint(
            ["payable_id"], ["voucher_payables.id"], name=op.f("fk_vouchers_payable_id_voucher_payables")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_vouchers")),
        sa.UniqueConstraint("voucher_no", name=op.f("uq_vouchers_voucher_no")),
    )
    with op.batch_alter_table("vouchers", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_vouchers_issuer_uscc_status"), ["issuer_uscc", "status"], unique=False)
        batch_op.create_index(batch_op.f("ix_vouchers_payable_id"), ["payable_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_vouchers_status_maturity_date"), ["status", "maturity_date"], unique=False)

    op.create_table(
        "voucher_events",
        sa.Column("id", PK_TYPE, autoincrement=True, nullable=False),
        sa.Column("voucher_id", PK_TYPE, nullable=False),
        sa.Column("kind", sa.String(length=32), nullable=False),
        sa.Column("business_date", sa.Date(), nullable=False),
        sa.Column("by_party", sa.String(length=64), nullable=False),
        sa.Column("actor", sa.String(length=128), nullable=False),
        sa.Column("holdings", JSON_TYPE, nullable=False),
        sa.Column("details", JSON_TYPE, nullable=False),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(["voucher_id"], ["vouchers.id"], name=op.f("fk_voucher_events_voucher_id_vouchers")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_voucher_events")),
    )
    with op.batch_alter_table("voucher_events", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_voucher_events_voucher_id"), ["voucher_id"], unique=False)

    op.create_table(
        "voucher_financings",
        sa.Column("id", PK_TYPE, autoincrement=True, nullable=False),
        sa.Column("voucher_id", PK_TYPE, nullable=False),
        sa.Column("seq", sa.Integer(), nullable=False),
        sa.Column("parent_seq", sa.Integer(), nullable=False),
        sa.Column("seller", sa.String(length=64), nullable=False),
        sa.Column("funder", sa.String(length=64), nullable=False),
        sa.Column("registration_ref", sa.String(length=64), nullable=False),
        sa.Column("annual_rate", Rate(precision=16, scale=10), nullable=False),
        sa.Column("basis", sa.SmallInteger(), nullable=False),
        sa.Column("financed_on", sa.Date(), nullable=False),
        sa.Column("maturity_date", sa.Date(), nullable=False),
        sa.Column("payment_date", sa.Date(), nullable=False),
        sa.Column("days", sa.Integer(), nullable=False),
        sa.Column("face", Amount(), nullable=False),
        sa.Column("interest", Amount(), nullable=False),
        sa.Column("proceeds", Amount(), nullable=False),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.CheckConstraint(
            "interest >= 0 AND proceeds >= 0 AND interest + proceeds = face", name=op.f("ck_voucher_financings_amounts")
        ),
        sa.ForeignKeyConstraint(
            ["voucher_id"], ["vouchers.id"], name=op.f("fk_voucher_financings_voucher_id_vouchers")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_voucher_financings")),
        sa.UniqueConstraint("registration_ref", name=op.f("uq_voucher_financings_registration_ref")),
    )
    with op.batch_alter_table("voucher_financings", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_voucher_financings_funder"), ["funder"], unique=False)
        batch_op.create_index(batch_op.f("ix_voucher_financings_voucher_id"), ["voucher_id"], unique=False)

    op.create_table(
        "voucher_holdings",
        sa.Column("id", PK_TYPE, autoincrement=True, nullable=False),
        sa.Column("voucher_id", PK_TYPE, nullable=False),
        sa.Column("seq", sa.Integer(), nullable=False),
        sa.Column("parent_seq", sa.Integer(), nullable=True),
        sa.Column("range_start", sa.BigInteger(), nullable=False),
        sa.Column("range_end", sa.BigInteger(), nullable=False),
        sa.Column("amount", Amount(), nullable=False),
        sa.Column("holder", sa.String(length=64), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("prior_status", sa.String(length=16), nullable=True),
        sa.Column("pending_kind", sa.String(length=16), nullable=True),
        sa.Column("pending_by", sa.String(length=64), nullable=True),
        sa.Column("pending_to", sa.String(length=64), nullable=True),
        sa.Column("pending_on", sa.Date(), nullable=True),
        sa.Column("pledgee", sa.String(length=64), nullable=True),
        sa.Column("pledge_ref", sa.String(length=64), nullable=True),
        sa.Column("opened_on", sa.Date(), nullable=False),
        sa.Column("closed_on", sa.Date(), nullable=True),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.Column("updated_at", UTCDateTime(), nullable=False),
        sa.CheckConstraint("(status = 'locked') = (pending_to IS NOT NULL)", name=op.f("ck_voucher_holdings_pending")),
        sa.CheckConstraint(
            "status IN ('issued', 'active', 'locked', 'financed', 'pledged', 'presented', 'settled', "
            "'dishonoured', 'cancelled', 'superseded')",
            name=op.f("ck_voucher_holdings_status"),
        ),
        sa.CheckConstraint("amount = range_end - range_start", name=op.f("ck_voucher_holdings_amount_is_range")),
        sa.CheckConstraint("range_start >= 0 AND range_end > range_start", name=op.f("ck_voucher_holdings_range")),
        sa.ForeignKeyConstraint(["voucher_id"], ["vouchers.id"], name=op.f("fk_voucher_holdings_voucher_id_vouchers")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_voucher_holdings")),
        sa.UniqueConstraint("voucher_id", "seq", name=op.f("uq_voucher_holdings_voucher_id_seq")),
    )
    with op.batch_alter_table("voucher_holdings", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_voucher_holdings_holder_status"), ["holder", "status"], unique=False)
        batch_op.create_index(batch_op.f("ix_voucher_holdings_pending_to"), ["pending_to"], unique=False)
        batch_op.create_index(
            batch_op.f("ix_voucher_holdings_voucher_id_status"), ["voucher_id", "status"], unique=False
        )

    op.create_table(
        "voucher_payments",
        sa.Column("id", PK_TYPE, autoincrement=True, nullable=False),
        sa.Column("voucher_id", PK_TYPE, nullable=False),
        sa.Column("seq", sa.Integer(), nullable=False),
        sa.Column("holder", sa.String(length=64), nullable=False),
        sa.Column("paid_to", sa.String(length=64), nullable=False),
        sa.Column("capacity", sa.String(length=16), nullable=False),
        sa.Column("amount", Amount(), nullable=False),
        sa.Column("paid_on", sa.Date(), nullable=False),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.CheckConstraint("amount > 0", name=op.f("ck_voucher_payments_amount")),
        sa.ForeignKeyConstraint(["voucher_id"], ["vouchers.id"], name=op.f("fk_voucher_payments_voucher_id_vouchers")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_voucher_payments")),
        sa.UniqueConstraint("voucher_id", "seq", name=op.f("uq_voucher_payments_voucher_id_seq")),
    )
    with op.batch_alter_table("voucher_payments", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_voucher_payments_paid_to"), ["paid_to"], unique=False)

    dialect = op.get_bind().dialect.name
    for table in APPEND_ONLY_TABLES:
        for stmt in append_only_ddl(dialect, table):
            op.execute(stmt)


def downgrade() -> None:
    dialect = op.get_bind().dialect.name
    for table in APPEND_ONLY_TABLES:
        for stmt in drop_append_only_ddl(dialect, table):
            op.execute(stmt)
    with op.batch_alter_table("voucher_payments", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_voucher_payments_paid_to"))

    op.drop_table("voucher_payments")
    with op.batch_alter_table("voucher_holdings", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_voucher_holdings_voucher_id_status"))
        batch_op.drop_index(batch_op.f("ix_voucher_holdings_pending_to"))
        batch_op.drop_index(batch_op.f("ix_voucher_holdings_holder_status"))

    op.drop_table("voucher_holdings")
    with op.batch_alter_table("voucher_financings", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_voucher_financings_voucher_id"))
        batch_op.drop_index(batch_op.f("ix_voucher_financings_funder"))

    op.drop_table("voucher_financings")
    with op.batch_alter_table("voucher_events", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_voucher_events_voucher_id"))

    op.drop_table("voucher_events")
    with op.batch_alter_table("vouchers", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_vouchers_status_maturity_date"))
        batch_op.drop_index(batch_op.f("ix_vouchers_payable_id"))
        batch_op.drop_index(batch_op.f("ix_vouchers_issuer_uscc_status"))

    op.drop_table("vouchers")
    with op.batch_alter_table("voucher_payables", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_voucher_payables_supplier_uscc"))
        batch_op.drop_index(batch_op.f("ix_voucher_payables_core_uscc"))

    op.drop_table("voucher_payables")
    op.drop_table("chain_limits")
