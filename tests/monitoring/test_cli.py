"""`puhui monitor` end to end on a migrated SQLite file: run (shipped signals), alerts, show, flag, close; the
migration's append-only trigger on the action log."""

from __future__ import annotations

import json
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from sqlalchemy import text
from sqlalchemy.exc import IntegrityError
from typer.testing import CliRunner

from puhui.cli import app
from puhui.indicators.batch import indicator_table_path
from puhui.monitoring.signals import load_signals
from puhui.store import make_engine, migrate
from tests.lending._lendkit import open_line
from tests.monitoring._kit import AS_OF, uscc

A, B = uscc(301), uscc(302)


@pytest.fixture
def home(tmp_path: Path) -> Path:
    """A table with every column the shipped signals read: A trips enforcement (red), B nothing."""
    cat = load_signals(check_indicators=False)
    is_bool = {s.indicator for s in cat.signals if s.op == "is"}
    folder = indicator_table_path(tmp_path, AS_OF)
    folder.mkdir(parents=True)
    data: dict[str, pa.Array] = {"uscc": pa.array([A, B])}
    for c in cat.indicators:
        data[c] = pa.array([False, False], pa.bool_()) if c in is_bool else pa.array([None, None], pa.float64())
    data["pr_enforcement_open"] = pa.array([1.0, 0.0])
    pq.write_table(pa.table(data), folder / "part-00000.parquet")
    (folder / "_manifest.json").write_text(json.dumps({"status": "complete", "columns": list(data)}))
    return tmp_path


def test_run_alerts_show_flag_close(home: Path, sqlite_url: str) -> None:
    migrate.upgrade(sqlite_url)
    engine = make_engine(sqlite_url)
    line = open_line(engine, borrower=A)
    runner = CliRunner()
    db = ["--database-url", sqlite_url]
    r = runner.invoke(app, ["monitor", "run", "--as-of", AS_OF.isoformat(), "--home", str(home), "--json", *db])
    assert r.exit_code == 0, r.output
    report = json.loads(r.stdout)
    assert (report["enterprises"], report["hits_by_tier"], report["lines_frozen"]) == (
        1, {"yellow": 0, "orange": 0, "red": 1}, 1)
    r = runner.invoke(app, ["monitor", "run", "--as-of", AS_OF.isoformat(), "--home", str(home), *db])
    assert r.exit_code == 0, r.output
    assert "enforcement_case" in r.stdout and "0 opened" in r.stdout
    r = runner.invoke(app, ["monitor", "alerts", "--tier", "red", "--json", *db])
    items = json.loads(r.stdout)["items"]
    assert [(a["uscc"], a["signal_id"], a["status"]) for a in items] == [(A, "enforcement_case", "actioned")]
    r = runner.invoke(app, ["monitor", "show", str(items[0]["alert_id"]), *db])
    assert r.exit_code == 0 and "freeze_line" in r.stdout
    r = runner.invoke(app, ["monitor", "flag", B, "--tier", "orange", "--reason", "现场检查发现停产",
                            "--as-of", AS_OF.isoformat(), "--json", *db])
    assert r.exit_code == 0, r.output
    flagged = json.loads(r.stdout)
    r = runner.invoke(app, ["monitor", "close", str(flagged["alert_id"]), "--reason", "resumed", "--code", "bogus",
                            *db])
    assert r.exit_code == 2 and "unknown_close_code" in r.output
    r = runner.invoke(app, ["monitor", "close", str(flagged["alert_id"]), "--reason", "resumed", *db])
    assert r.exit_code == 0 and "closed" in r.stdout
    r = runner.invoke(app, ["monitor", "alerts", "--tier", "purple", *db])
    assert r.exit_code == 2 and "unknown_tier" in r.output
    with engine.begin() as conn:
        assert conn.execute(text("SELECT status FROM credit_lines WHERE id = :i"), {"i": line}).scalar_one() == \
            "frozen"
    with pytest.raises(IntegrityError), engine.begin() as conn:  # the migration's append-only trigger
        conn.execute(text("UPDATE monitoring_alert_actions SET reason = 'edited'"))
    engine.dispose()


def test_run_without_a_table_fails_cleanly(tmp_path: Path, sqlite_url: str) -> None:
    migrate.upgrade(sqlite_url)
    r = CliRunner().invoke(app, ["monitor", "run", "--as-of", "2026-10-31", "--home", str(tmp_path),
                                 "--database-url", sqlite_url])
    assert r.exit_code == 2 and "indicator_table_missing" in r.output
