"""Engines and transactions: SQLite pragmas, URL handling, commit/rollback, row locks under threads.

The lost-update test is the pattern of the concurrent drawdowns: N threads read a row, add to it and
write it back; without a lock some increments vanish, with `get_for_update` in `transaction()` none do
(PostgreSQL: SELECT … FOR UPDATE; SQLite: BEGIN IMMEDIATE).
"""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from decimal import Decimal

import pytest
from sqlalchemy import Engine, select, text

from puhui.core.errors import Conflict, NotFound, ValidationError
from puhui.store import get_for_update, make_engine, normalise_url, transaction
from tests.store import Counter, TestBase

THREADS = 16


@pytest.fixture
def engine(db_url: str) -> Iterator[Engine]:
    e = make_engine(db_url)
    TestBase.metadata.create_all(e)
    yield e
    e.dispose()


def test_urls_are_normalised_to_psycopg_and_unknown_engines_refused() -> None:
    assert normalise_url("postgresql://u@h:5432/d").drivername == "postgresql+psycopg"
    assert normalise_url("postgres://u@h/d").drivername == "postgresql+psycopg"
    assert normalise_url("sqlite:///x.sqlite").drivername == "sqlite"
    with pytest.raises(ValidationError) as err:
        normalise_url("mysql://u@h/d")
    assert err.value.code == "unsupported_database"


def test_default_url_is_a_sqlite_file_under_puhui_home(tmp_path, monkeypatch) -> None:
    monkeypatch.delenv("PUHUI_DATABASE_URL", raising=False)
    monkeypatch.setenv("PUHUI_HOME", str(tmp_path / "home"))
    url = normalise_url()
    assert url.drivername == "sqlite"
    assert url.database == str(tmp_path / "home" / "puhui.sqlite")
    monkeypatch.setenv("PUHUI_DATABASE_URL", "postgresql://postgres@127.0.0.1:5432/test")
    assert normalise_url().drivername == "postgresql+psycopg"


def test_sqlite_connections_use_wal_foreign_keys_and_a_busy_timeout(tmp_path) -> None:
    e = make_engine(f"sqlite:///{tmp_path / 'sub' / 'dir' / 'db.sqlite'}")  # parent folders are created
    with e.connect() as c:
        assert c.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"
        assert c.exec_driver_sql("PRAGMA foreign_keys").scalar() == 1
        assert c.exec_driver_sql("PRAGMA busy_timeout").scalar() == 30_000
    e.dispose()


def test_sqlite_writers_begin_immediate_and_readers_deferred(sqlite_url: str) -> None:
    e = make_engine(sqlite_url, sqlite_busy_timeout_ms=50)
    TestBase.metadata.create_all(e)
    # While a writer transaction is open, even before it writes, a second writer cannot begin …
    with transaction(e) as first:
        first.execute(text("SELECT 1"))
        with pytest.raises(Conflict) as err, transaction(e):
            pass
        assert err.value.code == "store_busy"
        # … but a reader can (WAL), and it sees the last committed state.
        with transaction(e, write=False) as reader:
            assert reader.scalar(select(Counter.id)) is None
    e.dispose()


def test_commit_on_success_rollback_on_error(engine: Engine) -> None:
    with transaction(engine) as s:
        s.add(Counter(id=1, value=5))
    with pytest.raises(RuntimeError, match="boom"), transaction(engine) as s:
        s.get(Counter, 1).value = 99
        s.flush()
        raise RuntimeError("boom")
    with transaction(engine, write=False) as s:
        row = s.get(Counter, 1)
    assert row.value == 5  # readable after the session closed (expire_on_commit=False)


def test_get_for_update_missing_row_is_not_found(engine: Engine) -> None:
    with pytest.raises(NotFound) as err, transaction(engine) as s:
        get_for_update(s, Counter, 404)
    assert err.value.details == {"entity": "t_counters", "id": "404"}


def test_get_for_update_refuses_a_sqlite_read_transaction(sqlite_url: str) -> None:
    e = make_engine(sqlite_url)
    TestBase.metadata.create_all(e)
    with pytest.raises(RuntimeError, match="writing transaction"), transaction(e, write=False) as s:
        get_for_update(s, Counter, 1)
    e.dispose()


def _hammer(engine: Engine, work) -> list[BaseException]:
    barrier = threading.Barrier(THREADS)
    errors: list[BaseException] = []

    def run() -> None:
        try:
            barrier.wait()
            work()
        except BaseException as e:  # collected and asserted below
            errors.append(e)

    threads = [threading.Thread(target=run) for _ in range(THREADS)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    return errors


def test_locked_read_modify_write_loses_no_update(engine: Engine) -> None:
    with transaction(engine) as s:
        s.add(Counter(id=1, value=0, balance=Decimal("0")))

    def increment() -> None:
        with transaction(engine) as s:
            row = get_for_update(s, Counter, 1)
            value, balance = row.value, row.balance
            time.sleep(0.002)  # widen the race window: without the lock, increments would be lost
            row.value, row.balance = value + 1, balance + Decimal("0.01")

    assert _hammer(engine, increment) == []
    with transaction(engine, write=False) as s:
        row = s.get(Counter, 1)
    assert (row.value, row.balance) == (THREADS, Decimal("0.01") * THREADS)


@pytest.mark.postgres
def test_without_the_lock_postgres_loses_updates(pg_url: str) -> None:
    """The control experiment: the same work with a plain SELECT loses increments under READ COMMITTED."""
    e = make_engine(pg_url)
    TestBase.metadata.create_all(e)
    with transaction(e) as s:
        s.add(Counter(id=1, value=0))

    def increment() -> None:
        with transaction(e) as s:
            row = s.get(Counter, 1)
            value = row.value
            time.sleep(0.02)
            row.value = value + 1

    assert _hammer(e, increment) == []
    with transaction(e, write=False) as s:
        lost = THREADS - s.get(Counter, 1).value
    e.dispose()
    assert lost > 0


@pytest.mark.postgres
def test_postgres_lock_timeout_becomes_store_busy(pg_url: str) -> None:
    e = make_engine(pg_url)
    TestBase.metadata.create_all(e)
    with transaction(e) as s:
        s.add(Counter(id=1, value=0))
    with transaction(e) as holder:
        get_for_update(holder, Counter, 1)
        with pytest.raises(Conflict) as err, transaction(e) as s:
            s.execute(text("SET LOCAL lock_timeout = '50ms'"))
            get_for_update(s, Counter, 1)
    e.dispose()
    assert err.value.code == "store_busy"
    assert err.value.http_status == 409
