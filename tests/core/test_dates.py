"""Business dates: clocks, parsing, and month arithmetic by 民法典 Art 202 (corresponding day or month end)."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from puhui.core.dates import (
    Clock,
    FixedClock,
    SystemClock,
    add_months,
    date_range,
    days_between,
    month_end,
    month_start,
    months_between,
    parse_date,
)
from puhui.core.errors import ValidationError

D = date
dates = st.dates(min_value=D(1950, 1, 1), max_value=D(2100, 12, 31))


def test_fixed_clock_is_the_business_date() -> None:
    clock = FixedClock(D(2025, 10, 1))
    assert isinstance(clock, Clock)
    assert clock.today() == D(2025, 10, 1)
    assert clock.advance() == D(2025, 10, 2) == clock.today()
    assert clock.advance(-2) == D(2025, 9, 30)
    clock.set("2026-01-01")
    assert clock.today() == D(2026, 1, 1)
    assert FixedClock("2025-01-01").today() == D(2025, 1, 1)


def test_system_clock_reads_china_standard_time() -> None:
    clock = SystemClock()
    assert isinstance(clock, Clock)
    before = (datetime.now(UTC) + timedelta(hours=8)).date()
    today = clock.today()
    after = (datetime.now(UTC) + timedelta(hours=8)).date()
    assert today in (before, after)
    assert clock.now().utcoffset() == timedelta(hours=8)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("2025-10-01", D(2025, 10, 1)),
        (" 2025/10/1 ", D(2025, 10, 1)),
        ("20251001", D(2025, 10, 1)),
        ("2025年10月1日", D(2025, 10, 1)),
        (D(2025, 10, 1), D(2025, 10, 1)),
    ],
)
def test_parse_date(text: str, expected: date) -> None:
    assert parse_date(text) == expected


@pytest.mark.parametrize("text", ["2025-02-30", "2025-13-01", "01/10/2025", "tomorrow", "", 20251001])
def test_parse_date_names_the_field(text: str) -> None:
    with pytest.raises(ValidationError) as e:
        parse_date(text, field="value_date")  # type: ignore[arg-type]
    assert e.value.code == "invalid_date"
    assert e.value.details["field"] == "value_date"
    assert "value_date" in e.value.message


def test_parse_date_refuses_a_datetime() -> None:
    with pytest.raises(ValidationError):
        parse_date(datetime(2025, 10, 1, 12, 0))  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("start", "n", "expected"),
    [
        (D(2025, 1, 31), 1, D(2025, 2, 28)),  # no 31 Feb → month end (民法典 Art 202)
        (D(2024, 1, 31), 1, D(2024, 2, 29)),
        (D(2024, 2, 29), 12, D(2025, 2, 28)),
        (D(2025, 3, 31), -1, D(2025, 2, 28)),
        (D(2025, 12, 15), 1, D(2026, 1, 15)),
        (D(2025, 1, 15), -13, D(2023, 12, 15)),
        (D(2025, 2, 28), 1, D(2025, 3, 28)),  # corresponding day, not end-of-month sticky
        (D(2025, 5, 20), 0, D(2025, 5, 20)),
    ],
)
def test_add_months(start: date, n: int, expected: date) -> None:
    assert add_months(start, n) == expected


@given(dates, st.integers(min_value=-600, max_value=600))
def test_add_months_lands_on_the_corresponding_day_or_month_end(d: date, n: int) -> None:
    r = add_months(d, n)
    assert (r.year * 12 + r.month) - (d.year * 12 + d.month) == n
    assert r.day == min(d.day, month_end(r).day)
    if d.day <= 28:
        assert add_months(r, -n) == d


@given(dates, dates)
def test_months_between_is_the_largest_whole_month_count(a: date, b: date) -> None:
    a, b = sorted((a, b))
    k = months_between(a, b)
    assert k >= 0
    assert add_months(a, k) <= b < add_months(a, k + 1)
    assert months_between(b, a) == -k


def test_months_between_examples() -> None:
    assert months_between(D(2025, 1, 31), D(2025, 2, 28)) == 1
    assert months_between(D(2025, 1, 15), D(2025, 2, 14)) == 0
    assert months_between(D(2025, 1, 15), D(2026, 1, 15)) == 12


def test_month_bounds_and_ranges() -> None:
    assert month_start(D(2024, 2, 17)) == D(2024, 2, 1)
    assert month_end(D(2024, 2, 17)) == D(2024, 2, 29)
    assert month_end(D(2025, 12, 1)) == D(2025, 12, 31)
    # half-open [start, end): 算头不算尾
    assert list(date_range(D(2025, 1, 30), D(2025, 2, 2))) == [D(2025, 1, 30), D(2025, 1, 31), D(2025, 2, 1)]
    assert list(date_range(D(2025, 1, 1), D(2025, 1, 1))) == []
    assert list(date_range(D(2025, 1, 1), D(2025, 1, 8), step_days=3)) == [D(2025, 1, 1), D(2025, 1, 4), D(2025, 1, 7)]
    assert days_between(D(2025, 1, 1), D(2025, 3, 1)) == 59
    with pytest.raises(ValidationError):
        list(date_range(D(2025, 1, 1), D(2025, 1, 8), step_days=0))
    with pytest.raises(ValidationError):
        add_months(D(2025, 1, 1), 1.5)  # type: ignore[arg-type]
