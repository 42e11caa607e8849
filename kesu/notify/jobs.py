"""Delivery of the outbox: claim due rows, send them, record the answer, retry with back-off."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.conf import settings
from django.core.mail import EmailMessage
from django.db import connection, transaction
from django.db.models import Q
from django.utils import timezone

from kesu.notify import channels
from kesu.notify.models import ROBOT_CHANNELS, OutboxChannel, OutboxMessage, OutboxStatus

log = logging.getLogger(__name__)

MAX_ATTEMPTS = 8
CLAIM_FOR = timedelta(minutes=5)


@dataclass(frozen=True)
class DispatchResult:
    sent: int
    failed: int


def backoff(attempts: int) -> timedelta:
    """30 s, 1 min, 2 min … capped at 1 h."""
    return timedelta(seconds=min(3600, 30 * 2 ** max(0, attempts - 1)))


def _claim(limit: int, now: datetime) -> list[OutboxMessage]:
    # The first filter repeats the outbox_due index's condition literally (in_codes), so that
    # both databases walk that index; of its rows, those being sent are taken only once their
    # dispatcher's claim has lapsed (it died).
    open_rows = OutboxMessage.objects.filter(
        status__in_codes=[OutboxStatus.PENDING, OutboxStatus.RETRYING, OutboxStatus.SENDING],
        next_attempt_at__lte=now,
    )
    not_claimed = Q(status__in=[OutboxStatus.PENDING, OutboxStatus.RETRYING])
    with transaction.atomic():
        qs = (
            open_rows.filter(not_claimed | Q(claimed_until__lt=now))
            .select_related("robot", "complaint")
            .order_by("next_attempt_at", "id")
        )
        if connection.features.has_select_for_update_skip_locked:
            # Two dispatchers never take the same row: each skips what the other has locked.
            qs = qs.select_for_update(skip_locked=True, of=("self",))
        # On SQLite the IMMEDIATE transaction already makes the claim exclusive.
        rows = list(qs[:limit])
        ids = [row.pk for row in rows]
        OutboxMessage.objects.filter(pk__in=ids).update(
            status=OutboxStatus.SENDING, claimed_until=now + CLAIM_FOR
        )
    return rows


def _send(message: OutboxMessage) -> str:
    """Deliver one message; return the provider's answer or raise (DeliveryError says why)."""
    timeout = settings.KESU_NOTIFY_TIMEOUT
    if message.channel == OutboxChannel.EMAIL:
        count = EmailMessage(
            subject=message.subject,
            body=message.body,
            from_email=settings.DEFAULT_FROM_EMAIL,
            to=[message.recipient],
            headers=_email_headers(message),
        ).send(fail_silently=False)
        return f"email backend accepted {count} message(s)"
    if message.channel == OutboxChannel.SMS:
        if settings.KESU_SMS_PROVIDER == "log":
            log.info("SMS to %s: %s", message.recipient, message.body)
            return "logged (KESU_SMS_PROVIDER=log)"
        return channels.send_sms_http(
            settings.KESU_SMS_HTTP_URL,
            token=settings.KESU_SMS_HTTP_TOKEN,
            to=message.recipient,
            text=message.body,
            timeout=timeout,
        )
    if message.channel in ROBOT_CHANNELS:
        robot = message.robot
        if robot is None or not robot.is_active:
            raise channels.DeliveryError("the robot was removed or switched off")
        if robot.channel == OutboxChannel.DINGTALK:
            return channels.send_dingtalk(
                robot.webhook,
                secret=robot.secret,
                title=message.subject,
                text=f"### {message.subject}\n{message.body}",
                timeout=timeout,
            )
        if robot.channel == OutboxChannel.WECOM:
            return channels.send_wecom(
                robot.webhook, title=message.subject, text=message.body, timeout=timeout
            )
        return channels.send_feishu(
            robot.webhook,
            secret=robot.secret,
            title=message.subject,
            text=message.body,
            timeout=timeout,
        )
    raise RuntimeError(f"unknown channel {message.channel!r}")


def _email_headers(message: OutboxMessage) -> dict[str, str]:
    """A Message-ID that a reply quotes, so that the reply finds its case (intake email), and
    Auto-Submitted on what no person wrote, so that well-behaved robots do not answer it."""
    from kesu.intake.email_channel import message_id_for

    complaint = message.complaint
    reference = complaint.reference if complaint is not None else "KS-00000000-000000"
    headers = {"Message-ID": message_id_for(message.pk, reference)}
    if message.kind != "message":  # an agent's reply to the customer is a person's mail
        headers["Auto-Submitted"] = "auto-generated"
    return headers


def _why(error: Exception) -> str:
    if isinstance(error, channels.DeliveryError):
        return error.answer  # the provider's own words, without secrets
    return f"{type(error).__name__}: {error}"


def dispatch(*, limit: int = 100) -> DispatchResult:
    """Deliver due outbox rows; safe to run in several processes at once."""
    now = timezone.now()
    sent = failed = 0
    for message in _claim(limit, now):
        attempts = message.attempts + 1
        try:
            answer = _send(message)
        except Exception as error:
            failed += 1
            dead = attempts >= MAX_ATTEMPTS
            log.warning("outbox %s failed (attempt %s): %s", message.pk, attempts, error)
            OutboxMessage.objects.filter(pk=message.pk).update(
                status=OutboxStatus.DEAD if dead else OutboxStatus.RETRYING,
                attempts=attempts,
                last_error=_why(error)[:2000],
                next_attempt_at=timezone.now() + backoff(attempts),
                claimed_until=None,
            )
            continue
        sent += 1
        OutboxMessage.objects.filter(pk=message.pk).update(
            status=OutboxStatus.SENT,
            attempts=attempts,
            provider_response=answer[:2000],
            sent_at=timezone.now(),
            claimed_until=None,
        )
    return DispatchResult(sent=sent, failed=failed)
