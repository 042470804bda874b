"""Row checks of a delivered file against its contract: parse each field's text, then check the values.

Vectorised on Arrow: every field is trimmed, parsed by regular expression and cast as a whole column;
identifier checks (USCC, RIC, bank card) run once per *distinct* value through `puhui.core.identifiers`.
Each check yields an `Issue`: a string column holding `field: why` where the row fails, null elsewhere.
Nothing here reads or writes files; `service.py` joins the issues into the quarantine reason.

Text rules (the same for CSV and Parquet, whose columns arrive here as text):
- surrounding whitespace is trimmed; an empty cell is null;
- INT: `[+-]digits`, a `.0` tail tolerated (pandas exports integers with nulls as floats);
- AMOUNT: plain decimal notation in yuan, at most 16 integer digits, exact to the fen (trailing zeros
  past the fen are fine, `12.300`; a non-zero third decimal is not: `more than 2 decimals`); no
  exponent, no thousands separator;
- FLOAT: decimal or exponent notation, finite;
- DATE: the formats `puhui.core.dates.parse_date` reads (`2025-10-01`, `2025/10/1`, `20251001`,
  `2025年10月1日`), a real calendar day; MONTH: `2025-10`, `2025/10`, `202510`, `2025年10月`, or a
  date that is the first of its month;
- BOOL: `true`/`false`/`1`/`0`, any case;
- USCC and RIC values are stored in the canonical form the validators return (upper case, compact).
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date
from decimal import Decimal

import pyarrow as pa
import pyarrow.compute as pc

from puhui.core.errors import ValidationError
from puhui.data.contracts.base import Check, Field, FieldType, SourceContract

_NULL = pa.scalar(None, pa.string())
_DATE_PATTERNS = (
    r"^(?P<y>\d{4})-(?P<m>\d{1,2})-(?P<d>\d{1,2})$",
    r"^(?P<y>\d{4})/(?P<m>\d{1,2})/(?P<d>\d{1,2})$",
    r"^(?P<y>\d{4})(?P<m>\d{2})(?P<d>\d{2})$",
    r"^(?P<y>\d{4})年(?P<m>\d{1,2})月(?P<d>\d{1,2})日$",
)
_MONTH_PATTERNS = (
    r"^(?P<y>\d{4})-(?P<m>\d{1,2})$",
    r"^(?P<y>\d{4})/(?P<m>\d{1,2})$",
    r"^(?P<y>\d{4})(?P<m>\d{2})$",
    r"^(?P<y>\d{4})年(?P<m>\d{1,2})月$",
)
_AMOUNT_INTEGER_DIGITS = 16  # decimal(18, 2)


@dataclass(frozen=True)
class Issue:
    """One check over all rows: `text` is `field: why` where the row fails, null where it passes.

    `kind` names the issue for the report's reason counts when `text` carries row-specific detail
    (line numbers, differing fields); without it the text itself is the kind.
    """

    text: pa.Array
    kind: str | None = None


@dataclass(frozen=True)
class Checked:
    """The parsed values (contract order and types; a cell that failed is null), issues and warnings."""

    values: pa.Table
    issues: list[Issue]
    warnings: dict[str, int]


def check_rows(contract: SourceContract, text: pa.Table, as_of: date) -> Checked:
    """Parse and check every contract field of `text` (string columns named as the contract fields)."""
    issues: list[Issue] = []
    warnings: dict[str, int] = {}
    values: dict[str, pa.Array] = {}
    for f in contract.fields:
        col = text.column(f.name)
        raw = col.combine_chunks() if isinstance(col, pa.ChunkedArray) else col
        values[f.name] = _check_field(contract, f, raw, as_of, issues, warnings)
    table = pa.table(values, schema=pa.schema([pa.field(f.name, f.type.arrow) for f in contract.fields]))
    return Checked(values=table, issues=issues, warnings=warnings)


def _issue(mask: pa.Array, text: str) -> Issue | None:
    """`text` where `mask` is true; None when no row fails (so callers skip an all-null column)."""
    mask = pc.fill_null(mask, False)
    if not pc.any(mask).as_py():
        return None
    return Issue(pc.if_else(mask, pa.scalar(text), _NULL))


def _add(issues: list[Issue], mask: pa.Array, text: str) -> None:
    found = _issue(mask, text)
    if found is not None:
        issues.append(found)


def _constant(v: int, type_: pa.DataType) -> pa.Scalar:
    return pa.scalar(Decimal(v), type_) if pa.types.is_decimal(type_) else pa.scalar(v, type_)


def _all(*masks: pa.Array) -> pa.Array:
    return functools.reduce(pc.and_kleene, masks)


def _match(s: pa.Array, pattern: str) -> pa.Array:
    return pc.fill_null(pc.match_substring_regex(s, pattern), False)


def _check_field(
    contract: SourceContract, f: Field, raw: pa.Array, as_of: date, issues: list[Issue], warnings: dict[str, int]
) -> pa.Array:
    s = pc.utf8_trim_whitespace(raw.cast(pa.string()))
    s = pc.if_else(pc.equal(s, ""), _NULL, s)
    present = pc.is_valid(s)
    if not f.nullable or f.name in contract.key:
        _add(issues, pc.invert(present), f"{f.name}: missing")

    values = _PARSERS[f.type](f.name, s, issues)

    if f.codes is not None:
        _add(
            issues,
            _all(present, pc.invert(pc.is_in(s, value_set=pa.array(f.codes, pa.string())))),
            f"{f.name}: unknown code",
        )
    if f.type in (FieldType.INT, FieldType.AMOUNT, FieldType.FLOAT):
        zero, one = _constant(0, values.type), _constant(1, values.type)
        if Check.NON_NEGATIVE in f.checks:
            _add(issues, pc.less(values, zero), f"{f.name}: negative")
        if Check.SHARE in f.checks:
            _add(issues, pc.or_(pc.less(values, zero), pc.greater(values, one)), f"{f.name}: outside [0, 1]")
    if f.type in (FieldType.DATE, FieldType.MONTH) and (Check.NOT_FUTURE in f.checks or f.name == contract.time_field):
        _add(
            issues,
            pc.greater(values, pa.scalar(as_of, pa.date32())),
            f"{f.name}: after the as-of date {as_of.isoformat()}",
        )
    if Check.USCC in f.checks:
        values = _identifier(f.name, values, issues, warnings, _uscc, "invalid USCC")
    if Check.RIC in f.checks:
        values = _identifier(f.name, values, issues, warnings, _ric(as_of), "invalid ID number")
    if Check.LUHN in f.checks:
        values = _identifier(f.name, values, issues, warnings, _bank_card, "invalid bank card")
    return values


# ---------------------------------------------------------------- parsers: text → typed values


def _parse_string(name: str, s: pa.Array, issues: list[Issue]) -> pa.Array:
    return s


def _parse_int(name: str, s: pa.Array, issues: list[Issue]) -> pa.Array:
    ok = _match(s, r"^[+-]?\d{1,18}(\.0*)?$")
    _add(issues, _all(pc.is_valid(s), pc.invert(ok)), f"{name}: not an integer")
    clean = pc.replace_substring_regex(pc.replace_substring_regex(s, r"\.0*$", ""), r"^\+", "")
    return pc.cast(pc.if_else(ok, clean, _NULL), pa.int64())


def _parse_amount(name: str, s: pa.Array, issues: list[Issue]) -> pa.Array:
    plain = _match(s, rf"^-?[1-9]?\d{{0,{_AMOUNT_INTEGER_DIGITS - 1}}}(\.\d{{1,2}})?$")
    if pc.all(pc.or_(plain, pc.is_null(s))).as_py():  # the usual delivery: cast the column as it is
        return pc.cast(pc.if_else(plain, s, _NULL), FieldType.AMOUNT.arrow)
    number = _match(s, r"^[+-]?\d+(\.\d*)?$")
    sub_fen = _all(number, _match(s, r"\.\d{2}\d*[1-9]"))
    too_big = _all(number, pc.invert(_match(s, rf"^[+-]?0*\d{{1,{_AMOUNT_INTEGER_DIGITS}}}(\.\d*)?$")))
    _add(issues, _all(pc.is_valid(s), pc.invert(number)), f"{name}: not a number")
    _add(issues, sub_fen, f"{name}: more than 2 decimals")
    _add(issues, too_big, f"{name}: too large for decimal(18, 2)")
    ok = _all(number, pc.invert(sub_fen), pc.invert(too_big))
    clean = pc.replace_substring_regex(s, r"^\+", "")
    clean = pc.replace_substring_regex(clean, r"^(-?)0+(\d)", r"\1\2")
    clean = pc.replace_substring_regex(clean, r"^(-?\d+)\.(\d{0,2})\d*$", r"\1.\2")
    clean = pc.replace_substring_regex(clean, r"\.$", "")
    return pc.cast(pc.if_else(ok, clean, _NULL), FieldType.AMOUNT.arrow)


def _parse_float(name: str, s: pa.Array, issues: list[Issue]) -> pa.Array:
    number = _match(s, r"^[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?$")
    parsed = pc.cast(pc.if_else(number, s, _NULL), pa.float64())
    finite = pc.fill_null(pc.is_finite(parsed), False)
    _add(issues, _all(pc.is_valid(s), pc.invert(finite)), f"{name}: not a number")
    return pc.if_else(finite, parsed, pa.scalar(None, pa.float64()))


def _parse_bool(name: str, s: pa.Array, issues: list[Issue]) -> pa.Array:
    low = pc.utf8_lower(s)
    ok = pc.is_in(low, value_set=pa.array(["true", "false", "1", "0"]))
    _add(issues, _all(pc.is_valid(s), pc.invert(ok)), f"{name}: not true/false")
    return pc.if_else(ok, pc.is_in(low, value_set=pa.array(["true", "1"])), pa.scalar(None, pa.bool_()))


def _iso_from_patterns(s: pa.Array, patterns: tuple[str, ...], with_day: bool) -> pa.Array:
    """Text matching any pattern rewritten as `YYYY-MM-DD` (day 01 for months); null elsewhere.

    The canonical form passes through as is; the other patterns run only while values remain unmatched.
    """
    canonical = r"^\d{4}-\d{2}-\d{2}$" if with_day else r"^\d{4}-\d{2}$"
    out = pc.if_else(_match(s, canonical), s if with_day else pc.binary_join_element_wise(s, "01", "-"), _NULL)
    for pattern in patterns:
        if not pc.any(pc.and_(pc.is_valid(s), pc.is_null(out))).as_py():
            break
        parts = pc.extract_regex(s, pattern)
        y, m = pc.struct_field(parts, "y"), pc.utf8_lpad(pc.struct_field(parts, "m"), width=2, padding="0")
        d = pc.utf8_lpad(pc.struct_field(parts, "d"), width=2, padding="0") if with_day else pa.scalar("01")
        iso = pc.binary_join_element_wise(y, m, d, "-")
        out = pc.coalesce(out, pc.if_else(pc.is_valid(parts), iso, _NULL))
    return out


def _to_date(iso: pa.Array) -> pa.Array:
    """`YYYY-MM-DD` text → date32; a day the calendar lacks (2023-02-29) → null."""
    ts = pc.strptime(iso, format="%Y-%m-%d", unit="s", error_is_null=True)
    days = pc.cast(ts, pa.date32())
    real = pc.fill_null(pc.equal(pc.cast(days, pa.string()), iso), False)  # strptime rolls 02-30 over
    return pc.if_else(real, days, pa.scalar(None, pa.date32()))


def _parse_date(name: str, s: pa.Array, issues: list[Issue]) -> pa.Array:
    values = _to_date(_iso_from_patterns(s, _DATE_PATTERNS, with_day=True))
    _add(issues, _all(pc.is_valid(s), pc.is_null(values)), f"{name}: not a date (YYYY-MM-DD)")
    return values


def _parse_month(name: str, s: pa.Array, issues: list[Issue]) -> pa.Array:
    months = _to_date(_iso_from_patterns(s, _MONTH_PATTERNS, with_day=False))
    if not pc.any(pc.and_(pc.is_valid(s), pc.is_null(months))).as_py():
        return months
    days = _to_date(_iso_from_patterns(s, _DATE_PATTERNS, with_day=True))
    first = pc.fill_null(pc.equal(pc.day(days), 1), False)
    _add(issues, _all(pc.is_valid(s), pc.is_null(months), pc.is_null(days)), f"{name}: not a month (YYYY-MM)")
    _add(issues, _all(pc.is_valid(days), pc.invert(first)), f"{name}: not the first day of a month")
    return pc.coalesce(months, pc.if_else(first, days, pa.scalar(None, pa.date32())))


_PARSERS: dict[FieldType, Callable[[str, pa.Array, list[Issue]], pa.Array]] = {
    FieldType.STRING: _parse_string,
    FieldType.CODE: _parse_string,
    FieldType.INT: _parse_int,
    FieldType.AMOUNT: _parse_amount,
    FieldType.FLOAT: _parse_float,
    FieldType.DATE: _parse_date,
    FieldType.MONTH: _parse_month,
    FieldType.BOOL: _parse_bool,
}


# ---------------------------------------------------------------- identifiers, once per distinct value


def _identifier(
    name: str,
    values: pa.Array,
    issues: list[Issue],
    warnings: dict[str, int],
    validate: Callable[[str], tuple[str, list[str]]],
    what: str,
) -> pa.Array:
    """Validate each distinct value once. A failing value gives its rows `name: what [code]` (the
    validator's check code); a passing one gives its rows the canonical form the validator returns and
    counts its warnings (codes) once per row."""
    present = values.drop_null()
    if not len(present):
        return values
    counts = pc.value_counts(present)
    distinct = counts.field("values")
    canonical: list[str | None] = []
    reasons: list[str | None] = []
    for v, n in zip(distinct.to_pylist(), counts.field("counts").to_pylist(), strict=True):
        try:
            value, found = validate(v)
        except ValidationError as e:
            canonical.append(None)
            reasons.append(f"{name}: {what} [{e.code}]")
            continue
        canonical.append(value)
        reasons.append(None)
        for w in found:
            warnings[f"{name}: {w}"] = warnings.get(f"{name}: {w}", 0) + n
    idx = pc.index_in(values, value_set=distinct)
    text = pc.take(pa.array(reasons, pa.string()), idx)
    if text.null_count < len(text):
        issues.append(Issue(text))
    return pc.take(pa.array(canonical, pa.string()), idx)


def _uscc(value: str) -> tuple[str, list[str]]:
    from puhui.core.identifiers import validate_uscc

    return validate_uscc(value), []


def _ric(as_of: date) -> Callable[[str], tuple[str, list[str]]]:
    from puhui.core.identifiers import validate_ric

    return lambda value: (validate_ric(value, today=as_of), [])


def _bank_card(value: str) -> tuple[str, list[str]]:
    """A card that is not 16–19 digits is refused; a Luhn failure is only a warning: legacy domestic
    cards may not follow Luhn (reference/cn_domain.md §2.3), and account verification is the real check."""
    from puhui.core.identifiers import check_bank_card

    found = check_bank_card(value)
    return value.replace(" ", "").replace("-", ""), found
