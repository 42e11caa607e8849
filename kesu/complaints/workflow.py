"""The complaint workflow: one table of actions and one function, `perform`, that enforces it.

Every change of a complaint's state or assessment goes through `perform(complaint, action,
actor, **data)`. It locks the row, checks the actor's role and the current state, validates
the data with the action's form, applies the change, writes exactly one Event, recomputes the
deadlines and queues the customer's notification in the same transaction (DESIGN, "the flow
of one complaint"). A refused action changes nothing and says why.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal
from enum import StrEnum
from typing import Any

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from kesu.accounts.models import Role, User
from kesu.accounts.services import remedy_authority
from kesu.complaints.events import action_label
from kesu.complaints.forms import (
    ActionForm,
    AssignForm,
    ClassifyForm,
    CloseForm,
    ContactForm,
    EscalateForm,
    ExtendForm,
    MergeForm,
    NoDataForm,
    NoteForm,
    NoteOnlyForm,
    ProfileForm,
    ReasonForm,
    RemedyForm,
    ReplyForm,
    ResolveForm,
    StartRemedyForm,
    TransferForm,
)
from kesu.complaints.models import (
    OPEN_STATES,
    Closure,
    Complaint,
    Event,
    RemedyStatus,
    Responsibility,
    State,
)
from kesu.complaints.selectors import can_view, get_complaint_for_user
from kesu.errors import FieldError, Forbidden, InvalidInput, NotAllowed, NotFound
from kesu.notify import services as notify
from kesu.scheduler import wake_after_commit
from kesu.sla import services as clocks
from kesu.triage import risk


class Action(StrEnum):
    ACKNOWLEDGE = "acknowledge"
    CONTACT = "contact"
    CLASSIFY = "classify"
    ASSIGN = "assign"
    TRANSFER = "transfer"
    INVESTIGATE = "investigate"
    REQUEST_APPROVAL = "request_approval"
    APPROVE_REMEDY = "approve_remedy"
    PROPOSE_REMEDY = "propose_remedy"
    CUSTOMER_ACCEPT = "customer_accept"
    CUSTOMER_REJECT = "customer_reject"
    START_REMEDY = "start_remedy"
    RESOLVE = "resolve"
    CLOSE = "close"
    REOPEN = "reopen"
    MARK_INVALID = "mark_invalid"
    MERGE = "merge"
    ESCALATE = "escalate"
    REPLY = "reply"
    PROFILE = "profile"
    EXTEND = "extend"
    ACKNOWLEDGE_ALERT = "acknowledge_alert"
    NOTE = "note"


OPERATORS = frozenset({Role.AGENT, Role.HANDLER, Role.MANAGER, Role.EXPERT, Role.ADMIN})
HANDLERS = frozenset({Role.HANDLER, Role.MANAGER, Role.EXPERT, Role.ADMIN})
APPROVERS = frozenset({Role.MANAGER, Role.EXPERT, Role.ADMIN})
ALL_STATES = frozenset(State)
OPEN = frozenset(OPEN_STATES)


@dataclass
class Change:
    """What an action did: the fields it set and the codes to keep in its Event."""

    fields: set[str] = field(default_factory=set)
    data: dict[str, Any] = field(default_factory=dict)
    # A message to the customer about this step (a kind of notify.messages), if any.
    notify_customer: str = ""

    def set(self, complaint: Complaint, name: str, value: Any) -> None:
        setattr(complaint, name, value)
        self.fields.add(name)


# None is the customer, who may take a few actions through the tracking page or a survey
# or Kesu itself (the caller has checked their code); see perform_unattended().
Actor = User | None
Apply = Callable[[Complaint, Actor, dict[str, Any], datetime], Change]
Precondition = Callable[[Complaint, Actor], str | None]


@dataclass(frozen=True)
class Rule:
    from_states: frozenset[State]
    to_state: State | None  # None: the state does not change
    roles: frozenset[Role]
    form: type[ActionForm]
    apply: Apply
    customer_visible: bool
    # A check on the complaint beyond its state; returns why the action cannot be taken now.
    precondition: Precondition | None = None
    # The Event's kind when it is not the action's name (the issue names risk_alert_acknowledged).
    event_kind: str = ""
    # Taken without staff too (perform_unattended): accepting or rejecting a remedy on the
    # tracking page, and the reopen or close that a survey's answer or its time-out brings.
    by_customer: bool = False


# --- What each action does ----------------------------------------------------------------------


def _acknowledge(c: Complaint, actor: Actor, d: dict[str, Any], now: datetime) -> Change:
    change = Change()
    change.set(c, "acknowledged_at", now)
    return change


def _contact(c: Complaint, actor: Actor, d: dict[str, Any], now: datetime) -> Change:
    change = Change(data={"method": d["method"], "reached": d["reached"], "summary": d["summary"]})
    if d["reached"] and c.first_contact_at is None:
        change.set(c, "first_contact_at", now)
    return change


def _classify(c: Complaint, actor: Actor, d: dict[str, Any], now: datetime) -> Change:
    # A person's word is a training label whether it changes triage's value or confirms it:
    # both are kept in the event ("changes", "confirmed"). A category also takes the complaint
    # out of the "needs review" queue.
    change = Change(data={"changes": {}})
    confirmed: dict[str, str] = {}
    for name in ("nature", "category", "grade", "priority"):
        value = d.get(name)
        if value and value != getattr(c, name):
            change.data["changes"][name] = [getattr(c, name), value]
            change.set(c, name, value)
        elif value:
            confirmed[name] = value
    if confirmed:
        change.data["confirmed"] = confirmed
    if d.get("category"):
        change.set(c, "category_confirmed", True)
        change.set(c, "needs_review", False)
    return change


def _place(c: Complaint, d: dict[str, Any], change: Change) -> None:
    department = d.get("department")
    assignee = d.get("assignee")
    change.data.update(
        {
            "from_department": c.department.code if c.department else None,
            "from_assignee": c.assignee.username if c.assignee else None,
        }
    )
    if department is not None:
        change.set(c, "department", department)
    if assignee is not None or department is not None:
        # A new department without a named person leaves the case for that department to take.
        change.set(c, "assignee", assignee)
    change.data.update(
        {
            "department": c.department.code if c.department else None,
            "assignee": c.assignee.username if c.assignee else None,
        }
    )


def _assign(c: Complaint, actor: Actor, d: dict[str, Any], now: datetime) -> Change:
    department = d.get("department")
    if c.department is not None and department is not None and department != c.department:
        raise NotAllowed(
            _("The complaint already belongs to %(department)s: use transfer to move it.")
            % {"department": c.department.name}
        )
    if d.get("assignee") is not None and d["assignee"] == c.assignee:
        raise NotAllowed(_("The complaint is already assigned to this person."))
    change = Change()
    _place(c, d, change)
    return change


def _transfer(c: Complaint, actor: Actor, d: dict[str, Any], now: datetime) -> Change:
    if d["department"] == c.department and d.get("assignee") in (None, c.assignee):
        raise NotAllowed(_("The complaint is already there: name another department or person."))
    change = Change(data={"reason": d["reason"]})
    _place(c, d, change)
    # L5: transfers are counted; many of them raise the escalation risk (E3).
    change.set(c, "transfers", c.transfers + 1)
    return change


def _staff(actor: Actor) -> User:
    """The person taking a staff action (rules the customer may take never come here)."""
    if actor is None:
        raise Forbidden(_("Only staff may do this."))
    return actor


def _investigate(c: Complaint, actor: Actor, d: dict[str, Any], now: datetime) -> Change:
    change = Change()
    staff = _staff(actor)
    if c.assignee is None:
        # L5 责任到人: whoever starts the investigation holds the case until it is assigned.
        change.set(c, "assignee", staff)
        if c.department is None:
            first = staff.departments.order_by("code").first()
            if first is not None:
                change.set(c, "department", first)
        change.data["assignee"] = staff.username
    return change


def _set_remedy(c: Complaint, actor: Actor, d: dict[str, Any], change: Change) -> None:
    change.set(c, "remedy_type", d["remedy_type"])
    change.set(c, "remedy_amount", d.get("remedy_amount"))
    change.set(c, "remedy_description", d["remedy_description"])
    change.set(c, "remedy_proposed_by", actor)
    for name in ("responsibility", "root_cause"):
        if d.get(name):
            change.set(c, name, d[name])
    amount = d.get("remedy_amount")
    change.data.update(
        {
            "remedy_type": d["remedy_type"],
            "remedy_amount": str(amount) if amount is not None else None,
            "remedy_description": d["remedy_description"],
        }
    )


def _exceeds_authority(actor: User, amount: Decimal | None) -> Decimal | None:
    """The actor's authority if `amount` is above it, else None."""
    if amount is None:
        return None
    authority = remedy_authority(actor.role)
    if authority is not None and amount > authority:
        return authority
    return None


def _request_approval(c: Complaint, actor: Actor, d: dict[str, Any], now: datetime) -> Change:
    change = Change()
    _set_remedy(c, actor, d, change)
    change.set(c, "remedy_status", RemedyStatus.PENDING_APPROVAL)
    change.set(c, "remedy_approved_by", None)
    return change


def _approve_remedy(c: Complaint, actor: Actor, d: dict[str, Any], now: datetime) -> Change:
    staff = _staff(actor)
    if c.remedy_proposed_by_id == staff.pk:
        raise NotAllowed(_("A remedy cannot be approved by the person who asked for approval."))
    authority = _exceeds_authority(staff, c.remedy_amount)
    if authority is not None:
        raise NotAllowed(
            _("¥%(amount)s is above your authority of ¥%(authority)s.")
            % {"amount": c.remedy_amount, "authority": authority}
        )
    change = Change(
        data={
            "remedy_type": c.remedy_type,
            "remedy_amount": str(c.remedy_amount) if c.remedy_amount is not None else None,
            "remedy_description": c.remedy_description,
        },
        notify_customer="remedy_proposed",
    )
    if d.get("note"):
        change.data["note"] = d["note"]
    change.set(c, "remedy_status", RemedyStatus.PROPOSED)
    change.set(c, "remedy_approved_by", staff)
    return change


def _propose_remedy(c: Complaint, actor: Actor, d: dict[str, Any], now: datetime) -> Change:
    authority = _exceeds_authority(_staff(actor), d.get("remedy_amount"))
    if authority is not None:
        # L7: amounts above a handler's authority need a manager's approval first.
        raise NotAllowed(
            _(
                "¥%(amount)s is above your authority of ¥%(authority)s: "
                "request approval from a manager."
            )
            % {"amount": d["remedy_amount"], "authority": authority}
        )
    change = Change(notify_customer="remedy_proposed")
    _set_remedy(c, actor, d, change)
    change.set(c, "remedy_status", RemedyStatus.PROPOSED)
    change.set(c, "remedy_approved_by", actor)
    return change


def _customer_accept(c: Complaint, actor: Actor, d: dict[str, Any], now: datetime) -> Change:
    change = Change(data={"note": d["note"]} if d.get("note") else {})
    change.set(c, "remedy_status", RemedyStatus.ACCEPTED)
    return change


def _customer_reject(c: Complaint, actor: Actor, d: dict[str, Any], now: datetime) -> Change:
    change = Change(data={"reason": d["reason"]})
    change.set(c, "remedy_status", RemedyStatus.REJECTED)
    change.set(c, "rejections", c.rejections + 1)
    return change


def _start_remedy(c: Complaint, actor: Actor, d: dict[str, Any], now: datetime) -> Change:
    change = Change()
    change.set(c, "remedy_status", RemedyStatus.IN_PROGRESS)
    if d.get("remedy_due"):
        change.set(c, "remedy_due", d["remedy_due"])
        change.data["remedy_due"] = d["remedy_due"].isoformat()
    if d.get("note"):
        change.data["note"] = d["note"]
    return change


def _resolve(c: Complaint, actor: Actor, d: dict[str, Any], now: datetime) -> Change:
    change = Change(notify_customer="resolved")
    for name in ("responsibility", "root_cause", "corrective_action", "resolution"):
        if d.get(name):
            change.set(c, name, d[name])
    change.data.update(
        {
            "responsibility": c.responsibility,
            "root_cause": c.root_cause,
            "corrective_action": c.corrective_action,
            "resolution": c.resolution,
        }
    )
    change.set(c, "remedy_status", RemedyStatus.DONE)
    change.set(c, "resolved_at", now)
    return change


def _close(c: Complaint, actor: Actor, d: dict[str, Any], now: datetime) -> Change:
    change = Change()
    change.set(c, "closure", Closure.RESOLVED)
    change.set(c, "closed_at", now)
    if d.get("satisfaction") is not None:
        change.set(c, "satisfaction", d["satisfaction"])
        change.data["satisfaction"] = d["satisfaction"]
    if d.get("note"):
        change.data["note"] = d["note"]
    return change


def _reopen(c: Complaint, actor: Actor, d: dict[str, Any], now: datetime) -> Change:
    change = Change(data={"reason": d["reason"], "closure": c.closure})
    change.set(c, "reopens", c.reopens + 1)
    change.set(c, "closure", "")
    change.set(c, "closure_reason", "")
    change.set(c, "closed_at", None)
    change.set(c, "resolved_at", None)
    change.set(c, "remedy_status", RemedyStatus.NONE)
    # L8: a dissatisfied customer gets a new analysis and a new remedy, on a fresh clock
    # (sla.services.after_action restarts the resolution clock).
    return change


def _mark_invalid(c: Complaint, actor: Actor, d: dict[str, Any], now: datetime) -> Change:
    change = Change(data={"reason": d["reason"]}, notify_customer="invalid")
    change.set(c, "closure", Closure.INVALID)
    change.set(c, "closure_reason", d["reason"])
    change.set(c, "responsibility", Responsibility.UNFOUNDED)
    change.set(c, "closed_at", now)
    return change


def _merge(c: Complaint, actor: Actor, d: dict[str, Any], now: datetime) -> Change:
    reference = d["target"]
    if reference == c.reference:
        raise NotAllowed(_("A complaint cannot be merged into itself."))
    try:
        target = get_complaint_for_user(_staff(actor), reference)
    except Complaint.DoesNotExist:
        raise InvalidInput.one("target", _("No complaint %(ref)s.") % {"ref": reference}) from None
    if not target.is_open:
        raise NotAllowed(_("%(ref)s is not open: merge needs an open target.") % {"ref": reference})
    change = Change(data={"target": reference})
    change.set(c, "closure", Closure.DUPLICATE)
    change.set(c, "closure_reason", reference)
    change.set(c, "merged_into", target)
    change.set(c, "closed_at", now)
    return change


def _escalate(c: Complaint, actor: Actor, d: dict[str, Any], now: datetime) -> Change:
    if d["level"] <= c.escalation_level:
        raise NotAllowed(
            _("The complaint is already at escalation level %(level)s.")
            % {"level": c.escalation_level}
        )
    change = Change(
        data={"from_level": c.escalation_level, "level": d["level"], "reason": d["reason"]}
    )
    change.set(c, "escalation_level", d["level"])
    return change


def _reply(c: Complaint, actor: Actor, d: dict[str, Any], now: datetime) -> Change:
    # The checks ran in the form; what they found and why it was sent anyway are kept (§5).
    data: dict[str, Any] = {"text": d["text"], "findings": d.get("findings", [])}
    if d.get("override_reason"):
        data["override_reason"] = d["override_reason"]
    if d.get("template"):
        data["template"] = d["template"]
    return Change(data=data, notify_customer="message")


def _profile(c: Complaint, actor: Actor, d: dict[str, Any], now: datetime) -> Change:
    # The profile belongs to the customer; the event on this case says who set it and why.
    customer = c.customer
    before, after = customer.profile, d.get("profile") or ""
    if before == after:
        raise NotAllowed(_("The customer already has this profile."))
    customer.profile = after
    customer.save(update_fields=["profile"])
    data = {"from": before, "to": after}
    if d.get("reason"):
        data["reason"] = d["reason"]
    return Change(data=data)


def _extend(c: Complaint, actor: Actor, d: dict[str, Any], now: datetime) -> Change:
    # The form checked the extension against the policy; the clock moves in after_action().
    return Change(
        data={
            "allowed": d["allowed"],
            "reason": d["reason"],
            "from_due": c.resolve_due.isoformat(),
        },
        notify_customer="extended",
    )


def _acknowledge_alert(c: Complaint, actor: Actor, d: dict[str, Any], now: datetime) -> Change:
    raised = c.alert_raised_at.isoformat() if c.alert_raised_at else None
    change = Change(
        data={"flags": c.alerted_flags.split(), "level": c.alert_level, "raised_at": raised}
    )
    if d.get("note"):
        change.data["note"] = d["note"]
    change.set(c, "alert_raised_at", None)
    change.set(c, "alert_level", 0)
    return change


def _note(c: Complaint, actor: Actor, d: dict[str, Any], now: datetime) -> Change:
    internal = bool(d.get("internal"))
    return Change(
        data={"text": d["text"], "internal": internal},
        notify_customer="" if internal else "message",
    )


# --- Preconditions beyond the state -------------------------------------------------------------


def _remedy_is(*statuses: RemedyStatus) -> Precondition:
    def check(c: Complaint, actor: Actor) -> str | None:
        if c.remedy_status in statuses:
            return None
        return {
            RemedyStatus.PENDING_APPROVAL: _("No remedy is waiting for approval."),
            RemedyStatus.PROPOSED: _("No remedy is waiting for the customer's answer."),
            RemedyStatus.ACCEPTED: _("The customer has not accepted the remedy."),
        }.get(statuses[0], _("The remedy is not in the right stage."))

    return check


def _alert_open(c: Complaint, actor: Actor) -> str | None:
    return None if c.alert_raised_at is not None else _("No risk alert is waiting.")


def _extendable(c: Complaint, actor: Actor) -> str | None:
    from kesu.sla.selectors import policy_by_id

    policy = policy_by_id(c.policy_id)
    if policy is None or not policy.row.resolve_extendable_to:
        return _("This complaint's SLA policy does not allow an extension.")
    return None


def _not_duplicate(c: Complaint, actor: Actor) -> str | None:
    if c.closure == Closure.DUPLICATE:
        return _("A merged duplicate cannot be reopened: reopen %(ref)s instead.") % {
            "ref": c.merged_into.reference if c.merged_into else "?"
        }
    return None


RULES: dict[Action, Rule] = {
    Action.ACKNOWLEDGE: Rule(
        frozenset({State.RECEIVED}), State.ACKNOWLEDGED, OPERATORS, NoDataForm, _acknowledge, True
    ),
    Action.CONTACT: Rule(
        OPEN - {State.RECEIVED} | {State.RESOLVED}, None, OPERATORS, ContactForm, _contact, True
    ),
    Action.CLASSIFY: Rule(OPEN, None, OPERATORS, ClassifyForm, _classify, False),
    Action.ASSIGN: Rule(OPEN, None, OPERATORS, AssignForm, _assign, False),
    Action.TRANSFER: Rule(OPEN, None, HANDLERS, TransferForm, _transfer, False),
    Action.INVESTIGATE: Rule(
        frozenset({State.ACKNOWLEDGED}),
        State.INVESTIGATING,
        HANDLERS,
        NoDataForm,
        _investigate,
        True,
    ),
    Action.REQUEST_APPROVAL: Rule(
        frozenset({State.INVESTIGATING}), None, HANDLERS, RemedyForm, _request_approval, False
    ),
    Action.APPROVE_REMEDY: Rule(
        frozenset({State.INVESTIGATING}),
        State.AWAITING_CUSTOMER,
        APPROVERS,
        NoteOnlyForm,
        _approve_remedy,
        True,
        _remedy_is(RemedyStatus.PENDING_APPROVAL),
    ),
    Action.PROPOSE_REMEDY: Rule(
        frozenset({State.INVESTIGATING}),
        State.AWAITING_CUSTOMER,
        HANDLERS,
        RemedyForm,
        _propose_remedy,
        True,
    ),
    Action.CUSTOMER_ACCEPT: Rule(
        frozenset({State.AWAITING_CUSTOMER}),
        None,
        OPERATORS,
        NoteOnlyForm,
        _customer_accept,
        True,
        _remedy_is(RemedyStatus.PROPOSED),
        by_customer=True,
    ),
    Action.CUSTOMER_REJECT: Rule(
        frozenset({State.AWAITING_CUSTOMER}),
        State.INVESTIGATING,
        OPERATORS,
        ReasonForm,
        _customer_reject,
        True,
        _remedy_is(RemedyStatus.PROPOSED),
        by_customer=True,
    ),
    Action.START_REMEDY: Rule(
        frozenset({State.AWAITING_CUSTOMER}),
        State.REMEDYING,
        HANDLERS,
        StartRemedyForm,
        _start_remedy,
        True,
        _remedy_is(RemedyStatus.ACCEPTED),
    ),
    Action.RESOLVE: Rule(
        frozenset({State.AWAITING_CUSTOMER, State.REMEDYING}),
        State.RESOLVED,
        HANDLERS,
        ResolveForm,
        _resolve,
        True,
        _remedy_is(RemedyStatus.ACCEPTED, RemedyStatus.IN_PROGRESS),
    ),
    Action.CLOSE: Rule(
        frozenset({State.RESOLVED}),
        State.CLOSED,
        OPERATORS,
        CloseForm,
        _close,
        True,
        by_customer=True,
    ),
    Action.REOPEN: Rule(
        frozenset({State.RESOLVED, State.CLOSED}),
        State.INVESTIGATING,
        OPERATORS,
        ReasonForm,
        _reopen,
        True,
        _not_duplicate,
        by_customer=True,
    ),
    Action.MARK_INVALID: Rule(OPEN, State.CLOSED, HANDLERS, ReasonForm, _mark_invalid, True),
    Action.MERGE: Rule(OPEN, State.CLOSED, OPERATORS, MergeForm, _merge, True),
    Action.ESCALATE: Rule(OPEN, None, OPERATORS, EscalateForm, _escalate, False),
    Action.PROFILE: Rule(ALL_STATES, None, OPERATORS, ProfileForm, _profile, False),
    Action.REPLY: Rule(OPEN | {State.RESOLVED}, None, OPERATORS, ReplyForm, _reply, True),
    Action.EXTEND: Rule(OPEN, None, APPROVERS, ExtendForm, _extend, True, _extendable),
    Action.ACKNOWLEDGE_ALERT: Rule(
        ALL_STATES,
        None,
        APPROVERS,
        NoteOnlyForm,
        _acknowledge_alert,
        False,
        _alert_open,
        event_kind="risk_alert_acknowledged",
    ),
    Action.NOTE: Rule(ALL_STATES, None, OPERATORS, NoteForm, _note, False),
}


# --- Enforcement --------------------------------------------------------------------------------


def rule_for(action: str) -> Rule:
    try:
        return RULES[Action(action)]
    except ValueError:
        raise NotFound(
            _("Unknown action %(action)s. Known actions: %(known)s.")
            % {"action": repr(action), "known": ", ".join(a.value for a in Action)}
        ) from None


def why_not(complaint: Complaint, action: Action, actor: User) -> str | None:
    """Why the actor cannot take the action on the complaint now, or None if they can try."""
    rule = RULES[action]
    if actor.role not in rule.roles:
        return _("Your role (%(role)s) may not do this: %(action)s.") % {
            "role": actor.get_role_display(),
            "action": action_label(action.value),
        }
    return _why_not_now(complaint, action, actor)


def _why_not_now(complaint: Complaint, action: Action, actor: Actor) -> str | None:
    """What in the complaint's state or circumstances stops the action (None: nothing)."""
    rule = RULES[action]
    if complaint.state not in rule.from_states:
        return _("“%(action)s” is not possible while the complaint is %(state)s.") % {
            "action": action_label(action.value),
            "state": complaint.get_state_display(),
        }
    if rule.precondition is not None:
        return rule.precondition(complaint, actor)
    return None


def allowed_actions(complaint: Complaint, actor: User) -> list[Action]:
    """The actions this user may take on this complaint now, in workflow order."""
    if not can_view(actor, complaint):
        return []
    return [action for action in Action if why_not(complaint, action, actor) is None]


SCALARS = (str, int, float, bool, type(None), Decimal, datetime)


def _validate(
    rule: Rule, action: Action, complaint: Complaint, actor: Actor, data: Mapping[str, Any]
) -> dict[str, Any]:
    form_class = rule.form
    known = set(form_class.base_fields)
    errors = [
        FieldError(name, _("Unknown field for %(action)s.") % {"action": action.value})
        for name in data
        if name not in known
    ]
    errors += [
        FieldError(name, _("Must be a string, a number or true/false."))
        for name, value in data.items()
        if name in known and not isinstance(value, SCALARS)
    ]
    if errors:
        raise InvalidInput(errors)
    form = form_class(data=dict(data), complaint=complaint, actor=actor)
    if not form.is_valid():
        raise InvalidInput(
            [
                FieldError("data" if name == "__all__" else name, str(message))
                for name, messages in form.errors.items()
                for message in messages
            ]
        )
    return dict(form.cleaned_data)


def perform(
    complaint: Complaint,
    action: str,
    actor: User,
    *,
    at: datetime | None = None,
    notify_customer: bool = True,
    **data: Any,
) -> Event:
    """Take one workflow action on a complaint as `actor`; write exactly one Event.

    Raises NotFound (unknown action or complaint not visible), Forbidden (role), NotAllowed
    (state or circumstances) or InvalidInput (data). `at` backdates the action and
    `notify_customer=False` keeps it from messaging the customer, for importers replaying
    history and for demo data; pages and the API never pass them.
    """
    return _perform(complaint, action, actor, at=at, notify_customer=notify_customer, data=data)


def perform_unattended(complaint: Complaint, action: str, **data: Any) -> Event:
    """Take an action with no staff member: the customer's own (accepting or rejecting a remedy
    on the tracking page, answering the survey) or Kesu's (closing a case whose follow-up timed
    out). Only rules marked `by_customer` allow it; the caller has checked the customer's code.
    The Event has no actor, which is how the timeline tells these steps from staff's."""
    return _perform(complaint, action, None, at=None, notify_customer=True, data=data)


def _perform(
    complaint: Complaint,
    action: str,
    actor: Actor,
    *,
    at: datetime | None,
    notify_customer: bool,
    data: Mapping[str, Any],
) -> Event:
    rule = rule_for(action)
    action = Action(action)
    now = at or timezone.now()
    with transaction.atomic():
        locked = (
            Complaint.objects.select_for_update(of=("self",))
            .select_related("department", "assignee", "customer")
            .get(pk=complaint.pk)
        )
        if actor is None:
            if not rule.by_customer:
                raise Forbidden(_("Only staff may do this."))
        else:
            if not can_view(actor, locked):
                raise NotFound(_("No such complaint."))
            if actor.role not in rule.roles:
                raise Forbidden(why_not(locked, action, actor) or "")
        reason = _why_not_now(locked, action, actor)
        if reason is not None:
            raise NotAllowed(reason)
        cleaned = _validate(rule, action, locked, actor, data)
        change = rule.apply(locked, actor, cleaned, now)
        from_state = locked.state
        if rule.to_state is not None:
            change.set(locked, "state", rule.to_state)
        visible = rule.customer_visible or (action == Action.NOTE and not cleaned.get("internal"))
        # The clocks follow (sla): targets met stop, waiting for the customer pauses, a new
        # policy moves every deadline; the deadlines' columns are saved with the change.
        moved = clocks.after_action(locked, action.value, from_state=from_state,
                                    customer_visible=visible, data=cleaned, now=now)  # fmt: skip
        change.fields.update(moved.fields)
        change.data.update(moved.data)
        if action == Action.EXTEND:
            change.data["resolve_due"] = locked.resolve_due.isoformat()
        # E3: the escalation risk follows the case (kesu.triage.risk).
        risk_change = risk.change_of(locked, risk.rescore(locked, now))
        change.fields.update(risk.FIELDS)
        if risk_change:
            change.data["risk"] = risk_change  # still one Event per action
        locked.save(update_fields=[*sorted(change.fields), "updated_at"])
        event = Event.objects.create(
            complaint=locked,
            kind=rule.event_kind or action.value,
            actor=actor,
            at=now,
            from_state=from_state,
            to_state=locked.state,
            data=change.data,
            customer_visible=visible,
        )
        if risk_change:
            risk.tell(locked, risk_change, now)
        elif action in (Action.ASSIGN, Action.TRANSFER):
            risk.tell_placed(locked, now)  # a case high from intake, now with people to tell
        if action == Action.PROFILE or (action == Action.ESCALATE and locked.escalation_level >= 2):
            risk.rescore_others(locked, trigger=action.value, now=now)
        link = None
        if action == Action.RESOLVE and notify_customer:
            # L8: the "resolved" message carries the satisfaction survey's link.
            from kesu.surveys.services import start_survey  # surveys drives the workflow too

            link = start_survey(locked, now=now)
        if change.notify_customer and notify_customer:
            notify.notify_customer(locked, change.notify_customer, event=event, link=link)
            wake_after_commit()
        # E2: a call note or a contact summary that carries a regulator, media, legal or
        # safety signal alerts the escalation group, as the customer's own words do.
        said = cleaned.get("text") if action == Action.NOTE else cleaned.get("summary")
        if action in (Action.NOTE, Action.CONTACT) and said:
            clocks.raise_alert(locked, clocks.signals_in(said), cause=action.value, now=now)
    complaint.refresh_from_db()
    return event
