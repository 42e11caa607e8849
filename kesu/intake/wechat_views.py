"""The addresses Tencent's servers call: WeChat official-account pushes and WeCom callbacks.

`/intake/wechat/<code>/` serves a Source of kind wechat, `/intake/wecom/<code>/` one of kind
wecom. GET is the URL check (answered with the echostr); POST is a push. The protocol work
(signatures, AES, XML) is in `intake.wechat`; every message goes through `chat.receive_chat`,
which joins the conversation's open case or lets triage judge it, and is idempotent by message
id, so a push Tencent retries (it does, three times, when we take more than 5 s) gets the same
answer and no second record.

Refusals are plain text with the reason, and nothing is written: 404 for a code that names no
active source of this kind, 401 for a missing or bad signature or a timestamp more than 5 minutes
off, 400 for a body that is too large, malformed or does not decrypt, 503 (and an error in the
log) when the source's Token, EncodingAESKey or customer-service Secret is not configured. The
reasons are intake.wechat's English ones, untranslated: their reader is an integrator.

WeCom customer service (微信客服) pushes only an event saying that there is news; the messages are
pulled from `kf/sync_msg` by a job (intake.wecom), not in the request: the event is recorded on
the source and the job loop woken, and Tencent gets "success" at once.
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass

from django.http import HttpRequest, HttpResponse
from django.utils.translation import gettext as _
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_http_methods

from kesu.env import ConfigError, read_secret
from kesu.intake.chat import ChatCustomer, ChatMessage, receive_chat
from kesu.intake.models import InboundMessage, Outcome, Source, SourceKind
from kesu.intake.wechat import (
    Cipher,
    KfSync,
    PushMessage,
    WeChatError,
    answer_echo,
    check_msg_signature,
    check_signature,
    check_timestamp,
    open_push,
    parse_xml,
    seal_reply,
    text_reply,
)
from kesu.intake.wecom import MEDIA_TYPES, announce

log = logging.getLogger(__name__)

MAX_BODY = 64 * 1024  # the limit of wechat.parse_xml; a text message is at most 2,048 bytes


class _Refusal(Exception):
    def __init__(self, status: int, reason: str) -> None:
        super().__init__(reason)
        self.status = status
        self.reason = reason


@dataclass(frozen=True)
class _Account:
    source: Source
    token: str
    cipher: Cipher | None  # None: an official account in plain mode


@dataclass(frozen=True)
class _Query:
    signature: str
    msg_signature: str
    timestamp: str
    nonce: str
    echostr: str
    now: float

    @classmethod
    def of(cls, request: HttpRequest) -> _Query:
        get = request.GET
        return cls(
            signature=get.get("signature", "").strip(),
            msg_signature=get.get("msg_signature", "").strip(),
            timestamp=get.get("timestamp", "").strip(),
            nonce=get.get("nonce", "").strip(),
            echostr=get.get("echostr", "").strip(),
            now=time.time(),
        )


# --- Views -----------------------------------------------------------------------------------


@csrf_exempt
@require_http_methods(["GET", "POST"])
def wechat(request: HttpRequest, code: str) -> HttpResponse:
    """An official account's URL check (GET) or push (POST), plain or in safe mode."""
    return _serve(request, code, SourceKind.WECHAT)


@csrf_exempt
@require_http_methods(["GET", "POST"])
def wecom(request: HttpRequest, code: str) -> HttpResponse:
    """A WeCom app's or customer service's URL check (GET) or callback (POST), always sealed."""
    return _serve(request, code, SourceKind.WECOM)


def _serve(request: HttpRequest, code: str, kind: SourceKind) -> HttpResponse:
    try:
        account = _account(code, kind)
        query = _Query.of(request)
        if request.method == "GET":
            return _text(_echo(account, query))
        push = _open(account, query, _body(request))
        kf = push.kf_sync if kind == SourceKind.WECOM else None
        if kf is not None:
            _announce_kf(account.source, kf)
            return _text("success")
        return _answer(account, query, push)
    except _Refusal as refusal:
        if refusal.status < 500:  # a 503 has logged its cause, which the answer does not tell
            log.warning("%s %s refused (%s): %s", kind, code, refusal.status, refusal.reason)
        return _text(refusal.reason, status=refusal.status)


def _text(text: str, *, status: int = 200) -> HttpResponse:
    return HttpResponse(text, status=status, content_type="text/plain; charset=utf-8")


# --- Authenticating and opening --------------------------------------------------------------


def _account(code: str, kind: SourceKind) -> _Account:
    """The active source of this kind with its secrets, or 404 / 503."""
    source = Source.objects.filter(code=code, kind=kind, is_active=True).first()
    if source is None:
        raise _Refusal(404, f"no active {kind} source {code!r}")
    try:
        token = read_secret(source.secret_env, source.secret_file)
        # WeCom always encrypts; an official account only in safe mode. The configuration says
        # which, never the request (wechat.open_push: no downgrade to the unsigned plain body).
        cipher = None
        if source.aes_key_env or kind == SourceKind.WECOM:
            cipher = Cipher(read_secret(source.aes_key_env, ""), source.app_id)
    except (ConfigError, WeChatError) as error:
        log.error("%s source %s: the Token or EncodingAESKey is unusable: %s", kind, code, error)
        raise _Refusal(503, "this source's Token or EncodingAESKey is not configured") from None
    return _Account(source, token, cipher)


def _authenticate(account: _Account, query: _Query, encrypt: str | None) -> None:
    """Signature and timestamp, checked first so that their failures are told apart (401)."""
    try:
        if encrypt is None:
            check_signature(account.token, query.signature, query.timestamp, query.nonce)
        else:
            check_msg_signature(
                account.token, query.msg_signature, query.timestamp, query.nonce, encrypt
            )
        check_timestamp(query.timestamp, now=query.now)
    except WeChatError as error:
        raise _Refusal(401, str(error)) from None


def _echo(account: _Account, query: _Query) -> str:
    # WeCom sends msg_signature and an encrypted echostr; an official account signature and a
    # plain one (even in safe mode). A WeCom check without msg_signature is refused as such.
    sealed = bool(query.msg_signature) or account.source.kind == SourceKind.WECOM
    _authenticate(account, query, query.echostr if sealed else None)
    try:
        return answer_echo(
            token=account.token,
            cipher=account.cipher,
            signature=query.signature,
            msg_signature=query.msg_signature,
            timestamp=query.timestamp,
            nonce=query.nonce,
            echostr=query.echostr,
            now=query.now,
        )
    except WeChatError as error:
        raise _Refusal(400, str(error)) from None


def _body(request: HttpRequest) -> bytes:
    try:
        declared = int(request.META.get("CONTENT_LENGTH") or 0)
    except ValueError:
        declared = 0
    if declared > MAX_BODY:
        raise _Refusal(400, f"body is larger than {MAX_BODY} bytes")
    return request.read(MAX_BODY + 1)  # parse_xml refuses the extra byte


def _open(account: _Account, query: _Query, body: bytes) -> PushMessage:
    try:
        if account.cipher is None:
            _authenticate(account, query, None)  # plain mode signs no body: before parsing
        else:
            _authenticate(account, query, parse_xml(body, max_bytes=MAX_BODY).get("Encrypt", ""))
        return open_push(
            body,
            token=account.token,
            cipher=account.cipher,
            signature=query.signature,
            msg_signature=query.msg_signature,
            timestamp=query.timestamp,
            nonce=query.nonce,
            now=query.now,
        )
    except WeChatError as error:
        raise _Refusal(400, str(error)) from None


# --- Messages and the passive reply ----------------------------------------------------------


def _answer(account: _Account, query: _Query, push: PushMessage) -> HttpResponse:
    """Receive a message and acknowledge it within Tencent's 5 s; events get "success"."""
    message = _chat_message(account.source, push)
    if push.msg_type == "event" or not (message.text or message.pending) or not push.from_user:
        # Events, and what has neither readable text nor a file we can fetch (a video on an
        # account without its AppSecret), are not a customer's words: nothing is recorded.
        return _text("success")
    record = receive_chat(account.source, message).record
    content = _acknowledgement(record)
    if not content:
        return _text("success")  # WeChat's documented way of not replying
    reply = text_reply(
        to_user=push.from_user, from_user=push.to_user, content=content, now=query.now
    )
    if account.cipher is not None:
        reply = seal_reply(
            reply, token=account.token, cipher=account.cipher, nonce=query.nonce, now=query.now
        )
    return HttpResponse(reply, content_type="application/xml; charset=utf-8")


def _chat_message(source: Source, push: PushMessage) -> ChatMessage:
    # MsgId is unique per account; a push without one is keyed as Tencent keys events.
    message_id = push.msg_id or f"{push.from_user}:{int(push.created_at.timestamp())}"
    if source.kind == SourceKind.WECOM:  # a member of the corporation, known by their userid
        customer = ChatCustomer(external_id=push.from_user)
    else:
        unionid = push.fields.get("UnionId") or push.fields.get("UnionID") or ""
        customer = ChatCustomer(wechat_openid=push.from_user, wechat_unionid=unionid)
    media_id = push.fields.get("MediaId", "")[:200]
    text = push.content
    pending: tuple[tuple[str, str], ...] = ()
    if source.api_secret_env and media_id and push.msg_type in MEDIA_TYPES:
        # The file itself is fetched by a job (intake.media), with the official account's
        # AppSecret or the WeCom app's Secret; a photo's PicUrl is not needed.
        pending = ((push.msg_type, media_id),)
        text = "" if push.msg_type == "image" else push.content
    return ChatMessage(
        id=message_id,
        conversation=push.from_user,
        text=text,
        sent_at=push.created_at,
        customer=customer,
        pending=pending,
    )


def _acknowledgement(record: InboundMessage) -> str:
    """What the customer reads back: the reference of the case the message opened or joined."""
    complaint = record.complaint
    if complaint is None:
        return ""
    if record.outcome == Outcome.CREATED:
        return "\n".join(
            (
                _("Your complaint is registered under the reference %(ref)s.")
                % {"ref": complaint.reference},
                _("A member of our team will contact you within 24 hours."),
            )
        )
    if record.outcome == Outcome.JOINED:
        return _("Received and added to your complaint %(ref)s.") % {"ref": complaint.reference}
    return ""


# --- WeCom customer service: the pull is announced, a job does it -----------------------------


def _announce_kf(source: Source, kf: KfSync) -> None:
    try:
        read_secret(source.api_secret_env, "")
    except ConfigError as error:
        log.error("wecom source %s: the kf Secret is unusable: %s", source.code, error)
        raise _Refusal(503, "this source's customer-service Secret is not configured") from None
    announce(source, kf)
