"""WeCom customer service (微信客服): pulling its messages from `kf/sync_msg`.

A `kf_msg_or_event` push only says that there is news. The callback (intake.wechat_views)
records it on the source with the event's token — `announce()` — and wakes the job loop;
`pull_announced()` (every few seconds) pulls those sources, and `pull_all()` (every few
minutes, without a token, which WeCom rate-limits) catches what a failed pull left. Messages
are idempotent (chat.receive_chat) and the cursor only moves forward by compare-and-set, after
each page is stored; a failing pull (network, errcode) is logged and the cursor stays.
"""

from __future__ import annotations

import hashlib
import http.client
import json
import logging
import urllib.error
import urllib.parse
import urllib.request
from datetime import UTC, datetime
from email.message import Message
from typing import Any

from django.conf import settings
from django.core.cache import cache
from django.template.defaultfilters import filesizeformat
from django.utils import timezone
from django.utils.translation import gettext as _

from kesu.env import ConfigError, read_secret
from kesu.intake.chat import ChatCustomer, ChatFile, ChatMessage, receive_chat
from kesu.intake.models import Source, SourceKind
from kesu.intake.wechat import KfSync
from kesu.scheduler import wake_after_commit

log = logging.getLogger(__name__)

API_TIMEOUT = 10  # seconds per WeCom API call
MAX_API_ANSWER = 32 * 1024 * 1024  # a sync_msg page holds up to 1,000 messages
MAX_PAGES = 20  # pages pulled per run; the next run goes on from the saved cursor
TOKEN_MARGIN = 300  # forget a cached access token this many seconds before WeCom expires it
STALE_TOKEN = {40001, 40014, 42001}  # invalid credential / access token, expired access token
BUSY = {-1, 45009, 45011}  # system busy, call quota reached: try again later
KF_CUSTOMER = 3  # sync_msg "origin": 3 the WeChat customer, 4 the system, 5 a servicer
CURSOR_MAX = 200  # Source.cursor's max_length; WeCom's cursors have at most 64 bytes


# Customer messages that carry a file (kf/sync_msg), with the extension of WeCom's usual format
# for a file that comes without a name.
MEDIA_TYPES = {"image": "jpg", "voice": "amr", "video": "mp4", "shortvideo": "mp4", "file": "bin"}
EXTENSIONS = {"image/jpeg": "jpg", "image/png": "png", "image/gif": "gif", "audio/amr": "amr",
              "video/mp4": "mp4", "application/pdf": "pdf"}  # fmt: skip


class WeComApiError(Exception):
    """WeCom's API could not be reached or answered with an error (errcode)."""


class MediaNotFetched(WeComApiError):
    """Tencent refused one media file (expired, unknown, too large): the message is taken
    without it, saying why; unlike a network error, trying again would not help."""

    def said(self, name: str) -> str:
        """The reason as the record and the timeline give it."""
        return _("%(name)s could not be fetched (%(why)s).") % {"name": name, "why": self}


def announce(source: Source, kf: KfSync) -> None:
    """Note that WeCom has news for this source (its token is valid 10 minutes); wake the jobs."""
    Source.objects.filter(pk=source.pk).update(
        kf_token=kf.token[:200], kf_open_kfid=kf.open_kf_id[:100], kf_announced_at=timezone.now()
    )
    wake_after_commit()


def pull_announced() -> int:
    """Pull the sources with announced news; the number of customer messages taken in."""
    taken = 0
    for source in _sources().filter(kf_announced_at__isnull=False):
        # Taken once: of two workers, the one whose update wins pulls.
        if not Source.objects.filter(pk=source.pk, kf_announced_at=source.kf_announced_at).update(
            kf_announced_at=None
        ):
            continue
        taken += _pull(source, KfSync(source.app_id, source.kf_token, source.kf_open_kfid))
    return taken


def pull_all() -> int:
    """Pull every customer-service source without a token: the safety net after failures."""
    return sum(_pull(source, KfSync(source.app_id, "", "")) for source in _sources())


def _sources() -> Any:
    return Source.objects.filter(kind=SourceKind.WECOM, is_active=True).exclude(api_secret_env="")


def _pull(source: Source, kf: KfSync) -> int:
    try:
        taken = sync_kf_messages(source, kf, secret=read_secret(source.api_secret_env, ""))
    except (ConfigError, WeComApiError) as error:
        log.warning(
            "wecom source %s: pulling messages failed, cursor stays at %r: %s",
            source.code,
            source.cursor,
            error,
        )
        return 0
    log.info("wecom source %s: %s customer message(s) pulled", source.code, taken)
    return taken


def sync_kf_messages(source: Source, kf: KfSync, *, secret: str) -> int:
    """Pull announced customer-service messages into receive_chat, saving the cursor per page."""
    api = TencentApi(source, secret)
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
    """A customer's text, photo, voice, video or file from a sync_msg page (a file is fetched
    afterwards, intake.media, so that no file holds up the cursor); None for everything else
    (events, servicers' messages, other kinds)."""
    if not isinstance(item, dict) or item.get("origin") != KF_CUSTOMER:
        return None
    msgid, user, kind = item.get("msgid"), item.get("external_userid"), item.get("msgtype")
    kf = item.get("open_kfid") or ""
    body = item.get(kind) if isinstance(kind, str) else None
    if not (msgid and user and isinstance(body, dict)):
        return None
    content = body.get("content") if kind == "text" else ""
    media_id = body.get("media_id")
    pending: tuple[tuple[str, str], ...] = ()
    if kind in MEDIA_TYPES and isinstance(media_id, str) and media_id:
        pending = ((str(kind), media_id[:200]),)
    elif not (kind == "text" and isinstance(content, str) and content.strip()):
        return None
    sent = item.get("send_time")
    sent_at = None
    if isinstance(sent, int) and 0 < sent < 2**33:  # Unix seconds, or none (receive_chat: now)
        sent_at = datetime.fromtimestamp(sent, tz=UTC)
    return ChatMessage(
        id=str(msgid),
        conversation=f"{user}:{kf}",
        text=content if isinstance(content, str) else "",
        sent_at=sent_at,
        customer=ChatCustomer(external_id=str(user)),
        pending=pending,
    )


class TencentApi:
    """Calls to WeCom (or, as WeChatApi, a WeChat official account) with an access token,
    cached until shortly before it expires."""

    def __init__(self, source: Source, secret: str) -> None:
        base = source.api_address
        if urllib.parse.urlsplit(base).scheme not in ("http", "https"):
            raise WeComApiError(f"api_base {base!r} is not an http(s) address")
        self.base, self.app_id, self.secret = base, source.app_id, secret
        # Keyed by the secret too: a new Secret never gets the old one's token.
        digest = hashlib.sha256(f"{source.app_id}\n{secret}".encode()).hexdigest()[:32]
        self.cache_key = f"kesu:{source.kind}:access-token:{digest}"

    def access_token(self) -> str:
        cached = cache.get(self.cache_key)
        if isinstance(cached, str) and cached:
            return cached
        path, answer = self._new_token()
        _raise_for_errcode(path, answer)
        token, expires_in = answer.get("access_token"), answer.get("expires_in", 7200)
        if not isinstance(token, str) or not token or not isinstance(expires_in, int):
            raise WeComApiError(f"{path}: no access_token in the answer")
        cache.set(self.cache_key, token, max(expires_in - TOKEN_MARGIN, 60))
        return token

    def _new_token(self) -> tuple[str, dict[str, Any]]:
        query = urllib.parse.urlencode({"corpid": self.app_id, "corpsecret": self.secret})
        return "cgi-bin/gettoken", self._call("cgi-bin/gettoken", query, None)

    def post(self, path: str, body: dict[str, Any]) -> dict[str, Any]:
        answer = self._call(path, self._token_query(), body)
        if answer.get("errcode") in STALE_TOKEN:
            cache.delete(self.cache_key)  # revoked or expired early: fetch a new one, once
            answer = self._call(path, self._token_query(), body)
        _raise_for_errcode(path, answer)
        return answer

    def media(self, media_id: str, fallback: str, extension: str) -> ChatFile:
        """A temporary media file (cgi-bin/media/get), with Tencent's name for it if it gives one.

        Tencent answers an error as JSON instead of the file (and a WeChat account's video as
        JSON with its address): MediaNotFetched for a refusal, as for a file over the size
        limit; WeComApiError for what may pass (network, a busy system, a quota), to try again.
        """
        path, limit = "cgi-bin/media/get", settings.KESU_MAX_ATTACHMENT_BYTES
        for attempt in (1, 2):
            query = urllib.parse.urlencode({"access_token": self.access_token(),
                                            "media_id": media_id})  # fmt: skip
            raw, headers = self._open(path, query, None, limit + 1)
            content_type = headers.get_content_type()
            textual = content_type in ("application/json", "text/plain")
            answer = _json_answer(raw) if textual else None
            if answer is None:  # the file itself (a customer's .txt is text/plain too)
                break
            if isinstance(answer.get("video_url"), str):
                raw, headers = self._download(answer["video_url"], limit + 1)
                content_type = headers.get_content_type()
                break
            errcode = answer.get("errcode")
            if errcode in STALE_TOKEN and attempt == 1:
                cache.delete(self.cache_key)  # revoked or expired early: a new one, once
                continue
            said = f"errcode {errcode}: {answer.get('errmsg', '')}"
            if errcode in BUSY or errcode in STALE_TOKEN:
                raise WeComApiError(f"{path}: {said}")
            raise MediaNotFetched(said)
        if len(raw) > limit:
            raise MediaNotFetched(_("larger than %(limit)s") % {"limit": filesizeformat(limit)})
        name = _header_text(headers.get_filename() or "")
        if not name:
            name = f"{fallback}.{EXTENSIONS.get(content_type, extension)}"
        return ChatFile(name=name, data=raw, content_type=content_type)

    def _token_query(self) -> str:
        return urllib.parse.urlencode({"access_token": self.access_token()})

    def _call(self, path: str, query: str, body: dict[str, Any] | None) -> dict[str, Any]:
        data = None if body is None else json.dumps(body, ensure_ascii=False).encode("utf-8")
        raw, _headers = self._open(path, query, data, MAX_API_ANSWER)
        return _json_object(path, raw)

    def _open(self, path: str, query: str, data: bytes | None, limit: int) -> tuple[bytes, Message]:
        # Errors name the path only: the query carries the Secret or the access token.
        request = urllib.request.Request(  # noqa: S310 (the scheme is checked in __init__)
            f"{self.base}/{path}?{query}",
            data=data,
            headers={"Content-Type": "application/json; charset=utf-8"} if data else {},
            method="GET" if data is None else "POST",
        )
        return _read(request, path, limit)

    def _download(self, url: str, limit: int) -> tuple[bytes, Message]:
        if urllib.parse.urlsplit(url).scheme not in ("http", "https"):
            raise MediaNotFetched(f"video_url {url[:80]!r} is not an http(s) address")
        request = urllib.request.Request(url)  # noqa: S310 (the scheme is checked above)
        return _read(request, "video_url", limit)


class WeChatApi(TencentApi):
    """A WeChat official account's API: the stable access token, which leaves alone the token
    any other system of the account got from cgi-bin/token."""

    def _new_token(self) -> tuple[str, dict[str, Any]]:
        body = {"grant_type": "client_credential", "appid": self.app_id, "secret": self.secret,
                "force_refresh": False}  # fmt: skip
        return "cgi-bin/stable_token", self._call("cgi-bin/stable_token", "", body)


def _read(request: urllib.request.Request, path: str, limit: int) -> tuple[bytes, Message]:
    """The answer's body (at most `limit` bytes) and headers; WeComApiError for a network error
    or for a body shorter than it said it was, which a dropped connection leaves."""
    try:
        with urllib.request.urlopen(request, timeout=API_TIMEOUT) as response:  # noqa: S310
            raw, headers = response.read(limit), response.headers
    except urllib.error.HTTPError as error:
        raise WeComApiError(f"{path}: HTTP {error.code}") from None
    except (OSError, ValueError, http.client.HTTPException) as error:  # refused, timeouts, cut
        raise WeComApiError(f"{path}: {getattr(error, 'reason', error)!s}") from None
    promised = str(headers.get("Content-Length") or "")
    if promised.isdigit() and len(raw) < min(int(promised), limit):
        raise WeComApiError(f"{path}: {len(raw)} of {promised} bytes arrived")
    return raw, headers


def _json_answer(raw: bytes) -> dict[str, Any] | None:
    """Tencent's JSON in place of a file (an error, or a video's address), or None when the
    body is not one."""
    try:
        answer = json.loads(raw)
    except ValueError:
        return None
    if isinstance(answer, dict) and ("errcode" in answer or "video_url" in answer):
        return answer
    return None


def _header_text(value: str) -> str:
    """A header value as WeCom meant it: its raw UTF-8 reaches us read as Latin-1."""
    try:
        return value.encode("latin-1").decode("utf-8")
    except (UnicodeEncodeError, UnicodeDecodeError):
        return value


def _json_object(path: str, raw: bytes) -> dict[str, Any]:
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
