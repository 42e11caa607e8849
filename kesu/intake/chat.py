"""Chat and messaging channels: a message joins its conversation's open case or, when triage
judges it a complaint, opens one.

Every chat adapter (the signed JSON webhook, WeChat official accounts, WeCom) turns what it
receives into a ChatMessage and calls `receive_chat()`. A conversation (a chat session, a WeChat
user's thread) remembers its customer and its complaint: while that complaint is open, every
message of the conversation is a customer message on it. Otherwise the message is judged
(triage.judge): a question or a greeting is recorded and ignored, and when a later message of
the same conversation is a complaint, the earlier ones of the last day are its context.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import partial

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from kesu.complaints import attachments as files
from kesu.complaints.forms import MAX_TEXT
from kesu.complaints.models import Attachment, Complaint
from kesu.complaints.services import attachments_event, files_removed_on_error
from kesu.customers.contact import normalise_email, normalise_phone
from kesu.customers.models import ContactKind
from kesu.errors import InvalidInput, KesuError
from kesu.intake.inbound import Taken, rejected, take_once
from kesu.intake.models import Conversation, InboundMessage, Outcome, Source
from kesu.intake.services import MAX_MESSAGE, IncomingComplaint, _add_message, receive
from kesu.scheduler import wake_after_commit
from kesu.triage.judge import judge

# Earlier messages of a conversation read as the context of the complaint that follows them.
CONTEXT_WINDOW = timedelta(hours=24)
CONTEXT_MESSAGES = 10


@dataclass(frozen=True)
class ChatCustomer:
    """Who wrote, as far as the channel knows; every field optional."""

    name: str = ""
    phone: str = ""  # normalised (customers.contact.normalise_phone)
    email: str = ""  # normalised
    external_id: str = ""  # the chat system's own user id
    wechat_openid: str = ""
    wechat_unionid: str = ""
    id_card_key: str = ""  # customers.contact.id_card_key of a given ID number

    def identifiers(self, source: Source) -> tuple[tuple[str, str], ...]:
        found = [
            (ContactKind.WECHAT_UNIONID, self.wechat_unionid),
            (ContactKind.WECHAT_OPENID, self.wechat_openid),
            (ContactKind.ID_CARD, self.id_card_key),
            # A chat system's user ids are its own: namespaced by the source.
            (ContactKind.EXTERNAL_ID, f"{source.code}:{self.external_id}"[:200]
             if self.external_id else ""),
        ]  # fmt: skip
        return tuple((kind, value) for kind, value in found if value)


@dataclass(frozen=True)
class ChatFile:
    """A photo, voice message, video or file the customer sent, as the channel fetched it."""

    name: str
    data: bytes
    content_type: str


@dataclass(frozen=True)
class ChatMessage:
    id: str
    conversation: str
    text: str
    sent_at: datetime | None = None
    customer: ChatCustomer = ChatCustomer()
    language: str = "zh-hans"
    files: tuple[ChatFile, ...] = ()
    # What the channel could not fetch (a reason each): said on the record and the case.
    missing: tuple[str, ...] = ()
    # Files to fetch after the message is taken, as (kind, media id): intake.media.
    pending: tuple[tuple[str, str], ...] = ()


class ChatResult(Taken):
    def answer(self) -> dict[str, object]:
        return self.outcome("id", self.record.external_id)


def source_key(source: Source) -> str:
    return f"{source.kind}:{source.code}"


def contact_fields(phone: str, email: str) -> tuple[str, str]:
    """Normalised phone and email, or InvalidInput naming the one that is wrong."""
    try:
        phone = normalise_phone(phone) if phone else ""
    except ValueError:
        raise InvalidInput.one(
            "customer.phone", _("%(value)s is not a valid phone number.") % {"value": phone}
        ) from None
    try:
        email = normalise_email(email) if email else ""
    except ValueError:
        raise InvalidInput.one(
            "customer.email", _("%(value)s is not a valid email address.") % {"value": email}
        ) from None
    return phone, email


def receive_chat(
    source: Source, message: ChatMessage, *, now: datetime | None = None
) -> ChatResult:
    """Take one chat message once (by its id within the source); see the module docstring."""
    key = source_key(source)
    at = now or timezone.now()
    record, again = take_once(key, message.id, partial(_receive, source, key, message, at))
    return ChatResult(record, again)


def _receive(source: Source, key: str, message: ChatMessage, now: datetime) -> InboundMessage:
    at = min(message.sent_at or now, now)
    text = message.text.replace("\x00", "").strip()
    uploads, refused = files.check_received((f.name, f.data, f.content_type) for f in message.files)
    refused += message.missing
    if not text and (message.files or message.missing or message.pending):
        text = _("(files only)")  # the event and the record name them
    record = InboundMessage(
        source_key=key,
        external_id=message.id,
        channel=source.channel,
        received_at=at,
        sender=(message.customer.name or message.customer.external_id
                or message.customer.wechat_openid)[:254],
        summary=text[:60],
        text=text[:MAX_TEXT],
    )  # fmt: skip
    if refused:
        record.reason = "; ".join(refused)[:300]
    if message.pending:
        record.pending_media = [{"kind": k, "media_id": m} for k, m in message.pending]
        record.media_due_at = now
    saved: list[Attachment] = []
    try:
        with files_removed_on_error(saved), transaction.atomic():
            record.save()
            if message.pending:
                wake_after_commit()
            conversation = _conversation(source, message.conversation, at)
            record.conversation = conversation
            case = _open_case(conversation)
            if case is not None:
                _add_message(
                    case,
                    text=_cut(text, MAX_MESSAGE),
                    channel=source.channel,
                    now=at,
                    data={"source": source.code, "message_id": message.id,
                          **_files_data(uploads, refused)},
                )  # fmt: skip
                saved += [
                    files.store(case, upload, by=None, internal=False, at=at) for upload in uploads
                ]
                record.outcome, record.complaint, record.customer = (
                    Outcome.JOINED, case, case.customer,
                )  # fmt: skip
            else:
                _judge_and_open(source, conversation, record, message, text, at, uploads,
                                refused, saved)  # fmt: skip
            conversation.last_message_at = max(conversation.last_message_at, at)
            conversation.save()
            record.save()
    except KesuError as error:
        # Its files went with the rollback (files_removed_on_error): none is held or awaited.
        record.held_files, record.pending_media, record.media_due_at = [], [], None
        return rejected(record, error.detail)
    return record


def _conversation(source: Source, external_id: str, at: datetime) -> Conversation:
    """The conversation, locked: two messages of one conversation are taken one at a time."""
    conversation, _created = Conversation.objects.get_or_create(
        source=source, external_id=external_id[:200], defaults={"last_message_at": at}
    )
    return Conversation.objects.select_for_update().get(pk=conversation.pk)


def _open_case(conversation: Conversation) -> Complaint | None:
    complaint = conversation.complaint
    seen: set[int] = set()
    while complaint is not None and complaint.merged_into_id and complaint.pk not in seen:
        seen.add(complaint.pk)
        complaint = complaint.merged_into
    return complaint if complaint is not None and complaint.is_open else None


def _judge_and_open(
    source: Source,
    conversation: Conversation,
    record: InboundMessage,
    message: ChatMessage,
    text: str,
    at: datetime,
    uploads: list[files.CheckedUpload],
    refused: list[str],
    saved: list[Attachment],
) -> None:
    judgement = judge(text if message.text.strip() else "")
    if not judgement.complaint:
        record.outcome = Outcome.IGNORED
        record.reason = " ".join(
            [_("Not a complaint (%(why)s).") % {"why": judgement.reason_text}, *refused]
        )[:300]
        record.customer = conversation.customer
        # No case to put them on yet: kept with the message, for the complaint that may follow.
        for upload in uploads:
            attachment = files.hold(upload, by=None, internal=False, at=at)
            saved.append(attachment)
            record.held_files.append(files.held_facts(attachment))
        return
    context = list(
        # Locked: the job that fetches a context message's files (intake.media) waits, and then
        # finds the message on this case, or this waits and finds its files held.
        InboundMessage.objects.select_for_update()
        .filter(
            conversation=conversation,
            complaint__isnull=True,
            received_at__gte=at - CONTEXT_WINDOW,
        )
        .exclude(pk=record.pk)
        .order_by("-received_at")[:CONTEXT_MESSAGES]
    )[::-1]
    description = "\n".join([*(m.text for m in context), text])
    customer = message.customer
    received = receive(
        IncomingComplaint(
            channel=source.channel,
            description=_cut(description, MAX_TEXT),
            subject=_cut(text.splitlines()[0] if text else "", 60),
            name=customer.name[:100],
            phone=customer.phone,
            email=customer.email,
            language=message.language,
            identifiers=customer.identifiers(source),
        ),
        actor=None,
        uploads=uploads,
        received_at=at,
        data={
            "source": source.code,
            "conversation": conversation.external_id,
            "message_id": message.id,
            "judged": list(judgement.reasons),
            **({"refused_files": refused} if refused else {}),
        },
    )
    complaint = received.complaint
    record.outcome = Outcome.CREATED if received.created else Outcome.JOINED
    record.complaint, record.customer = complaint, complaint.customer
    conversation.complaint, conversation.customer = complaint, complaint.customer
    if context:
        # Not in `saved`: on a rollback a held file stays held by its own message.
        taken = [files.held(complaint, facts) for m in context for facts in m.held_files]
        if taken:
            attachments_event(complaint, taken, by=None, internal=False, at=at)
        InboundMessage.objects.filter(pk__in=[m.pk for m in context]).update(
            complaint=complaint,
            customer=complaint.customer,
            reason=_("Read as the context of %(ref)s.") % {"ref": complaint.reference},
            held_files=[],
        )


def _files_data(uploads: list[files.CheckedUpload], refused: list[str]) -> dict[str, list[str]]:
    """The event's note of the message's files: those kept, and why others were not."""
    data = {"attachments": [u.name for u in uploads], "refused_files": refused}
    return {name: value for name, value in data.items() if value}


def _cut(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"
