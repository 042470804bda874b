"""Shared fixtures: a database on SQLite and on PostgreSQL for every store test, isolated per test.

- `sqlite_url`: a fresh SQLite file under the test's tmp_path.
- `pg_url`: a fresh PostgreSQL schema with a unique name on `PUHUI_TEST_PG_URL` (default
  `postgresql+psycopg://postgres@127.0.0.1:5432/test`), selected through `options=-csearch_path=…` and
  dropped afterwards, so `pytest -n 2` workers never see each other's tables. If PostgreSQL is not
  reachable the test is skipped — unless `PUHUI_REQUIRE_PG=1` (CI, `.ci/run`), where it fails.
- `db_url`: parametrised over `sqlite` and `postgresql`; a test taking it runs on both engines.
- `db_engine`: an engine on `db_url` with every model's table created (`load_models().create_all`);
  the migration tests prove that the migrations build the same schema.

Tests that touch PostgreSQL get the `postgres` marker automatically (`pytest -m "not postgres"` skips them).
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import Engine
from sqlalchemy.engine import make_url

PG_DEFAULT_URL = "postgresql+psycopg://postgres@127.0.0.1:5432/test"


def _libpq(url: str) -> str:
    """A SQLAlchemy URL as a libpq connection string for psycopg."""
    return make_url(url).set(drivername="postgresql").render_as_string(hide_password=False)


@pytest.fixture(scope="session")
def pg_server() -> str:
    """The PostgreSQL URL for tests, checked reachable once per session (skip, or fail in CI)."""
    import psycopg

    from puhui.store.db import normalise_url

    url = normalise_url(os.environ.get("PUHUI_TEST_PG_URL", PG_DEFAULT_URL))
    shown = url.render_as_string(hide_password=True)
    try:
        psycopg.connect(_libpq(url.render_as_string(hide_password=False)), connect_timeout=3).close()
    except psycopg.Error as e:
        reason = f"PostgreSQL not reachable at {shown}: CI runs these tests ({str(e).strip().splitlines()[0]})"
        if os.environ.get("PUHUI_REQUIRE_PG") == "1":
            pytest.fail(reason + "; PUHUI_REQUIRE_PG=1 forbids skipping", pytrace=False)
        pytest.skip(reason)
    return url.render_as_string(hide_password=False)


@pytest.fixture
def pg_url(pg_server: str) -> Iterator[str]:
    """A fresh, empty schema of its own on the test PostgreSQL; dropped (with its sessions) afterwards."""
    import psycopg

    schema = f"t_{uuid.uuid4().hex[:20]}"
    admin = _libpq(pg_server)
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(f'CREATE SCHEMA "{schema}"')
    # application_name tags this test's sessions so teardown can end any a test left open.
    url = make_url(pg_server).update_query_dict({"options": f"-csearch_path={schema}", "application_name": schema})
    try:
        yield url.render_as_string(hide_password=False)
    finally:
        with psycopg.connect(admin, autocommit=True) as conn:
            conn.execute(
                "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                "WHERE application_name = %s AND pid <> pg_backend_pid()",
                (schema,),
            )
            conn.execute(f'DROP SCHEMA "{schema}" CASCADE')


@pytest.fixture
def sqlite_url(tmp_path: Path) -> str:
    """A fresh SQLite database file under this test's tmp_path."""
    return f"sqlite:///{tmp_path / 'puhui.sqlite'}"


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def db_url(request: pytest.FixtureRequest) -> str:
    """The same test on SQLite and on PostgreSQL: an empty database on each."""
    return request.getfixturevalue("sqlite_url" if request.param == "sqlite" else "pg_url")


@pytest.fixture
def db_engine(db_url: str) -> Iterator[Engine]:
    """An engine on `db_url` with every puhui table created (SQLite and PostgreSQL)."""
    from puhui.store import load_models, make_engine

    engine = make_engine(db_url)
    load_models().create_all(engine)
    try:
        yield engine
    finally:
        engine.dispose()


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        if {"pg_url", "pg_server"} & set(getattr(item, "fixturenames", ())):
            item.add_marker(pytest.mark.postgres)
