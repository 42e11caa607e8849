"""The clocks of a complaint: started at intake, moved by every workflow action, and the risk
alert that starts the expert clock (DOMAIN L3, L9, E2, E4).

A clock's deadline is a function of its facts — when it started, the duration it is allowed
(the policy's, or an approved extension), the working time it spent paused while the case
awaited the customer — on the policy's calendar. So deadlines are recomputed, not shifted, on
every action, and a policy that changes (a grade raised, a risk signal found) moves them all.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from django.utils.translation import gettext as _

from kesu import rows
from kesu.complaints.models import ALERT_FLAGS, Complaint, Event, State
from kesu.customers.models import Customer
from kesu.notify.services import notify_staff
from kesu.sla import selectors
from kesu.sla.calendar import Duration, Schedule
from kesu.sla.chain import recipients
from kesu.sla.models import Clock, Level, Target
from kesu.sla.selectors import PolicyView

# The clocks that stop while the complaint awaits the customer's answer.
PAUSING_TARGETS = frozenset({Target.RESOLVE, Target.UPDATE})
# The expert response (E4) is counted in real minutes whatever the policy's calendar says.
AROUND_THE_CLOCK = Schedule(zone=ZoneInfo("UTC"), around_the_clock=True)
CLOCK_FIELDS = ["allowed", "extended", "started_at", "warn_at", "due_at", "stopped_at",
                "paused_at", "paused_minutes", "warned_at", "breached_at", "level",
                "next_check_at"]  # fmt: skip
# Due-date columns of the complaint that mirror a target's clock, for lists and sorting.
MIRRORS = {
    Target.ACKNOWLEDGE: "ack_due",
    Target.FIRST_CONTACT: "first_contact_due",
    Target.RESOLVE: "resolve_due",
    Target.UPDATE: "update_due",
}


def _schedule(clock: Clock, policy: PolicyView) -> Schedule:
    return AROUND_THE_CLOCK if clock.target == Target.EXPERT else policy.schedule


def _plan(clock: Clock, policy: PolicyView) -> None:
    """Set the clock's warning, due time and next check from its facts."""
    schedule = _schedule(clock, policy)
    allowed = schedule.minutes(Duration.parse(clock.allowed))
    clock.due_at = schedule.add_minutes(clock.started_at, allowed + clock.paused_minutes)
    clock.warn_at = schedule.add_minutes(
        clock.started_at, allowed * policy.row.warn_at / 100 + clock.paused_minutes
    )
    clock.next_check_at = next_check(clock, policy)


def next_check(clock: Clock, policy: PolicyView) -> datetime | None:
    """When the sweep must next look at this clock (None: stopped, paused or nothing left)."""
    if clock.stopped_at is not None or clock.paused_at is not None:
        return None
    if clock.warned_at is None and clock.target != Target.EXPERT:
        return clock.warn_at
    if clock.breached_at is None:
        return clock.due_at
    if clock.target != Target.RESOLVE:
        return None  # only an overdue resolution climbs further (sla.jobs)
    later = [
        schedule_after(clock, policy, step.after)
        for step in selectors.chain_for(clock.complaint.department_id)
        if step.when == "after_breach" and step.after is not None and step.level > clock.level
    ]
    return min(later, default=None)


def schedule_after(clock: Clock, policy: PolicyView, after: Duration) -> datetime:
    assert clock.breached_at is not None
    return _schedule(clock, policy).add(clock.breached_at, after)


def _new_clock(complaint: Complaint, target: str, allowed: Duration, now: datetime) -> Clock:
    return Clock(complaint=complaint, target=target, allowed=str(allowed), started_at=now,
                 warn_at=now, due_at=now)  # fmt: skip


def _mirror(complaint: Complaint, clocks: Iterable[Clock]) -> list[str]:
    """Copy the clocks' deadlines into the complaint's columns; the names of those changed."""
    changed = []
    for clock in clocks:
        name = MIRRORS.get(Target(clock.target))
        if name is None:
            continue
        # An update clock that stopped leaves no update due.
        value = None if name == "update_due" and clock.stopped_at else clock.due_at
        if getattr(complaint, name) != value:
            setattr(complaint, name, value)
            changed.append(name)
    return changed


def policy_of(complaint: Complaint, tier: str) -> PolicyView:
    return selectors.policy_for(
        grade=complaint.grade,
        tier=tier,
        channel=complaint.channel,
        category=complaint.category,
        flags=complaint.flags,
    )


# --- Intake --------------------------------------------------------------------------------------


def start_clocks(
    complaint: Complaint, customer: Customer, *, now: datetime, batch: rows.Batch
) -> list[Clock]:
    """Choose the policy of a new complaint and add its clocks to the intake's batch.

    The complaint is not written yet: its deadlines are set on it, and its clocks go into the
    same batch, after it.
    """
    policy = policy_of(complaint, customer.tier)
    complaint.policy = policy.row
    clocks = []
    for target in (Target.ACKNOWLEDGE, Target.FIRST_CONTACT, Target.UPDATE, Target.RESOLVE):
        allowed = policy.allowed(target)
        if allowed is None:
            continue
        clock = _new_clock(complaint, target, allowed, now)
        _plan(clock, policy)
        clocks.append(batch.add(clock))
    _mirror(complaint, clocks)
    return clocks


# --- History import ------------------------------------------------------------------------------

# The clocks an imported open complaint runs, by its state: where the old system's state says
# the customer was acknowledged (or the case is under investigation, so also contacted), that
# target was met there, at a time the file does not tell.
HISTORY_TARGETS = {
    State.RECEIVED: (Target.ACKNOWLEDGE, Target.FIRST_CONTACT, Target.UPDATE, Target.RESOLVE),
    State.ACKNOWLEDGED: (Target.FIRST_CONTACT, Target.UPDATE, Target.RESOLVE),
    State.INVESTIGATING: (Target.UPDATE, Target.RESOLVE),
}


def start_history_clocks(complaint: Complaint, tier: str, *, now: datetime) -> list[Clock]:
    """The clocks of an imported open complaint, running from the time it was received.

    The complaint (not written yet, its id given) gets its policy and deadlines. A warning or
    due time already past at `now` is taken as recorded when it passed, and the levels of the
    escalation chain it reached by then as reached, silently: nobody could act on them then,
    and an imported backlog must not page everyone at once. What falls due after `now` is swept
    as for any complaint. Unsaved clocks, for the importer to write in its batch.
    """
    policy = policy_of(complaint, tier)
    complaint.policy = policy.row
    steps = selectors.chain_for(complaint.department_id)
    clocks = []
    for target in HISTORY_TARGETS.get(State(complaint.state), ()):
        allowed = policy.allowed(target)
        if allowed is None:
            continue
        clock = _new_clock(complaint, target, allowed, complaint.received_at)
        _plan(clock, policy)
        reached = []
        if clock.warn_at <= now:
            clock.warned_at = clock.warn_at
            reached += [s.level for s in steps if s.when == "warning"]
        if clock.due_at <= now:
            clock.breached_at = clock.due_at
            reached += [s.level for s in steps if s.when == "breach"]
            if target == Target.RESOLVE:  # as the sweep: only a resolution climbs further
                reached += [
                    s.level
                    for s in steps
                    if s.when == "after_breach" and s.after is not None
                    and schedule_after(clock, policy, s.after) <= now
                ]  # fmt: skip
        clock.level = max(reached, default=0)
        clock.next_check_at = next_check(clock, policy)
        clocks.append(clock)
    _mirror(complaint, clocks)
    return clocks


# --- Workflow actions ----------------------------------------------------------------------------


@dataclass(frozen=True)
class Moved:
    """What after_action() changed: complaint fields to save, facts for the action's event."""

    fields: list[str]
    data: dict[str, Any]


def after_action(
    complaint: Complaint,
    action: str,
    *,
    from_state: str,
    customer_visible: bool,
    data: dict[str, Any],
    now: datetime,
) -> Moved:
    """Move the clocks for one workflow action, inside perform()'s transaction.

    The complaint is locked by the caller and already carries the action's changes. Met
    targets stop; a customer-visible step restarts the update clock; awaiting the customer
    pauses the resolution and update clocks and leaving it resumes them; a reopen starts them
    afresh; a changed grade, category or risk may change the policy, and so every deadline.
    """
    clocks = {c.target: c for c in Clock.objects.select_for_update().filter(complaint=complaint)}
    for clock in clocks.values():
        clock.complaint = complaint
    policy = selectors.policy_by_id(complaint.policy_id)
    tier = complaint.customer.tier
    facts: dict[str, Any] = {}
    wanted = policy_of(complaint, tier)
    if policy is None or wanted.row.pk != policy.row.pk:
        facts["policy"] = wanted.row.pk
        policy = wanted
        complaint.policy = policy.row
    touched: set[str] = set()

    def stop(*targets: str) -> None:
        for target in targets:
            clock = clocks.get(target)
            if clock is not None and clock.stopped_at is None:
                clock.stopped_at = now
                touched.add(target)

    def restart(target: str) -> None:
        allowed = policy.allowed(target)
        if allowed is None:
            return
        clock = clocks.get(target)
        if clock is None:
            clock = clocks[target] = _new_clock(complaint, target, allowed, now)
        clock.allowed, clock.started_at = str(allowed), now
        clock.stopped_at = clock.paused_at = clock.warned_at = clock.breached_at = None
        clock.paused_minutes, clock.level, clock.extended = 0, 0, False
        touched.add(target)

    state = complaint.state
    if action == "acknowledge":
        stop(Target.ACKNOWLEDGE)
    if action == "contact" and data.get("reached"):
        stop(Target.FIRST_CONTACT)
    if action == "acknowledge_alert":
        stop(Target.EXPERT)
    if action == "reopen":
        restart(Target.RESOLVE)
        restart(Target.UPDATE)
    elif state in (State.RESOLVED, State.CLOSED):
        stop(*clocks)
    elif customer_visible:
        # The customer heard from us: the next update is due a full interval from now.
        restart(Target.UPDATE)
    resolving = clocks.get(Target.RESOLVE)
    if action == "extend" and resolving is not None:
        resolving.allowed, resolving.extended = data["allowed"], True
        touched.add(Target.RESOLVE)
    # Awaiting the customer pauses the resolution and update clocks (the issue: SLA).
    for pausing in PAUSING_TARGETS:
        waiting = clocks.get(pausing)
        if waiting is None or waiting.stopped_at is not None:
            continue
        if state == State.AWAITING_CUSTOMER and waiting.paused_at is None:
            waiting.paused_at = now
            touched.add(pausing)
        elif state != State.AWAITING_CUSTOMER and waiting.paused_at is not None:
            spent = _schedule(waiting, policy).working_minutes(waiting.paused_at, now)
            waiting.paused_minutes += spent
            waiting.paused_at = None
            touched.add(pausing)
    if "policy" in facts:
        for name, running in clocks.items():
            if name == Target.EXPERT or running.stopped_at is not None:
                continue
            allowed = policy.allowed(name)
            # An approved extension stands when the policy changes; a person decided it.
            if allowed is not None and not running.extended:
                running.allowed = str(allowed)
            touched.add(name)
    for name in touched:
        moved = clocks[name]
        _plan(moved, policy)
        if moved.pk is None:
            rows.add(moved)
        else:
            moved.save(update_fields=CLOCK_FIELDS)
    fields = _mirror(complaint, clocks.values())
    if "policy" in facts:
        fields.append("policy")
    return Moved(fields, facts)


def check_extension(complaint: Complaint, raw: str) -> str:
    """The extension asked for, as a duration the policy allows; ValueError saying why not."""
    policy = selectors.policy_by_id(complaint.policy_id)
    if policy is None or not policy.row.resolve_extendable_to:
        raise ValueError(_("This complaint's SLA policy does not allow an extension."))
    wanted = Duration.parse(raw)
    limit = Duration.parse(policy.row.resolve_extendable_to)
    current = Clock.objects.filter(complaint=complaint, target=Target.RESOLVE).first()
    minutes = policy.schedule.minutes
    if current is not None and minutes(wanted) <= minutes(Duration.parse(current.allowed)):
        raise ValueError(
            _("The resolution is already allowed %(now)s: ask for more.") % {"now": current.allowed}
        )
    if minutes(wanted) > minutes(limit):
        raise ValueError(_("At most %(limit)s under this complaint's policy.") % {"limit": limit})
    return str(wanted)


# --- Risk alerts (E2, E4) ------------------------------------------------------------------------


def new_alert_flags(complaint: Complaint, flags: Iterable[str]) -> list[str]:
    """The alert signals among `flags` that were not alerted for this complaint before."""
    seen = set(complaint.alerted_flags.split())
    return [f for f in dict.fromkeys(flags) if f in ALERT_FLAGS and f not in seen]


def raise_alert(
    complaint: Complaint, flags: Iterable[str], *, cause: str, now: datetime
) -> Event | None:
    """Alert the escalation group of new regulator, media, legal or safety signals (E2).

    Runs in the caller's transaction on the complaint: writes the `risk_alert` Event, starts
    the expert clock (acknowledge within the policy's expert response, 10 minutes by
    default, or the alert goes up to executives: E4) and notifies the group on every channel.
    Returns None when nothing is new.
    """
    fresh = new_alert_flags(complaint, flags)
    if not fresh:
        return None
    policy = selectors.policy_by_id(complaint.policy_id) or policy_of(
        complaint, complaint.customer.tier
    )
    alerted = " ".join([*complaint.alerted_flags.split(), *fresh])
    Complaint.objects.filter(pk=complaint.pk).update(
        alert_raised_at=now, alert_level=Level.EXPERTS, alerted_flags=alerted
    )
    complaint.alert_raised_at, complaint.alert_level = now, Level.EXPERTS
    complaint.alerted_flags = alerted
    who = recipients(complaint, Level.EXPERTS)
    event = rows.add(Event(
        complaint=complaint, kind="risk_alert", at=now,
        data={"flags": fresh, "level": int(Level.EXPERTS), "cause": cause,
              "notified": [u.username for u in who.users], "groups": who.groups},
    ))  # fmt: skip
    expert = Clock.objects.select_for_update().filter(complaint=complaint, target=Target.EXPERT)
    clock = expert.first() or _new_clock(complaint, Target.EXPERT, Duration(0, "m"), now)
    clock.complaint = complaint
    clock.allowed = policy.row.expert_response
    clock.started_at = now
    clock.stopped_at = clock.paused_at = clock.warned_at = clock.breached_at = None
    clock.paused_minutes, clock.level = 0, int(Level.EXPERTS)
    _plan(clock, policy)
    if clock.pk is None:
        rows.add(clock)
    else:
        clock.save()
    notify_staff(
        complaint=complaint, kind="risk_alert", users=who.users, robots=who.robots, now=now,
        data={"flags": fresh, "level": int(Level.EXPERTS), "due": clock.due_at.isoformat()},
    )  # fmt: skip
    return event


def signals_in(text: str) -> list[str]:
    """The risk flags that triage's rules find in a staff note or call summary."""
    from kesu.triage.selectors import current
    from kesu.triage.text import Folded

    folded = Folded.of(text)
    return [r.flag for r in current().rules if r.flag and r.evidence(folded)]
