"""Performance: KPIs per department, handler, store and channel, and the causes behind them.

DOMAIN §6 asks for reply timeliness, resolution time, SLA compliance, reopen rate and
responsible escalations per department and person, and complaint trends; L11 for periodic
summaries that find systemic causes. Everything here is read from what the workflow already
records: the complaints received in the period (the cohort, as the user may see them; merged
duplicates left out), their SLA clocks and their `escalate` events.

A deadline counts as *met* when its clock stopped by its due time, as *missed* when it stopped
later, was breached, or is still running past it. A clock paused while the customer is awaited
is not judged yet unless it was already breached, nor one that stopped in time before its step
happened (a complaint closed as invalid, or resolved, before anyone recorded an acknowledgement
or a first contact has none to judge; its resolution deadline counts).
*Overdue* is an open complaint with a clock running past its deadline now. Complaints count
under their department, their handler and their store as they are now, like the satisfaction
report, and under the channel they came by.
"""

from __future__ import annotations

import statistics
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from django.db.models import (
    Case,
    Count,
    DurationField,
    ExpressionWrapper,
    F,
    IntegerField,
    Q,
    When,
)
from django.utils import timezone
from django.utils.translation import gettext as _

from kesu.accounts.models import Department, Store, User
from kesu.complaints.models import (
    OPEN_STATES,
    Channel,
    Closure,
    Event,
    Responsibility,
    RiskLevel,
)
from kesu.complaints.selectors import complaints_visible_to
from kesu.sla.models import Clock, Target
from kesu.triage.selectors import taxonomy

TIMED = (Target.ACKNOWLEDGE, Target.FIRST_CONTACT, Target.RESOLVE)
OUTSIDE = 3  # escalation level: regulator, media or court
RISING_FROM = 5  # complaints in the period before a cause can be called rising
RISING_BY = 1.5  # … and this many times the period before


@dataclass
class Deadlines:
    """How often one target (acknowledge, first contact, resolve) was met."""

    met: int = 0
    missed: int = 0

    @property
    def rate(self) -> float | None:
        judged = self.met + self.missed
        return 100 * self.met / judged if judged else None


@dataclass
class Row:
    """One department's, handler's or store's complaints received in the period."""

    key: str  # the department's or store's code, the handler's username; "" for none
    label: str
    received: int = 0
    open: int = 0
    overdue: int = 0  # open and past a deadline now
    high_risk: int = 0  # open with a high escalation risk (kesu.triage.risk)
    resolved: int = 0
    resolved_once: int = 0  # resolved at least once, reopened since or not
    invalid: int = 0
    reopened: int = 0
    transferred: int = 0
    escalated: int = 0  # taken to a regulator, the media or a court after we received it
    deadlines: dict[str, Deadlines] = field(
        default_factory=lambda: {t.value: Deadlines() for t in TIMED}
    )
    hours: list[float] = field(default_factory=list, repr=False)

    @property
    def acknowledged_on_time(self) -> float | None:
        return self.deadlines[Target.ACKNOWLEDGE].rate

    @property
    def contacted_on_time(self) -> float | None:
        return self.deadlines[Target.FIRST_CONTACT].rate

    @property
    def resolved_on_time(self) -> float | None:
        return self.deadlines[Target.RESOLVE].rate

    @property
    def reopen_rate(self) -> float | None:
        """Reopened ÷ resolved at least once (a reopened case is open again, not resolved)."""
        return 100 * self.reopened / self.resolved_once if self.resolved_once else None

    @property
    def transfer_rate(self) -> float | None:
        return 100 * self.transferred / self.received if self.received else None

    @property
    def median_hours(self) -> float | None:
        """Median time from received to resolved, in hours (calendar time)."""
        return statistics.median(self.hours) if self.hours else None

    @property
    def median_text(self) -> str:
        hours = self.median_hours
        if hours is None:
            return "—"
        if hours >= 48:
            return _("%(n)s d") % {"n": f"{hours / 24:.1f}"}
        return _("%(n)s h") % {"n": f"{hours:.1f}"}

    @property
    def rates(self) -> list[float | None]:
        """Acknowledged, contacted and resolved on time, in that order (the page's columns)."""
        return [self.deadlines[t].rate for t in TIMED]

    def as_dict(self) -> dict[str, Any]:
        def rounded(value: float | None) -> float | None:
            return None if value is None else round(value, 1)

        return {
            "key": self.key,
            "name": self.label,
            "received": self.received,
            "open": self.open,
            "overdue": self.overdue,
            "high_risk_open": self.high_risk,
            "resolved": self.resolved,
            "invalid": self.invalid,
            "acknowledged_on_time_pct": rounded(self.acknowledged_on_time),
            "contacted_on_time_pct": rounded(self.contacted_on_time),
            "resolved_on_time_pct": rounded(self.resolved_on_time),
            "median_resolution_hours": rounded(self.median_hours),
            "reopen_rate_pct": rounded(self.reopen_rate),
            "transfer_rate_pct": rounded(self.transfer_rate),
            "escalated_outside": self.escalated,
        }


@dataclass
class Cause:
    """A category's complaints in the period against the period before (L11)."""

    code: str
    label: str
    received: int = 0
    previous: int = 0
    judged: int = 0  # responsibility decided
    ours: int = 0  # … as ours or shared
    escalated: int = 0

    @property
    def change(self) -> float | None:
        return 100 * (self.received - self.previous) / self.previous if self.previous else None

    @property
    def rising(self) -> bool:
        return self.received >= RISING_FROM and self.received >= RISING_BY * self.previous

    @property
    def ours_rate(self) -> float | None:
        return 100 * self.ours / self.judged if self.judged else None

    def as_dict(self) -> dict[str, Any]:
        change, ours = self.change, self.ours_rate
        return {
            "code": self.code,
            "name": self.label,
            "received": self.received,
            "previous_period": self.previous,
            "change_pct": None if change is None else round(change, 1),
            "rising": self.rising,
            "ours_pct": None if ours is None else round(ours, 1),
            "escalated_outside": self.escalated,
        }


@dataclass
class Performance:
    since: datetime
    until: datetime
    days: int
    total: Row
    departments: list[Row]
    handlers: list[Row]
    stores: list[Row]
    channels: list[Row]
    causes: list[Cause]
    rising_from: int = RISING_FROM
    rising_by: float = RISING_BY


@dataclass(frozen=True)
class _Complaint:
    pk: int
    department_id: int | None
    assignee_id: int | None
    store_id: int | None
    channel: str
    category: str
    state: str
    closure: str
    to_resolve: timedelta | None  # from received to resolved
    reopens: int
    transfers: int
    responsibility: str
    risk_level: str


_FIELDS = [
    "pk", "department_id", "assignee_id", "store_id", "channel", "category", "state", "closure",
    "to_resolve", "reopens", "transfers", "responsibility", "risk_level",
]  # fmt: skip


def performance(user: User, *, days: int = 30, now: datetime | None = None) -> Performance:
    """The KPIs of the complaints received in the last `days` days that `user` may see."""
    until = now or timezone.now()
    since = until - timedelta(days=days)
    visible = complaints_visible_to(user).exclude(closure=Closure.DUPLICATE)
    cohort = visible.filter(received_at__gte=since, received_at__lt=until)
    # The time to resolve is worked out by the database: converting two times per complaint
    # into Python cost more than the rest of the report.
    to_resolve = ExpressionWrapper(F("resolved_at") - F("received_at"), DurationField())
    found = cohort.annotate(to_resolve=to_resolve).values_list(*_FIELDS).order_by()
    complaints = [_Complaint(*values) for values in found]
    ids = cohort.values("pk")
    judged, running_late = _deadlines(
        Clock.objects.filter(complaint_id__in=ids, target__in=TIMED), until
    )
    escalated = _escalated_outside(ids)

    total = Row("", "")
    departments: dict[int | None, Row] = {}
    handlers: dict[int | None, Row] = {}
    stores: dict[int, Row] = {}
    channels: dict[str, Row] = {}
    for c in complaints:
        rows = [
            total,
            _row(departments, c.department_id),
            _row(handlers, c.assignee_id),
            _row(channels, c.channel),
        ]
        if c.store_id is not None:
            rows.append(_row(stores, c.store_id))
        for row in rows:
            _count(row, c, judged.get(c.pk, {}), c.pk in running_late, c.pk in escalated)
    _name(departments, Department.objects.in_bulk(_keys(departments)), _("Unassigned"))
    _name(handlers, User.objects.in_bulk(_keys(handlers)), _("Unassigned"))
    _name(stores, Store.objects.in_bulk(list(stores)), "")
    for code, row in channels.items():
        row.key, row.label = code, str(Channel(code).label) if code in Channel.values else code
    return Performance(
        since=since,
        until=until,
        days=days,
        total=total,
        departments=_ordered(departments.values()),
        handlers=_ordered(handlers.values()),
        stores=_ordered(stores.values()),
        channels=_ordered(channels.values()),
        causes=_causes(complaints, escalated, visible, since, until),
    )


MET, MISSED, RUNNING_LATE = 1, 2, 3  # a clock's verdict, worked out by the database


def _deadlines(clocks: Any, now: datetime) -> tuple[dict[int, dict[str, bool]], set[int]]:
    """complaint → target → met (True) or missed (False), targets not judged yet absent; and
    the complaints with a clock running past its deadline now.

    The comparisons run in SQL: converting four times per clock into Python cost 30 µs a clock.
    """
    running = Q(stopped_at__isnull=True, paused_at__isnull=True)
    moot = Q(target=Target.ACKNOWLEDGE, complaint__acknowledged_at__isnull=True) | Q(
        target=Target.FIRST_CONTACT, complaint__first_contact_at__isnull=True
    )
    verdict = Case(
        # Breached and then extended (or given a later policy) is missed, but not late now.
        When(running & Q(due_at__lt=now), then=RUNNING_LATE),
        When(Q(breached_at__isnull=False) | Q(stopped_at__gt=F("due_at")), then=MISSED),
        When(Q(stopped_at__isnull=False) & ~moot, then=MET),
        default=0,  # paused, not yet due, or made moot (closed as invalid before any contact)
        output_field=IntegerField(),
    )
    judged: dict[int, dict[str, bool]] = defaultdict(dict)
    running_late: set[int] = set()
    rows = clocks.annotate(verdict=verdict).exclude(verdict=0)
    for complaint_id, target, said in rows.values_list("complaint_id", "target", "verdict"):
        judged[complaint_id][target] = said == MET
        if said == RUNNING_LATE:
            running_late.add(complaint_id)
    return judged, running_late


def _escalated_outside(ids: Any) -> set[int]:
    """Complaints raised to the outside level by an `escalate` event: received below it."""
    found = set()
    events = Event.objects.filter(complaint_id__in=ids, kind="escalate").order_by()
    for complaint_id, data in events.values_list("complaint_id", "data"):
        data = data or {}
        if int(data.get("level") or 0) >= OUTSIDE > int(data.get("from_level") or 0):
            found.add(complaint_id)
    return found


def _count(
    row: Row, c: _Complaint, deadlines: dict[str, bool], late: bool, escalated: bool
) -> None:
    row.received += 1
    is_open = c.state in OPEN_STATES
    row.open += is_open
    row.overdue += is_open and late
    row.high_risk += is_open and c.risk_level == RiskLevel.HIGH
    row.invalid += c.closure == Closure.INVALID
    row.transferred += c.transfers > 0
    row.escalated += escalated
    row.reopened += c.reopens > 0
    row.resolved_once += c.to_resolve is not None or c.reopens > 0
    if c.to_resolve is not None:
        row.resolved += 1
        row.hours.append(c.to_resolve.total_seconds() / 3600)
    for target, met in deadlines.items():
        tally = row.deadlines[target]
        if met:
            tally.met += 1
        else:
            tally.missed += 1


def _row(rows: dict[Any, Row], key: Any) -> Row:
    row = rows.get(key)
    if row is None:
        row = rows[key] = Row("", "")
    return row


def _keys(rows: dict[int | None, Row]) -> list[int]:
    return [k for k in rows if k is not None]


def _name(rows: dict[Any, Row], found: dict[int, Any], nobody: str) -> None:
    for pk, row in rows.items():
        thing = found.get(pk) if pk is not None else None
        if thing is None:
            row.label = nobody
        elif isinstance(thing, User):
            row.key, row.label = thing.username, thing.label
        else:
            row.key, row.label = thing.code, thing.name


def _ordered(rows: Iterable[Row]) -> list[Row]:
    return sorted(rows, key=lambda r: (-r.received, r.label))


def _causes(
    complaints: list[_Complaint], escalated: set[int], visible: Any, since: datetime,
    until: datetime,
) -> list[Cause]:  # fmt: skip
    names = taxonomy()
    causes: dict[str, Cause] = {}

    def cause(code: str) -> Cause:
        if code not in causes:
            causes[code] = Cause(code, names.label(code) if code else _("Not classified"))
        return causes[code]

    for c in complaints:
        row = cause(c.category)
        row.received += 1
        row.escalated += c.pk in escalated
        if c.responsibility:
            row.judged += 1
            row.ours += c.responsibility in (Responsibility.OURS, Responsibility.SHARED)
    before = visible.filter(received_at__gte=since - (until - since), received_at__lt=since)
    for code, n in before.values_list("category").annotate(n=Count("pk")).order_by():
        cause(code).previous = n
    return sorted(causes.values(), key=lambda r: (-r.received, -r.previous, r.label))
