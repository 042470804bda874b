"""Engines, sessions and transactions for the transactional store, on SQLite or PostgreSQL alike.

`make_engine()` opens the configured database (`PUHUI_DATABASE_URL`, else the SQLite file under
`PUHUI_HOME`). On **SQLite** every connection runs in WAL mode (readers never block the writer) with
foreign keys on and a busy timeout, and SQLAlchemy, not the sqlite3 module, emits `BEGIN`, so that
`transaction()` can open writers with `BEGIN IMMEDIATE`: the write lock is taken up front and concurrent
writers queue on the busy timeout instead of failing half-way with "database is locked". On
**PostgreSQL** (psycopg 3; a plain `postgresql://` URL is normalised to `postgresql+psycopg://`) the
pool is pre-pinged and bounded, and isolation stays READ COMMITTED.

Locking a row for update (行锁), e.g. a credit line before a drawdown::

    with transaction(engine) as s:
        line = get_for_update(s, CreditLine, line_id)   # SELECT ... FOR UPDATE on PostgreSQL
        line.drawn += amount

On PostgreSQL `get_for_update` (like `select(...).with_for_update()`) locks that row until commit, and a
second transaction asking for it waits. SQLite has no row locks and silently drops `FOR UPDATE`; there
the lock is the whole database, already held since `BEGIN IMMEDIATE`, so the row cannot change under the
transaction either — stronger, and serial. `get_for_update` refuses to run on SQLite outside an immediate
transaction, where that guarantee would not hold.
"""

from __future__ import annotations

import threading
import weakref
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any, TypeVar

from sqlalchemy import Engine, create_engine, event
from sqlalchemy.engine import URL, Connection, make_url
from sqlalchemy.exc import DBAPIError, StatementError
from sqlalchemy.orm import Session, sessionmaker

from puhui import config
from puhui.core.errors import Conflict, NotFound, PuhuiError, ValidationError
from puhui.store.types import json_dumps, json_loads

__all__ = [
    "SQLITE_BUSY_TIMEOUT_MS",
    "get_for_update",
    "is_sqlite",
    "make_engine",
    "normalise_url",
    "session_factory",
    "transaction",
]

T = TypeVar("T")

#: How long a SQLite writer waits for the write lock before giving up ("database is locked").
SQLITE_BUSY_TIMEOUT_MS = 30_000

#: Execution option read by the SQLite BEGIN hook: DEFERRED (readers) or IMMEDIATE (writers).
_BEGIN_OPTION = "puhui_sqlite_begin"
_BEGIN_MODES = {"DEFERRED", "IMMEDIATE", "EXCLUSIVE"}

# One in-process writer queue per SQLite engine: threads of one process wait on a lock (woken the moment the
# writer commits) instead of in SQLite's busy handler, which sleeps in growing steps and stretches the tail
# latency under concurrent requests. Other processes still queue on the busy timeout.
_SQLITE_WRITERS: weakref.WeakKeyDictionary[Engine, tuple[threading.Lock, float]] = weakref.WeakKeyDictionary()

# PostgreSQL SQLSTATEs that mean "someone else holds it; retry the whole transaction".
_PG_RETRYABLE = {"40001", "40P01", "55P03"}  # serialization_failure, deadlock_detected, lock_not_available


def normalise_url(url: str | URL | None = None) -> URL:
    """The SQLAlchemy URL to use: `url`, else `config.database_url()`; PostgreSQL goes through psycopg 3."""
    u = make_url(url if url is not None else config.database_url())
    if u.drivername in {"postgresql", "postgres", "postgresql+psycopg2"}:
        u = u.set(drivername="postgresql+psycopg")
    if u.get_backend_name() not in {"sqlite", "postgresql"}:
        raise ValidationError(
            f"unsupported database {u.get_backend_name()!r} in {u.render_as_string(hide_password=True)}; "
            "use sqlite:///path or postgresql://…",
            code="unsupported_database",
            field="PUHUI_DATABASE_URL",
        )
    return u


def make_engine(
    url: str | URL | None = None, *, sqlite_busy_timeout_ms: int = SQLITE_BUSY_TIMEOUT_MS, **overrides: Any
) -> Engine:
    """An engine for `url` (default: the configured database), set up as the module docstring says.

    `overrides` go to `sqlalchemy.create_engine` (e.g. `pool_size=20`, `echo=True`).
    """
    u = normalise_url(url)
    common: dict[str, Any] = {"json_serializer": json_dumps, "json_deserializer": json_loads}
    if u.get_backend_name() == "sqlite":
        if u.database and u.database != ":memory:" and not u.database.startswith("file:"):
            Path(u.database).parent.mkdir(parents=True, exist_ok=True)
        kwargs = {**common, "connect_args": {"timeout": sqlite_busy_timeout_ms / 1000}, **overrides}
        engine = create_engine(u, **kwargs)
        _install_sqlite_hooks(engine, sqlite_busy_timeout_ms)
        _SQLITE_WRITERS[engine] = (threading.Lock(), sqlite_busy_timeout_ms / 1000)
        return engine
    connect_args: dict[str, Any] = {"connect_timeout": 10}
    if "application_name" not in u.query:
        connect_args["application_name"] = "puhui"
    kwargs = {
        **common,
        "pool_pre_ping": True,
        "pool_size": 5,
        "max_overflow": 20,
        "pool_timeout": 30,
        "connect_args": connect_args,
        **overrides,
    }
    return create_engine(u, **kwargs)


def _install_sqlite_hooks(engine: Engine, busy_timeout_ms: int) -> None:
    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        # Hand BEGIN over to SQLAlchemy (the sqlite3 module's legacy mode would skip it for SELECT/DDL).
        dbapi_connection.isolation_level = None
        cur = dbapi_connection.cursor()
        try:
            cur.execute(f"PRAGMA busy_timeout = {int(busy_timeout_ms)}")
            cur.execute("PRAGMA foreign_keys = ON")
            cur.execute("PRAGMA journal_mode = WAL")  # persistent in the file; a no-op for :memory:
            # synchronous stays FULL (the default): a committed posting survives a power cut, not only a crash.
        finally:
            cur.close()

    @event.listens_for(engine, "begin")
    def _on_begin(conn: Connection) -> None:
        mode = str(conn.get_execution_options().get(_BEGIN_OPTION, "DEFERRED")).upper()
        if mode not in _BEGIN_MODES:
            raise ValueError(f"{_BEGIN_OPTION} must be one of {sorted(_BEGIN_MODES)}, not {mode!r}")
        conn.exec_driver_sql(f"BEGIN {mode}")


def is_sqlite(bind: Engine | Connection | Session) -> bool:
    """True when `bind` talks to SQLite (no row locks; a writer holds the whole database)."""
    if isinstance(bind, Session):
        bind = bind.get_bind()
    return bind.dialect.name == "sqlite"


def session_factory(engine: Engine) -> sessionmaker[Session]:
    """Sessions on `engine`; objects stay readable after commit (`expire_on_commit=False`)."""
    return sessionmaker(bind=engine, expire_on_commit=False)


@contextmanager
def transaction(bind: Engine | sessionmaker[Session], *, write: bool = True) -> Iterator[Session]:
    """One unit of work: a Session whose transaction commits on success and rolls back on any error.

    The transaction begins on entry. On SQLite a writer (`write=True`, the default) begins with
    `BEGIN IMMEDIATE` and so waits for, rather than collides with, other writers; `write=False` begins a
    deferred read transaction (a consistent snapshot that never blocks). On PostgreSQL both are a plain
    READ COMMITTED transaction.

    Errors leave as the `PuhuiError` tree where they can: a `ValidationError` raised while binding a
    value (a sub-fen amount, a naive datetime) is unwrapped from SQLAlchemy's `StatementError`, and a
    lock that cannot be had (SQLite busy timeout, PostgreSQL deadlock, serialisation failure or lock
    timeout) becomes `Conflict(code="store_busy")`, which a caller may retry.
    """
    factory = bind if isinstance(bind, sessionmaker) else session_factory(bind)
    writer = _SQLITE_WRITERS.get(factory.kw.get("bind")) if write else None  # type: ignore[arg-type]
    if writer is not None and not writer[0].acquire(timeout=writer[1]):
        raise Conflict("another writer held the database longer than the busy timeout; retry",
                       code="store_busy")  # fmt: skip
    session = factory()
    try:
        session.connection(execution_options={_BEGIN_OPTION: "IMMEDIATE" if write else "DEFERRED"})
        yield session
        session.commit()
    except StatementError as e:
        session.rollback()
        raise _translate(e) from e
    except BaseException:
        session.rollback()
        raise
    finally:
        session.close()
        if writer is not None:
            writer[0].release()


def _translate(e: StatementError) -> BaseException:
    if isinstance(e.orig, PuhuiError):
        return e.orig
    if isinstance(e, DBAPIError):
        orig = e.orig
        sqlstate = getattr(orig, "sqlstate", None)
        busy_sqlite = "database is locked" in str(orig) or "database is busy" in str(orig)
        if sqlstate in _PG_RETRYABLE or busy_sqlite:
            return Conflict(
                "the store is busy with a concurrent change; retry the request",
                code="store_busy",
                reason=str(orig).splitlines()[0] if str(orig) else type(orig).__name__,
            )
    return e


def get_for_update(session: Session, model: type[T], ident: Any) -> T:
    """Load `model` by primary key and lock its row until the transaction ends; NotFound if absent.

    PostgreSQL: `SELECT … FOR UPDATE` (other lockers wait). SQLite: the database-wide write lock of
    `transaction(engine)` (BEGIN IMMEDIATE) already serialises writers; calling this inside a deferred
    transaction raises RuntimeError, because there the row could change before the write.
    The object is refreshed from the row (`populate_existing`), so stale identity-map state never leaks in.
    """
    if is_sqlite(session):
        mode = session.connection().get_execution_options().get(_BEGIN_OPTION, "DEFERRED")
        if mode == "DEFERRED":
            raise RuntimeError(
                "get_for_update on SQLite needs a writing transaction: use `with transaction(engine) as s`"
            )
    obj = session.get(model, ident, with_for_update=True, populate_existing=True)
    if obj is None:
        name = getattr(model, "__tablename__", model.__name__)
        raise NotFound(f"{name} {ident!r} does not exist", code="not_found", entity=name, id=str(ident))
    return obj
