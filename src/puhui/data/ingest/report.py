"""What one ingestion run did (`IngestReport`) and how the CLI shows it (a Rich table per run)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path

from rich.console import Console
from rich.markup import escape
from rich.table import Table

TOP_REASONS = 10


@dataclass(frozen=True)
class IngestReport:
    """Counts of one file's run: `rows_read = accepted + already_present + quarantined` always.

    `accepted` rows were new and written to `part`; `already_present` rows were identical to stored
    rows and skipped; `quarantined` rows went to `quarantine` with their reasons. `reasons` counts
    quarantine reasons by kind (a row with two reasons counts under both); `warnings` counts row
    findings that do not quarantine (bank-card Luhn); `notes` are file-level remarks (ignored columns,
    float amounts, approximate line numbers).
    """

    source: str
    file: Path
    as_of: date
    rows_read: int
    accepted: int
    already_present: int
    quarantined: int
    part: Path | None = None
    quarantine: Path | None = None
    reasons: dict[str, int] = field(default_factory=dict)
    warnings: dict[str, int] = field(default_factory=dict)
    notes: tuple[str, ...] = ()

    def top_reasons(self, n: int = TOP_REASONS) -> list[tuple[str, int]]:
        return sorted(self.reasons.items(), key=lambda kv: (-kv[1], kv[0]))[:n]


def print_report(reports: IngestReport | Sequence[IngestReport], console: Console | None = None) -> None:
    """One table of counts per source, then each run's top quarantine reasons, warnings and files."""
    runs = [reports] if isinstance(reports, IngestReport) else list(reports)
    console = console or Console()
    counts = Table(title="Ingestion", title_justify="left")
    for col, justify in (
        ("source", "left"),
        ("file", "left"),
        ("read", "right"),
        ("accepted", "right"),
        ("already present", "right"),
        ("quarantined", "right"),
    ):
        counts.add_column(col, justify=justify)  # type: ignore[arg-type]
    for r in runs:
        counts.add_row(
            escape(r.source),
            escape(r.file.name),
            f"{r.rows_read:,}",
            f"[green]{r.accepted:,}[/]",
            f"{r.already_present:,}",
            f"[red]{r.quarantined:,}[/]" if r.quarantined else "0",
        )
    console.print(counts)
    for r in runs:
        if r.reasons:
            reasons = Table(title=f"{escape(r.source)}: top quarantine reasons", title_justify="left")
            reasons.add_column("reason")
            reasons.add_column("rows", justify="right")
            for text, n in r.top_reasons():
                reasons.add_row(escape(text), f"{n:,}")  # reasons carry [check_code]
            console.print(reasons)
        for text, n in sorted(r.warnings.items()):
            console.print(f"[yellow]warning[/] {escape(r.source)}: {escape(text)} ({n:,} rows)")
        for note in r.notes:
            console.print(f"[yellow]note[/] {escape(r.source)}: {escape(note)}")
        if r.part:
            console.print(f"{escape(r.source)}: wrote {escape(str(r.part))}")
        if r.quarantine:
            console.print(f"{escape(r.source)}: quarantine {escape(str(r.quarantine))}")
