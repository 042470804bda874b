"""Point-in-time date arithmetic (pure) and the SQL helpers that implement it, checked against puhui.core.dates."""

from __future__ import annotations

from datetime import date, timedelta

import duckdb
from hypothesis import given, settings
from hypothesis import strategies as st

from puhui.core.dates import add_months, month_end, months_between
from puhui.indicators.compiler import DUCKDB, SPARK, Context, expand
from puhui.indicators.pit import anchor_month, event_available, known_by, month_available, whole_months

dates = st.dates(min_value=date(2000, 1, 1), max_value=date(2030, 12, 31))


def test_anchor_month_worked_examples() -> None:
    # VAT for May is filed by 15 June (lag 15): on 30 June May is the latest month; on 14 June only April.
    assert anchor_month(date(2026, 6, 30), 15) == date(2026, 5, 1)
    assert anchor_month(date(2026, 6, 15), 15) == date(2026, 5, 1)
    assert anchor_month(date(2026, 6, 14), 15) == date(2026, 4, 1)
    # settlement (lag 1): June is complete and known on 1 July, not on 30 June
    assert anchor_month(date(2026, 7, 1), 1) == date(2026, 6, 1)
    assert anchor_month(date(2026, 6, 30), 1) == date(2026, 5, 1)
    # bureau (lag 30): February 2024 (29 days) is known from 30 March
    assert anchor_month(date(2024, 3, 30), 30) == date(2024, 2, 1)
    assert anchor_month(date(2024, 3, 29), 30) == date(2024, 1, 1)


@settings(max_examples=300, deadline=None)
@given(as_of=dates, lag=st.integers(min_value=0, max_value=200))
def test_the_anchor_is_the_latest_available_month(as_of: date, lag: int) -> None:
    m = anchor_month(as_of, lag)
    assert m.day == 1
    assert month_available(m, as_of, lag)
    assert not month_available(add_months(m, 1), as_of, lag)
    assert month_end(m) + timedelta(days=lag) <= as_of


@settings(max_examples=300, deadline=None)
@given(day=dates, as_of=dates, lag=st.integers(min_value=0, max_value=60))
def test_an_event_is_available_iff_not_after_known_by(day: date, as_of: date, lag: int) -> None:
    assert event_available(day, as_of, lag) == (day <= known_by(as_of, lag))


@settings(max_examples=500, deadline=None)
@given(start=dates, as_of=dates)
def test_whole_months_agrees_with_core_months_between(start: date, as_of: date) -> None:
    if start <= as_of:
        assert whole_months(start, as_of) == months_between(start, as_of)


def test_months_since_and_days_since_in_sql_match_python() -> None:
    """The SQL DuckDB runs for MONTHS_SINCE / DAYS_SINCE equals puhui.core.dates on a grid of date pairs."""
    con = duckdb.connect()
    as_ofs = [date(2026, 2, 28), date(2024, 2, 29), date(2026, 3, 30), date(2026, 3, 31), date(2025, 12, 15)]
    starts = [date(2020, 1, 31) + timedelta(days=7 * k) for k in range(330)]
    for as_of in as_ofs:
        ctx = Context(as_of, 0, DUCKDB)
        sql = f"SELECT d, {expand('MONTHS_SINCE(d)', ctx)}, {expand('DAYS_SINCE(d)', ctx)} FROM t"
        con.execute("CREATE OR REPLACE TABLE t AS SELECT UNNEST(?::DATE[]) AS d", [starts])
        for d, months, days in con.execute(sql).fetchall():
            if d <= as_of:
                assert months == months_between(d, as_of), (d, as_of)
            assert days == (as_of - d).days


def test_spark_renders_days_with_datediff_and_duckdb_with_date_subtraction() -> None:
    as_of = date(2026, 6, 30)
    assert expand("DAYS_SINCE(query_date)", Context(as_of, 1, SPARK)) == "datediff(DATE '2026-06-30', query_date)"
    assert expand("DAYS_SINCE(query_date)", Context(as_of, 1, DUCKDB)) == (
        "CAST((DATE '2026-06-30' - query_date) AS INTEGER)"
    )
    assert expand("KNOWN_BY", Context(as_of, 15, DUCKDB)) == "DATE '2026-06-15'"
