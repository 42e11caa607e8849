"""Follow-up's periodic work: surveys nobody answered become callbacks; callbacks nobody made
close the case as timed out. Idempotent, and safe to run in several processes (SKIP LOCKED)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from django.db import connection, transaction
from django.utils import timezone

from kesu.complaints.models import Event, State
from kesu.complaints.workflow import perform_unattended
from kesu.surveys.models import CallbackTask, Survey, SurveyState
from kesu.surveys.services import hand_to_callback


@dataclass
class FollowUpResult:
    callbacks: int = 0
    timed_out: int = 0


def follow_up(*, now: datetime | None = None, limit: int = 200) -> FollowUpResult:
    """Hand unanswered surveys to agents; close cases whose callback was not made in time."""
    now = now or timezone.now()
    result = FollowUpResult()
    skip = connection.features.has_select_for_update_skip_locked
    with transaction.atomic():
        waiting = (
            Survey.objects.filter(state=SurveyState.WAITING, due_at__lte=now)
            .select_related("complaint")
            .order_by("due_at")
        )
        waiting = waiting.select_for_update(skip_locked=True, of=("self",)) if skip else waiting
        for survey in waiting[:limit]:
            hand_to_callback(survey, now=now)
            result.callbacks += 1
    overdue = CallbackTask.objects.filter(done_at__isnull=True, due_at__lte=now)
    for task_id in list(overdue.values_list("pk", flat=True)[:limit]):
        with transaction.atomic():
            task = (
                CallbackTask.objects.select_for_update().select_related("complaint").get(pk=task_id)
            )
            if task.done_at is not None:
                continue
            task.done_at, task.note = now, "timed out"
            task.save(update_fields=["done_at", "note"])
            Event.objects.create(complaint=task.complaint, kind="callback_done", at=now,
                                 data={"outcome": "", "timed_out": True})  # fmt: skip
            if task.complaint.state == State.RESOLVED:
                # "A case closes after the follow-up or its timeout" (the issue, L9).
                perform_unattended(task.complaint, "close")
            result.timed_out += 1
    return result
