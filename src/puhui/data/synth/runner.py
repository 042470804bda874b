"""`puhui synth`: generate the synthetic SME universe into the raw zone, chunk by chunk, resumably.

Layout under `<home>`: `raw/<source>/chunk-00000.parquet` … (one folder per data contract, written by
`RawZone`), `raw/_universe.json` (the manifest: generator version, config and its fingerprint, status,
row counts), `raw/_synth/*.done` (markers) and `truth/<table>/…` (evaluation only, never features).

Order: (1) the global stage — the property database (`generate_property`), then the shocks, calibration
and core enterprises (`globalstage`) — runs once and is marked done; (2) each chunk of `chunk_size`
enterprises is generated from its own RNG streams (`SeedSequence([seed, stream, chunk, …])`) and the
persisted global stage, written source by source (memory stays bounded by the chunk, not the universe),
with the property holdings of its firms and its truth; a chunk is done when its marker is written after
all its parts, so a crash loses at most the chunk in flight and a resumed run skips finished chunks and
writes byte-identical files. A manifest with another fingerprint is refused unless `fresh=True`, which
first deletes the universe's sources, markers and truth.
"""

from __future__ import annotations

import json
import shutil
import time
from collections.abc import Callable
from dataclasses import asdict
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn, TimeRemainingColumn

from puhui.core.errors import ConfigurationError
from puhui.data.contracts.enterprise import ENTERPRISE_CONTRACTS
from puhui.data.contracts.property import PROPERTY_CONTRACTS, PROPERTY_HOLDINGS
from puhui.data.rawzone import RawZone
from puhui.data.synth import src_bureau, src_chain, src_flows, src_public, src_registry, src_tax, truth
from puhui.data.synth.config import SynthConfig
from puhui.data.synth.globalstage import build_global, load_global, write_truth
from puhui.data.synth.health import PRE_MONTHS
from puhui.data.synth.ids import MAX_ENTERPRISES
from puhui.data.synth.universe import Chunk, build_chunk
from puhui.data.synth.vocab import SPRING_FESTIVAL

__all__ = ["GENERATOR_VERSION", "SOURCE_BUILDERS", "SynthConfig", "run_synth"]

GENERATOR_VERSION = 1
MANIFEST = "_universe.json"
MARKERS = "_synth"
PROPERTY_STREAM = 3

SOURCE_BUILDERS: tuple[tuple[str, Callable[[Chunk], pa.Table]], ...] = (
    ("registration", src_registry.registration),  # first: caches capital and address
    ("registration_shareholders", src_registry.shareholders),
    ("registration_changes", src_registry.changes),
    ("annual_reports", src_registry.annual_reports),  # before public_records (missed reports)
    ("tax_monthly", src_tax.tax_monthly),
    ("tax_credit_grades", src_tax.tax_credit_grades),
    ("settlement_monthly", src_flows.settlement),
    ("payroll_monthly", src_flows.payroll),
    ("social_insurance_monthly", src_flows.social_insurance),
    ("electricity_monthly", src_flows.electricity),
    ("customs_monthly", src_flows.customs),
    ("logistics_monthly", src_flows.logistics),
    ("medical_insurance_monthly", src_flows.medical_insurance),
    ("agriculture_annual", src_flows.agriculture),
    ("ecommerce_monthly", src_flows.ecommerce),
    ("gov_procurement_awards", src_flows.procurement),
    ("bureau_enterprise_accounts", src_bureau.enterprise_accounts),
    ("bureau_enterprise_queries", src_bureau.enterprise_queries),
    ("bureau_enterprise_guarantees", src_bureau.enterprise_guarantees),
    ("bureau_person_accounts", src_bureau.person_accounts),
    ("bureau_person_queries", src_bureau.person_queries),
    ("public_records", src_public.public_records),
    ("chain_relations", src_chain.relations),
    ("chain_trade_monthly", src_chain.trade),
)
"""Every per-chunk source and its builder, in generation order."""

TRUTH_BUILDERS: tuple[tuple[str, Callable[[Chunk], pa.Table]], ...] = (
    ("enterprises", truth.enterprises),
    ("health_monthly", truth.health_monthly),
)


def validate_config(config: SynthConfig) -> None:
    """Refuse settings the generator cannot honour, naming the setting and the allowed range."""

    def bad(field: str, why: str) -> ConfigurationError:
        return ConfigurationError(f"synth config: {field} {why}", code="invalid_synth_config", field=field)

    if not 1 <= config.enterprises <= MAX_ENTERPRISES:
        raise bad("enterprises", f"must be between 1 and {MAX_ENTERPRISES:,}, got {config.enterprises}")
    if not 12 <= config.months <= 240:
        raise bad("months", f"must be between 12 and 240, got {config.months}")
    if not 100 <= config.chunk_size <= 200_000:
        raise bad("chunk_size", f"must be between 100 and 200,000, got {config.chunk_size}")
    if not 1 <= config.core_enterprises <= 10_000:
        raise bad("core_enterprises", f"must be between 1 and 10,000, got {config.core_enterprises}")
    try:
        last = config.last_month
        first = config.first_month
    except (ValueError, TypeError):
        raise bad("end_month", f"must be YYYY-MM, got {config.end_month!r}") from None
    lo, hi = min(SPRING_FESTIVAL), max(SPRING_FESTIVAL)
    first_year = first.year - (PRE_MONTHS // 12 + 1)
    if first_year < lo or last.year > hi:
        raise bad("end_month", f"history (with {PRE_MONTHS} months before it) must lie in {lo}–{hi}")


def _sources() -> list[str]:
    return [c.name for c in (*ENTERPRISE_CONTRACTS, *PROPERTY_CONTRACTS)]


def _read_json(path: Path) -> dict[str, Any]:
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as e:
        raise ConfigurationError(f"cannot read {path}: {e}", code="bad_universe_manifest", path=str(path)) from None


def _write_json(path: Path, data: dict[str, Any]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(path.suffix + ".tmp")
    tmp.write_text(json.dumps(data, ensure_ascii=False, indent=1, sort_keys=True), encoding="utf-8")
    tmp.replace(path)


def _clear(raw: Path, truth_root: Path) -> None:
    for name in _sources():
        shutil.rmtree(raw / name, ignore_errors=True)
    shutil.rmtree(raw / MARKERS, ignore_errors=True)
    (raw / MANIFEST).unlink(missing_ok=True)
    shutil.rmtree(truth_root, ignore_errors=True)


def _check_existing(config: SynthConfig, raw: Path) -> None:
    manifest = raw / MANIFEST
    if manifest.exists():
        old = _read_json(manifest)
        if old.get("fingerprint") != config.fingerprint() or old.get("generator_version") != GENERATOR_VERSION:
            o = old.get("config", {})
            raise ConfigurationError(
                f"{raw} holds a universe made with another configuration (fingerprint {old.get('fingerprint')}: "
                f"{o.get('enterprises')} enterprises, {o.get('months')} months, seed {o.get('seed')}); "
                f"rerun with --fresh to replace it, or choose another --home",
                code="universe_mismatch",
                existing=old.get("fingerprint"),
                requested=config.fingerprint(),
            )
        return
    occupied = [s for s in _sources() if any((raw / s).glob("*.parquet"))]
    if occupied:
        raise ConfigurationError(
            f"{raw} already holds data for {', '.join(occupied[:3])} without a synth manifest; "
            "rerun with --fresh to replace it, or choose another --home",
            code="universe_mismatch",
        )


def generate_chunk(config: SynthConfig, zone: RawZone, truth_root: Path, g: Any, chunk_index: int) -> dict[str, int]:
    """Generate one chunk and write its parts, holdings and truth; return rows per table."""
    from puhui.data.synth.property import generate_holdings

    ch = build_chunk(config, g, chunk_index)
    part = f"chunk-{chunk_index:05d}"
    counts: dict[str, int] = {}
    for source, builder in SOURCE_BUILDERS:
        table = builder(ch)
        zone.write_part(source, part, table)
        counts[source] = table.num_rows
    rng = np.random.default_rng(np.random.SeedSequence([config.seed, PROPERTY_STREAM, chunk_index]))
    holdings = generate_holdings(config, chunk_index, ch.uscc.astype(object), ch.rep_id.astype(object), rng)
    zone.write_part(PROPERTY_HOLDINGS, part, holdings)
    counts[PROPERTY_HOLDINGS.name] = holdings.num_rows
    for name, builder in TRUTH_BUILDERS:
        table = builder(ch)
        write_truth(truth_root, name, part, table)
        counts[f"truth/{name}"] = table.num_rows
    return counts


def _progress(console: Console | None) -> Progress:
    return Progress(
        TextColumn("[bold]{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        TimeRemainingColumn(),
        console=console,
        disable=console is None,
    )


def run_synth(
    config: SynthConfig, *, home: Path | None = None, fresh: bool = False, console: Console | None = None
) -> dict[str, Any]:
    """Generate (or finish generating) the universe of `config` under `home` (default PUHUI_HOME).

    Returns a report: home, fingerprint, enterprises, months, chunks, chunks generated now and skipped,
    seconds, and row counts per source (over all chunks).
    """
    from puhui.config import paths
    from puhui.data.synth.property import generate_property

    validate_config(config)
    started = time.perf_counter()
    home = Path(home) if home is not None else paths().home
    raw = home / "raw"
    truth_root = home / "truth"
    zone = RawZone(raw)
    if fresh:
        _clear(raw, truth_root)
    _check_existing(config, raw)
    manifest: dict[str, Any] = {
        "generator": "puhui.data.synth",
        "generator_version": GENERATOR_VERSION,
        "fingerprint": config.fingerprint(),
        "config": asdict(config),
        "chunks": config.n_chunks,
        "first_month": config.first_month.isoformat(),
        "last_month": config.last_month.isoformat(),
        "status": "in_progress",
    }
    _write_json(raw / MANIFEST, manifest)
    markers = raw / MARKERS
    generated, skipped = 0, 0
    with _progress(console) as progress:
        if not (markers / "global.done").exists():
            generate_property(config, zone, progress)
            build_global(config, zone, truth_root)
            _write_json(markers / "global.done", {"done": True})
        g = load_global(config, zone, truth_root)
        task = progress.add_task(f"enterprises ({config.chunk_size:,} a chunk)", total=config.n_chunks)
        for i in range(config.n_chunks):
            marker = markers / f"chunk-{i:05d}.done"
            if marker.exists():
                skipped += 1
            else:
                counts = generate_chunk(config, zone, truth_root, g, i)
                _write_json(marker, {"rows": counts})
                generated += 1
            progress.advance(task)
    rows: dict[str, int] = {}
    for i in range(config.n_chunks):
        for k, v in _read_json(markers / f"chunk-{i:05d}.done")["rows"].items():
            rows[k] = rows.get(k, 0) + int(v)
    manifest.update(status="complete", rows=rows)
    _write_json(raw / MANIFEST, manifest)
    seconds = time.perf_counter() - started
    if console is not None:
        console.print(
            f"universe ready in {home}: {config.enterprises:,} enterprises × {config.months} months, "
            f"{len([k for k in rows if not k.startswith('truth/')])} per-chunk sources, "
            f"{generated} chunk(s) generated, {skipped} resumed, {seconds:.1f} s"
        )
    return {
        "home": str(home),
        "fingerprint": config.fingerprint(),
        "enterprises": config.enterprises,
        "months": config.months,
        "chunks": config.n_chunks,
        "generated_chunks": generated,
        "skipped_chunks": skipped,
        "seconds": seconds,
        "rows": rows,
    }
