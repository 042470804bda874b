"""The append-only audit trail (审计日志): who did what to which entity, when, on which business date.

Every state change in puhui writes one `AuditEntry` in the same transaction as the change itself
(`record(session, …)`), so the trail and the data can never disagree. Rows are never updated or deleted,
and that is enforced twice: an ORM guard refuses a flush that would modify or delete an entry
(`Conflict(code="append_only")`), and **database triggers on both engines** refuse any UPDATE or DELETE —
and TRUNCATE on PostgreSQL — even from raw SQL (the driver raises an IntegrityError). `make_append_only`
gives any other table the same protection (the ledger's journal entries, for instance);
`append_only_ddl` returns the trigger DDL for migrations, since Alembic does not autogenerate triggers.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Any, TypeVar

from sqlalchemy import Connection, Date, Index, String, Table, event, select
from sqlalchemy.orm import Mapped, Mapper, Session, mapped_column, object_session

from puhui.core.errors import Conflict, ValidationError
from puhui.store.base import Base
from puhui.store.types import JSON_TYPE, PK_TYPE, UTCDateTime, utcnow

__all__ = [
    "AuditEntry",
    "append_only_ddl",
    "drop_append_only_ddl",
    "history",
    "make_append_only",
    "record",
]

M = TypeVar("M", bound=type)

#: One PostgreSQL trigger function (per schema) shared by every append-only table.
PG_REFUSE_FUNCTION = "puhui_refuse_change"
_PG_FUNCTION_DDL = f"""
CREATE OR REPLACE FUNCTION {PG_REFUSE_FUNCTION}() RETURNS trigger LANGUAGE plpgsql AS $fn$
BEGIN
    RAISE EXCEPTION USING
        MESSAGE = TG_TABLE_NAME || ' is append-only: ' || TG_OP || ' refused',
        ERRCODE = 'integrity_constraint_violation';
END
$fn$
"""


def append_only_ddl(dialect_name: str, table: str) -> list[str]:
    """Statements that make `table` append-only on `dialect_name` ("sqlite" or "postgresql")."""
    if dialect_name == "sqlite":
        return [
            f"CREATE TRIGGER {table}_no_{op.lower()} BEFORE {op} ON {table} "
            f"BEGIN SELECT RAISE(ABORT, '{table} is append-only: {op} refused'); END"
            for op in ("UPDATE", "DELETE")
        ]
    if dialect_name == "postgresql":
        return [
            _PG_FUNCTION_DDL,
            f"CREATE TRIGGER {table}_append_only BEFORE UPDATE OR DELETE ON {table} "
            f"FOR EACH ROW EXECUTE FUNCTION {PG_REFUSE_FUNCTION}()",
            f"CREATE TRIGGER {table}_no_truncate BEFORE TRUNCATE ON {table} "
            f"FOR EACH STATEMENT EXECUTE FUNCTION {PG_REFUSE_FUNCTION}()",
        ]
    raise ValidationError(f"no append-only triggers for {dialect_name!r}", code="unsupported_database")


def drop_append_only_ddl(dialect_name: str, table: str) -> list[str]:
    """Statements that remove the triggers of `append_only_ddl` (the shared PG function stays)."""
    if dialect_name == "sqlite":
        return [f"DROP TRIGGER IF EXISTS {table}_no_{op}" for op in ("update", "delete")]
    if dialect_name == "postgresql":
        return [f"DROP TRIGGER IF EXISTS {table}_{name} ON {table}" for name in ("append_only", "no_truncate")]
    raise ValidationError(f"no append-only triggers for {dialect_name!r}", code="unsupported_database")


def _create_triggers(table: Table, connection: Connection, **_: Any) -> None:
    for stmt in append_only_ddl(connection.dialect.name, table.name):
        connection.exec_driver_sql(stmt)


def _refuse(target: Any, op: str) -> None:
    table = type(target).__tablename__
    raise Conflict(f"{table} is append-only: rows cannot be {op}", code="append_only", table=table)


def _refuse_update(_mapper: Mapper[Any], _connection: Connection, target: Any) -> None:
    session = object_session(target)
    # The ORM calls before_update for every dirty object, even one whose attributes net to no change.
    if session is None or session.is_modified(target, include_collections=False):
        _refuse(target, "updated")


def _refuse_delete(_mapper: Mapper[Any], _connection: Connection, target: Any) -> None:
    _refuse(target, "deleted")


def make_append_only(model: M) -> M:
    """Class decorator: refuse UPDATE/DELETE of `model`'s rows in the ORM and, on `create_all`, in the DB."""
    table: Table = model.__table__  # type: ignore[attr-defined]
    event.listen(table, "after_create", _create_triggers)
    event.listen(model, "before_update", _refuse_update)
    event.listen(model, "before_delete", _refuse_delete)
    return model


@make_append_only
class AuditEntry(Base):
    """One audited action. `payload` holds what changed (amounts as strings, never floats)."""

    __tablename__ = "audit_log"
    __table_args__ = (
        Index(None, "entity", "entity_id"),
        Index(None, "at"),
    )

    id: Mapped[int] = mapped_column(PK_TYPE, primary_key=True, autoincrement=True)
    at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    actor: Mapped[str] = mapped_column(String(128))
    action: Mapped[str] = mapped_column(String(64))
    entity: Mapped[str] = mapped_column(String(64))
    entity_id: Mapped[str] = mapped_column(String(64))
    payload: Mapped[dict[str, Any]] = mapped_column(JSON_TYPE, default=dict)
    business_date: Mapped[date | None] = mapped_column(Date())

    def __repr__(self) -> str:
        return f"AuditEntry({self.id}, {self.action} {self.entity}:{self.entity_id} by {self.actor})"


def _text(value: Any, field: str, limit: int) -> str:
    text = str(value).strip() if value is not None else ""
    if not text or len(text) > limit:
        raise ValidationError(
            f"audit {field}: must be 1–{limit} characters, got {value!r}", code="bad_audit_field", field=field
        )
    return text


def record(
    session: Session,
    *,
    actor: str,
    action: str,
    entity: str,
    entity_id: Any,
    payload: dict[str, Any] | None = None,
    business_date: date | None = None,
    at: datetime | None = None,
) -> AuditEntry:
    """Add one audit entry to `session`'s transaction (it commits or rolls back with the change it records).

    `actor` is who acted ("staff:wang.li", "partner:tax-portal", "system:eod"), `action` a verb in
    snake_case ("drawdown", "freeze_line"), `entity`/`entity_id` the thing acted on, `business_date` the
    as-of date of the action (营业日), `at` the wall-clock instant (default now).
    """
    entry = AuditEntry(
        actor=_text(actor, "actor", 128),
        action=_text(action, "action", 64),
        entity=_text(entity, "entity", 64),
        entity_id=_text(entity_id, "entity_id", 64),
        payload=dict(payload) if payload else {},
        business_date=business_date,
        at=at or utcnow(),
    )
    session.add(entry)
    return entry


def history(session: Session, entity: str, entity_id: Any) -> list[AuditEntry]:
    """The audit entries of one entity, oldest first."""
    stmt = (
        select(AuditEntry)
        .where(AuditEntry.entity == entity, AuditEntry.entity_id == str(entity_id))
        .order_by(AuditEntry.id)
    )
    return list(session.scalars(stmt))
