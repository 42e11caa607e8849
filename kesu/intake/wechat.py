"""Open the pushes Tencent sends us: WeChat official-account messages and WeCom callbacks.

Pure functions (no Django, no network), so views stay thin and every refusal is tested here.
The official account (公众号) pushes plain XML signed by ``signature = sha1(sorted([token,
timestamp, nonce]))`` (明文模式), or in safe mode (安全模式) an ``<Encrypt>`` signed by
``msg_signature``. WeCom (企业微信) self-built apps and WeChat customer service (微信客服) always
encrypt, and their URL check (GET) is answered with the decrypted ``echostr``.

The crypto is Tencent's WXBizMsgCrypt scheme ("消息加解密", "加解密方案说明"):
``msg_signature = sha1(sorted([token, timestamp, nonce, encrypt]))``; AES-256-CBC with
``key = base64decode(EncodingAESKey + "=")``, ``IV = key[:16]``, PKCS#7 padding to 32 bytes;
plaintext = 16 random bytes + 4-byte big-endian length + message + receive-id (the AppID of an
official account, the CorpID in WeCom). The tests pin vectors from Tencent's SDK samples.

The timestamp guard only bounds a replay to minutes, and Tencent retries a push unanswered
within 5 s: callers deduplicate on ``msg_id`` (events: ``from_user`` + ``created_at``).
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import os
import re
import struct
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from types import MappingProxyType
from xml.etree.ElementTree import ParseError

from cryptography.hazmat.primitives import ciphers
from cryptography.hazmat.primitives.ciphers import algorithms, modes
from defusedxml import DefusedXmlException
from defusedxml.ElementTree import fromstring

_BLOCK = 32  # WXBizMsgCrypt pads to 32 bytes, not to the 16-byte AES block
_KEY = re.compile(r"[A-Za-z0-9]{43}")  # the documented alphabet of an EncodingAESKey
_UNIX_SECONDS = re.compile(r"[0-9]{1,11}")  # 11 digits reach the year 5138; more would overflow
# The plain signature does not cover echostr, which we reflect: only Tencent's characters pass.
_PLAIN_ECHO = re.compile(r"[A-Za-z0-9+/=_-]{1,512}")
# XML 1.0 cannot carry these even inside CDATA; Tencent would reject the whole reply.
_NOT_XML = re.compile("[^\t\n\r\x20-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]")


class WeChatError(ValueError):
    """A push Kesu must refuse.

    The message names what is wrong in English: bad signature, stale timestamp, malformed XML,
    wrong receive-id, bad padding …
    """


def _sha1_sorted(*parts: str) -> str:
    # SHA-1 is what Tencent's protocol specifies; we cannot choose a stronger hash.
    return hashlib.sha1("".join(sorted(parts)).encode("utf-8")).hexdigest()  # noqa: S324


def _require(given: str, expected: str, what: str) -> None:
    if not given:
        raise WeChatError(f"missing {what}")
    # Hex is case-insensitive; bytes so that non-ASCII input is refused, not a TypeError.
    if not hmac.compare_digest(given.lower().encode("utf-8"), expected.encode("ascii")):
        raise WeChatError(f"bad {what}")


def _require_token(token: str) -> None:
    # With an empty token anyone who knows the algorithm can sign a push.
    if not token:
        raise WeChatError("no token configured")


def check_signature(token: str, signature: str, timestamp: str, nonce: str) -> None:
    """Check the plain-mode ``signature``: sha1 of the sorted token, timestamp and nonce."""
    _require_token(token)
    _require(signature, _sha1_sorted(token, timestamp, nonce), "signature")


def msg_signature(token: str, timestamp: str, nonce: str, encrypt: str) -> str:
    """The ``msg_signature`` of an encrypted payload: sha1 of the four sorted strings."""
    return _sha1_sorted(token, timestamp, nonce, encrypt)


def check_msg_signature(
    token: str, signature: str, timestamp: str, nonce: str, encrypt: str
) -> None:
    """Check ``msg_signature``; it covers the ciphertext, which CBC alone leaves malleable."""
    _require_token(token)
    _require(signature, msg_signature(token, timestamp, nonce, encrypt), "msg_signature")


def check_timestamp(timestamp: str, *, now: float, tolerance: int = 300) -> None:
    """Refuse a timestamp that is not Unix seconds or is more than ``tolerance`` s away."""
    if not _UNIX_SECONDS.fullmatch(timestamp):
        raise WeChatError("timestamp is not Unix seconds")
    age = now - int(timestamp)
    if age > tolerance:
        raise WeChatError(f"stale timestamp: {int(age)} s old")
    if age < -tolerance:
        raise WeChatError(f"timestamp is {int(-age)} s in the future")


@dataclass(frozen=True)
class Cipher:
    """The AES key and receive-id of one account; ``encrypt``/``decrypt`` speak base64."""

    encoding_aes_key: str = field(repr=False)  # a secret: keep it out of logs and tracebacks
    receive_id: str  # AppID or CorpID
    _key: bytes = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        if not _KEY.fullmatch(self.encoding_aes_key):
            raise WeChatError("EncodingAESKey must be 43 letters or digits")
        if not self.receive_id:
            raise WeChatError("receive-id (AppID or CorpID) is empty")
        object.__setattr__(self, "_key", base64.b64decode(self.encoding_aes_key + "="))

    def _aes(self) -> ciphers.Cipher[modes.CBC]:
        return ciphers.Cipher(algorithms.AES(self._key), modes.CBC(self._key[:16]))

    def encrypt(self, plaintext: str, *, random16: bytes | None = None) -> str:
        """Encrypt a message as Tencent does; ``random16`` is only fixed by tests."""
        random16 = os.urandom(16) if random16 is None else random16
        if len(random16) != 16:
            raise ValueError("random16 must be 16 bytes")
        message = plaintext.encode("utf-8")
        data = random16 + struct.pack(">I", len(message)) + message + self.receive_id.encode()
        pad = _BLOCK - len(data) % _BLOCK
        encryptor = self._aes().encryptor()
        sealed = encryptor.update(data + bytes([pad]) * pad) + encryptor.finalize()
        return base64.b64encode(sealed).decode("ascii")

    def decrypt(self, encrypted: str) -> str:
        """Decrypt a base64 payload; check its padding, its length field and its receive-id."""
        try:
            sealed = base64.b64decode(encrypted, validate=True)
        except ValueError as exc:  # binascii.Error, or non-ASCII text
            raise WeChatError("ciphertext is not base64") from exc
        if not sealed or len(sealed) % 16:
            raise WeChatError("ciphertext is not a whole number of AES blocks")
        decryptor = self._aes().decryptor()
        data = decryptor.update(sealed) + decryptor.finalize()
        pad = data[-1]
        # Callers check msg_signature first, so this refusal is no padding oracle.
        if not 1 <= pad <= _BLOCK or data[-pad:] != bytes([pad]) * pad:
            raise WeChatError("bad padding")
        data = data[:-pad]
        if len(data) < 20:
            raise WeChatError("plaintext is too short")
        (length,) = struct.unpack(">I", data[16:20])
        if 20 + length > len(data):
            raise WeChatError("length field runs past the plaintext")
        if data[20 + length :] != self.receive_id.encode():
            raise WeChatError("wrong receive-id")
        try:
            return data[20 : 20 + length].decode("utf-8")
        except UnicodeDecodeError as exc:
            raise WeChatError("message is not UTF-8") from exc


@dataclass(frozen=True)
class KfSync:
    """What WeCom's ``kf/sync_msg`` call needs after a ``kf_msg_or_event`` push."""

    corp_id: str
    token: str  # valid for 10 minutes; without it sync_msg is strictly rate-limited
    open_kf_id: str  # the customer-service account with news; "" in older pushes


@dataclass(frozen=True)
class PushMessage:
    """One message or event as Tencent pushed it."""

    to_user: str  # ToUserName
    from_user: str  # FromUserName; "" in a kf_msg_or_event, which names nobody
    created_at: datetime  # aware UTC, from CreateTime
    msg_type: str  # text, image, voice, video, location, link, event …
    msg_id: str  # MsgId, "" for events
    content: str  # a readable text of what was sent, "" when there is none
    event: str  # Event when msg_type is event, else ""
    fields: Mapping[str, str] = field(hash=False)  # every top-level element by tag

    @property
    def kf_sync(self) -> KfSync | None:
        """For WeChat customer service: the messages are not in the push but must be pulled."""
        if self.msg_type != "event" or self.event != "kf_msg_or_event":
            return None
        return KfSync(
            corp_id=self.to_user,
            token=self.fields.get("Token", ""),
            open_kf_id=self.fields.get("OpenKfId", ""),
        )


def parse_xml(body: bytes | str, *, max_bytes: int = 64 * 1024) -> Mapping[str, str]:
    """Map the children of the ``<xml>`` root to their stripped text; nothing else is accepted.

    defusedxml refuses DTDs, so no entity expansion or external fetch can happen. A repeated
    tag keeps its first value; nested elements (menu events) keep only their own text.
    """
    try:
        data = body.encode("utf-8") if isinstance(body, str) else body
    except UnicodeEncodeError as exc:
        raise WeChatError("body is not valid text") from exc
    if len(data) > max_bytes:
        raise WeChatError(f"body is larger than {max_bytes} bytes")
    try:
        root = fromstring(data, forbid_dtd=True)
    except DefusedXmlException as exc:
        raise WeChatError("XML with a DTD or entities is refused") from exc
    except (ParseError, LookupError) as exc:  # LookupError: unknown declared encoding
        raise WeChatError(f"malformed XML: {exc}") from exc
    if root.tag != "xml":
        raise WeChatError("the root element is not <xml>")
    fields: dict[str, str] = {}
    for child in root:
        fields.setdefault(child.tag, (child.text or "").strip())
    return MappingProxyType(fields)


def _created_at(value: str) -> datetime:
    if not _UNIX_SECONDS.fullmatch(value):
        raise WeChatError("CreateTime is not Unix seconds")
    return datetime.fromtimestamp(int(value), tz=UTC)


def _readable(msg_type: str, fields: Mapping[str, str]) -> str:
    match msg_type:
        case "text":
            return fields.get("Content", "")
        case "voice":  # Recognition is there only when speech recognition is switched on
            return fields.get("Recognition", "")
        case "image":
            return fields.get("PicUrl", "")
        case "link":
            return "\n".join(p for p in (fields.get("Title"), fields.get("Url")) if p)
        case "location":
            x, y = fields.get("Location_X"), fields.get("Location_Y")
            return fields.get("Label") or (f"{x},{y}" if x and y else "")
    return ""


def _message(fields: Mapping[str, str]) -> PushMessage:
    for tag in ("ToUserName", "CreateTime", "MsgType"):
        if not fields.get(tag):
            raise WeChatError(f"missing <{tag}>")
    msg_type = fields["MsgType"]
    return PushMessage(
        to_user=fields["ToUserName"],
        from_user=fields.get("FromUserName", ""),
        created_at=_created_at(fields["CreateTime"]),
        msg_type=msg_type,
        msg_id=fields.get("MsgId", ""),
        content=_readable(msg_type, fields),
        event=fields.get("Event", "") if msg_type == "event" else "",
        fields=fields,
    )


def parse_message(body: bytes | str) -> PushMessage:
    """Parse a plain (decrypted) message XML."""
    return _message(parse_xml(body))


def open_push(
    body: bytes,
    *,
    token: str,
    cipher: Cipher | None,
    signature: str,
    msg_signature: str,
    timestamp: str,
    nonce: str,
    now: float,
) -> PushMessage:
    """Authenticate and parse a POSTed push: plain mode without a cipher, safe mode with one.

    The mode comes from our configuration, never from ``encrypt_type`` in the request, so a
    forger cannot downgrade a safe-mode account to the unsigned plain body.
    """
    # The parameter msg_signature shadows the function here; only check_* compute signatures.
    if cipher is None:
        # Plain mode signs only token, timestamp and nonce, not the body: check before parsing.
        check_signature(token, signature, timestamp, nonce)
        check_timestamp(timestamp, now=now)
        fields = parse_xml(body)
        if "Encrypt" in fields and "MsgType" not in fields:
            raise WeChatError("encrypted push but no EncodingAESKey configured")
        return _message(fields)
    encrypt = parse_xml(body).get("Encrypt", "")
    if not encrypt:
        raise WeChatError("missing <Encrypt>")
    # Signature before decryption: unauthenticated ciphertext never reaches the padding check.
    check_msg_signature(token, msg_signature, timestamp, nonce, encrypt)
    check_timestamp(timestamp, now=now)
    return parse_message(cipher.decrypt(encrypt))


def answer_echo(
    *,
    token: str,
    cipher: Cipher | None,
    signature: str,
    msg_signature: str,
    timestamp: str,
    nonce: str,
    echostr: str,
    now: float,
) -> str:
    """Answer the URL check (GET): the echostr itself, or its plaintext when it is encrypted.

    The request says which: WeCom sends ``msg_signature`` and an encrypted echostr, while an
    official account sends ``signature`` and a plain echostr even in safe mode.
    """
    if msg_signature:
        if cipher is None:
            raise WeChatError("encrypted echostr but no EncodingAESKey configured")
        check_msg_signature(token, msg_signature, timestamp, nonce, echostr)
        check_timestamp(timestamp, now=now)
        return cipher.decrypt(echostr)
    check_signature(token, signature, timestamp, nonce)
    check_timestamp(timestamp, now=now)
    if not _PLAIN_ECHO.fullmatch(echostr):
        raise WeChatError("echostr is empty, too long or has unexpected characters")
    return echostr


def _cdata(text: str) -> str:
    # "]]>" would end the section early: close it after "]]" and open a new one for ">".
    return "<![CDATA[" + _NOT_XML.sub("", text).replace("]]>", "]]]]><![CDATA[>") + "]]>"


def text_reply(*, to_user: str, from_user: str, content: str, now: float) -> str:
    """A passive text reply, e.g. the acknowledgement with the complaint's reference."""
    return (
        f"<xml><ToUserName>{_cdata(to_user)}</ToUserName>"
        f"<FromUserName>{_cdata(from_user)}</FromUserName>"
        f"<CreateTime>{int(now)}</CreateTime><MsgType><![CDATA[text]]></MsgType>"
        f"<Content>{_cdata(content)}</Content></xml>"
    )


def seal_reply(
    reply: str,
    *,
    token: str,
    cipher: Cipher,
    nonce: str,
    now: float,
    random16: bytes | None = None,
) -> str:
    """Encrypt a passive reply for safe mode and WeCom, which refuse a plain one."""
    timestamp = str(int(now))
    encrypt = cipher.encrypt(reply, random16=random16)
    return (
        f"<xml><Encrypt>{_cdata(encrypt)}</Encrypt>"
        f"<MsgSignature>{_cdata(msg_signature(token, timestamp, nonce, encrypt))}</MsgSignature>"
        f"<TimeStamp>{timestamp}</TimeStamp><Nonce>{_cdata(nonce)}</Nonce></xml>"
    )
