"""The shape of a data contract: what one source delivers, field by field, and when it is known.

A `SourceContract` names a source (its raw-zone folder), its grain and key, the date that places a
row in time, and its reporting lag (a row about period P becomes usable `lag_days` after P ends —
indicators must honour it for point-in-time correctness). Each `Field` carries its type, unit, meaning
in English and Chinese, and the checks ingestion applies. The Arrow schema of the raw zone and
`docs/data-contracts.md` are both derived from these objects, so code and documentation cannot drift.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum

import pyarrow as pa


class FieldType(StrEnum):
    """Logical field types and their Arrow storage."""

    STRING = "string"
    CODE = "code"  # a string from a closed code list (`Field.codes`)
    INT = "int"  # counts: headcount, declarations, days
    AMOUNT = "amount"  # money in CNY yuan, exact to the fen: decimal(18,2)
    FLOAT = "float"  # measured quantities and ratios: kWh, area, shares
    DATE = "date"
    MONTH = "month"  # a calendar month, stored as the date of its first day
    BOOL = "bool"

    @property
    def arrow(self) -> pa.DataType:
        return _ARROW[self]


_ARROW: dict[FieldType, pa.DataType] = {
    FieldType.STRING: pa.string(),
    FieldType.CODE: pa.string(),
    FieldType.INT: pa.int64(),
    FieldType.AMOUNT: pa.decimal128(18, 2),
    FieldType.FLOAT: pa.float64(),
    FieldType.DATE: pa.date32(),
    FieldType.MONTH: pa.date32(),
    FieldType.BOOL: pa.bool_(),
}


class Check(StrEnum):
    """Value checks beyond the type that ingestion applies to a field."""

    USCC = "uscc"  # GB 32100-2015 unified social credit code
    RIC = "ric"  # GB 11643 resident identity number
    LUHN = "luhn"  # bank card; a failure is a warning, not a rejection
    NON_NEGATIVE = "non_negative"
    NOT_FUTURE = "not_future"  # a date not after the as-of/ingestion date
    SHARE = "share"  # a fraction in [0, 1]


@dataclass(frozen=True)
class Field:
    """One column of a source: name, type, unit, meaning (en, zh), nullability, codes and checks."""

    name: str
    type: FieldType
    en: str
    zh: str
    unit: str = ""
    nullable: bool = False
    codes: tuple[str, ...] | None = None
    checks: tuple[Check, ...] = ()


@dataclass(frozen=True)
class SourceContract:
    """What one source delivers: grain, key, the time field, the reporting lag and the fields."""

    name: str  # raw-zone folder, snake_case
    en: str
    zh: str
    grain: str  # "one row per enterprise and month", ...
    key: tuple[str, ...]  # unique per row; ingestion de-duplicates on it
    time_field: str | None  # the date/month that places a row in time (None for static reference data)
    lag_days: int  # days after the period ends until the data is available to the bank
    fields: tuple[Field, ...]
    description: str = ""
    subject: str = "enterprise"  # enterprise | person | property | chain
    notes: tuple[str, ...] = field(default=())

    def __post_init__(self) -> None:
        names = [f.name for f in self.fields]
        if len(set(names)) != len(names):
            raise ValueError(f"contract {self.name}: duplicate field names")
        for k in (*self.key, *([self.time_field] if self.time_field else [])):
            if k not in names:
                raise ValueError(f"contract {self.name}: key/time field {k!r} is not a field")

    def field(self, name: str) -> Field:
        for f in self.fields:
            if f.name == name:
                return f
        raise KeyError(f"{self.name} has no field {name!r}")

    @property
    def arrow_schema(self) -> pa.Schema:
        return pa.schema(
            [pa.field(f.name, f.type.arrow, nullable=f.nullable or f.name not in self.key) for f in self.fields]
        )
