"""`puhui vouchers …`: the voucher flow from the command line on a migrated SQLite store, and errors as one
line with their code and exit status 2."""

from __future__ import annotations

import json
from pathlib import Path

from typer.testing import CliRunner

from puhui.store import migrate
from puhui.supplychain.cli import vouchers_app
from tests.supplychain._kit import BANK, CORE, T1, T2
from tests.supplychain.test_chains import make_raw_zone

runner = CliRunner()


def run(*args: str) -> str:
    r = runner.invoke(vouchers_app, list(args))
    assert r.exit_code == 0, r.output
    return r.output


def test_voucher_flow_from_the_command_line(tmp_path: Path) -> None:
    make_raw_zone(tmp_path / "raw")
    db = f"sqlite:///{tmp_path / 'cli.sqlite'}"
    migrate.upgrade(db)
    common = ["--database-url", db]
    cores = json.loads(run("chains", "--home", str(tmp_path), "--json", *common))
    assert (cores[0]["name"], cores[0]["limit"]) == ("北京核心制造集团有限公司", None)
    chain = json.loads(run("chain", CORE, "--home", str(tmp_path), "--as-of", "2026-04-06", "--json"))
    assert chain["tiers"] == {"1": 2, "2": 1}
    out = run("approve-limit", CORE, "--limit", "3000000", "--valid-from", "2025-06-15", "--valid-to", "2026-12-31",
              "--home", str(tmp_path), "--on", "2025-07-01", *common)
    assert "3000000.00" in out and "北京核心制造集团有限公司" in out
    run("confirm-payable", "AP1", "--core", CORE, "--supplier", T1, "--amount", "2000000", "--on", "2025-07-01",
        *common)
    issued = json.loads(run("issue", "AP1", "--face", "1000000", "--maturity", "2026-02-01", "--by", CORE,
                            "--on", "2025-07-01", "--json", *common))
    no = issued["voucher"]["voucher_no"]
    assert issued["voucher"]["tenor_review"] is True  # 7 months: flagged
    run("accept", f"{no}-1", "--by", T1, "--on", "2025-07-01", *common)
    split = json.loads(run("split", f"{no}-1", "--part", "300000", "--by", T1, "--on", "2025-07-02", "--json",
                           *common))
    assert [h["sub_ticket_range"] for h in split["holdings"][1:]] == ["1-30000000", "30000001-100000000"]
    run("transfer", f"{no}-2", "--to", T2, "--by", T1, "--on", "2025-07-02", *common)
    assert "awaiting your signature" in run("holdings", T2, *common)
    run("accept", f"{no}-2", "--by", T2, "--on", "2025-07-02", *common)
    out = run("finance", f"{no}-3", "--funder", BANK, "--rate", "2%", "--registration-ref", "ZD-CLI", "--by", T1,
              "--on", "2025-07-02", *common)
    assert "registration ZD-CLI" in out
    out = run("settle", no, "--on", "2026-02-02", *common)  # 2026-02-01 is a Sunday; paying a day later is fine
    assert "paid 1000000.00 in 2 payments to 2 recipients" in out
    assert json.loads(run("show", no, "--json", *common))["totals"]["settled"] == "1000000.00"
    hist = json.loads(run("history", no, "--json", *common))
    assert [e["kind"] for e in hist["events"]][-1] == "settled"
    assert "1 vouchers, 5 holdings" in run("check", *common)

    r = runner.invoke(vouchers_app, ["settle", no, "--on", "2026-02-02", *common])
    assert r.exit_code == 2 and "[already_settled]" in r.output
    r = runner.invoke(vouchers_app, ["split", f"{no}-4", "--part", "0.001", "--by", T2, *common])
    assert r.exit_code == 2 and "[sub_fen_amount]" in r.output


def test_discount_quote_needs_no_database() -> None:
    out = run("discount", "--face", "1000000", "--rate", "2%", "--maturity", "2025-04-01", "--start", "2025-01-01")
    assert "interest 5000.00, proceeds 995000.00" in out and "每十万贴息 500.00" in out


def test_unmigrated_database_is_a_clear_error(tmp_path: Path) -> None:
    r = runner.invoke(vouchers_app, ["show", "CV1", "--database-url", f"sqlite:///{tmp_path / 'empty.sqlite'}"])
    assert r.exit_code == 2 and "puhui db upgrade" in r.output
