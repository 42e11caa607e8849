"""Public posts from a public-opinion monitoring tool (舆情监测): a complaint in public is one
step from the media (DOMAIN E1, E2).

Each post is taken once (by its URL within the platform). A post that triage judges a complaint
becomes one with channel `social` at escalation level 1 at least; when its author is a customer
we know (the same platform account, phone or email) it is linked to them, and when they have
the same grievance open it joins that case and raises it to level 1. Other posts are recorded
and ignored.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import datetime
from functools import partial

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from kesu.accounts.models import User
from kesu.complaints.forms import MAX_TEXT
from kesu.complaints.models import Channel, Complaint
from kesu.complaints.workflow import perform
from kesu.customers.models import ContactKind
from kesu.errors import KesuError
from kesu.intake.inbound import Taken, rejected, take_once
from kesu.intake.models import InboundMessage, Outcome
from kesu.intake.services import Assessment, IncomingComplaint, receive
from kesu.triage.judge import judge

PUBLIC_LEVEL = 1


@dataclass(frozen=True)
class Mention:
    platform: str  # weibo, douyin, xiaohongshu, …: lower-case slug
    url: str
    text: str
    author: str = ""
    author_id: str = ""
    posted_at: datetime | None = None
    phone: str = ""  # normalised, when the tool knows them
    email: str = ""
    language: str = "zh-hans"

    @property
    def external_id(self) -> str:
        url = self.url.strip()
        return url if len(url) <= 255 else "sha256:" + hashlib.sha256(url.encode()).hexdigest()


class MentionResult(Taken):
    def answer(self) -> dict[str, object]:
        return self.outcome("url", self.url)

    @property
    def url(self) -> str:
        return self.record.text.partition("\n")[0]


def receive_mention(mention: Mention, *, actor: User, now: datetime | None = None) -> MentionResult:
    key = f"mention:{mention.platform}"
    at = now or timezone.now()
    receive_it = partial(_receive, key, mention, actor, at)
    record, again = take_once(key, mention.external_id, receive_it)
    return MentionResult(record, again)


def _receive(key: str, mention: Mention, actor: User, now: datetime) -> InboundMessage:
    at = min(mention.posted_at or now, now)
    text = mention.text.replace("\x00", "").strip()
    record = InboundMessage(
        source_key=key,
        external_id=mention.external_id,
        channel=Channel.SOCIAL,
        received_at=at,
        sender=(mention.author or mention.author_id)[:254],
        summary=text[:60],
        # The URL first: where the post is, for whoever reads the record.
        text=f"{mention.url.strip()}\n{text}"[:MAX_TEXT],
    )
    judgement = judge(text, addressed=False)
    if not judgement.complaint:
        record.outcome = Outcome.IGNORED
        record.reason = _("Not a complaint (%(why)s).") % {"why": judgement.reason_text}
        with transaction.atomic():
            record.save()
        return record
    identifiers = (
        ((ContactKind.EXTERNAL_ID, f"{mention.platform}:{mention.author_id}"[:200]),)
        if mention.author_id
        else ()
    )
    try:
        with transaction.atomic():
            record.save()
            received = receive(
                IncomingComplaint(
                    channel=Channel.SOCIAL,
                    description=text[:MAX_TEXT],
                    subject=text.splitlines()[0][:60],
                    name=mention.author[:100],
                    phone=mention.phone,
                    email=mention.email,
                    language=mention.language,
                    assessment=Assessment(escalation_level=PUBLIC_LEVEL),
                    identifiers=identifiers,
                ),
                actor=actor,
                received_at=at,
                # Nobody asked us by this channel: the acknowledgement goes only to a known
                # customer's email or phone (none for an anonymous post).
                data={
                    "platform": mention.platform,
                    "url": mention.url.strip(),
                    "author": mention.author,
                    "judged": list(judgement.reasons),
                },
            )
            complaint = received.complaint
            if not received.created:
                _raise_to_public_level(complaint, actor, mention)
            record.outcome = Outcome.CREATED if received.created else Outcome.JOINED
            record.complaint, record.customer = complaint, complaint.customer
            record.save()
    except KesuError as error:
        return rejected(record, error.detail)
    return record


def _raise_to_public_level(complaint: Complaint, actor: User, mention: Mention) -> None:
    complaint.refresh_from_db()
    if complaint.escalation_level >= PUBLIC_LEVEL:
        return
    perform(
        complaint,
        "escalate",
        actor,
        level=PUBLIC_LEVEL,
        reason=_("The customer posted it in public (%(platform)s): %(url)s")
        % {"platform": mention.platform, "url": mention.url.strip()},
    )
