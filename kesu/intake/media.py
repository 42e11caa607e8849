"""Files customers send by chat: photos, voice messages, videos and files, fetched from Tencent.

A WeChat official account's or a WeCom app's push, or a WeCom customer-service message, only
names its file by a media_id. Fetching it there would keep WeChat (which wants the push
answered within 5 s) waiting, or hold up WeCom's cursor behind a file that will not come; so
receive_chat records the message with the ids (`InboundMessage.pending_media`, `media_due_at`)
and wakes the jobs, and `fetch_pending_media()` (every few seconds) fetches them with the
source's API Secret (for WeChat, a stable access token, intake.wecom.WeChatApi). A file goes
onto the message's case with an `attachment_added` event or, when the message has no case, is
held with it until a complaint reads it as context (intake.chat). What may pass (network, a
busy system) is tried again a minute later; Tencent's refusal (an id expired after three days,
a file over the size limit) is recorded as the reason, and so is a file still not fetched when
those three days are over.
"""

from __future__ import annotations

import logging
from datetime import datetime, timedelta

from django.db import connection, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from kesu.complaints import attachments as files
from kesu.complaints.models import Attachment
from kesu.complaints.services import attachments_event, files_removed_on_error
from kesu.env import ConfigError, read_secret
from kesu.intake.chat import ChatFile
from kesu.intake.models import InboundMessage, Source, SourceKind
from kesu.intake.wecom import MEDIA_TYPES, MediaNotFetched, TencentApi, WeChatApi, WeComApiError

log = logging.getLogger(__name__)

RETRY_AFTER = timedelta(minutes=1)
KEPT_BY_TENCENT = timedelta(days=3)  # temporary media expire then: no use trying after
BATCH = 50  # messages per run; the next run takes the rest


def fetch_pending_media(*, now: datetime | None = None) -> int:
    """Fetch the files of messages that wait for theirs; the number of messages completed."""
    now = now or timezone.now()
    waiting = InboundMessage.objects.filter(media_due_at__lte=now).order_by("media_due_at")
    done = 0
    for pk in list(waiting.values_list("pk", flat=True)[:BATCH]):
        try:
            done += _complete(pk, now)
        except Exception:  # one message's trouble must not hold up the others behind it
            log.exception("inbound message %s: fetching its files failed", pk)
            _later(pk, now)
    return done


def _later(pk: int, now: datetime) -> None:
    InboundMessage.objects.filter(pk=pk, media_due_at__isnull=False).update(
        media_due_at=now + RETRY_AFTER
    )


def _complete(pk: int, now: datetime) -> int:
    record = InboundMessage.objects.select_related("conversation__source").get(pk=pk)
    source = record.conversation.source if record.conversation else None
    fetched: list[ChatFile] = []
    missing: list[str] = []
    try:
        api = _api(source)
        for item in record.pending_media:
            kind, media_id = str(item.get("kind", "")), str(item.get("media_id", ""))
            fallback = f"{kind}-{record.external_id}"
            try:
                fetched.append(api.media(media_id, fallback, MEDIA_TYPES.get(kind, "bin")))
            except MediaNotFetched as error:
                missing.append(error.said(fallback))
    except (ConfigError, WeComApiError) as error:
        if record.received_at < now - KEPT_BY_TENCENT:
            gone = _("Not fetched in the three days Tencent keeps a file (%(why)s).")
            return _store(pk, [], [gone % {"why": error}], now)
        # Tencent or the network failed, or the secret is not there yet: a minute later.
        log.warning("inbound message %s: fetching its files failed, trying again: %s", pk, error)
        _later(pk, now)
        return 0
    return _store(pk, fetched, missing, now)


def _api(source: Source | None) -> TencentApi:
    if source is None or not source.api_secret_env:
        raise ConfigError("the message's source has no API Secret configured")
    kind = WeChatApi if source.kind == SourceKind.WECHAT else TencentApi
    return kind(source, read_secret(source.api_secret_env, ""))


def _store(pk: int, fetched: list[ChatFile], missing: list[str], now: datetime) -> int:
    uploads, refused = files.check_received((f.name, f.data, f.content_type) for f in fetched)
    refused += missing
    saved: list[Attachment] = []
    with files_removed_on_error(saved), transaction.atomic():
        skip = connection.features.has_select_for_update_skip_locked
        locked = InboundMessage.objects.select_for_update(skip_locked=skip)
        record = locked.filter(pk=pk, media_due_at__isnull=False).first()
        if record is None:
            return 0  # another run took it
        # The message's case if it has one (it joined or opened one, or was read as context).
        complaint = record.complaint
        if complaint is not None:
            saved += [files.store(complaint, u, by=None, internal=False, at=now) for u in uploads]
            if uploads or refused:
                facts = {"message_id": record.external_id,
                         **({"refused_files": refused} if refused else {})}  # fmt: skip
                attachments_event(complaint, saved, by=None, internal=False, at=now, data=facts)
        else:
            for upload in uploads:
                attachment = files.hold(upload, by=None, internal=False, at=now)
                saved.append(attachment)
                record.held_files.append(files.held_facts(attachment))
        if refused:
            record.reason = " ".join([record.reason, *refused]).strip()[:300]
        record.pending_media, record.media_due_at = [], None
        record.save(update_fields=["held_files", "pending_media", "media_due_at", "reason"])
    return 1
