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

from puhui.core.errors import PuhuiError

app = typer.Typer(name="puhui", help="普惠 puhui: online, data-driven lending to small and micro enterprises.",
                  no_args_is_help=True, pretty_exceptions_enable=False)
db_app = typer.Typer(help="The transactional store (SQLite by default, PostgreSQL via PUHUI_DATABASE_URL).")
app.add_typer(db_app, name="db")
console = Console()
err_console = Console(stderr=True)


def _fail(e: PuhuiError) -> typer.Exit:
    err_console.print(f"[bold red]error[/] [{e.code}] {e.message}")
    return typer.Exit(code=2)


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
) -> None:
    """Load a CSV/Parquet file into the raw zone; bad rows go to quarantine with the reason."""
    from puhui.data.ingest import ingest_file, print_report

    try:
        report = ingest_file(source, file, home=home)
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


@db_app.command("upgrade")
def db_upgrade() -> None:
    """Apply the Alembic migrations to the configured database."""
    from puhui.store.migrate import upgrade

    upgrade()
    console.print("database is at the latest schema")


if __name__ == "__main__":
    app()
