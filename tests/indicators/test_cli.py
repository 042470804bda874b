"""`puhui indicators` and `puhui profile`, run through Typer on the indicator CLI app."""

from __future__ import annotations

import json
from pathlib import Path

from typer.testing import CliRunner

from puhui.indicators.cli import app
from puhui.indicators.library import Library

from .conftest import copy_home

runner = CliRunner()


def test_indicators_writes_the_table_and_prints_coverage_then_profile(
    universe: Path, library: Library, tmp_path: Path
) -> None:
    home = copy_home(universe, tmp_path / "cli")
    r = runner.invoke(app, ["indicators", "--as-of", "2026-09-30", "--home", str(home), "--chunk-size", "800"])
    assert r.exit_code == 0, r.output
    assert "Coverage by dimension" in r.output and "征信 Credit bureau" in r.output
    assert (home / "indicators" / "as_of=2026-09-30" / "part-00000.parquet").exists()
    assert "see a profile: puhui profile 9" in r.output
    r = runner.invoke(app, ["indicators", "--as-of", "2026-10-31", "--home", str(home), "--drift-from", "2026-09-30"])
    assert r.exit_code == 0, r.output
    assert "Drift 2026-09-30 → 2026-10-31" in r.output and "Largest shifts" in r.output
    import pyarrow.parquet as pq

    uscc = pq.read_table(home / "indicators" / "as_of=2026-09-30").column("uscc")[0].as_py()
    r = runner.invoke(app, ["profile", uscc, "--as-of", "2026-09-30", "--home", str(home), "--json"])
    assert r.exit_code == 0, r.output
    body = json.loads(r.output)
    assert body["uscc"] == uscc and len(body["dimensions"]) == len(library.dimensions)
    r = runner.invoke(app, ["profile", uscc, "--as-of", "2026-09-30", "--home", str(home)])
    assert r.exit_code == 0 and "sources present" in r.output and "percentiles within section" in r.output


def test_errors_print_their_code_and_exit_2(universe: Path) -> None:
    r = runner.invoke(app, ["profile", "91110108551385082Y", "--as-of", "2026-06-30", "--home", str(universe)])
    assert r.exit_code == 2
    assert "[uscc_check]" in r.output
    r = runner.invoke(app, ["indicators", "--as-of", "2031-01-01", "--home", str(universe)])
    assert r.exit_code == 2 and "[as_of_in_future]" in r.output
