"""Point in time (时点): which rows of a source a computation as of a date may read, as pure date arithmetic.

A source reports with a lag (`SourceContract.lag_days`): a monthly row about month M becomes available
`lag_days` after M ends, an event dated D becomes available `lag_days` after D. As of a date A:

* a **monthly** row counts iff `month_end(M) + lag_days <= A`, i.e. iff M is not after the *anchor month*
  `anchor_month(A, lag)` — the latest month already available. Windows of monthly sources count back
  from the anchor: `mb = 0` is the anchor month, `mb < 3` the three latest available months.
* an **event** row counts iff `D + lag_days <= A`, i.e. iff `D <= known_by(A, lag)`. Windows of event
  sources count back from A: `mb` is the number of whole months from D to A (民法典 Art 202 month
  arithmetic, as `puhui.core.dates.add_months`), `dd` the number of days.

Everything here is a pure function of dates; the SQL compiler turns the results into literals, so the
same as-of always yields the same SQL and no engine-specific date function is needed for windows.
"""

from __future__ import annotations

import calendar
from datetime import date, timedelta

from puhui.core.dates import add_months, month_end, month_start


def month_index(d: date) -> int:
    """Months since year 0 (`year * 12 + month - 1`): the integer the SQL uses to count months."""
    return d.year * 12 + d.month - 1


def known_by(as_of: date, lag_days: int) -> date:
    """The last event date whose row is available as of `as_of`: `as_of - lag_days`."""
    return as_of - timedelta(days=lag_days)


def anchor_month(as_of: date, lag_days: int) -> date:
    """The latest month M (its first day) with `month_end(M) + lag_days <= as_of`."""
    last_end = known_by(as_of, lag_days)  # month_end(M) must be on or before this day
    m = month_start(last_end)
    if month_end(m) > last_end:
        m = add_months(m, -1)
    return m


def month_available(month: date, as_of: date, lag_days: int) -> bool:
    """Whether the row of `month` is available as of `as_of` (the definition the SQL filter implements)."""
    return month_end(month) + timedelta(days=lag_days) <= as_of


def event_available(day: date, as_of: date, lag_days: int) -> bool:
    """Whether an event dated `day` is available as of `as_of`."""
    return day + timedelta(days=lag_days) <= as_of


def whole_months(start: date, as_of: date) -> int:
    """Whole months from `start` to `as_of` (the largest k with `add_months(start, k) <= as_of`; k >= 0 assumed).

    Equal to `months_between` of `puhui.core.dates` for `start <= as_of`; written as the closed form the SQL
    uses: the calendar-month difference, less one when `start`'s day of month is later than `as_of`'s
    and `as_of` is not the last day of its month (a clamped month end reaches `as_of`).
    """
    k = month_index(as_of) - month_index(start)
    if start.day > as_of.day and not is_month_end(as_of):
        k -= 1
    return k


def is_month_end(d: date) -> bool:
    return d.day == calendar.monthrange(d.year, d.month)[1]
