"""Periodic intake work."""

from __future__ import annotations

from django.utils import timezone

from kesu.intake.models import IdempotencyKey
from kesu.intake.services import IDEMPOTENCY_WINDOW


def purge_idempotency_keys() -> int:
    """Forget keys older than 24 h (their stored answers hold tracking tokens)."""
    deleted, _ = IdempotencyKey.objects.filter(
        created_at__lt=timezone.now() - IDEMPOTENCY_WINDOW
    ).delete()
    return deleted
