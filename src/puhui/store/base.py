"""The declarative base every puhui table hangs on, its naming convention, mixins and model discovery.

All tables share one `MetaData` (`Base.metadata`) whose naming convention names every index and
constraint deterministically (`pk_loans`, `uq_idempotency_keys_scope_key`, `fk_loans_line_id_credit_lines`),
so Alembic migrations are stable and a constraint can be dropped by name on both engines (SQLite cannot
name constraints after the fact). Annotations map to the exact types of `puhui.store.types`:
`Mapped[datetime]` is an aware-UTC timestamp, `Mapped[Money]` an integer-fen amount; a `Decimal` column
must say whether it is an `Amount()` or a `Rate()`.

Where models live: a capability package keeps its tables in `puhui/<package>/store.py` (or a
`store/` package), subclassing `Base`. `load_models()` imports every such module, so Alembic
(`migrations/env.py`) and the schema tests always see the whole schema. Test-only tables must use their
own `DeclarativeBase`, not this one, or the migration check would find them missing from the migrations.
"""

from __future__ import annotations

import importlib
from datetime import date, datetime
from pathlib import Path
from typing import Any

from sqlalchemy import CheckConstraint, Date, MetaData
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from puhui.core.money import Money
from puhui.store.types import JSON_TYPE, PK_TYPE, Amount, UTCDateTime, utcnow

__all__ = ["NAMING_CONVENTION", "Base", "CreatedAtMixin", "IdMixin", "TimestampMixin", "load_models", "one_of"]

NAMING_CONVENTION: dict[str, str] = {
    "ix": "ix_%(table_name)s_%(column_0_N_name)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_N_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class Base(DeclarativeBase):
    """The one declarative base of puhui's transactional store."""

    metadata = MetaData(naming_convention=NAMING_CONVENTION)
    type_annotation_map: dict[Any, Any] = {  # noqa: RUF012  (SQLAlchemy reads it as a class attribute)
        datetime: UTCDateTime(),
        date: Date(),
        Money: Amount(as_money=True),
        dict[str, Any]: JSON_TYPE,
        list[Any]: JSON_TYPE,
    }


class IdMixin:
    """A surrogate primary key `id` (BIGINT identity on PostgreSQL, the rowid on SQLite)."""

    id: Mapped[int] = mapped_column(PK_TYPE, primary_key=True, autoincrement=True, sort_order=-100)


class CreatedAtMixin:
    """`created_at`: when the row was written (wall clock, UTC) — not the business date."""

    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow, sort_order=100)


class TimestampMixin(CreatedAtMixin):
    """`created_at` and `updated_at` (refreshed by the ORM on every UPDATE it emits)."""

    updated_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow, onupdate=utcnow, sort_order=101)


#: Store modules of this package, always loaded.
_CORE_MODELS = ("puhui.store.audit", "puhui.store.idempotency")


def load_models() -> MetaData:
    """Import every model module (`puhui.store.*` and each `puhui.<package>.store`) and return the metadata."""
    for name in _CORE_MODELS:
        importlib.import_module(name)
    root = Path(__file__).resolve().parent.parent  # the puhui package directory
    for pkg in sorted(p for p in root.iterdir() if (p / "__init__.py").is_file() and p.name != "store"):
        if (pkg / "store.py").is_file() or (pkg / "store" / "__init__.py").is_file():
            importlib.import_module(f"puhui.{pkg.name}.store")
    return Base.metadata


def one_of(column: str, values: tuple[str, ...]) -> CheckConstraint:
    """A CHECK that `column` holds one of `values` (a status, a kind), named after the column."""
    return CheckConstraint(f"{column} IN ({', '.join(repr(v) for v in values)})", name=column)
