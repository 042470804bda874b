"""`ingest_file`: one delivered file into the raw zone — read, check, de-duplicate, write, quarantine.

The run holds a per-source lock (`<raw>/<source>/.ingest.lock`, POSIX `flock`, released if the process
dies) from the raw-zone comparison to the last write, so two runs on one source cannot both add a row.
Writes are atomic (temporary name, then rename): the accepted rows first, as one new part, then the
quarantine file. A crash between them is repaired by re-running the same file.
"""

from __future__ import annotations

import contextlib
import hashlib
import os
from collections.abc import Iterator
from datetime import date
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pacsv

from puhui.config import Paths, paths
from puhui.core.errors import Conflict, PuhuiError, ValidationError
from puhui.data.contracts.base import FieldType, SourceContract
from puhui.data.ingest.checks import Issue, check_rows
from puhui.data.ingest.keys import compare_with_raw, duplicates_in_file
from puhui.data.ingest.reader import RawInput, read_input
from puhui.data.ingest.report import IngestReport

if TYPE_CHECKING:
    from puhui.data.rawzone import RawZone

try:
    import fcntl
except ImportError:  # pragma: no cover - not POSIX: no lock, one ingest per source at a time by convention
    fcntl = None  # type: ignore[assignment]

LINE_COLUMN = "_line"
REASON_COLUMN = "_reason"
MALFORMED_KIND = "_row: wrong number of fields"


def ingest_file(
    source: str | SourceContract,
    file: Path | str,
    *,
    home: Path | str | None = None,
    as_of: date | None = None,
    encoding: str = "utf-8",
) -> IngestReport:
    """Load `file` (CSV, gzipped CSV or Parquet) for `source` into the raw zone under `home`.

    `source` is a contract name (or a `SourceContract`); `as_of` is the business date for the
    "not in the future" checks (default: today in China Standard Time); `encoding` is the CSV text
    encoding (e.g. `gb18030` for GBK exports). Whole-file problems raise `ValidationError` and write
    nothing; bad rows go to `<home>/quarantine/<source>/<part>.csv`.
    """
    path = Path(file)
    contract = _contract(source, path)
    day = as_of if as_of is not None else _today()
    where = Paths(Path(home).resolve()) if home is not None else paths()
    dated = tuple(f.name for f in contract.fields if f.type in (FieldType.DATE, FieldType.MONTH))
    raw = read_input(path, encoding=encoding, text_dates=dated)
    notes = [*raw.notes, *_column_notes(contract, raw)]
    n = raw.num_rows

    checked = check_rows(contract, raw.text.select([f.name for f in contract.fields]), day)
    issues = checked.issues
    if raw.malformed.null_count < n:
        # A record split into the wrong number of fields has no trustworthy values: one reason only.
        broken = pc.is_valid(raw.malformed)
        issues = [Issue(pc.if_else(broken, pa.scalar(None, pa.string()), i.text), i.kind) for i in issues]
        issues.append(Issue(raw.malformed, kind=MALFORMED_KIND))
    issues += duplicates_in_file(checked.values, raw.lines, _passing(issues, n), contract.key)

    from puhui.data.rawzone import RawZone

    zone = RawZone(where.raw)
    base = "ingest-" + hashlib.sha256(f"{contract.name}\0{raw.digest}".encode()).hexdigest()[:20]
    with _source_lock(zone.folder(contract.name), contract.name):
        present, conflicts = compare_with_raw(
            checked.values, raw.lines, _passing(issues, n), contract.key, zone.parts(contract.name)
        )
        issues += conflicts
        reason = _join(issues, n)
        bad = pc.is_valid(reason)
        new = pc.and_(pc.invert(bad), pc.invert(present))
        accepted = int(pc.sum(new).as_py() or 0)
        part = None
        if accepted:
            part = zone.write_part(contract, _free_part_name(zone, contract.name, base), checked.values.filter(new))
        quarantine = _write_quarantine(where.quarantine / contract.name / f"{base}.csv", raw, reason, bad)

    quarantined = int(pc.sum(bad).as_py() or 0)
    return IngestReport(
        source=contract.name,
        file=path,
        as_of=day,
        rows_read=n,
        accepted=accepted,
        already_present=n - accepted - quarantined,
        quarantined=quarantined,
        part=part,
        quarantine=quarantine,
        reasons=_reason_counts(issues),
        warnings=checked.warnings,
        notes=tuple(notes),
    )


def _contract(source: str | SourceContract, path: Path) -> SourceContract:
    if isinstance(source, SourceContract):
        return source
    from puhui.data.contracts import contract

    try:
        return contract(source)
    except PuhuiError as e:
        raise ValidationError(f"{path}: {e.message}", code="unknown_source", file=str(path), source=source) from e


def _today() -> date:
    from puhui.core.dates import SystemClock

    return SystemClock().today()


def _column_notes(contract: SourceContract, raw: RawInput) -> list[str]:
    """Refuse a file that lacks a contract column; note the columns it has beyond the contract.

    Every contract field must be a column, nullable or not (nullable means the cell may be empty), so a
    misspelt header fails loudly instead of loading an empty column; extra columns are then harmless
    and ignored (they are kept in the quarantine file).
    """
    names = set(raw.columns)
    missing = [f.name for f in contract.fields if f.name not in names]
    if missing:
        raise ValidationError(
            f"{raw.path}: missing column{'s' if len(missing) > 1 else ''} {', '.join(missing)} "
            f"required by the {contract.name} contract",
            code="missing_column",
            file=str(raw.path),
            column=missing[0],
            columns=missing,
        )
    known = {f.name for f in contract.fields}
    notes = [f"ignored column {c!r}: not in the {contract.name} contract" for c in raw.columns if c not in known]
    for f in contract.fields:
        t = (raw.types or {}).get(f.name)
        if f.type is FieldType.AMOUNT and t is not None and pa.types.is_floating(t):
            notes.append(
                f"{f.name}: stored as binary floating point; read through its shortest decimal text "
                "(deliver money as decimal)"
            )
    return notes


def _passing(issues: list[Issue], n: int) -> pa.Array:
    failing = np.zeros(n, dtype=bool)
    for i in issues:
        failing |= pc.is_valid(i.text).to_numpy(zero_copy_only=False)
    return pa.array(~failing)


def _join(issues: list[Issue], n: int) -> pa.Array:
    """All reasons of each row, `; `-joined in check order; null for a row that passed."""
    out = pa.nulls(n, pa.string())
    for i in issues:
        out = pc.coalesce(pc.binary_join_element_wise(out, i.text, "; "), out, i.text)
    return out


def _reason_counts(issues: list[Issue]) -> dict[str, int]:
    counts: dict[str, int] = {}
    for i in issues:
        if i.kind is not None:
            found = len(i.text) - i.text.null_count
            if found:
                counts[i.kind] = counts.get(i.kind, 0) + found
            continue
        vc = pc.value_counts(i.text.drop_null())
        for text, c in zip(vc.field("values").to_pylist(), vc.field("counts").to_pylist(), strict=True):
            counts[text] = counts.get(text, 0) + c
    return counts


def _free_part_name(zone: RawZone, source: str, base: str) -> str:
    """`base`, or `base-2`, `base-3` … when the same file was loaded before and now yields new rows
    (a later as-of date admits rows the first run found in the future)."""
    name, k = base, 1
    while zone.has_part(source, name):
        k += 1
        name = f"{base}-{k}"
    return name


def _write_quarantine(target: Path, raw: RawInput, reason: pa.Array, bad: pa.Array) -> Path | None:
    """The refused rows as text (every file column as delivered) with `_line` and `_reason`.

    The file is named after the delivered file's content, so it always shows the latest run of that
    file; a run that refuses nothing removes the file an earlier run left.
    """
    if not pc.any(bad).as_py():
        target.unlink(missing_ok=True)
        return None
    table = raw.text.filter(bad)
    table = table.append_column(LINE_COLUMN, raw.lines.filter(bad))
    table = table.append_column(REASON_COLUMN, reason.filter(bad))
    target.parent.mkdir(parents=True, exist_ok=True)
    tmp = target.with_name(f"{target.name}.tmp{os.getpid()}")
    pacsv.write_csv(table, tmp, write_options=pacsv.WriteOptions(quoting_style="needed"))
    tmp.replace(target)
    return target


@contextlib.contextmanager
def _source_lock(folder: Path, source: str) -> Iterator[None]:
    folder.mkdir(parents=True, exist_ok=True)
    if fcntl is None:  # pragma: no cover
        yield
        return
    with (folder / ".ingest.lock").open("a+") as fh:
        try:
            fcntl.flock(fh, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            raise Conflict(
                f"another ingest of {source} is running (lock {folder / '.ingest.lock'})",
                code="ingest_running",
                source=source,
            ) from None
        try:
            yield
        finally:
            fcntl.flock(fh, fcntl.LOCK_UN)
