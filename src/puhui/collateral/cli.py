"""The `puhui avm` commands (mounted by `puhui.cli`): fit the valuation model on the raw zone, evaluate it
on a time split (the raw zone's property database or a bank's own sales CSV), and value one unit.

Thin: each command parses, calls `puhui.collateral`, and prints (Rich tables, or JSON with `--json`).
Errors of the `PuhuiError` tree print as one line `[code] message` and exit with status 2.
"""

from __future__ import annotations

import json
from datetime import date, datetime, timedelta, timezone
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.console import Console
from rich.table import Table

from puhui.clikit import echo_json, err_console
from puhui.clikit import fail as _fail
from puhui.core.errors import PuhuiError, ValidationError

avm_app = typer.Typer(help="Automated valuation of residential collateral (AVM): fit, evaluate, value.",
                      no_args_is_help=True, pretty_exceptions_enable=False)  # fmt: skip
console = Console()

_CST = timezone(timedelta(hours=8))  # business dates are China Standard Time




def _home(home: Path | None) -> Path:
    from puhui.config import paths

    return Path(home).resolve() if home is not None else paths().home


def _date(text: str | None, name: str) -> date | None:
    if text is None:
        return None
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise ValidationError(f"{name} {text!r} is not a date (YYYY-MM-DD)", code="invalid_date", field=name) from None


def _today() -> date:
    return datetime.now(_CST).date()


def _model_dir(home: Path, model: Path | None) -> Path:
    return model if model is not None else home / "models" / "avm"


@avm_app.command("fit")
def fit_cmd(
    home: Annotated[Path | None, typer.Option(help="PUHUI_HOME with the property database (default ./var).")] = None,
    out: Annotated[Path | None, typer.Option(help="Model folder (default <home>/models/avm).")] = None,
) -> None:
    """Fit the AVM on every arm's-length sale in the raw zone and save it."""
    from rich.progress import Progress

    from puhui.collateral.avm import fit
    from puhui.collateral.evaluate import load_property_data

    try:
        h = _home(home)
        data = load_property_data(h, with_units=False)
        with Progress(console=console, transient=True) as progress:
            model = fit(data.sales, data.compounds, progress=progress)
        folder = model.save(_model_dir(h, out))
    except PuhuiError as e:
        raise _fail(e) from e
    console.print(f"fitted {model.version} on {model.meta['n_sales']:,} sales to {model.meta['data_end']}; "
                  f"saved to {folder}")  # fmt: skip


def _study_row(name: str, s: Any) -> list[str]:
    return [name, f"{s.n:,}", f"{s.hit_rate:.1%}", f"{s.mdape:.2%}", f"{s.ppe10:.1%}", f"{s.ppe20:.1%}",
            f"{s.median_ratio:.4f}", f"{s.cod:.2f}", f"{s.prd:.4f}", f"{s.prb:+.4f}"]  # fmt: skip


def _print_evaluation(ev: Any, quarantined: int | None) -> None:
    cols = ["", "sales", "hit rate", "MdAPE", "PPE10", "PPE20", "median ratio", "COD", "PRD", "PRB"]
    head = (f"fit on {ev.n_train:,} sales before {ev.split_date}; valued {ev.n_test:,} later arm's-length sales "
            f"to {ev.last_date}")  # fmt: skip
    if ev.excluded:
        head += " (excluded, not arm's length: " + ", ".join(f"{k} {v:,}" for k, v in ev.excluded.items()) + ")"
    console.print(head)
    if quarantined:
        console.print(f"[yellow]{quarantined:,} rows quarantined[/] (see the quarantine file)")
    t = Table(*cols, title="accuracy on later sales (IAAO ratio study)")
    t.add_row(*_study_row("model", ev.overall))
    if ev.oracle is not None:
        t.add_row(*_study_row("oracle: true value", ev.oracle))
    console.print(t)
    console.print(f"FSD honesty: {ev.fsd_coverage:.1%} of sales within value ± FSD (target 68.3%); "
                  f"{ev.interval_coverage:.1%} within the {ev.interval_level:.0%} interval; median FSD "
                  f"{ev.median_fsd:.1%}")  # fmt: skip
    if ev.comparables_mdape is not None:
        console.print(f"comparables cross-check alone: MdAPE {ev.comparables_mdape:.2%}")
    if ev.no_value_reasons:
        console.print("no value: " + ", ".join(f"{k} {v:,}" for k, v in ev.no_value_reasons.items()))
    if ev.private_median_ratio is not None:
        console.print(f"private transfers (not scored): median value / price {ev.private_median_ratio:.3f}")
    for title, groups in (("by price band", ev.by_band), ("by city", ev.by_city)):
        t = Table(*cols, title=title)
        for k, s in groups.items():
            t.add_row(*_study_row(k, s))
        console.print(t)


@avm_app.command("evaluate")
def evaluate_cmd(
    data: Annotated[
        Path | None,
        typer.Option(
            help="A bank's sales CSV (id, date, price, area, compound or "
            "lat/lon, optional attributes); default: the raw zone."
        ),
    ] = None,
    split_date: Annotated[
        str | None,
        typer.Option(help="Fit before this date, value sales from it on (default: 6 months before the last month)."),
    ] = None,
    home: Annotated[Path | None, typer.Option(help="PUHUI_HOME (default ./var).")] = None,
    json_out: Annotated[bool, typer.Option("--json", help="Print the figures as JSON.")] = False,
    today: Annotated[str | None, typer.Option(help="Business date for the 'not in the future' check.")] = None,
) -> None:
    """Time-split accuracy: MdAPE, PPE10/20, median ratio, COD, PRD, PRB, hit rate, FSD coverage."""
    from rich.progress import Progress

    from puhui.collateral.evaluate import (
        evaluate_time_split,
        load_property_data,
        load_sales_csv,
        load_truth_values,
    )
    from puhui.core.errors import NotFound

    try:
        h = _home(home)
        split = _date(split_date, "split_date")
        quarantined = None
        if data is not None:
            f = load_sales_csv(data, today=_date(today, "today") or _today())
            if f.quarantine.height:
                q = h / "quarantine" / "avm_sales" / f"{data.stem}.csv"
                q.parent.mkdir(parents=True, exist_ok=True)
                f.quarantine.write_csv(q)
            quarantined = f.quarantine.height
            sales, compounds, truth = f.sales, f.compounds, None
        else:
            pdata = load_property_data(h, with_units=False)
            sales, compounds = pdata.sales, pdata.compounds
            try:
                truth = load_truth_values(h)
            except NotFound:
                truth = None
        with Progress(console=err_console, transient=True) as progress:
            ev, _ = evaluate_time_split(sales, compounds, split, truth=truth, progress=progress)
    except PuhuiError as e:
        raise _fail(e) from e
    if json_out:
        doc = ev.to_dict()
        doc["quarantined"] = quarantined
        echo_json(doc)
    else:
        _print_evaluation(ev, quarantined)


@avm_app.command("value")
def value_cmd(
    unit: Annotated[str | None, typer.Option("--unit", help="Unit id in the property database.")] = None,
    compound: Annotated[str | None, typer.Option(help="Compound id (when not giving --unit).")] = None,
    area: Annotated[float | None, typer.Option(help="Floor area in m² (when not giving --unit).")] = None,
    floor: Annotated[int | None, typer.Option(help="Floor of the unit.")] = None,
    total_floors: Annotated[int | None, typer.Option(help="Floors of the building.")] = None,
    rooms: Annotated[int | None, typer.Option(help="Bedrooms (室).")] = None,
    orientation: Annotated[str | None, typer.Option(help="south, south_north, east, west, north, east_west.")] = None,
    decoration: Annotated[str | None, typer.Option(help="rough, simple, fine.")] = None,
    as_of: Annotated[str | None, typer.Option(help="Valuation date (default: today).")] = None,
    home: Annotated[Path | None, typer.Option(help="PUHUI_HOME (default ./var).")] = None,
    model: Annotated[Path | None, typer.Option(help="Model folder (default <home>/models/avm).")] = None,
    json_out: Annotated[bool, typer.Option("--json", help="Print the valuation as JSON.")] = False,
    today: Annotated[str | None, typer.Option(help="Business date (default: today, China time).")] = None,
) -> None:
    """Value one unit: value, FSD, confidence score, interval, comparables — or no value and why."""
    from puhui.collateral.avm import Subject, load
    from puhui.collateral.evaluate import lookup_unit

    try:
        h = _home(home)
        m = load(_model_dir(h, model))
        day = _date(today, "today") or _today()
        when = _date(as_of, "as_of") or day
        if unit is not None:
            subject = lookup_unit(h, unit)
        else:
            if compound is None or area is None:
                raise ValidationError("give --unit, or --compound and --area", code="missing_subject")
            subject = Subject(compound=compound, area=area, floor=floor, total_floors=total_floors, rooms=rooms,
                              orientation=orientation, decoration=decoration)  # fmt: skip
        v = m.value(subject, when, today=day)
    except PuhuiError as e:
        raise _fail(e) from e
    if json_out:
        typer.echo(json.dumps(v.to_dict(), ensure_ascii=False, indent=1))
        return
    if not v.valued:
        console.print(f"[yellow]no value[/] for {v.subject} on {v.as_of}: [{v.reason}] "
                      f"{v.to_dict()['reason_text']}")  # fmt: skip
        return
    console.print(f"{v.subject} on {v.as_of}: [bold]{v.value}[/] ({v.value_per_m2} per m²)")
    console.print(f"FSD {v.fsd:.1%} · confidence {v.confidence} · {v.interval_level:.0%} interval {v.low} – {v.high}")
    if v.comparable_value is not None:
        console.print(f"comparables ({v.n_comparables}): {v.comparable_value}")
    if v.flags:
        console.print("flags: " + ", ".join(v.flags))
    console.print(f"model {v.model_version}")


def revalue(
    as_of: Annotated[str, typer.Option("--as-of", help="Re-mark as of this date (YYYY-MM-DD).")],
    business_date: Annotated[str | None, typer.Option(help="Business date of line actions (default: open date).")]
    = None,
    home: Annotated[Path | None, typer.Option(help="PUHUI_HOME (default ./var).")] = None,
    model: Annotated[Path | None, typer.Option(help="Model folder (default <home>/models/avm).")] = None,
    database_url: Annotated[str | None, typer.Option(help="Database URL (default: the configuration).")] = None,
) -> None:
    """Re-mark every pledged property; flag lines whose LTV crosses the cap and freeze or reduce them."""
    from puhui.collateral.avm import load
    from puhui.collateral.jobs import revalue_all
    from puhui.store import make_engine

    try:
        when = _date(as_of, "as_of")
        assert when is not None
        m = load(_model_dir(_home(home), model))
        engine = make_engine(database_url)
        try:
            res = revalue_all(engine, m, as_of=when, on=_date(business_date, "business_date"), today=_today())
        finally:
            engine.dispose()
    except PuhuiError as e:
        raise _fail(e) from e
    t = Table(title=f"collateral re-marked as of {res.as_of}")
    for name in ("pledged", "skipped", "valued", "no_value", "errors", "breached", "frozen", "reduced"):
        t.add_column(name, justify="right")
    t.add_row(*(str(getattr(res, k)) for k in ("pledged", "skipped", "valued", "no_value", "errors", "breached",
                                               "frozen", "reduced")))
    console.print(t)
    for row in res.lines:
        if row.get("breach") or row.get("error") or row.get("value") is None:
            console.print(f"line {row['line_id']}: " + ", ".join(f"{k}={v}" for k, v in row.items() if v is not None))

