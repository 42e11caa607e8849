"""Business-time arithmetic across Chinese holidays and 调休 make-up working days."""

from __future__ import annotations

from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest

from kesu.sla.calendar import Duration, NoWorkingTime, Schedule

SHANGHAI = ZoneInfo("Asia/Shanghai")
OFFICE = Schedule(SHANGHAI, opens=time(9), closes=time(18), lunch_from=time(12),
                  lunch_to=time(13))  # fmt: skip
ALL_DAY = Schedule(SHANGHAI, around_the_clock=True)


def at(*parts: int) -> datetime:
    return datetime(*parts, tzinfo=SHANGHAI)  # type: ignore[misc]


def test_durations_are_read_and_refused_by_their_written_form() -> None:
    assert Duration.parse("24h") == Duration(24, "h")
    assert str(Duration.parse(" 15 d ")) == "15d"
    for bad in ("", "15", "1.5h", "3w", "-2h", "h"):
        with pytest.raises(ValueError, match="m, h or d"):
            Duration.parse(bad)


def test_around_the_clock_ignores_days_off() -> None:
    # National Day 2026 is a holiday, but a 24×7 hotline's clock runs through it.
    assert ALL_DAY.add(at(2026, 9, 30, 20, 0), "24h") == at(2026, 10, 1, 20, 0)
    assert ALL_DAY.add(at(2026, 9, 30, 20, 0), "15d") == at(2026, 10, 15, 20, 0)
    assert ALL_DAY.working_minutes(at(2026, 10, 1), at(2026, 10, 2)) == 24 * 60


def test_a_working_day_is_its_working_hours() -> None:
    assert OFFICE.day_minutes() == 8 * 60  # 09:00–18:00 less an hour's lunch
    # Monday 15:00 + 1 working day = Tuesday 15:00; + 2 h stops the clock over lunch.
    assert OFFICE.add(at(2026, 6, 1, 15, 0), "1d") == at(2026, 6, 2, 15, 0)
    assert OFFICE.add(at(2026, 6, 2, 11, 0), "2h") == at(2026, 6, 2, 14, 0)
    # Outside hours the clock starts at the next opening: Friday evening → Monday.
    assert OFFICE.add(at(2026, 6, 5, 20, 0), "1d") == at(2026, 6, 8, 18, 0)
    assert OFFICE.add(at(2026, 6, 6, 10, 0), "30m") == at(2026, 6, 8, 9, 30)  # a Saturday


def test_spring_festival_2026_and_its_make_up_saturdays() -> None:
    # 15–23 February 2026 are off; Saturday 14 and Saturday 28 February are worked (调休).
    assert OFFICE.is_workday(date(2026, 2, 14)) and OFFICE.is_workday(date(2026, 2, 28))
    assert not any(OFFICE.is_workday(date(2026, 2, d)) for d in range(15, 24))
    # Friday 13 Feb, 17:00: 1 h that day, the rest on the make-up Saturday.
    assert OFFICE.add(at(2026, 2, 13, 17, 0), "4h") == at(2026, 2, 14, 12, 0)
    # The make-up Saturday ends, then nine days off: the next working hour is 24 February.
    assert OFFICE.add(at(2026, 2, 14, 17, 30), "1h") == at(2026, 2, 24, 9, 30)
    # Three working days from the eve of the holiday: 14th (Sat), 24th, 25th.
    assert OFFICE.add(at(2026, 2, 13, 18, 0), "3d") == at(2026, 2, 25, 18, 0)
    assert OFFICE.working_minutes(at(2026, 2, 13, 18, 0), at(2026, 2, 24, 9, 0)) == 8 * 60


def test_national_day_2026_with_its_make_up_days() -> None:
    # Mid-autumn 25–27 Sep, National Day 1–7 Oct; Sunday 20 Sep and Saturday 10 Oct are worked.
    assert OFFICE.is_workday(date(2026, 9, 20)) and OFFICE.is_workday(date(2026, 10, 10))
    assert not OFFICE.is_workday(date(2026, 10, 5))
    # 30 September 17:00 + 2 h: one hour that day, the next on Thursday 8 October.
    assert OFFICE.add(at(2026, 9, 30, 17, 0), "2h") == at(2026, 10, 8, 10, 0)
    # "15 working days" from 30 September 09:00: 30 Sep, then 8, 9, 10 (the make-up
    # Saturday), 12–16, 19–23 and 26 October → due at closing time on the 26th.
    assert OFFICE.add(at(2026, 9, 30, 9, 0), "15d") == at(2026, 10, 26, 18, 0)


def test_the_calendars_own_rows_win_over_the_package_and_fill_unknown_years() -> None:
    # The package knows 2004–2026 at the time of writing; an administrator adds 2027.
    rows = {date(2027, 2, 5): False, date(2026, 6, 1): False, date(2026, 6, 6): True}
    own = Schedule(SHANGHAI, days=rows)
    assert not own.is_workday(date(2027, 2, 5))  # a Friday made a holiday
    assert not own.is_workday(date(2026, 6, 1))  # a local day off
    assert own.is_workday(date(2026, 6, 6))  # a Saturday worked
    assert own.is_workday(date(2027, 2, 4)) and not own.is_workday(date(2027, 2, 6))
    assert own.covers(2026) and own.covers(2027)
    assert not Schedule(SHANGHAI).covers(2099)


def test_working_minutes_measure_a_pause_and_add_minutes_undoes_it() -> None:
    start, end = at(2026, 6, 5, 16, 0), at(2026, 6, 8, 10, 30)  # Friday afternoon → Monday
    paused = OFFICE.working_minutes(start, end)
    assert paused == 2 * 60 + 90
    assert OFFICE.add_minutes(start, paused) == end
    assert OFFICE.working_minutes(end, start) == 0


def test_times_in_other_zones_are_read_in_the_calendars_zone() -> None:
    utc = datetime(2026, 6, 1, 7, 0, tzinfo=ZoneInfo("UTC"))  # 15:00 in Shanghai
    due = OFFICE.add(utc, "1h")
    assert due == at(2026, 6, 1, 16, 0) and due.tzinfo == utc.tzinfo


def test_a_calendar_without_working_time_is_refused() -> None:
    with pytest.raises(NoWorkingTime):
        Schedule(SHANGHAI, opens=time(18), closes=time(9))
    with pytest.raises(ValueError, match="lunch"):
        Schedule(SHANGHAI, lunch_from=time(12))
    days_off = {date(2026, 1, 1) + timedelta(days=i): False for i in range(3 * 366 + 10)}
    never = Schedule(SHANGHAI, official_holidays=False, days=days_off)
    with pytest.raises(NoWorkingTime):
        never.add(at(2026, 1, 1, 9, 0), "1h")
