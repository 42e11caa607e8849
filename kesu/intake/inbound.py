"""What every channel does with a message: take it once, and say what became of it.

A message is an InboundMessage keyed by (source, external id). `take_once()` answers a message
seen before with its first record, and a concurrent twin (the unique key refused it) likewise;
`rejected()` keeps a message whose handling failed — its transaction wrote nothing — as a
rejected record with the reason. The channels (email_channel, chat, mentions) build on these.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from django.db import IntegrityError, transaction

from kesu.intake.models import InboundMessage, Outcome


@dataclass(frozen=True)
class Taken:
    """What became of one message; `again` when it had been received before."""

    record: InboundMessage
    again: bool = False

    def outcome(self, key: str, value: str) -> dict[str, object]:
        """One item of a batch's answer, named by `key` (the message id, a post's URL)."""
        record = self.record
        answer: dict[str, object] = {key: value, "outcome": record.outcome}
        if record.complaint is not None and record.outcome in (Outcome.CREATED, Outcome.JOINED):
            answer["reference"] = record.complaint.reference
        if record.reason:
            answer["reason"] = record.reason
        if self.again:
            answer["again"] = True
        return answer


def earlier(source_key: str, external_id: str) -> InboundMessage | None:
    return (
        InboundMessage.objects.select_related("complaint")
        .filter(source_key=source_key, external_id=external_id)
        .first()
    )


def take_once(
    source_key: str, external_id: str, receive: Callable[[], InboundMessage]
) -> tuple[InboundMessage, bool]:
    """(the record, whether it was there before): `receive()` runs only for a new message."""
    found = earlier(source_key, external_id)
    if found is not None:
        return found, True
    try:
        return receive(), False
    except IntegrityError:
        # The same message arrived twice at once (two pollers, a client's retry): answer as
        # the first did.
        found = earlier(source_key, external_id)
        if found is None:
            raise
        return found, True


def rejected(record: InboundMessage, reason: str) -> InboundMessage:
    """Keep the message, refused: its handling rolled back, so the record is written anew."""
    record.pk = None
    record.complaint = record.conversation = None
    record.customer = None
    record.outcome, record.reason = Outcome.REJECTED, reason[:300]
    with transaction.atomic():
        record.save()
    return record
