"""The audit trail is written with the change it records and can never be altered, on either engine."""

from __future__ import annotations

from datetime import UTC, date, datetime
from decimal import Decimal

import pytest
from sqlalchemy import Engine, func, select, text
from sqlalchemy.exc import IntegrityError

from puhui.core.errors import Conflict, ValidationError
from puhui.store import audit, transaction
from puhui.store.audit import AuditEntry


def _count(engine: Engine) -> int:
    with transaction(engine, write=False) as s:
        return int(s.scalar(select(func.count()).select_from(AuditEntry)))


def test_record_and_history(db_engine: Engine) -> None:
    at = datetime(2026, 11, 29, 1, 2, 3, tzinfo=UTC)
    with transaction(db_engine) as s:
        audit.record(
            s,
            actor="staff:wang.li",
            action="freeze_line",
            entity="credit_line",
            entity_id=7,
            payload={"reason": "预警", "limit": Decimal("500000.00")},
            business_date=date(2026, 11, 28),
            at=at,
        )
        audit.record(s, actor="system:eod", action="unfreeze_line", entity="credit_line", entity_id="7")
        audit.record(s, actor="system:eod", action="accrue", entity="loan", entity_id=7)
    with transaction(db_engine, write=False) as s:
        trail = audit.history(s, "credit_line", 7)
    assert [e.action for e in trail] == ["freeze_line", "unfreeze_line"]
    first = trail[0]
    assert (first.actor, first.entity_id, first.business_date, first.at) == (
        "staff:wang.li",
        "7",
        date(2026, 11, 28),
        at,
    )
    assert first.payload == {"reason": "预警", "limit": "500000.00"}
    assert trail[1].payload == {}
    assert trail[1].at.tzinfo is UTC


def test_audit_rolls_back_with_the_change(db_engine: Engine) -> None:
    with pytest.raises(ValueError, match="posting failed"), transaction(db_engine) as s:
        audit.record(s, actor="system", action="drawdown", entity="loan", entity_id=1)
        s.flush()
        raise ValueError("posting failed")
    assert _count(db_engine) == 0


@pytest.mark.parametrize("field", ["actor", "action", "entity", "entity_id"])
def test_blank_or_oversized_fields_are_refused(db_engine: Engine, field: str) -> None:
    args = {"actor": "a", "action": "b", "entity": "c", "entity_id": "d"}
    for bad in ("  ", "x" * 200):
        with pytest.raises(ValidationError) as err, transaction(db_engine) as s:
            audit.record(s, **{**args, field: bad})
        assert err.value.details["field"] == field


def test_orm_refuses_update_and_delete(db_engine: Engine) -> None:
    with transaction(db_engine) as s:
        entry = audit.record(s, actor="a", action="b", entity="c", entity_id="d")
    with pytest.raises(Conflict) as err, transaction(db_engine) as s:
        s.get(AuditEntry, entry.id).actor = "someone else"
    assert err.value.code == "append_only"
    with pytest.raises(Conflict), transaction(db_engine) as s:
        s.delete(s.get(AuditEntry, entry.id))
    with transaction(db_engine) as s:  # touching without a net change is harmless
        row = s.get(AuditEntry, entry.id)
        row.actor = row.actor
    with transaction(db_engine, write=False) as s:
        assert s.get(AuditEntry, entry.id).actor == "a"


@pytest.mark.parametrize(
    "sql", ["UPDATE audit_log SET actor = 'x'", "DELETE FROM audit_log", "UPDATE audit_log SET payload = NULL"]
)
def test_database_triggers_refuse_raw_sql(db_engine: Engine, sql: str) -> None:
    with transaction(db_engine) as s:
        audit.record(s, actor="a", action="b", entity="c", entity_id="d")
    with pytest.raises(IntegrityError, match="append-only"), db_engine.begin() as c:
        c.execute(text(sql))
    assert _count(db_engine) == 1


@pytest.mark.postgres
def test_postgres_refuses_truncate(pg_url: str) -> None:
    from puhui.store import load_models, make_engine

    e = make_engine(pg_url)
    load_models().create_all(e)
    with pytest.raises(IntegrityError, match="append-only"), e.begin() as c:
        c.execute(text("TRUNCATE audit_log"))
    e.dispose()
