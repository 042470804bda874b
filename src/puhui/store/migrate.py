"""Schema migrations: Alembic, configured in code, with its scripts shipped inside the package.

`upgrade(url)` brings a database (default: the configured one) to the latest schema — it is what
`puhui db upgrade` runs; `downgrade`, `current` and `schema_diff` serve tests and operations. There is no
alembic.ini: the script location is `puhui/store/migrations` wherever the package is installed, and the
connection is handed to `migrations/env.py` directly, so URLs with `%` or query options need no escaping.
On SQLite a migration runs in one `BEGIN IMMEDIATE` transaction (DDL is transactional there too) and
`render_as_batch` lets later revisions ALTER tables SQLite cannot alter in place.

New revision for tables added under `puhui/<package>/store.py`: `python -m puhui.store.migrate revision
"lending core"` autogenerates `versions/000N_lending_core.py` against a scratch SQLite database at head;
review it (types, indexes, `append_only_ddl` triggers, which autogenerate cannot see) before committing.
The migration test then proves that upgrade, on SQLite and PostgreSQL, yields exactly the models.
"""

from __future__ import annotations

import sys
import tempfile
from pathlib import Path
from typing import Any

from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.config import Config
from alembic.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import URL, Connection, Engine
from sqlalchemy import types as sa_types

from puhui.store.db import make_engine

__all__ = [
    "MIGRATIONS_DIR",
    "alembic_config",
    "current",
    "downgrade",
    "head",
    "make_revision",
    "render_item",
    "schema_diff",
    "upgrade",
]

MIGRATIONS_DIR = Path(__file__).resolve().parent / "migrations"


def alembic_config(connection: Connection | None = None) -> Config:
    """An Alembic Config pointing at the packaged scripts, optionally bound to an open connection."""
    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS_DIR))
    cfg.set_main_option("file_template", "%%(rev)s_%%(slug)s")
    cfg.set_main_option("truncate_slug_length", "40")
    if connection is not None:
        cfg.attributes["connection"] = connection
    return cfg


def render_item(type_: str, obj: Any, autogen_context: Any) -> str | bool:
    """Autogenerate hook: write puhui's column types by name (`puhui.store.types.Amount()`, `JSON_TYPE`,
    `PK_TYPE`) and import their module, so a new revision runs and reads cleanly as generated."""
    from puhui.store import types

    if type_ != "type":
        return False
    rendered: str | None = None
    if type(obj).__module__ == types.__name__:
        rendered = f"{types.__name__}.{obj!r}"
    elif isinstance(obj, sa_types.JSON) and obj._variant_mapping.keys() == types.JSON_TYPE._variant_mapping.keys():
        rendered = f"{types.__name__}.JSON_TYPE"
    elif isinstance(obj, sa_types.BigInteger) and obj._variant_mapping.keys() == types.PK_TYPE._variant_mapping.keys():
        rendered = f"{types.__name__}.PK_TYPE"
    if rendered is None:
        return False
    autogen_context.imports.add(f"import {types.__name__}")
    return rendered


def _with_connection(url: str | URL | None, fn: Any) -> Any:
    engine: Engine = make_engine(url)
    try:
        with engine.connect() as plain:
            conn = plain.execution_options(puhui_sqlite_begin="IMMEDIATE")
            with conn.begin():
                return fn(conn)
    finally:
        engine.dispose()


def upgrade(url: str | URL | None = None, revision: str = "head") -> None:
    """Apply migrations up to `revision` (default: the latest) on `url` (default: the configured database)."""
    _with_connection(url, lambda conn: command.upgrade(alembic_config(conn), revision))


def downgrade(url: str | URL | None = None, revision: str = "base") -> None:
    """Revert migrations down to `revision` (default: an empty schema)."""
    _with_connection(url, lambda conn: command.downgrade(alembic_config(conn), revision))


def current(url: str | URL | None = None) -> str | None:
    """The revision the database is at (None for a database never migrated)."""
    return _with_connection(url, lambda conn: MigrationContext.configure(conn).get_current_revision())


def head() -> str:
    """The latest revision shipped with this package."""
    heads = ScriptDirectory.from_config(alembic_config()).get_heads()
    if len(heads) != 1:
        raise RuntimeError(f"migrations must form one line, found heads {heads}")
    return heads[0]


def schema_diff(url: str | URL | None = None) -> list[Any]:
    """Differences between the database schema and the models (`[]` when migrations match the models)."""
    from puhui.store.base import load_models

    metadata = load_models()

    def _diff(conn: Connection) -> list[Any]:
        ctx = MigrationContext.configure(conn, opts={"compare_type": True, "compare_server_default": True})
        return list(compare_metadata(ctx, metadata))

    return _with_connection(url, _diff)


def make_revision(message: str, rev_id: str | None = None) -> Path:
    """Autogenerate the next revision (`000N_<slug>.py`) from the models, against a scratch SQLite at head."""
    script = ScriptDirectory.from_config(alembic_config())
    if rev_id is None:
        numbers = [int(r.revision) for r in script.walk_revisions() if r.revision.isdigit()]
        rev_id = f"{max(numbers, default=0) + 1:04d}"
    with tempfile.TemporaryDirectory() as tmp:
        url = f"sqlite:///{Path(tmp) / 'scratch.sqlite'}"
        upgrade(url)
        _with_connection(
            url, lambda conn: command.revision(alembic_config(conn), message, autogenerate=True, rev_id=rev_id)
        )
    return next(MIGRATIONS_DIR.joinpath("versions").glob(f"{rev_id}_*.py"))


def _main(argv: list[str]) -> int:
    if len(argv) >= 2 and argv[0] == "revision":
        print(make_revision(" ".join(argv[1:])))
        return 0
    print('usage: python -m puhui.store.migrate revision "message"')
    return 2


if __name__ == "__main__":
    sys.exit(_main(sys.argv[1:]))
