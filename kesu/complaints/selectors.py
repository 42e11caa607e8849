"""Permission-checked reads of complaints, shared by pages and the API (STYLE 3).

Who sees what:
- administrators and auditors: every complaint (auditors only read);
- every operating role: complaints not yet placed in a department (somebody must take them:
  DOMAIN L1, none may push one away), complaints they logged and complaints they hold;
- handlers and managers: also their departments' complaints;
- experts (the escalation group): also every escalated complaint;
- customers: only their own complaint, by reference and tracking token.
"""

from __future__ import annotations

import hashlib
import hmac
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from django.db.models import Q, QuerySet
from django.utils import timezone

from kesu.accounts.models import Role, User
from kesu.complaints.forms import REFERENCE_RE, SORTS, day_bounds
from kesu.complaints.models import OPEN_STATE_LIST, Complaint, Event
from kesu.search.services import matching_ids

SEES_ALL = frozenset({Role.ADMIN, Role.AUDITOR})
SEES_DEPARTMENTS = frozenset({Role.HANDLER, Role.MANAGER, Role.EXPERT})


def _department_ids(user: User) -> list[int]:
    cached: list[int] | None = getattr(user, "_kesu_department_ids", None)
    if cached is None:
        cached = list(user.departments.values_list("id", flat=True))
        user._kesu_department_ids = cached  # type: ignore[attr-defined]
    return cached


def visibility(user: User) -> Q | None:
    """The filter of complaints the user may see; None means every complaint."""
    if not user.is_authenticated or not user.is_active:
        return Q(pk__in=[])
    if user.role in SEES_ALL:
        return None
    q = Q(department__isnull=True) | Q(created_by=user) | Q(assignee=user)
    if user.role in SEES_DEPARTMENTS:
        q |= Q(department_id__in=_department_ids(user))
    if user.role == Role.EXPERT:
        q |= Q(escalation_level__gte=1)
    return q


def complaints_visible_to(user: User) -> QuerySet[Complaint]:
    rule = visibility(user)
    qs = Complaint.objects.all()
    return qs if rule is None else qs.filter(rule)


def can_view(user: User, complaint: Complaint) -> bool:
    if not user.is_authenticated or not user.is_active:
        return False
    if user.role in SEES_ALL:
        return True
    if complaint.department_id is None:
        return True
    if user.pk in (complaint.created_by_id, complaint.assignee_id):
        return True
    if user.role in SEES_DEPARTMENTS and complaint.department_id in _department_ids(user):
        return True
    return user.role == Role.EXPERT and complaint.escalation_level >= 1


def get_complaint_for_user(user: User, reference: str, *, for_update: bool = False) -> Complaint:
    """The complaint with this reference if the user may see it; else Complaint.DoesNotExist."""
    # Not merged_into: it is rarely set, and a second complaint row doubles the select list
    # that every request compiles.
    qs = Complaint.objects.select_related(
        "customer",
        "department",
        "assignee",
        "store",
        "created_by",
        "remedy_proposed_by",
        "remedy_approved_by",
        "policy",
    )
    if for_update:
        qs = qs.select_for_update(of=("self",))
    complaint = qs.get(reference=reference.strip().upper())
    if not can_view(user, complaint):
        raise Complaint.DoesNotExist
    return complaint


def hash_token(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def get_complaint_for_customer(reference: str, token: str) -> Complaint:
    """The complaint if the token is its tracking token; else Complaint.DoesNotExist.

    A wrong token and an unknown reference are the same answer, so that neither can be probed.
    """
    if not token:
        raise Complaint.DoesNotExist
    # get(), not first(): a unique lookup needs no ORDER BY, and compiling one against a wide
    # select list is most of this request's cost.
    complaint = Complaint.objects.select_related("customer").get(
        reference=reference.strip().upper()
    )
    if not hmac.compare_digest(complaint.tracking_token_hash, hash_token(token.strip())):
        raise Complaint.DoesNotExist
    return complaint


def customer_timeline(complaint: Complaint) -> QuerySet[Event]:
    return complaint.events.filter(customer_visible=True).order_by("at", "id")


def staff_timeline(complaint: Complaint) -> QuerySet[Event]:
    return complaint.events.select_related("actor").order_by("at", "id")


@dataclass(frozen=True)
class QueuePage:
    items: list[Complaint]
    total: int
    page: int
    page_size: int

    @property
    def pages(self) -> int:
        return max(1, -(-self.total // self.page_size))


def _queue(user: User, queue: str) -> QuerySet[Complaint]:
    """The queue's complaints among those the user may see.

    "Mine" (what the user holds) and, for the roles that see their departments, "my
    departments" are inside the visibility rule by its own terms, so the rule's OR is left out
    of those queries: it would only make the database count more rows.
    """
    if queue == "mine":
        return Complaint.objects.filter(assignee=user)
    if queue == "department":
        mine = Q(department_id__in=_department_ids(user))
        if user.role in SEES_DEPARTMENTS or user.role in SEES_ALL:
            return Complaint.objects.filter(mine)
        return complaints_visible_to(user).filter(mine)
    qs = complaints_visible_to(user)
    if queue == "unassigned":
        qs = qs.filter(assignee__isnull=True)
    if queue == "review":
        # Triage was unsure of the category: a person decides (served by complaint_needs_review).
        qs = qs.filter(needs_review=True, state__in_codes=OPEN_STATE_LIST)
    return qs


def filter_queue(user: User, filters: dict[str, Any]) -> QuerySet[Complaint]:
    """Complaints the user may see, narrowed by cleaned QueueFilterForm data."""
    if not user.is_authenticated or not user.is_active:
        return Complaint.objects.none()
    qs = _queue(user, filters.get("queue") or "all")
    state = filters.get("state")
    if state == "open":
        qs = qs.filter(state__in_codes=OPEN_STATE_LIST)
    elif state:
        qs = qs.filter(state=state)
    for name in ("grade", "priority", "channel"):
        if filters.get(name):
            qs = qs.filter(**{name: filters[name]})
    if filters.get("risk"):
        qs = qs.filter(risk_level=filters["risk"], risk_scored_at__isnull=False)
    if filters.get("flag"):
        # Flags are space-separated codes, none a part of another.
        qs = qs.filter(flags__contains=filters["flag"])
    if filters.get("department") is not None:
        qs = qs.filter(department=filters["department"])
    if filters.get("date_from"):
        qs = qs.filter(received_at__gte=day_bounds(filters["date_from"])[0])
    if filters.get("date_to"):
        qs = qs.filter(received_at__lte=day_bounds(filters["date_to"])[1])
    if filters.get("overdue"):
        qs = qs.filter(state__in_codes=OPEN_STATE_LIST, resolve_due__lt=timezone.now())
    keyword = (filters.get("q") or "").strip()
    if keyword:
        if REFERENCE_RE.match(keyword.upper()):
            qs = qs.filter(reference=keyword.upper())
        else:
            qs = qs.filter(id__in=matching_ids(keyword))
    return qs.order_by(*SORTS[filters.get("sort") or "newest"])


def queue_page(user: User, filters: dict[str, Any]) -> QueuePage:
    """One page of a queue with its total, for the queue page and `GET /api/complaints`."""
    qs = filter_queue(user, filters)
    page_size = filters.get("page_size") or 25
    page = filters.get("page") or 1
    total = qs.count()
    start = (page - 1) * page_size
    # Two steps: the page's ids first, from the indexes alone, then those rows in full. Asking
    # for whole rows at once lets SQLite fetch and sort every matching row before the limit.
    ids = list(qs.values_list("id", flat=True)[start : start + page_size])
    rows = Complaint.objects.select_related("customer", "department", "assignee", "store")
    found = rows.in_bulk(ids)
    items = [found[pk] for pk in ids if pk in found]
    return QueuePage(items=items, total=total, page=page, page_size=page_size)


def other_complaints_of_customer(
    user: User, complaint: Complaint, limit: int = 20
) -> list[Complaint]:
    return list(
        complaints_visible_to(user)
        .filter(customer_id=complaint.customer_id)
        .exclude(pk=complaint.pk)
        .order_by("-received_at")[:limit]
    )


def is_overdue(complaint: Complaint, now: datetime | None = None) -> bool:
    return complaint.is_open and complaint.resolve_due < (now or timezone.now())
