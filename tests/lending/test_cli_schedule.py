"""`puhui schedule`: JSON and table output, and bad options → exit code 2 with a one-line error."""

from __future__ import annotations

import json
from decimal import Decimal

from typer.testing import CliRunner

from puhui.cli import app

runner = CliRunner()
V1 = ["schedule", "--principal", "12000", "--annual-rate", "24%", "--term", "4", "--method", "等额本息",
      "--start", "2011-09-20", "--rounding", "half_even"]


def test_json_output_matches_fineract_v1() -> None:
    result = runner.invoke(app, [*V1, "--json"])
    assert result.exit_code == 0, result.output
    rows = json.loads(result.stdout)
    assert [r["period"] for r in rows] == [1, 2, 3, 4]
    assert set(rows[0]) == {"period", "due_date", "principal", "interest", "instalment", "balance"}
    assert rows[0] == {"period": 1, "due_date": "2011-10-20", "principal": "2911.49", "interest": "240.00",
                       "instalment": "3151.49", "balance": "9088.51"}
    assert rows[-1]["balance"] == "0.00"
    assert sum(Decimal(r["interest"]) for r in rows) == Decimal("605.94")


def test_all_options() -> None:
    result = runner.invoke(app, ["schedule", "--principal", "100000", "--annual-rate", "0.0435", "--term", "6",
                                 "--method", "revolving", "--day-count", "ACT/365F", "--start", "2026-01-05",
                                 "--rounding", "down", "--repayment-day", "20", "--roll", "preceding", "--json"])
    assert result.exit_code == 0, result.output
    rows = json.loads(result.stdout)
    assert rows[0]["interest"] == "178.76"  # 100,000 × 4.35% × 15/365 = 178.767 rounded down
    assert rows[-1]["principal"] == "100000.00"


def test_multiples_of_option() -> None:
    result = runner.invoke(app, ["schedule", "--principal", "100000", "--annual-rate", "0.0435", "--term", "12",
                                 "--method", "emi", "--start", "2026-01-15", "--multiples-of", "10", "--json"])
    assert result.exit_code == 0, result.output
    assert {r["instalment"] for r in json.loads(result.stdout)[:-1]} == {"8530.00"}


def test_table_output() -> None:
    result = runner.invoke(app, V1)
    assert result.exit_code == 0, result.output
    assert "等额本息" in result.stdout
    assert "3151.49" in result.stdout and "605.94" in result.stdout


def test_bad_options_exit_2_with_a_clear_error() -> None:
    cases = [
        (["--method", "balloon"], "unknown repayment method"),
        (["--day-count", "ACT/364"], "unknown day count"),
        (["--annual-rate", "abc"], "not a number"),
        (["--annual-rate", "24"], "exceeds"),
        (["--principal", "-5"], "principal must be positive"),
        (["--start", "2026-13-01"], "not a calendar date"),
        (["--rounding", "sometimes"], "unknown rounding mode"),
        (["--multiples-of", "0"], "multiples_of"),
    ]
    for extra, message in cases:
        args = [*V1, "--json"]
        for i in range(0, len(extra), 2):
            idx = args.index(extra[i]) if extra[i] in args else None
            if idx is None:
                args += extra[i:i + 2]
            else:
                args[idx + 1] = extra[i + 1]
        result = runner.invoke(app, args)
        assert result.exit_code == 2, (extra, result.output)
        assert message in " ".join(result.output.split()), (extra, result.output)
        assert "Traceback" not in result.output


def test_term_zero_and_missing_options_exit_2() -> None:
    args = [*V1]
    args[args.index("--term") + 1] = "0"
    assert runner.invoke(app, args).exit_code == 2
    assert runner.invoke(app, ["schedule", "--principal", "100"]).exit_code == 2
