"""The `puhui monitor` commands (mounted by `puhui.cli`): the monitoring run and the alert work queue.

`run --as-of DATE` monitors the exposed portfolio (every enterprise with `--all`) on the batch indicator
table of that date under `--home`, with a Rich progress bar, and prints a summary by signal and tier (or
the report as JSON with `--json`); re-running it never duplicates an alert or a freeze. `alerts` lists
alerts (filters `--tier`, `--status`, `--uscc`, `--as-of`), `show ID` one alert with its actions, `ack`
and `close` work the queue, `flag USCC --tier` raises a manual alert (a core enterprise in distress, say).
The database is the configured one unless `--database-url`; it must be migrated (`puhui db upgrade`).
Errors of the `PuhuiError` tree print one line `[code] message` and exit with status 2.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.console import Console
from rich.markup import escape
from rich.table import Table

from puhui.clikit import err_console
from puhui.clikit import fail as _fail
from puhui.core.errors import PuhuiError

monitor_app = typer.Typer(help="Early warnings (风险集中监测, 分层预警): monitoring runs and the alert queue.",
                          no_args_is_help=True, pretty_exceptions_enable=False)
console = Console(soft_wrap=True)

DbOpt = Annotated[str | None, typer.Option("--database-url", help="Database URL (default: the configured one).")]
JsonOpt = Annotated[bool, typer.Option("--json", help="Print the answer as JSON.")]
ActorOpt = Annotated[str, typer.Option("--actor", help="Who acts, for the audit trail.")]
KeyOpt = Annotated[str | None, typer.Option("--idempotency-key", help="Idempotency key (default: a fresh one).")]
_TIER_STYLE = {"red": "bold red", "orange": "dark_orange", "yellow": "yellow"}


def _run(url: str | None, fn: Callable[[Any], Any]) -> Any:
    from sqlalchemy.exc import OperationalError, ProgrammingError

    from puhui.store import make_engine

    engine = make_engine(url)
    try:
        return fn(engine)
    except PuhuiError as e:
        raise _fail(e) from e
    except (OperationalError, ProgrammingError) as e:
        if "no such table" not in str(e) and "does not exist" not in str(e):
            raise
        err_console.print("[bold red]error[/] " + escape("[schema_missing] the database has no monitoring tables: "
                                                         "run `puhui db upgrade` first"), soft_wrap=True)
        raise typer.Exit(code=2) from e
    finally:
        engine.dispose()


def _emit(body: Any) -> None:
    typer.echo(json.dumps(body, ensure_ascii=False, indent=2, default=str))


def _answer(body: Any, as_json: bool, line: str) -> None:
    if as_json:
        _emit(body)
    else:
        console.print(line)


def _tier(t: str) -> str:
    return f"[{_TIER_STYLE.get(t, '')}]{t}[/]"


@monitor_app.command("run")
def run_cmd(
    as_of: Annotated[str, typer.Option("--as-of", help="As-of date YYYY-MM-DD of the indicator table to read.")],
    home: Annotated[Path | None, typer.Option(help="PUHUI_HOME with the indicator table (default ./var).")] = None,
    all_enterprises: Annotated[bool, typer.Option("--all", help="Every enterprise of the table, not only the "
                                                                "exposed (lines, loans, vouchers).")] = False,
    database_url: DbOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """Evaluate the early-warning signals and contagion, write the alerts, take the tier's actions."""
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

    from puhui.monitoring.service import run_monitoring

    progress = Progress(TextColumn("[bold]{task.description}"), BarColumn(), MofNCompleteColumn(),
                        TimeElapsedColumn(), console=Console(stderr=True), disable=as_json, transient=False)

    def work(engine: Any) -> Any:
        with progress:
            task = progress.add_task(f"monitoring as of {as_of}", total=0)

            def step(label: str, advance: int, total: int = 0) -> None:
                if total:
                    progress.update(task, total=(progress.tasks[0].total or 0) + total)
                progress.update(task, advance=advance, description=f"monitoring as of {as_of} · {label}")

            return run_monitoring(engine, home, as_of, all_enterprises=all_enterprises, step=step)

    report = _run(database_url, work)
    if as_json:
        _emit(report.to_dict())
        return
    table = Table("signal", "yellow", "orange", "red", title=f"Signals firing as of {report.as_of} "
                  f"({report.enterprises:,} enterprises, {report.scope})")
    totals = {"yellow": 0, "orange": 0, "red": 0}
    for sid, tiers in report.by_signal.items():
        table.add_row(sid, *(str(tiers.get(t, 0)) for t in totals))
        for t in totals:
            totals[t] += tiers.get(t, 0)
    table.add_section()
    table.add_row("hits", *(str(totals[t]) for t in totals))
    table.add_row("enterprises (worst tier)", *(str(report.worst_by_tier.get(t, 0)) for t in totals))
    table.add_row("live alerts", *(str(report.open_by_tier.get(t, 0)) for t in totals))
    console.print(table)
    note = f" ({report.contagion_note})" if report.contagion_note else ""
    console.print(f"alerts: {report.opened} opened, {report.refreshed} refreshed, {report.escalated} escalated, "
                  f"{report.unchanged} unchanged · contagion: {report.contagion_cores} distressed cores → "
                  f"{report.contagion_warnings} member warnings{escape(note)}")
    console.print(f"actions: {report.actions or 'none pending'} · lines frozen {report.lines_frozen}, already "
                  f"frozen {report.freeze_skipped}, failed {len(report.freeze_failed)} · {report.seconds:.2f} s "
                  f"({report.rows_per_second:,.0f} rows/s)")
    for f in report.freeze_failed:
        err_console.print(escape(f"freeze failed: alert {f['alert_id']} line {f['line_id']} [{f['code']}]"))


@monitor_app.command("alerts")
def alerts_cmd(
    tier: Annotated[str | None, typer.Option(help="yellow | orange | red")] = None,
    status: Annotated[str | None, typer.Option(help="open | acknowledged | actioned | closed | live")] = None,
    uscc: Annotated[str | None, typer.Option(help="One enterprise.")] = None,
    as_of: Annotated[str | None, typer.Option("--as-of", help="Alerts whose span contains this date.")] = None,
    limit: Annotated[int, typer.Option(help="At most this many (1–1000).")] = 50,
    database_url: DbOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """List alerts, most severe and newest first."""
    from puhui.monitoring.service import list_alerts

    out = _run(database_url, lambda e: list_alerts(e, tier=tier, status=status, uscc=uscc, as_of=as_of, limit=limit))
    if as_json:
        _emit(out)
        return
    table = Table("id", "uscc", "signal", "tier", "score", "status", "action", "as of", "last seen",
                  title=f"预警 alerts ({len(out['items'])} of {out['total']})")
    for a in out["items"]:
        table.add_row(str(a["alert_id"]), a["uscc"], a["signal_id"], _tier(a["tier"]), a["score"], a["status"],
                      a["action"], a["as_of"], a["last_seen_as_of"])
    console.print(table)


@monitor_app.command("show")
def show_cmd(alert_id: Annotated[int, typer.Argument(help="Alert id.")], database_url: DbOpt = None,
             as_json: JsonOpt = False) -> None:
    """One alert with its evidence and actions."""
    from puhui.monitoring.service import get_alert

    a = _run(database_url, lambda e: get_alert(e, alert_id))
    if as_json:
        _emit(a)
        return
    console.print(f"alert {a['alert_id']} {_tier(a['tier'])} {a['signal_id']} on {a['uscc']} ({a['source']}, "
                  f"{a['status']}, as of {a['as_of']}–{a['last_seen_as_of']}, action {a['action']})")
    console.print(escape(json.dumps(a["details"], ensure_ascii=False)))
    table = Table("at", "kind", "actor", "reason")
    for x in a["actions"]:
        table.add_row(x["at"][:19], x["kind"], x["actor"], x["reason"])
    console.print(table)


@monitor_app.command("ack")
def ack_cmd(alert_id: Annotated[int, typer.Argument(help="Alert id.")],
            reason: Annotated[str, typer.Option(help="What you saw or will do.")],
            actor: ActorOpt = "cli", key: KeyOpt = None, database_url: DbOpt = None, as_json: JsonOpt = False) -> None:
    """Acknowledge an alert (确认)."""
    from puhui.monitoring.service import do_acknowledge

    p = _run(database_url, lambda e: do_acknowledge(e, alert_id, actor=actor, reason=reason,
                                                    idempotency_key=key or f"cli-{uuid.uuid4()}"))
    _answer(p.body, as_json, f"alert {alert_id} {p.body['status']}")


@monitor_app.command("close")
def close_cmd(alert_id: Annotated[int, typer.Argument(help="Alert id.")],
              reason: Annotated[str, typer.Option(help="Why it closes.")],
              code: Annotated[str, typer.Option(help="false_positive | confirmed | resolved")] = "resolved",
              actor: ActorOpt = "cli", key: KeyOpt = None, database_url: DbOpt = None,
              as_json: JsonOpt = False) -> None:
    """Close an alert with a closure code (关闭)."""
    from puhui.monitoring.service import do_close

    p = _run(database_url, lambda e: do_close(e, alert_id, actor=actor, reason=reason, code=code,
                                              idempotency_key=key or f"cli-{uuid.uuid4()}"))
    _answer(p.body, as_json, f"alert {alert_id} closed ({code})")


@monitor_app.command("flag")
def flag_cmd(uscc: Annotated[str, typer.Argument(help="The enterprise (e.g. a core enterprise).")],
             tier: Annotated[str, typer.Option(help="yellow | orange | red")],
             reason: Annotated[str, typer.Option(help="Why.")],
             as_of: Annotated[str, typer.Option("--as-of", help="Date of the flag YYYY-MM-DD.")],
             actor: ActorOpt = "cli", key: KeyOpt = None, database_url: DbOpt = None,
             as_json: JsonOpt = False) -> None:
    """Raise a manual alert (人工预警); the next run acts on it and spreads it along a core's chain."""
    from puhui.monitoring.service import do_flag

    p = _run(database_url, lambda e: do_flag(e, uscc, tier=tier, reason=reason, as_of=as_of, actor=actor,
                                             idempotency_key=key or f"cli-{uuid.uuid4()}"))
    _answer(p.body, as_json, f"alert {p.body['alert_id']} {_tier(p.body['tier'])} on {uscc}")
