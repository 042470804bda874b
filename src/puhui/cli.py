"""The `puhui` command line: one thin command per job, each delegating to a service in its package.

Commands import their package lazily so `puhui --help` stays fast. Errors from the `PuhuiError` tree are
printed as one clear line (code, message) with exit status 2; anything else is a bug and keeps its
traceback.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console

from puhui.clikit import fail as _fail
from puhui.core.errors import PuhuiError

app = typer.Typer(name="puhui", help="普惠 puhui: online, data-driven lending to small and micro enterprises.",
                  no_args_is_help=True, pretty_exceptions_enable=False)
db_app = typer.Typer(help="The transactional store (SQLite by default, PostgreSQL via PUHUI_DATABASE_URL).")
app.add_typer(db_app, name="db")


def _mount_subapps() -> None:
    """Capability packages own their sub-commands; mounted here so `puhui --help` lists them."""
    from puhui.collateral.cli import avm_app, revalue
    from puhui.decisioning.cli import mount as mount_decisioning
    from puhui.decisioning.walk import journey_command
    from puhui.indicators import cli as indicators_cli
    from puhui.lending.cli import register as register_lending
    from puhui.models.cli import model_app
    from puhui.models.cli_monitor import register as register_model_monitor
    from puhui.models.cli_registry import mount as mount_model_registry
    from puhui.models.cli_reject import reject_inference
    from puhui.models.cli_universe import evaluate_universe
    from puhui.monitoring.cli import monitor_app
    from puhui.supplychain.cli import vouchers_app

    app.add_typer(avm_app, name="avm", help="Automated valuation model: fit, evaluate, value a unit.")
    collateral_app = typer.Typer(help="Collateral loans (网贷通 / e抵快贷): pledged properties and their lines.")
    collateral_app.command("revalue")(revalue)
    app.add_typer(collateral_app, name="collateral")
    app.add_typer(vouchers_app, name="vouchers", help="Supply chain: chains, chain limits, credit vouchers.")
    app.add_typer(monitor_app, name="monitor", help="Early warnings: monitoring runs and the alert queue.")
    model_app.command("evaluate")(evaluate_universe)  # on the synthetic universe, against the oracle
    model_app.command("reject-inference")(reject_inference)  # reject inference vs approved-only training
    register_model_monitor(model_app)  # puhui model report, puhui model monitor
    mount_model_registry(model_app)  # puhui model list/show/register/promote/rollback/retrain/shadow
    app.add_typer(model_app, name="model", help="Credit models: scorecards and LightGBM challengers.")
    register_lending(app)  # puhui eod, puhui trial-balance
    app.command("indicators")(indicators_cli.indicators)
    app.command("profile")(indicators_cli.profile)
    mount_decisioning(app)  # puhui preapprove, puhui policy …, puhui decision show/replay
    app.command("journey")(journey_command)  # walk one enterprise over HTTP: consent → … → repay


_mount_subapps()
console = Console()




@app.command()
def synth(
    enterprises: Annotated[int, typer.Option(help="Number of enterprises.")] = 20_000,
    months: Annotated[int, typer.Option(help="Months of history.")] = 36,
    seed: Annotated[int, typer.Option(help="Random seed; the same seed gives identical files.")] = 20261129,
    end_month: Annotated[str, typer.Option(help="Last month of history, YYYY-MM.")] = "2026-10",
    chunk_size: Annotated[int, typer.Option(help="Enterprises per chunk (bounds memory).")] = 20_000,
    home: Annotated[Path | None, typer.Option(help="PUHUI_HOME to write into (default ./var).")] = None,
    fresh: Annotated[bool, typer.Option(help="Delete an existing universe first instead of resuming.")] = False,
) -> None:
    """Generate the synthetic SME universe into the raw zone (resumable; progress bar)."""
    from puhui.data.synth.runner import SynthConfig, run_synth

    try:
        run_synth(SynthConfig(enterprises=enterprises, months=months, seed=seed, end_month=end_month,
                              chunk_size=chunk_size), home=home, fresh=fresh, console=console)
    except PuhuiError as e:
        raise _fail(e) from e


@app.command()
def ingest(
    source: Annotated[str, typer.Argument(help="Source name (a data contract), e.g. tax_monthly.")],
    file: Annotated[Path, typer.Argument(help="CSV or Parquet file in the source's contract.")],
    home: Annotated[Path | None, typer.Option(help="PUHUI_HOME (default ./var).")] = None,
    as_of: Annotated[str | None, typer.Option(help="Business date for future-date checks (default: today).")] = None,
    encoding: Annotated[str, typer.Option(help="Text encoding of a CSV file (e.g. gb18030).")] = "utf-8",
) -> None:
    """Load a CSV/Parquet file into the raw zone; bad rows go to quarantine with the reason."""
    from puhui.core.dates import parse_date
    from puhui.data.ingest import ingest_file, print_report

    try:
        as_of_date = parse_date(as_of, field="as_of") if as_of else None
        report = ingest_file(source, file, home=home, as_of=as_of_date, encoding=encoding)
    except PuhuiError as e:
        raise _fail(e) from e
    print_report(report, console)


@app.command()
def summary(home: Annotated[Path | None, typer.Option(help="PUHUI_HOME (default ./var).")] = None) -> None:
    """Summarise the universe: enterprises by industry and size class, default rate, source coverage."""
    from puhui.data.summary import print_summary

    try:
        print_summary(home=home, console=console)
    except PuhuiError as e:
        raise _fail(e) from e


@app.command()
def schedule(
    principal: Annotated[str, typer.Option(help="Principal (本金) in yuan, e.g. 100000 or 100000.00.")],
    annual_rate: Annotated[str, typer.Option(help="Contract 年利率: a fraction (0.0435) or a percent (4.35%).")],
    term: Annotated[int, typer.Option(help="Term in months.")],
    method: Annotated[str, typer.Option(
        help="equal_instalment (等额本息), equal_principal (等额本金), interest_only (按月付息到期还本), "
             "revolving (随借随还) or bullet (到期一次还本付息).")],
    day_count: Annotated[str, typer.Option(help="ACT/360, ACT/365F, ACT/ACT or 30/360.")] = "ACT/360",
    start: Annotated[str | None, typer.Option(help="Value date YYYY-MM-DD (default: today, Asia/Shanghai).")] = None,
    rounding: Annotated[str, typer.Option(help="half_up, half_even, down, up, floor or ceiling.")] = "half_up",
    multiples_of: Annotated[str | None, typer.Option(help="Round the level instalment to this multiple.")] = None,
    repayment_day: Annotated[int | None, typer.Option(help="Fixed repayment / settlement day of month.")] = None,
    roll: Annotated[str, typer.Option(help="Holiday roll: following, modified_following, preceding, none.")
                    ] = "following",
    as_json: Annotated[bool, typer.Option("--json", help="Print the lines as JSON (money as strings).")] = False,
) -> None:
    """Print a repayment schedule (还款计划): period, due date, principal, interest, instalment, balance."""
    import json

    from puhui.core.dates import SystemClock
    from puhui.lending import LoanTerms, build_schedule

    try:
        terms = LoanTerms(
            principal=principal, annual_rate=annual_rate, term_months=term, method=method,
            start=start if start is not None else SystemClock().today(), day_count=day_count,
            rounding=rounding, multiples_of=multiples_of, repayment_day=repayment_day, roll=roll,
        )
        plan = build_schedule(terms)
    except PuhuiError as e:
        raise _fail(e) from e
    if as_json:
        typer.echo(json.dumps(plan.to_rows(), ensure_ascii=False, indent=2))
        return
    from rich.table import Table

    table = Table(title=f"{terms.method.chinese} {terms.principal} @ {terms.annual_rate} × {terms.term_months} "
                        f"months, {terms.day_count}, from {terms.start}")
    for name in ("period", "due date", "principal", "interest", "instalment", "balance"):
        table.add_column(name, justify="left" if name == "due date" else "right")
    for row in plan.to_rows():
        table.add_row(str(row["period"]), row["due_date"], row["principal"], row["interest"], row["instalment"],
                      row["balance"])
    table.add_section()
    table.add_row("total", "", str(plan.total_principal.amount), str(plan.total_interest.amount),
                  str(plan.total_payment.amount), "")
    console.print(table)


@app.command()
def serve(
    host: Annotated[str, typer.Option(help="Interface to bind.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="Port.")] = 8000,
    workers: Annotated[int, typer.Option(help="Uvicorn worker processes.")] = 1,
) -> None:
    """Serve the HTTP API (OpenAPI docs at /docs, served without any CDN)."""
    import uvicorn

    uvicorn.run("puhui.api.app:create_app", factory=True, host=host, port=port, workers=workers)


@db_app.command("upgrade")
def db_upgrade() -> None:
    """Apply the Alembic migrations to the configured database."""
    from puhui.store.migrate import upgrade

    upgrade()
    console.print("database is at the latest schema")


if __name__ == "__main__":
    app()
