"""Use cases for outbound messages: queue them in the caller's transaction."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from django.conf import settings
from django.db.models import QuerySet
from django.template.loader import render_to_string
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from kesu import rows
from kesu.accounts.models import User
from kesu.complaints.models import Complaint, Event
from kesu.notify.models import Notification, OutboxChannel, OutboxMessage, OutboxStatus, Robot
from kesu.scheduler import wake_after_commit

# Messages to customers, by kind; the templates are notify/customer_<kind>.txt (first line
# is the subject) and notify/customer_<kind>.sms.txt.
CUSTOMER_KINDS = (
    "acknowledgement", "remedy_proposed", "resolved", "invalid", "message", "extended",
)  # fmt: skip


def queue_message(
    *,
    channel: OutboxChannel,
    recipient: str,
    body: str,
    kind: str,
    subject: str = "",
    complaint: Complaint | None = None,
    batch: rows.Batch | None = None,
) -> OutboxMessage:
    """Write one outbound message (into `batch` if given); it is delivered after the commit."""
    message = OutboxMessage(
        channel=channel,
        kind=kind,
        recipient=recipient,
        subject=subject[:200],
        body=body,
        complaint=complaint,
        next_attempt_at=timezone.now(),
    )
    return batch.add(message) if batch is not None else rows.add(message)


def tracking_url(complaint: Complaint, token: str | None) -> str:
    base = f"{settings.KESU_BASE_URL}/track/{complaint.reference}/"
    return f"{base}?token={token}" if token else base


def notify_customer(
    complaint: Complaint,
    kind: str,
    *,
    event: Event | None = None,
    token: str | None = None,
    batch: rows.Batch | None = None,
    link: str | None = None,
) -> list[OutboxMessage]:
    """Queue the customer's message of this kind by email, or by SMS when there is no email.

    `link` is a page the message invites the customer to (the satisfaction survey)."""
    if kind not in CUSTOMER_KINDS:
        raise ValueError(f"unknown customer message kind {kind!r}")
    customer = complaint.customer
    context = {
        "complaint": complaint,
        "customer": customer,
        "event": event,
        "data": event.data if event else {},
        "tracking_url": tracking_url(complaint, token),
        "link": link,
        "org_name": settings.KESU_ORG_NAME,
    }
    messages: list[OutboxMessage] = []
    with translation.override(complaint.language or customer.language):
        if customer.email:
            text = render_to_string(f"notify/customer_{kind}.txt", context).strip()
            subject, _, body = text.partition("\n")
            messages.append(
                queue_message(
                    channel=OutboxChannel.EMAIL,
                    recipient=customer.email,
                    subject=subject.strip(),
                    body=body.strip() + "\n",
                    kind=kind,
                    complaint=complaint,
                    batch=batch,
                )
            )
        elif customer.phone:
            body = render_to_string(f"notify/customer_{kind}.sms.txt", context).strip()
            messages.append(
                queue_message(
                    channel=OutboxChannel.SMS,
                    recipient=customer.phone,
                    body=body,
                    kind=kind,
                    complaint=complaint,
                    batch=batch,
                )
            )
    return messages


def retry(messages: QuerySet[OutboxMessage]) -> int:
    """Queue failed or dead messages for delivery again, now."""
    return messages.filter(status__in=[OutboxStatus.RETRYING, OutboxStatus.DEAD]).update(
        status=OutboxStatus.PENDING, next_attempt_at=timezone.now(), claimed_until=None
    )


# --- Staff: warnings, breaches, escalations and risk alerts ---------------------------------------

STAFF_KINDS = (
    "sla_warning", "sla_breach", "sla_escalation", "risk_alert", "survey_unsatisfied", "callback",
    "customer_wrote", "escalation_risk",
)  # fmt: skip


def case_url(complaint: Complaint) -> str:
    return f"{settings.KESU_BASE_URL}/work/c/{complaint.reference}/"


def staff_text(kind: str, complaint: Complaint, data: dict[str, Any]) -> tuple[str, str]:
    """A staff message's title and text in the active language, from its kind and facts."""
    from kesu.complaints.events import field_value
    from kesu.sla.models import Target

    target = str(Target(data["target"]).label) if data.get("target") else ""
    due = _local(data.get("due"))
    facts = {"ref": complaint.reference, "target": target, "due": due,
             "level": data.get("level", ""), "channel": _channel(data.get("channel")),
             "flags": field_value("flags", " ".join(data.get("flags", []))),
             "score": data.get("score", "")}  # fmt: skip
    title = {
        "sla_warning": _("%(ref)s: %(target)s due at %(due)s"),
        "sla_breach": _("%(ref)s: %(target)s overdue since %(due)s"),
        "sla_escalation": _("%(ref)s escalated to level %(level)s: %(target)s overdue"),
        "risk_alert": _("Risk alert %(ref)s: %(flags)s — acknowledge by %(due)s"),
        "survey_unsatisfied": _("%(ref)s reopened: the customer is not satisfied"),
        "callback": _("Call back about %(ref)s by %(due)s (no answer to the survey)"),
        "customer_wrote": _("%(ref)s: the customer wrote again (%(channel)s)"),
        "escalation_risk": _("%(ref)s: high risk of escalation (score %(score)s)"),
    }[kind] % facts
    lines = [complaint.subject, case_url(complaint)]
    if data.get("reassigned_to"):
        lines.insert(
            1, _("The case is now assigned to %(name)s.") % {"name": data["reassigned_to"]}
        )
    return title, "\n".join(lines) + "\n"


def _channel(code: Any) -> str:
    from kesu.complaints.models import Channel

    return str(Channel(code).label) if code in Channel.values else str(code or "")


def _local(value: Any) -> str:
    if not value:
        return ""
    moment = datetime.fromisoformat(value) if isinstance(value, str) else value
    return f"{timezone.localtime(moment):%m-%d %H:%M}"


def staff_messages(
    *,
    complaint: Complaint,
    kind: str,
    users: Sequence[User],
    robots: Sequence[Robot],
    data: dict[str, Any],
    now: datetime,
) -> tuple[list[Notification], list[OutboxMessage]]:
    """The unsaved rows that tell these people and group chats: in-app, email, SMS, robots.

    In-app always; email and SMS as each person chose (User.notify_by_*); a robot posts in its
    group's chat, in the organisation's language.
    """
    if kind not in STAFF_KINDS:
        raise ValueError(f"unknown staff message kind {kind!r}")
    notes: list[Notification] = []
    messages: list[OutboxMessage] = []
    for user in dict.fromkeys(users):
        notes.append(Notification(user=user, complaint=complaint, kind=kind, data=data,
                                  created_at=now))  # fmt: skip
        with translation.override(user.language or settings.LANGUAGE_CODE):
            title, text = staff_text(kind, complaint, data)
        if user.notify_by_email and user.email:
            messages.append(OutboxMessage(channel=OutboxChannel.EMAIL, kind=kind,
                                          recipient=user.email, subject=title[:200], body=text,
                                          complaint=complaint, next_attempt_at=now))  # fmt: skip
        if user.notify_by_sms and user.mobile:
            messages.append(OutboxMessage(channel=OutboxChannel.SMS, kind=kind,
                                          recipient=user.mobile, body=f"{title}\n{text}",
                                          complaint=complaint, next_attempt_at=now))  # fmt: skip
    if robots:
        with translation.override(settings.LANGUAGE_CODE):
            title, text = staff_text(kind, complaint, data)
        for robot in robots:
            messages.append(OutboxMessage(channel=robot.channel, kind=kind, robot=robot,
                                          recipient=robot.name[:254], subject=title[:200],
                                          body=text, complaint=complaint,
                                          next_attempt_at=now))  # fmt: skip
    return notes, messages


def notify_staff(
    *,
    complaint: Complaint,
    kind: str,
    users: Sequence[User],
    robots: Sequence[Robot] = (),
    data: dict[str, Any],
    now: datetime,
) -> None:
    """Tell people and group chats about a complaint, in the caller's transaction."""
    notes, messages = staff_messages(
        complaint=complaint, kind=kind, users=users, robots=robots, data=data, now=now
    )
    Notification.objects.bulk_create(notes)
    OutboxMessage.objects.bulk_create(messages)
    if messages:
        wake_after_commit()


# --- The bell and one's own channels -------------------------------------------------------------


def mark_read(user: User, *, complaint: Complaint | None = None) -> int:
    """Mark the user's unread notifications read (those of one complaint, or all)."""
    unread = Notification.objects.filter(user=user, read_at__isnull=True)
    if complaint is not None:
        unread = unread.filter(complaint=complaint)
    return unread.update(read_at=timezone.now())


def set_my_channels(user: User, *, email: str, mobile: str, by_email: bool, by_sms: bool) -> User:
    """Where the user is told of warnings and alerts; InvalidInput names a wrong field."""
    from django.core.exceptions import ValidationError
    from django.core.validators import validate_email

    from kesu.customers.contact import normalise_phone
    from kesu.errors import FieldError, InvalidInput

    errors: list[FieldError] = []
    email, mobile = email.strip(), mobile.strip()
    if email:
        try:
            validate_email(email)
        except ValidationError:
            errors.append(FieldError("email", _("%(value)s is not a valid email address.")
                                     % {"value": email}))  # fmt: skip
    if mobile:
        try:
            mobile = normalise_phone(mobile)
        except ValueError:
            errors.append(FieldError("mobile", _("%(value)s is not a valid phone number.")
                                     % {"value": mobile}))  # fmt: skip
    if by_email and not email:
        errors.append(FieldError("email", _("Give an email address to be told by email.")))
    if by_sms and not mobile:
        errors.append(FieldError("mobile", _("Give a mobile number to be told by SMS.")))
    if errors:
        raise InvalidInput(errors)
    user.email, user.mobile = email, mobile
    user.notify_by_email, user.notify_by_sms = by_email, by_sms
    user.save(update_fields=["email", "mobile", "notify_by_email", "notify_by_sms"])
    return user
