"""Use cases on an existing complaint other than workflow actions: evidence and access records."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime
from typing import Any

from django.db import transaction
from django.utils import timezone

from kesu.accounts.models import Role, User
from kesu.complaints import attachments as files
from kesu.complaints.models import AccessLog, Attachment, Complaint, Event
from kesu.complaints.selectors import can_view
from kesu.errors import Forbidden, NotFound


@contextmanager
def files_removed_on_error(saved: list[Attachment]) -> Iterator[None]:
    """Delete stored files if the transaction that recorded them fails: nothing half-written."""
    try:
        yield
    except BaseException:
        for attachment in saved:
            if attachment.file.name:
                attachment.file.storage.delete(attachment.file.name)
        raise


def add_attachments(
    *,
    complaint: Complaint,
    uploads: list[files.CheckedUpload],
    by: User,
    internal: bool,
) -> list[Attachment]:
    """Attach evidence files to a complaint, with one `attachment_added` Event."""
    if not can_view(by, complaint):
        raise NotFound("No such complaint.")
    if by.role == Role.AUDITOR:
        raise Forbidden("Auditors only read.")
    saved: list[Attachment] = []
    now = timezone.now()
    with files_removed_on_error(saved), transaction.atomic():
        for upload in uploads:
            saved.append(files.store(complaint, upload, by=by, internal=internal, at=now))
        attachments_event(complaint, saved, by=by, internal=internal, at=now)
    return saved


def attachments_event(
    complaint: Complaint,
    saved: list[Attachment],
    *,
    by: User | None,
    internal: bool,
    at: datetime,
    data: dict[str, Any] | None = None,
) -> Event:
    """The `attachment_added` event for files stored on a complaint (by None: the customer's,
    fetched by a channel)."""
    return Event.objects.create(
        complaint=complaint,
        kind="attachment_added",
        actor=by,
        at=at,
        from_state=complaint.state,
        to_state=complaint.state,
        data={"files": [a.original_name for a in saved], "internal": internal, **(data or {})},
        customer_visible=False,
    )


def record_access(*, user: User, complaint: Complaint, via: AccessLog.Via) -> None:
    """Note that a member of staff opened the full record (personal data is auditable)."""
    AccessLog.objects.create(user=user, complaint=complaint, via=via)
