"""The records commands: `puhui preapprove`, `puhui policy …`, `puhui decision …` (mounted by `puhui.cli`).

- `puhui preapprove --as-of D [--home H] [--scenario S …] [--limit-enterprises N] [--record-all] [--json]`:
  主动授信 over every active scenario (resumable; progress bar; summary table per scenario).
- `puhui policy list | show ID | draft FILE | approve ID | activate ID [--challenger --share X] |
  rollback SCENARIO | bootstrap | backtest VERSION --as-of D`: the policy life cycle (四眼: approve as
  someone other than the author) and the draft-vs-active backtest.
- `puhui decision show ID | replay ID [--rescore]`: a decision record, and its exact replay.

The database is `--database-url`, else the configured one (`PUHUI_DATABASE_URL`), else — when `--home`
is given — the SQLite file under that home, else the one under `PUHUI_HOME`; it must be migrated
(`puhui db upgrade`). The acting party is `--actor` (default `cli:<login>`). Errors of the `PuhuiError`
tree print one line with their code and exit with status 2.
"""

from __future__ import annotations

import getpass
import os
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.console import Console
from rich.table import Table

from puhui.clikit import echo_json, err_console, fail
from puhui.core.errors import PuhuiError

__all__ = ["decision_app", "mount", "policy_app", "preapprove"]

policy_app = typer.Typer(help="Scenario policies: draft, approve (four eyes), activate, roll back, backtest.",
                         no_args_is_help=True, pretty_exceptions_enable=False)
decision_app = typer.Typer(help="Decision records: show and replay.", no_args_is_help=True,
                           pretty_exceptions_enable=False)

DbUrl = Annotated[str | None, typer.Option("--database-url", help="Database URL (default: the configured one).")]
Home = Annotated[Path | None, typer.Option("--home", help="PUHUI_HOME with the raw zone and indicator tables.")]
AsJson = Annotated[bool, typer.Option("--json", help="Print JSON instead of tables.")]


def _default_actor() -> str:
    try:
        return f"cli:{getpass.getuser()}"
    except (KeyError, OSError):
        return "cli:unknown"


Actor = Annotated[str | None, typer.Option("--actor", help="Who acts (default cli:<login>).")]


def _console() -> Console:
    return Console() if sys.stdout.isatty() else Console(width=160)


@contextmanager
def _engine(url: str | None, home: Path | None = None) -> Iterator[Any]:
    from puhui.store import make_engine

    if url is None and home is not None and not os.environ.get("PUHUI_DATABASE_URL"):
        url = f"sqlite:///{Path(home).resolve() / 'puhui.sqlite'}"
    engine = make_engine(url)
    try:
        yield engine
    finally:
        engine.dispose()


def _run(fn: Callable[[], Any]) -> Any:
    try:
        return fn()
    except PuhuiError as e:
        raise fail(e) from e


# ---- puhui preapprove -----------------------------------------------------------------------------------


def preapprove(
    as_of: Annotated[str, typer.Option("--as-of", help="Business date of the indicators (YYYY-MM-DD).")],
    home: Home = None,
    scenario: Annotated[list[str] | None, typer.Option("--scenario", help="Only these scenarios (repeat).")] = None,
    limit_enterprises: Annotated[int | None, typer.Option("--limit-enterprises", help="Only the first N "
                                                          "enterprises by USCC (quick runs).")] = None,
    chunk_size: Annotated[int, typer.Option("--chunk-size", help="Enterprises per committed chunk.")] = 1000,
    workers: Annotated[int, typer.Option("--workers", help="Processes deciding chunks (default: the CPUs).")] = 0,
    record_all: Annotated[bool, typer.Option("--record-all", help="Record every decision, not only those "
                                             "behind the offers.")] = False,
    fallback_model: Annotated[bool, typer.Option("--fallback-model/--no-fallback-model", help="Train a scorecard "
                                                 "on the fly when a model has no registered champion.")] = True,
    fallback_features: Annotated[str | None, typer.Option("--fallback-features", help="Fallback model: only "
                                                          "indicators with these comma-separated id prefixes, e.g. "
                                                          "stl_,bur_ (quick runs).")] = None,
    fallback_snapshots: Annotated[int, typer.Option("--fallback-snapshots", help="Fallback model: matured monthly "
                                                    "snapshots to train on.")] = 3,
    bootstrap: Annotated[bool, typer.Option("--bootstrap", help="First register the shipped scenarios not yet "
                                            "active (approved by the release actor).")] = False,
    fresh: Annotated[bool, typer.Option("--fresh", help="Abandon a running run of the date instead of "
                                        "resuming it.")] = False,
    actor: Actor = None,
    database_url: DbUrl = None,
    as_json: AsJson = False,
) -> None:
    """主动授信: every active scenario for every enterprise, best offer each; resumable."""
    from puhui.decisioning.policies import bootstrap_shipped
    from puhui.decisioning.preapprove import run_preapproval

    who = actor or _default_actor()
    with _engine(database_url, home) as engine:
        if bootstrap:
            _run(lambda: bootstrap_shipped(engine, who))
        out = _run(lambda: run_preapproval(engine, as_of, home=home, scenario_ids=scenario or None,
                                           limit_enterprises=limit_enterprises, chunk_size=chunk_size,
                                           record_all=record_all, fallback_model=fallback_model, actor=who,
                                           workers=workers or os.cpu_count() or 1,
                                           fresh=fresh, console=err_console, fallback_snapshots=fallback_snapshots,
                                           fallback_features=tuple(p.strip() for p in fallback_features.split(",")
                                                                   if p.strip()) if fallback_features else None))
    if as_json:
        echo_json(out)
        return
    _print_preapproval(out, _console())


def _pct(x: float | None) -> str:
    return "—" if x is None else f"{100 * x:.2f}%"


def _print_preapproval(out: dict[str, Any], console: Console) -> None:
    h = out["realised_horizon_months"]
    t = Table(title=f"pre-approval as of {out['as_of']} (run {out['run_id']}, {out['state']})")
    for col in ("scenario", "evaluated", "eligible", "approved", "referred", "total limit", "expected loss",
                "exp. bad", f"realised bad ({h}m)" if h else "realised bad"):
        t.add_column(col, justify="left" if col == "scenario" else "right", no_wrap=True)
    for sid, r in out["per_scenario"].items():
        t.add_row(sid, f"{r['evaluated']:,}", f"{r['eligible']:,}", f"{r['approved']:,}", f"{r['referred']:,}",
                  f"{float(r['total_limit']):,.0f}", f"{float(r['expected_loss']):,.0f}",
                  _pct(r["expected_bad_rate"]), _pct(r["realised_bad_rate"]))
    o = out["offers"]
    t.add_row("[bold]best offers[/]", f"{out['enterprises']:,}", "", f"{o['enterprises_with_offer']:,}", "",
              f"{float(o['total_limit']):,.0f}", f"{float(o['expected_loss']):,.0f}", _pct(o["expected_bad_rate"]),
              _pct(o["realised_bad_rate"]))
    console.print(t)
    for m in out["models"].values():
        style = "yellow" if m["source"] != "registry" else "green"
        console.print(f"model {m['name']}: [{style}]{m['version']}[/] ({m['source']}) {m['note']}")
    ts = out["timings_seconds"]
    cpu = out["cpu_seconds"]
    console.print(f"{out['evaluations_this_call']:,} evaluations in {out['elapsed_seconds']:.1f} s = "
                  f"{out['evaluations_per_second']:,.0f}/s ({out['evaluations_per_cpu_second']:,.0f} per CPU second) · "
                  + ", ".join(f"{k} {v:.1f}s ({cpu.get(k, 0):.1f} cpu)" for k, v in ts.items())
                  + f" · LGD {out['lgd']}")


# ---- puhui policy ------------------------------------------------------------------------------------------


def _policy_table(rows: list[dict[str, Any]], console: Console) -> None:
    t = Table(title="policy versions")
    for col in ("id", "scenario", "version", "state", "role", "share", "author", "approver", "activated"):
        t.add_column(col, no_wrap=True)
    for r in rows:
        t.add_row(str(r["id"]), r["scenario_id"], r["version"], r["state"], r["role"], r["traffic_share"] or "",
                  r["author"], r["approver"] or "", (r["activated_at"] or "")[:19])
    console.print(t)


@policy_app.command("list")
def list_cmd(scenario: Annotated[str | None, typer.Option("--scenario", help="Only this scenario.")] = None,
             state: Annotated[str | None, typer.Option("--state", help="draft | approved | active | retired")] = None,
             database_url: DbUrl = None, home: Home = None, as_json: AsJson = False) -> None:
    """Every policy version (newest first per scenario)."""
    from puhui.decisioning.policies import list_policies

    with _engine(database_url, home) as engine:
        rows = _run(lambda: list_policies(engine, scenario_id=scenario, state=state))
    echo_json(rows) if as_json else _policy_table(rows, _console())


@policy_app.command("show")
def show_cmd(policy_id: Annotated[int, typer.Argument(help="Policy version id.")], database_url: DbUrl = None,
             home: Home = None) -> None:
    """One policy version with its YAML text."""
    from puhui.decisioning.policies import get_policy

    with _engine(database_url, home) as engine:
        echo_json(_run(lambda: get_policy(engine, policy_id)))


@policy_app.command("draft")
def draft_cmd(file: Annotated[Path, typer.Argument(help="Scenario YAML file.")], actor: Actor = None,
              note: Annotated[str | None, typer.Option("--note")] = None, database_url: DbUrl = None,
              home: Home = None) -> None:
    """起草: store a scenario file as a draft version (the same content returns the existing version)."""
    from puhui.decisioning.policies import draft_policy_file

    with _engine(database_url, home) as engine:
        echo_json(_run(lambda: draft_policy_file(engine, file, author=actor or _default_actor(), note=note)))


@policy_app.command("approve")
def approve_cmd(policy_id: Annotated[int, typer.Argument(help="Policy version id.")], actor: Actor = None,
                database_url: DbUrl = None, home: Home = None) -> None:
    """审批: approve a draft (四眼: not as its author)."""
    from puhui.decisioning.policies import approve_policy

    with _engine(database_url, home) as engine:
        echo_json(_run(lambda: approve_policy(engine, policy_id, approver=actor or _default_actor())))


@policy_app.command("activate")
def activate_cmd(policy_id: Annotated[int, typer.Argument(help="Policy version id.")], actor: Actor = None,
                 challenger: Annotated[bool, typer.Option("--challenger", help="Activate as the challenger.")] = False,
                 share: Annotated[str | None, typer.Option("--share", help="Challenger traffic share, e.g. 0.1.")]
                 = None, database_url: DbUrl = None, home: Home = None) -> None:
    """启用: make an approved version active (champion, or challenger with a traffic share)."""
    from puhui.decisioning.policies import activate_policy

    role = "challenger" if challenger else "champion"
    with _engine(database_url, home) as engine:
        echo_json(_run(lambda: activate_policy(engine, policy_id, actor=actor or _default_actor(), role=role,
                                           traffic_share=share)))


@policy_app.command("rollback")
def rollback_cmd(scenario: Annotated[str, typer.Argument(help="Scenario id.")], actor: Actor = None,
                 database_url: DbUrl = None, home: Home = None) -> None:
    """回滚: back to the scenario's previous active version."""
    from puhui.decisioning.policies import rollback

    with _engine(database_url, home) as engine:
        echo_json(_run(lambda: rollback(engine, scenario, actor=actor or _default_actor())))


@policy_app.command("bootstrap")
def bootstrap_cmd(actor: Actor = None, directory: Annotated[Path | None, typer.Option(
        "--dir", help="Scenario folder (default: the shipped scenarios/).")] = None,
                  database_url: DbUrl = None, home: Home = None, as_json: AsJson = False) -> None:
    """Register the shipped scenarios whose version is not active (approver: the release actor)."""
    from puhui.decisioning.policies import bootstrap_shipped

    with _engine(database_url, home) as engine:
        done = _run(lambda: bootstrap_shipped(engine, actor or _default_actor(), directory=directory))
    if as_json:
        echo_json(done)
        return
    for d in done:
        _console().print(f"{d['scenario_id']:<28} {d['version']}  {d['action']}")


@policy_app.command("backtest")
def backtest_cmd(version: Annotated[str, typer.Argument(help="Policy version hash (≥ 6 leading characters).")],
                 as_of: Annotated[str, typer.Option("--as-of", help="Historical date to run on (YYYY-MM-DD).")],
                 home: Home = None,
                 limit_enterprises: Annotated[int | None, typer.Option("--limit-enterprises")] = None,
                 examples: Annotated[int, typer.Option("--examples", help="Flipped decisions to list.")] = 10,
                 database_url: DbUrl = None, as_json: AsJson = False) -> None:
    """Run a (draft) version over history and compare it with the scenario's active version."""
    from puhui.decisioning.backtest import backtest

    with _engine(database_url, home) as engine:
        out = _run(lambda: backtest(engine, version, as_of, home=home, limit_enterprises=limit_enterprises,
                                    examples=examples, console=err_console))
    if as_json:
        echo_json(out)
        return
    _print_backtest(out, _console())


def _print_backtest(out: dict[str, Any], console: Console) -> None:
    h = out["realised_horizon_months"]
    t = Table(title=f"backtest {out['scenario_id']} as of {out['as_of']}: {out['candidate']['version']} vs "
                    f"{out['baseline']['version']} ({out['enterprises']:,} enterprises)")
    realised = f"realised bad ({h}m)" if h else "realised"
    for col in ("", "approval rate", "approved", "total limit", "exp. bad", realised):
        t.add_column(col, justify="left" if not col else "right")
    for label, side in (("active", out["baseline"]), ("candidate", out["candidate"])):
        t.add_row(label, _pct(side["approval_rate"]), f"{side['approved']:,}", f"{float(side['total_limit']):,.0f}",
                  _pct(side["expected_bad_rate"]), _pct(side["realised_bad_rate"]))
    console.print(t)
    f = out["flips"]
    console.print(f"flips: {f['total']:,} ({', '.join(f'{k} {v:,}' for k, v in f['by_transition'].items())})")
    console.print(f"realised bad rate of the newly approved {_pct(f['newly_approved_realised_bad_rate'])}, of the "
                  f"newly declined {_pct(f['newly_declined_realised_bad_rate'])}; limits of enterprises both approve: "
                  f"{out['limit_changes']['up']:,} up, {out['limit_changes']['down']:,} down")
    for code, n in f["why"].items():
        console.print(f"  {n:>6,}  {code}")
    for ex in f["examples"]:
        console.print(f"  {ex['uscc']}: {ex['from']} → {ex['to']}  because {', '.join(ex['because']) or '—'}")


# ---- puhui decision ----------------------------------------------------------------------------------------


@decision_app.command("show")
def decision_show(decision_id: Annotated[int, typer.Argument(help="Decision id.")], database_url: DbUrl = None,
                  home: Home = None) -> None:
    """A decision record: inputs, policy and model versions, rules, reasons, offer."""
    from puhui.decisioning.records import get_decision

    with _engine(database_url, home) as engine:
        echo_json(_run(lambda: get_decision(engine, decision_id)))


@decision_app.command("replay")
def decision_replay(decision_id: Annotated[int, typer.Argument(help="Decision id.")],
                    rescore: Annotated[bool, typer.Option("--rescore", help="Re-score with the registered model "
                                                          "version instead of the stored result.")] = False,
                    database_url: DbUrl = None, home: Home = None, as_json: AsJson = False) -> None:
    """Decide again from the record; exit 1 when the outcome or any field differs."""
    from puhui.decisioning.records import replay_decision

    with _engine(database_url, home) as engine:
        out = _run(lambda: replay_decision(engine, decision_id, rescore=rescore, home=home))
    if as_json:
        echo_json(out)
    else:
        c = _console()
        verdict = "[green]identical[/]" if out["equal"] else "[red]differs[/]"
        c.print(f"decision {decision_id}: replay {verdict} (outcome {out['original']['outcome']} → "
                f"{out['replayed']['outcome']}, model {out['model_source']})")
        for d in out["diff"]:
            c.print(f"  {d['field']}: {d['original']!r} → {d['replayed']!r}")
    if not out["equal"]:
        raise typer.Exit(code=1)


def mount(app: typer.Typer) -> None:
    """Add `preapprove`, `policy` and `decision` to the main app."""
    app.command("preapprove")(preapprove)
    app.add_typer(policy_app, name="policy", help="Scenario policies: draft, approve, activate, roll back, backtest.")
    app.add_typer(decision_app, name="decision", help="Decision records: show and replay.")
