"""Use cases for outbound messages: queue them in the caller's transaction."""

from __future__ import annotations

from django.conf import settings
from django.db.models import QuerySet
from django.template.loader import render_to_string
from django.utils import timezone, translation

from kesu import rows
from kesu.complaints.models import Complaint, Event
from kesu.notify.models import OutboxChannel, OutboxMessage, OutboxStatus

# Messages to customers, by kind; the templates are notify/customer_<kind>.txt (first line
# is the subject) and notify/customer_<kind>.sms.txt.
CUSTOMER_KINDS = ("acknowledgement", "remedy_proposed", "resolved", "invalid", "message")


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
) -> list[OutboxMessage]:
    """Queue the customer's message of this kind by email, or by SMS when there is no email."""
    if kind not in CUSTOMER_KINDS:
        raise ValueError(f"unknown customer message kind {kind!r}")
    customer = complaint.customer
    context = {
        "complaint": complaint,
        "customer": customer,
        "event": event,
        "data": event.data if event else {},
        "tracking_url": tracking_url(complaint, token),
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
