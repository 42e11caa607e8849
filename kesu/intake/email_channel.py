"""The email channel: one raw message in, a complaint, a customer message or a recorded no.

Both ways mail arrives end here: the IMAP poller (intake.jobs.poll_mailboxes) and the mail
gateway's `POST /api/intake/email`. `receive_email()` parses the bytes (intake.mail), records
the message once by its Message-ID (a re-polled or re-posted mail gets the first answer) and
then:

- automatic mail (bounces, out-of-office, lists) and mail from our own address is recorded
  and ignored: a complaint desk that answers robots starts mail loops;
- a reply to one of our messages (In-Reply-To / References naming a Message-ID we sent or
  received, or the `[KS-…]` reference in the subject from the customer's own address) becomes
  a customer message on that case, which re-runs triage; a reply about a closed case opens a
  new complaint that names the old one;
- anything else is a new complaint, acknowledged to the sender by email.
"""

from __future__ import annotations

import hashlib
import re
from datetime import datetime
from email.utils import parseaddr
from functools import partial

from django.conf import settings
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from kesu.complaints import attachments as files
from kesu.complaints.forms import MAX_TEXT
from kesu.complaints.models import Attachment, Channel, Complaint
from kesu.complaints.services import files_removed_on_error
from kesu.customers.contact import normalise_email
from kesu.customers.models import ContactKind, CustomerContact
from kesu.errors import InvalidInput, KesuError
from kesu.intake.inbound import Taken, rejected, take_once
from kesu.intake.mail import ParsedMail, UnreadableMail, parse_mail
from kesu.intake.models import InboundMessage, Outcome
from kesu.intake.services import (
    MAX_MESSAGE,
    IncomingComplaint,
    _add_message,
    receive,
)

EMAIL_SOURCE = "email"
# The Message-ID Kesu gives each email it sends (notify.jobs): <kesu.{outbox id}.{ref}@host>.
OUR_MESSAGE_ID = re.compile(r"^kesu\.\d+\.(KS-\d{8}-\d{6})@", re.IGNORECASE)
SUBJECT_REFERENCE = re.compile(r"\bKS-\d{8}-\d{6}\b", re.IGNORECASE)
_CJK = re.compile(r"[\u3400-\u9fff]")


class MailResult(Taken):
    @property
    def answer(self) -> dict[str, object]:
        """The API's answer (issue: intake channels, email)."""
        record = self.record
        complaint = record.complaint
        if complaint is not None and record.outcome in (Outcome.CREATED, Outcome.JOINED):
            created = record.outcome == Outcome.CREATED and not self.again
            return {"reference": complaint.reference, "created": created}
        return {"status": record.outcome, "reason": record.reason}


def message_id_for(outbox_id: int, reference: str) -> str:
    """The Message-ID of an email Kesu sends, which a customer's reply will quote."""
    domain = parseaddr(settings.DEFAULT_FROM_EMAIL)[1].rpartition("@")[2] or "kesu.invalid"
    return f"<kesu.{outbox_id}.{reference}@{domain}>"


def external_id_of(raw: bytes, mail: ParsedMail | None) -> str:
    """The Message-ID, or a digest of the bytes for mail without one (the same mail, the same)."""
    if mail is not None and mail.message_id:
        return mail.message_id[:255]
    return "sha256:" + hashlib.sha256(raw).hexdigest()


def receive_email(
    raw: bytes, *, source_key: str = EMAIL_SOURCE, at: datetime | None = None
) -> MailResult:
    """Take one raw RFC 822 message; see the module's docstring for what becomes of it.

    Raises InvalidInput only for bytes that are not an email at all (empty, too large, no
    headers); the poller records those as rejected, the API answers 422.
    """
    now = at or timezone.now()
    try:
        mail = parse_mail(raw, max_bytes=settings.KESU_MAX_EMAIL_BYTES)
    except UnreadableMail as error:
        why = _("Not a readable email: %(why)s.") % {"why": error}
        raise InvalidInput.one("body", why) from None
    external_id = external_id_of(raw, mail)
    receive_it = partial(_receive, mail, source_key, external_id, now)
    record, again = take_once(source_key, external_id, receive_it)
    return MailResult(record, again)


def record_unreadable(raw: bytes, reason: str, *, source_key: str = EMAIL_SOURCE) -> MailResult:
    """Record bytes that are not an email as rejected, once (the poller moves past them)."""
    external_id = external_id_of(raw, None)
    record, created = InboundMessage.objects.get_or_create(
        source_key=source_key,
        external_id=external_id,
        defaults={
            "channel": Channel.EMAIL,
            "received_at": timezone.now(),
            "text": _clean(raw[:MAX_MESSAGE].decode("utf-8", "replace")),
            "outcome": Outcome.REJECTED,
            "reason": reason[:300],
        },
    )
    return MailResult(record, again=not created)


def _clean(text: str) -> str:
    """Without NUL characters, which PostgreSQL text cannot hold (broken mail has them)."""
    return text.replace("\x00", "")


def _receive(mail: ParsedMail, source_key: str, external_id: str, now: datetime) -> InboundMessage:
    record = InboundMessage(
        source_key=source_key,
        external_id=external_id,
        channel=Channel.EMAIL,
        received_at=now,
        sender=_clean(mail.from_address or mail.from_name)[:254],
        summary=_clean(mail.subject)[:200],
        text=_clean(mail.text or mail.full_text)[:MAX_TEXT],
    )
    sender = _sender(mail)
    # A known customer's ignored mail (their out-of-office, say) shows on their page too.
    record.customer_id = (
        CustomerContact.objects.filter(kind=ContactKind.EMAIL, value=sender)
        .values_list("customer_id", flat=True)
        .first()
        if sender
        else None
    )
    ignored = _why_ignored(mail, sender)
    if ignored:
        record.outcome, record.reason = Outcome.IGNORED, ignored[:300]
        with transaction.atomic():
            record.save()
        return record
    if not sender:
        record.outcome = Outcome.REJECTED
        record.reason = _("No sender address to reply to.")
        with transaction.atomic():
            record.save()
        return record
    uploads, refused = _uploads(mail)
    case = _thread(mail, sender)
    try:
        _store(record, mail, sender, case, uploads, refused, now)
    except KesuError as error:
        # Nothing of it was written (one transaction); the mail itself is kept, refused.
        return rejected(record, error.detail)
    return record


def _store(
    record: InboundMessage,
    mail: ParsedMail,
    sender: str,
    case: Complaint | None,
    uploads: list[files.CheckedUpload],
    refused: list[str],
    now: datetime,
) -> None:
    saved: list[Attachment] = []
    with files_removed_on_error(saved), transaction.atomic():
        # The record goes in first: a concurrent twin of this mail fails here, before it has
        # written anything.
        record.outcome = Outcome.JOINED
        record.save()
        if case is not None and case.is_open:
            _add_to_case(case, mail, uploads, refused, saved, now)
            record.complaint, record.customer = case, case.customer
        else:
            if len((mail.text or mail.full_text).strip()) > MAX_TEXT:
                uploads = [*uploads, _full_text_file(mail)]
            received = receive(
                _incoming(mail, sender),
                actor=None,
                uploads=uploads,
                received_at=now,
                data={
                    "message_id": mail.message_id,
                    "refused_files": refused,
                    **({"follows": case.reference} if case is not None else {}),
                },
            )
            record.complaint = received.complaint
            record.customer = received.complaint.customer
            record.outcome = Outcome.CREATED if received.created else Outcome.JOINED
        if refused:
            record.reason = "; ".join(refused)[:300]
        record.save(update_fields=["complaint", "customer", "outcome", "reason"])


def _sender(mail: ParsedMail) -> str:
    """Where a reply goes: Reply-To when the customer set one, else From; '' if neither is valid."""
    for candidate in (mail.reply_to, mail.from_address):
        try:
            return normalise_email(candidate)
        except ValueError:
            continue
    return ""


def _why_ignored(mail: ParsedMail, sender: str) -> str:
    if mail.automatic:
        return f"{mail.automatic}: {mail.automatic_reason}"
    ours = parseaddr(settings.DEFAULT_FROM_EMAIL)[1].lower()
    if ours and mail.from_address.lower() == ours:
        return _("Sent from our own address (%(address)s).") % {"address": ours}
    if not (mail.text or mail.full_text).strip() and not mail.attachments and not mail.subject:
        return _("Empty: no subject, text or files.")
    return ""


def _uploads(mail: ParsedMail) -> tuple[list[files.CheckedUpload], list[str]]:
    """The attachments that pass the evidence rules, and why the others did not."""
    return files.check_received((a.filename, a.data, a.content_type) for a in mail.attachments)


def _thread(mail: ParsedMail, sender: str) -> Complaint | None:
    """The case this mail answers, if any (the survivor when it was merged into another)."""
    ids = [i for i in (mail.in_reply_to, *mail.references) if i]
    references: list[str] = []
    for message_id in ids:
        match = OUR_MESSAGE_ID.match(message_id)
        if match:
            references.append(match.group(1).upper())
    complaint: Complaint | None = None
    if references:
        complaint = Complaint.objects.filter(reference__in=references).order_by("-pk").first()
    if complaint is None and ids:
        earlier = (
            InboundMessage.objects.filter(
                channel=Channel.EMAIL, external_id__in=ids, complaint__isnull=False
            )
            .select_related("complaint")
            .order_by("-received_at")
            .first()
        )
        complaint = earlier.complaint if earlier is not None else None
    if complaint is None:
        complaint = _by_subject(mail.subject, sender)
    seen = set()
    while complaint is not None and complaint.merged_into_id and complaint.pk not in seen:
        seen.add(complaint.pk)
        complaint = complaint.merged_into
    return complaint


def _by_subject(subject: str, sender: str) -> Complaint | None:
    """A reference in the subject counts only from an address the customer gave us: anyone
    could write one, and a stranger's mail must not land on someone else's case."""
    match = SUBJECT_REFERENCE.search(subject)
    if match is None:
        return None
    complaint = Complaint.objects.filter(reference=match.group(0).upper()).first()
    if complaint is None:
        return None
    known = CustomerContact.objects.filter(
        customer_id=complaint.customer_id, kind=ContactKind.EMAIL, value=sender
    ).exists()
    return complaint if known else None


def _add_to_case(
    case: Complaint,
    mail: ParsedMail,
    uploads: list[files.CheckedUpload],
    refused: list[str],
    saved: list[Attachment],
    now: datetime,
) -> None:
    text = _clean((mail.text or mail.full_text).strip() or mail.subject.strip())
    if not text:
        text = _("(files only)")
    if len(text) > MAX_MESSAGE:
        uploads = [*uploads, _full_text_file(mail)]
        text = text[: MAX_MESSAGE - 1] + "…"
    _add_message(
        case,
        text=text,
        channel=Channel.EMAIL,
        now=now,
        data={
            "message_id": mail.message_id,
            "subject": _clean(mail.subject)[:200],
            "attachments": [u.name for u in uploads],
            "refused_files": refused,
        },
    )
    for upload in uploads:
        saved.append(files.store(case, upload, by=None, internal=False, at=now))


def _full_text_file(mail: ParsedMail) -> files.CheckedUpload:
    """A long mail's whole text as a file on the case: nothing the customer wrote is lost."""
    data = mail.full_text.encode("utf-8")
    return files.check_upload(SimpleUploadedFile("email.txt", data, "text/plain"))


def _incoming(mail: ParsedMail, sender: str) -> IncomingComplaint:
    text = _clean(mail.text or mail.full_text).strip()
    subject = _clean(mail.subject).strip()
    description = text or subject or _("(files only)")
    words = f"{subject}{text}"
    english = not _CJK.search(words) and re.search(r"[A-Za-z]", words) is not None
    return IncomingComplaint(
        channel=Channel.EMAIL,
        description=description[:MAX_TEXT],
        subject=subject[:200] or description[:60],
        name=_clean(mail.from_name)[:100],
        email=sender,
        language="en" if english else "zh-hans",
    )
