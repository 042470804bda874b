"""Lending commands for the `puhui` CLI: `puhui eod --date D` and `puhui trial-balance`.

`register(app)` adds them to the main Typer app (`puhui/cli.py` calls it); each delegates to
`puhui.lending.eod.run_eod` or the service and prints a short Rich summary. The database is the configured
one (`PUHUI_DATABASE_URL`, else the SQLite file under `PUHUI_HOME`) unless `--database-url` says otherwise;
it must be migrated (`puhui db upgrade`). Errors of the `PuhuiError` tree print one line with their code and
exit with status 2.
"""

from __future__ import annotations

import sys
from typing import Annotated

import typer
from rich.console import Console
from rich.table import Table

from puhui.clikit import err_console, fail
from puhui.core.errors import PuhuiError

__all__ = ["eod", "register", "trial_balance"]



def _console() -> Console:
    # piped or captured output gets a wide page, so figures are never cut to fit 80 columns
    return Console() if sys.stdout.isatty() else Console(width=160)


def eod(
    date: Annotated[str, typer.Option("--date", help="Close every open business date through this one (YYYY-MM-DD).")],
    batch_size: Annotated[int, typer.Option(help="Borrowers per committed step (a crash resumes at the next).")]
    = 1000,
    database_url: Annotated[str | None, typer.Option(help="Database URL (default: the configured one).")] = None,
    progress: Annotated[bool, typer.Option(help="Show a progress bar.")] = True,
) -> None:
    """End of day: accrue, mark overdue, charge 罚息/复利, age, classify, expire lines, post and reconcile."""
    from puhui.lending.eod import run_eod
    from puhui.store import make_engine

    engine = make_engine(database_url)
    try:
        result = run_eod(engine, until=date, batch_size=batch_size, progress=err_console if progress else False)
    except PuhuiError as e:
        raise fail(e) from e
    finally:
        engine.dispose()
    console = _console()
    if not result.days:
        console.print(f"nothing to do: no business date through {date} is open")
        return
    table = Table(title="end of day")
    for name in ("business date", "steps run", "resumed", "loans", "interest", "罚息/复利", "lines expired"):
        table.add_column(name, no_wrap=True, min_width=10 if name == "business date" else None,
                         justify="left" if name == "business date" else "right")
    for d in result.days:
        table.add_row(d.business_date.isoformat(), str(d.steps), str(d.steps_skipped), str(d.loans),
                      str(d.interest), str(d.penalty), str(d.lines_expired))
    console.print(table)
    console.print("reconciled: loan sub-ledger = GL control accounts; trial balance balances")


def trial_balance(
    database_url: Annotated[str | None, typer.Option(help="Database URL (default: the configured one).")] = None,
) -> None:
    """The trial balance (试算平衡表) of the lending ledger."""
    from puhui.lending.service import trial_balance as _tb
    from puhui.store import make_engine

    engine = make_engine(database_url)
    try:
        tb = _tb(engine)
    except PuhuiError as e:
        raise fail(e) from e
    finally:
        engine.dispose()
    console = _console()
    table = Table(title="trial balance 试算平衡表")
    for name in ("code", "account", "名称", "debit", "credit"):
        table.add_column(name, no_wrap=True, min_width=7 if name == "code" else None,
                         justify="right" if name in ("debit", "credit") else "left")
    for r in tb.rows:
        table.add_row(r.account.code, r.account.name, r.account.chinese, str(r.debit), str(r.credit))
    table.add_row("", "total (on balance)", "", str(tb.debits), str(tb.credits))
    table.add_row("", "total (memo)", "", str(tb.memo_debits), str(tb.memo_credits))
    console.print(table)
    if not tb.balanced:
        err_console.print("[bold red]the trial balance does not balance[/]")
        raise typer.Exit(code=1)


def register(app: typer.Typer) -> None:
    """Add `eod` and `trial-balance` to the main `puhui` app."""
    app.command("eod")(eod)
    app.command("trial-balance")(trial_balance)
