"""Reading a delivered file as text: every column as strings, each row with its line number.

Ingestion validates text it controls, not types a reader guessed, so a CSV is read with every column
as a string (an empty cell is null) and a Parquet file has every column cast to its text form. Rows a
CSV parser cannot split into the header's number of fields are kept, not dropped: they come back with
their fields placed by position and a `_row` reason, so they reach the quarantine file. Whole-file
problems (missing file, unsupported extension, bad encoding, unparseable CSV, unreadable Parquet, a
duplicate or empty column name) raise `ValidationError` naming the file.
"""

from __future__ import annotations

import csv
import gzip
import hashlib
import io
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pacsv
import pyarrow.parquet as pq

from puhui.core.errors import ValidationError

CSV_SUFFIXES = (".csv", ".csv.gz")
PARQUET_SUFFIXES = (".parquet", ".pq")


@dataclass(frozen=True)
class RawInput:
    """A file as text: `text` has one string column per file column (file order), nulls for empty cells.

    `lines[i]` is where row i sits in the file: for CSV the 1-based physical line on which the record
    starts (the header is line 1); for Parquet the 1-based row number. `malformed[i]` is a reason for a
    CSV record with the wrong number of fields (null otherwise). `digest` is the SHA-256 of the file bytes.
    """

    path: Path
    kind: str  # "csv" | "parquet"
    text: pa.Table
    lines: pa.Array
    malformed: pa.Array
    digest: str
    notes: tuple[str, ...] = ()
    types: dict[str, pa.DataType] | None = None  # Parquet: each column's stored type

    @property
    def num_rows(self) -> int:
        return self.text.num_rows

    @property
    def columns(self) -> list[str]:
        return self.text.column_names


def file_kind(path: Path) -> str:
    name = path.name.lower()
    if name.endswith(CSV_SUFFIXES):
        return "csv"
    if name.endswith(PARQUET_SUFFIXES):
        return "parquet"
    raise ValidationError(
        f"{path}: unsupported file type; ingest reads {', '.join(CSV_SUFFIXES + PARQUET_SUFFIXES)}",
        code="unsupported_file_type",
        file=str(path),
    )


def read_input(path: Path, *, encoding: str = "utf-8", text_dates: tuple[str, ...] = ()) -> RawInput:
    """Read `path` (CSV, gzipped CSV or Parquet) as text. `text_dates`: Parquet timestamp columns to
    read as dates (a timestamp at midnight becomes `YYYY-MM-DD`; one with a time of day stays as
    text and so fails the date check)."""
    kind = file_kind(path)
    try:
        data = path.read_bytes()
    except FileNotFoundError:
        raise ValidationError(f"{path}: no such file", code="file_not_found", file=str(path)) from None
    except OSError as e:
        raise ValidationError(f"{path}: cannot read ({e.strerror})", code="unreadable_file", file=str(path)) from None
    digest = hashlib.sha256(data).hexdigest()
    if kind == "csv":
        if path.name.lower().endswith(".gz"):
            try:
                data = gzip.decompress(data)
            except (OSError, EOFError) as e:
                raise ValidationError(
                    f"{path}: not a readable gzip file ({e})", code="unreadable_file", file=str(path)
                ) from None
        return _read_csv(path, data, digest, encoding)
    return _read_parquet(path, data, digest, text_dates)


def _header(path: Path, data: bytes, encoding: str) -> list[str]:
    first = data.split(b"\n", 1)[0]
    try:
        line = first.decode(encoding)
    except UnicodeDecodeError:
        raise _encoding_error(path, encoding) from None
    except LookupError:
        raise ValidationError(f"unknown encoding {encoding!r}", code="unknown_encoding") from None
    names = next(csv.reader([line.rstrip("\r")]), [])
    names = [n.strip() for n in names]
    if not any(names):
        raise ValidationError(
            f"{path}: no header line (expected the contract's column names)", code="missing_header", file=str(path)
        )
    _check_names(path, names)
    return names


def _check_names(path: Path, names: list[str]) -> None:
    seen: set[str] = set()
    for i, n in enumerate(names, start=1):
        if not n:
            raise ValidationError(
                f"{path}: column {i} has an empty name", code="empty_column_name", file=str(path), column=i
            )
        if n in seen:
            raise ValidationError(
                f"{path}: column {n!r} appears more than once", code="duplicate_column", file=str(path), column=n
            )
        seen.add(n)


def _encoding_error(path: Path, encoding: str) -> ValidationError:
    return ValidationError(
        f"{path}: not valid {encoding} text; convert the file to UTF-8 (GBK exports: "
        "`iconv -f GB18030 -t UTF-8`) or pass encoding='gb18030'",
        code="bad_encoding",
        file=str(path),
        encoding=encoding,
    )


def _read_csv(path: Path, data: bytes, digest: str, encoding: str) -> RawInput:
    data = data.removeprefix(b"\xef\xbb\xbf")
    names = _header(path, data, encoding)
    bad: list[tuple[int, int, str]] = []  # (record number, fields found, text)

    def on_invalid(row: pacsv.InvalidRow) -> str:
        bad.append((row.number, row.actual_columns, row.text))
        return "skip"

    try:
        table = pacsv.read_csv(
            pa.BufferReader(data),
            read_options=pacsv.ReadOptions(column_names=names, skip_rows=1, use_threads=False, encoding=encoding),
            parse_options=pacsv.ParseOptions(newlines_in_values=True, invalid_row_handler=on_invalid),
            convert_options=pacsv.ConvertOptions(
                column_types=dict.fromkeys(names, pa.string()),
                null_values=[""],
                strings_can_be_null=True,
                quoted_strings_can_be_null=True,
            ),
        )
    except pa.ArrowInvalid as e:
        if "UTF8" in str(e) or "utf8" in str(e).lower():
            raise _encoding_error(path, encoding) from None
        raise ValidationError(
            f"{path}: not a readable CSV file ({e})", code="unreadable_file", file=str(path)
        ) from None

    # pyarrow numbers records from 1 with the header as record 1, skipping empty lines.
    total = table.num_rows + len(bad)
    starts, note = _record_start_lines(data, total + 1, encoding)
    for number, _, text in bad:
        if number == total + 1 and text.count('"') % 2:
            # An unclosed quote swallows every later line into one last record: refuse the file rather
            # than quarantine the rest of it as a single row.
            raise ValidationError(
                f"{path}: not a readable CSV file (a quoted field opened on line {starts[number - 1]} is never closed)",
                code="unreadable_file",
                file=str(path),
                line=int(starts[number - 1]),
            )
    bad_numbers = {b[0] for b in bad}
    record_no = np.array([r for r in range(2, total + 2) if r not in bad_numbers], dtype=np.int64)
    good_lines = starts[record_no - 1]
    lines = good_lines
    malformed = pa.nulls(table.num_rows, pa.string())
    if bad:
        extra = _malformed_table(names, bad, encoding)
        bad_lines = starts[np.array([b[0] for b in bad], dtype=np.int64) - 1]
        order = np.argsort(np.concatenate([record_no, [b[0] for b in bad]]), kind="stable")
        table = pa.concat_tables([table, extra]).take(pa.array(order))
        lines = np.concatenate([good_lines, bad_lines])[order]
        malformed = pa.concat_arrays(
            [
                malformed,
                pa.array([f"_row: expected {len(names)} fields, found {n}" for _, n, _ in bad], pa.string()),
            ]
        ).take(pa.array(order))
    return RawInput(
        path=path,
        kind="csv",
        text=table,
        lines=pa.array(lines, pa.int64()),
        malformed=malformed,
        digest=digest,
        notes=(note,) if note else (),
    )


def _malformed_table(names: list[str], bad: list[tuple[int, int, str]], encoding: str) -> pa.Table:
    """Records with the wrong field count, fields placed by position; surplus fields join the last column."""
    cols: list[list[str | None]] = [[] for _ in names]
    for _, _, text in bad:
        fields = next(csv.reader([text]), [])
        if len(fields) > len(names):
            fields = [*fields[: len(names) - 1], ",".join(fields[len(names) - 1 :])]
        for i in range(len(names)):
            v = fields[i] if i < len(fields) else None
            cols[i].append(v if v != "" else None)
    return pa.table({n: pa.array(c, pa.string()) for n, c in zip(names, cols, strict=True)})


def _record_start_lines(data: bytes, records: int, encoding: str) -> tuple[np.ndarray, str | None]:
    """The physical line on which each non-empty CSV record starts (header included), vectorised.

    A newline ends a record only outside quotes, i.e. after an even number of `"` (RFC 4180 escapes a
    quote by doubling it, which keeps the parity). Empty lines are not records, as in pyarrow. If the
    count disagrees with the parser (unusual quoting), fall back to Python's csv module.
    """
    b = np.frombuffer(data + b"\n", dtype=np.uint8)  # a sentinel newline ends the last record
    newline = np.flatnonzero(b == 0x0A)
    quotes = np.flatnonzero(b == 0x22)
    ends = newline[np.searchsorted(quotes, newline) % 2 == 0] if len(quotes) else newline
    if len(ends) and ends[-1] == len(b) - 1:
        starts = np.concatenate([[0], ends[:-1] + 1])
        length = ends - starts
        blank = (length == 0) | ((length == 1) & (b[starts] == 0x0D))  # "" or the "\r" of a CRLF
        lines = np.searchsorted(newline, starts[~blank]) + 1
        if len(lines) == records:
            return lines.astype(np.int64), None
    text = data.decode(encoding)
    starts: list[int] = []
    reader = csv.reader(io.StringIO(text, newline=""))
    prev_end = 0
    for row in reader:
        if row:
            starts.append(prev_end + 1)
        prev_end = reader.line_num
    if len(starts) != records:
        # Still no agreement: number rows as if each record were one line, and say so.
        return np.arange(1, records + 1, dtype=np.int64), "line numbers are approximate (unusual CSV quoting)"
    return np.array(starts, dtype=np.int64), None


def _read_parquet(path: Path, data: bytes, digest: str, text_dates: tuple[str, ...]) -> RawInput:
    try:
        table = pq.read_table(pa.BufferReader(data))
    except (pa.ArrowException, OSError) as e:
        raise ValidationError(
            f"{path}: not a readable Parquet file ({e})", code="unreadable_file", file=str(path)
        ) from None
    _check_names(path, [n.strip() for n in table.column_names])
    cols: dict[str, pa.Array] = {}
    types: dict[str, pa.DataType] = {}
    for name, chunked in zip(table.column_names, table.columns, strict=True):
        col = chunked.combine_chunks()
        if pa.types.is_dictionary(col.type):
            col = col.dictionary_decode()
        types[name.strip()] = col.type
        if pa.types.is_timestamp(col.type) and name.strip() in text_dates:
            col = _midnight_to_date_text(col)
        try:
            cols[name.strip()] = pc.cast(col, pa.string())
        except (pa.ArrowNotImplementedError, pa.ArrowInvalid) as e:
            raise ValidationError(
                f"{path}: column {name!r} of type {col.type} cannot be read as text ({e})",
                code="unsupported_column_type",
                file=str(path),
                column=name,
            ) from None
    text = pa.table(cols) if cols else pa.table({})
    n = table.num_rows
    return RawInput(
        path=path,
        kind="parquet",
        text=text,
        lines=pa.array(np.arange(1, n + 1), pa.int64()),
        malformed=pa.nulls(n, pa.string()),
        digest=digest,
        types=types,
    )


def _midnight_to_date_text(col: pa.Array) -> pa.Array:
    """A timestamp at midnight as `YYYY-MM-DD`; any other timestamp as its full text (fails the date check)."""
    if col.type.tz is not None:
        col = pc.local_timestamp(col)
    as_date = pc.cast(col, pa.date32(), safe=False)
    midnight = pc.equal(pc.cast(as_date, col.type), col)
    return pc.if_else(midnight, pc.cast(as_date, pa.string()), pc.cast(col, pa.string()))
