"""Checks that run when the library loads: every expression binds, is portable, and has its declared type.

For each source the point-in-time view and every indicator expression are bound (DuckDB `DESCRIBE`)
against empty tables with the contract's schema, so an unknown field, bad SQL or a non-aggregate
expression in a many-rows source is refused at load, naming the indicator and its file. Each expression
is also parsed (DuckDB `json_serialize_sql`) and its functions and casts checked against a whitelist of
what DuckDB and Spark SQL both run with the same meaning (`PORTABLE_FUNCTIONS`); float aggregates whose
result would depend on row order (STDDEV, VAR) are refused — use the `VOLATILITY` macro.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import date
from typing import Any

import duckdb
import pyarrow as pa

from puhui.core.errors import ConfigurationError
from puhui.indicators.compiler import MacroError, Plan, relation_name, stage_name
from puhui.indicators.library import DERIVED, Indicator, IndicatorType, Library

REFERENCE_AS_OF = date(2026, 6, 17)
"""Any date works for binding; a mid-month date also exercises the day-of-month branch of MONTHS_SINCE."""

PORTABLE_FUNCTIONS = frozenset({
    # aggregates (exact on DECIMAL and integers; MIN/MAX order-independent on anything)
    "sum", "count", "count_star", "min", "max", "avg",
    # scalar
    "coalesce", "nullif", "abs", "round", "floor", "ceil", "ceiling", "sqrt", "ln", "exp", "power", "pow",
    "greatest", "least", "sign", "substring", "length", "upper", "lower", "trim", "replace", "translate",
    "concat", "date_part", "year", "month", "day",
    # operators as DuckDB names them
    "+", "-", "*", "/", "%", "~~", "!~~",
})  # fmt: skip
"""Functions an indicator expression may use: same name and meaning in DuckDB and Spark SQL 3.x/4.x."""

RELATION_FUNCTIONS = PORTABLE_FUNCTIONS | {"row_number"}
"""Custom source relations may also number rows in a window (ROW_NUMBER, standard SQL:2003)."""

PORTABLE_CASTS = frozenset({"DOUBLE", "BIGINT", "INTEGER", "DECIMAL", "STRING", "VARCHAR", "BOOLEAN", "DATE"})

_NUMERIC = ("TINYINT", "SMALLINT", "INTEGER", "BIGINT", "HUGEINT", "UTINYINT", "USMALLINT", "UINTEGER",
            "UBIGINT", "UHUGEINT", "FLOAT", "DOUBLE", "DECIMAL")  # fmt: skip
_INTEGER = _NUMERIC[:10]


def _compatible(declared: IndicatorType, actual: str) -> bool:
    a = actual.upper()
    if a in {'"NULL"', "NULL"}:
        return True
    if declared is IndicatorType.INT:
        return a.startswith(_INTEGER)
    if declared.numeric:
        return a.startswith(_NUMERIC)
    if declared is IndicatorType.BOOL:
        return a == "BOOLEAN"
    return a.startswith("VARCHAR")


def _walk(node: Any) -> Iterator[dict[str, Any]]:
    if isinstance(node, dict):
        yield node
        for v in node.values():
            yield from _walk(v)
    elif isinstance(node, list):
        for v in node:
            yield from _walk(v)


AGGREGATES = frozenset({"sum", "count", "count_star", "min", "max", "avg"})


def portability_problems(
    con: duckdb.DuckDBPyConnection, sql: str, *, relation: bool = False, aggregates: bool = True
) -> list[str]:
    """What in `sql` (an expression, or a full query when `relation`) is not portable; [] when fine.

    With `aggregates=False` (derived indicators, one-row-per-enterprise sources) aggregate functions are
    refused too: there the expression is evaluated row by row.
    """
    text = sql if relation else f"SELECT {sql}"
    parsed = json.loads(con.execute("SELECT json_serialize_sql(?)", [text]).fetchall()[0][0])
    if parsed.get("error"):
        return [f"not valid SQL: {parsed.get('error_message', 'parse error')}"]
    allowed = RELATION_FUNCTIONS if relation else PORTABLE_FUNCTIONS
    problems: list[str] = []
    for node in _walk(parsed["statements"]):
        cls = node.get("class")
        if cls == "FUNCTION":
            name = str(node.get("function_name", "")).lower()
            if name not in allowed:
                problems.append(f"function {name!r} is not in the portable set")
            elif not aggregates and name in AGGREGATES:
                problems.append(f"aggregate {name!r} is not allowed here (the expression is per enterprise row)")
        elif cls == "CAST":
            tname = str(node.get("type_expr", {}).get("type_name", node.get("cast_type", {}).get("id", ""))).upper()
            if tname and tname not in PORTABLE_CASTS:
                problems.append(f"cast to {tname} is not portable")
        elif not relation and cls in ("WINDOW", "SUBQUERY"):
            problems.append(f"{cls.lower()} expressions are not allowed in an indicator")
    return sorted(set(problems))


def _empty_tables(con: duckdb.DuckDBPyConnection, library: Library) -> None:
    for name, spec in library.sources.items():
        schema = spec.contract.arrow_schema.append(pa.field("ukey", pa.int32()))
        empty = pa.Table.from_batches([], schema=schema)  # noqa: F841 - read by DuckDB's replacement scan
        con.execute(f"CREATE TABLE {relation_name(name)} AS SELECT * FROM empty")


def _describe(con: duckdb.DuckDBPyConnection, sql: str) -> list[tuple[str, str]]:
    return [(r[0], r[1]) for r in con.execute(f"DESCRIBE {sql}").fetchall()]


def _refuse(ind: Indicator, message: str) -> ConfigurationError:
    return ConfigurationError(
        f"{ind.file}: indicator {ind.id!r}: {message}", code="invalid_indicator", indicator=ind.id, file=ind.file
    )


def _first_line(e: Exception) -> str:
    return str(e).strip().splitlines()[0] if str(e).strip() else type(e).__name__


def validate_library(library: Library) -> None:
    """Bind, type-check and portability-check every source view and indicator; raise on the first problem."""
    con = duckdb.connect()
    try:
        _empty_tables(con, library)
        plan = Plan(library, REFERENCE_AS_OF)
        for source in plan.sources:
            spec = library.sources[source]
            for label, text in (("relation", spec.relation), ("available", spec.available),
                                *((f"column {k}", v) for k, v in spec.columns.items())):  # fmt: skip
                if text:
                    body = text if label == "relation" else f"SELECT {text}"
                    probs = portability_problems(con, _neutral(body), relation=True)
                    if probs:
                        raise ConfigurationError(f"sources.yaml: source {source!r} {label}: {'; '.join(probs)}",
                                                 code="invalid_source_definition", source=source)  # fmt: skip
            try:
                view = plan.view_sql(source)
                _describe(con, view)
            except (duckdb.Error, MacroError) as e:
                raise ConfigurationError(f"sources.yaml: source {source!r}: its point-in-time view does not "
                                         f"compile: {_first_line(e)}", code="invalid_source_definition",
                                         source=source) from None  # fmt: skip
            _check_source_indicators(con, plan, source, view)
            con.execute(f"CREATE TABLE {stage_name(source)} AS {plan.stage_sql(source)} LIMIT 0")
        _check_derived(con, plan)
        try:
            con.execute(f"CREATE VIEW base AS {plan.assemble_sql()}")
            _describe(con, plan.final_sql())
        except duckdb.Error as e:  # pragma: no cover - every part was checked above
            raise ConfigurationError(f"the final indicator query does not compile: {_first_line(e)}",
                                     code="invalid_indicator_definition") from None  # fmt: skip
    finally:
        con.close()


def _neutral(sql: str) -> str:
    """Macros replaced by neutral SQL so the text parses (ENTITY_FILTER(x) → TRUE, AS_OF → a date)."""
    from puhui.indicators.compiler import DUCKDB, Context, expand

    return expand(sql, Context(REFERENCE_AS_OF, 0, DUCKDB))


def _check_source_indicators(con: duckdb.DuckDBPyConnection, plan: Plan, source: str, view: str) -> None:
    library = plan.library
    spec = library.sources[source]
    inds = library.for_source(source)
    group = "" if spec.grain == "row" else " GROUP BY uscc"
    exprs: list[str] = []
    for ind in inds:
        try:
            sql = plan.indicator_sql(ind)
        except MacroError as e:
            raise _refuse(ind, str(e)) from None
        probs = portability_problems(con, sql, aggregates=spec.grain != "row")
        if probs:
            raise _refuse(ind, "; ".join(probs))
        if ind.when_absent == "zero" and spec.grain == "row":
            raise _refuse(ind, "when_absent: zero makes no sense on the spine (every enterprise has a row)")
        exprs.append(sql)
    if not inds:
        return
    select = ", ".join(f"({e}) AS {i.id}" for e, i in zip(exprs, inds, strict=True))
    try:
        types = _describe(con, f"SELECT {select} FROM ({view}) v{group}")
    except duckdb.Error:
        types = []
        for e, ind in zip(exprs, inds, strict=True):
            try:
                types += _describe(con, f"SELECT ({e}) AS {ind.id} FROM ({view}) v{group}")
            except duckdb.Error as err:
                raise _refuse(ind, f"does not compile against {source}: {_first_line(err)}") from None
    for (name, actual), ind in zip(types, inds, strict=True):
        assert name == ind.id
        if not _compatible(ind.type, actual):
            raise _refuse(ind, f"expression yields {actual}, not compatible with declared type {ind.type.value}")


def _check_derived(con: duckdb.DuckDBPyConnection, plan: Plan) -> None:
    library = plan.library
    cols = ", ".join(f"CAST(NULL AS {c.sql_type}) AS {c.name}" for c in plan.columns)
    con.execute(f"CREATE TABLE _all_indicators AS SELECT {cols} LIMIT 0")
    for ind in library.indicators:
        if ind.source != DERIVED:
            continue
        try:
            sql = plan.derived_sql(ind)
        except MacroError as e:
            raise _refuse(ind, str(e)) from None
        probs = portability_problems(con, sql, aggregates=False)
        if probs:
            raise _refuse(ind, "; ".join(probs))
        try:
            ((_, actual),) = _describe(con, f"SELECT ({sql}) AS {ind.id} FROM _all_indicators")
        except duckdb.Error as err:
            raise _refuse(ind, f"does not compile over the other indicators: {_first_line(err)}") from None
        if not _compatible(ind.type, actual):
            raise _refuse(ind, f"expression yields {actual}, not compatible with declared type {ind.type.value}")
