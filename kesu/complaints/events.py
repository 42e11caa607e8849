"""Sentences for events, made when shown from the stored codes (STYLE 5: no labels stored).

`describe(event)` is the staff's view; `describe_for_customer(event)` leaves out people's
names and internal details.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy as _lazy

from kesu.accounts.models import Department, User
from kesu.complaints.models import (
    Channel,
    Emotion,
    EscalationLevel,
    Event,
    Flag,
    Grade,
    Priority,
    RemedyType,
    Responsibility,
    RiskLevel,
    State,
)
from kesu.lists import series

_CHOICES: dict[str, Any] = {
    "grade": Grade,
    "priority": Priority,
    "emotion": Emotion,
}

CONTACT_METHODS = {
    "phone": "Phone call",
    "sms": "SMS",
    "email": "Email",
    "wechat": "WeChat",
    "visit": "In person",
    "other": "Other",
}


def _label(choices: Any, value: Any) -> str:
    try:
        return str(choices(value).label)
    except ValueError:
        return str(value or "—")


def field_value(name: str, value: Any) -> str:
    """An assessment field's value in words: taxonomy codes, grades, flags, emotions."""
    if value in ("", None):
        return "—"
    if name in ("nature", "category"):
        from kesu.triage.selectors import taxonomy

        return taxonomy().label(str(value))
    if name == "flags":
        return series(_label(Flag, f) for f in str(value).split()) or "—"
    if name == "needs_review":
        return str(_("yes") if value else _("no"))
    if name in _CHOICES:
        return _label(_CHOICES[name], value)
    return str(value)


def _changes(changes: dict[str, Any]) -> str:
    return "; ".join(
        f"{FIELD_LABELS.get(name, name)}: {field_value(name, old)} → {field_value(name, new)}"
        for name, (old, new) in changes.items()
    )


def _remedy(data: dict[str, Any]) -> str:
    text = _label(RemedyType, data.get("remedy_type"))
    if data.get("remedy_amount"):
        text += f" ¥{data['remedy_amount']}"
    return text


def kind_label(kind: str) -> str:
    labels = {
        "received": _("Received"),
        "imported": _("Imported"),
        "acknowledge": _("Acknowledged"),
        "contact": _("Contacted the customer"),
        "classify": _("Classified"),
        "assign": _("Assigned"),
        "transfer": _("Transferred"),
        "investigate": _("Investigation started"),
        "request_approval": _("Approval requested"),
        "approve_remedy": _("Remedy approved"),
        "propose_remedy": _("Remedy proposed"),
        "customer_accept": _("Customer accepted the remedy"),
        "customer_reject": _("Customer rejected the remedy"),
        "start_remedy": _("Remedy started"),
        "resolve": _("Resolved"),
        "close": _("Closed"),
        "reopen": _("Reopened"),
        "mark_invalid": _("Closed as invalid"),
        "merge": _("Merged"),
        "escalate": _("Escalated"),
        "note": _("Note"),
        "attachment_added": _("Files attached"),
        "customer_message": _("The customer wrote"),
        "triaged": _("Triage updated"),
        "extend": _("Resolution extended"),
        "sla_warning": _("Deadline warning"),
        "sla_breach": _("Deadline missed"),
        "sla_escalation": _("Escalation chain"),
        "risk_alert": _("Risk alert"),
        "risk_alert_acknowledged": _("Risk alert acknowledged"),
        "escalation_risk": _("Escalation risk"),
        "reply": _("Reply to the customer"),
        "profile": _("Customer profile"),
        "survey_answered": _("Satisfaction survey answered"),
        "callback_created": _("Callback planned"),
        "callback_done": _("Callback made"),
    }
    return str(labels.get(kind, kind))


def action_label(action: str) -> str:
    """The verb on an action's button and form."""
    labels = {
        "acknowledge": _("Acknowledge"),
        "contact": _("Record contact"),
        "classify": _("Classify"),
        "assign": _("Assign"),
        "transfer": _("Transfer"),
        "investigate": _("Start investigating"),
        "request_approval": _("Request approval"),
        "approve_remedy": _("Approve remedy"),
        "propose_remedy": _("Propose remedy"),
        "customer_accept": _("Customer accepts"),
        "customer_reject": _("Customer rejects"),
        "start_remedy": _("Start remedy"),
        "resolve": _("Resolve"),
        "close": _("Close"),
        "reopen": _("Reopen"),
        "mark_invalid": _("Mark invalid"),
        "merge": _("Merge into…"),
        "escalate": _("Escalate"),
        "extend": _("Extend the deadline"),
        "acknowledge_alert": _("Acknowledge the risk alert"),
        "reply": _("Reply to the customer"),
        "profile": _("Mark the customer's profile"),
        "note": _("Add note"),
    }
    return str(labels.get(action, action))


@dataclass
class Directory:
    """Names for the codes stored in events (department codes, usernames), looked up once."""

    departments: dict[str, str] = field(default_factory=dict)
    people: dict[str, str] = field(default_factory=dict)

    @classmethod
    def for_events(cls, events: Iterable[Event]) -> Directory:
        codes: set[str] = set()
        usernames: set[str] = set()
        for event in events:
            d = event.data or {}
            codes.update(str(d[k]) for k in ("department", "from_department") if d.get(k))
            usernames.update(str(d[k]) for k in ("assignee", "from_assignee", "reassigned_to")
                             if d.get(k))  # fmt: skip
            usernames.update(str(u) for u in d.get("notified") or [])
            if d.get("agent"):
                usernames.add(str(d["agent"]))
        return cls(
            departments={dep.code: dep.name for dep in Department.objects.filter(code__in=codes)},
            people={u.username: u.label for u in User.objects.filter(username__in=usernames)},
        )

    def department(self, code: str | None) -> str:
        return self.departments.get(code or "", code or "—")

    def person(self, username: str | None) -> str:
        return self.people.get(username or "", username or "")


FIELD_LABELS = {
    "nature": _lazy("Nature"),
    "category": _lazy("Category"),
    "grade": _lazy("Grade"),
    "priority": _lazy("Priority"),
    "flags": _lazy("Risk flags"),
    "emotion": _lazy("Emotion"),
    "needs_review": _lazy("Needs review"),
}


def describe(event: Event, names: Directory | None = None) -> str:
    """One line for staff: what happened, with the details that matter."""
    text = _describe(event, names or Directory())
    change = (event.data or {}).get("risk")
    if event.kind != "escalation_risk" and isinstance(change, dict):
        text = _("%(what)s %(risk)s") % {"what": text, "risk": _risk_change(change)}
    return text


def _risk_change(d: dict[str, Any]) -> str:
    return _("Escalation risk %(from)s → %(to)s (score %(score)s).") % {
        "from": _label(RiskLevel, d.get("from")),
        "to": _label(RiskLevel, d.get("to")),
        "score": d.get("score", "?"),
    }


def _describe(event: Event, names: Directory) -> str:
    d = event.data or {}
    kind = event.kind
    if kind == "received":
        text = _("Received through %(channel)s.") % {"channel": _label(Channel, d.get("channel"))}
        if d.get("attachments"):
            text += " " + _("Files: %(files)s.") % {"files": ", ".join(d["attachments"])}
        return text
    if kind == "imported":
        text = _("Imported from %(source)s (id %(id)s, row %(row)s of %(file)s).") % {
            "source": d.get("source", "?"),
            "id": d.get("source_id", "?"),
            "row": d.get("row", "?"),
            "file": d.get("file", "?"),
        }
        if d.get("overdue"):
            text += " " + _("Already overdue then: %(targets)s.") % {
                "targets": series(_target(t) for t in d["overdue"])
            }
        return text
    if kind == "escalation_risk":
        return _risk_change(d)
    if kind == "contact":
        reached = _("reached") if d.get("reached") else _("not reached")
        method = _(CONTACT_METHODS.get(d.get("method", ""), "Other"))
        return f"{method} ({reached}): {d.get('summary', '')}"
    if kind == "classify":
        text = _changes(d.get("changes") or {})
        if d.get("confirmed"):
            confirmed = _("Confirmed: %(values)s.") % {
                "values": "; ".join(
                    f"{FIELD_LABELS.get(name, name)} {field_value(name, value)}"
                    for name, value in d["confirmed"].items()
                )
            }
            text = f"{text}; {confirmed}" if text else confirmed
        return text
    if kind == "triaged":
        return _("Triage read the complaint again (%(trigger)s): %(changes)s") % {
            "trigger": _("the customer wrote again")
            if d.get("trigger") == "customer_message"
            else d.get("trigger", ""),
            "changes": _changes(d.get("changes") or {}),
        }
    if kind == "customer_message":
        text = str(d.get("text", ""))
        if d.get("attachments"):
            text += " " + _("Files: %(files)s.") % {"files": ", ".join(d["attachments"])}
        if d.get("refused_files"):
            text += " " + _("Not kept: %(reasons)s") % {"reasons": " ".join(d["refused_files"])}
        return text
    if kind in ("assign", "transfer"):
        text = _("To %(department)s / %(assignee)s.") % {
            "department": names.department(d.get("department")),
            "assignee": names.person(d.get("assignee")) or _("anyone in the department"),
        }
        if d.get("reason"):
            text += " " + _("Reason: %(reason)s") % {"reason": d["reason"]}
        return text
    if kind == "investigate" and d.get("assignee"):
        return _("Taken by %(assignee)s.") % {"assignee": names.person(d["assignee"])}
    if kind in ("propose_remedy", "request_approval"):
        return f"{_remedy(d)}: {d.get('remedy_description', '')}"
    if kind == "approve_remedy":
        return f"{_remedy(d)}. {d.get('note', '')}".strip()
    if kind in ("customer_reject", "reopen", "mark_invalid"):
        return _("Reason: %(reason)s") % {"reason": d.get("reason", "")}
    if kind == "start_remedy":
        return _("Due %(due)s.") % {"due": d["remedy_due"][:16]} if d.get("remedy_due") else ""
    if kind == "resolve":
        return _("Responsibility: %(r)s. Root cause: %(cause)s") % {
            "r": _label(Responsibility, d.get("responsibility")),
            "cause": d.get("root_cause", ""),
        }
    if kind == "close":
        if d.get("satisfaction"):
            return _("Satisfaction %(score)s/5.") % {"score": d["satisfaction"]}
        return ""
    if kind == "merge":
        return _("Merged into %(ref)s.") % {"ref": d.get("target", "")}
    if kind == "escalate":
        return _("Level %(level)s: %(reason)s") % {
            "level": _label(EscalationLevel, d.get("level")),
            "reason": d.get("reason", ""),
        }
    if kind == "note":
        return str(d.get("text", ""))
    if kind == "attachment_added":
        text = ", ".join(d.get("files", []))
        if d.get("refused_files"):
            refused = _("Not kept: %(reasons)s") % {"reasons": " ".join(d["refused_files"])}
            text = f"{text} {refused}" if text else refused
        return text
    if kind == "profile":
        from kesu.customers.models import Profile

        text = f"{_label(Profile, d.get('from'))} → {_label(Profile, d.get('to'))}"
        return f"{text}. {d['reason']}" if d.get("reason") else text
    if kind in ("reply", "survey_answered", "callback_created", "callback_done"):
        return _describe_follow_up(kind, d, names)
    return _describe_sla(kind, d, names)


def _describe_follow_up(kind: str, d: dict[str, Any], names: Directory) -> str:
    """Replies, the satisfaction survey and callbacks (issue: handling quality)."""
    if kind == "reply":
        text = str(d.get("text", ""))
        if d.get("override_reason"):
            text += " " + _("(Sent despite warnings: %(reason)s)") % {
                "reason": d["override_reason"]
            }
        return text
    if kind == "survey_answered":
        solved = _("solved") if d.get("resolved") else _("not solved")
        text = _("The customer says: %(solved)s, satisfaction %(score)s/5.") % {
            "solved": solved, "score": d.get("score"),
        }  # fmt: skip
        return f"{text} {d.get('comment', '')}".strip()
    if kind == "callback_created":
        return _("No answer to the survey: %(agent)s calls the customer by %(due)s.") % {
            "agent": names.person(d.get("agent")) or _("an agent"), "due": _local(d.get("due")),
        }  # fmt: skip
    if d.get("timed_out"):
        return _("The callback was not made in time; the case closes.")
    outcome = {
        "reached_satisfied": _("reached, satisfied"),
        "reached_unsatisfied": _("reached, not satisfied"),
        "unreachable": _("could not be reached"),
    }.get(d.get("outcome", ""), "")
    text = _("The customer %(outcome)s.") % {"outcome": outcome}
    if d.get("score"):
        text += " " + _("Satisfaction %(score)s/5.") % {"score": d["score"]}
    return f"{text} {d.get('note', '')}".strip()


def _target(code: str | None) -> str:
    from kesu.sla.models import Target

    return _label(Target, code)


def _local(value: str | None) -> str:
    from datetime import datetime

    from django.utils import timezone

    if not value:
        return ""
    return f"{timezone.localtime(datetime.fromisoformat(value)):%Y-%m-%d %H:%M}"


def _describe_sla(kind: str, d: dict[str, Any], names: Directory) -> str:
    """Deadlines, the escalation chain and risk alerts (issue: SLA)."""
    people = series(names.person(u) for u in d.get("notified") or []) or _("nobody")
    if kind == "sla_warning":
        return _("%(target)s is due at %(due)s.") % {
            "target": _target(d.get("target")), "due": _local(d.get("due")),
        }  # fmt: skip
    if kind == "sla_breach":
        return _("%(target)s was due at %(due)s and is late.") % {
            "target": _target(d.get("target")), "due": _local(d.get("due")),
        }  # fmt: skip
    if kind == "sla_escalation":
        text = _("Level %(level)s (%(target)s): told %(people)s.") % {
            "level": d.get("level"), "target": _target(d.get("target")), "people": people,
        }  # fmt: skip
        if d.get("reassigned_to"):
            text += " " + _("Now held by %(name)s.") % {"name": names.person(d["reassigned_to"])}
        return text
    if kind == "risk_alert":
        text = _("%(flags)s — level %(level)s: told %(people)s.") % {
            "flags": field_value("flags", " ".join(d.get("flags") or [])),
            "level": d.get("level"), "people": people,
        }  # fmt: skip
        if d.get("cause") == "not_acknowledged":
            text += " " + _("Nobody acknowledged it in time.")
        return text
    if kind == "risk_alert_acknowledged":
        return str(d.get("note", ""))
    if kind == "extend":
        return _("Resolve by %(due)s (allowed %(allowed)s). Reason: %(reason)s") % {
            "due": _local(d.get("resolve_due")), "allowed": d.get("allowed", ""),
            "reason": d.get("reason", ""),
        }  # fmt: skip
    return ""


def kind_label_for_customer(kind: str) -> str:
    if kind == "customer_message":
        return str(_("You wrote"))
    if kind == "reply":
        return str(_("Our reply"))
    return kind_label(kind)


def describe_for_customer(event: Event) -> str:
    """The customer's line for a customer-visible event: no staff names, no internal notes."""
    d = event.data or {}
    kind = event.kind
    texts = {
        "received": _("We received your complaint."),
        "acknowledge": _("Your complaint has been accepted and is being handled."),
        "contact": _("We contacted you."),
        "investigate": _("We are looking into your complaint."),
        "customer_accept": _("You accepted our proposal."),
        "customer_reject": _("You did not accept our proposal; we are looking at it again."),
        "start_remedy": _("We are carrying out what we agreed."),
        "resolve": _("Your complaint has been resolved."),
        "close": _("Your complaint is closed."),
        "reopen": _("Your complaint has been reopened."),
    }
    if kind in ("propose_remedy", "approve_remedy"):
        return _("We propose: %(remedy)s — %(what)s") % {
            "remedy": _remedy(d),
            "what": d.get("remedy_description", ""),
        }
    if kind == "mark_invalid":
        return _("After review, your complaint was closed: %(reason)s") % {
            "reason": d.get("reason", "")
        }
    if kind == "merge":
        return _("Your complaint is handled together with %(ref)s.") % {"ref": d.get("target", "")}
    if kind == "reply":
        return str(d.get("text", ""))
    if kind == "survey_answered":
        return _("You told us how satisfied you are: %(score)s/5. Thank you.") % {
            "score": d.get("score")
        }
    if kind == "extend":
        return _("We need more time: we will resolve your complaint by %(due)s. %(reason)s") % {
            "due": _local(d.get("resolve_due")), "reason": d.get("reason", ""),
        }  # fmt: skip
    if kind in ("note", "customer_message"):
        return str(d.get("text", ""))
    return str(texts.get(kind, kind_label(kind)))


def state_label(state: str) -> str:
    return _label(State, state)
