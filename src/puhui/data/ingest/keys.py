"""Key checks of the rows that passed the field checks, in DuckDB: duplicates within the file, and rows
whose key is already in the raw zone.

Within a file, copies of one key that are identical in every field are an exact duplicate: the first
copy is kept and the others are quarantined as `duplicate of line N`. Copies that differ are a conflict
the bank cannot settle by guessing, so every copy is quarantined. Against the raw zone (an anti-join
over the source's Parquet parts, so it scales with DuckDB, not with memory), a row identical to a stored
row is *already present* and silently skipped — that is what makes a re-run idempotent — and a row
whose key is stored with different values is quarantined as a conflict naming the differing fields and
the part that holds the stored row, which stays unchanged.
"""

from __future__ import annotations

from pathlib import Path

import duckdb
import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from puhui.data.ingest.checks import Issue


def _q(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def _scatter(n: int, idx: pa.Array, text: pa.Array) -> pa.Array:
    """A length-n string column with `text[j]` at row `idx[j]` and null elsewhere."""
    pos = np.full(n, len(idx), dtype=np.int64)
    pos[np.asarray(idx.to_numpy(zero_copy_only=False), dtype=np.int64)] = np.arange(len(idx))
    return pc.take(pa.concat_arrays([text.cast(pa.string()), pa.nulls(1, pa.string())]), pa.array(pos))


def _candidates(con: duckdb.DuckDBPyConnection, values: pa.Table, lines: pa.Array, ok: pa.Array) -> None:
    n = values.num_rows
    t = values.append_column("_idx", pa.array(np.arange(n), pa.int64())).append_column("_line", lines)
    con.register("t", t.filter(ok))


def duplicates_in_file(values: pa.Table, lines: pa.Array, ok: pa.Array, key: tuple[str, ...]) -> list[Issue]:
    """Issues for repeated keys among the rows where `ok` is true (exact copies after the first; all
    copies of a key whose copies differ)."""
    label = "+".join(key)
    others = [c for c in values.column_names if c not in key]
    distinct = "struct_pack(" + ", ".join(f"{_q(c)} := {_q(c)}" for c in others) + ")" if others else "1"
    keys = ", ".join(_q(k) for k in key)
    on = " AND ".join(f"t.{_q(k)} IS NOT DISTINCT FROM g.{_q(k)}" for k in key)
    with duckdb.connect() as con:
        _candidates(con, values, lines, ok)
        repeated = con.execute(f"SELECT count(*) FROM (SELECT 1 FROM t GROUP BY {keys} HAVING count(*) > 1)")
        if not repeated.fetchall()[0][0]:
            return []
        rows = con.sql(f"""
            WITH g AS (
                SELECT {keys}, count(*) AS copies, count(DISTINCT {distinct}) AS variants,
                       min(_line) AS first_line,
                       array_to_string(list(_line ORDER BY _line)[1:5], ', ')
                         || CASE WHEN count(*) > 5 THEN ', …' ELSE '' END AS some_lines
                FROM t GROUP BY {keys} HAVING count(*) > 1)
            SELECT t._idx,
                   CASE WHEN g.variants = 1 AND t._line <> g.first_line
                        THEN '{label}: duplicate of line ' || g.first_line END AS dup,
                   CASE WHEN g.variants > 1
                        THEN '{label}: ' || g.copies || ' copies with different values (lines '
                             || g.some_lines || ')' END AS conflict
            FROM t JOIN g ON {on}
        """).to_arrow_table()
    n = values.num_rows
    out: list[Issue] = []
    for col, kind in (("dup", f"{label}: duplicate in file"), ("conflict", f"{label}: conflicting copies in file")):
        if rows.num_rows and rows.column(col).null_count < rows.num_rows:
            out.append(
                Issue(_scatter(n, rows.column("_idx").combine_chunks(), rows.column(col).combine_chunks()), kind=kind)
            )
    return out


def compare_with_raw(
    values: pa.Table, lines: pa.Array, ok: pa.Array, key: tuple[str, ...], parts: list[Path]
) -> tuple[pa.Array, list[Issue]]:
    """(already_present mask, conflict issues) for the rows where `ok` is true, against stored `parts`."""
    n = values.num_rows
    present = pa.array(np.zeros(n, dtype=bool))
    if not parts or not pc.any(ok).as_py():
        return present, []
    label = "+".join(key)
    others = [c for c in values.column_names if c not in key]
    diff = (
        "concat_ws(', ', "
        + ", ".join(f"CASE WHEN t.{_q(c)} IS DISTINCT FROM e.{_q(c)} THEN '{c}' END" for c in others)
        + ")"
        if others
        else "''"
    )
    on = " AND ".join(f"t.{_q(k)} = e.{_q(k)}" for k in key)
    files = "[" + ", ".join("'" + str(p).replace("'", "''") + "'" for p in parts) + "]"
    with duckdb.connect() as con:
        _candidates(con, values, lines, ok)
        rows = con.sql(f"""
            SELECT _idx, bool_or(d = '') AS present,
                   '{label}: already in the raw zone with different ' || min(d) FILTER (WHERE d <> '')
                     || ' (part ' || min(part) FILTER (WHERE d <> '') || ')' AS conflict
            FROM (
                SELECT t._idx, {diff} AS d, parse_filename(e._part, true) AS part
                FROM t JOIN read_parquet({files}, union_by_name = true, filename = '_part') e ON {on}
            )
            GROUP BY _idx
        """).to_arrow_table()
    if not rows.num_rows:
        return present, []
    idx = rows.column("_idx").combine_chunks()
    is_present = rows.column("present").combine_chunks()
    mask = np.zeros(n, dtype=bool)
    mask[pc.filter(idx, is_present).to_numpy()] = True
    present = pa.array(mask)
    conflict_text = pc.if_else(is_present, pa.scalar(None, pa.string()), rows.column("conflict").combine_chunks())
    issues = []
    if conflict_text.null_count < len(conflict_text):
        issues.append(Issue(_scatter(n, idx, conflict_text), kind=f"{label}: conflicts with the raw zone"))
    return present, issues
