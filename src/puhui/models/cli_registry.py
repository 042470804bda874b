"""The registry commands of `puhui model`: list, show, register, promote, rollback, retrain, shadow.

Thin: each command opens the configured database (or `--database-url`), calls `puhui.models.registry` or
`puhui.models.retrain`, and prints a Rich table (or JSON with `--json`). The database must be migrated
(`puhui db upgrade`); a missing table says so in one line. Errors of the `PuhuiError` tree print as one
line `[code] message` and exit with status 2. `mount(model_app)` adds the commands (called by
`puhui.cli._mount_subapps`).
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.console import Console
from rich.table import Table

from puhui.clikit import echo_json, fail
from puhui.core.errors import NotFound, PuhuiError, ValidationError

__all__ = ["mount"]

DbUrl = Annotated[str | None, typer.Option("--database-url", help="Database URL (default: the configured one).")]
Home = Annotated[Path | None, typer.Option("--home", help="PUHUI_HOME holding the artifacts (default ./var).")]
AsJson = Annotated[bool, typer.Option("--json", help="Print JSON.")]


@contextmanager
def _engine(url: str | None) -> Iterator[Any]:
    from sqlalchemy.exc import OperationalError, ProgrammingError

    from puhui.store import make_engine

    engine = make_engine(url)
    try:
        yield engine
    except (OperationalError, ProgrammingError) as e:
        if "model_versions" in str(e) or "model_events" in str(e):
            raise fail(NotFound("the model registry tables are missing: run `puhui db upgrade` first",
                                code="registry_not_migrated")) from None  # fmt: skip
        raise
    except PuhuiError as e:
        raise fail(e) from None
    finally:
        engine.dispose()


def _metric(m: dict[str, Any], k: str) -> str:
    v = m.get(k)
    return "" if v is None else f"{v:.4f}"


def list_cmd(name: Annotated[str | None, typer.Argument(help="Only this model name.")] = None,
             state: Annotated[str | None, typer.Option(help="candidate, champion or retired.")] = None,
             database_url: DbUrl = None, as_json: AsJson = False) -> None:  # fmt: skip
    """List registered model versions with their state and test metrics."""
    from puhui.models import registry

    with _engine(database_url) as engine:
        versions = registry.list_versions(engine, name, state=state)
    if as_json:
        echo_json([v.to_json() for v in versions])
        return
    t = Table(title="Model registry 模型注册表")
    for c in ("name", "version", "kind", "state", "shadow", "test AUC", "KS", "features", "author", "created"):
        t.add_column(c)
    for v in versions:
        m = v.metadata.get("metrics", {})
        t.add_row(v.name, v.version, v.kind, v.state, "yes" if v.shadow and v.state == "candidate" else "",
                  _metric(m, "test_auc"), _metric(m, "ks"), str(len(v.features)), v.author,
                  v.created_at.strftime("%Y-%m-%d %H:%M"))  # fmt: skip
    Console().print(t)


def show_cmd(name: Annotated[str, typer.Argument(help="Model name, e.g. sme_pd.")],
             version: Annotated[str | None, typer.Argument(help="Version (default: the champion).")] = None,
             database_url: DbUrl = None, as_json: AsJson = False) -> None:  # fmt: skip
    """Show one version (default the champion): metadata, metrics, features, and the name's events."""
    from puhui.models import registry

    with _engine(database_url) as engine:
        if version is None:
            m = registry.champion(engine, name)
            if m is None:
                registry.list_versions(engine, name)  # unknown_model first
                raise fail(NotFound(f"{name} has no champion; name a version", code="no_champion"))
        else:
            m = registry.get(engine, name, version)
        evs = registry.events(engine, name)
    if as_json:
        echo_json({**m.to_json(with_metadata=True), "events": evs})
        return
    console = Console()
    meta = m.metadata
    console.print(f"[bold]{m.version}[/] ({m.kind}, {m.state}) by {m.author} at {m.created_at:%Y-%m-%d %H:%M} UTC")
    td = meta.get("training_data") or {}
    console.print(f"training data sha256 {td.get('sha256', 'n/a')} · {td.get('rows', '?')} rows · "
                  f"artifact sha256 {m.artifact_sha256}")  # fmt: skip
    t = Table("metric", "value", title="metrics")
    for k, v in (meta.get("metrics") or {}).items():
        if isinstance(v, int | float):
            t.add_row(k, f"{v:.4f}" if isinstance(v, float) else f"{v:,}")
    console.print(t)
    console.print(f"features ({len(m.features)}): " + ", ".join(m.features))
    e = Table("at", "action", "version", "previous", "actor", "reason", title="events")
    for ev in evs:
        e.add_row(ev["at"][:19], ev["action"], ev["version"], ev["previous_champion"] or "", ev["actor"], ev["reason"])
    console.print(e)


def register_cmd(model: Annotated[Path, typer.Option("--model", help="scorecard.json, or a GBM folder/gbm.json.")],
                 author: Annotated[str, typer.Option("--author", help="Who trained it.")],
                 name: Annotated[str, typer.Option("--name", help="Model name.")] = "sme_pd",
                 kind: Annotated[str | None, typer.Option("--kind", help="scorecard or gbm (default: from the file).")
                                 ] = None,
                 data: Annotated[Path | None, typer.Option("--data", help="Training CSV: fingerprint and reference "
                                                            "profile.")] = None,
                 reason: Annotated[str, typer.Option("--reason", help="Why it is registered.")] = "registered",
                 home: Home = None, database_url: DbUrl = None, as_json: AsJson = False) -> None:  # fmt: skip
    """Register a saved model file (from `puhui model train --out`) as a candidate."""
    from puhui.models import registry
    from puhui.models.gbm import GBMModel
    from puhui.models.scorecard import Scorecard

    try:
        obj = _load_model_file(model, kind, Scorecard.load, GBMModel.load)
        training = _read_csv(data) if data is not None else None
    except PuhuiError as e:
        raise fail(e) from None
    with _engine(database_url) as engine:
        m = registry.register(engine, obj, name=name, author=author, training=training, reason=reason, home=home)
    if as_json:
        echo_json(m.to_json())
        return
    Console().print(f"registered [bold]{m.version}[/] ({m.kind}, {m.state}) · artifact {m.artifact_dir}")


def _load_model_file(path: Path, kind: str | None, load_sc: Callable[[Path], Any], load_gbm: Callable[[Path], Any]
                     ) -> Any:  # fmt: skip
    if not path.exists():
        raise ValidationError(f"model file {str(path)!r} does not exist", code="missing_file", path=str(path))
    folder = path if path.is_dir() else path.parent
    if kind is None:
        kind = "gbm" if path.is_dir() or path.name in ("gbm.json", "gbm.txt") else "scorecard"
    if kind == "gbm":
        return load_gbm(folder)
    if kind == "scorecard":
        return load_sc(path if path.is_file() else folder / "scorecard.json")
    raise ValidationError(f"model kind {kind!r} is not scorecard or gbm", code="invalid_model_kind", field="kind")


def _read_csv(path: Path) -> Any:
    import pandas as pd

    if not path.is_file():
        raise ValidationError(f"data file {str(path)!r} does not exist", code="missing_file", path=str(path))
    try:
        return pd.read_csv(path)
    except (ValueError, OSError) as e:
        raise ValidationError(f"data file {str(path)!r} is not a readable CSV: {e}", code="invalid_csv") from None


def _print_posted(body: dict[str, Any], as_json: bool) -> None:
    if as_json:
        echo_json(body)
        return
    prev = f" (previous champion {body['previous_champion']} retired)" if body.get("previous_champion") else ""
    Console().print(f"{body['action']}: [bold]{body['version']}[/] is now {body['state']}{prev}")


def promote_cmd(name: Annotated[str, typer.Argument(help="Model name.")],
                version: Annotated[str, typer.Argument(help="Version to promote, e.g. sme_pd-v3.")],
                actor: Annotated[str, typer.Option("--actor", help="Who decides (audit trail).")],
                reason: Annotated[str, typer.Option("--reason", help="Why (audit trail).")],
                database_url: DbUrl = None, as_json: AsJson = False) -> None:  # fmt: skip
    """Promote a candidate to champion (the previous champion is retired)."""
    from puhui.models import registry

    with _engine(database_url) as engine:
        posted = registry.promote(engine, name, version, actor=actor, reason=reason)
    _print_posted(posted.body, as_json)


def rollback_cmd(name: Annotated[str, typer.Argument(help="Model name.")],
                 actor: Annotated[str, typer.Option("--actor", help="Who decides (audit trail).")],
                 reason: Annotated[str, typer.Option("--reason", help="Why (audit trail).")],
                 database_url: DbUrl = None, as_json: AsJson = False) -> None:  # fmt: skip
    """Roll back to the previous champion (the current one is retired)."""
    from puhui.models import registry

    with _engine(database_url) as engine:
        posted = registry.rollback(engine, name, actor=actor, reason=reason)
    _print_posted(posted.body, as_json)


def retrain_cmd(name: Annotated[str, typer.Option("--name", help="Model name.")] = "sme_pd",
                kind: Annotated[str, typer.Option("--kind", help="scorecard or gbm.")] = "scorecard",
                home: Home = None,
                max_snapshots: Annotated[int | None, typer.Option("--max-snapshots", help="Only the latest N matured "
                                                                  "monthly snapshots (quick runs).")] = None,
                holdout: Annotated[float, typer.Option("--holdout", help="Share of enterprises kept out of train for "
                                                       "the test (0 = out-of-time only).")] = 0.3,
                author: Annotated[str, typer.Option("--author", help="Recorded as the model's author.")
                                  ] = "system:retrain",
                promote_if_no_champion: Annotated[bool, typer.Option("--promote-if-no-champion",
                                                  help="Make the candidate champion when there is none.")] = False,
                features: Annotated[str | None, typer.Option("--features", help="Only indicators whose id starts "
                                                             "with one of these comma-separated prefixes, e.g. "
                                                             "bur_,tax_ (quick runs).")] = None,
                database_url: DbUrl = None, as_json: AsJson = False) -> None:  # fmt: skip
    """Train a candidate on the latest matured snapshots, register it, compare it with the champion."""
    from puhui.config import paths
    from puhui.models.retrain import RetrainConfig, retrain

    console = Console(stderr=as_json)
    root = Path(home) if home is not None else paths().home
    try:
        cfg = RetrainConfig(name=name, kind=kind, max_snapshots=max_snapshots, holdout_fraction=holdout, author=author,
                            promote_if_no_champion=promote_if_no_champion,
                            include_prefixes=tuple(p.strip() for p in features.split(",") if p.strip())
                            if features else None)  # fmt: skip
    except PuhuiError as e:
        raise fail(e) from None
    if database_url is None and home is not None and not os.environ.get("PUHUI_DATABASE_URL"):
        database_url = f"sqlite:///{root.resolve() / 'puhui.sqlite'}"  # the store beside that home's artifacts
    with _engine(database_url) as engine:
        report = retrain(engine, root, cfg, console=console)
    if as_json:
        echo_json(report)
        return
    from puhui.models.retrain import render_markdown

    console.print(render_markdown(report))
    console.print("written " + ", ".join(report["files"].values()))


def shadow_cmd(as_of: Annotated[str, typer.Option("--as-of", help="Score the indicator table of this date.")],
               name: Annotated[str, typer.Option("--name", help="Model name.")] = "sme_pd",
               home: Home = None, database_url: DbUrl = None, as_json: AsJson = False) -> None:  # fmt: skip
    """影子模式: score every enterprise with the champion and each shadow challenger; store and compare."""
    from puhui.config import paths
    from puhui.core.dates import parse_date
    from puhui.models.shadow import shadow_score_as_of

    console = Console(stderr=as_json)
    root = Path(home) if home is not None else paths().home
    try:
        on = parse_date(as_of, field="as_of")
    except PuhuiError as e:
        raise fail(e) from None
    with _engine(database_url) as engine:
        out = shadow_score_as_of(engine, root, on, name=name, console=console)
    if as_json:
        echo_json(out)
        return
    console.print(f"shadow run {out['run_id']} · {out['rows']:,} enterprises as of {out['as_of']} · champion "
                  f"{out['champion']['version']} (mean PD {out['champion']['mean_pd']:.4f}) · grades "
                  f"{out['grade_scale']}")  # fmt: skip
    t = Table(title="Challengers beside the champion")
    for c in ("version", "kind", "rank corr.", "grade changed", "worse", "better", "mean PD"):
        t.add_column(c, justify="left" if c in ("version", "kind") else "right")
    for c in out["challengers"]:
        rho = c["rank_correlation"]
        t.add_row(c["version"], c["kind"], "" if rho is None else f"{rho:.4f}", f"{c['grade_changed_share']:.1%}",
                  f"{c['grade_worse_share']:.1%}", f"{c['grade_better_share']:.1%}",
                  f"{c['mean_pd_challenger']:.4f}")  # fmt: skip
    console.print(t if out["challengers"] else "no shadow challengers: register a candidate (puhui model retrain)")


def mount(model_app: typer.Typer) -> None:
    """Add the registry commands to `puhui model`."""
    model_app.command("list")(list_cmd)
    model_app.command("show")(show_cmd)
    model_app.command("register")(register_cmd)
    model_app.command("promote")(promote_cmd)
    model_app.command("rollback")(rollback_cmd)
    model_app.command("retrain")(retrain_cmd)
    model_app.command("shadow")(shadow_cmd)
