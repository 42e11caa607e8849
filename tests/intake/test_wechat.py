"""WeChat official-account pushes and WeCom callbacks: signatures, crypto, XML, replies."""

from __future__ import annotations

import base64
import contextlib
import hashlib
from datetime import UTC, datetime

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from kesu.intake.wechat import (
    Cipher,
    KfSync,
    PushMessage,
    WeChatError,
    answer_echo,
    check_msg_signature,
    check_signature,
    check_timestamp,
    msg_signature,
    open_push,
    parse_message,
    parse_xml,
    seal_reply,
    text_reply,
)

TOKEN = "kesu-token"
KEY = "abcdefghijklmnopqrstuvwxyz0123456789ABCDEFG"
APP_ID = "wx0123456789abcdef"
NOW = 1_700_000_000
TS = str(NOW)
NONCE = "1320562132"

TEXT = """<xml><ToUserName><![CDATA[gh_kesu]]></ToUserName>
<FromUserName><![CDATA[oCustomer-xiaowang]]></FromUserName>
<CreateTime>1348831860</CreateTime><MsgType><![CDATA[text]]></MsgType>
<Content><![CDATA[快递三天没到，包装还破了]]></Content><MsgId>1234567890123456</MsgId></xml>"""


def plain_signature(*parts: str) -> str:
    return hashlib.sha1("".join(sorted(parts)).encode(), usedforsecurity=False).hexdigest()


def sealed_body(cipher: Cipher, inner: str) -> tuple[bytes, str]:
    encrypt = cipher.encrypt(inner)
    body = f"<xml><ToUserName><![CDATA[gh_kesu]]></ToUserName><Encrypt>{encrypt}</Encrypt></xml>"
    return body.encode(), msg_signature(TOKEN, TS, NONCE, encrypt)


# Independently sourced vectors ----------------------------------------------------------------

# Tencent's WeCom WXBizMsgCrypt SDK, Python 3 Sample.py (jonyqin, "使用示例一/二"), the library
# linked from "加解密方案说明" (developer.work.weixin.qq.com/document/path/91144); copied in e.g.
# github.com/haixia-z/Production-practice_Dialogue-robot, FAQrobot/Sample.py.
WECOM = Cipher("6qkdMrq68nTKduznJYO1A37W2oEgpkMUvkttRToqhUt", "ww1436e0e65a779aee")
WECOM_TOKEN = "hJqcu3uJ9Tn2gXPmxx2w9kkCkCE2EPYo"
WECOM_ECHO = (
    "fsi1xnbH4yQh0+PJxcOdhhK6TDXkjMyhEPA7xB2TGz6b+g7xyAbEkRxN/3cNXW9qdqjnoVzEtpbhnFyq6SVHyA=="
)
WECOM_BODY = (
    b"<xml><ToUserName><![CDATA[ww1436e0e65a779aee]]></ToUserName>\n<Encrypt><![CDATA["
    b"Kl7kjoSf6DMD1zh7rtrHjFaDapSCkaOnwu3bqLc5tAybhhMl9pFeK8NslNPVdMwmBQTNoW4mY7AIjeLvEl3NyeTkAgG"
    b"zBhzTtRLNshw2AEew+kkYcD+Fq72Kt00fT0WnN87hGrW8SqGc+NcT3mu87Ha3dz1pSDi6GaUA6A0sqfde0VJPQbZ9U+"
    b"3JWcoD4Z5jaU0y9GSh010wsHF8KZD24YhmZH4ch4Ka7ilEbjbfvhKkNL65HHL0J6EYJIZUC2pFrdkJ7MhmEbU2qARR4"
    b"iQHE7wy24qy0cRX3Mfp6iELcDNfSsPGjUQVDGxQDCWjayJOpcwocugux082f49HKYg84EpHSGXAyh+/oxwaWbvL6aSDP"
    b"OYuPDGOCI8jmnKiypE+]]></Encrypt>\n<AgentID><![CDATA[1000002]]></AgentID>\n</xml>"
)

# Tencent's official-account WXBizMsgCrypt SDK, Python Sample.py (jonyqin, "测试解密接口"); a
# compatible-mode body: plain fields and <Encrypt> side by side. Copied in e.g.
# github.com/charlesXu86/Chatbot_CN, Chatbot_Web/impl/weixin/Sample.py.
MP = Cipher(KEY, "wx2c2769f8efd9abc2")
MP_BODY = (
    b"<xml><ToUserName><![CDATA[gh_10f6c3c3ac5a]]></ToUserName><FromUserName><![CDATA[oyORnuP8q7ou"
    b"2gfYjqLzSIWZf0rs]]></FromUserName><CreateTime>1409735668</CreateTime><MsgType><![CDATA[text]"
    b"]></MsgType><Content><![CDATA[abcdteT]]></Content><MsgId>6054768590064713728</MsgId><Encrypt"
    b"><![CDATA[hyzAe4OzmOMbd6TvGdIOO6uBmdJoD0Fk53REIHvxYtJlE2B655HuD0m8KUePWB3+LrPXo87wzQ1QLvbeUg"
    b"mBM4x6F8PGHQHFVAFmOD2LdJF9FrXpbUAh0B5GIItb52sn896wVsMSHGuPE328HnRGBcrS7C41IzDWyWNlZkyyXwon8"
    b"T332jisa+h6tEDYsVticbSnyU8dKOIbgU6ux5VTjg3yt+WGzjlpKn6NPhRjpA912xMezR4kw6KWwMrCVKSVCZciVGCga"
    b"vjIQ6X8tCOp3yZbGpy0VxpAe+77TszTfRd5RJSVO/HTnifJpXgCSUdUue1v6h0EIBYYI1BD1DlD+C0CR8e6OewpusjZ4"
    b"uBl9FyJvnhvQl+q5rv1ixrcpCumEPo5MJSgM9ehVsNPfUM669WuMyVWQLCzpu9GhglF2PE=]]></Encrypt></xml>"
)


def test_wecom_sdk_sample_verify_url() -> None:
    echo = answer_echo(
        token=WECOM_TOKEN,
        cipher=WECOM,
        signature="",
        msg_signature="012bc692d0a58dd4b10f8dfe5c4ac00ae211ebeb",
        timestamp="1476416373",
        nonce="47744683",
        echostr=WECOM_ECHO,
        now=1476416373,
    )
    assert echo == "1288432023552776189"


def test_wecom_sdk_sample_decrypt_msg() -> None:
    message = open_push(
        WECOM_BODY,
        token=WECOM_TOKEN,
        cipher=WECOM,
        signature="",
        msg_signature="0c3914025cb4b4d68103f6bfc8db550f79dcf48e",
        timestamp="1476422779",
        nonce="1597212914",
        now=1476422779,
    )
    assert (message.to_user, message.from_user) == ("ww1436e0e65a779aee", "ChenJiaShun")
    assert (message.msg_type, message.content, message.msg_id) == ("text", "你好", "1456453720")
    assert message.created_at == datetime(2016, 10, 14, 5, 26, 19, tzinfo=UTC)
    assert message.fields["AgentID"] == "1000002"


def test_official_account_sdk_sample_decrypts_the_encrypted_copy() -> None:
    message = open_push(
        MP_BODY,
        token="spamtest",
        cipher=MP,
        signature="",
        msg_signature="5d197aaffba7e9b25a30732f161a50dee96bd5fa",
        timestamp="1409735669",
        nonce="1320562132",
        now=1409735669,
    )
    assert (message.from_user, message.content) == ("oyORnuP8q7ou2gfYjqLzSIWZf0rs", "abcdteT")
    assert message.msg_id == "6054768590064713728"
    assert message.created_at == datetime(2014, 9, 3, 9, 14, 28, tzinfo=UTC)


def test_official_account_sdk_java_sample_encrypts_chinese() -> None:
    # Tencent's official-account Java SDK test, WXBizMsgCryptTest (replyMsg, randomStr,
    # afterAesEncrypt); copied in e.g. github.com/Wyl015/wuyiling,
    # work-test/src/main/resources/Utils/aes/WXBizMsgCryptTest.java.
    cipher = Cipher(KEY, "wxb11529c136998cb6")
    expected = (
        "jn1L23DB+6ELqJ+6bruv21Y6MD7KeIfP82D6gU39rmkgczbWwt5+3bnyg5K55bgVtVzd832WzZGMhkP72vVOfg=="
    )
    assert cipher.encrypt("我是中文abcd123", random16=b"aaaabbbbccccdddd") == expected
    assert cipher.decrypt(expected) == "我是中文abcd123"


def test_wechatpy_vectors_for_seal_reply_and_echo() -> None:
    # wechatpy, tests/test_crypto.py (enterprise WeChatCrypto; random string "1234567890123456").
    cipher = Cipher("kWxPEV2UEDyxWpmPdKC3F4dgPDmOvfKX1HGnEUDS1aR", "wx49f0ab532d5d035a")
    reply = (
        "<xml>\n<MsgType><![CDATA[text]]></MsgType>\n<Content><![CDATA[test]]></Content>\n"
        "<FromUserName><![CDATA[wx49f0ab532d5d035a]]></FromUserName>\n"
        "<ToUserName><![CDATA[messense]]></ToUserName>\n<AgentID>1</AgentID>\n"
        "<CreateTime>1411525903</CreateTime>\n</xml>"
    )
    sealed = parse_xml(
        seal_reply(
            reply,
            token="123456",
            cipher=cipher,
            nonce="461056294",
            now=1411525903,
            random16=b"1234567890123456",
        )
    )
    assert sealed["Encrypt"] == (
        "9s4gMv99m88kKTh/H8IdkOiMg6bisoy3ypwy9H4hvSPe9nsGaqyw5hhSjdYbcrKk+j3nba4HMOTzHrluLBYqxgNcB"
        "qGsL8GqxlhZgURnAtObvesEl5nZ+uBE8bviY0LWke8Zy9V/QYKxNV2FqllNXcfmstttyIkMKCCmVbCFM2JTF5wY0n"
        "FhHZSjPUL2Q1qvSUCUld+/WIXrx0oyKQmpB6o8NRrrNrsDf03oxI1p9FxUgMnwKKZeOA/uu+2IEvEBtb7muXsVbwb"
        "gX05UPPJvFurDXafG0RQyPR+mf1nDnAtQmmNOuiR5MIkdQ39xn1vWwi1O5oazPoQJz0nTYjxxEE8kv3kFxtAGVRe3"
        "ypD3WeK2XeFYFMNMpatF9XiKzHo3"
    )
    assert sealed["MsgSignature"] == "407518b7649e86ef23978113f92d27afa9296533"
    assert (sealed["TimeStamp"], sealed["Nonce"]) == ("1411525903", "461056294")
    assert cipher.decrypt(sealed["Encrypt"]) == reply
    echo = answer_echo(
        token="123456",
        cipher=cipher,
        signature="",
        msg_signature="dd6b9c95b495b3f7e2901bfbc76c664930ffdb96",
        timestamp="1411443780",
        nonce="437374425",
        echostr="4ByGGj+sVCYcvGeQYhaKIk1o0pQRNbRjxybjTGblXrBaXlTX"
        "eOo1+bXFXDQQb1o6co6Yh9Bv41n7hOchLF6p+Q==",
        now=1411443780,
    )
    assert echo == "5927782489442352469"


def test_wechatpy_vector_for_plain_signature() -> None:
    # wechatpy, tests/test_utils.py, test_check_signature_should_ok / _should_fail.
    check_signature("test", "f21891de399b4e33a1a93c9a7b8a8fffb5a443ff", "1410685589", "test")
    with pytest.raises(WeChatError, match="bad signature"):
        check_signature("test", "f21891de399b4e33a1a93c9a7b8a8fffb5a443fe", "1410685589", "test")


# Cipher -----------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "text",
    [
        "投诉：快递三天没到，包装还破了，要求退款。",
        "😡📦 退款!! 🙏🏻",
        "质量问题，" * 4000,
        "",
        "<xml>]]>&amp;</xml>",
    ],
)
def test_cipher_round_trip(text: str) -> None:
    cipher = Cipher(KEY, APP_ID)
    encrypted = cipher.encrypt(text)
    assert encrypted != cipher.encrypt(text)  # fresh random prefix each time
    assert cipher.decrypt(encrypted) == text


@given(st.text())
def test_cipher_round_trip_any_text(text: str) -> None:
    cipher = Cipher(KEY, APP_ID)
    assert cipher.decrypt(cipher.encrypt(text, random16=bytes(16))) == text


def test_full_padding_block_round_trips() -> None:
    cipher = Cipher(KEY, "w" * 12)  # 16 + 4 + 0 + 12 = 32 bytes: padding is a whole block
    raw = base64.b64decode(cipher.encrypt(""))
    assert len(raw) == 64
    assert cipher.decrypt(base64.b64encode(raw).decode()) == ""


def test_decrypt_refuses_another_receive_id() -> None:
    encrypted = Cipher(KEY, APP_ID).encrypt("hello")
    with pytest.raises(WeChatError, match="wrong receive-id"):
        Cipher(KEY, "wxsomeoneelse00000").decrypt(encrypted)


def test_decrypt_refuses_tampered_padding() -> None:
    raw = bytearray(base64.b64decode(Cipher(KEY, APP_ID).encrypt("hello")))
    raw[-17] ^= 0xFF  # CBC: flips the last plaintext byte, the pad length, to > 32
    with pytest.raises(WeChatError, match="bad padding"):
        Cipher(KEY, APP_ID).decrypt(base64.b64encode(raw).decode())


def test_decrypt_refuses_tampered_length() -> None:
    raw = bytearray(base64.b64decode(Cipher(KEY, APP_ID).encrypt("hello")))
    raw[0] ^= 0x80  # CBC: flips the length's top bit, which opens block two
    with pytest.raises(WeChatError, match="length field"):
        Cipher(KEY, APP_ID).decrypt(base64.b64encode(raw).decode())


@pytest.mark.parametrize(
    ("encrypted", "reason"),
    [
        ("not base64!", "not base64"),
        ("中文", "not base64"),
        ("", "whole number"),
        (base64.b64encode(b"x" * 15).decode(), "whole number"),
        (base64.b64encode(bytes(32)).decode(), "bad padding"),  # two blocks of zeros
    ],
)
def test_decrypt_refuses_what_is_not_ciphertext(encrypted: str, reason: str) -> None:
    with pytest.raises(WeChatError, match=reason):
        Cipher(KEY, APP_ID).decrypt(encrypted)


def test_decrypt_with_another_key_is_refused() -> None:
    encrypted = Cipher(KEY, APP_ID).encrypt("hello")
    with pytest.raises(WeChatError):
        Cipher("ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789abcdefg", APP_ID).decrypt(encrypted)


@pytest.mark.parametrize("key", [KEY[:42], KEY + "H", "", KEY[:41] + "+/", KEY[:42] + "。"])
def test_cipher_refuses_a_malformed_key(key: str) -> None:
    with pytest.raises(WeChatError, match="EncodingAESKey"):
        Cipher(key, APP_ID)


def test_cipher_needs_a_receive_id_and_hides_its_key() -> None:
    with pytest.raises(WeChatError, match="receive-id"):
        Cipher(KEY, "")
    assert KEY not in repr(Cipher(KEY, APP_ID))


# Signatures and timestamps ----------------------------------------------------------------------


def test_signatures_good_bad_empty_and_case() -> None:
    good = plain_signature(TOKEN, TS, NONCE)
    check_signature(TOKEN, good, TS, NONCE)
    check_signature(TOKEN, good.upper(), TS, NONCE)  # the same hex value
    for bad, reason in [(good[:-1] + "0", "bad"), ("", "missing"), ("签名" * 20, "bad")]:
        with pytest.raises(WeChatError, match=f"{reason} signature"):
            check_signature(TOKEN, bad, TS, NONCE)
    with pytest.raises(WeChatError, match="no token"):
        check_signature("", plain_signature("", TS, NONCE), TS, NONCE)


def test_msg_signature_covers_the_ciphertext() -> None:
    good = msg_signature(TOKEN, TS, NONCE, "ENCRYPTED")
    assert good == plain_signature(TOKEN, TS, NONCE, "ENCRYPTED")
    check_msg_signature(TOKEN, good.upper(), TS, NONCE, "ENCRYPTED")
    with pytest.raises(WeChatError, match="bad msg_signature"):
        check_msg_signature(TOKEN, good, TS, NONCE, "ENCRYPTEE")
    with pytest.raises(WeChatError, match="missing msg_signature"):
        check_msg_signature(TOKEN, "", TS, NONCE, "ENCRYPTED")


def test_timestamp_window() -> None:
    check_timestamp(TS, now=NOW + 300)
    check_timestamp(TS, now=NOW - 300)
    with pytest.raises(WeChatError, match="stale"):
        check_timestamp(TS, now=NOW + 301)
    with pytest.raises(WeChatError, match="future"):
        check_timestamp(TS, now=NOW - 301)
    check_timestamp(TS, now=NOW + 3000, tolerance=3600)


@pytest.mark.parametrize("timestamp", ["", "abc", "-5", "1.5", " 170", "١٧٠٠٠٠٠٠٠٠", "9" * 20])
def test_timestamp_must_be_unix_seconds(timestamp: str) -> None:
    with pytest.raises(WeChatError, match="not Unix seconds"):
        check_timestamp(timestamp, now=NOW)


# XML --------------------------------------------------------------------------------------------

BILLION_LAUGHS = b"""<?xml version="1.0"?>
<!DOCTYPE xml [<!ENTITY lol "lol"><!ENTITY lol1 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">
<!ENTITY lol2 "&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;">]>
<xml><Content>&lol2;</Content></xml>"""
XXE = (
    b"""<!DOCTYPE xml [<!ENTITY x SYSTEM "file:///etc/passwd">]><xml><Content>&x;</Content></xml>"""
)


@pytest.mark.parametrize(
    ("body", "reason"),
    [
        (b"<xml><Content>open</xml>", "malformed"),
        (b"", "malformed"),
        (b"complaint", "malformed"),
        (b"<xml><Content>&amp</Content></xml>", "malformed"),
        (b'<?xml version="1.0" encoding="no-such"?><xml/>', "malformed"),
        (BILLION_LAUGHS, "DTD"),
        (XXE, "DTD"),
        (b"<root><Content>x</Content></root>", "root element"),
        (b"<xml><Content>" + b"a" * 70_000 + b"</Content></xml>", "larger than"),
    ],
)
def test_parse_xml_refuses(body: bytes, reason: str) -> None:
    with pytest.raises(WeChatError, match=reason):
        parse_xml(body)


def test_parse_xml_reads_top_level_text() -> None:
    fields = parse_xml(
        "<xml><A> <![CDATA[ 甲 ]]> </A><B>1</B><B>2</B><Info><Inner>x</Inner></Info><E/></xml>"
    )
    assert dict(fields) == {"A": "甲", "B": "1", "Info": "", "E": ""}
    with pytest.raises(WeChatError, match="larger than"):
        parse_xml(b"<xml/>", max_bytes=5)


# Messages ---------------------------------------------------------------------------------------


def xml(msg_type: str, extra: str) -> str:
    return (
        "<xml><ToUserName><![CDATA[gh_kesu]]></ToUserName><FromUserName><![CDATA[oCustomer]]>"
        f"</FromUserName><CreateTime>1348831860</CreateTime><MsgType><![CDATA[{msg_type}]]>"
        f"</MsgType>{extra}</xml>"
    )


def test_parse_text_message() -> None:
    message = parse_message(TEXT.encode())
    assert message == PushMessage(
        to_user="gh_kesu",
        from_user="oCustomer-xiaowang",
        created_at=datetime(2012, 9, 28, 11, 31, tzinfo=UTC),
        msg_type="text",
        msg_id="1234567890123456",
        content="快递三天没到，包装还破了",
        event="",
        fields=message.fields,
    )
    assert message.kf_sync is None
    with pytest.raises(TypeError):
        message.fields["Content"] = "changed"  # type: ignore[index]


@pytest.mark.parametrize(
    ("msg_type", "extra", "content"),
    [
        ("image", "<PicUrl>https://mmbiz.qpic.cn/x.jpg</PicUrl>", "https://mmbiz.qpic.cn/x.jpg"),
        ("voice", "<MediaId>m2</MediaId><Recognition>屏幕碎了</Recognition>", "屏幕碎了"),
        ("voice", "<MediaId>m2</MediaId><Format>amr</Format>", ""),
        ("location", "<Location_X>31.2</Location_X><Label>上海市徐汇区</Label>", "上海市徐汇区"),
        ("location", "<Location_X>31.2</Location_X><Location_Y>121.4</Location_Y>", "31.2,121.4"),
        (
            "link",
            "<Title>订单截图</Title><Url>https://k.example/1</Url>",
            "订单截图\nhttps://k.example/1",
        ),
        ("video", "<MediaId>m3</MediaId><ThumbMediaId>t</ThumbMediaId>", ""),
    ],
)
def test_parse_other_messages(msg_type: str, extra: str, content: str) -> None:
    message = parse_message(xml(msg_type, extra + "<MsgId>42</MsgId>"))
    assert (message.msg_type, message.content) == (msg_type, content)
    assert (message.msg_id, message.event) == ("42", "")


def test_parse_subscribe_event() -> None:
    message = parse_message(xml("event", "<Event><![CDATA[subscribe]]></Event>"))
    assert (message.event, message.msg_id, message.content) == ("subscribe", "", "")
    assert message.from_user == "oCustomer"


def test_parse_wecom_customer_service_event() -> None:
    # The sample in "接收消息和事件" of WeChat customer service, WeCom docs, document/31078.
    body = """<xml>
<ToUserName><![CDATA[ww12345678910]]></ToUserName>
<CreateTime>1348831860</CreateTime>
<MsgType><![CDATA[event]]></MsgType>
<Event><![CDATA[kf_msg_or_event]]></Event>
<Token><![CDATA[ENCApHxnGDNAVNY4AaSJKj4Tb5mwsEMzxhFmHVGcra996NR]]></Token>
<OpenKfId><![CDATA[wkxxxxxxx]]></OpenKfId>
</xml>"""
    message = parse_message(body)
    assert (message.event, message.from_user, message.msg_id) == ("kf_msg_or_event", "", "")
    assert message.fields["OpenKfId"] == "wkxxxxxxx"
    assert message.kf_sync == KfSync(
        corp_id="ww12345678910",
        token="ENCApHxnGDNAVNY4AaSJKj4Tb5mwsEMzxhFmHVGcra996NR",
        open_kf_id="wkxxxxxxx",
    )


@pytest.mark.parametrize(
    ("body", "reason"),
    [
        ("<xml><ToUserName>a</ToUserName><CreateTime>1</CreateTime></xml>", "missing <MsgType>"),
        (xml("text", "").replace("1348831860", "soon"), "CreateTime"),
        (xml("text", "").replace("1348831860", "9" * 15), "CreateTime"),
    ],
)
def test_parse_message_refuses_incomplete(body: str, reason: str) -> None:
    with pytest.raises(WeChatError, match=reason):
        parse_message(body)


# Replies ----------------------------------------------------------------------------------------


def test_text_reply_is_cdata_safe() -> None:
    content = "已收到您的投诉，编号 KS-2024-000123。]]><evil/>\x07"
    reply = text_reply(to_user="oCustomer", from_user="gh_kesu", content=content, now=NOW + 0.7)
    assert "]]]]><![CDATA[>" in reply
    fields = parse_xml(reply)
    assert fields["Content"] == "已收到您的投诉，编号 KS-2024-000123。]]><evil/>"
    assert (fields["ToUserName"], fields["FromUserName"]) == ("oCustomer", "gh_kesu")
    assert (fields["MsgType"], fields["CreateTime"]) == ("text", TS)


def test_sealed_reply_opens_like_a_push() -> None:
    cipher = Cipher(KEY, APP_ID)
    reply = text_reply(to_user="oCustomer", from_user="gh_kesu", content="收到", now=NOW)
    sealed = parse_xml(seal_reply(reply, token=TOKEN, cipher=cipher, nonce=NONCE, now=NOW))
    check_msg_signature(TOKEN, sealed["MsgSignature"], TS, NONCE, sealed["Encrypt"])
    assert parse_message(cipher.decrypt(sealed["Encrypt"])).content == "收到"


# open_push and answer_echo ----------------------------------------------------------------------


def push(body: bytes, cipher: Cipher | None, **overrides: object) -> PushMessage:
    arguments: dict[str, object] = {
        "token": TOKEN,
        "cipher": cipher,
        "signature": plain_signature(TOKEN, TS, NONCE),
        "msg_signature": "",
        "timestamp": TS,
        "nonce": NONCE,
        "now": NOW,
    }
    arguments.update(overrides)
    return open_push(body, **arguments)  # type: ignore[arg-type]


def test_open_push_plain_mode() -> None:
    assert push(TEXT.encode(), None).content == "快递三天没到，包装还破了"
    with pytest.raises(WeChatError, match="bad signature"):
        push(TEXT.encode(), None, signature=plain_signature("other", TS, NONCE))
    with pytest.raises(WeChatError, match="stale"):
        push(TEXT.encode(), None, now=NOW + 600)


def test_open_push_plain_mode_explains_an_encrypted_body() -> None:
    body, _ = sealed_body(Cipher(KEY, APP_ID), TEXT)
    with pytest.raises(WeChatError, match="no EncodingAESKey"):
        push(body, None)


def test_open_push_safe_mode() -> None:
    cipher = Cipher(KEY, APP_ID)
    body, signature = sealed_body(cipher, TEXT)
    assert push(body, cipher, msg_signature=signature).msg_id == "1234567890123456"
    with pytest.raises(WeChatError, match="bad msg_signature"):
        push(body, cipher, msg_signature=plain_signature("x"))
    with pytest.raises(WeChatError, match="stale"):
        push(body, cipher, msg_signature=signature, now=NOW + 301)
    with pytest.raises(WeChatError, match="wrong receive-id"):
        push(body, Cipher(KEY, "wxsomeoneelse00000"), msg_signature=signature)


def test_open_push_safe_mode_refuses_a_plain_body() -> None:
    # No downgrade: a safe-mode account ignores a valid plain `signature` on an unsigned body.
    with pytest.raises(WeChatError, match="missing <Encrypt>"):
        push(TEXT.encode(), Cipher(KEY, APP_ID), msg_signature=plain_signature(TOKEN, TS, NONCE))


def test_open_push_checks_the_signature_before_decrypting() -> None:
    cipher = Cipher(KEY, APP_ID)
    raw = bytearray(base64.b64decode(cipher.encrypt(TEXT)))
    raw[-17] ^= 0xFF
    forged = base64.b64encode(raw).decode()
    body = f"<xml><Encrypt>{forged}</Encrypt></xml>".encode()
    with pytest.raises(WeChatError, match="bad msg_signature"):
        push(body, cipher, msg_signature=plain_signature("guess"))
    with pytest.raises(WeChatError, match="bad padding"):  # only a token holder gets this far
        push(body, cipher, msg_signature=msg_signature(TOKEN, TS, NONCE, forged))


def test_answer_echo_plain() -> None:
    signature = plain_signature(TOKEN, TS, NONCE)
    arguments = {"token": TOKEN, "signature": signature, "msg_signature": "", "timestamp": TS}
    echo = answer_echo(
        **arguments, cipher=None, nonce=NONCE, echostr="5838479218127813673", now=NOW
    )
    assert echo == "5838479218127813673"
    # An official account checks its URL in plain even when it runs in safe mode.
    cipher = Cipher(KEY, APP_ID)
    assert answer_echo(**arguments, cipher=cipher, nonce=NONCE, echostr="42", now=NOW) == "42"
    with pytest.raises(WeChatError, match="echostr"):
        answer_echo(**arguments, cipher=None, nonce=NONCE, echostr="<script>", now=NOW)
    with pytest.raises(WeChatError, match="bad signature"):
        answer_echo(**arguments, cipher=None, nonce="other", echostr="42", now=NOW)
    with pytest.raises(WeChatError, match="stale"):
        answer_echo(**arguments, cipher=None, nonce=NONCE, echostr="42", now=NOW + 301)


def test_answer_echo_encrypted() -> None:
    cipher = Cipher(KEY, "ww0123456789abcdef")
    echostr = cipher.encrypt("8093204713")
    signature = msg_signature(TOKEN, TS, NONCE, echostr)
    arguments = {"token": TOKEN, "signature": "", "timestamp": TS, "nonce": NONCE}
    echo = answer_echo(
        **arguments, cipher=cipher, msg_signature=signature, echostr=echostr, now=NOW
    )
    assert echo == "8093204713"
    with pytest.raises(WeChatError, match="no EncodingAESKey"):
        answer_echo(**arguments, cipher=None, msg_signature=signature, echostr=echostr, now=NOW)
    with pytest.raises(WeChatError, match="bad msg_signature"):
        answer_echo(
            **arguments, cipher=cipher, msg_signature=signature, echostr="A" + echostr, now=NOW
        )
    with pytest.raises(WeChatError, match="future"):
        answer_echo(
            **arguments, cipher=cipher, msg_signature=signature, echostr=echostr, now=NOW - 301
        )


# Whatever arrives, the only failure is WeChatError ----------------------------------------------


@settings(max_examples=300, deadline=None)
@given(st.binary(max_size=2048) | st.text(max_size=512).map(lambda t: f"<xml>{t}</xml>".encode()))
def test_random_bodies_only_raise_wechat_error_in_plain_mode(body: bytes) -> None:
    with contextlib.suppress(WeChatError):
        push(body, None)


@settings(max_examples=300, deadline=None)
@given(st.binary(max_size=512), st.booleans())
def test_random_ciphertext_only_raises_wechat_error_in_safe_mode(
    raw: bytes, as_base64: bool
) -> None:
    encrypt = base64.b64encode(raw).decode() if as_base64 else raw.decode("latin-1")
    body = f"<xml><Encrypt><![CDATA[{encrypt}]]></Encrypt></xml>".encode()
    with contextlib.suppress(WeChatError):
        push(body, Cipher(KEY, APP_ID), msg_signature=msg_signature(TOKEN, TS, NONCE, encrypt))


@settings(max_examples=300, deadline=None)
@given(st.text(max_size=512) | st.text(max_size=256).map(lambda t: xml("text", t)))
def test_random_decrypted_plaintext_only_raises_wechat_error(inner: str) -> None:
    cipher = Cipher(KEY, APP_ID)
    body, signature = sealed_body(cipher, inner)
    with contextlib.suppress(WeChatError):
        push(body, cipher, msg_signature=signature)
