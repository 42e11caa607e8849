"""Reads for follow-up: an agent's callbacks, and the satisfaction rate (DOMAIN L8, §6)."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from django.db.models import Q, QuerySet
from django.utils import timezone

from kesu.accounts.models import Role, User
from kesu.complaints.models import Complaint, Event
from kesu.complaints.selectors import complaints_visible_to
from kesu.surveys.models import CallbackOutcome, CallbackTask
from kesu.surveys.services import UNSATISFIED_AT_MOST, follow_up_policy

REPORT_ROLES = frozenset({Role.MANAGER, Role.EXPERT, Role.ADMIN, Role.AUDITOR})


def open_callbacks(user: User) -> QuerySet[CallbackTask]:
    """Callbacks not made yet: the user's own, and those on complaints the user sees."""
    visible = complaints_visible_to(user).values("pk")
    tasks = (
        CallbackTask.objects.filter(done_at__isnull=True)
        .filter(Q(assignee=user) | Q(complaint_id__in=visible))
        .select_related("complaint", "complaint__customer", "assignee")
        .order_by("due_at", "pk")
    )
    return tasks


@dataclass
class Row:
    """One department's or handler's satisfaction over the period."""

    label: str
    resolved: int = 0
    responded: int = 0
    satisfied: int = 0

    @property
    def response_rate(self) -> float | None:
        return 100 * self.responded / self.resolved if self.resolved else None

    @property
    def satisfaction_rate(self) -> float | None:
        return 100 * self.satisfied / self.responded if self.responded else None


@dataclass
class Report:
    since: datetime
    goal: int
    total: Row
    departments: list[Row] = field(default_factory=list)
    handlers: list[Row] = field(default_factory=list)


def _verdict(event: Event) -> bool | None:
    """Whether a response event says satisfied; None if it is no response at all."""
    d = event.data or {}
    if event.kind == "survey_answered":
        return bool(d.get("resolved")) and int(d.get("score") or 0) > UNSATISFIED_AT_MOST
    if event.kind == "callback_done":
        if d.get("outcome") == CallbackOutcome.REACHED_SATISFIED:
            return True
        if d.get("outcome") == CallbackOutcome.REACHED_UNSATISFIED:
            return False
        return None
    if event.kind == "close" and d.get("satisfaction"):
        return int(d["satisfaction"]) > UNSATISFIED_AT_MOST
    return None


def satisfaction(user: User, *, days: int = 30, now: datetime | None = None) -> Report:
    """Satisfied ÷ responded, and responded ÷ resolved, over complaints resolved in the period.

    A complaint counts once, by its latest answer: the survey, a callback that reached the
    customer, or a close where staff recorded the customer's score. It is counted under its
    department and its handler.
    """
    since = (now or timezone.now()) - timedelta(days=days)
    visible = complaints_visible_to(user)
    resolved_ids = set(
        Event.objects.filter(
            kind="resolve", at__gte=since, complaint_id__in=visible.values("pk")
        ).values_list("complaint_id", flat=True)
    )
    verdicts: dict[int, bool] = {}
    answers = Event.objects.filter(
        complaint_id__in=resolved_ids, kind__in=["survey_answered", "callback_done", "close"]
    ).order_by("at", "pk")
    for event in answers:
        said = _verdict(event)
        if said is not None:
            verdicts[event.complaint_id] = said
    complaints = Complaint.objects.filter(pk__in=resolved_ids).select_related(
        "department", "assignee"
    )
    total = Row("")
    by_department: dict[str, Row] = defaultdict(lambda: Row(""))
    by_handler: dict[str, Row] = defaultdict(lambda: Row(""))
    for complaint in complaints:
        department = complaint.department.name if complaint.department else "—"
        handler = complaint.assignee.label if complaint.assignee else "—"
        for row, label in ((total, ""), (by_department[department], department),
                           (by_handler[handler], handler)):  # fmt: skip
            row.label = label
            row.resolved += 1
            if complaint.pk in verdicts:
                row.responded += 1
                row.satisfied += verdicts[complaint.pk]
    order = lambda row: (-row.resolved, row.label)  # noqa: E731 - a sort key
    return Report(
        since=since,
        goal=follow_up_policy().goal_percent,
        total=total,
        departments=sorted(by_department.values(), key=order),
        handlers=sorted(by_handler.values(), key=order),
    )
