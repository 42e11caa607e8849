"""What intake must remember: idempotency keys of accepted requests (24 h)."""

from __future__ import annotations

from django.db import models

from kesu.complaints.models import Complaint


class IdempotencyKey(models.Model):
    """A client's Idempotency-Key and the answer it got, so that a retry gets the same answer.

    The answer includes the tracking token, so rows are deleted after 24 hours
    (intake.jobs.purge_idempotency_keys).
    """

    key = models.CharField(max_length=255, unique=True)
    fingerprint = models.CharField(max_length=64)
    complaint = models.ForeignKey(
        Complaint, on_delete=models.CASCADE, null=True, blank=True, related_name="+"
    )
    response = models.JSONField()
    created_at = models.DateTimeField(db_index=True)

    def __str__(self) -> str:
        return self.key
