"""`puhui eod --date D` and `puhui trial-balance` on a migrated SQLite store (via `register`)."""

from __future__ import annotations

import pytest
import typer
from sqlalchemy import text
from sqlalchemy.exc import DBAPIError
from typer.testing import CliRunner

from puhui.lending import cli as lending_cli
from puhui.lending import service
from puhui.store import make_engine, migrate
from tests.lending._lendkit import draw, open_line


def _app() -> typer.Typer:
    app = typer.Typer()
    lending_cli.register(app)
    return app


def test_eod_command_catches_up_and_is_idempotent(sqlite_url: str) -> None:
    migrate.upgrade(sqlite_url)
    engine = make_engine(sqlite_url)
    draw(engine, open_line(engine), "10000", method="bullet", term_months=1)
    engine.dispose()
    runner = CliRunner()
    r = runner.invoke(_app(), ["eod", "--date", "2026-01-09", "--database-url", sqlite_url, "--no-progress"])
    assert r.exit_code == 0, r.output
    assert "2026-01-09" in r.output and "reconciled" in r.output
    engine = make_engine(sqlite_url)
    assert service.business_date(engine)["open_date"] == "2026-01-10"
    engine.dispose()
    again = runner.invoke(_app(), ["eod", "--date", "2026-01-09", "--database-url", sqlite_url, "--no-progress"])
    assert again.exit_code == 0 and "nothing to do" in again.output
    bad = runner.invoke(_app(), ["eod", "--date", "2026-13-01", "--database-url", sqlite_url])
    assert bad.exit_code == 2
    tb = runner.invoke(_app(), ["trial-balance", "--database-url", sqlite_url])
    assert tb.exit_code == 0 and "1303.01" in tb.output and "10000.00" in tb.output
    # the migration (not only create_all) makes the ledger append-only in the database
    engine = make_engine(sqlite_url)
    for sql in ("UPDATE journal_postings SET amount = 0", "DELETE FROM eod_steps", "DELETE FROM loan_transactions",
                "UPDATE loan_contracts SET text = 'forged'", "DELETE FROM credit_line_changes"):
        with pytest.raises(DBAPIError), engine.begin() as c:
            c.execute(text(sql))
    engine.dispose()
