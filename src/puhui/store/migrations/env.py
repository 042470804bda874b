"""Alembic environment: migrate the connection that `puhui.store.migrate` hands over, against all models.

Run through `puhui.store.migrate` (or `puhui db upgrade`), never through an alembic.ini. Without a
connection in `config.attributes` it opens the configured database (`PUHUI_DATABASE_URL` or the SQLite
file under `PUHUI_HOME`). Offline (SQL script) mode is not supported.
"""

from __future__ import annotations

from alembic import context
from sqlalchemy import Connection

from puhui.store.base import load_models
from puhui.store.db import make_engine
from puhui.store.migrate import render_item

config = context.config
target_metadata = load_models()


def _run(connection: Connection) -> None:
    context.configure(
        connection=connection,
        target_metadata=target_metadata,
        compare_type=True,
        render_item=render_item,
        # SQLite cannot ALTER most things in place: later revisions use batch mode (copy and move).
        render_as_batch=connection.dialect.name == "sqlite",
    )
    with context.begin_transaction():
        context.run_migrations()


def run_migrations_online() -> None:
    connection = config.attributes.get("connection")
    if connection is not None:
        _run(connection)
        return
    engine = make_engine(config.get_main_option("sqlalchemy.url") or None)
    try:
        with engine.connect() as conn:
            _run(conn.execution_options(puhui_sqlite_begin="IMMEDIATE"))
            conn.commit()
    finally:
        engine.dispose()


if context.is_offline_mode():
    raise RuntimeError("offline (--sql) migrations are not supported; run puhui db upgrade against a database")
run_migrations_online()
