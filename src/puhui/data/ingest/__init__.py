"""Ingestion (`puhui ingest SOURCE FILE`): a delivered CSV or Parquet file into the raw zone, every row
checked against the source's contract, bad rows to quarantine with the reason, re-runs idempotent.

Decisions (a bank data engineer's defaults; change them here, with the tests):

- **Whole-file problems refuse the file and write nothing** (`ValidationError` naming the file and,
  where there is one, the column): unknown source, missing or unreadable file, unsupported extension
  (`.csv`, `.csv.gz`, `.parquet`, `.pq`), text that is not in the stated encoding (UTF-8 by default,
  a BOM is fine; pass `encoding="gb18030"` for GBK exports), an empty or repeated column name, and a
  **missing contract column** — every contract field must be a column, nullable fields too (nullable
  means an empty cell is allowed), so a misspelt header cannot silently load an empty column.
- **Extra columns are ignored with a note** in the report: once every contract column is present an
  extra column cannot hide a misspelling, and refusing files over a harmless added column stalls
  deliveries. Extra columns are kept in the quarantine file, so a fixed row can be re-sent as is.
- **Row checks** (vectorised on Arrow; identifier checks once per distinct value) — the text rules
  are in `checks.py`: a value that does not parse as the declared type; an empty required field (key
  fields are always required); a code outside `Field.codes`; a negative value where the contract says
  `NON_NEGATIVE` (only there: some amounts are legitimately negative — profit, net flows, refunds — so
  the contract, not the type, decides); an amount with a non-zero digit past the fen; a SHARE outside
  [0, 1]; a date or month after the as-of date for `NOT_FUTURE` fields and for the time field (a
  month is after the as-of date when its first day is); an invalid USCC (GB 32100) or resident ID
  (GB 11643), the reason naming the validator's check code. A bank-card Luhn failure is a warning,
  counted in the report, never a quarantine (legacy domestic cards; reference/cn_domain.md §2.3).
- **Duplicate keys within a file**: identical copies keep the first and quarantine the rest
  (`duplicate of line N`); copies that differ are all quarantined — the bank cannot tell which is
  right and must not guess. Only rows that passed the row checks take part.
- **Against the raw zone** (DuckDB anti-join over the source's parts): an identical stored row →
  *already present*, skipped silently (re-runs are idempotent); same key, different values → the
  new row is quarantined as a conflict naming the differing fields and the stored part, which is
  never changed. Stored rows are never rewritten or deleted by ingestion.
- **Accepted rows are one new part** `ingest-<sha256(source, file bytes)>` (suffix `-2`, `-3`… if
  the same bytes later yield new rows, e.g. under a later as-of date). Re-ingesting a file adds
  nothing; a file overlapping an earlier one adds only its new rows. Values are stored normalised:
  trimmed, typed to the contract, USCC/RIC in canonical form.
- **Quarantine** `<home>/quarantine/<source>/<same name>.csv`: every file column as delivered (text),
  `_line` (CSV: the physical line where the record starts, header = line 1, correct across quoted
  newlines; Parquet: the 1-based row number) and `_reason` (all reasons, `; `-joined, each
  `field: why`). A CSV record with the wrong number of fields is quarantined with one reason
  (`_row: expected N fields, found M`), its fields placed by position. The file reflects the latest
  run of the same bytes; a run that refuses nothing removes it.
- The **as-of date** defaults to today in China Standard Time (`puhui.core.dates.SystemClock`).
- One ingest per source at a time (a `flock` on the source folder; a second run gets `Conflict`).
- Files are read whole into memory (Arrow); split very large deliveries.

Public surface: `ingest_file`, `IngestReport`, `print_report`.
"""

from __future__ import annotations

from puhui.data.ingest.report import IngestReport, print_report
from puhui.data.ingest.service import ingest_file

__all__ = ["IngestReport", "ingest_file", "print_report"]
