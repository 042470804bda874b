"""China working-day calendar: statutory holidays and make-up working days (调休) as dated data.

Each year the State Council General Office publishes the year's arrangement (国务院办公厅关于XXXX年部分
节假日安排的通知, e.g. 国办发明电〔2024〕12号 for 2025): which days are off (放假调休) and which weekend
days are worked instead (上班). They cannot be computed, so they ship as data: `holidays_cn.csv`, one row
a day — `date, kind (holiday | workday), name, source` — where `source` names the notice (or the notice
that changed it: the 2019 Labour Day adjustment, the 2020 Spring Festival extension). The data covers
every day of the years 2016–2026 (the first to the last year in the file); a notice's days that fall in
the previous December (2019 and 2023 New Year) sit in that December. It was generated from the
`chinesecalendar` package and is cross-checked against it by the tests.

A day is a **working day** when it is a make-up working day, or a Monday–Friday that is not a holiday.
`is_holiday` means a day off under a notice (weekends inside a holiday span included), not a plain
weekend. **Beyond the data** (before 2016, after 2026) the calendar falls back to weekends-only and
`covers(d)` is False: callers that must be exact (repayment-date rolls for new contracts) should check
`covers` and refuse or flag. Add next year's rows when the notice is published (usually November).

Roll rules are the business-day conventions of the 2006 ISDA Definitions §4.12 (Following, Modified
Following, Preceding) plus Modified Preceding by symmetry; 民法典 Art 203 (a period's last day on a
statutory holiday moves to the day after the holiday) is `RollRule.FOLLOWING`, the default.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, timedelta
from enum import StrEnum
from importlib import resources
from pathlib import Path

from puhui.core.errors import ConfigurationError, ValidationError

_DAY = timedelta(days=1)


class RollRule(StrEnum):
    """How a date that is not a working day moves (business-day convention)."""

    NONE = "none"
    FOLLOWING = "following"
    MODIFIED_FOLLOWING = "modified_following"
    PRECEDING = "preceding"
    MODIFIED_PRECEDING = "modified_preceding"

    @classmethod
    def parse(cls, text: str | RollRule) -> RollRule:
        """`following`, `FOLLOWING`, `Modified Following`, `MF`, `unadjusted` …; unknown → ValidationError."""
        if isinstance(text, RollRule):
            return text
        if not isinstance(text, str):
            raise ValidationError(
                f"roll rule must be text, not {type(text).__name__}", code="unknown_roll_rule", field="roll"
            )
        key = text.strip().lower().replace("-", "_").replace(" ", "_")
        key = {"mod_following": "modified_following", "mod_preceding": "modified_preceding"}.get(key, key)
        key = {"f": "following", "mf": "modified_following", "p": "preceding", "mp": "modified_preceding"}.get(key, key)
        if key in ("unadjusted", "no_adjustment", "n"):
            key = "none"
        try:
            return cls(key)
        except ValueError:
            raise ValidationError(
                f"unknown roll rule {text!r}; use one of {[m.value for m in cls]}",
                code="unknown_roll_rule",
                field="roll",
            ) from None


@dataclass(frozen=True)
class CalendarEntry:
    """One row of the holiday data: a day off (`holiday`) or a worked weekend day (`workday`)."""

    date: date
    kind: str
    name: str
    source: str


class ChinaCalendar:
    """Working days in mainland China from the State Council arrangements (see the module docstring)."""

    def __init__(self, entries: Iterable[CalendarEntry]) -> None:
        self._entries: dict[date, CalendarEntry] = {}
        for e in entries:
            if e.date in self._entries:
                raise ConfigurationError(f"holiday data lists {e.date} twice", code="duplicate_calendar_date")
            if e.kind not in ("holiday", "workday"):
                raise ConfigurationError(f"{e.date}: unknown kind {e.kind!r}", code="bad_calendar_kind")
            if e.kind == "workday" and e.date.weekday() < 5:
                raise ConfigurationError(
                    f"{e.date}: a make-up working day must be a Saturday or Sunday", code="bad_calendar_workday"
                )
            self._entries[e.date] = e
        self._holidays = frozenset(d for d, e in self._entries.items() if e.kind == "holiday")
        self._workdays = frozenset(d for d, e in self._entries.items() if e.kind == "workday")
        years = [d.year for d in self._entries]
        self.first_year: int | None = min(years) if years else None
        self.last_year: int | None = max(years) if years else None

    # ---- loading -------------------------------------------------------------------------------

    @classmethod
    def from_csv(cls, source: str | Path | io.TextIOBase) -> ChinaCalendar:
        """Load `date,kind,name,source` rows from a path or an open text stream."""
        if isinstance(source, (str, Path)):
            with Path(source).open(encoding="utf-8", newline="") as f:
                return cls(_read_rows(f, str(source)))
        return cls(_read_rows(source, "<stream>"))

    @classmethod
    def default(cls) -> ChinaCalendar:
        """The shipped data, `puhui/core/holidays_cn.csv`."""
        ref = resources.files("puhui.core").joinpath("holidays_cn.csv")
        with ref.open("r", encoding="utf-8", newline="") as f:
            return cls(_read_rows(f, "puhui/core/holidays_cn.csv"))

    # ---- queries -------------------------------------------------------------------------------

    def covers(self, d: date) -> bool:
        """True when d's year is in the data; outside it the answers are weekends-only guesses."""
        return self.first_year is not None and self.first_year <= d.year <= self.last_year  # type: ignore[operator]

    def is_holiday(self, d: date) -> bool:
        """A day off under a State Council notice (法定节假日 or 调休 rest day); plain weekends are not."""
        return d in self._holidays

    def is_makeup_workday(self, d: date) -> bool:
        """A Saturday or Sunday worked under a notice (调休上班)."""
        return d in self._workdays

    def is_working_day(self, d: date) -> bool:
        if d in self._workdays:
            return True
        return d.weekday() < 5 and d not in self._holidays

    def entry(self, d: date) -> CalendarEntry | None:
        """The data row for d (name and source notice), if any."""
        return self._entries.get(d)

    def holiday_name(self, d: date) -> str | None:
        e = self._entries.get(d)
        return e.name if e is not None and e.kind == "holiday" else None

    def entries(self, year: int | None = None) -> list[CalendarEntry]:
        """All rows (of one year), in date order."""
        return [e for d, e in sorted(self._entries.items()) if year is None or d.year == year]

    # ---- arithmetic ----------------------------------------------------------------------------

    def next_working_day(self, d: date) -> date:
        """The first working day strictly after d."""
        d += _DAY
        while not self.is_working_day(d):
            d += _DAY
        return d

    def previous_working_day(self, d: date) -> date:
        """The last working day strictly before d."""
        d -= _DAY
        while not self.is_working_day(d):
            d -= _DAY
        return d

    def roll(self, d: date, rule: RollRule | str = RollRule.FOLLOWING) -> date:
        """Move d to a working day by `rule`; a working day never moves."""
        rule = RollRule.parse(rule)
        if rule is RollRule.NONE or self.is_working_day(d):
            return d
        if rule is RollRule.FOLLOWING:
            return self.next_working_day(d)
        if rule is RollRule.PRECEDING:
            return self.previous_working_day(d)
        if rule is RollRule.MODIFIED_FOLLOWING:
            after = self.next_working_day(d)
            return after if after.month == d.month else self.previous_working_day(d)
        before = self.previous_working_day(d)  # MODIFIED_PRECEDING
        return before if before.month == d.month else self.next_working_day(d)

    def add_working_days(self, d: date, n: int) -> date:
        """Step n working days forward (back for n < 0), not counting d itself; n = 0 returns d unchanged.

        From a non-working day, +1 is the next working day: `add_working_days(Sat, 1)` is Monday.
        """
        if isinstance(n, bool) or not isinstance(n, int):
            raise ValidationError(f"n must be an int, not {type(n).__name__}", code="invalid_days")
        step = self.next_working_day if n > 0 else self.previous_working_day
        for _ in range(abs(n)):
            d = step(d)
        return d

    def working_days_between(self, start: date, end: date) -> int:
        """Working days in [start, end) (算头不算尾); negative when end < start."""
        if end < start:
            return -self.working_days_between(end, start)
        count, d = 0, start
        while d < end:
            count += self.is_working_day(d)
            d += _DAY
        return count


def _read_rows(f: Iterable[str], where: str) -> list[CalendarEntry]:
    reader = csv.DictReader(f)
    expected = ["date", "kind", "name", "source"]
    if reader.fieldnames != expected:
        raise ConfigurationError(
            f"{where}: header must be {expected}, got {reader.fieldnames}", code="bad_calendar_header", file=where
        )
    rows = []
    for line, rec in enumerate(reader, start=2):
        try:
            d = date.fromisoformat(rec["date"])
        except (TypeError, ValueError):
            raise ConfigurationError(
                f"{where}:{line}: bad date {rec['date']!r}", code="bad_calendar_date", file=where, line=line
            ) from None
        if not rec.get("kind") or not rec.get("name") or not rec.get("source"):
            raise ConfigurationError(
                f"{where}:{line}: every row needs kind, name and source (the notice)",
                code="bad_calendar_row",
                file=where,
                line=line,
            )
        rows.append(CalendarEntry(d, rec["kind"], rec["name"], rec["source"]))
    return rows


#: The shipped calendar, loaded once at import (a ~400-row CSV; a few milliseconds).
CN_CALENDAR: ChinaCalendar = ChinaCalendar.default()
