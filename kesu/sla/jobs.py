"""The sweep: record warnings and breaches once, climb the escalation chain, time out alerts.

`sweep()` is a plain, idempotent function: the embedded loop of `make run` calls it, and so
does Celery beat at scale. It claims clocks whose `next_check_at` has passed (the partial
index `clock_sweep` holds only those that can come due), with their complaints, skipping rows
another sweep or a workflow action holds (PostgreSQL `SKIP LOCKED`), so several sweeps can
run at once and none records a warning twice. Each clock's `warned_at` / `breached_at` /
`level` say what was recorded; a sweep that runs again finds nothing left to do.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from django.db import connection, transaction
from django.utils import timezone

from kesu.complaints.models import Complaint, Event
from kesu.notify.models import Notification, OutboxMessage
from kesu.notify.services import staff_messages
from kesu.scheduler import wake_after_commit
from kesu.sla import chain, selectors
from kesu.sla.models import Clock, Level, Target
from kesu.sla.services import next_check, policy_of, schedule_after

CHUNK = 250


@dataclass
class SweepResult:
    clocks: int = 0
    warnings: int = 0
    breaches: int = 0
    escalations: int = 0
    alerts: int = 0


@dataclass
class _Writes:
    events: list[Event] = field(default_factory=list)
    notes: list[Notification] = field(default_factory=list)
    messages: list[OutboxMessage] = field(default_factory=list)
    reassign: dict[int, int] = field(default_factory=dict)  # complaint id → user id
    alert_level: dict[int, int] = field(default_factory=dict)  # complaint id → level
    memo: dict[tuple[int, int | None], chain.Recipients] = field(default_factory=dict)


def sweep(*, now: datetime | None = None, limit: int = 1000) -> SweepResult:
    """Process up to `limit` clocks that have come due; safe to run in several processes."""
    now = now or timezone.now()
    result = SweepResult()
    while result.clocks < limit:
        taken = _sweep_chunk(now, min(CHUNK, limit - result.clocks), result)
        if taken == 0:
            break
    return result


def _claim(now: datetime, size: int) -> list[Clock]:
    due = (
        Clock.objects.filter(next_check_at__lte=now)
        .select_related("complaint", "complaint__assignee", "complaint__customer")
        .order_by("next_check_at")
    )
    if connection.features.has_select_for_update_skip_locked:
        # The complaint is locked too: perform() holds it while it moves the same clocks.
        due = due.select_for_update(skip_locked=True, of=("self", "complaint"))
    return list(due[:size])


def _sweep_chunk(now: datetime, size: int, result: SweepResult) -> int:
    with transaction.atomic():
        clocks = _claim(now, size)
        writes = _Writes()
        for clock in clocks:
            _process(clock, now, writes, result)
        Event.objects.bulk_create(writes.events)
        Notification.objects.bulk_create(writes.notes)
        OutboxMessage.objects.bulk_create(writes.messages)
        Clock.objects.bulk_update(
            clocks, ["warned_at", "breached_at", "level", "next_check_at"], batch_size=500
        )
        for complaint_id, user_id in writes.reassign.items():
            Complaint.objects.filter(pk=complaint_id).update(assignee_id=user_id)
        for complaint_id, level in writes.alert_level.items():
            Complaint.objects.filter(pk=complaint_id).update(alert_level=level)
        if writes.messages:
            wake_after_commit()
    result.clocks += len(clocks)
    return len(clocks)


def _process(clock: Clock, now: datetime, writes: _Writes, result: SweepResult) -> None:
    complaint = clock.complaint
    policy = selectors.policy_by_id(complaint.policy_id) or policy_of(
        complaint, complaint.customer.tier
    )
    if clock.stopped_at is not None or clock.paused_at is not None:
        clock.next_check_at = None
        return
    if clock.target == Target.EXPERT:
        _alert_timeout(clock, now, writes, result)
        clock.next_check_at = None
        return
    facts = {"target": clock.target, "due": clock.due_at.isoformat()}
    steps = selectors.chain_for(complaint.department_id)
    if clock.warned_at is None and clock.warn_at <= now:
        clock.warned_at = now
        result.warnings += 1
        writes.events.append(Event(complaint=complaint, kind="sla_warning", at=now, data=facts))
        for step in steps:
            if step.when == "warning" and step.level > clock.level:
                _climb(clock, step, "warning", now, writes, result)
    if clock.breached_at is None and clock.due_at <= now:
        clock.breached_at = now
        result.breaches += 1
        writes.events.append(Event(complaint=complaint, kind="sla_breach", at=now, data=facts))
        for step in steps:
            if step.when == "breach" and step.level > clock.level:
                _climb(clock, step, "breach", now, writes, result)
    # Later levels (the expert group, executives) are for a resolution that is overdue; a late
    # acknowledgement, first contact or update stops at the warning and the breach levels.
    if clock.breached_at is not None and clock.target == Target.RESOLVE:
        for step in steps:
            if (step.when == "after_breach" and step.after is not None
                    and step.level > clock.level
                    and schedule_after(clock, policy, step.after) <= now):  # fmt: skip
                _climb(clock, step, "after_breach", now, writes, result)
    clock.next_check_at = next_check(clock, policy)


def _climb(
    clock: Clock,
    step: selectors.StepView,
    cause: str,
    now: datetime,
    writes: _Writes,
    result: SweepResult,
) -> None:
    """Reach one level of the chain: notify it, give it the case if the step says so."""
    complaint = clock.complaint
    reached = chain.recipients_cached(complaint, step.level, writes.memo)
    data: dict[str, Any] = {
        "level": step.level, "target": clock.target, "cause": cause,
        "due": clock.due_at.isoformat(), "notified": [u.username for u in reached.users],
        "groups": reached.groups,
    }  # fmt: skip
    if step.reassign:
        holder = chain.new_holder(complaint, step.level, reached)
        if holder is not None and holder.pk != complaint.assignee_id:
            data["from_assignee"] = complaint.assignee.username if complaint.assignee else None
            data["reassigned_to"] = holder.username
            complaint.assignee = holder
            writes.reassign[complaint.pk] = holder.pk
    writes.events.append(Event(complaint=complaint, kind="sla_escalation", at=now, data=data))
    # The people reached hear what happened: a warning, a breach, or a later escalation.
    kind = {"warning": "sla_warning", "breach": "sla_breach"}.get(cause, "sla_escalation")
    _notify(complaint, kind, data, reached, now, writes)
    clock.level = step.level
    result.escalations += 1


def _alert_timeout(clock: Clock, now: datetime, writes: _Writes, result: SweepResult) -> None:
    """An alert nobody acknowledged in time goes one level up: executives (E2, E4)."""
    complaint = clock.complaint
    if clock.breached_at is not None or clock.due_at > now:
        return
    clock.breached_at = now
    if complaint.alert_raised_at is None or complaint.alert_level >= Level.EXECUTIVES:
        return
    reached = chain.recipients_cached(complaint, Level.EXECUTIVES, writes.memo)
    data = {
        "flags": complaint.alerted_flags.split(), "level": int(Level.EXECUTIVES),
        "cause": "not_acknowledged", "due": clock.due_at.isoformat(),
        "notified": [u.username for u in reached.users], "groups": reached.groups,
    }  # fmt: skip
    writes.events.append(Event(complaint=complaint, kind="risk_alert", at=now, data=data))
    _notify(complaint, "risk_alert", data, reached, now, writes)
    writes.alert_level[complaint.pk] = int(Level.EXECUTIVES)
    clock.level = int(Level.EXECUTIVES)
    result.alerts += 1


def _notify(
    complaint: Complaint,
    kind: str,
    data: dict[str, Any],
    reached: chain.Recipients,
    now: datetime,
    writes: _Writes,
) -> None:
    notes, messages = staff_messages(complaint=complaint, kind=kind, users=reached.users,
                                     robots=reached.robots, data=data, now=now)  # fmt: skip
    writes.notes += notes
    writes.messages += messages
