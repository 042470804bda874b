"""Exact money, rates and instants on SQLite and PostgreSQL: round trips, SQL sums and ordering.

The invariants are checked with hypothesis on both engines. The reason for storing fen as integers
is shown directly: SQLite's NUMERIC affinity keeps a binary double (sqlite.org/datatype3.html §3,
"REAL ... 8-byte IEEE floating point"), which cannot hold 2^53 + 1 fen.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta, timezone
from decimal import Decimal

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import Column, Engine, MetaData, Numeric, Table, func, insert, select
from sqlalchemy.exc import StatementError

from puhui.core.errors import ValidationError
from puhui.core.money import Money
from puhui.core.rates import AnnualRate
from puhui.store import Amount, make_engine, transaction
from tests.store import TestBase, Value

DB_SETTINGS = settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
FEN_MAX = 2**63 - 1
amounts = st.integers(min_value=-FEN_MAX, max_value=FEN_MAX).map(lambda fen: Decimal(fen).scaleb(-2))
rates = st.decimals(
    min_value=Decimal("-999999.9999999999"),
    max_value=Decimal("999999.9999999999"),
    places=10,
    allow_nan=False,
    allow_infinity=False,
)
instants = st.datetimes(
    min_value=datetime(1970, 1, 2),
    max_value=datetime(2200, 1, 1),
    timezones=st.sampled_from([UTC, timezone(timedelta(hours=8)), timezone(timedelta(hours=-5, minutes=-30))]),
)


@pytest.fixture
def engine(db_url: str) -> Iterator[Engine]:
    e = make_engine(db_url)
    TestBase.metadata.create_all(e)
    yield e
    e.dispose()


def _store(engine: Engine, rows: list[Value]) -> list[Value]:
    with transaction(engine) as s:
        s.add_all(rows)
        s.flush()
        ids = [r.id for r in rows]
    with transaction(engine, write=False) as s:
        by_id = {v.id: v for v in s.scalars(select(Value).where(Value.id.in_(ids)))}
    return [by_id[i] for i in ids]


@DB_SETTINGS
@given(values=st.lists(amounts, min_size=1, max_size=12))
def test_amounts_round_trip_to_the_fen(engine: Engine, values: list[Decimal]) -> None:
    back = _store(engine, [Value(amount=v, money=Money(v)) for v in values])
    assert [b.amount for b in back] == values
    assert all(b.amount.as_tuple().exponent == -2 for b in back)  # always two places
    assert [b.money for b in back] == [Money(v) for v in values]


@DB_SETTINGS
@given(values=st.lists(st.integers(min_value=-(10**15), max_value=10**15), min_size=1, max_size=30))
def test_sql_sum_of_amounts_is_exact(engine: Engine, values: list[int]) -> None:
    tag = uuid.uuid4().hex
    amounts_ = [Decimal(v).scaleb(-2) for v in values]
    _store(engine, [Value(tag=tag, amount=a) for a in amounts_])
    with transaction(engine, write=False) as s:
        total = s.scalar(select(func.sum(Value.amount)).where(Value.tag == tag))
        bigger = s.scalar(select(func.count()).where(Value.tag == tag, Value.amount > amounts_[0]))
    assert total == sum(amounts_, Decimal(0))
    assert bigger == sum(1 for a in amounts_ if a > amounts_[0])  # comparison binds in fen too


@DB_SETTINGS
@given(values=st.lists(rates, min_size=1, max_size=12, unique=True))
def test_rates_round_trip_exactly_and_sort_numerically(engine: Engine, values: list[Decimal]) -> None:
    tag = uuid.uuid4().hex
    back = _store(engine, [Value(tag=tag, rate=v) for v in values])
    assert [b.rate for b in back] == values
    assert all(b.rate.as_tuple().exponent == -10 for b in back)
    with transaction(engine, write=False) as s:
        ordered = list(s.scalars(select(Value.rate).where(Value.tag == tag).order_by(Value.rate)))
        below = s.scalar(select(func.count()).where(Value.tag == tag, Value.rate <= values[0]))
    assert ordered == sorted(values)  # TEXT storage would order "10" before "9"
    assert below == sum(1 for v in values if v <= values[0])


@DB_SETTINGS
@given(values=st.lists(instants, min_size=1, max_size=12))
def test_timestamps_come_back_as_the_same_instant_in_utc(engine: Engine, values: list[datetime]) -> None:
    back = _store(engine, [Value(at=v) for v in values])
    assert [b.at for b in back] == values  # aware datetimes compare as instants
    assert all(b.at.tzinfo is UTC for b in back)
    assert [b.at.utcoffset() for b in back] == [timedelta(0)] * len(values)


def test_dates_json_and_nulls(engine: Engine) -> None:
    doc = {"amount": Decimal("1234.50"), "rate": 0.5, "名称": "经营快贷", "day": date(2026, 1, 31)}
    (back,) = _store(engine, [Value(day=date(2026, 2, 28), doc=doc)])
    assert back.day == date(2026, 2, 28)
    # Decimal is written as a string; a JSON fraction reads back as Decimal, never a float.
    assert back.doc == {"amount": "1234.50", "rate": Decimal("0.5"), "名称": "经营快贷", "day": "2026-01-31"}
    (empty,) = _store(engine, [Value()])
    assert (empty.amount, empty.money, empty.rate, empty.at, empty.doc) == (None, None, None, None, None)


def test_annual_rate_objects_bind_by_value(engine: Engine) -> None:
    (back,) = _store(engine, [Value(rate=AnnualRate(Decimal("0.0345")))])
    assert back.rate == Decimal("0.0345")


@pytest.mark.parametrize(
    ("field", "value", "code"),
    [
        ("amount", Decimal("0.001"), "sub_fen_amount"),
        ("amount", 0.1, "float_not_allowed"),
        ("amount", Decimal(2**63).scaleb(-2) + 1, "amount_out_of_range"),
        ("money", Money("1", "USD"), "currency_mismatch"),
        ("rate", Decimal("0.0345") / 360, "rate_too_precise"),
        ("rate", Decimal("1000000"), "rate_out_of_range"),
        ("at", datetime(2026, 1, 1, 9, 30), "naive_datetime"),
    ],
)
def test_inexact_values_are_refused_not_rounded(engine: Engine, field: str, value: object, code: str) -> None:
    with pytest.raises(ValidationError) as err, transaction(engine) as s:
        s.add(Value(**{field: value}))
    assert err.value.code == code
    with transaction(engine, write=False) as s:
        assert s.scalar(select(func.count()).select_from(Value)) == 0


def test_outside_transaction_the_error_is_still_reachable(engine: Engine) -> None:
    with pytest.raises(StatementError) as err, engine.begin() as conn:
        conn.execute(insert(Value).values(amount=Decimal("0.005")))
    assert isinstance(err.value.orig, ValidationError)


def test_sql_arithmetic_adds_amounts_and_refuses_scaling(engine: Engine) -> None:
    _store(engine, [Value(tag="arith", amount=Decimal("10.25"), rate=Decimal("0.0345"))])
    with transaction(engine, write=False) as s:
        plus = s.scalar(select(Value.amount + Decimal("0.75")).where(Value.tag == "arith"))
        minus = s.scalar(select(Value.amount - Value.amount - Decimal("1.01")).where(Value.tag == "arith"))
        spread = s.scalar(select(Value.rate + Decimal("0.0005")).where(Value.tag == "arith"))
    assert (plus, minus, spread) == (Decimal("11.00"), Decimal("-1.01"), Decimal("0.0350"))
    for build in (
        lambda: Value.amount * 2,
        lambda: 2 * Value.amount,
        lambda: Value.amount / 3,
        lambda: Value.rate * Decimal("1.1"),
        lambda: Value.amount % 7,
    ):
        with pytest.raises(TypeError, match="multiply and divide in Python"):
            build()


@pytest.mark.filterwarnings("ignore:Dialect sqlite.*does \\*not\\* support Decimal:sqlalchemy.exc.SAWarning")
def test_sqlite_numeric_would_lose_fen(sqlite_url: str) -> None:
    """Why amounts are integer fen: 2^53 + 1 fen through SQLite NUMERIC comes back changed."""
    md = MetaData()
    t = Table("naive", md, Column("v", Numeric(20, 2)), Column("fen", Amount()))
    exact = Decimal(2**53 + 1).scaleb(-2)  # 90071992547409.93 yuan
    e = make_engine(sqlite_url)
    md.create_all(e)
    with e.begin() as c:
        c.execute(t.insert().values(v=exact, fen=exact))
        v, fen = c.execute(select(t.c.v, t.c.fen)).one()
    e.dispose()
    assert v != exact
    assert fen == exact
