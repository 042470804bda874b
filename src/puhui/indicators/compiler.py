"""The compiler: indicator definitions + an as-of date → portable SQL (DuckDB today, Spark SQL later).

A plan for one as-of date has one **stage** per source and one **final** query:

* the stage of source S reads S's point-in-time view and returns one row per enterprise present in S,
  with a presence flag `src_<S>` and S's indicators, each cast to its declared type:
  `SELECT uscc, TRUE AS src_S, CAST((expr) AS T) AS id, … FROM (<view>) v GROUP BY uscc`;
* the view keeps only the rows available at the as-of date (`puhui.indicators.pit`), renames the key
  column to `uscc`, exposes measured quantities (FLOAT) as DECIMAL(18,6) so that every sum is exact and
  independent of row order, and adds the window helpers `mb` (months back), `dd` (days back) and `rn`
  (1 = latest available row);
* the stages are assembled into one row per registered enterprise (`base`: the stages left-joined to
  the registration spine — assembly only, no indicator logic);
* the final query reads `base`, fills the `when_absent: zero` indicators and the presence flags of
  absent sources, then computes the derived indicators layer by layer.

The batch engine materialises stages, joins them and runs the final over the result; the online engine
runs the same stage SQL for one enterprise, assembles its row and runs the same final SQL. Only the
*entity filter* differs (a USCC range, one key, or none), so both produce the same numbers.

Portability: every date boundary is a literal computed here, so the SQL needs no date arithmetic. The
only dialect-specific text is `DAYS_SINCE` (DuckDB `DATE - DATE`, Spark `datediff`). Macros available in
expressions: `AS_OF`, `KNOWN_BY` (as-of less the source's lag), `AS_OF_YEAR`, `RATIO(a, b)`,
`GROWTH(a, b)`, `VOLATILITY(x)` (coefficient of variation from exact sums), `DAYS_SINCE(d)`,
`MONTHS_SINCE(d)` (whole months, 民法典 Art 202) and, in custom relations, `ENTITY_FILTER(alias.key)`.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date
from functools import cached_property

from puhui.data.contracts import FieldType
from puhui.indicators.library import (
    DERIVED,
    Indicator,
    IndicatorType,
    Library,
    SourceKind,
    SourceSpec,
    derived_levels,
)
from puhui.indicators.pit import anchor_month, is_month_end, known_by, month_index

SPINE = "registration"

EntityFilter = Callable[[str, str], str]
"""(qualifier, key column) → SQL predicate restricting rows to the enterprises being computed."""


def all_entities(qualifier: str, key: str) -> str:
    """No restriction: every enterprise."""
    return "TRUE"


def uscc_range(lo: str | None, hi: str | None) -> EntityFilter:
    """Enterprises with `lo <= uscc < hi` (either bound open when None): a batch chunk."""
    for bound in (lo, hi):
        if bound is not None and not re.fullmatch(r"[0-9A-Z]{1,18}", bound):
            raise ValueError(f"bad USCC bound {bound!r}")

    def predicate(qualifier: str, key: str) -> str:
        parts = []
        if lo is not None:
            parts.append(f"{qualifier}{key} >= '{lo}'")
        if hi is not None:
            parts.append(f"{qualifier}{key} < '{hi}'")
        return " AND ".join(parts) or "TRUE"

    return predicate


def one_key(param: str = "$1") -> EntityFilter:
    """One enterprise of the serving store by its integer key column `ukey` (a prepared parameter)."""

    def predicate(qualifier: str, key: str) -> str:
        return f"{qualifier}ukey = {param}"

    return predicate


@dataclass(frozen=True)
class Dialect:
    """What differs between engines: only how days between two dates are counted."""

    name: str

    def days_between(self, start: str, end: str) -> str:
        if self.name == "spark":
            return f"datediff({end}, {start})"
        return f"CAST(({end} - {start}) AS INTEGER)"


DUCKDB = Dialect("duckdb")
SPARK = Dialect("spark")


# ---- macros -----------------------------------------------------------------------------------------------

_WORD = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")


def _skip_string(text: str, i: int) -> int:
    """Index just after the SQL string literal starting at `text[i] == "'"` ('' is an escaped quote)."""
    j = i + 1
    while j < len(text):
        if text[j] == "'":
            if j + 1 < len(text) and text[j + 1] == "'":
                j += 2
                continue
            return j + 1
        j += 1
    raise ValueError("unterminated string literal")


def _split_args(text: str, start: int) -> tuple[list[str], int]:
    """Arguments of the call whose '(' is at `start`, split on top-level commas; and the index after ')'."""
    depth, i, args, cur = 0, start, [], start + 1
    while i < len(text):
        ch = text[i]
        if ch == "'":
            i = _skip_string(text, i)
            continue
        if ch == "(":
            depth += 1
        elif ch == ")":
            depth -= 1
            if depth == 0:
                args.append(text[cur:i].strip())
                return ([] if args == [""] else args), i + 1
        elif ch == "," and depth == 1:
            args.append(text[cur:i].strip())
            cur = i + 1
        i += 1
    raise ValueError("unbalanced parentheses")


class MacroError(ValueError):
    """A macro used with the wrong number of arguments or unbalanced parentheses."""


@dataclass(frozen=True)
class Context:
    """What the macros of one source need: the as-of date, the source's lag, the dialect, the entity filter."""

    as_of: date
    lag_days: int
    dialect: Dialect
    entity_filter: EntityFilter = all_entities

    @property
    def as_of_sql(self) -> str:
        return f"DATE '{self.as_of.isoformat()}'"

    @property
    def known_by_sql(self) -> str:
        return f"DATE '{known_by(self.as_of, self.lag_days).isoformat()}'"

    def months_since(self, col: str) -> str:
        idx = month_index(self.as_of)
        base = f"{idx} - (EXTRACT(YEAR FROM {col}) * 12 + EXTRACT(MONTH FROM {col}) - 1)"
        if not is_month_end(self.as_of):
            base += f" - CASE WHEN EXTRACT(DAY FROM {col}) > {self.as_of.day} THEN 1 ELSE 0 END"
        return f"CAST({base} AS INTEGER)"


def expand(sql: str, ctx: Context) -> str:
    """Replace the macros in `sql` (outside string literals) with plain SQL for `ctx`."""
    out: list[str] = []
    i = 0
    while i < len(sql):
        ch = sql[i]
        if ch == "'":
            try:
                j = _skip_string(sql, i)
            except ValueError as e:
                raise MacroError(str(e)) from None
            out.append(sql[i:j])
            i = j
            continue
        m = _WORD.match(sql, i)
        if m is None:
            out.append(ch)
            i += 1
            continue
        word, j = m.group(), m.end()
        qualified = i > 0 and sql[i - 1] == "."
        k = j
        while k < len(sql) and sql[k] in " \t\n":
            k += 1
        if not qualified and word in _FUNCTIONS and k < len(sql) and sql[k] == "(":
            try:
                args, end = _split_args(sql, k)
            except ValueError as e:
                raise MacroError(f"{word}: {e}") from None
            arity, render = _FUNCTIONS[word]
            if len(args) != arity:
                raise MacroError(f"{word} takes {arity} argument(s), got {len(args)}")
            out.append(render([expand(a, ctx) for a in args], ctx))
            i = end
            continue
        out.append(_CONSTANTS[word](ctx) if not qualified and word in _CONSTANTS else word)
        i = j
    return "".join(out)


def _ratio(a: list[str], ctx: Context) -> str:
    return f"(CAST({a[0]} AS DOUBLE) / NULLIF(CAST({a[1]} AS DOUBLE), 0))"


def _growth(a: list[str], ctx: Context) -> str:
    return f"(CAST({a[0]} AS DOUBLE) / NULLIF(CAST({a[1]} AS DOUBLE), 0) - 1)"


def _volatility(a: list[str], ctx: Context) -> str:
    # Coefficient of variation (population): std / mean = sqrt(n·Σx² − (Σx)²) / Σx. The radicand is exact
    # decimal arithmetic, so the result neither depends on the order rows are summed in (batch and online
    # agree to the last bit, which a float STDDEV would not) nor suffers cancellation (a flat series is 0).
    x = f"CAST({a[0]} AS DECIMAL(38,4))"
    radicand = f"CAST(COUNT({a[0]}) * SUM({x} * {x}) - SUM({x}) * SUM({x}) AS DOUBLE)"
    return f"(SQRT({radicand}) / NULLIF(CAST(SUM({x}) AS DOUBLE), 0))"


def _days_since(a: list[str], ctx: Context) -> str:
    return ctx.dialect.days_between(a[0], ctx.as_of_sql)


def _months_since(a: list[str], ctx: Context) -> str:
    return ctx.months_since(a[0])


def _entity_filter(a: list[str], ctx: Context) -> str:
    col = a[0]
    qualifier, _, key = col.rpartition(".")
    return "(" + ctx.entity_filter(qualifier + "." if qualifier else "", key) + ")"


_FUNCTIONS: dict[str, tuple[int, Callable[[list[str], Context], str]]] = {
    "RATIO": (2, _ratio),
    "GROWTH": (2, _growth),
    "VOLATILITY": (1, _volatility),
    "DAYS_SINCE": (1, _days_since),
    "MONTHS_SINCE": (1, _months_since),
    "ENTITY_FILTER": (1, _entity_filter),
}
_CONSTANTS: dict[str, Callable[[Context], str]] = {
    "AS_OF": lambda c: c.as_of_sql,
    "KNOWN_BY": lambda c: c.known_by_sql,
    "AS_OF_YEAR": lambda c: str(c.as_of.year),
}
MACROS = tuple(_FUNCTIONS) + tuple(_CONSTANTS)


# ---- plan -------------------------------------------------------------------------------------------------


def relation_name(source: str) -> str:
    """The relation a stage reads: `src_<source>` (a view over Parquet, a table, or a Spark temp view)."""
    return f"src_{source}"


def stage_name(source: str) -> str:
    """The relation holding a stage's result, read by the final query."""
    return f"st_{source}"


def presence_column(source: str) -> str:
    return f"src_{source}"


@dataclass(frozen=True)
class Column:
    name: str
    sql_type: str


class Plan:
    """The SQL of one as-of date: stages per source and the final query (see the module docstring)."""

    def __init__(self, library: Library, as_of: date, dialect: Dialect = DUCKDB) -> None:
        self.library = library
        self.as_of = as_of
        self.dialect = dialect
        self.sources: tuple[str, ...] = (SPINE, *(s for s in library.sources if s != SPINE))

    # -- views and stages --

    def context(self, spec: SourceSpec, entity_filter: EntityFilter = all_entities) -> Context:
        return Context(self.as_of, spec.lag_days, self.dialect, entity_filter)

    def anchor(self, source: str) -> date | None:
        """The latest available month of a monthly source (None for other kinds)."""
        spec = self.library.sources[source]
        return anchor_month(self.as_of, spec.lag_days) if spec.kind is SourceKind.MONTHLY else None

    def view_sql(self, source: str, entity_filter: EntityFilter = all_entities) -> str:
        """The point-in-time view of a source: available rows, `uscc` key, exact types, window helpers."""
        spec = self.library.sources[source]
        ctx = self.context(spec, entity_filter)
        cols = [f"{spec.key} AS uscc"]
        for f in spec.contract.fields:
            if f.name in ("uscc", spec.key):
                continue
            if f.name in spec.columns:
                cols.append(f"{expand(spec.columns[f.name], ctx)} AS {f.name}")
            elif f.type is FieldType.FLOAT:
                cols.append(f"CAST({f.name} AS DECIMAL(18,6)) AS {f.name}")
            else:
                cols.append(f.name)
        t = spec.time_field
        where: list[str] = []
        if spec.kind is SourceKind.MONTHLY:
            anchor = anchor_month(self.as_of, spec.lag_days)
            cols.append(f"CAST({month_index(anchor)} - (EXTRACT(YEAR FROM {t}) * 12 + EXTRACT(MONTH FROM {t}) - 1) "
                        "AS INTEGER) AS mb")  # fmt: skip
            where.append(f"{t} <= DATE '{anchor.isoformat()}'")
        elif spec.kind is SourceKind.EVENT:
            cols.append(f"{ctx.months_since(t)} AS mb")  # type: ignore[arg-type]
            cols.append(f"{self.dialect.days_between(t, ctx.as_of_sql)} AS dd")  # type: ignore[arg-type]
            where.append(f"{t} <= {ctx.known_by_sql}")
        if spec.available:
            where.append(f"({expand(spec.available, ctx)})")
        if spec.relation is not None:
            rel = f"({expand(spec.relation, ctx)}) r"
        else:
            rel = relation_name(source)
            where.append(f"({entity_filter('', spec.key)})")
        inner = f"SELECT {', '.join(cols)} FROM {rel}" + (f" WHERE {' AND '.join(where)}" if where else "")
        if not spec.rank:
            return inner
        tie = ", ".join(k for k in spec.contract.key if k != spec.key)
        order = f"{t} DESC" + (f", {tie} DESC" if tie else "")
        return f"SELECT p.*, ROW_NUMBER() OVER (PARTITION BY uscc ORDER BY {order}) AS rn FROM ({inner}) p"

    def indicator_sql(self, ind: Indicator, entity_filter: EntityFilter = all_entities) -> str:
        """The expression of a source indicator with its macros expanded, before the type cast."""
        spec = self.library.sources[ind.source]
        return expand(ind.expr, self.context(spec, entity_filter))

    def stage_sql(self, source: str, entity_filter: EntityFilter = all_entities) -> str:
        """One row per enterprise present in `source`: presence flag and the source's indicators, typed."""
        spec = self.library.sources[source]
        cols = ["uscc", f"TRUE AS {presence_column(source)}"]
        for ind in self.library.for_source(source):
            cols.append(f"CAST(({self.indicator_sql(ind, entity_filter)}) AS {ind.type.sql}) AS {ind.id}")
        sql = f"SELECT {', '.join(cols)} FROM ({self.view_sql(source, entity_filter)}) v"
        return sql if spec.grain == "row" else sql + " GROUP BY uscc"

    # -- final --

    @cached_property
    def columns(self) -> tuple[Column, ...]:
        """The output schema: uscc, one presence flag per source, then every indicator in library order."""
        out = [Column("uscc", "STRING")]
        out += [Column(presence_column(s), "BOOLEAN") for s in self.sources]
        out += [Column(i.id, i.type.sql) for i in self.library.indicators]
        return tuple(out)

    @cached_property
    def base_columns(self) -> tuple[Column, ...]:
        """The assembled row before the final query: uscc, presence flags, every source indicator."""
        out = [Column("uscc", "STRING")]
        out += [Column(presence_column(s), "BOOLEAN") for s in self.sources]
        out += [Column(i.id, i.type.sql) for i in self.library.indicators if not i.derived]
        return tuple(out)

    def assemble_sql(self) -> str:
        """One row per registered enterprise: the stages (`st_<source>`) left-joined to the spine.

        Pure assembly: no indicator logic. The online engine assembles the same row from the stage
        results of one enterprise instead.
        """
        spine = stage_name(SPINE)
        cols = [f"{spine}.uscc AS uscc"]
        cols += [f"{stage_name(s)}.{presence_column(s)} AS {presence_column(s)}" for s in self.sources]
        cols += [f"{stage_name(i.source)}.{i.id} AS {i.id}" for i in self.library.indicators if not i.derived]
        joins = " ".join(
            f"LEFT JOIN {stage_name(s)} ON {stage_name(s)}.uscc = {spine}.uscc" for s in self.sources if s != SPINE
        )
        return f"SELECT {', '.join(cols)} FROM {spine} {joins}"

    def final_sql(self, base: str = "base") -> str:
        """Over the assembled rows (`base`): absent sources' flags FALSE, counts of events zero, derived indicators."""
        lib = self.library
        ctx = Context(self.as_of, 0, self.dialect)
        cols = ["uscc"] + [f"COALESCE({presence_column(s)}, FALSE) AS {presence_column(s)}" for s in self.sources]
        for ind in lib.indicators:
            if ind.derived:
                continue
            if ind.when_absent == "zero":
                zero = "FALSE" if ind.type is IndicatorType.BOOL else f"CAST(0 AS {ind.type.sql})"
                cols.append(f"COALESCE({ind.id}, {zero}) AS {ind.id}")
            else:
                cols.append(ind.id)
        sql = f"SELECT {', '.join(cols)} FROM {base}"
        for k, layer in enumerate(derived_levels(lib), start=1):
            exprs = ", ".join(f"CAST(({expand(i.expr, ctx)}) AS {i.type.sql}) AS {i.id}" for i in layer)
            sql = f"SELECT l{k}.*, {exprs} FROM ({sql}) l{k}"
        ordered = ", ".join(c.name for c in self.columns)
        return f"SELECT {ordered} FROM ({sql}) z"

    def derived_sql(self, ind: Indicator) -> str:
        assert ind.source == DERIVED
        return expand(ind.expr, Context(self.as_of, 0, self.dialect))

    def single_sql(self, entity_filter: EntityFilter = all_entities) -> str:
        """Stages, assembly and final query as one statement (CTEs): the whole computation, e.g. for Spark."""
        ctes = [f"{stage_name(s)} AS ({self.stage_sql(s, entity_filter)})" for s in self.sources]
        ctes.append(f"base AS ({self.assemble_sql()})")
        return f"WITH {', '.join(ctes)} {self.final_sql()}"


def compile_plan(library: Library, as_of: date, dialect: Dialect = DUCKDB) -> Plan:
    """The SQL plan of `library` as of `as_of` for `dialect`."""
    return Plan(library, as_of, dialect)
