"""Business-time arithmetic: when is a target of "24 h" or "7 d" due on a given calendar.

A calendar is either around the clock (24×7) or business hours — say 09:00–18:00 with an
optional lunch break — on working days, in the organisation's time zone. Working days follow,
in this order: the calendar's own day rows (an administrator's holidays and make-up working
days, for years the package does not know or for local rules), then the official Chinese
schedule from the `chinese-calendar` package (public holidays **and** 调休: the Saturdays and
Sundays worked to make up for a long holiday), then Monday to Friday.

Durations are written `10m`, `24h` or `15d`. On a business-hours calendar they count working
time only, and a day is one working day's length (8 h on 09:00–18:00 with an hour's lunch):
"1 d" from Monday 15:00 is Tuesday 15:00, and from Friday 20:00 it is Monday 18:00.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from functools import cache
from zoneinfo import ZoneInfo

import chinese_calendar

_DURATION = re.compile(r"^\s*(\d{1,6})\s*([mhd])\s*$")
UNIT_MINUTES = {"m": 1, "h": 60}
# A long pause or a far deadline must end: no schedule has a year without a working minute.
_MAX_DAYS = 3 * 366


class NoWorkingTime(ValueError):
    """The calendar has no working time at all (every day off, or opening equals closing)."""


@dataclass(frozen=True)
class Duration:
    amount: int
    unit: str  # m, h or d

    @classmethod
    def parse(cls, text: str) -> Duration:
        """`10m`, `24h`, `15d`; ValueError naming the expected form otherwise."""
        match = _DURATION.match(str(text or ""))
        if match is None:
            raise ValueError(
                f"{text!r} is not a duration: write a whole number and m, h or d, e.g. 24h or 15d"
            )
        return cls(int(match.group(1)), match.group(2))

    def __str__(self) -> str:
        return f"{self.amount}{self.unit}"


@cache
def _official(day: date) -> bool | None:
    """The official schedule's answer for this day, or None for a year it does not cover."""
    try:
        return bool(chinese_calendar.is_workday(day))
    except NotImplementedError:
        return None


def official_years() -> range:
    """The years the installed `chinese-calendar` knows."""
    years = [y for y in range(2000, 2100) if _official(date(y, 6, 1)) is not None]
    return range(years[0], years[-1] + 1) if years else range(0)


@dataclass(frozen=True)
class Schedule:
    """One calendar, ready for arithmetic. `days` are its own rows: date → is a working day."""

    zone: ZoneInfo
    around_the_clock: bool = False
    opens: time = time(9)
    closes: time = time(18)
    lunch_from: time | None = None
    lunch_to: time | None = None
    official_holidays: bool = True
    days: Mapping[date, bool] = field(default_factory=dict)

    def __post_init__(self) -> None:
        if not self.around_the_clock and self.opens >= self.closes:
            raise NoWorkingTime("the day must open before it closes")
        if (self.lunch_from is None) != (self.lunch_to is None):
            raise ValueError("a lunch break needs both a start and an end")
        if (
            self.lunch_from is not None
            and self.lunch_to is not None
            and not (self.opens <= self.lunch_from < self.lunch_to <= self.closes)
        ):
            raise ValueError("the lunch break must lie inside the working day")

    # --- Days ---------------------------------------------------------------------------------

    def is_workday(self, day: date) -> bool:
        if self.around_the_clock:
            return True
        if day in self.days:
            return self.days[day]
        if self.official_holidays:
            official = _official(day)
            if official is not None:
                return official
        return day.weekday() < 5

    def covers(self, year: int) -> bool:
        """Whether holidays are known for this year: from the package or the calendar's rows."""
        if self.around_the_clock or not self.official_holidays:
            return True
        return year in official_years() or any(d.year == year for d in self.days)

    def _periods(self, day: date) -> list[tuple[datetime, datetime]]:
        """The day's working periods, as aware datetimes in the calendar's zone."""
        if not self.is_workday(day):
            return []
        if self.around_the_clock:
            start = datetime.combine(day, time(0), self.zone)
            return [(start, datetime.combine(day + timedelta(days=1), time(0), self.zone))]
        bounds = [self.opens]
        if self.lunch_from is not None and self.lunch_to is not None:
            bounds += [self.lunch_from, self.lunch_to]
        bounds.append(self.closes)
        return [
            (datetime.combine(day, a, self.zone), datetime.combine(day, b, self.zone))
            for a, b in zip(bounds[::2], bounds[1::2], strict=True)
            if a < b
        ]

    def _periods_from(self, start: datetime) -> Iterator[tuple[datetime, datetime]]:
        """Working periods from `start` on (the first one cut at `start`), day after day."""
        local = start.astimezone(self.zone)
        day = local.date()
        for _ in range(_MAX_DAYS):
            for a, b in self._periods(day):
                if b > local:
                    yield max(a, local), b
            day += timedelta(days=1)
        raise NoWorkingTime(f"no working time in the {_MAX_DAYS} days after {start.isoformat()}")

    def day_minutes(self) -> int:
        """The length of one working day in minutes (1,440 around the clock)."""
        if self.around_the_clock:
            return 24 * 60
        today = date(2001, 1, 1)
        return sum(
            int((b - a).total_seconds()) // 60
            for a, b in Schedule(self.zone, False, self.opens, self.closes, self.lunch_from,
                                 self.lunch_to, False)._periods(today)
        )  # fmt: skip

    # --- Arithmetic ---------------------------------------------------------------------------

    def add_minutes(self, start: datetime, minutes: float) -> datetime:
        """The moment `minutes` of working time after `start` (start itself if 0)."""
        if minutes <= 0:
            return start
        if self.around_the_clock:
            return start + timedelta(minutes=minutes)
        left = timedelta(minutes=minutes)
        for a, b in self._periods_from(start):
            if b - a >= left:
                return (a + left).astimezone(start.tzinfo)
            left -= b - a
        raise AssertionError("unreachable: _periods_from ends by raising")

    def add(self, start: datetime, duration: Duration | str) -> datetime:
        """When a target of this duration, started at `start`, falls due."""
        d = Duration.parse(duration) if isinstance(duration, str) else duration
        return self.add_minutes(start, self.minutes(d))

    def minutes(self, duration: Duration) -> int:
        """Working minutes in a duration on this calendar (a day is one working day)."""
        if duration.unit == "d":
            return duration.amount * self.day_minutes()
        return duration.amount * UNIT_MINUTES[duration.unit]

    def working_minutes(self, start: datetime, end: datetime) -> float:
        """Working time between two moments, in minutes (0 if end is not after start)."""
        if end <= start:
            return 0.0
        if self.around_the_clock:
            return (end - start).total_seconds() / 60
        total = timedelta()
        for a, b in self._periods_from(start):
            if a >= end:
                break
            total += min(b, end) - a
        return total.total_seconds() / 60
