"""Follow-up after resolution (DOMAIN L8): the survey, its answer, and the callback (回访).

Resolving a complaint opens a survey whose link goes out with the "resolved" message. The
customer says whether it is resolved, how satisfied they are (1–5) and why. "Not resolved" or
a score of 2 or less reopens the case at once — the customer asked for a new analysis — and
tells its handler and the department's managers; otherwise the case closes with the score.
A survey not answered in time becomes a callback task for an agent, whose outcome closes or
reopens the case the same way; a callback not made in time closes the case as timed out.
"""

from __future__ import annotations

import secrets
from datetime import datetime, timedelta
from typing import Any

from django.conf import settings
from django.db import transaction
from django.db.models import Count, Q
from django.utils import timezone
from django.utils.translation import gettext as _

from kesu.accounts.models import Role, User
from kesu.complaints.models import Complaint, Event, State
from kesu.complaints.selectors import hash_token
from kesu.complaints.workflow import perform_unattended
from kesu.errors import FieldError, Forbidden, InvalidInput, NotAllowed
from kesu.notify.services import notify_staff
from kesu.surveys.models import (
    CallbackOutcome,
    CallbackTask,
    FollowUpPolicy,
    Survey,
    SurveyState,
)

MAX_COMMENT = 2000
UNSATISFIED_AT_MOST = 2  # a score of 1 or 2 reopens the case
CALLBACK_ROLES = frozenset({Role.AGENT, Role.HANDLER, Role.MANAGER, Role.EXPERT, Role.ADMIN})


def follow_up_policy() -> FollowUpPolicy:
    return FollowUpPolicy.objects.order_by("pk").first() or FollowUpPolicy()


def survey_url(complaint: Complaint, token: str) -> str:
    return f"{settings.KESU_BASE_URL}/survey/{complaint.reference}/?t={token}"


def start_survey(complaint: Complaint, *, now: datetime) -> str:
    """Open the survey of a complaint just resolved; return its link (caller's transaction)."""
    token = secrets.token_urlsafe(16)
    Survey.objects.filter(complaint=complaint, state=SurveyState.WAITING).update(
        state=SurveyState.WITHDRAWN
    )
    days = follow_up_policy().answer_within_days
    Survey.objects.create(complaint=complaint, token_hash=hash_token(token), sent_at=now,
                          due_at=now + timedelta(days=days))  # fmt: skip
    return survey_url(complaint, token)


def survey_for_customer(reference: str, token: str) -> Survey:
    """The survey this link opens; Survey.DoesNotExist for a wrong reference or code."""
    return Survey.objects.select_related("complaint").get(
        complaint__reference=reference.strip().upper(), token_hash=hash_token(token.strip())
    )


def _reason(complaint: Complaint, resolved: bool, score: int | None, comment: str) -> str:
    english = complaint.language.startswith("en")
    said = [
        ("Follow-up: the customer is not satisfied" if english else "回访：客户不满意"),
        (("not resolved" if english else "问题未解决") if not resolved else ""),
        (f"{score}/5" if score else ""),
        comment.strip(),
    ]
    return "；".join(part for part in said if part)[:2000]


def _unreachable(complaint: Complaint) -> str:
    if complaint.language.startswith("en"):
        return "Follow-up call: the customer could not be reached."
    return "回访：客户未能联系上。"


def _tell_the_handler(complaint: Complaint, data: dict[str, Any], now: datetime) -> None:
    managers = User.objects.filter(is_active=True, role=Role.MANAGER)
    if complaint.department_id is not None:
        managers = managers.filter(departments=complaint.department_id)
    people = [*([complaint.assignee] if complaint.assignee else []), *managers]
    notify_staff(complaint=complaint, kind="survey_unsatisfied", users=people, data=data, now=now)


def answer_survey(
    survey: Survey, *, resolved: Any, score: Any, comment: Any, now: datetime | None = None
) -> Survey:
    """Record the customer's answer; reopen or close the case by it (InvalidInput names a field)."""
    errors: list[FieldError] = []
    if not isinstance(resolved, bool):
        errors.append(FieldError("resolved", _("Say yes or no.")))
    if isinstance(score, bool) or not isinstance(score, int) or not 1 <= score <= 5:
        errors.append(FieldError("score", _("Choose 1 to 5.")))
    comment = comment.strip() if isinstance(comment, str) else ""
    if len(comment) > MAX_COMMENT:
        errors.append(
            FieldError("comment", _("At most %(max)s characters.") % {"max": MAX_COMMENT})
        )
    if errors:
        raise InvalidInput(errors)
    now = now or timezone.now()
    with transaction.atomic():
        locked = Survey.objects.select_for_update().select_related("complaint").get(pk=survey.pk)
        if locked.state != SurveyState.WAITING:
            raise NotAllowed(_("This survey is closed. Thank you for your time."))
        locked.state, locked.answered_at = SurveyState.ANSWERED, now
        locked.resolved, locked.score, locked.comment = resolved, score, comment
        locked.save(update_fields=["state", "answered_at", "resolved", "score", "comment"])
        complaint = locked.complaint
        answer = {"resolved": resolved, "score": score, "comment": comment}
        Event.objects.create(
            complaint=complaint, kind="survey_answered", at=now, customer_visible=True, data=answer
        )
        satisfied = resolved and score > UNSATISFIED_AT_MOST
        reason = _reason(complaint, resolved, score, comment)
        _settle(complaint, satisfied=satisfied, score=score, reason=reason if not satisfied else "",
                now=now)  # fmt: skip
    return locked


def _settle(complaint: Complaint, *, satisfied: bool, score: int | None, reason: str,
            now: datetime) -> None:  # fmt: skip
    """Close a satisfied customer's case; reopen an unsatisfied one's and tell its people (L8).

    Unattended: the customer's answer, or the callback's outcome, decides — the agent who
    called need not be able to handle the case (the callback_done event names them).
    """
    complaint.refresh_from_db(fields=["state"])
    if satisfied:
        if complaint.state == State.RESOLVED:
            data: dict[str, Any] = {"note": reason} if reason else {}
            if score is not None:
                data["satisfaction"] = score
            perform_unattended(complaint, "close", **data)
        return
    if complaint.state in (State.RESOLVED, State.CLOSED):
        perform_unattended(complaint, "reopen", reason=reason)
    _tell_the_handler(complaint, {"score": score, "reason": reason}, now)


# --- Callbacks ---------------------------------------------------------------------------------


def _least_busy_agent() -> User | None:
    agents = (
        User.objects.filter(is_active=True, role=Role.AGENT)
        .annotate(open=Count("callbacks", filter=Q(callbacks__done_at__isnull=True)))
        .order_by("open", "username")
    )
    return agents.first()


def hand_to_callback(survey: Survey, *, now: datetime) -> CallbackTask:
    """A survey nobody answered becomes a callback for the least busy agent (caller's lock)."""
    survey.state = SurveyState.CALLBACK
    survey.save(update_fields=["state"])
    agent = _least_busy_agent()
    task = CallbackTask.objects.create(
        complaint=survey.complaint, survey=survey, assignee=agent, created_at=now,
        due_at=now + timedelta(days=follow_up_policy().callback_within_days),
    )  # fmt: skip
    Event.objects.create(complaint=survey.complaint, kind="callback_created", at=now,
                         data={"agent": agent.username if agent else None,
                               "due": task.due_at.isoformat()})  # fmt: skip
    if agent is not None:
        notify_staff(complaint=survey.complaint, kind="callback", users=[agent],
                     data={"due": task.due_at.isoformat()}, now=now)  # fmt: skip
    return task


def record_callback(
    task: CallbackTask, *, actor: User, outcome: Any, score: Any = None, note: Any = ""
) -> CallbackTask:
    """What the callback found; the case closes, or reopens when the customer is unhappy."""
    if actor.role not in CALLBACK_ROLES:
        raise Forbidden(_("Your role may not record callbacks."))
    errors: list[FieldError] = []
    if outcome not in CallbackOutcome.values:
        errors.append(FieldError("outcome", _("Use one of: %(known)s.")
                                 % {"known": ", ".join(CallbackOutcome.values)}))  # fmt: skip
    reached = outcome in (CallbackOutcome.REACHED_SATISFIED, CallbackOutcome.REACHED_UNSATISFIED)
    if score in ("", None):
        score = None
    else:
        try:
            score = int(score)
        except (TypeError, ValueError):
            score = 0
        if not 1 <= score <= 5:
            errors.append(FieldError("score", _("Choose 1 to 5.")))
    if reached and score is None:
        errors.append(FieldError("score", _("Ask the customer for a score of 1 to 5.")))
    note = note.strip() if isinstance(note, str) else ""
    if outcome == CallbackOutcome.REACHED_UNSATISFIED and not note:
        errors.append(FieldError("note", _("Write down what the customer is unhappy about.")))
    if errors:
        raise InvalidInput(errors)
    now = timezone.now()
    with transaction.atomic():
        locked = (
            CallbackTask.objects.select_for_update().select_related("complaint").get(pk=task.pk)
        )
        if locked.done_at is not None:
            raise NotAllowed(_("This callback has been recorded already."))
        locked.done_at, locked.outcome, locked.score, locked.note = now, outcome, score, note
        locked.save(update_fields=["done_at", "outcome", "score", "note"])
        complaint = locked.complaint
        Event.objects.create(complaint=complaint, kind="callback_done", at=now, actor=actor,
                             data={"outcome": outcome, "score": score, "note": note})  # fmt: skip
        if outcome == CallbackOutcome.REACHED_UNSATISFIED:
            said = _reason(complaint, True, score, note)
            _settle(complaint, satisfied=False, score=score, reason=said, now=now)
        else:
            said = note or (_unreachable(complaint) if not reached else "")
            _settle(complaint, satisfied=True, score=score, reason=said, now=now)
    return locked
