"""The command line of the indicator library: `puhui indicators --as-of DATE` and `puhui profile USCC --as-of DATE`.

`indicators` writes the batch indicator table of a date (progress bar, resumable), prepares the online
serving store and prints the table's coverage by dimension and source; with `--drift-from DATE` it also
compares the distribution of every indicator with the table of that earlier date (PSI). `profile` prints
an enterprise's profile (画像), or its JSON with `--json`. Both are plain Typer commands on `app`; the
main CLI mounts them. Errors from the PuhuiError tree print one line (code and message), exit status 2.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.table import Table

from puhui.clikit import fail as _fail
from puhui.core.errors import PuhuiError

app = typer.Typer(name="indicators", help="指标库 indicators and 画像 customer profiles.", no_args_is_help=True,
                  pretty_exceptions_enable=False)  # fmt: skip
console = Console()




def _pct(x: float) -> str:
    return f"{100 * x:5.1f}%"


@app.command("indicators")
def indicators(
    as_of: Annotated[str, typer.Option("--as-of", help="As-of date YYYY-MM-DD: only data known by then is used.")],
    home: Annotated[Path | None, typer.Option(help="PUHUI_HOME (default ./var).")] = None,
    chunk_size: Annotated[int, typer.Option(help="Enterprises per chunk (bounds memory; unit of resume).")] = 250_000,
    fresh: Annotated[bool, typer.Option(help="Replace an existing table of this date instead of resuming.")] = False,
    drift_from: Annotated[
        str | None,
        typer.Option(
            "--drift-from", help="Also report drift (PSI per indicator) against the table of this earlier date."
        ),
    ] = None,
) -> None:
    """Compute every indicator for every enterprise as of a date into the indicator table; print coverage."""
    from puhui.config import paths
    from puhui.core.dates import parse_date
    from puhui.indicators.batch import run_batch
    from puhui.indicators.library import default_library
    from puhui.indicators.online import ServingStore
    from puhui.indicators.quality import coverage, drift

    try:
        library = default_library()
        root = home if home is not None else paths().home
        report = run_batch(as_of, home=root, library=library, chunk_size=chunk_size, fresh=fresh, console=console)
        cov = coverage(root, report.as_of, library)
        ref = parse_date(drift_from, field="drift_from") if drift_from else None
        dr = drift(root, ref, report.as_of, library) if ref else None
        with console.status("preparing the online serving store (one-enterprise lookups)"):
            ServingStore(root, library).ensure()
    except PuhuiError as e:
        raise _fail(e) from e
    done = "computed" if report.chunks_computed else "already complete"
    console.print(f"[bold]{report.enterprises:,}[/] enterprises × [bold]{report.indicators}[/] indicators as of "
                  f"{report.as_of} ({done}, {report.seconds:.1f} s) → {report.path}")  # fmt: skip
    dims = Table(title="Coverage by dimension")
    for col in ("dimension", "indicators", "mean coverage"):
        dims.add_column(col, justify="left" if col == "dimension" else "right")
    counts = library.counts_by_dimension()
    for d in library.dimensions:
        dims.add_row(f"{d.zh} {d.en}", str(counts[d.id]), _pct(cov.dimensions[d.id]))
    srcs = Table(title="Enterprises described by each source")
    srcs.add_column("source")
    srcs.add_column("present", justify="right")
    for s, share in sorted(cov.sources.items(), key=lambda kv: -kv[1]):
        srcs.add_row(f"{library.sources[s].contract.zh} {s}", _pct(share))
    console.print(dims)
    console.print(srcs)
    example = _example(report.path)
    if example:
        console.print(f"see a profile: [bold]puhui profile {example} --as-of {report.as_of}[/]  or  "
                      f"GET /v1/enterprises/{example}/profile?as_of={report.as_of} (puhui serve)")  # fmt: skip
    if dr is not None:
        c = dr.counts()
        console.print(f"Drift {dr.reference} → {dr.current}: {c['stable']} stable, {c['watch']} watch, "
                      f"{c['act']} act (PSI < 0.10 / 0.10–0.25 / ≥ 0.25)")  # fmt: skip
        worst = Table(title="Largest shifts")
        for col in ("indicator", "PSI", "verdict", "missing before", "missing now"):
            worst.add_column(col, justify="left" if col == "indicator" else "right")
        for i in dr.worst(10):
            worst.add_row(i.id, f"{i.psi:.3f}", i.verdict, _pct(i.missing_reference), _pct(i.missing_current))
        console.print(worst)


def _example(folder: Path) -> str | None:
    """A USCC worth looking at: the first enterprise of the table with tax and settlement data."""
    import pyarrow.compute as pc
    import pyarrow.parquet as pq

    parts = sorted(folder.glob("part-*.parquet"))
    if not parts:
        return None
    t = pq.read_table(parts[0], columns=["uscc", "src_tax_monthly", "src_settlement_monthly"])
    rich_rows = t.filter(pc.and_(t.column("src_tax_monthly"), t.column("src_settlement_monthly")))
    pick = rich_rows if rich_rows.num_rows else t
    return str(pick.column("uscc")[0].as_py()) if pick.num_rows else None


@app.command("profile")
def profile(
    uscc: Annotated[str, typer.Argument(help="Unified social credit code (统一社会信用代码) of the enterprise.")],
    as_of: Annotated[str, typer.Option("--as-of", help="As-of date YYYY-MM-DD.")],
    home: Annotated[Path | None, typer.Option(help="PUHUI_HOME (default ./var).")] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print the profile as JSON.")] = False,
    show_all: Annotated[bool, typer.Option("--all", help="Also list indicators without a value.")] = False,
) -> None:
    """Print an enterprise's profile (画像): identity, size class, sources, indicators with percentiles, flags."""
    from puhui.indicators.online import OnlineEngine
    from puhui.indicators.profile import build_profile

    try:
        engine = OnlineEngine(home)
        prof = build_profile(engine, uscc, as_of)
    except PuhuiError as e:
        raise _fail(e) from e
    if as_json:
        typer.echo(json.dumps(prof.model_dump(mode="json"), ensure_ascii=False, indent=2))
        return
    console.print(f"[bold]{prof.name}[/]  {prof.uscc}  as of {prof.as_of}")
    console.print(f"{prof.entity_type} · founded {prof.founding_date} · status {prof.status} · "
                  f"{prof.province_name or prof.province} {prof.city_code} · {prof.industry.section} "
                  f"{prof.industry.section_zh} ({prof.industry.code}) · size {prof.size.size_class} "
                  f"{prof.size.zh} ({prof.size.basis or 'no figures'}) · legal rep {prof.legal_rep}")  # fmt: skip
    present = [s.source for s in prof.sources if s.present]
    console.print(f"sources present ({len(present)}/{len(prof.sources)}): {', '.join(present)}")
    if prof.flags:
        colour = {"red": "bold red", "orange": "dark_orange", "yellow": "yellow"}
        for f in prof.flags:
            console.print(f"[{colour[f.severity]}]● {f.severity}[/] {f.zh} — {f.en}")
    else:
        console.print("no flags")
    basis = prof.percentile_basis
    console.print(f"percentiles within section {basis.section} ({basis.peers} peers)" if basis else
                  "; ".join(prof.notes))  # fmt: skip
    for d in prof.dimensions:
        rows = [i for i in d.indicators if show_all or i.value is not None]
        if not rows:
            continue
        table = Table(title=f"{d.zh} {d.en}", title_justify="left")
        for col in ("indicator", "名称", "value", "unit", "pct", "risk ↑"):
            table.add_column(col, justify="right" if col in ("value", "pct") else "left")
        for i in rows:
            value = i.value
            text = "—" if value is None else (f"{value:,.4g}" if isinstance(value, float) else str(value))
            table.add_row(i.id, i.zh, text, i.unit, "" if i.percentile is None else f"{i.percentile:.0f}", i.risk)
        console.print(table)
