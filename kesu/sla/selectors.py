"""The SLA configuration as the clocks read it: calendars, policies and escalation chains.

Loaded once and kept for TTL seconds per process (a change saved in the admin is seen within
that time everywhere, and at once in the process that saved it), as triage's rules are.
"""

from __future__ import annotations

import time
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime
from threading import Lock
from zoneinfo import ZoneInfo

from django.conf import settings

from kesu.complaints.models import ALERT_FLAGS
from kesu.sla.calendar import Duration, Schedule
from kesu.sla.models import Calendar, CalendarDay, Clock, EscalationStep, Policy, Risk, Target

TTL = 30.0


@dataclass(frozen=True)
class PolicyView:
    """A policy with its calendar, ready to match complaints and set their targets."""

    row: Policy
    schedule: Schedule
    grades: frozenset[str]
    tiers: frozenset[str]
    channels: frozenset[str]
    categories: frozenset[str]

    def matches(self, *, grade: str, tier: str, channel: str, category: str, flags: str) -> bool:
        if self.row.is_default:
            return True
        high = bool(ALERT_FLAGS & set(flags.split()))
        return (
            (not self.grades or grade in self.grades)
            and (not self.tiers or tier in self.tiers)
            and (not self.channels or channel in self.channels)
            and (not self.categories or category in self.categories)
            and (self.row.risk == Risk.ANY or (self.row.risk == Risk.HIGH) == high)
        )

    def allowed(self, target: str) -> Duration | None:
        """The policy's duration for a target (None: no such clock under this policy)."""
        raw = {
            "acknowledge": self.row.acknowledge,
            "first_contact": self.row.first_contact,
            "update": self.row.update_every,
            "resolve": self.row.resolve,
            "expert": self.row.expert_response,
        }[target]
        return Duration.parse(raw) if raw else None


@dataclass(frozen=True)
class StepView:
    level: int
    when: str
    after: Duration | None
    reassign: bool


@dataclass(frozen=True)
class Setup:
    policies: tuple[PolicyView, ...]  # in matching order, the default last
    chains: dict[int | None, tuple[StepView, ...]]  # department id (None: everyone else)
    schedules: dict[int, Schedule]  # calendar id


def _codes(text: str) -> frozenset[str]:
    return frozenset(text.replace(",", " ").split())


def schedule_of(calendar: Calendar, days: Iterable[CalendarDay] = ()) -> Schedule:
    own: dict[date, bool] = {d.day: d.is_workday for d in days}
    return Schedule(
        zone=ZoneInfo(settings.TIME_ZONE),
        around_the_clock=calendar.around_the_clock,
        opens=calendar.opens,
        closes=calendar.closes,
        lunch_from=calendar.lunch_from,
        lunch_to=calendar.lunch_to,
        official_holidays=calendar.official_holidays,
        days=own,
    )


def _load() -> Setup:
    days: dict[int, list[CalendarDay]] = {}
    for day in CalendarDay.objects.all():
        days.setdefault(day.calendar_id, []).append(day)
    schedules = {c.pk: schedule_of(c, days.get(c.pk, ())) for c in Calendar.objects.all()}
    rows = Policy.objects.filter(is_active=True).order_by("is_default", "position", "pk")
    policies = tuple(
        PolicyView(p, schedules[p.calendar_id], _codes(p.grades), _codes(p.tiers),
                   _codes(p.channels), _codes(p.categories))
        for p in rows
    )  # fmt: skip
    chains: dict[int | None, list[StepView]] = {}
    for step in EscalationStep.objects.order_by("level"):
        after = Duration.parse(step.after) if step.after else None
        chains.setdefault(step.department_id, []).append(
            StepView(step.level, step.when, after, step.reassign)
        )
    return Setup(policies, {k: tuple(v) for k, v in chains.items()}, schedules)


_lock = Lock()
_cached: tuple[float, Setup] | None = None


def current() -> Setup:
    global _cached
    cached = _cached
    if cached is not None and time.monotonic() - cached[0] < TTL:
        return cached[1]
    with _lock:
        setup = _load()
        _cached = (time.monotonic(), setup)
    return setup


def forget(**_kwargs: object) -> None:
    """Drop the cached configuration (after a change, and between tests)."""
    global _cached
    _cached = None


def policy_for(*, grade: str, tier: str, channel: str, category: str, flags: str) -> PolicyView:
    """The first active policy that matches; the default one if none does."""
    policies = current().policies
    for view in policies:
        if view.matches(grade=grade, tier=tier, channel=channel, category=category, flags=flags):
            return view
    raise LookupError("no SLA policy at all: the default policy is missing")


def policy_by_id(pk: int | None) -> PolicyView | None:
    return next((v for v in current().policies if v.row.pk == pk), None)


def chain_for(department_id: int | None) -> tuple[StepView, ...]:
    chains = current().chains
    return chains.get(department_id) or chains.get(None, ())


@dataclass(frozen=True)
class ClockRow:
    """One target as the case page shows it."""

    target: str
    label: str
    due_at: datetime
    met_at: datetime | None
    paused: bool
    level: int
    extended: bool


def clock_rows(complaint_id: int) -> list[ClockRow]:
    order = [t.value for t in Target]
    rows = sorted(
        Clock.objects.filter(complaint_id=complaint_id), key=lambda c: order.index(c.target)
    )
    return [
        ClockRow(c.target, str(Target(c.target).label), c.due_at, c.stopped_at,
                 c.paused_at is not None, c.level, c.extended)
        for c in rows
    ]  # fmt: skip
