"""Escalation risk (DOMAIN E3): how likely the customer is to take a complaint outside.

E1 names the causes: slowness, dissatisfaction with the result (the largest share) and
attitude, with over 80 % of escalations complained about internally first. E3 lists what to
score: repeat complaints, earlier escalations, the customer's segment, the problem, severe
overdue, many internal transfers, a rejected remedy. Each is a number of points (POINTS); the
score is their sum, at most 100, and the level is high from 60 and medium from 30. A complaint
already at escalation level 3 (a regulator, the media or a court) scores 100.

The score is taken at intake, after every workflow action, when the customer writes again,
and by a job when a deadline passes (`rescore_overdue`), so it follows the case. Its reasons
are stored as codes and numbers and rendered when shown. A change of level is kept in the
event of what caused it (`risk`: from, to, score), or in an `escalation_risk` event of its own
when nothing else happened; a rise to *high* tells the handler and the department's managers.
The points are a documented prior; learning them from the organisation's own outcomes is the
next step.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from django.db import connection, transaction
from django.db.models import Count, F, Q
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import ngettext, pgettext

from kesu.accounts.models import Role, User
from kesu.complaints.models import (
    OPEN_STATE_LIST,
    OPEN_STATES,
    Closure,
    Complaint,
    Emotion,
    Event,
    Flag,
    RiskLevel,
    State,
)
from kesu.customers.models import Profile, Tier

HISTORY = timedelta(days=90)
MEDIUM_FROM, HIGH_FROM = 30, 60
OUTSIDE = 3  # escalation level: a regulator, the media or a court
THREATENS = 2  # escalation level: the customer threatens to go outside

POINTS = {
    "threat": 30,  # a regulator, media or legal signal in the customer's words
    "internal": 10,  # escalation level 1: already raised inside (management, quality line)
    "threatens": 25,  # escalation level 2, recorded by staff
    "safety": 15,
    "group": 10,
    "rejected": 25,  # the first remedy rejected; each further one:
    "rejected_again": 10,
    "reopened": 20,  # reopened after resolution: the result did not satisfy
    "reopened_again": 10,
    "overdue": 20,  # open past its resolution deadline
    "late_contact": 10,  # no first contact by its deadline
    "transfers": 10,  # two transfers; three or more:
    "many_transfers": 20,
    "repeat": 10,  # one earlier complaint in 90 days; two or more:
    "repeats": 20,
    "escalated_before": 25,  # the customer took an earlier complaint to level 2 or 3
    "publicity_power": 20,
    "professional": 15,
    "vip": 10,
    "angry": 10,
    "threatening": 20,
}


@dataclass(frozen=True)
class Facts:
    flags: frozenset[str]
    level: int
    emotion: str
    tier: str
    profile: str
    earlier: int  # the customer's other complaints received in the 90 days before this one
    escalated_before: int  # the customer's other complaints (not duplicates) raised to level 2+
    transfers: int = 0
    rejections: int = 0
    reopens: int = 0
    overdue: bool = False
    late_contact: bool = False


@dataclass(frozen=True)
class Risk:
    score: int
    level: str
    reasons: list[dict[str, Any]]


def level_for(score: int) -> str:
    if score >= HIGH_FROM:
        return RiskLevel.HIGH
    return RiskLevel.MEDIUM if score >= MEDIUM_FROM else RiskLevel.LOW


def assess(facts: Facts) -> Risk:
    """The score, level and reasons for these facts (pure: no database)."""
    if facts.level >= OUTSIDE:
        return Risk(100, RiskLevel.HIGH, [{"code": "outside", "points": 100}])
    reasons: list[dict[str, Any]] = []

    def add(code: str, points: int | None = None, **numbers: int) -> None:
        reasons.append({"code": code, "points": POINTS[code] if points is None else points,
                        **numbers})  # fmt: skip

    threats = sorted(facts.flags & {Flag.REGULATOR, Flag.MEDIA, Flag.LEGAL})
    if threats:
        reasons.append({"code": "threat", "points": POINTS["threat"], "flags": threats})
    if facts.level == THREATENS:
        add("threatens")
    elif facts.level >= 1:
        add("internal")
    if Flag.SAFETY in facts.flags:
        add("safety")
    if Flag.GROUP in facts.flags:
        add("group")
    if facts.rejections:
        extra = min(facts.rejections - 1, 2) * POINTS["rejected_again"]
        add("rejected", POINTS["rejected"] + extra, n=facts.rejections)
    if facts.reopens:
        extra = min(facts.reopens - 1, 2) * POINTS["reopened_again"]
        add("reopened", POINTS["reopened"] + extra, n=facts.reopens)
    if facts.overdue:
        add("overdue")
    if facts.late_contact:
        add("late_contact")
    if facts.transfers >= 3:
        add("many_transfers", n=facts.transfers)
    elif facts.transfers == 2:
        add("transfers", n=facts.transfers)
    if facts.earlier >= 2:
        add("repeats", n=facts.earlier)
    elif facts.earlier == 1:
        add("repeat", n=1)
    if facts.escalated_before:
        add("escalated_before", n=facts.escalated_before)
    if facts.profile in (Profile.PUBLICITY_POWER, Profile.PROFESSIONAL):
        add(facts.profile)
    if facts.tier == Tier.VIP:
        add("vip")
    if facts.emotion in (Emotion.ANGRY, Emotion.THREATENING):
        add(facts.emotion)
    score = min(100, sum(int(r["points"]) for r in reasons))
    return Risk(score, level_for(score), reasons)


# Raised to level 2 or 3, not as a merged duplicate (whose escalation is the same grievance's,
# already on the case it joined).
_ESCALATED = Q(escalation_level__gte=THREATENS) & ~Q(closure=Closure.DUPLICATE)


def history(customer_id: int, received_at: datetime, exclude: int | None) -> tuple[int, int]:
    """The customer's other complaints in the 90 days before `received_at` (merged or not:
    complaining again counts, as in triage), and those of theirs escalated: one query."""
    others = Complaint.objects.filter(customer_id=customer_id)
    if exclude is not None:
        others = others.exclude(pk=exclude)
    counts = others.aggregate(
        earlier=Count(
            "pk", filter=Q(received_at__gte=received_at - HISTORY, received_at__lt=received_at)
        ),
        escalated=Count("pk", filter=_ESCALATED),
    )
    return int(counts["earlier"] or 0), int(counts["escalated"] or 0)


def _facts(complaint: Complaint, earlier: int, escalated: int, **case: Any) -> Facts:
    """What every score reads: the complaint's reading and the customer; `case` the rest."""
    customer = complaint.customer
    return Facts(
        flags=frozenset(complaint.flags.split()),
        level=complaint.escalation_level,
        emotion=complaint.emotion,
        tier=customer.tier,
        profile=customer.profile,
        earlier=earlier,
        escalated_before=escalated,
        **case,
    )


def at_intake(complaint: Complaint, customer_id: int | None, earlier: int, now: datetime) -> None:
    """Score a complaint being received (its triage fields set; not saved yet). A customer
    found again costs one query (their escalations; intake knows the rest); a new one none."""
    escalated = 0
    if customer_id is not None:
        escalated = Complaint.objects.filter(_ESCALATED, customer_id=customer_id).count()
    apply(complaint, assess(_facts(complaint, earlier, escalated)), now)


def facts_of(complaint: Complaint, now: datetime) -> Facts:
    """What the score reads from a complaint as it stands (one query for the history)."""
    earlier, escalated = history(complaint.customer_id, complaint.received_at, complaint.pk)
    is_open = complaint.state in OPEN_STATES
    overdue = (
        is_open
        and complaint.state != State.AWAITING_CUSTOMER  # the clock is paused
        and complaint.resolve_due is not None
        and complaint.resolve_due < now
    )
    due = complaint.first_contact_due
    contacted = complaint.first_contact_at
    late_contact = due is not None and (
        (contacted is None and is_open and due < now) or (contacted is not None and contacted > due)
    )
    return _facts(
        complaint,
        earlier,
        escalated,
        transfers=complaint.transfers,
        rejections=complaint.rejections,
        reopens=complaint.reopens,
        overdue=overdue,
        late_contact=late_contact,
    )


FIELDS = ["risk_score", "risk_level", "risk_reasons", "risk_scored_at"]


def apply(complaint: Complaint, risk: Risk, now: datetime) -> None:
    """Set the complaint's risk fields (FIELDS, for the caller to save)."""
    complaint.risk_score = risk.score
    complaint.risk_level = risk.level
    complaint.risk_reasons = risk.reasons
    complaint.risk_scored_at = now


def rescore(complaint: Complaint, now: datetime) -> str:
    """Score a complaint again (it sets FIELDS); the level it had before, "" if it had none (a
    complaint from before the feature, or imported)."""
    before = complaint.risk_level if complaint.risk_scored_at is not None else ""
    apply(complaint, assess(facts_of(complaint, now)), now)
    return before


def change_of(complaint: Complaint, before: str) -> dict[str, Any] | None:
    """After a rescore: the change of level, for an event's data, or None. A first score is
    no change: nothing rose, and an upgrade must page nobody."""
    if not before or complaint.risk_level == before:
        return None
    return {"from": before, "to": complaint.risk_level, "score": complaint.risk_score}


def tell(complaint: Complaint, change: dict[str, Any] | None, now: datetime) -> None:
    """A rise to high is told to the handler and the department's managers (in-app, and
    by email or SMS as each chose), in the caller's transaction."""
    if not change or change["to"] != RiskLevel.HIGH or not complaint.is_open:
        return
    from kesu.notify.services import notify_staff

    managers = User.objects.none()
    if complaint.department_id is not None:
        managers = User.objects.filter(
            is_active=True, role=Role.MANAGER, departments=complaint.department_id
        )
    people = [*([complaint.assignee] if complaint.assignee else []), *managers]
    if people:
        notify_staff(complaint=complaint, kind="escalation_risk", users=people, data=change,
                     now=now)  # fmt: skip


def tell_placed(complaint: Complaint, now: datetime) -> None:
    """A high-risk case given to a department or person: they hear of its risk (a case high
    from intake has had nobody to tell)."""
    if complaint.risk_level == RiskLevel.HIGH and complaint.risk_scored_at is not None:
        tell(complaint, {"from": RiskLevel.HIGH, "to": RiskLevel.HIGH,
                         "score": complaint.risk_score}, now)  # fmt: skip


def record_change(complaint: Complaint, before: str, *, trigger: str, now: datetime) -> None:
    """A change of level that no other event carries: its own `escalation_risk` event."""
    change = change_of(complaint, before)
    if change is None:
        return
    Event.objects.create(complaint=complaint, kind="escalation_risk", actor=None, at=now,
                         data={**change, "trigger": trigger}, customer_visible=False)  # fmt: skip
    tell(complaint, change, now)


def rescore_others(complaint: Complaint, *, trigger: str, now: datetime) -> None:
    """The customer's other open complaints read the same profile and history: after a profile
    is set, or a complaint raised to level 2 or 3, they are scored again (in the caller's
    transaction, locked in id order)."""
    others = (
        Complaint.objects.select_for_update(of=("self",))
        .select_related("customer")
        .filter(customer_id=complaint.customer_id, state__in_codes=OPEN_STATE_LIST)
        .exclude(pk=complaint.pk)
        .order_by("pk")
    )
    for other in others:
        before = rescore(other, now)
        other.save(update_fields=[*FIELDS, "updated_at"])
        record_change(other, before, trigger=trigger, now=now)


BATCH = 500  # per run (every minute): a few seconds at most


def rescore_overdue(*, now: datetime | None = None) -> int:
    """Score again the open complaints that a deadline passed since their last score, and those
    never scored (complaints from before this feature, imports): the number scored."""
    now = now or timezone.now()
    waiting = Complaint.objects.filter(state__in_codes=OPEN_STATE_LIST).filter(
        Q(risk_scored_at__isnull=True)
        | Q(resolve_due__lt=now, risk_scored_at__lt=F("resolve_due"))
        | Q(first_contact_at__isnull=True, first_contact_due__lt=now,
            risk_scored_at__lt=F("first_contact_due"))
    )  # fmt: skip
    skip = connection.features.has_select_for_update_skip_locked
    done = 0
    for pk in list(waiting.order_by().values_list("pk", flat=True)[:BATCH]):
        with transaction.atomic():
            # Another runner, or a person acting on the case, has it: it is theirs to score.
            complaint = (
                waiting.select_for_update(of=("self",), skip_locked=skip)
                .select_related("customer")
                .filter(pk=pk)
                .first()
            )
            if complaint is None:
                continue
            before = rescore(complaint, now)
            complaint.save(update_fields=[*FIELDS, "updated_at"])
            record_change(complaint, before, trigger="deadline", now=now)
        done += 1
    return done


# --- Explanations ---------------------------------------------------------------------------


def reason_text(reason: dict[str, Any]) -> str:
    """One reason in the active language, with its points."""
    from kesu.complaints.events import field_value

    n = int(reason.get("n") or 0)
    code = reason.get("code", "")
    texts = {
        "outside": _("already taken to a regulator, the media or a court"),
        "threat": _("mentions %(flags)s")
        % {"flags": field_value("flags", " ".join(reason.get("flags", [])))},
        "internal": _("already raised inside"),
        "threatens": _("threatens to go outside"),
        "safety": _("safety or health"),
        "group": _("group complaint"),
        "rejected": ngettext("remedy rejected", "%(n)s remedies rejected", n) % {"n": n},
        "reopened": ngettext("reopened", "reopened %(n)s times", n) % {"n": n},
        "overdue": _("past its resolution deadline"),
        "late_contact": _("customer not contacted in time"),
        "transfers": _("transferred %(n)s times") % {"n": n},
        "many_transfers": _("transferred %(n)s times") % {"n": n},
        "repeat": _("another complaint in 90 days"),
        "repeats": _("%(n)s other complaints in 90 days") % {"n": n},
        "escalated_before": _("took an earlier complaint outside or threatened to"),
        "publicity_power": _("has publicity power"),
        "professional": _("professional complainant"),
        "vip": _("VIP customer"),
        "angry": _("angry"),
        "threatening": _("threatening"),
    }
    return _("%(reason)s (+%(points)s)") % {
        "reason": texts.get(code, code),
        "points": reason.get("points", 0),
    }


def headline(complaint: Complaint) -> str:
    """'High (75): remedy rejected (+25); …' in the active language."""
    level = str(RiskLevel(complaint.risk_level).label)
    between = pgettext("between reasons", "; ")
    reasons = between.join(reason_text(r) for r in complaint.risk_reasons or [])
    if not reasons:
        return _("%(level)s (%(score)s)") % {"level": level, "score": complaint.risk_score}
    return _("%(level)s (%(score)s): %(reasons)s") % {
        "level": level,
        "score": complaint.risk_score,
        "reasons": reasons,
    }
