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
pulled from `kf/sync_msg`. That pull runs inline, before we answer, so a busy account can push us
past Tencent's 5 s and get a retry: harmless, since messages are idempotent and the cursor only
moves forward by compare-and-set. A failing pull (network, errcode) is logged and answered
"success": the cursor stays where the last stored page left it, and the next event pulls again.
"""

from __future__ import annotations

import hashlib
import json
import logging
import time
import urllib.error
import urllib.parse
import urllib.request
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from django.core.cache import cache
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

log = logging.getLogger(__name__)

MAX_BODY = 64 * 1024  # the limit of wechat.parse_xml; a text message is at most 2,048 bytes
API_TIMEOUT = 4  # seconds per WeCom API call: Tencent waits only 5 s for our answer
MAX_API_ANSWER = 32 * 1024 * 1024  # a sync_msg page holds up to 1,000 messages
MAX_PAGES = 20  # pages pulled per event; the next event goes on from the saved cursor
TOKEN_MARGIN = 300  # forget a cached access token this many seconds before WeCom expires it
STALE_TOKEN = {40001, 40014, 42001}  # invalid credential / access token, expired access token
KF_CUSTOMER = 3  # sync_msg "origin": 3 the WeChat customer, 4 the system, 5 a servicer
CURSOR_MAX = 200  # Source.cursor's max_length; WeCom's cursors have at most 64 bytes


class _Refusal(Exception):
    def __init__(self, status: int, reason: str) -> None:
        super().__init__(reason)
        self.status = status
        self.reason = reason


class WeComApiError(Exception):
    """WeCom's API could not be reached or answered with an error (errcode)."""


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
            _pull_kf(account.source, kf)
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
    if push.msg_type == "event" or not push.content or not push.from_user:
        # Events and what has no readable text (video, voice without Recognition) are not
        # complaint text; nothing is recorded for them.
        return _text("success")
    record = receive_chat(account.source, _chat_message(account.source, push)).record
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
    return ChatMessage(
        id=message_id,
        conversation=push.from_user,
        text=push.content,
        sent_at=push.created_at,
        customer=customer,
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


# --- WeCom customer service: pulling the messages --------------------------------------------


def _pull_kf(source: Source, kf: KfSync) -> None:
    try:
        secret = read_secret(source.kf_secret_env, "")
    except ConfigError as error:
        log.error("wecom source %s: the kf Secret is unusable: %s", source.code, error)
        raise _Refusal(503, "this source's customer-service Secret is not configured") from None
    try:
        taken = sync_kf_messages(source, kf, secret=secret)
    except WeComApiError as error:
        log.warning(
            "wecom source %s: pulling messages failed, cursor stays at %r: %s",
            source.code,
            source.cursor,
            error,
        )
        return
    log.info("wecom source %s: %s customer message(s) pulled", source.code, taken)


def sync_kf_messages(source: Source, kf: KfSync, *, secret: str) -> int:
    """Pull announced customer-service messages into receive_chat, saving the cursor per page."""
    api = _WeComApi(source, secret)
    cursor, taken = source.cursor, 0
    for _page in range(MAX_PAGES):
        body: dict[str, Any] = {"cursor": cursor, "limit": 1000}
        if kf.token:  # without it (the periodic pull) WeCom limits how often one may call
            body["token"] = kf.token
        if kf.open_kf_id:
            body["open_kfid"] = kf.open_kf_id
        page = api.post("cgi-bin/kf/sync_msg", body)
        messages = page.get("msg_list") or []
        if not isinstance(messages, list):
            raise WeComApiError("kf/sync_msg: msg_list is not a list")
        for item in messages:
            message = _kf_message(item)
            if message is not None:
                receive_chat(source, message)
                taken += 1
        next_cursor = page.get("next_cursor") or cursor
        if not isinstance(next_cursor, str) or len(next_cursor) > CURSOR_MAX:
            raise WeComApiError("kf/sync_msg: next_cursor is not a short string")
        if next_cursor != cursor:
            # Compare-and-set, after the page is stored: a concurrent pull for the same source
            # (Tencent's retry) cannot move the cursor back, and the one that lost stops.
            if not Source.objects.filter(pk=source.pk, cursor=cursor).update(cursor=next_cursor):
                log.info("wecom source %s: another pull moved the cursor", source.code)
                break
            cursor = source.cursor = next_cursor
        elif page.get("has_more"):
            log.warning("wecom source %s: has_more without a new cursor", source.code)
            break
        if not page.get("has_more"):
            break
    else:
        log.warning("wecom source %s: stopped after %s pages", source.code, MAX_PAGES)
    return taken


def _kf_message(item: Any) -> ChatMessage | None:
    """A customer's text message from a sync_msg page; None for everything else."""
    if not isinstance(item, dict) or item.get("origin") != KF_CUSTOMER:
        return None
    text = item.get("text") if item.get("msgtype") == "text" else None
    content = text.get("content") if isinstance(text, dict) else ""
    msgid, user = item.get("msgid"), item.get("external_userid")
    kf = item.get("open_kfid") or ""
    if not (isinstance(content, str) and content.strip() and msgid and user):
        return None
    sent = item.get("send_time")
    sent_at = None
    if isinstance(sent, int) and 0 < sent < 2**33:  # Unix seconds, or none (receive_chat: now)
        sent_at = datetime.fromtimestamp(sent, tz=UTC)
    return ChatMessage(
        id=str(msgid),
        conversation=f"{user}:{kf}",
        text=content,
        sent_at=sent_at,
        customer=ChatCustomer(external_id=str(user)),
    )


class _WeComApi:
    """Calls to WeCom with the customer-service access token, cached until shortly before expiry."""

    def __init__(self, source: Source, secret: str) -> None:
        base = source.api_base.rstrip("/")
        if urllib.parse.urlsplit(base).scheme not in ("http", "https"):
            raise WeComApiError(f"api_base {base!r} is not an http(s) address")
        self.base, self.corp_id, self.secret = base, source.app_id, secret
        # Keyed by the secret too: a new Secret never gets the old one's token.
        digest = hashlib.sha256(f"{source.app_id}\n{secret}".encode()).hexdigest()[:32]
        self.cache_key = f"kesu:wecom:access-token:{digest}"

    def access_token(self) -> str:
        cached = cache.get(self.cache_key)
        if isinstance(cached, str) and cached:
            return cached
        query = urllib.parse.urlencode({"corpid": self.corp_id, "corpsecret": self.secret})
        answer = self._call("cgi-bin/gettoken", query, None)
        _raise_for_errcode("cgi-bin/gettoken", answer)
        token, expires_in = answer.get("access_token"), answer.get("expires_in", 7200)
        if not isinstance(token, str) or not token or not isinstance(expires_in, int):
            raise WeComApiError("cgi-bin/gettoken: no access_token in the answer")
        cache.set(self.cache_key, token, max(expires_in - TOKEN_MARGIN, 60))
        return token

    def post(self, path: str, body: dict[str, Any]) -> dict[str, Any]:
        answer = self._call(path, self._token_query(), body)
        if answer.get("errcode") in STALE_TOKEN:
            cache.delete(self.cache_key)  # revoked or expired early: fetch a new one, once
            answer = self._call(path, self._token_query(), body)
        _raise_for_errcode(path, answer)
        return answer

    def _token_query(self) -> str:
        return urllib.parse.urlencode({"access_token": self.access_token()})

    def _call(self, path: str, query: str, body: dict[str, Any] | None) -> dict[str, Any]:
        # Errors name the path only: the query carries the Secret or the access token.
        data = None if body is None else json.dumps(body, ensure_ascii=False).encode("utf-8")
        request = urllib.request.Request(  # noqa: S310 (the scheme is checked in __init__)
            f"{self.base}/{path}?{query}",
            data=data,
            headers={"Content-Type": "application/json; charset=utf-8"} if data else {},
            method="GET" if data is None else "POST",
        )
        try:
            with urllib.request.urlopen(request, timeout=API_TIMEOUT) as response:  # noqa: S310
                raw = response.read(MAX_API_ANSWER)
        except urllib.error.HTTPError as error:
            raise WeComApiError(f"{path}: HTTP {error.code}") from None
        except (OSError, ValueError) as error:  # URLError, timeouts, refused connections
            raise WeComApiError(f"{path}: {getattr(error, 'reason', error)}") from None
        try:
            answer = json.loads(raw)
        except ValueError:
            raise WeComApiError(f"{path}: the answer is not JSON") from None
        if not isinstance(answer, dict):
            raise WeComApiError(f"{path}: the answer is not a JSON object")
        return answer


def _raise_for_errcode(path: str, answer: dict[str, Any]) -> None:
    errcode = answer.get("errcode", 0)
    if errcode != 0:
        raise WeComApiError(f"{path}: errcode {errcode} ({answer.get('errmsg', '')})")
