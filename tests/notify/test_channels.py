"""Robot and SMS channels: signatures, request shape and every way delivery can fail."""

from __future__ import annotations

import base64
import hashlib
import hmac
import socket
import urllib.parse
from collections.abc import Callable, Iterator

import pytest

from kesu.notify.channels import (
    DeliveryError,
    dingtalk_sign,
    feishu_sign,
    send_dingtalk,
    send_feishu,
    send_sms_http,
    send_wecom,
)
from tests.httpsink import Sink

SECRET = "SEC5d1b2f0e9a7c4b3d8e6f1a2b3c4d5e6f7a8b9c0d1e2f3a4b5c6d7e8f9a0b1c2d"
TOKEN = "sms-gateway-token-1f2e3d"
TITLE = "新投诉 KS-2024-0001"
TEXT = "顾客反映蛋糕里吃出头发，请 小王 30 分钟内联系。"


@pytest.fixture(autouse=True)
def _no_proxy(monkeypatch: pytest.MonkeyPatch) -> None:
    # urllib honours proxy variables; a developer's proxy must not sit between us and the sink.
    for name in ("http_proxy", "https_proxy", "all_proxy", "HTTP_PROXY", "HTTPS_PROXY"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.delenv("ALL_PROXY", raising=False)


@pytest.fixture
def sink() -> Iterator[Sink]:
    with Sink() as running:
        yield running


@pytest.fixture
def closed_url() -> Iterator[str]:
    """A URL on a port that is bound but not listening, so connecting is refused at once."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))  # held, so nothing else can take the port meanwhile
        yield f"http://127.0.0.1:{sock.getsockname()[1]}/robot/send"


# --- signatures --------------------------------------------------------------------------------


def test_dingtalk_sign_follows_the_documented_steps() -> None:
    # DingTalk "自定义机器人安全设置 / 加签" gives code, not a worked example:
    # https://open.dingtalk.com/document/robots/customize-robot-security-settings
    # (English: https://help.dingtalk.io/open/dingstart/customize-robot-security-settings).
    # Its steps, written out: string_to_sign = timestamp + "\n" + secret; HmacSHA256 keyed with
    # the secret; Base64; urlEncode. "this is secret" is the secret used in its sample code.
    secret, timestamp = "this is secret", 1700000000000
    string_to_sign = f"{timestamp}\n{secret}".encode()
    digest = hmac.new(secret.encode(), string_to_sign, digestmod=hashlib.sha256).digest()
    expected = urllib.parse.quote_plus(base64.b64encode(digest))
    assert dingtalk_sign(secret, timestamp) == expected
    # Pinned once by hand, so that a change of algorithm (or of the encoding) is caught.
    assert dingtalk_sign(secret, timestamp) == "sSFWELbV2YwjdDQhWZwTcWlX5BWUx5J6TPpsZmuPii0%3D"


def test_dingtalk_sign_matches_an_independent_implementation() -> None:
    # Test vector of the Rust crate "dingding" (src/signature.rs, test creates_expected_signature,
    # https://docs.rs/crate/dingding/latest/source/src/signature.rs): not DingTalk's own, but an
    # implementation written separately from ours. It also shows "+", "/" and "=" URL-encoded.
    assert dingtalk_sign("secret", 1700000000000) == (
        "OuzzJR5%2BxZ4%2FEYwqtNt6sMYZQMTa%2FHEGvc9miJe7XzY%3D"
    )


def test_feishu_sign_follows_the_documented_steps() -> None:
    # Feishu "自定义机器人使用指南 / 签名校验" also gives only code:
    # https://open.feishu.cn/document/client-docs/bot-v3/add-custom-bot
    # Its Python sample: key = timestamp + "\n" + secret, HMAC-SHA256 of an EMPTY message under
    # that key, Base64, no URL-encoding. Timestamps are seconds (its example: 1599360473).
    secret, timestamp = "this is secret", 1700000000
    key = f"{timestamp}\n{secret}".encode()
    digest = hmac.new(key, b"", digestmod=hashlib.sha256).digest()
    expected = base64.b64encode(digest).decode()
    assert feishu_sign(secret, timestamp) == expected
    assert feishu_sign(secret, timestamp) == "OfGzRzoUICBOoc8wVra1e4A1hPfbZ9zqXozA8CWVUuY="
    assert feishu_sign("secret", 1599360473) == "q4jswNiMy51J5JuQV566yJat0/lQ/c+22kINzUgKsGU="


def test_feishu_and_dingtalk_signatures_are_not_interchangeable() -> None:
    # Copying the DingTalk recipe for Feishu (key = secret) is a common mistake; it must differ.
    secret, timestamp = "this is secret", 1700000000
    dingtalk_style = base64.b64encode(
        hmac.new(secret.encode(), f"{timestamp}\n{secret}".encode(), hashlib.sha256).digest()
    ).decode()
    assert feishu_sign(secret, timestamp) != dingtalk_style


# --- DingTalk ----------------------------------------------------------------------------------


def test_dingtalk_posts_signed_markdown(sink: Sink) -> None:
    answer = send_dingtalk(
        f"{sink.url}/robot/send?access_token=abc",
        secret=SECRET,
        title=TITLE,
        text=TEXT,
        at_mobiles=["13800138000"],
        now_ms=1700000000004,
    )
    assert answer == '200 {"errcode":0,"errmsg":"ok"}'
    [received] = sink.wait_for(1)
    assert (received.method, received.path) == ("POST", "/robot/send")
    assert received.query["access_token"] == "abc"
    assert received.query["timestamp"] == "1700000000004"
    # The sign DingTalk would check: recomputed here, and it survives URL-decoding ("+" and "/").
    expected = base64.b64encode(
        hmac.new(SECRET.encode(), f"1700000000004\n{SECRET}".encode(), hashlib.sha256).digest()
    ).decode()
    assert received.query["sign"] == expected
    assert {"+", "/", "="} <= set(expected)  # this timestamp was chosen to need URL-encoding
    assert received.headers["content-type"] == "application/json; charset=utf-8"
    assert TEXT.encode() in received.body  # UTF-8, not \u escapes
    assert received.json() == {
        "msgtype": "markdown",
        "markdown": {"title": TITLE, "text": TEXT},
        "at": {"atMobiles": ["13800138000"], "isAtAll": False},
    }


def test_dingtalk_without_secret_adds_no_signature(sink: Sink) -> None:
    send_dingtalk(f"{sink.url}/robot/send", secret="", title=TITLE, text=TEXT)
    [received] = sink.wait_for(1)
    assert received.query == {}
    assert received.json()["at"] == {"atMobiles": [], "isAtAll": False}


def test_dingtalk_signature_starts_the_query_when_the_url_has_none(sink: Sink) -> None:
    send_dingtalk(f"{sink.url}/robot/send", secret=SECRET, title=TITLE, text=TEXT, now_ms=1)
    [received] = sink.wait_for(1)
    assert set(received.query) == {"timestamp", "sign"}


def test_dingtalk_error_code_is_a_failure(sink: Sink) -> None:
    sink.respond(200, {"errcode": 310000, "errmsg": "sign not match"})
    with pytest.raises(DeliveryError) as caught:
        send_dingtalk(f"{sink.url}/robot/send", secret=SECRET, title=TITLE, text=TEXT)
    assert caught.value.answer == "errcode 310000: sign not match"


def test_an_answer_that_echoes_the_secret_is_blanked(sink: Sink) -> None:
    sink.respond(200, {"errcode": 310000, "errmsg": f"bad secret {SECRET}"})
    with pytest.raises(DeliveryError) as caught:
        send_dingtalk(f"{sink.url}/robot/send", secret=SECRET, title=TITLE, text=TEXT)
    assert caught.value.answer == "errcode 310000: bad secret ***"


def test_dingtalk_non_json_answer_is_a_failure(sink: Sink) -> None:
    sink.respond(200, "<html>gateway</html>")
    with pytest.raises(DeliveryError) as caught:
        send_dingtalk(f"{sink.url}/robot/send", secret=SECRET, title=TITLE, text=TEXT)
    assert caught.value.answer == "not JSON: 200 <html>gateway</html>"


def test_dingtalk_answer_without_errcode_is_a_failure(sink: Sink) -> None:
    sink.respond(200, {"ok": True})
    with pytest.raises(DeliveryError, match="errcode None"):
        send_dingtalk(f"{sink.url}/robot/send", secret="", title=TITLE, text=TEXT)


# --- WeCom -------------------------------------------------------------------------------------


def test_wecom_posts_markdown(sink: Sink) -> None:
    answer = send_wecom(f"{sink.url}/cgi-bin/webhook/send?key=k1", title=TITLE, text=TEXT)
    assert answer.startswith("200 ")
    [received] = sink.wait_for(1)
    assert (received.path, received.query) == ("/cgi-bin/webhook/send", {"key": "k1"})
    assert received.json() == {
        "msgtype": "markdown",
        "markdown": {"content": f"**{TITLE}**\n{TEXT}"},
    }


def test_wecom_mentions_switch_to_a_text_message(sink: Sink) -> None:
    send_wecom(f"{sink.url}/send", title=TITLE, text=TEXT, mentioned_mobiles=["13800138000"])
    [received] = sink.wait_for(1)
    assert received.json() == {
        "msgtype": "text",
        "text": {"content": f"{TITLE}\n{TEXT}", "mentioned_mobile_list": ["13800138000"]},
    }


def test_wecom_error_code_is_a_failure(sink: Sink) -> None:
    sink.respond(200, {"errcode": 93000, "errmsg": "invalid webhook url"})
    with pytest.raises(DeliveryError) as caught:
        send_wecom(f"{sink.url}/send", title=TITLE, text=TEXT)
    assert caught.value.answer == "errcode 93000: invalid webhook url"


# --- Feishu ------------------------------------------------------------------------------------


def test_feishu_posts_signed_text(sink: Sink) -> None:
    sink.respond(200, {"code": 0, "data": {}, "msg": "success"})
    answer = send_feishu(
        f"{sink.url}/open-apis/bot/v2/hook/h1",
        secret=SECRET,
        title=TITLE,
        text=TEXT,
        now_s=1700000000,
    )
    assert answer == '200 {"code": 0, "data": {}, "msg": "success"}'
    [received] = sink.wait_for(1)
    assert received.path == "/open-apis/bot/v2/hook/h1"
    body = received.json()
    key = f"1700000000\n{SECRET}".encode()
    expected = base64.b64encode(hmac.new(key, b"", hashlib.sha256).digest()).decode()
    assert body == {
        "timestamp": "1700000000",
        "sign": expected,
        "msg_type": "text",
        "content": {"text": f"{TITLE}\n{TEXT}"},
    }


def test_feishu_without_secret_sends_no_signature(sink: Sink) -> None:
    sink.respond(200, {"StatusCode": 0, "StatusMessage": "success"})  # the older answer
    send_feishu(f"{sink.url}/hook", secret="", title=TITLE, text=TEXT)
    [received] = sink.wait_for(1)
    assert received.json() == {"msg_type": "text", "content": {"text": f"{TITLE}\n{TEXT}"}}


@pytest.mark.parametrize(
    ("reply", "answer"),
    [
        (
            {
                "code": 19021,
                "data": {},
                "msg": "sign match fail or timestamp is not within one hour",
            },
            "code 19021: sign match fail or timestamp is not within one hour",
        ),
        ({"StatusCode": 9499, "StatusMessage": "Bad Request"}, "StatusCode 9499: Bad Request"),
    ],
)
def test_feishu_error_code_is_a_failure(sink: Sink, reply: dict[str, object], answer: str) -> None:
    sink.respond(200, reply)
    with pytest.raises(DeliveryError) as caught:
        send_feishu(f"{sink.url}/hook", secret=SECRET, title=TITLE, text=TEXT)
    assert caught.value.answer == answer


# --- SMS gateway -------------------------------------------------------------------------------


def test_sms_posts_with_bearer_token(sink: Sink) -> None:
    sink.respond(202, "queued 7")
    answer = send_sms_http(f"{sink.url}/sms", token=TOKEN, to="+8613800138000", text=TEXT)
    assert answer == "202 queued 7"
    [received] = sink.wait_for(1)
    assert received.headers["authorization"] == f"Bearer {TOKEN}"
    assert received.headers["content-type"] == "application/json; charset=utf-8"
    assert received.json() == {"to": "+8613800138000", "text": TEXT}


def test_sms_without_token_sends_no_authorization(sink: Sink) -> None:
    send_sms_http(f"{sink.url}/sms", token="", to="+8613800138000", text=TEXT)
    [received] = sink.wait_for(1)
    assert "authorization" not in received.headers


def test_sms_answer_is_capped(sink: Sink) -> None:
    sink.respond(200, "x" * 200_000)
    answer = send_sms_http(f"{sink.url}/sms", token=TOKEN, to="+8613800138000", text=TEXT)
    assert len(answer) == 500 and answer.startswith("200 xxx") and answer.endswith("…")


# --- failures common to every sender -------------------------------------------------------------

Sender = Callable[[str, float], str]

SENDERS: dict[str, Sender] = {
    "dingtalk": lambda url, timeout: send_dingtalk(
        url, secret=SECRET, title=TITLE, text=TEXT, timeout=timeout
    ),
    "wecom": lambda url, timeout: send_wecom(url, title=TITLE, text=TEXT, timeout=timeout),
    "feishu": lambda url, timeout: send_feishu(
        url, secret=SECRET, title=TITLE, text=TEXT, timeout=timeout
    ),
    "sms": lambda url, timeout: send_sms_http(
        url, token=TOKEN, to="+8613800138000", text=TEXT, timeout=timeout
    ),
}
every_sender = pytest.mark.parametrize("send", SENDERS.values(), ids=SENDERS.keys())


def _fails(send: Sender, url: str, timeout: float = 2.0) -> str:
    with pytest.raises(DeliveryError) as caught:
        send(url, timeout)
    answer = caught.value.answer
    assert SECRET not in answer and TOKEN not in answer and str(caught.value) == answer
    return answer


@every_sender
def test_http_500_names_status_and_body(sink: Sink, send: Sender) -> None:
    sink.respond(500, "数据库不可用")
    assert _fails(send, f"{sink.url}/hook?access_token=abc") == "HTTP 500: 数据库不可用"


@every_sender
def test_redirect_is_not_followed(sink: Sink, send: Sender) -> None:
    sink.respond(302, "")
    assert _fails(send, f"{sink.url}/hook") == "HTTP 302:"
    assert len(sink.requests) == 1


@every_sender
def test_timeout(sink: Sink, send: Sender) -> None:
    sink.respond(delay=3.0)
    assert _fails(send, f"{sink.url}/hook", timeout=0.2) == "timeout after 0.2 s"


@every_sender
def test_connection_refused(closed_url: str, send: Sender) -> None:
    assert _fails(send, closed_url) == "connection refused"


@every_sender
@pytest.mark.parametrize(
    "url", ["file:///etc/passwd", "ftp://127.0.0.1/x", "gopher://x", "127.0.0.1:8000/hook"]
)
def test_only_http_and_https_urls(send: Sender, url: str) -> None:
    assert _fails(send, url).startswith("refused URL: scheme")
