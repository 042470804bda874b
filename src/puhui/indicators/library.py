"""The indicator library (指标库) as data: definitions read from YAML, checked, and held as plain objects.

Each indicator has an id, a Chinese and English name, the source it reads (or `derived` for one computed
from other indicators), a window, an SQL expression, a type and unit, a description, the direction in
which it means more risk, what it is when the enterprise is absent from the source (NULL, or zero for
counts of events) and, for boolean warning indicators, a flag severity shown on the profile (画像).

Files: `definitions/sources.yaml` says how each source is read and cut to a point in time (key column,
custom relation, extra availability rules, column overrides); `definitions/<dimension>.yaml` holds one
dimension's indicators. An entry with `windows: [3, 6, 12]` expands into one indicator per window, with
`{w}` replaced in its id, names, window and expression. `load_library()` parses, expands and validates;
every problem raises `ConfigurationError` naming the file and the indicator. The SQL checks (binding
against empty tables of the contract schemas, function whitelist, result types) live in
`puhui.indicators.validate` and run when the library loads.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from functools import cache
from pathlib import Path
from typing import Any

import yaml

from puhui.core.errors import ConfigurationError
from puhui.data.contracts import CONTRACTS, FieldType, SourceContract

DEFINITIONS = Path(__file__).with_name("definitions")

_ID = re.compile(r"^[a-z][a-z0-9_]{1,62}$")
_IDENT = re.compile(r"\b[a-z_][a-z0-9_]*\b")


class IndicatorType(StrEnum):
    """The value type of an indicator and its SQL storage (the same on DuckDB and Spark)."""

    AMOUNT = "amount"  # CNY yuan exact to the fen
    INT = "int"
    FLOAT = "float"
    BOOL = "bool"
    CODE = "code"

    @property
    def sql(self) -> str:
        return _SQL_TYPES[self]

    @property
    def numeric(self) -> bool:
        return self in (IndicatorType.AMOUNT, IndicatorType.INT, IndicatorType.FLOAT)


_SQL_TYPES = {
    IndicatorType.AMOUNT: "DECIMAL(18,2)",
    IndicatorType.INT: "BIGINT",
    IndicatorType.FLOAT: "DOUBLE",
    IndicatorType.BOOL: "BOOLEAN",
    IndicatorType.CODE: "STRING",
}


class Risk(StrEnum):
    """Which way more risk lies: a higher value (or TRUE), a lower value (or FALSE), or neither."""

    HIGHER = "higher"
    LOWER = "lower"
    NONE = "none"


class Severity(StrEnum):
    """Flag tiers, as the early-warning tiers (red: act now; orange: review; yellow: watch)."""

    RED = "red"
    ORANGE = "orange"
    YELLOW = "yellow"


UNITS = frozenset({
    "CNY", "count", "months", "days", "years", "persons", "share", "ratio", "kWh", "kVA", "t", "mu",
    "score", "rank", "flag", "code", "CNY/person", "CNY/order", "kWh/kCNY", "months of outflow",
})  # fmt: skip
"""Units an indicator may declare (a typo in a unit is refused at load)."""


@dataclass(frozen=True)
class Dimension:
    """A group of indicators (工商, 税务, 征信 …), one YAML file."""

    id: str
    zh: str
    en: str
    order: int
    description: str = ""


class SourceKind(StrEnum):
    """How a source is placed in time: monthly rows, dated events, or a snapshot without time."""

    MONTHLY = "monthly"
    EVENT = "event"
    SNAPSHOT = "snapshot"


@dataclass(frozen=True)
class SourceSpec:
    """How the library reads one source: its key, time field, lag, grain and point-in-time rules."""

    name: str
    contract: SourceContract
    key: str  # the column holding the enterprise's USCC (exposed to indicators as `uscc`)
    time_field: str | None
    lag_days: int
    grain: str  # "agg": many rows per enterprise (expressions aggregate) | "row": one row per enterprise
    rank: bool  # expose `rn` (1 = latest available row of the enterprise)
    relation: str | None  # custom SQL replacing the raw relation (must use ENTITY_FILTER)
    available: str | None  # extra SQL condition a row must meet to be available
    columns: Mapping[str, str]  # column overrides: name -> SQL over the raw columns
    note: str = ""

    @property
    def kind(self) -> SourceKind:
        if self.time_field is None:
            return SourceKind.SNAPSHOT
        ftype = self.contract.field(self.time_field).type
        return SourceKind.MONTHLY if ftype is FieldType.MONTH else SourceKind.EVENT

    @property
    def helpers(self) -> tuple[str, ...]:
        """Columns the point-in-time view adds for windows: `mb`, `dd`, `rn`."""
        out: list[str] = []
        if self.kind is SourceKind.MONTHLY:
            out.append("mb")
        elif self.kind is SourceKind.EVENT:
            out += ["mb", "dd"]
        if self.rank:
            out.append("rn")
        return tuple(out)


@dataclass(frozen=True)
class Indicator:
    """One indicator: what it means, where it comes from, how it is computed and read."""

    id: str
    zh: str
    en: str
    dimension: str
    source: str  # a source name, or "derived"
    window: str
    expr: str
    type: IndicatorType
    unit: str
    risk: Risk
    description: str
    when_absent: str = "null"  # "null" | "zero" (counts of events: no record means none happened)
    flag: Severity | None = None
    file: str = ""
    inputs: tuple[str, ...] = ()  # derived: the indicators it reads

    @property
    def derived(self) -> bool:
        return self.source == DERIVED

    def to_dict(self) -> dict[str, Any]:
        return {
            "id": self.id, "zh": self.zh, "en": self.en, "dimension": self.dimension, "source": self.source,
            "window": self.window, "expr": self.expr, "type": self.type.value, "unit": self.unit,
            "risk": self.risk.value, "description": self.description, "when_absent": self.when_absent,
            "flag": self.flag.value if self.flag else None, "inputs": list(self.inputs),
        }  # fmt: skip


DERIVED = "derived"


@dataclass(frozen=True)
class Library:
    """The loaded library: sources, dimensions and indicators in definition order."""

    sources: Mapping[str, SourceSpec]
    dimensions: tuple[Dimension, ...]
    indicators: tuple[Indicator, ...]
    fingerprint: str
    _by_id: Mapping[str, Indicator] = field(default_factory=dict, repr=False, compare=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "_by_id", {i.id: i for i in self.indicators})

    def __len__(self) -> int:
        return len(self.indicators)

    def get(self, indicator_id: str) -> Indicator:
        try:
            return self._by_id[indicator_id]
        except KeyError:
            raise ConfigurationError(f"unknown indicator {indicator_id!r}", code="unknown_indicator") from None

    def __contains__(self, indicator_id: object) -> bool:
        return indicator_id in self._by_id

    def for_source(self, source: str) -> tuple[Indicator, ...]:
        return tuple(i for i in self.indicators if i.source == source)

    def for_dimension(self, dimension: str) -> tuple[Indicator, ...]:
        return tuple(i for i in self.indicators if i.dimension == dimension)

    @property
    def derived(self) -> tuple[Indicator, ...]:
        return tuple(i for i in self.indicators if i.derived)

    def base_sources(self, indicator: Indicator) -> tuple[str, ...]:
        """The raw sources an indicator depends on (through derived inputs, transitively)."""
        if not indicator.derived:
            return (indicator.source,)
        seen: list[str] = []
        for name in indicator.inputs:
            for s in self.base_sources(self.get(name)):
                if s not in seen:
                    seen.append(s)
        return tuple(seen)

    def dimension(self, dimension_id: str) -> Dimension:
        for d in self.dimensions:
            if d.id == dimension_id:
                return d
        raise ConfigurationError(f"unknown dimension {dimension_id!r}", code="unknown_dimension")

    def subset(self, ids: Iterable[str]) -> Library:
        """A library of only these indicators (and their derived inputs), reading only the sources they need.

        Sources a kept source's custom relation reads (the registration change log, say) are kept too; the
        fingerprint says which indicators were kept.
        """
        keep: dict[str, Indicator] = {}
        todo = list(ids)
        while todo:
            ind = self.get(todo.pop())
            if ind.id not in keep:
                keep[ind.id] = ind
                todo.extend(ind.inputs)
        needed = {"registration", *(s for i in keep.values() for s in self.base_sources(i))}
        for name in list(needed):
            rel = self.sources[name].relation or ""
            needed.update(m for m in re.findall(r"\bsrc_([a-z_]+)\b", rel) if m in self.sources)
        sources = {n: spec for n, spec in self.sources.items() if n in needed}
        inds = tuple(i for i in self.indicators if i.id in keep)
        return Library(sources=sources, dimensions=self.dimensions, indicators=inds,
                       fingerprint=fingerprint_of([self.fingerprint, *sorted(keep)]))  # fmt: skip

    def counts_by_dimension(self) -> dict[str, int]:
        return {d.id: len(self.for_dimension(d.id)) for d in self.dimensions}


# ---- loading ----------------------------------------------------------------------------------------------


def _fail(file: str, message: str, **details: Any) -> ConfigurationError:
    return ConfigurationError(f"{file}: {message}", code="invalid_indicator_definition", file=file, **details)


def _read_yaml(path: Path) -> Any:
    try:
        return yaml.safe_load(path.read_text(encoding="utf-8"))
    except yaml.YAMLError as e:
        raise _fail(path.name, f"not valid YAML ({e})") from None


def _load_sources(path: Path) -> dict[str, SourceSpec]:
    raw = _read_yaml(path)
    if not isinstance(raw, dict) or not raw:
        raise _fail(path.name, "expected a mapping of source name -> settings")
    allowed = {"key", "time_field", "lag_days", "grain", "rank", "relation", "available", "columns", "note"}
    out: dict[str, SourceSpec] = {}
    for name, settings in raw.items():
        body = settings or {}
        where = f"{path.name}: source {name!r}"
        if name not in CONTRACTS:
            raise _fail(path.name, f"source {name!r} has no data contract; known: {', '.join(sorted(CONTRACTS))}",
                        source=name)  # fmt: skip
        unknown = set(body) - allowed
        if unknown:
            raise _fail(path.name, f"{where}: unknown settings {sorted(unknown)}", source=name)
        c = CONTRACTS[name]
        names = {f.name for f in c.fields}
        key = body.get("key", "uscc")
        if key not in names:
            raise _fail(path.name, f"{where}: key column {key!r} is not a field of the contract", source=name)
        time_field = body.get("time_field", c.time_field)
        if time_field is not None and (
            time_field not in names or c.field(time_field).type not in (FieldType.DATE, FieldType.MONTH)
        ):
            raise _fail(path.name, f"{where}: time_field {time_field!r} is not a date or month field", source=name)
        grain = body.get("grain", "agg")
        if grain not in ("agg", "row"):
            raise _fail(path.name, f"{where}: grain must be 'agg' or 'row'", source=name)
        columns = body.get("columns") or {}
        bad = set(columns) - names
        if bad:
            raise _fail(path.name, f"{where}: column overrides name unknown fields {sorted(bad)}", source=name)
        relation = body.get("relation")
        if relation is not None and len(re.findall(r"\bsrc_[a-z_]+\b", relation)) > relation.count("ENTITY_FILTER("):
            raise _fail(path.name, f"{where}: a custom relation must restrict every raw relation it reads with "
                        "ENTITY_FILTER(alias.key)", source=name)  # fmt: skip
        out[name] = SourceSpec(
            name=name, contract=c, key=key, time_field=time_field,
            lag_days=int(body.get("lag_days", c.lag_days)), grain=grain, rank=bool(body.get("rank", False)),
            relation=relation, available=body.get("available"), columns=dict(columns),
            note=str(body.get("note", "")).strip(),
        )  # fmt: skip
    if "registration" not in out or out["registration"].grain != "row":
        raise _fail(path.name, "the registration source must be listed with grain: row (it is the spine)")
    return out


_REQUIRED = ("id", "zh", "en", "source", "window", "expr", "type", "unit", "risk", "description")
_OPTIONAL = ("windows", "when_absent", "flag")


def _expand(entry: dict[str, Any], file: str) -> list[dict[str, Any]]:
    windows = entry.get("windows")
    if windows is None:
        return [entry]
    if not isinstance(windows, list) or not windows:
        raise _fail(file, f"indicator {entry.get('id')!r}: windows must be a non-empty list")
    out = []
    for w in windows:
        e = {k: (v.replace("{w}", str(w)) if isinstance(v, str) else v) for k, v in entry.items() if k != "windows"}
        out.append(e)
    return out


def _parse_indicator(e: dict[str, Any], dimension: str, file: str, sources: Mapping[str, SourceSpec]) -> Indicator:
    ident = e.get("id")
    missing = [k for k in _REQUIRED if e.get(k) in (None, "")]
    if missing:
        raise _fail(file, f"indicator {ident!r}: missing {', '.join(missing)}", indicator=ident)
    unknown = set(e) - set(_REQUIRED) - set(_OPTIONAL)
    if unknown:
        raise _fail(file, f"indicator {ident!r}: unknown keys {sorted(unknown)}", indicator=ident)
    if not isinstance(ident, str) or not _ID.match(ident) or "{" in ident:
        raise _fail(file, f"indicator id {ident!r} must be snake_case (a-z, 0-9, _), 2–63 characters",
                    indicator=ident)  # fmt: skip
    source = e["source"]
    if source != DERIVED and source not in sources:
        raise _fail(file, f"indicator {ident!r}: unknown source {source!r}; known: {', '.join(sorted(sources))}, "
                    f"{DERIVED}", indicator=ident)  # fmt: skip
    try:
        itype = IndicatorType(e["type"])
        risk = Risk(e["risk"])
        flag = Severity(e["flag"]) if e.get("flag") else None
    except ValueError as exc:
        raise _fail(file, f"indicator {ident!r}: {exc}", indicator=ident) from None
    if e["unit"] not in UNITS:
        raise _fail(file, f"indicator {ident!r}: unknown unit {e['unit']!r}; known: {', '.join(sorted(UNITS))}",
                    indicator=ident)  # fmt: skip
    when_absent = e.get("when_absent", "null")
    if when_absent not in ("null", "zero"):
        raise _fail(file, f"indicator {ident!r}: when_absent must be null or zero", indicator=ident)
    if when_absent == "zero" and (source == DERIVED or itype is IndicatorType.CODE):
        raise _fail(file, f"indicator {ident!r}: when_absent: zero needs a numeric or boolean source indicator",
                    indicator=ident)  # fmt: skip
    if flag is not None and itype is not IndicatorType.BOOL:
        raise _fail(file, f"indicator {ident!r}: only boolean indicators can be flags", indicator=ident)
    expr = str(e["expr"]).strip()
    if ";" in expr:
        raise _fail(file, f"indicator {ident!r}: one expression, no ';'", indicator=ident)
    return Indicator(
        id=ident, zh=str(e["zh"]), en=str(e["en"]), dimension=dimension, source=source, window=str(e["window"]),
        expr=expr, type=itype, unit=e["unit"], risk=risk, description=" ".join(str(e["description"]).split()),
        when_absent=when_absent, flag=flag, file=file,
    )  # fmt: skip


def _resolve_derived(indicators: list[Indicator]) -> list[Indicator]:
    ids = {i.id for i in indicators}
    out = []
    for ind in indicators:
        if not ind.derived:
            out.append(ind)
            continue
        inputs = tuple(dict.fromkeys(t for t in _IDENT.findall(_strip_strings(ind.expr)) if t in ids))
        if not inputs:
            raise _fail(ind.file, f"indicator {ind.id!r}: a derived indicator must read other indicators",
                        indicator=ind.id)  # fmt: skip
        if ind.id in inputs:
            raise _fail(ind.file, f"indicator {ind.id!r} reads itself", indicator=ind.id)
        out.append(Indicator(**{**ind.__dict__, "inputs": inputs}))
    return out


def _strip_strings(sql: str) -> str:
    return re.sub(r"'(?:[^']|'')*'", "''", sql)


def derived_levels(library: Library) -> list[list[Indicator]]:
    """Derived indicators in dependency layers (level 1 reads only source indicators, level 2 also level 1 …)."""
    level: dict[str, int] = {i.id: 0 for i in library.indicators if not i.derived}
    pending = list(library.derived)
    while pending:
        progressed = []
        for ind in pending:
            if all(n in level for n in ind.inputs):
                level[ind.id] = 1 + max(level[n] for n in ind.inputs)
                progressed.append(ind)
        if not progressed:
            names = ", ".join(i.id for i in pending)
            raise ConfigurationError(f"derived indicators form a cycle: {names}", code="invalid_indicator_definition")
        pending = [i for i in pending if i not in progressed]
    depth = max((v for v in level.values()), default=0)
    return [[i for i in library.derived if level[i.id] == k] for k in range(1, depth + 1)]


def load_library(directory: Path | None = None, *, validate: bool = True) -> Library:
    """Read, expand and check the definitions in `directory` (default: the shipped ones).

    With `validate` (the default) every expression is also compiled against empty tables of the contract
    schemas in DuckDB, so bad SQL, an unknown field or a non-portable function is refused here, naming
    the indicator. The shipped library is cached after its first load (`default_library()`).
    """
    directory = Path(directory) if directory is not None else DEFINITIONS
    if not directory.is_dir():
        raise ConfigurationError(f"indicator definitions folder {directory} does not exist", code="no_definitions")
    sources = _load_sources(directory / "sources.yaml")
    dimensions: list[Dimension] = []
    indicators: list[Indicator] = []
    hasher = hashlib.sha256()
    hasher.update((directory / "sources.yaml").read_bytes())
    for path in sorted(directory.glob("*.yaml")):
        if path.name == "sources.yaml":
            continue
        hasher.update(path.name.encode() + path.read_bytes())
        doc = _read_yaml(path)
        if not isinstance(doc, dict) or "dimension" not in doc or not isinstance(doc.get("indicators"), list):
            raise _fail(path.name, "expected keys: dimension, zh, en, order, indicators (a list)")
        dim = Dimension(
            id=str(doc["dimension"]), zh=str(doc.get("zh", "")), en=str(doc.get("en", "")),
            order=int(doc.get("order", 99)), description=" ".join(str(doc.get("description", "")).split()),
        )  # fmt: skip
        if any(d.id == dim.id for d in dimensions):
            raise _fail(path.name, f"dimension {dim.id!r} is defined twice")
        dimensions.append(dim)
        for entry in doc["indicators"]:
            if not isinstance(entry, dict):
                raise _fail(path.name, f"each indicator must be a mapping, got {entry!r}")
            for e in _expand(entry, path.name):
                indicators.append(_parse_indicator(e, dim.id, path.name, sources))
    dimensions.sort(key=lambda d: (d.order, d.id))
    seen: dict[str, str] = {}
    for ind in indicators:
        if ind.id in seen:
            raise _fail(ind.file, f"indicator id {ind.id!r} is also defined in {seen[ind.id]}", indicator=ind.id)
        if ind.id.startswith("src_") or ind.id in ("uscc", "mb", "dd", "rn"):
            raise _fail(ind.file, f"indicator id {ind.id!r} is reserved", indicator=ind.id)
        seen[ind.id] = ind.file
    order = {d.id: d.order for d in dimensions}
    indicators.sort(key=lambda i: order[i.dimension])  # stable: file order within a dimension
    indicators = _resolve_derived(indicators)
    library = Library(sources=sources, dimensions=tuple(dimensions), indicators=tuple(indicators),
                      fingerprint=hasher.hexdigest()[:16])  # fmt: skip
    derived_levels(library)  # refuses cycles
    if validate:
        from puhui.indicators.validate import validate_library

        validate_library(library)
    return library


@cache
def default_library() -> Library:
    """The shipped library, loaded and validated once per process."""
    return load_library()


def catalogue(library: Library) -> list[dict[str, Any]]:
    """Every indicator as a plain dict, in library order (for docs, the API and exports)."""
    return [i.to_dict() for i in library.indicators]


def catalogue_markdown(library: Library) -> str:
    """The library as a Markdown document: one table per dimension."""
    lines = [f"# Indicator library ({len(library)} indicators, fingerprint {library.fingerprint})", ""]
    for d in library.dimensions:
        inds = library.for_dimension(d.id)
        lines += [f"## {d.zh} {d.en} ({len(inds)})", "", d.description, "",
                  "| id | 名称 | name | source | window | type | unit | risk ↑ | expression |",
                  "|---|---|---|---|---|---|---|---|---|"]  # fmt: skip
        for i in inds:
            expr = " ".join(i.expr.split()).replace("|", "\\|")
            lines.append(f"| `{i.id}` | {i.zh} | {i.en} | {i.source} | {i.window} | {i.type.value} | {i.unit} | "
                         f"{i.risk.value} | `{expr}` |")  # fmt: skip
        lines.append("")
    return "\n".join(lines)


def fingerprint_of(values: Iterable[str]) -> str:
    h = hashlib.sha256()
    for v in values:
        h.update(v.encode())
    return h.hexdigest()[:16]
