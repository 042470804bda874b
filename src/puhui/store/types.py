"""Column types that keep money, rates and instants exact and identical on SQLite and PostgreSQL.

SQLite has no exact decimal: its NUMERIC affinity stores a binary float and loses fen (0.1 + 0.2 ≠ 0.3),
so no column here relies on it. **Amounts** (金额) are stored as an integer count of fen (分, BIGINT on both
engines) and come back as `Decimal` yuan with two places (or as `Money`); a value that is not a whole
number of fen is refused, never rounded, because rounding belongs to the posting rule in
`puhui.core.money`, not to the store. **Rates** (利率) are exact decimals with a fixed scale: NUMERIC(16,10)
on PostgreSQL and, on SQLite, an integer scaled by 10¹⁰ (not TEXT, so that `ORDER BY rate` and
`rate <= cap` still compare numerically in SQL). **Instants** are timezone-aware UTC on both engines
(naive datetimes are refused); business dates are plain `Date`. JSON columns are JSONB on PostgreSQL,
and the engine's JSON codec writes `Decimal` as a string and reads JSON fractions back as `Decimal`,
so no float ever enters a payload. Bad values raise `ValidationError`; SQLAlchemy wraps errors raised
while binding parameters in `StatementError`, which `puhui.store.db.transaction` unwraps again.
"""

from __future__ import annotations

import json
from datetime import UTC, date, datetime
from decimal import Decimal
from enum import Enum
from typing import Any
from uuid import UUID

from sqlalchemy import JSON, BigInteger, DateTime, Integer, Numeric
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.engine import Dialect
from sqlalchemy.sql import operators
from sqlalchemy.types import TypeDecorator, TypeEngine

from puhui.core.errors import ValidationError
from puhui.core.money import MINOR_UNIT, Money, to_decimal

__all__ = [
    "JSON_TYPE",
    "PK_TYPE",
    "Amount",
    "Rate",
    "UTCDateTime",
    "json_default",
    "json_dumps",
    "json_loads",
    "utcnow",
]

_INT64_MAX = 2**63 - 1

#: Surrogate primary keys: BIGINT on PostgreSQL, INTEGER on SQLite (only `INTEGER PRIMARY KEY` is the
#: rowid there and autoincrements).
PK_TYPE: TypeEngine[int] = BigInteger().with_variant(Integer(), "sqlite")

#: JSON documents: JSONB on PostgreSQL (indexable, compact), JSON text on SQLite. Python `None` is SQL NULL.
JSON_TYPE: TypeEngine[Any] = JSON(none_as_null=True).with_variant(JSONB(none_as_null=True), "postgresql")

# Multiplying or dividing a stored amount (fen) or a SQLite rate (scaled integer) in SQL would mix
# representations (and SQLite divides integers by truncation): refused when the expression is built.
_SCALAR_OPS = {operators.mul, operators.truediv, operators.floordiv, operators.mod}


def _refuse_scalar_op(type_name: str, op: Any) -> None:
    if op in _SCALAR_OPS:
        raise TypeError(
            f"{type_name} columns add, subtract, compare and SUM in SQL; multiply and divide in Python "
            "(Money.times, Money.allocate) and round once at posting"
        )


class _ExactComparator(TypeDecorator.Comparator[Any]):
    def _adapt_expression(self, op: Any, other_comparator: Any) -> Any:
        _refuse_scalar_op(type(self.type).__name__, op)
        return super()._adapt_expression(op, other_comparator)


def utcnow() -> datetime:
    """The wall-clock instant in UTC (timestamps only; business logic uses the business date)."""
    return datetime.now(UTC)


class Amount(TypeDecorator[Any]):
    """金额: an amount stored as integer fen (BIGINT), read back as `Decimal` yuan or as `Money`.

    Binds `Money` (its currency must match), `Decimal`, `int` or `str` yuan; floats and values finer than
    a fen are refused. `SUM(amount)` reads back exactly (PostgreSQL returns NUMERIC, SQLite INTEGER).
    In SQL, amounts add, subtract, compare and SUM; `*`, `/`, `//` and `%` raise TypeError when the
    expression is built (the fen representation would leak), so multiply and divide in Python.
    """

    impl = BigInteger
    cache_ok = True

    def __init__(self, currency: str = "CNY", *, as_money: bool = False) -> None:
        if currency not in MINOR_UNIT:
            raise ValidationError(f"unsupported currency {currency!r}", code="unknown_currency", field="currency")
        super().__init__()
        self.currency = currency
        self.as_money = as_money

    @property
    def python_type(self) -> type:
        return Money if self.as_money else Decimal

    def __repr__(self) -> str:  # how Alembic writes the type into a revision
        return "Amount()" if self.currency == "CNY" else f"Amount(currency={self.currency!r})"

    comparator_factory = _ExactComparator

    def coerce_compared_value(self, op: Any, value: Any) -> Any:
        _refuse_scalar_op(type(self).__name__, op)
        return self

    def process_bind_param(self, value: Any, dialect: Dialect) -> int | None:
        if value is None:
            return None
        return to_minor_units(value, self.currency)

    def process_result_value(self, value: Any, dialect: Dialect) -> Any:
        if value is None:
            return None
        # Exact: whole fen give two places; an AVG in SQL may give more, which are kept, not rounded.
        yuan = Decimal(value) * MINOR_UNIT[self.currency]
        return Money(yuan, self.currency) if self.as_money else yuan

    def process_literal_param(self, value: Any, dialect: Dialect) -> str:
        return str(to_minor_units(value, self.currency))


def to_minor_units(value: Any, currency: str = "CNY", *, field: str = "amount") -> int:
    """Exact yuan → fen (`Decimal("12.30")` → 1230); refuses floats, sub-fen values and 64-bit overflow."""
    if isinstance(value, Money):
        if value.currency != currency:
            raise ValidationError(
                f"{field}: {value} does not go into a {currency} column", code="currency_mismatch", field=field
            )
        value = value.amount
    d = to_decimal(value, field=field)
    minor = d / MINOR_UNIT[currency]
    if minor != minor.to_integral_value():
        raise ValidationError(
            f"{field}: {d} is not a whole number of fen; round it at posting (puhui.core.money) before storing",
            code="sub_fen_amount",
            field=field,
        )
    fen = int(minor)
    if abs(fen) > _INT64_MAX:
        raise ValidationError(f"{field}: {d} is too large to store", code="amount_out_of_range", field=field)
    return fen


class Rate(TypeDecorator[Decimal]):
    """利率: an exact decimal rate, NUMERIC(precision, scale) on PostgreSQL, scaled INTEGER on SQLite.

    Store the contractual (annual) rate, which has a few places; a derived daily rate such as 3.45%/360
    has no finite expansion and is refused rather than silently cut — derive it on read (puhui.core.rates).
    Values read back with exactly `scale` places on both engines (`Decimal("0.0345000000")`).
    """

    impl = Numeric
    cache_ok = True

    def __init__(self, precision: int = 16, scale: int = 10) -> None:
        if not 0 < scale < precision <= 18:
            # 18 digits keep the SQLite representation inside a signed 64-bit integer.
            raise ValidationError("Rate needs 0 < scale < precision <= 18", code="bad_rate_type")
        super().__init__(precision=precision, scale=scale, asdecimal=True)
        self.precision = precision
        self.scale = scale
        self._quantum = Decimal(1).scaleb(-scale)
        self._limit = Decimal(10) ** (precision - scale)

    @property
    def python_type(self) -> type:
        return Decimal

    def load_dialect_impl(self, dialect: Dialect) -> TypeEngine[Any]:
        if dialect.name == "sqlite":
            return dialect.type_descriptor(BigInteger())
        return dialect.type_descriptor(Numeric(self.precision, self.scale, asdecimal=True))

    comparator_factory = _ExactComparator

    def coerce_compared_value(self, op: Any, value: Any) -> Any:
        _refuse_scalar_op(type(self).__name__, op)
        return self

    def _exact(self, value: Any) -> Decimal:
        d = to_decimal(value, field="rate")
        q = d.quantize(self._quantum) if d.adjusted() < self.precision else d
        if q != d:
            raise ValidationError(
                f"rate: {d} has more than {self.scale} decimal places; store the contractual rate",
                code="rate_too_precise",
                field="rate",
            )
        if abs(q) >= self._limit:
            raise ValidationError(
                f"rate: {d} does not fit NUMERIC({self.precision},{self.scale})", code="rate_out_of_range", field="rate"
            )
        return q

    def process_bind_param(self, value: Any, dialect: Dialect) -> Any:
        if value is None:
            return None
        q = self._exact(getattr(value, "value", value))  # AnnualRate & co. carry `.value`
        if dialect.name == "sqlite":
            return int(q.scaleb(self.scale))
        return q

    def process_result_value(self, value: Any, dialect: Dialect) -> Decimal | None:
        if value is None:
            return None
        if dialect.name == "sqlite":
            return Decimal(int(value)).scaleb(-self.scale).quantize(self._quantum)
        return Decimal(value).quantize(self._quantum)

    def process_literal_param(self, value: Any, dialect: Dialect) -> str:
        bound = self.process_bind_param(value, dialect)
        return str(bound)


class UTCDateTime(TypeDecorator[datetime]):
    """An instant, TIMESTAMPTZ on PostgreSQL and ISO text in UTC on SQLite; always aware UTC when read."""

    impl = DateTime(timezone=True)
    cache_ok = True

    @property
    def python_type(self) -> type:
        return datetime

    def process_bind_param(self, value: Any, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if not isinstance(value, datetime):
            raise ValidationError(
                f"timestamp: expected a datetime, got {type(value).__name__}", code="not_a_datetime", field="timestamp"
            )
        if value.tzinfo is None or value.utcoffset() is None:
            raise ValidationError(
                f"timestamp: {value.isoformat()} has no time zone; pass an aware datetime (UTC)",
                code="naive_datetime",
                field="timestamp",
            )
        utc = value.astimezone(UTC)
        # SQLite's DATETIME text has no offset: store the UTC wall time, which also sorts correctly.
        return utc.replace(tzinfo=None) if dialect.name == "sqlite" else utc

    def process_result_value(self, value: Any, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            return value.replace(tzinfo=UTC)
        return value.astimezone(UTC)


def json_default(value: Any) -> Any:
    """JSON encoding for the values puhui payloads carry: Decimal as a string, so nothing becomes a float."""
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, Money):
        return {"amount": str(value.amount), "currency": value.currency}
    if isinstance(value, datetime | date):
        return value.isoformat()
    if isinstance(value, UUID):
        return str(value)
    if isinstance(value, Enum):
        return value.value
    if isinstance(value, set | frozenset):
        return sorted(value)
    raise TypeError(f"{type(value).__name__} is not JSON serialisable")


def json_dumps(value: Any) -> str:
    """The engines' JSON serialiser: UTF-8 text (Chinese stays readable), Decimals as strings."""
    return json.dumps(value, default=json_default, ensure_ascii=False, separators=(",", ":"))


def json_loads(text: str | bytes) -> Any:
    """The engines' JSON deserialiser: fractions come back as `Decimal`, never float."""
    return json.loads(text, parse_float=Decimal)
