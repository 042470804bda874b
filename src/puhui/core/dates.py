"""Business dates: the clock a job runs on, date parsing, and month arithmetic by 民法典 rules.

The business date is **not** the wall clock. Every job and test asks a `Clock` for `today()`: a
`FixedClock` in tests and in end-of-day catch-up (advance it one day at a time), the `SystemClock` only
at the very edge (API request time, the scheduler). The system clock reads China Standard Time
(Asia/Shanghai, UTC+8; China has kept no daylight saving since 1991, so a fixed offset is exact).

Month arithmetic follows 民法典 Art 200–204: a period counted in months ends on the **corresponding day**
of the end month, or on that month's last day when it has no such day (Art 202); `add_months` does that.
Moving a last day that falls on a statutory holiday (Art 203) is the calendar's job
(`ChinaCalendar.roll(d, RollRule.FOLLOWING)`). Ranges are half-open, [start, end), matching 算头不算尾.
"""

from __future__ import annotations

import calendar as _cal
import re
from collections.abc import Iterator
from datetime import date, datetime, timedelta, timezone
from typing import Protocol, runtime_checkable

from puhui.core.errors import ValidationError

#: China Standard Time. Fixed UTC+8 (no DST since 1991), so no tz database is needed.
CHINA_TZ = timezone(timedelta(hours=8), "Asia/Shanghai")


@runtime_checkable
class Clock(Protocol):
    """Where the business date comes from."""

    def today(self) -> date: ...


class FixedClock:
    """A clock that says what it is told: tests, replays and end-of-day catch-up."""

    def __init__(self, today: date | str) -> None:
        self._today = parse_date(today, field="today")

    def today(self) -> date:
        return self._today

    def set(self, today: date | str) -> None:
        self._today = parse_date(today, field="today")

    def advance(self, days: int = 1) -> date:
        """Move the business date forward (or back, for negative `days`) and return the new date."""
        self._today += timedelta(days=days)
        return self._today

    def __repr__(self) -> str:
        return f"FixedClock({self._today.isoformat()!r})"


class SystemClock:
    """The wall clock in China Standard Time (Asia/Shanghai)."""

    def today(self) -> date:
        return datetime.now(CHINA_TZ).date()

    def now(self) -> datetime:
        """An aware datetime in UTC+8."""
        return datetime.now(CHINA_TZ)


_FORMATS = (
    re.compile(r"^(\d{4})-(\d{1,2})-(\d{1,2})$"),
    re.compile(r"^(\d{4})/(\d{1,2})/(\d{1,2})$"),
    re.compile(r"^(\d{4})(\d{2})(\d{2})$"),
    re.compile(r"^(\d{4})年(\d{1,2})月(\d{1,2})日$"),
)


def parse_date(text: str | date, field: str = "date") -> date:
    """`2025-10-01`, `2025/10/1`, `20251001` or `2025年10月1日` → date; a date passes through.

    Anything else raises ValidationError(code="invalid_date") naming `field`. A datetime is refused:
    a business date has no time of day, and silently dropping one hides a bug.
    """
    if isinstance(text, datetime):
        raise ValidationError(
            f"{field}: expected a date, got a datetime ({text.isoformat()})", code="invalid_date", field=field
        )
    if isinstance(text, date):
        return text
    if not isinstance(text, str):
        raise ValidationError(
            f"{field}: expected a date or text, got {type(text).__name__}", code="invalid_date", field=field
        )
    s = text.strip()
    for pattern in _FORMATS:
        m = pattern.match(s)
        if m:
            y, mo, d = (int(g) for g in m.groups())
            try:
                return date(y, mo, d)
            except ValueError as exc:
                raise ValidationError(
                    f"{field}: {text!r} is not a calendar date ({exc})", code="invalid_date", field=field
                ) from None
    raise ValidationError(
        f"{field}: {text!r} is not a date; use YYYY-MM-DD", code="invalid_date", field=field, value=text
    )


def month_start(d: date) -> date:
    return d.replace(day=1)


def month_end(d: date) -> date:
    return d.replace(day=_cal.monthrange(d.year, d.month)[1])


def add_months(d: date, n: int) -> date:
    """The corresponding day n months later (earlier for n < 0), else that month's last day (民法典 Art 202).

    `add_months(2025-01-31, 1)` = 2025-02-28; `add_months(2024-02-29, 12)` = 2025-02-28. Not
    end-of-month sticky: `add_months(2025-02-28, 1)` = 2025-03-28.
    """
    if isinstance(n, bool) or not isinstance(n, int):
        raise ValidationError(f"months must be an int, not {type(n).__name__}", code="invalid_months")
    index = d.year * 12 + (d.month - 1) + n
    year, month = divmod(index, 12)
    month += 1
    if not 1 <= year <= 9999:
        raise ValidationError(f"{d} + {n} months is out of range", code="date_out_of_range")
    return date(year, month, min(d.day, _cal.monthrange(year, month)[1]))


def months_between(a: date, b: date) -> int:
    """Whole months from a to b: the largest k with add_months(a, k) <= b (negative of b→a when b < a)."""
    if b < a:
        return -months_between(b, a)
    k = (b.year - a.year) * 12 + (b.month - a.month)
    while k > 0 and add_months(a, k) > b:
        k -= 1
    return k


def days_between(a: date, b: date) -> int:
    """Actual days of [a, b) (算头不算尾); negative when b < a."""
    return (b - a).days


def date_range(start: date, end: date, step_days: int = 1) -> Iterator[date]:
    """Dates of the half-open range [start, end): the start is included, the end is not (算头不算尾)."""
    if step_days <= 0:
        raise ValidationError("step_days must be positive", code="invalid_step")
    d, step = start, timedelta(days=step_days)
    while d < end:
        yield d
        d += step
