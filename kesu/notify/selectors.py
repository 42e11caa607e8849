"""Reads for the bell, the notifications page and the outbox page."""

from __future__ import annotations

from dataclasses import dataclass

from django.db.models import QuerySet
from django.utils import translation

from kesu.accounts.models import Role, User
from kesu.notify.models import Notification, OutboxMessage, OutboxStatus
from kesu.notify.services import staff_text

# Who sees undelivered messages and may send them again.
OUTBOX_ROLES = frozenset({Role.MANAGER, Role.ADMIN})


def unread_count(user: User) -> int:
    """The bell's number (served by notification_unread)."""
    return Notification.objects.filter(user=user, read_at__isnull=True).count()


@dataclass(frozen=True)
class NotificationRow:
    note: Notification
    title: str


def inbox(user: User, limit: int = 50) -> list[NotificationRow]:
    """The user's newest notifications, each with its text in the user's language."""
    notes = (
        Notification.objects.filter(user=user)
        .select_related("complaint")
        .order_by("-created_at", "-pk")[:limit]
    )
    rows = []
    with translation.override(translation.get_language()):
        for note in notes:
            title = staff_text(note.kind, note.complaint, note.data)[0] if note.complaint else ""
            rows.append(NotificationRow(note, title))
    return rows


def undelivered(user: User) -> QuerySet[OutboxMessage]:
    """Messages still retrying or given up (the dead-letter list); managers and admins only."""
    if user.role not in OUTBOX_ROLES:
        return OutboxMessage.objects.none()
    return (
        OutboxMessage.objects.filter(status__in=[OutboxStatus.RETRYING, OutboxStatus.DEAD])
        .select_related("complaint")
        .order_by("-created_at", "-pk")
    )
