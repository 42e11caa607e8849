"""Channel endpoints: what mail gateways, chat systems and monitoring tools deliver.

`POST /api/intake/email` takes one raw RFC 822 message from a mail gateway (staff token);
`POST /api/intake/messages` a batch of chat messages signed with the source's secret;
`POST /api/intake/mentions` a batch of public posts from a public-opinion monitoring tool
(staff token). Each answers per message what became of it, and a retry gets the same answer.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import logging
import re
import time
from collections.abc import Callable
from datetime import datetime
from typing import Any

from django.conf import settings
from django.http import HttpRequest, HttpResponse
from django.template.defaultfilters import filesizeformat
from django.utils import timezone
from django.utils.translation import gettext as _
from ninja import Field, Router, Schema, Status
from ninja.errors import HttpError
from pydantic import ValidationError as PydanticValidationError

from kesu.accounts.models import User
from kesu.api_support import BearerAuth, ErrorItem, ErrorOut
from kesu.complaints.forms import MAX_TEXT
from kesu.customers.contact import id_card_key, normalise_id_card
from kesu.env import ConfigError, read_secret
from kesu.errors import FieldError, Forbidden, InvalidInput
from kesu.intake.chat import ChatCustomer, ChatMessage, contact_fields, receive_chat
from kesu.intake.email_channel import receive_email
from kesu.intake.mentions import Mention, receive_mention
from kesu.intake.models import Outcome, Source, SourceKind
from kesu.intake.services import INTAKE_ROLES, LANGUAGES

log = logging.getLogger(__name__)

router = Router(tags=["intake channels"])

MAIL_TYPES = ("message/rfc822", "message/global", "application/octet-stream")


def _staff(request: HttpRequest) -> User:
    user = request.auth  # type: ignore[attr-defined]
    assert isinstance(user, User)
    if user.role not in INTAKE_ROLES:
        raise Forbidden(_("Your role may not deliver complaints."))
    return user


def _body(request: HttpRequest, limit: int) -> bytes:
    """The raw body, up to `limit` bytes; 413 beyond (read as a stream: mail may be large)."""
    too_big = HttpError(
        413,
        _("The message is larger than %(limit)s (KESU_MAX_EMAIL_MB).")
        % {"limit": filesizeformat(limit)},
    )
    try:
        declared = int(request.META.get("CONTENT_LENGTH") or 0)
    except ValueError:
        declared = 0
    if declared > limit:
        raise too_big
    data = request.read(limit + 1)
    if len(data) > limit:
        raise too_big
    return data


class MailOut(Schema):
    reference: str | None = Field(None, description="The complaint the mail created or joined")
    created: bool | None = Field(None, description="true: a new complaint; false: joined one")
    status: str | None = Field(None, description="'ignored' (or 'rejected') with the reason")
    reason: str | None = None


@router.post(
    "/email",
    auth=BearerAuth(),
    response={
        201: MailOut,
        200: MailOut,
        403: ErrorOut,
        413: ErrorOut,
        415: ErrorOut,
        422: ErrorOut,
    },
    summary="Deliver one raw email (Content-Type: message/rfc822) forwarded by a mail gateway",
    exclude_none=True,
    openapi_extra={
        "requestBody": {
            "required": True,
            "content": {"message/rfc822": {"schema": {"type": "string", "format": "binary"}}},
        }
    },
)
def email(request: HttpRequest, response: HttpResponse) -> Status[dict[str, Any]]:
    """201 `{reference, created: true}` for a new complaint; 200 `{reference, created: false}`
    when the mail joined an open case or was received before; 200 `{status: "ignored",
    reason}` for bounces, auto-replies and list mail; 422 for bytes that are not an email."""
    _staff(request)
    raw = _body(request, settings.KESU_MAX_EMAIL_BYTES)
    if not raw.strip():
        raise InvalidInput.one("body", _("The body is empty: send the raw email message."))
    content_type = request.content_type or ""
    if content_type.lower() not in MAIL_TYPES:
        raise HttpError(
            415,
            _("Send the raw message with Content-Type: message/rfc822 (this was %(type)s).")
            % {"type": content_type or _("none")},
        )
    try:
        result = receive_email(raw)
    except InvalidInput as error:
        log.warning("POST /api/intake/email refused %s bytes: %s", len(raw), error.detail)
        raise
    answer = result.answer
    if result.again:
        response["Idempotent-Replayed"] = "true"
    return Status(201 if answer.get("created") is True else 200, answer)


# --- Chat systems: signed JSON ----------------------------------------------------------------

SIGNATURE_TOLERANCE = 300  # seconds either side of our clock
MAX_BATCH = 100


class ChatCustomerIn(Schema):
    name: str | None = Field(None, max_length=100)
    phone: str | None = Field(None, max_length=40)
    email: str | None = Field(None, max_length=254)
    external_id: str | None = Field(None, max_length=150, description="The chat system's user id")
    id_number: str | None = Field(None, max_length=20, description="Matched as a keyed hash")
    wechat_openid: str | None = Field(None, max_length=100)
    wechat_unionid: str | None = Field(None, max_length=100)

    model_config = {"extra": "forbid"}


class ChatMessageIn(Schema):
    id: str = Field(..., min_length=1, max_length=255, description="Unique within the source")
    conversation: str = Field(..., min_length=1, max_length=200)
    text: str = Field(..., min_length=1, max_length=MAX_TEXT)
    sent_at: datetime | None = None
    customer: ChatCustomerIn | None = None
    language: str | None = Field(None, description="zh or en")

    model_config = {"extra": "forbid"}


class MessagesIn(Schema):
    messages: list[ChatMessageIn] = Field(..., min_length=1, max_length=MAX_BATCH)

    model_config = {"extra": "forbid"}


class ChatResultOut(Schema):
    id: str
    outcome: str = Field(..., description="created, joined, ignored or rejected")
    reference: str | None = None
    reason: str | None = None
    again: bool | None = Field(None, description="true: this message had been received before")
    errors: list[ErrorItem] | None = Field(None, description="What is wrong with a rejected one")


class MessagesOut(Schema):
    results: list[ChatResultOut]


def signed_source(request: HttpRequest, body: bytes) -> Source:
    """The source that signed this body, or 401 saying what is missing or wrong.

    X-Kesu-Signature is `sha256=` and the hex HMAC-SHA256, keyed with the source's secret, of
    the X-Kesu-Timestamp value (Unix seconds), a dot and the raw body.
    """
    code = request.headers.get("X-Kesu-Source", "").strip()
    stamp = request.headers.get("X-Kesu-Timestamp", "").strip()
    signature = request.headers.get("X-Kesu-Signature", "").strip()
    for name, value in (
        ("X-Kesu-Source", code),
        ("X-Kesu-Timestamp", stamp),
        ("X-Kesu-Signature", signature),
    ):
        if not value:
            raise HttpError(401, _("The %(header)s header is missing.") % {"header": name})
    source = Source.objects.filter(code=code, kind=SourceKind.WEBHOOK, is_active=True).first()
    if source is None:
        raise HttpError(401, _("No active webhook source %(code)s.") % {"code": repr(code)})
    if not (stamp.isascii() and stamp.isdigit() and len(stamp) <= 12):
        raise HttpError(401, _("X-Kesu-Timestamp must be Unix seconds."))
    skew = abs(time.time() - int(stamp))
    if skew > SIGNATURE_TOLERANCE:
        raise HttpError(
            401,
            _("X-Kesu-Timestamp is %(n)s seconds away from our clock (at most %(max)s).")
            % {"n": int(skew), "max": SIGNATURE_TOLERANCE},
        )
    try:
        secret = read_secret(source.secret_env, source.secret_file)
    except ConfigError:
        log.exception("webhook source %s has no readable secret", source.code)
        raise HttpError(503, _("This source's secret is not configured on the server.")) from None
    expected = (
        "sha256="
        + hmac.new(
            secret.encode("utf-8"), stamp.encode("ascii") + b"." + body, hashlib.sha256
        ).hexdigest()
    )
    if not hmac.compare_digest(expected, signature):
        raise HttpError(401, _("The signature does not match this body and timestamp."))
    return source


def _chat_message(item: ChatMessageIn, index: int) -> ChatMessage:
    who = item.customer or ChatCustomerIn.model_validate({})
    prefix = f"messages.{index}.customer"
    try:
        phone, email = contact_fields(who.phone or "", who.email or "")
    except InvalidInput as error:
        raise InvalidInput(
            [FieldError(f"messages.{index}.{e.field}", e.message) for e in error.errors]
        ) from None
    key = ""
    if who.id_number:
        try:
            key = id_card_key(normalise_id_card(who.id_number))
        except ValueError as error:
            raise InvalidInput.one(
                f"{prefix}.id_number", _("Not a valid ID number: %(why)s.") % {"why": _(str(error))}
            ) from None
    language = LANGUAGES.get((item.language or "zh").lower())
    if language is None:
        raise InvalidInput.one(f"messages.{index}.language", _("Use zh or en."))
    sent_at = item.sent_at
    if sent_at is not None and timezone.is_naive(sent_at):
        sent_at = timezone.make_aware(sent_at)
    return ChatMessage(
        id=item.id.strip(),
        conversation=item.conversation.strip(),
        text=item.text,
        sent_at=sent_at,
        language=language,
        customer=ChatCustomer(
            name=(who.name or "").strip(),
            phone=phone,
            email=email,
            external_id=(who.external_id or "").strip(),
            id_card_key=key,
            wechat_openid=(who.wechat_openid or "").strip(),
            wechat_unionid=(who.wechat_unionid or "").strip(),
        ),
    )


@router.post(
    "/messages",
    response={200: MessagesOut, 401: ErrorOut, 413: ErrorOut, 422: ErrorOut, 503: ErrorOut},
    summary="Deliver chat messages (a batch of up to 100), signed with the source's secret",
    exclude_none=True,
    openapi_extra={
        "requestBody": {
            "required": True,
            "content": {"application/json": {"schema": MessagesIn.model_json_schema()}},
        }
    },
)
def messages(request: HttpRequest) -> dict[str, Any]:
    """Each message joins its conversation's open case, opens a complaint when triage judges
    it one, or is recorded as ignored; `results` says which, in the order sent. A message id
    sent again gets its first outcome with `again: true`."""
    body = request.body
    try:
        source = signed_source(request, body)
    except HttpError as error:
        log.warning("chat webhook refused (%s): %s", error.status_code, error)
        raise
    items = _batch(_json(body), "messages")

    def take(item: Any, index: int) -> dict[str, Any]:
        message = _chat_message(ChatMessageIn.model_validate(item), index)
        return receive_chat(source, message).answer()

    return {"results": _each(items, "messages", take, source=f"webhook:{source.code}")}


def _json(body: bytes) -> Any:
    try:
        return json.loads(body.decode("utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as error:
        raise InvalidInput.one("body", _("Malformed JSON: %(why)s.") % {"why": error}) from None


def _batch(raw: Any, name: str) -> list[Any]:
    """The list under `name`, 1 to MAX_BATCH items, or InvalidInput (the whole batch: 422)."""
    if not isinstance(raw, dict) or set(raw) != {name}:
        raise InvalidInput.one("body", _('Send {"%(name)s": [...]}.') % {"name": name})
    items = raw[name]
    if not isinstance(items, list) or not 1 <= len(items) <= MAX_BATCH:
        raise InvalidInput.one(name, _("Send a list of 1 to %(max)s items.") % {"max": MAX_BATCH})
    return items


def _each(
    items: list[Any], name: str, take: Callable[[Any, int], dict[str, Any]], *, source: str
) -> list[dict[str, Any]]:
    """Take every item; one that is wrong is answered `rejected` with what is wrong with it
    (and logged), and the rest of the batch goes on. Nothing of a wrong item is written."""
    results: list[dict[str, Any]] = []
    for index, item in enumerate(items):
        try:
            results.append(take(item, index))
        except (PydanticValidationError, InvalidInput) as error:
            errors = _field_errors(error, f"{name}.{index}")
            key = "url" if name == "mentions" else "id"
            given = item.get(key) if isinstance(item, dict) else None
            log.warning("%s: %s item %s refused: %s", source, name, index,
                        "; ".join(f"{e.field}: {e.message}" for e in errors))  # fmt: skip
            results.append({
                key: given if isinstance(given, str) else "",
                "outcome": Outcome.REJECTED,
                "reason": "; ".join(f"{e.field}: {e.message}" for e in errors)[:300],
                "errors": [{"field": e.field, "message": e.message} for e in errors],
            })  # fmt: skip
    return results


def _field_errors(error: PydanticValidationError | InvalidInput, prefix: str) -> list[FieldError]:
    if isinstance(error, InvalidInput):
        return list(error.errors)
    return [
        FieldError(".".join([prefix, *(str(p) for p in e["loc"])]), e["msg"])
        for e in error.errors()
    ]


# --- Public posts from a monitoring tool ---------------------------------------------------------


class MentionIn(Schema):
    platform: str = Field(..., min_length=1, max_length=40, description="weibo, douyin, …")
    url: str = Field(..., min_length=1, max_length=2000, description="Where the post is")
    text: str = Field(..., min_length=1, max_length=MAX_TEXT)
    author: str | None = Field(None, max_length=100, description="The author's display name")
    author_id: str | None = Field(None, max_length=150, description="The platform's account id")
    posted_at: datetime | None = None
    phone: str | None = Field(None, max_length=40)
    email: str | None = Field(None, max_length=254)
    language: str | None = Field(None, description="zh or en")

    model_config = {"extra": "forbid"}


class MentionsIn(Schema):
    mentions: list[MentionIn] = Field(..., min_length=1, max_length=MAX_BATCH)

    model_config = {"extra": "forbid"}


class MentionResultOut(Schema):
    url: str
    outcome: str = Field(..., description="created, joined, ignored or rejected")
    reference: str | None = None
    reason: str | None = None
    again: bool | None = None
    errors: list[ErrorItem] | None = None


class MentionsOut(Schema):
    results: list[MentionResultOut]


def _mention(item: MentionIn, index: int) -> Mention:
    platform = item.platform.strip().lower()
    if not re.fullmatch(r"[a-z0-9_-]+", platform):
        raise InvalidInput.one(
            f"mentions.{index}.platform", _("Use a short name: letters, digits, - or _.")
        )
    if not re.match(r"https?://", item.url.strip(), re.IGNORECASE):
        raise InvalidInput.one(f"mentions.{index}.url", _("Give the post's http(s) address."))
    try:
        phone, email = contact_fields(item.phone or "", item.email or "")
    except InvalidInput as error:
        raise InvalidInput(
            [FieldError(f"mentions.{index}.{e.field.split('.')[-1]}", e.message)
             for e in error.errors]
        ) from None  # fmt: skip
    language = LANGUAGES.get((item.language or "zh").lower())
    if language is None:
        raise InvalidInput.one(f"mentions.{index}.language", _("Use zh or en."))
    posted_at = item.posted_at
    if posted_at is not None and timezone.is_naive(posted_at):
        posted_at = timezone.make_aware(posted_at)
    return Mention(
        platform=platform,
        url=item.url.strip(),
        text=item.text,
        author=(item.author or "").strip(),
        author_id=(item.author_id or "").strip(),
        posted_at=posted_at,
        phone=phone,
        email=email,
        language=language,
    )


@router.post(
    "/mentions",
    auth=BearerAuth(),
    response={200: MentionsOut, 403: ErrorOut, 422: ErrorOut},
    summary="Deliver public posts from a public-opinion monitoring tool (a batch of up to 100)",
    exclude_none=True,
    openapi_extra={
        "requestBody": {
            "required": True,
            "content": {"application/json": {"schema": MentionsIn.model_json_schema()}},
        }
    },
)
def mentions(request: HttpRequest) -> dict[str, Any]:
    """A post judged a complaint becomes one (channel social, escalation level ≥ 1), or joins
    the author's open case and raises it; other posts are recorded as ignored. The same URL
    sent again gets its first outcome with `again: true`; a wrong post is `rejected` with what
    is wrong, and the rest of the batch goes on."""
    user = _staff(request)
    items = _batch(_json(request.body), "mentions")

    def take(item: Any, index: int) -> dict[str, Any]:
        mention = _mention(MentionIn.model_validate(item), index)
        return receive_mention(mention, actor=user).answer()

    return {"results": _each(items, "mentions", take, source=f"mentions:{user.username}")}
