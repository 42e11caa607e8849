"""Delivery of one message to a chat robot (DingTalk, WeCom, Feishu) or an HTTP SMS gateway.

Standard library only. Each sender returns the provider's answer on success and raises
DeliveryError otherwise; the outbox job records either, so an answer must never hold a secret.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import http.client
import json
import socket
import ssl
import time
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Callable, Iterable, Sequence
from typing import Any

ANSWER_LIMIT = 500
# A robot answers with a few dozen bytes; a cap keeps a misbehaving endpoint from filling memory.
READ_LIMIT = 64 * 1024
USER_AGENT = "kesu-notify/1"


class DeliveryError(Exception):
    """The provider refused or could not be reached; `answer` is what it said (or why not)."""

    def __init__(self, answer: str) -> None:
        super().__init__(answer)
        self.answer = answer


def dingtalk_sign(secret: str, timestamp_ms: int) -> str:
    """DingTalk robot 加签: HMAC-SHA256 of "timestamp\\nsecret" under the secret, base64, quoted."""
    string_to_sign = f"{timestamp_ms}\n{secret}".encode()
    digest = hmac.new(secret.encode(), string_to_sign, hashlib.sha256).digest()
    return urllib.parse.quote_plus(base64.b64encode(digest))


def feishu_sign(secret: str, timestamp_s: int) -> str:
    """Feishu bot 签名校验: base64 HMAC-SHA256 of an empty message keyed by "timestamp\\nsecret"."""
    # Unlike DingTalk, the string to sign is the KEY and the message is empty; the result goes
    # into the JSON body, so it is not URL-encoded.
    key = f"{timestamp_s}\n{secret}".encode()
    return base64.b64encode(hmac.new(key, b"", hashlib.sha256).digest()).decode("ascii")


def send_dingtalk(
    url: str,
    *,
    secret: str,
    title: str,
    text: str,
    at_mobiles: Sequence[str] = (),
    timeout: float = 10.0,
    now_ms: int | None = None,
) -> str:
    """Post a markdown message to a DingTalk group robot; return its answer."""
    if secret:
        timestamp_ms = int(time.time() * 1000) if now_ms is None else now_ms
        sign = dingtalk_sign(secret, timestamp_ms)  # already URL-encoded
        url = _with_query(url, f"timestamp={timestamp_ms}&sign={sign}")
    payload = {
        "msgtype": "markdown",
        "markdown": {"title": title, "text": text},
        "at": {"atMobiles": list(at_mobiles), "isAtAll": False},
    }
    status, body = _post_json(url, payload, timeout=timeout, hide=(secret,))
    _check_code(status, body, _errcode, hide=(secret,))
    return _answer(f"{status} {body}", hide=(secret,))


def send_wecom(
    url: str,
    *,
    title: str,
    text: str,
    mentioned_mobiles: Sequence[str] = (),
    timeout: float = 10.0,
) -> str:
    """Post a message to a WeCom (企业微信) group robot; return its answer."""
    payload: dict[str, Any]
    if mentioned_mobiles:
        # WeCom markdown cannot @ anyone by mobile number; only a text message can.
        payload = {
            "msgtype": "text",
            "text": {
                "content": f"{title}\n{text}",
                "mentioned_mobile_list": list(mentioned_mobiles),
            },
        }
    else:
        payload = {"msgtype": "markdown", "markdown": {"content": f"**{title}**\n{text}"}}
    status, body = _post_json(url, payload, timeout=timeout)
    _check_code(status, body, _errcode)
    return _answer(f"{status} {body}")


def send_feishu(
    url: str,
    *,
    secret: str,
    title: str,
    text: str,
    timeout: float = 10.0,
    now_s: int | None = None,
) -> str:
    """Post a text message to a Feishu/Lark custom bot; return its answer."""
    payload: dict[str, Any] = {}
    if secret:
        timestamp_s = int(time.time()) if now_s is None else now_s
        # Feishu wants the timestamp as a string in the body.
        payload.update(timestamp=str(timestamp_s), sign=feishu_sign(secret, timestamp_s))
    payload.update(msg_type="text", content={"text": f"{title}\n{text}"})
    status, body = _post_json(url, payload, timeout=timeout, hide=(secret,))
    _check_code(status, body, _feishu_code, hide=(secret,))
    return _answer(f"{status} {body}", hide=(secret,))


def send_sms_http(url: str, *, token: str, to: str, text: str, timeout: float = 10.0) -> str:
    """Post one SMS to Kesu's generic HTTP gateway contract; return the gateway's answer."""
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    status, body = _post_json(
        url, {"to": to, "text": text}, timeout=timeout, headers=headers, hide=(token,)
    )
    return _answer(f"{status} {body}", hide=(token,))


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    """Treat a redirect as a failure instead of following it."""

    # A robot URL that redirects is misconfigured; following it would send the message to a
    # host nobody configured, and urllib would silently turn the POST into a GET.
    def redirect_request(
        self,
        req: urllib.request.Request,
        fp: Any,
        code: int,
        msg: str,
        headers: Any,
        newurl: str,
    ) -> urllib.request.Request | None:
        return None


def _post_json(
    url: str,
    payload: dict[str, Any],
    *,
    timeout: float,
    headers: dict[str, str] | None = None,
    hide: Iterable[str] = (),
) -> tuple[int, str]:
    """POST payload as UTF-8 JSON; return (status, body) of a 2xx answer or raise DeliveryError."""
    parts = urllib.parse.urlsplit(url)
    if parts.scheme.lower() not in ("http", "https") or not parts.hostname:
        # Never name the URL itself: its query holds the robot's access token.
        raise DeliveryError(f"refused URL: scheme {parts.scheme!r} is not http or https")
    data = json.dumps(payload, ensure_ascii=False).encode("utf-8")
    request = urllib.request.Request(  # noqa: S310 - the scheme is checked above
        url,
        data=data,
        method="POST",
        headers={
            "Content-Type": "application/json; charset=utf-8",
            "Accept": "application/json",
            "User-Agent": USER_AGENT,
            **(headers or {}),
        },
    )
    # Built per call so that proxy settings from the environment are read when sending.
    opener = urllib.request.build_opener(_NoRedirect)
    try:
        with opener.open(request, timeout=timeout) as response:
            status = int(response.status)
            body = _text(response.read(READ_LIMIT))
    except urllib.error.HTTPError as error:
        body = _text(_read_error_body(error))
        raise DeliveryError(_answer(f"HTTP {error.code}: {body}", hide=hide)) from None
    except urllib.error.URLError as error:
        raise DeliveryError(_why(error.reason, timeout)) from None
    except (OSError, http.client.HTTPException) as error:
        raise DeliveryError(_why(error, timeout)) from None
    if not 200 <= status < 300:
        raise DeliveryError(_answer(f"HTTP {status}: {body}", hide=hide))
    return status, body


def _read_error_body(error: urllib.error.HTTPError) -> bytes:
    """The body of an error answer, or nothing if it cannot be read."""
    try:
        return error.read(READ_LIMIT)
    except (OSError, http.client.HTTPException, AttributeError):
        return b""


def _why(reason: object, timeout: float) -> str:
    """A short phrase for a transport failure (no URL, no secret)."""
    if isinstance(reason, TimeoutError):
        return f"timeout after {timeout:g} s"
    if isinstance(reason, ConnectionRefusedError):
        return "connection refused"
    if isinstance(reason, ConnectionResetError):
        return "connection reset by the server"
    if isinstance(reason, socket.gaierror):
        return f"cannot resolve host: {reason.strerror or reason}"
    if isinstance(reason, ssl.SSLError):
        return f"TLS error: {reason}"
    if isinstance(reason, http.client.HTTPException):
        return f"bad HTTP answer: {type(reason).__name__} {reason}".rstrip()
    return f"cannot connect: {reason}"


def _errcode(data: dict[str, Any]) -> tuple[bool, str]:
    """DingTalk and WeCom: success is errcode 0."""
    code = data.get("errcode")
    return code == 0, f"errcode {code}: {data.get('errmsg', '')}"


def _feishu_code(data: dict[str, Any]) -> tuple[bool, str]:
    """Feishu: success is code 0, or StatusCode 0 from the older API."""
    if "code" in data:
        return data["code"] == 0, f"code {data['code']}: {data.get('msg', '')}"
    code = data.get("StatusCode")
    return code == 0, f"StatusCode {code}: {data.get('StatusMessage', '')}"


def _check_code(
    status: int,
    body: str,
    verdict: Callable[[dict[str, Any]], tuple[bool, str]],
    *,
    hide: Iterable[str] = (),
) -> None:
    """Raise DeliveryError unless the JSON body reports success."""
    try:
        data = json.loads(body)
    except ValueError:
        data = None
    if not isinstance(data, dict):
        raise DeliveryError(_answer(f"not JSON: {status} {body}", hide=hide))
    ok, summary = verdict(data)
    if not ok:
        raise DeliveryError(_answer(summary, hide=hide))


def _with_query(url: str, query: str) -> str:
    """Append query parameters to a URL that may already have some."""
    if urllib.parse.urlsplit(url).query:
        return f"{url}&{query}"
    return f"{url}{'' if url.endswith('?') else '?'}{query}"


def _text(raw: bytes) -> str:
    """Decode a provider's answer, whatever it is."""
    return raw.decode("utf-8", errors="replace")


def _answer(text: str, *, hide: Iterable[str] = ()) -> str:
    """One line of at most ANSWER_LIMIT characters, with secrets blanked out."""
    # A provider may echo what it was sent; the answer is stored and shown to administrators.
    for secret in hide:
        if secret:
            text = text.replace(secret, "***")
    text = " ".join(text.split())
    if len(text) > ANSWER_LIMIT:
        text = text[: ANSWER_LIMIT - 1] + "…"
    return text
