"""The WeChat and WeCom endpoints: URL checks, pushes, passive replies, customer-service pulls.

Pushes are built here the way Tencent builds them: signatures computed with hashlib from the
documented recipe, ciphertext from wechat.Cipher (itself pinned to Tencent's SDK vectors in
test_wechat.py). WeCom's API is a local fake (tests/wecomserver.py).
"""

from __future__ import annotations

import hashlib
import logging
import time
from collections.abc import Mapping
from datetime import timedelta
from urllib.parse import urlencode

import pytest
from django.test import Client
from django.utils import timezone, translation

from kesu.complaints.events import describe
from kesu.complaints.models import Channel, Complaint
from kesu.intake.jobs import pull_all_wecom_messages, pull_wecom_messages
from kesu.intake.media import fetch_pending_media
from kesu.intake.models import Conversation, InboundMessage, Outcome, Source, SourceKind
from kesu.intake.wechat import Cipher, parse_xml
from tests.wecomserver import FakeWeCom

pytestmark = pytest.mark.django_db

TOKEN = "kesu-wechat-token"
KEY = "abcdefghijklmnopqrstuvwxyz0123456789ABCDEFG"
APP_ID = "wx0123456789abcdef"
CORP_ID = "ww0123456789abcdef"
KF_SECRET = "kf-secret"
OPENID = "oCustomer-liu"
NONCE = "1320562132"
COMPLAINT = "收到的耳机是坏的，要求换货。"
OTHER_COMPLAINT = "我昨天买的洗衣机漏水，客服一直不回复，要求退货。"


def sha1(*parts: str) -> str:
    return hashlib.sha1("".join(sorted(parts)).encode(), usedforsecurity=False).hexdigest()


@pytest.fixture(autouse=True)
def secrets(monkeypatch):
    monkeypatch.setenv("KESU_TEST_WX_TOKEN", TOKEN)
    monkeypatch.setenv("KESU_TEST_WX_AES", KEY)
    monkeypatch.setenv("KESU_TEST_KF_SECRET", KF_SECRET)


def wechat_source(code="gzh", **fields):
    return Source.objects.create(
        code=code,
        name="服务号",
        kind=SourceKind.WECHAT,
        app_id=APP_ID,
        channel=Channel.WECHAT,
        secret_env="KESU_TEST_WX_TOKEN",
        **fields,
    )


@pytest.fixture
def plain():
    return wechat_source()


@pytest.fixture
def safe():
    return wechat_source("gzh-safe", aes_key_env="KESU_TEST_WX_AES")


@pytest.fixture
def wecom():
    return Source.objects.create(
        code="qywx",
        name="企业微信客服",
        kind=SourceKind.WECOM,
        app_id=CORP_ID,
        secret_env="KESU_TEST_WX_TOKEN",
        aes_key_env="KESU_TEST_WX_AES",
        api_secret_env="KESU_TEST_KF_SECRET",
    )


def now() -> str:
    return str(int(time.time()))


def text_xml(content: str, msg_id: str, *, user: str = OPENID, to: str = "gh_kesu") -> str:
    return (
        f"<xml><ToUserName><![CDATA[{to}]]></ToUserName>"
        f"<FromUserName><![CDATA[{user}]]></FromUserName><CreateTime>{now()}</CreateTime>"
        f"<MsgType><![CDATA[text]]></MsgType><Content><![CDATA[{content}]]></Content>"
        f"<MsgId>{msg_id}</MsgId></xml>"
    )


def event_xml(event: str, **extra: str) -> str:
    tags = "".join(f"<{k}><![CDATA[{v}]]></{k}>" for k, v in extra.items())
    return (
        f"<xml><ToUserName><![CDATA[gh_kesu]]></ToUserName><FromUserName><![CDATA[{OPENID}]]>"
        f"</FromUserName><CreateTime>{now()}</CreateTime><MsgType><![CDATA[event]]></MsgType>"
        f"<Event><![CDATA[{event}]]></Event>{tags}</xml>"
    )


def signed(ts: str | None = None) -> dict[str, str]:
    ts = ts or now()
    return {"signature": sha1(TOKEN, ts, NONCE), "timestamp": ts, "nonce": NONCE}


def sealed(inner: str, receive_id: str = APP_ID, to: str = "gh_kesu") -> tuple[str, dict[str, str]]:
    """A safe-mode body and query (WeChat also sends the plain signature; WeCom does not care)."""
    encrypt = Cipher(KEY, receive_id).encrypt(inner)
    query = signed()
    query.update(encrypt_type="aes", msg_signature=sha1(TOKEN, query["timestamp"], NONCE, encrypt))
    body = f"<xml><ToUserName>{to}</ToUserName><Encrypt><![CDATA[{encrypt}]]></Encrypt></xml>"
    return body, query


def post(kind: str, code: str, body: str | bytes, query: Mapping[str, str]):
    return Client().post(
        f"/intake/{kind}/{code}/?{urlencode(query)}", body, content_type="text/xml"
    )


def push(body: str, code: str = "gzh"):
    return post("wechat", code, body, signed())


def reply(response) -> Mapping[str, str]:
    assert response.status_code == 200 and response["Content-Type"].startswith("application/xml")
    return parse_xml(response.content)


def unseal(response, receive_id: str = APP_ID) -> Mapping[str, str]:
    outer = reply(response)
    assert outer["MsgSignature"] == sha1(
        TOKEN, outer["TimeStamp"], outer["Nonce"], outer["Encrypt"]
    )
    return parse_xml(Cipher(KEY, receive_id).decrypt(outer["Encrypt"]))


def is_success(response) -> bool:
    return bool(response.status_code == 200 and response.content == b"success")


# --- URL checks ------------------------------------------------------------------------------


def test_the_url_check_echoes_echostr(plain):
    response = Client().get("/intake/wechat/gzh/", {**signed(), "echostr": "5837397749712320"})
    assert response.status_code == 200 and response.content == b"5837397749712320"


def test_an_encrypted_url_check_is_answered_with_the_plaintext(safe, wecom):
    for code, kind, receive_id in (("gzh-safe", "wechat", APP_ID), ("qywx", "wecom", CORP_ID)):
        echostr = Cipher(KEY, receive_id).encrypt("echo-1588473458")
        ts = now()
        query = {
            "msg_signature": sha1(TOKEN, ts, NONCE, echostr),
            "timestamp": ts,
            "nonce": NONCE,
            "echostr": echostr,
        }
        response = Client().get(f"/intake/{kind}/{code}/", query)
        assert response.status_code == 200 and response.content == b"echo-1588473458", kind


# --- Official account: messages and replies --------------------------------------------------


def test_a_complaint_opens_a_case_and_the_reply_gives_its_reference(plain):
    answer = reply(push(text_xml(COMPLAINT, "1001")))
    complaint = Complaint.objects.get()
    assert complaint.channel == Channel.WECHAT
    assert (answer["ToUserName"], answer["FromUserName"], answer["MsgType"]) == (
        OPENID,
        "gh_kesu",
        "text",
    )
    assert answer["Content"].startswith(f"您的投诉已登记，投诉单号为 {complaint.reference}。")
    assert "24 小时内" in answer["Content"]
    record = InboundMessage.objects.get()
    assert (record.outcome, record.source_key, record.external_id) == (
        Outcome.CREATED,
        "wechat:gzh",
        "1001",
    )
    assert record.conversation is not None and record.conversation.external_id == OPENID
    assert record.sender == OPENID


def test_the_next_message_of_the_same_user_joins_the_case(plain):
    push(text_xml(COMPLAINT, "1001"))
    answer = reply(push(text_xml("好的，谢谢", "1002")))
    complaint = Complaint.objects.get()
    assert complaint.reference in answer["Content"]
    assert InboundMessage.objects.get(external_id="1002").outcome == Outcome.JOINED


def test_a_retried_push_gets_the_same_reply_and_no_second_record(plain):
    body = text_xml(COMPLAINT, "1001")
    first, again = reply(push(body)), reply(push(body))
    assert again["Content"] == first["Content"]
    assert Complaint.objects.count() == 1 and InboundMessage.objects.count() == 1


def test_a_greeting_is_recorded_as_ignored_and_not_answered(plain):
    assert is_success(push(text_xml("你好，请问在吗？", "1001")))
    assert InboundMessage.objects.get().outcome == Outcome.IGNORED
    assert not Complaint.objects.exists()


def test_an_event_is_acknowledged_and_not_recorded(plain):
    assert is_success(push(event_xml("subscribe")))
    assert not InboundMessage.objects.exists() and not Conversation.objects.exists()


def test_safe_mode_round_trip(safe):
    body, query = sealed(text_xml(COMPLAINT, "2001"))
    answer = unseal(post("wechat", "gzh-safe", body, query))
    complaint = Complaint.objects.get()
    assert answer["ToUserName"] == OPENID and complaint.reference in answer["Content"]


# --- Refusals: nothing is written ------------------------------------------------------------


def _refusals() -> dict[str, tuple[int, str]]:
    return {
        "bad signature": (401, "bad signature"),
        "no signature": (401, "missing signature"),
        "stale timestamp": (401, "stale timestamp"),
        "malformed XML": (400, "malformed XML"),
        "a DTD": (400, "DTD"),
        "too large": (400, "larger than"),
        "unknown code": (404, "no active wechat source"),
        "a WeCom code": (404, "no active wechat source"),
        "inactive": (404, "no active wechat source"),
        "Token not set": (503, "not configured"),
        "safe mode: wrong account": (400, "wrong receive-id"),
        "safe mode: plain push": (401, "missing msg_signature"),
        "wecom: no msg_signature": (401, "missing msg_signature"),
        "wecom: kf Secret not set": (503, "customer-service Secret"),
    }


@pytest.mark.parametrize("case", list(_refusals()))
def test_refusals(case, plain, safe, wecom, monkeypatch, caplog):
    status, reason = _refusals()[case]
    text = text_xml(COMPLAINT, "3001")
    kind, code, body, query = "wechat", "gzh", text, signed()
    match case:
        case "bad signature":
            query["signature"] = "0" * 40
        case "no signature":
            del query["signature"]
        case "stale timestamp":
            query = signed(str(int(time.time()) - 600))
        case "malformed XML":
            body = text[:-3]
        case "a DTD":
            body = '<!DOCTYPE xml [<!ENTITY a "b">]><xml><MsgType>&a;</MsgType></xml>'
        case "too large":
            body = text.replace(COMPLAINT, COMPLAINT * 2000)
        case "unknown code":
            code = "nope"
        case "a WeCom code":
            code = "qywx"
        case "inactive":
            Source.objects.filter(code="gzh").update(is_active=False)
        case "Token not set":
            monkeypatch.delenv("KESU_TEST_WX_TOKEN")
        case "safe mode: wrong account":
            code, (body, query) = "gzh-safe", sealed(text, receive_id="wxSomeOtherAccount")
        case "safe mode: plain push":
            code = "gzh-safe"
        case "wecom: no msg_signature":
            kind, code, (body, query) = "wecom", "qywx", sealed(text, CORP_ID, CORP_ID)
            del query["msg_signature"]
        case "wecom: kf Secret not set":
            monkeypatch.delenv("KESU_TEST_KF_SECRET")
            kind, code, (body, query) = "wecom", "qywx", sealed(kf_event(), CORP_ID, CORP_ID)
    with caplog.at_level(logging.WARNING, logger="kesu.intake.wechat_views"):
        response = post(kind, code, body, query)
    assert response.status_code == status, response.content
    assert reason in response.content.decode()
    assert caplog.records, "every refusal is logged"
    assert not InboundMessage.objects.exists() and not Conversation.objects.exists()
    assert not Complaint.objects.exists()


# --- WeCom -----------------------------------------------------------------------------------


def kf_event(open_kfid: str = "wkKesu") -> str:
    return (
        f"<xml><ToUserName><![CDATA[{CORP_ID}]]></ToUserName><CreateTime>{now()}</CreateTime>"
        "<MsgType><![CDATA[event]]></MsgType><Event><![CDATA[kf_msg_or_event]]></Event>"
        f"<Token><![CDATA[ENCApHxnGDNAVNY4AaSJKj4Tb5mw]]></Token>"
        f"<OpenKfId><![CDATA[{open_kfid}]]></OpenKfId></xml>"
    )


def kf_text(msgid: str, user: str, content: str, origin: int = 3) -> dict[str, object]:
    return {
        "msgid": msgid,
        "open_kfid": "wkKesu",
        "external_userid": user,
        "origin": origin,
        "send_time": int(time.time()) - 5,
        "msgtype": "text",
        "text": {"content": content},
    }


def wecom_push(inner: str):
    body, query = sealed(inner, CORP_ID, CORP_ID)
    del query["signature"]  # WeCom sends only msg_signature
    return post("wecom", "qywx", body, query)


def test_a_wecom_app_message_is_taken_like_a_wechat_one(wecom):
    answer = unseal(wecom_push(text_xml(COMPLAINT, "4001", user="zhangsan", to=CORP_ID)), CORP_ID)
    complaint = Complaint.objects.get()
    assert answer["ToUserName"] == "zhangsan" and complaint.reference in answer["Content"]
    assert complaint.channel == Channel.CHAT  # the source's channel
    assert InboundMessage.objects.get().sender == "zhangsan"


def test_a_wecom_apps_photos_and_videos_are_fetched_with_its_secret(wecom):
    with FakeWeCom(corp_id=CORP_ID, secret=KF_SECRET) as fake:
        Source.objects.filter(pk=wecom.pk).update(api_base=fake.url)
        fake.media = {"p1": (JPEG, "image/jpeg", "meter.jpg"),
                      "v1": (b"\x00\x00\x00\x18ftypmp42" + bytes(40), "video/mp4", "")}  # fmt: skip
        wecom_push(text_xml(COMPLAINT, "4001", user="zhangsan", to=CORP_ID))
        answer = unseal(wecom_push(media_xml("image", "p1", "4002", user="zhangsan", to=CORP_ID)),
                        CORP_ID)  # fmt: skip
        complaint = Complaint.objects.get()
        assert complaint.reference in answer["Content"]  # "added to your complaint"
        wecom_push(media_xml("video", "v1", "4003", user="zhangsan", to=CORP_ID))
        assert not complaint.attachments.exists()  # nothing fetched inside the pushes
        assert fetch_pending_media() == 2
        assert fake.token_requests == 1
    kept = {a.original_name: a.content_type for a in complaint.attachments.all()}
    assert kept == {"meter.jpg": "image/jpeg", "video-4003.mp4": "video/mp4"}
    assert InboundMessage.objects.get(external_id="4002").text == "（仅附件）"  # not the link


def test_without_a_secret_a_wecom_apps_photo_is_kept_as_its_link(wecom):
    Source.objects.filter(pk=wecom.pk).update(api_secret_env="")
    wecom_push(text_xml(COMPLAINT, "4001", user="zhangsan", to=CORP_ID))
    wecom_push(media_xml("image", "p1", "4002", user="zhangsan", to=CORP_ID))
    assert InboundMessage.objects.get(external_id="4002").text == "http://mmbiz.qpic.cn/x"
    assert not InboundMessage.objects.filter(media_due_at__isnull=False).exists()


def test_customer_service_messages_are_pulled_page_by_page(wecom):
    with FakeWeCom(corp_id=CORP_ID, secret=KF_SECRET) as fake:
        Source.objects.filter(pk=wecom.pk).update(api_base=fake.url)
        fake.pages[""] = {
            "next_cursor": "c1",
            "has_more": 1,
            "msg_list": [
                kf_text("m1", "wmLiu", COMPLAINT),
                kf_text("m2", "wmLiu", "您好，我是客服小王", origin=5),  # a servicer: not taken
                {
                    "msgtype": "event",
                    "origin": 4,
                    "msgid": "m3",
                    "event": {"event_type": "enter_session", "external_userid": "wmLiu"},
                },
            ],
        }
        fake.pages["c1"] = {
            "next_cursor": "c2",
            "has_more": 0,
            "msg_list": [
                kf_text("m4", "wmZhou", OTHER_COMPLAINT),
                kf_text("m5", "wmLiu", "好的，谢谢"),
            ],
        }
        assert is_success(wecom_push(kf_event()))
        assert pull_wecom_messages() == 3  # the job pulls what the push announced
        assert is_success(wecom_push(kf_event()))  # the next event goes on from c2
        assert pull_wecom_messages() == 0

    assert [b["cursor"] for b in fake.sync_bodies] == ["", "c1", "c2"]
    assert fake.sync_bodies[0] == {
        "cursor": "",
        "token": "ENCApHxnGDNAVNY4AaSJKj4Tb5mw",
        "limit": 1000,
        "open_kfid": "wkKesu",
    }
    assert fake.token_requests == 1  # the access token is cached
    wecom.refresh_from_db()
    assert wecom.cursor == "c2"
    outcomes = dict(InboundMessage.objects.values_list("external_id", "outcome"))
    assert outcomes == {"m1": Outcome.CREATED, "m4": Outcome.CREATED, "m5": Outcome.JOINED}
    liu = Conversation.objects.get(external_id="wmLiu:wkKesu")
    assert liu.complaint == InboundMessage.objects.get(external_id="m5").complaint
    assert Complaint.objects.count() == 2


JPEG = b"\xff\xd8\xff\xe0" + bytes(60)
AMR = b"#!AMR\n" + bytes(40)


def kf_media(msgid: str, user: str, kind: str, media_id: str) -> dict[str, object]:
    return {**kf_text(msgid, user, ""), "msgtype": kind, "text": None, kind: {"media_id": media_id}}


def test_photos_and_voices_join_the_case_and_what_cannot_be_kept_is_said(wecom, settings):
    settings.KESU_MAX_ATTACHMENT_BYTES = 1000
    with FakeWeCom(corp_id=CORP_ID, secret=KF_SECRET) as fake:
        Source.objects.filter(pk=wecom.pk).update(api_base=fake.url)
        fake.media = {
            "p0": (JPEG, "image/jpeg", "early.jpg"),
            "p1": (JPEG, "image/jpeg", "screen.jpg"),
            "v1": (AMR, "audio/amr", ""),  # no name from WeCom: one is made
            "big": (JPEG + bytes(2000), "image/jpeg", "big.jpg"),
            "exe": (b"MZ\x90\x00" + bytes(40), "application/octet-stream", "tool.exe"),
            "txt": ("订单号 12345\n".encode(), "text/plain", "订单.txt"),
        }
        fake.pages[""] = {
            "next_cursor": "c1",
            "msg_list": [
                kf_media("m0", "wmLiu", "image", "p0"),  # before the complaint: no case yet
                kf_text("m1", "wmLiu", COMPLAINT),
                kf_media("m2", "wmLiu", "image", "p1"),
                kf_media("m3", "wmLiu", "voice", "v1"),
                kf_media("m4", "wmLiu", "image", "expired"),
                kf_media("m5", "wmLiu", "image", "big"),
                kf_media("m6", "wmLiu", "file", "exe"),
                kf_media("m7", "wmLiu", "file", "txt"),  # text/plain, yet a file, not an error
            ],
        }
        assert is_success(wecom_push(kf_event()))
        with translation.override("en"):  # the reasons are written in the job's language
            assert pull_wecom_messages() == 8
            assert fake.media_requests == []  # files come after: none holds up the cursor
            assert fetch_pending_media() == 7
    wecom.refresh_from_db()
    assert wecom.cursor == "c1"
    complaint = Complaint.objects.get()
    kept = {a.original_name: a for a in complaint.attachments.all()}
    # The photo sent before the words was read as the complaint's context, its file with it.
    assert set(kept) == {"early.jpg", "screen.jpg", "voice-m3.amr", "订单.txt"}
    assert (
        kept["screen.jpg"].file.read() == JPEG and kept["voice-m3.amr"].content_type == "audio/amr"
    )
    records = {m.external_id: m for m in InboundMessage.objects.all()}
    assert records["m0"].complaint == complaint
    assert records["m0"].text == records["m2"].text == "(files only)"
    assert all(records[m].outcome == Outcome.JOINED for m in ("m2", "m3", "m4", "m5", "m6"))
    assert "image-m4 could not be fetched (errcode 40007" in records["m4"].reason
    assert "larger than" in records["m5"].reason
    assert "tool.exe" in records["m6"].reason and ".exe" in records["m6"].reason
    added = {e.data["message_id"]: e for e in complaint.events.filter(kind="attachment_added")}
    assert added["m2"].data["files"] == ["screen.jpg"] and added["m2"].actor is None
    with translation.override("en"):
        assert describe(added["m4"]).startswith("Not kept: image-m4 could not be fetched (errcode")
    assert len(added) == 7


def test_a_file_wecom_cannot_serve_now_is_fetched_a_minute_later(wecom):
    with FakeWeCom(corp_id=CORP_ID, secret=KF_SECRET) as fake:
        Source.objects.filter(pk=wecom.pk).update(api_base=fake.url)
        fake.media = {"p1": (JPEG, "image/jpeg", "screen.jpg"),
                      "p2": (JPEG, "image/jpeg", "cut.jpg")}  # fmt: skip
        fake.media_down = {"p1"}
        fake.media_cut = {"p2"}  # the connection drops halfway
        fake.pages[""] = {
            "next_cursor": "c1",
            "msg_list": [kf_text("m1", "wmLiu", COMPLAINT), kf_media("m2", "wmLiu", "image", "p1"),
                         kf_media("m3", "wmLiu", "image", "p2")],
        }  # fmt: skip
        assert is_success(wecom_push(kf_event()))
        pull_wecom_messages()
        wecom.refresh_from_db()
        assert wecom.cursor == "c1"  # the messages are in; their files follow
        assert fetch_pending_media() == 0
        complaint = Complaint.objects.get()
        assert not complaint.attachments.exists()
        fake.media_down.clear()
        fake.media_cut.clear()
        later = timezone.now() + timedelta(minutes=2)
        assert fetch_pending_media(now=later) == 2
    names = sorted(a.original_name for a in complaint.attachments.all())
    assert names == ["cut.jpg", "screen.jpg"]
    assert complaint.attachments.get(original_name="cut.jpg").file.read() == JPEG
    assert InboundMessage.objects.count() == 3


def media_xml(
    kind: str, media_id: str, msg_id: str, *, user: str = OPENID, to: str = "gh_kesu", extra=""
):
    return (
        f"<xml><ToUserName><![CDATA[{to}]]></ToUserName>"
        f"<FromUserName><![CDATA[{user}]]></FromUserName><CreateTime>{now()}</CreateTime>"
        f"<MsgType><![CDATA[{kind}]]></MsgType><PicUrl><![CDATA[http://mmbiz.qpic.cn/x]]>"
        f"</PicUrl><MediaId><![CDATA[{media_id}]]></MediaId><MsgId>{msg_id}</MsgId>{extra}</xml>"
    )


@pytest.fixture
def account(monkeypatch):
    """A WeChat official account with its AppSecret, its API a local fake."""
    monkeypatch.setenv("KESU_TEST_WX_APPSECRET", "app-secret")
    with FakeWeCom(corp_id=APP_ID, secret="app-secret") as fake:
        wechat_source(api_secret_env="KESU_TEST_WX_APPSECRET", api_base=fake.url)
        fake.media = {
            "p0": (JPEG, "image/jpeg", "early.jpg"),
            "p1": (JPEG, "image/jpeg", ""),
            "v1": (AMR, "audio/amr", ""),
        }
        yield fake


def test_an_official_accounts_photos_and_voices_are_fetched_onto_the_case(account):
    assert is_success(push(media_xml("image", "p0", "5001")))  # before the words: no case
    opened = reply(push(text_xml(COMPLAINT, "5002")))  # reads the photo as its context
    complaint = Complaint.objects.get()
    assert complaint.reference in opened["Content"]
    joined = reply(push(media_xml("image", "p1", "5003")))
    assert complaint.reference in joined["Content"]  # "added to your complaint"
    recognised = "<Format><![CDATA[amr]]></Format><Recognition><![CDATA[快点处理]]></Recognition>"
    reply(push(media_xml("voice", "v1", "5004", extra=recognised)))
    reply(push(media_xml("image", "expired", "5005")))
    assert not complaint.attachments.exists()  # nothing fetched inside the pushes
    with translation.override("en"):
        assert fetch_pending_media() == 4
    kept = {a.original_name: a.file.read() for a in complaint.attachments.all()}
    assert kept == {"early.jpg": JPEG, "image-5003.jpg": JPEG, "voice-5004.amr": AMR}
    assert account.token_requests == 1 and account.sync_bodies == []
    records = {m.external_id: m for m in InboundMessage.objects.all()}
    assert records["5004"].text == "快点处理"  # WeChat's recognition stays the words
    assert "image-5005 could not be fetched (errcode 40007" in records["5005"].reason
    assert not InboundMessage.objects.filter(media_due_at__isnull=False).exists()
    added = complaint.events.filter(kind="attachment_added").order_by("pk")
    assert [e.data["files"] for e in added][:3] == [["early.jpg"], ["image-5003.jpg"],
                                                     ["voice-5004.amr"]]  # fmt: skip
    assert "errcode 40007" in added.last().data["refused_files"][0]
    assert fetch_pending_media() == 0  # nothing twice


def test_a_video_comes_from_the_address_wechat_gives_and_a_busy_tencent_is_asked_again(account):
    mp4 = b"\x00\x00\x00\x18ftypmp42" + bytes(40)
    account.media["stored-video"] = (mp4, "video/mp4", "")
    account.video_urls = {"vd1": "/video/stored-video"}
    account.media_busy = {"p1"}
    reply(push(text_xml(COMPLAINT, "5002")))
    reply(push(media_xml("video", "vd1", "5006")))
    reply(push(media_xml("image", "p1", "5007")))
    assert fetch_pending_media() == 1  # the video; the photo waits for a less busy Tencent
    complaint = Complaint.objects.get()
    video = complaint.attachments.get()
    assert (video.original_name, video.content_type, video.file.read()) == (
        "video-5006.mp4", "video/mp4", mp4,
    )  # fmt: skip
    account.media_busy.clear()
    assert fetch_pending_media(now=timezone.now() + timedelta(minutes=2)) == 1
    assert complaint.attachments.count() == 2


def test_a_photo_fetched_before_the_complaint_waits_with_its_message(account):
    assert is_success(push(media_xml("image", "p0", "5001")))
    assert fetch_pending_media() == 1
    early = InboundMessage.objects.get()
    assert early.complaint is None and early.held_files[0]["name"] == "early.jpg"
    reply(push(text_xml(COMPLAINT, "5002")))
    complaint = Complaint.objects.get()
    assert [a.original_name for a in complaint.attachments.all()] == ["early.jpg"]
    early.refresh_from_db()
    assert early.complaint == complaint and early.held_files == []


def test_a_file_tencent_cannot_serve_now_is_fetched_a_minute_later(account):
    reply(push(text_xml(COMPLAINT, "5002")))
    account.media_down = {"p1"}
    reply(push(media_xml("image", "p1", "5003")))
    assert fetch_pending_media() == 0
    waiting = InboundMessage.objects.get(external_id="5003")
    assert waiting.pending_media and waiting.media_due_at is not None
    account.media_down.clear()
    assert fetch_pending_media() == 0  # not before its time
    later = waiting.media_due_at + timedelta(seconds=1)
    assert fetch_pending_media(now=later) == 1
    assert [a.original_name for a in Complaint.objects.get().attachments.all()] == [
        "image-5003.jpg"
    ]


def test_a_file_still_unreachable_after_three_days_is_given_up_with_the_reason(account):
    reply(push(text_xml(COMPLAINT, "5002")))
    account.media_down = {"p1"}
    reply(push(media_xml("image", "p1", "5003")))
    with translation.override("en"):
        assert fetch_pending_media(now=timezone.now() + timedelta(days=3, minutes=1)) == 1
    record = InboundMessage.objects.get(external_id="5003")
    assert record.media_due_at is None and record.pending_media == []
    assert "Not fetched in the three days Tencent keeps a file (cgi-bin/media/get: HTTP 502)" in (
        record.reason
    )
    assert not Complaint.objects.get().attachments.exists()


def test_without_an_appsecret_a_photo_is_its_link_and_a_video_is_not_recorded(plain):
    reply_or_success = push(media_xml("image", "p1", "5001"))
    assert reply_or_success.status_code == 200
    assert InboundMessage.objects.get().text == "http://mmbiz.qpic.cn/x"
    assert is_success(push(media_xml("video", "v9", "5002")))
    assert InboundMessage.objects.count() == 1
    assert not InboundMessage.objects.filter(media_due_at__isnull=False).exists()


def test_a_failing_pull_is_logged_and_leaves_the_cursor(wecom, caplog):
    Source.objects.filter(pk=wecom.pk).update(cursor="c-old")
    with FakeWeCom(corp_id=CORP_ID, secret=KF_SECRET) as fake:
        Source.objects.filter(pk=wecom.pk).update(api_base=fake.url)
        fake.pages["c-old"] = {
            "next_cursor": "c-new",
            "msg_list": [kf_text("m1", "wmLiu", COMPLAINT)],
        }
        fake.errcode = 95007  # invalid msg token
        with caplog.at_level(logging.WARNING, logger="kesu.intake.wecom"):
            assert is_success(wecom_push(kf_event()))
            pull_wecom_messages()
    assert "errcode 95007" in caplog.text
    # The fake has stopped: its port refuses connections now.
    with caplog.at_level(logging.WARNING, logger="kesu.intake.wecom"):
        assert is_success(wecom_push(kf_event()))
        pull_wecom_messages()
    assert "kf/sync_msg" in caplog.records[-1].getMessage()  # the network error, logged
    wecom.refresh_from_db()
    assert wecom.cursor == "c-old"
    assert not InboundMessage.objects.exists()


def test_a_revoked_access_token_is_fetched_again_once(wecom):
    with FakeWeCom(corp_id=CORP_ID, secret=KF_SECRET) as fake:
        Source.objects.filter(pk=wecom.pk).update(api_base=fake.url)
        fake.pages[""] = {"next_cursor": "c1", "msg_list": [kf_text("m1", "wmLiu", COMPLAINT)]}
        assert is_success(wecom_push(kf_event()))
        pull_wecom_messages()
        fake.revoke()  # WeCom answers 40014 to the cached token
        fake.pages["c1"] = {
            "next_cursor": "c2",
            "msg_list": [kf_text("m2", "wmLiu", "还没人联系我")],
        }
        assert is_success(wecom_push(kf_event()))
        pull_wecom_messages()
    assert fake.token_requests == 2
    wecom.refresh_from_db()
    assert wecom.cursor == "c2" and InboundMessage.objects.count() == 2


def test_the_periodic_pull_takes_what_a_failed_pull_left(wecom):
    with FakeWeCom(corp_id=CORP_ID, secret=KF_SECRET) as fake:
        Source.objects.filter(pk=wecom.pk).update(api_base=fake.url)
        fake.pages[""] = {"next_cursor": "c1", "has_more": 0,
                          "msg_list": [kf_text("p1", "wmLiu", COMPLAINT)]}  # fmt: skip
        assert pull_all_wecom_messages() == 1
        assert pull_all_wecom_messages() == 0  # nothing new after c1
    assert "token" not in fake.sync_bodies[0]  # no event, no token
    wecom.refresh_from_db()
    assert wecom.cursor == "c1"
    assert Complaint.objects.count() == 1


def test_the_callback_answers_at_once_and_leaves_the_pull_to_the_job(wecom):
    with FakeWeCom(corp_id=CORP_ID, secret=KF_SECRET) as fake:
        Source.objects.filter(pk=wecom.pk).update(api_base=fake.url)
        fake.pages[""] = {"next_cursor": "c1", "msg_list": [kf_text("j1", "wmLiu", COMPLAINT)]}
        assert is_success(wecom_push(kf_event()))
        assert fake.sync_bodies == []  # nothing pulled inside Tencent's 5 s
        wecom.refresh_from_db()
        assert wecom.kf_announced_at is not None and wecom.kf_open_kfid == "wkKesu"
        assert pull_wecom_messages() == 1
        assert pull_wecom_messages() == 0  # taken once
    wecom.refresh_from_db()
    assert wecom.kf_announced_at is None and wecom.cursor == "c1"
