"""China calendar: State Council arrangements as data, cross-checked against `chinesecalendar`."""

from __future__ import annotations

import io
import re
from datetime import date, timedelta

import chinese_calendar
import pytest
from chinese_calendar import constants as cc

from puhui.core.calendar import CN_CALENDAR, CalendarEntry, ChinaCalendar, RollRule
from puhui.core.errors import ConfigurationError, ValidationError

D = date
ZH = {
    "New Year's Day": "元旦",
    "Spring Festival": "春节",
    "Tomb-sweeping Day": "清明节",
    "Labour Day": "劳动节",
    "Dragon Boat Festival": "端午节",
    "Mid-autumn Festival": "中秋节",
    "National Day": "国庆节",
}
NOTICE = re.compile(r"^国办发明电〔(\d{4})〕\d+号$")


def _all_days(first: int, last: int) -> list[date]:
    d, out = D(first, 1, 1), []
    while d.year <= last:
        out.append(d)
        d += timedelta(days=1)
    return out


def test_data_covers_2016_to_2026() -> None:
    assert (CN_CALENDAR.first_year, CN_CALENDAR.last_year) == (2016, 2026)
    assert CN_CALENDAR.covers(D(2019, 1, 1)) and CN_CALENDAR.covers(D(2026, 12, 31))
    assert not CN_CALENDAR.covers(D(2015, 12, 31)) and not CN_CALENDAR.covers(D(2027, 1, 1))


def test_every_covered_day_agrees_with_chinesecalendar() -> None:
    for d in _all_days(CN_CALENDAR.first_year, CN_CALENDAR.last_year):  # type: ignore[arg-type]
        assert CN_CALENDAR.is_working_day(d) == chinese_calendar.is_workday(d), d
        assert CN_CALENDAR.is_holiday(d) == (d in cc.holidays), d
        assert CN_CALENDAR.is_makeup_workday(d) == (d in cc.workdays), d


def test_rows_carry_chinesecalendar_names_and_a_plausible_source() -> None:
    rows = CN_CALENDAR.entries()
    assert len(rows) == len({r.date for r in rows}) > 300
    for r in rows:
        table = cc.holidays if r.kind == "holiday" else cc.workdays
        assert ZH[table[r.date]] == r.name, r
        # the arrangement year is the row's year, or the next one for New Year days in December
        year = r.date.year + 1 if (r.date.month == 12 and r.name == "元旦") else r.date.year
        m = NOTICE.match(r.source)
        if m:
            assert int(m.group(1)) == year - 1, r  # each notice is issued in the year before
        else:
            assert r.source.startswith("国务院办公厅关于") and str(year) in r.source, r


def test_amended_arrangements_name_the_amending_notice() -> None:
    # 2019 Labour Day extended to 1–4 May, 28 Apr and 5 May worked; 2020 Spring Festival extended to 2 Feb
    assert "调整2019年劳动节" in CN_CALENDAR.entry(D(2019, 5, 3)).source  # type: ignore[union-attr]
    assert CN_CALENDAR.is_makeup_workday(D(2019, 5, 5))
    assert "延长2020年春节" in CN_CALENDAR.entry(D(2020, 2, 1)).source  # type: ignore[union-attr]
    assert not CN_CALENDAR.is_working_day(D(2020, 2, 1))  # a Saturday first to be worked, then off
    assert CN_CALENDAR.is_working_day(D(2020, 2, 3))


def test_national_day_2025() -> None:
    # 国办发明电〔2024〕12号: 国庆节、中秋节 10月1日至8日放假调休，共8天; 9月28日（周日）、10月11日（周六）上班
    assert CN_CALENDAR.is_holiday(D(2025, 10, 1)) and not CN_CALENDAR.is_working_day(D(2025, 10, 1))
    assert CN_CALENDAR.holiday_name(D(2025, 10, 1)) == "国庆节"
    assert CN_CALENDAR.entry(D(2025, 10, 1)).source == "国办发明电〔2024〕12号"  # type: ignore[union-attr]
    assert D(2025, 9, 28).weekday() == 6
    assert CN_CALENDAR.is_working_day(D(2025, 9, 28)) and CN_CALENDAR.is_makeup_workday(D(2025, 9, 28))
    assert not CN_CALENDAR.is_holiday(D(2025, 9, 28))
    assert CN_CALENDAR.is_working_day(D(2025, 10, 11))
    assert all(not CN_CALENDAR.is_working_day(D(2025, 10, day)) for day in range(1, 9))
    assert CN_CALENDAR.is_working_day(D(2025, 10, 9))


def test_spring_festival_2026() -> None:
    # 国办发明电〔2025〕7号: 2月15日至23日放假调休，共9天; 2月14日（周六）、2月28日（周六）上班
    off = [D(2026, 2, 15) + timedelta(days=i) for i in range(9)]
    assert all(CN_CALENDAR.is_holiday(d) and CN_CALENDAR.holiday_name(d) == "春节" for d in off)
    assert CN_CALENDAR.is_working_day(D(2026, 2, 14)) and CN_CALENDAR.is_working_day(D(2026, 2, 28))
    assert CN_CALENDAR.is_working_day(D(2026, 2, 24))
    assert CN_CALENDAR.entry(D(2026, 2, 15)).source == "国办发明电〔2025〕7号"  # type: ignore[union-attr]
    expected = len(chinese_calendar.get_workdays(D(2026, 2, 1), D(2026, 2, 28)))
    assert (
        CN_CALENDAR.working_days_between(D(2026, 2, 1), D(2026, 3, 1)) == expected == 16
    )  # 14 weekdays + Sat 14 and Sat 28 Feb


def test_october_2025_working_days() -> None:
    # Oct 9–10, 13–17, 20–24, 27–31 (17 weekdays) + Saturday 11 Oct worked = 18
    assert CN_CALENDAR.working_days_between(D(2025, 10, 1), D(2025, 11, 1)) == 18
    assert CN_CALENDAR.working_days_between(D(2025, 11, 1), D(2025, 10, 1)) == -18


def test_roll_rules() -> None:
    cal = CN_CALENDAR
    oct1 = D(2025, 10, 1)
    assert cal.roll(oct1, RollRule.NONE) == oct1
    assert cal.roll(oct1, RollRule.FOLLOWING) == D(2025, 10, 9)
    assert cal.roll(oct1, RollRule.MODIFIED_FOLLOWING) == D(2025, 10, 9)
    assert cal.roll(oct1, RollRule.PRECEDING) == D(2025, 9, 30)
    # preceding would leave October → modified preceding goes forward instead
    assert cal.roll(oct1, RollRule.MODIFIED_PRECEDING) == D(2025, 10, 9)
    # 端午 2025: 5月31日至6月2日; following from Sat 31 May is Tue 3 June → modified following stays in May
    may31 = D(2025, 5, 31)
    assert cal.roll(may31, RollRule.FOLLOWING) == D(2025, 6, 3)
    assert cal.roll(may31, RollRule.MODIFIED_FOLLOWING) == D(2025, 5, 30)
    # a working day never moves, including a worked Sunday
    for rule in RollRule:
        assert cal.roll(D(2025, 9, 28), rule) == D(2025, 9, 28)
        assert cal.roll(D(2025, 10, 9), rule) == D(2025, 10, 9)
    assert cal.roll(oct1, "following") == D(2025, 10, 9)
    assert cal.roll(oct1) == D(2025, 10, 9)  # FOLLOWING by default, 民法典 Art 203


def test_add_working_days() -> None:
    cal = CN_CALENDAR
    assert cal.add_working_days(D(2025, 9, 30), 1) == D(2025, 10, 9)
    assert cal.add_working_days(D(2025, 9, 26), 1) == D(2025, 9, 28)  # Fri → worked Sunday
    assert cal.add_working_days(D(2025, 10, 9), -1) == D(2025, 9, 30)
    assert cal.add_working_days(D(2025, 10, 4), 0) == D(2025, 10, 4)
    assert cal.add_working_days(D(2025, 10, 4), 1) == D(2025, 10, 9)
    assert cal.add_working_days(D(2025, 9, 30), 3) == D(2025, 10, 11)
    assert cal.next_working_day(D(2025, 9, 30)) == D(2025, 10, 9)
    assert cal.previous_working_day(D(2025, 9, 29)) == D(2025, 9, 28)
    with pytest.raises(ValidationError):
        cal.add_working_days(D(2025, 1, 1), 1.0)  # type: ignore[arg-type]


def test_beyond_the_data_falls_back_to_weekends_only() -> None:
    # 2027 is not published: 1 Jan 2027 (a Friday) will surely be a holiday, but the data cannot say so
    d = D(2027, 1, 1)
    assert not CN_CALENDAR.covers(d)
    assert CN_CALENDAR.is_working_day(d) and not CN_CALENDAR.is_holiday(d)
    assert not CN_CALENDAR.is_working_day(D(2027, 1, 2))  # Saturday
    assert CN_CALENDAR.roll(D(2027, 1, 2)) == D(2027, 1, 4)


@pytest.mark.parametrize(
    ("text", "rule"),
    [
        ("following", RollRule.FOLLOWING),
        ("FOLLOWING", RollRule.FOLLOWING),
        ("Modified Following", RollRule.MODIFIED_FOLLOWING),
        ("MODIFIED_FOLLOWING", RollRule.MODIFIED_FOLLOWING),
        ("mod-following", RollRule.MODIFIED_FOLLOWING),
        ("MF", RollRule.MODIFIED_FOLLOWING),
        ("preceding", RollRule.PRECEDING),
        ("modified_preceding", RollRule.MODIFIED_PRECEDING),
        ("none", RollRule.NONE),
        ("Unadjusted", RollRule.NONE),
        (RollRule.PRECEDING, RollRule.PRECEDING),
    ],
)
def test_roll_rule_parse(text: str, rule: RollRule) -> None:
    assert RollRule.parse(text) is rule


@pytest.mark.parametrize("text", ["nearest", "", None])
def test_roll_rule_parse_refuses_unknown(text: str) -> None:
    with pytest.raises(ValidationError) as e:
        RollRule.parse(text)
    assert e.value.code == "unknown_roll_rule"


def test_loading_checks_the_data() -> None:
    good = "date,kind,name,source\n2030-10-01,holiday,国庆节,test\n2030-09-29,workday,国庆节,test\n"
    cal = ChinaCalendar.from_csv(io.StringIO(good))
    assert cal.covers(D(2030, 6, 1)) and cal.is_holiday(D(2030, 10, 1)) and cal.is_working_day(D(2030, 9, 29))
    bad = {
        "date,kind,name\n2030-10-01,holiday,国庆节\n": "bad_calendar_header",
        "date,kind,name,source\n2030-10-32,holiday,国庆节,x\n": "bad_calendar_date",
        "date,kind,name,source\n2030-10-01,holiday,国庆节,\n": "bad_calendar_row",
        "date,kind,name,source\n2030-10-01,off,国庆节,x\n": "bad_calendar_kind",
        "date,kind,name,source\n2030-10-01,workday,国庆节,x\n": "bad_calendar_workday",  # a Tuesday
        "date,kind,name,source\n2030-10-01,holiday,a,x\n2030-10-01,holiday,b,x\n": "duplicate_calendar_date",
    }
    for text, code in bad.items():
        with pytest.raises(ConfigurationError) as e:
            ChinaCalendar.from_csv(io.StringIO(text))
        assert e.value.code == code


def test_from_csv_path_and_empty_calendar(tmp_path) -> None:
    p = tmp_path / "h.csv"
    p.write_text("date,kind,name,source\n2030-10-01,holiday,国庆节,test\n", encoding="utf-8")
    assert ChinaCalendar.from_csv(p).entries() == [CalendarEntry(D(2030, 10, 1), "holiday", "国庆节", "test")]
    empty = ChinaCalendar([])
    assert not empty.covers(D(2025, 1, 1)) and empty.is_working_day(D(2025, 10, 1))
