"""Who each level of the escalation chain reaches, and to whom it may give the case.

Level 1 is the handler; level 2 the department's managers; level 3 the expert (escalation)
group — the `escalation` notification group, or every expert if it has no members; level 4
executives — the `executives` group, or the administrators if it has none (issue: SLA).
"""

from __future__ import annotations

from dataclasses import dataclass, field

from django.db.models import Count, Q

from kesu.accounts.models import Role, User
from kesu.complaints.models import OPEN_STATE_LIST, Complaint
from kesu.notify.models import NotifyGroup, Robot
from kesu.sla.models import Level

GROUPS = {Level.EXPERTS: "escalation", Level.EXECUTIVES: "executives"}
FALLBACK_ROLES = {Level.EXPERTS: Role.EXPERT, Level.EXECUTIVES: Role.ADMIN}


@dataclass(frozen=True)
class Recipients:
    users: list[User] = field(default_factory=list)
    robots: list[Robot] = field(default_factory=list)
    groups: list[str] = field(default_factory=list)


def _department_people(complaint: Complaint, roles: tuple[str, ...]) -> list[User]:
    people = User.objects.filter(is_active=True, role__in=roles)
    if complaint.department_id is not None:
        people = people.filter(departments=complaint.department_id)
    return list(people.order_by("username"))


def recipients(complaint: Complaint, level: int) -> Recipients:
    if level == Level.HANDLER:
        if complaint.assignee is not None and complaint.assignee.is_active:
            return Recipients([complaint.assignee])
        if complaint.department_id is None:
            return Recipients()
        return Recipients(_department_people(complaint, (Role.HANDLER, Role.MANAGER)))
    if level == Level.MANAGER:
        return Recipients(_department_people(complaint, (Role.MANAGER,)))
    code = GROUPS[Level(level)]
    group = NotifyGroup.objects.filter(code=code).first()
    users = list(group.members.filter(is_active=True).order_by("username")) if group else []
    if not users:
        users = list(User.objects.filter(is_active=True, role=FALLBACK_ROLES[Level(level)])
                     .order_by("username"))  # fmt: skip
    robots = list(group.robots.filter(is_active=True)) if group else []
    return Recipients(users, robots, [code] if group else [])


def recipients_cached(
    complaint: Complaint, level: int, memo: dict[tuple[int, int | None], Recipients]
) -> Recipients:
    """recipients(), remembered for one sweep: its levels 2–4 depend only on the department."""
    if level == Level.HANDLER and complaint.assignee_id is not None:
        return recipients(complaint, level)
    key = (level, complaint.department_id)
    if key not in memo:
        memo[key] = recipients(complaint, level)
    return memo[key]


def new_holder(complaint: Complaint, level: int, reached: Recipients) -> User | None:
    """Whom a reassigning level gives the case to: a manager (2), the least-busy expert (3)."""
    if level == Level.MANAGER:
        return next((u for u in reached.users if u != complaint.assignee), None)
    if level == Level.EXPERTS:
        experts = [u for u in reached.users if u.role in (Role.EXPERT, Role.MANAGER, Role.ADMIN)]
        if not experts:
            return None
        load = dict(
            User.objects.filter(pk__in=[u.pk for u in experts])
            .annotate(n=Count("assigned_complaints",
                              filter=Q(assigned_complaints__state__in=OPEN_STATE_LIST)))
            .values_list("pk", "n")
        )  # fmt: skip
        return min(experts, key=lambda u: (load.get(u.pk, 0), u.username))
    return None
