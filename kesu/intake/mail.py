"""Turn one raw email (RFC 822 bytes) into what complaint intake needs: who, about what, the
new words the sender wrote, the files, and whether a person wrote it at all.

Pure on purpose (stdlib only, no Django) so that the mail channel, a management command and the
tests can all call `parse_mail()`. Real mail is messy, so nothing here trusts a label: charsets
are tried and guessed, the modern `email.policy.default` is used first and each header falls back
to the `compat32` reading when the modern one raises or garbles it, and the only exception that
leaves this module is `UnreadableMail`. The comments name the kind of real mail behind each rule
(the fixtures under ../shared/data/emails are the evidence).
"""

from __future__ import annotations

import base64
import binascii
import codecs
import functools
import html
import io
import mimetypes
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from email import errors, policy, utils
from email.generator import BytesGenerator
from email.message import EmailMessage, Message
from email.parser import BytesParser
from email.policy import EmailPolicy
from typing import TYPE_CHECKING, Any, Final, cast

if TYPE_CHECKING:
    from email.headerregistry import AddressHeader

    _EmailPolicy = EmailPolicy[EmailMessage]  # generic in typeshed only
else:
    _EmailPolicy = EmailPolicy

MAX_DEPTH: Final = 20
MAX_PARTS: Final = 1000
# Longer header values are cut before decoding (see _Policy). Real ones stay far below: a To
# with 500 addresses is ~16 KB.
_MAX_HEADER: Final = 32 * 1024
# Content-Type and -Disposition are parsed for every part: cut shorter. Real ones have a handful
# of parameters; a 255-character Chinese filename in RFC 2231 is ~2.5 KB in a few dozen pieces.
_MAX_MIME_HEADER: Final = 4 * 1024
_MAX_PARAMS: Final = 64
_PARAMETERIZED: Final = frozenset({"content-type", "content-disposition"})
_PART_HEADER: Final = re.compile(rb"^content-type[ \t]*:", re.IGNORECASE | re.MULTILINE)
# Salvaging a header block that the parser does not see (see _salvage_headers).
_BANNER_LINES: Final = 3
_HEADER_NAME: Final = re.compile(rb"^([!-9;-~]+)[ \t]*:")
_KNOWN_HEADERS: Final = frozenset(
    {b"from", b"to", b"cc", b"subject", b"date", b"message-id", b"received", b"return-path"}
    | {b"mime-version", b"content-type", b"reply-to", b"sender"}
)
# Which codecs a declared label stands for, keyed by Python's name for it. GB2312 is a subset of
# GBK, itself a subset of GB18030: Chinese mailers label GBK text "gb2312" all the time (CCERT
# corpus), so every GB label decodes as gb18030. Big5 mail from Taiwan and Hong Kong uses the
# HKSCS or Microsoft extensions; Japanese bounces say ISO-2022-JP and send EUC-JP (sisimai).
_GB: Final = ("gb18030",)
_BIG5: Final = ("big5", "big5hkscs", "cp950")
_FAMILIES: Final = {
    "gb2312": _GB,
    "gbk": _GB,
    "gb18030": _GB,
    "big5": _BIG5,
    "big5hkscs": ("big5hkscs", "cp950"),
    "cp950": ("cp950", "big5hkscs"),
    "iso2022_jp": ("iso2022_jp", "euc_jp", "cp932"),
    "euc_jp": ("euc_jp", "cp932", "iso2022_jp"),
    "shift_jis": ("cp932", "euc_jp"),
    "cp932": ("cp932", "euc_jp"),
    "euc_kr": ("cp949",),
}
_ALIASES: Final = {"windows936": "gbk", "csgb2312": "gb2312", "windows950": "cp950"} | {
    "windows31j": "cp932"
}
_CJK_CODECS: Final = frozenset(c for family in _FAMILIES.values() for c in family)
# Labels that say nothing about 8-bit bytes: decide by trying, like an undeclared body.
_NO_LABEL: Final = frozenset({"", "ascii", "usascii", "unknown8bit", "xunknown", "default"})
# Codecs that are not mail charsets; a label naming one is treated as garbage.
_NOT_CHARSETS: Final = frozenset(
    {"undefined", "unicode_escape", "raw_unicode_escape", "idna", "punycode", "mbcs", "oem"}
)
# Salvages labels such as `charset="charset="GB2312""` or `gb2312_charset` (CCERT spam).
_LABEL_INSIDE: Final = re.compile(r"gb18030|gbk|gb_?2312|euc-?cn|big-?5|utf-?8", re.IGNORECASE)
_GUESSES: Final = ("utf-8", "gb18030", "big5", "latin-1")
# Non-ASCII characters. One common GBK character is also valid UTF-8 one time in 7, four in a
# row one time in 3,000.
_UTF8_EVIDENCE: Final = 4
_META_CHARSET: Final = re.compile(
    rb"<meta\b[^<>]{0,200}?charset\s*=\s*[\"']?\s*([a-z0-9_.:-]{1,40})", re.IGNORECASE
)

_ENCODED_WORD: Final = re.compile(r"=\?([^?\s]+)\?([bBqQ])\?([^?]*)\?=")
_SURROGATES: Final = re.compile("[\udc80-\udcff]")
_MESSAGE_ID: Final = re.compile(r"<([^<>]*)>")
_CTE: Final = "content-transfer-encoding"
_FORWARDED: Final = frozenset({"message/rfc822", "message/global"})
_EXTENSIONS: Final = {"message/delivery-status": ".txt", "text/rfc822-headers": ".txt"}

# Automatic mail: a complaint desk must never answer these, or two robots write to each other.
_BOUNCE_LOCALS: Final = frozenset({"mailer-daemon", "postmaster"})
_BOUNCE_SUBJECT: Final = re.compile(
    r"undeliver|delivery status|returned mail|mail delivery fail|delivery failure|failure notice"
    r"|退信|投递失败|无法投递",
    re.IGNORECASE,
)
# Anchored, and the marker must end in ":" or a bracket, because a subject is the customer's own
# words: "自动回复没有解决我的问题", "Out of office chairs …", "Auto: Bremsen defekt" (German
# "Auto" is a car) and "休假期间…" are complaints. Lotus Notes says "AUTO: X is out of the office".
_AUTO_SUBJECT: Final = re.compile(
    r"^\s*[\[【(（]?\s*(?:automatic reply|auto[- ]?reply|auto[- ]?response"
    r"|out of (?:the )?office(?:\s*auto-?reply)?|自动回复|自动答复|休假自动(?:回复|答复))"
    r"\s*[:：\]】)）]|^\s*auto:.*\bout of (?:the )?office",
    re.IGNORECASE,
)
# X-Autoreply is Yandex, Mail.ru, QQ. Exchange's X-MS-Exchange-Inbox-Rules-Loop and
# -Generated-Message-Source are not signals: a mailbox rule that forwards a customer's mail
# to the complaint desk sets them too, and their auto-replies say "Automatic reply:".
_AUTO_HEADERS: Final = ("X-Autoreply", "X-Autorespond")
# A read receipt or an abuse report is made by a machine, but the address it answers works.
_NOT_BOUNCES: Final = frozenset({"disposition-notification", "feedback-report"})
_BULK_PRECEDENCE: Final = frozenset({"bulk", "junk", "list"})

# Where the quoted history starts. Each alternative is a real client's separator or attribution:
# Outlook (English, Chinese, German), Outlook's underscore rule, QQ/163/Foxmail/Apple "…写道：",
# Gmail/Thunderbird/Apple "On … wrote:", German and French clients in the Zammad fixtures.
_SEPARATOR: Final = re.compile(
    r"^(?:-{2,}\s*(?:original message|原始邮件|邮件原件|(?:ursprüngliche|original) nachricht"
    r"|message d'origine)\s*-{2,}|_{10,})\s*$",
    re.IGNORECASE,
)
_ATTRIBUTION: Final = re.compile(
    r"^(?:在.{0,160}写道\s*[:：]?|.{0,200}写道\s*[:：]|on\s.{1,240}\swrote\s*:?"
    r"|am\s.{1,200}schrieb.{0,120}:|le\s.{1,200}a\s+écrit\s*:)\s*$",
    re.IGNORECASE,
)
# A client's attribution carries a date, and Chinese clients always the time or the address;
# a customer quoting the manual ("说明书上写道：", "在包装上写道：") or a label does not.
_ATTRIBUTION_DETAIL: Final = re.compile(r"[\d@]")
_CHINESE_ATTRIBUTION_DETAIL: Final = re.compile(r"@|\d{1,2}\s*[:：]\s*\d{2}")
_QUOTE_OPENING: Final = re.compile(r"^(?:on|在|am|le)\s?", re.IGNORECASE)
# Outlook's quoted header block. "发件人：… 收件人：…" is also how a customer describes a parcel,
# so the block needs two more header lines below the first, one of them the time it was sent.
_FROM_LINE: Final = re.compile(r"^[*\s]*(?:from|发件人|寄件者|寄件人|von)\s*\*?\s*[:：]", re.I)
_HEADER_LINE: Final = re.compile(
    r"^[*\s]*(?:sent|date|to|cc|subject|发送时间|發送時間|日期|时间|收件人|收件者|抄送|主题|主旨"
    r"|寄件日期|gesendet|datum|an|betreff)\s*\*?\s*[:：]",
    re.IGNORECASE,
)
_TIME_LINE: Final = re.compile(
    r"^[*\s]*(?:sent|date|发送时间|發送時間|日期|时间|寄件日期|gesendet|datum)\s*\*?\s*[:：]",
    re.IGNORECASE,
)
# A client's line names a device or an app and has no sentence punctuation; "来自我的邻居的推荐，
# 我买了…" is the customer's own first line.
_SIGNATURE: Final = re.compile(
    r"^(?:--|sent from my\b.{0,40}|sent from (?:mail|outlook|yahoo)\b.{0,40}"
    r"|get outlook for\b.{0,40}|(?:发自|来自)我的[^，。,;；!！?？]{0,20}"
    r"|(?:发自|来自)\s?(?:网易|qq|手机|电脑)[^，。,;；!！?？]{0,20}|从我的.{0,20}发送)$",
    re.IGNORECASE,
)


class UnreadableMail(ValueError):
    """Raised with a human-readable English reason when the bytes are not an email at all
    (empty, no headers at all, larger than max_bytes, not bytes)."""


@dataclass(frozen=True)
class MailAttachment:
    filename: str
    content_type: str
    data: bytes


@dataclass(frozen=True)
class ParsedMail:
    message_id: str
    in_reply_to: str
    references: tuple[str, ...]
    subject: str
    from_name: str
    from_address: str
    reply_to: str
    to_addresses: tuple[str, ...]
    date: datetime | None
    text: str
    full_text: str
    html_only: bool
    attachments: tuple[MailAttachment, ...]
    automatic: str
    automatic_reason: str
    defects: tuple[str, ...]


@dataclass
class _Found:
    """What the walk over the MIME tree collects; leaves are decoded once all charsets are known."""

    bodies: list[tuple[Message, Message, str]] = field(default_factory=list)
    files: list[tuple[Message, Message, str]] = field(default_factory=list)
    charsets: list[str] = field(default_factory=list)
    defects: list[str] = field(default_factory=list)
    delivery_status: bool = False


def parse_mail(raw: bytes, *, max_bytes: int = 25 * 1024 * 1024) -> ParsedMail:
    """Parse one raw email; raises only UnreadableMail, for bytes that are not an email."""
    if not isinstance(raw, bytes | bytearray | memoryview):
        raise UnreadableMail(f"expected the raw bytes of an email, got {type(raw).__name__}")
    raw = bytes(raw)
    if len(raw) > max_bytes:
        raise UnreadableMail(f"the email is {len(raw)} bytes, more than the limit of {max_bytes}")
    if not raw.strip():
        raise UnreadableMail("the email is empty")
    found = _Found()
    # A UTF-8 byte order mark hides the first header name from the parser (MimeKit fixture).
    raw = raw.removeprefix(codecs.BOM_UTF8)
    msg = _parse(raw, found.defects)
    if not msg.keys():
        salvaged = _salvage_headers(raw)
        if salvaged is None:
            raise UnreadableMail("the bytes have no email headers")
        found.defects.append("header block salvaged")
        msg = _parse(salvaged, found.defects)
    elif any(isinstance(d, errors.MissingHeaderBodySeparatorDefect) for d in msg.defects):
        # A header folded without leading white space ends the header block early, and From and
        # Subject below it land in the body (an X-Brightmail-Tracker value in the Zammad set).
        repaired, names = _repair_headers(raw)
        if (names & _KNOWN_HEADERS) - {k.lower().encode("ascii", "replace") for k in msg}:
            found.defects.append("header block repaired")
            msg = _parse(repaired, found.defects)
    _walk(msg, 0, found)
    # The MIME labels, then the charsets of the encoded words in the headers: CCERT mail sends an
    # undeclared 8-bit body under a Subject in =?gb2312?…?= words.
    words = [w for h in ("subject", "from", "to") for w in _ENCODED_WORD.findall(_raw(msg, h))]
    hints = list(dict.fromkeys([*found.charsets, *(charset for charset, _, _ in words)]))
    plain, html_parts = _bodies(found, hints)
    html_only = not plain and bool(html_parts)
    full_text = _tidy(plain or "\n\n".join(_html_to_text(t) for t in html_parts))
    subject = " ".join(_text_header(msg, "subject", hints, found.defects).split())
    senders = _addresses(msg, "from", hints, found.defects)
    from_name, from_spec = senders[0] if senders else ("", "")
    to = [a for h in ("to", "cc") for _, a in _addresses(msg, h, hints, found.defects)]
    reply_to = [a for _, a in _addresses(msg, "reply-to", hints, found.defects)]
    in_reply_to = _ids(_raw(msg, "in-reply-to"))
    automatic, reason = _classify(msg, subject, from_name, from_spec, found)
    return ParsedMail(
        message_id=(_ids(_raw(msg, "message-id")) or [""])[0],
        in_reply_to=(in_reply_to or [""])[0],
        # Not cut at _MAX_HEADER: the newest ids, which thread the reply, come last.
        references=tuple(dict.fromkeys([*_ids(_raw(msg, "references", 1 << 20)), *in_reply_to])),
        subject=subject,
        from_name=from_name,
        from_address=_address(from_spec),
        reply_to=_address(reply_to[0]) if reply_to else "",
        to_addresses=tuple(dict.fromkeys(a for a in map(_address, to) if a)),
        date=_date(msg, found.defects),
        text=_new_text(full_text),
        full_text=full_text,
        html_only=html_only,
        attachments=_attachments(found, hints),
        automatic=automatic,
        automatic_reason=reason,
        defects=tuple(dict.fromkeys(found.defects)),
    )


def _cut(name: str, value: str) -> str:
    """A header value cut to what a real one holds (see _Policy)."""
    if name.lower() not in _PARAMETERIZED:
        return value[:_MAX_HEADER]
    value = value[:_MAX_MIME_HEADER]
    if value.count(";") > _MAX_PARAMS:
        value = ";".join(value.split(";", _MAX_PARAMS + 1)[:_MAX_PARAMS])
    return value


class _Policy(_EmailPolicy):
    """`policy.default`, except that header values are cut (_cut) before the modern parser
    sees them, and parsed once: that parser is quadratic in a header's length (a 500 KB Subject
    of encoded words takes it 7 GB of memory), and it is asked for a part's Content-Type some six
    times, at ~20 µs per parameter each time. Values read raw (References, the compat32
    fallbacks) are not cut here."""

    def header_fetch_parse(self, name: str, value: str) -> Any:
        if not isinstance(value, str):
            return super().header_fetch_parse(name, value)
        return _parsed_header(name, _cut(name, value))


_POLICY: Final = _Policy()


@functools.lru_cache(maxsize=256)
def _parsed_header(name: str, value: str) -> Any:
    # Header objects are immutable strings with their parse attached: safe to share.
    return policy.default.header_fetch_parse(name, value)


def _parse(raw: bytes, defects: list[str]) -> Message:
    # The feed parser recurses once per multipart level, so a message nested a few hundred levels
    # deep raises RecursionError; its headers still tell who wrote and whether to answer. It also
    # spends ~0.3 ms on each part, so a 25 MB mail of tiny parts would hold a worker for minutes:
    # the mail is cut where its MAX_PARTS + 1st part starts (the text comes first anyway).
    for count, part in enumerate(_PART_HEADER.finditer(raw)):
        if count == MAX_PARTS:
            defects.append(f"more than {MAX_PARTS} MIME parts, the rest ignored")
            raw = raw[: part.start()]
            break
    try:
        return BytesParser(policy=_POLICY).parsebytes(raw)
    except Exception as error:
        defects.append(f"MIME structure unparseable ({type(error).__name__}), headers only")
    try:
        return BytesParser(policy=_POLICY).parsebytes(raw, headersonly=True)
    except Exception as error:
        raise UnreadableMail("the email cannot be parsed at all") from error


def _salvage_headers(raw: bytes) -> bytes | None:
    """The mail with its header block made parseable, or None when there is none: for a banner
    line above the headers ("---- Original email message ----" from a contact form that forwards
    the whole mail, Zammad) and RFC 2822's obsolete "Subject  :" syntax."""
    for skip in range(_BANNER_LINES + 1):
        repaired, names = _repair_headers(raw, skip)
        if len(names & _KNOWN_HEADERS) >= 2:
            return repaired
    return None


def _repair_headers(raw: bytes, skip: int = 0) -> tuple[bytes, frozenset[bytes]]:
    """The mail without its first `skip` lines, every line up to the first blank one made a
    header or a continuation; and the header names (lower case) in that block."""
    lines = raw.splitlines(keepends=True)
    # The mbox "From sender date" line, which the parser reads as such; "From  : x" is a header.
    mbox = bool(lines) and lines[0].startswith(b"From ") and not _HEADER_NAME.match(lines[0])
    unix_from = lines[:1] if mbox else []
    lines = lines[len(unix_from) + skip :]
    block: list[bytes] = []
    names: set[bytes] = set()
    for line in lines:
        header = _HEADER_NAME.match(line)
        if not line.strip() or not (header or block):
            break
        if header:
            names.add(header.group(1).lower())
            block.append(header.group(1) + b":" + line[header.end() :])
        else:
            # Folded, or a stray line inside the block: a continuation either way.
            block.append(line if line[:1] in b" \t" else b" " + line)
    repaired = b"".join([*unix_from, *block, *lines[len(block) :]])
    return repaired, frozenset(names)


# --- charsets -------------------------------------------------------------------------------


def _compact(label: str) -> str:
    return re.sub(r"[^a-z0-9]", "", label.lower())


def _codecs_for(label: str) -> tuple[str, ...]:
    """Python codecs to try for a declared charset label; () when the label is unusable."""
    name = label.strip().strip("\"'").strip().lower()
    compact = _compact(name)
    if compact in _NO_LABEL:
        return ()
    for candidate in (_ALIASES.get(compact, name), re.sub(r"^(?:x|cn)-", "", name)):
        try:
            codec = codecs.lookup(candidate).name
            # base64, hex, rot13, zlib … are codecs but not text encodings: bytes.decode() raises
            # LookupError for them, even with errors="replace" (but not for b"").
            b" ".decode(codec, "ignore")
        except (LookupError, ValueError, TypeError):
            continue
        return () if codec.replace("-", "_") in _NOT_CHARSETS else _FAMILIES.get(codec, (codec,))
    inside = _LABEL_INSIDE.search(name)
    return _codecs_for(inside.group()) if inside and inside.group() != name else ()


def _try(data: bytes, names: Iterable[str]) -> str | None:
    for name in names:
        try:
            return data.decode(name)
        except (LookupError, ValueError, TypeError):
            continue
    return None


def _decode(data: bytes, label: str | None, hints: Sequence[str], defects: list[str]) -> str:
    """Text of `data`: the declared charset, else UTF-8, the message's CJK charsets, guesses."""
    declared = _codecs_for(label) if label else ()
    if declared and "utf-8" not in declared and not data.isascii():
        # Several multi-byte characters that are valid UTF-8 are UTF-8, whatever the label says:
        # GBK or Big5 text almost never is (CCERT and spamscope have UTF-8 labelled GB2312).
        text = _try(data, ("utf-8",))
        if text is not None and sum(not c.isascii() for c in text) >= _UTF8_EVIDENCE:
            defects.append(f"charset {label!r} was wrong")
            return text
    if declared:
        text = _try(data, declared)
        if text is not None:
            return text
        try:
            damaged = data.decode(declared[0], errors="replace")
        except (LookupError, ValueError):  # a codec that refuses errors="replace"
            damaged = data.decode("utf-8", errors="replace")
        # Mostly invalid means mislabelled (CCERT has GBK bodies labelled utf-8); a few bad bytes
        # mean a damaged body in the right charset, which stays readable with U+FFFD.
        if damaged.count("\ufffd") * 50 > len(damaged):
            text = _try(data, [c for c in _GUESSES[:3] if c not in declared])
            if text is not None:
                defects.append(f"charset {label!r} was wrong")
                return text
        defects.append(f"bytes invalid in charset {label!r}")
        return damaged
    if label and _compact(label) not in _NO_LABEL:
        defects.append(f"unknown charset {label[:40]!r}")
    if data.isascii():
        return data.decode("ascii")
    # Big5 bytes always decode as GB18030 too, so the message's own CJK charset goes first.
    cjk = [c for hint in hints for c in _codecs_for(hint) if c in _CJK_CODECS]
    text = _try(data, ("utf-8", *cjk, *_GUESSES[1:]))
    return text if text is not None else data.decode("utf-8", errors="replace")


def _from_8bit(value: str, hints: Sequence[str], defects: list[str]) -> str:
    """Undo the parser's surrogate escapes: raw 8-bit header bytes (Chinese spam sends raw GBK)."""
    if not _SURROGATES.search(value):
        return value
    return _decode(value.encode("utf-8", "surrogateescape"), None, hints, defects)


# --- headers --------------------------------------------------------------------------------


def _unfold(value: str) -> str:
    return re.sub(r"\r?\n(?=[ \t])", "", value)


def _raw_values(msg: Message, name: str) -> list[str]:
    return [str(v) for k, v in msg.raw_items() if k.lower() == name.lower()]


def _raw(msg: Message, name: str, limit: int = _MAX_HEADER) -> str:
    values = _raw_values(msg, name)
    return _unfold(values[0][:limit]) if values else ""


def _garbled(text: str) -> bool:
    return "\ufffd" in text or "=?" in text or bool(_SURROGATES.search(text))


def _words(value: str, hints: Sequence[str], defects: list[str]) -> str:
    """Decode RFC 2047 encoded words with our charset rules (compat32-style, but forgiving)."""
    value = _from_8bit(_unfold(value), hints, defects)
    out: list[str] = []
    # Adjacent encoded words, merged per charset: (charset, bytes, bytes reading Q's "_" as 0x5F).
    run: list[tuple[str, bytes, bytes]] = []

    def flush() -> None:
        for charset, data, literal in run:
            # Naive Big5 encoders leave the trail byte 0x5F as "_", which Q decodes to a space.
            strict = _try(data, _codecs_for(charset)) if literal != data else None
            fixed = _try(literal, _codecs_for(charset)) if literal != data and not strict else None
            out.append(fixed or _decode(data, charset, hints, defects))
        run.clear()

    end = 0
    for word in _ENCODED_WORD.finditer(value):
        between = value[end : word.start()]
        if not run or between.strip():
            flush()
            out.append(between)
        end = word.end()
        charset = word.group(1).split("*")[0]
        data = _word_bytes(word.group(2), word.group(3))
        literal = _word_bytes(word.group(2), word.group(3).replace("_", "=5F"))
        if data is None or literal is None:
            flush()
            out.append(word.group())
        elif run and run[-1][0].lower() == charset.lower():
            # A multi-byte character may be split across two words (Big5 spam does this).
            run[-1] = (charset, run[-1][1] + data, run[-1][2] + literal)
        else:
            run.append((charset, data, literal))
    flush()
    out.append(value[end:])
    return "".join(out).replace("\x00", "")


def _word_bytes(encoding: str, text: str) -> bytes | None:
    payload = text.encode("utf-8")
    try:
        if encoding.lower() == "q":
            return binascii.a2b_qp(payload, header=True)
        payload = re.sub(rb"[^A-Za-z0-9+/]", b"", payload)
        if len(payload) % 4 == 1:  # a truncated word: drop the stray character
            payload = payload[:-1]
        return base64.b64decode(payload + b"=" * (-len(payload) % 4))
    except (binascii.Error, ValueError):
        return None


def _text_header(msg: Message, name: str, hints: Sequence[str], defects: list[str]) -> str:
    try:
        value = msg.get(name)
        text = "" if value is None else str(value)
    except Exception:
        text = "\ufffd"  # the modern policy raised: read the raw value below
    raw = _raw(msg, name)
    # The modern policy decodes a word with whatever Python codec its label names, so
    # =?unicode_escape?…?= gives fluent nonsense rather than U+FFFD: unusable labels go below.
    labels = [c for c, _, _ in _ENCODED_WORD.findall(raw) if _compact(c) not in _NO_LABEL]
    if _garbled(text) or not all(map(_codecs_for, labels)):
        defects.append(f"{name} decoded from the raw header")
        text = _words(raw, hints, defects)
    return text.replace("\x00", "")


def _addresses(
    msg: Message, name: str, hints: Sequence[str], defects: list[str]
) -> list[tuple[str, str]]:
    """(display name, addr-spec) pairs of one address header, modern policy first."""
    raws = _raw_values(msg, name)
    if not raws:
        return []
    try:
        headers = [cast("AddressHeader", h) for h in msg.get_all(name, [])]
        pairs = [(a.display_name, a.addr_spec) for h in headers for a in h.addresses]
        if not any(_garbled(n) or _garbled(a) for n, a in pairs):
            return [(" ".join(n.split()).replace("\x00", ""), a) for n, a in pairs]
    except Exception as error:
        # Real DSNs put a group in To:, some mailers CR/LF inside a quoted name: the modern
        # policy raises on both, compat32's getaddresses() does not.
        defects.append(f"{name}: compat32 fallback ({type(error).__name__})")
    unfolded = [_unfold(v[:_MAX_HEADER]) for v in raws]
    pairs = utils.getaddresses([_from_8bit(v, hints, defects) for v in unfolded])
    return [(" ".join(_words(n, hints, defects).split()), a) for n, a in pairs]


def _address(spec: str) -> str:
    spec = spec.strip().strip("<>").strip().lower()
    return spec if "@" in spec and not re.search(r"[\s<>\x00]", spec) else ""


def _ids(value: str) -> list[str]:
    """Message-ids in a Message-ID, In-Reply-To or References value, without brackets."""
    found = ["".join(m.split()) for m in _MESSAGE_ID.findall(value)]
    if not any(found):
        found = [t for t in value.split() if "@" in t] or value.split()[:1]
    return [_SURROGATES.sub("", i.strip("<>")) for i in found if i.strip("<>")]


def _date(msg: Message, defects: list[str]) -> datetime | None:
    try:
        value = getattr(msg.get("date"), "datetime", None)
    except Exception:
        value = None
    if value is None and _raw(msg, "date"):
        try:
            value = utils.parsedate_to_datetime(_raw(msg, "date"))
        except (ValueError, TypeError, OverflowError, IndexError):
            defects.append("date unparseable")
            return None
    if not isinstance(value, datetime):
        return None
    # "-0000" means "time zone unknown": the stdlib gives a naive datetime; read it as UTC.
    return value if value.tzinfo is not None else value.replace(tzinfo=UTC)


# --- MIME tree --------------------------------------------------------------------------------


def _params(part: Message) -> Message:
    """A compat32 view of the part's MIME headers: it keeps 8-bit and garbage parameters that
    the modern policy replaces or drops (`charset="charset="GB2312""` reads as 'charset=')."""
    view = Message(policy=policy.compat32)
    for name, value in part.raw_items():
        if name.lower() in ("content-type", "content-disposition"):
            # Raw 8-bit bytes become latin-1 characters here, one per byte, and are decoded with
            # the message's charsets once the parameter is picked out (see _filename).
            raw = _unfold(_cut(name, str(value))).encode("utf-8", "surrogateescape")
            view[name] = raw.decode("latin-1")
    return view


def _content_type(part: Message) -> str:
    try:
        ctype = part.get_content_type()
    except Exception:
        ctype = part.get_default_type()
    kind = re.match(r"[a-z0-9!#$&^_.+-]+/[a-z0-9!#$&^_.+-]+", ctype.lower())
    return kind.group() if kind else "application/octet-stream"


def _walk(part: Message, depth: int, found: _Found) -> None:
    found.defects.extend(type(d).__name__ for d in getattr(part, "defects", []))
    if depth > MAX_DEPTH:
        found.defects.append(f"parts nested deeper than {MAX_DEPTH} levels ignored")
        return
    view = _params(part)
    ctype = _content_type(part)
    charset = view.get_param("charset")
    if isinstance(charset, str) and charset:
        found.charsets.append(charset)
    if ctype.startswith("message/"):
        # Forwarded mail stays a file: its text is someone else's words, not the sender's.
        found.delivery_status |= ctype == "message/delivery-status"
        found.files.append((part, view, ctype))
    elif part.is_multipart():
        for sub in _parts(part):
            _walk(sub, depth + 1, found)
    elif ctype.startswith("multipart/"):
        # A multipart whose boundary never appears arrives as one string: read it as text.
        found.bodies.append((part, view, "text/plain"))
    elif ctype in ("text/plain", "text/html") and not _is_file(view):
        found.bodies.append((part, view, ctype))
    else:
        found.files.append((part, view, ctype))


def _is_file(view: Message) -> bool:
    """Attached, or named: Thunderbird attaches .txt files inline, with a filename."""
    dispositions = [str(d).strip().lower() for d in view.get_all("content-disposition", [])]
    if any(d.startswith("attachment") for d in dispositions):
        return True
    return bool(view.get_param("filename", None, "content-disposition") or view.get_param("name"))


def _parts(part: Message) -> list[Message]:
    payload = part.get_payload() if part.is_multipart() else None
    return [sub for sub in payload if isinstance(sub, Message)] if isinstance(payload, list) else []


def _stored(part: Message) -> str:
    """The body as the parser stored it, 8-bit bytes as surrogate escapes. get_payload() would
    decode those with the declared charset, and raises for labels such as 'undefined' or 'idna'
    (the stdlib catches only LookupError there), so the attribute is read directly."""
    payload = getattr(part, "_payload", "")
    return payload if isinstance(payload, str) else ""


def _payload(part: Message, defects: list[str]) -> bytes:
    raw = _stored(part)
    if _SURROGATES.search(raw) and "base64" in _raw(part, _CTE).lower():
        # Foxmail spam labelled base64 but sent raw GBK: decoding it as base64 yields noise. A
        # real base64 body with a few stray 8-bit bytes is still mostly the base64 alphabet.
        noise = len(re.sub(r"[A-Za-z0-9+/=\s]", "", raw))
        if noise * 10 > len(raw):
            defects.append("base64 body holds raw 8-bit text")
            return raw.encode("utf-8", "surrogateescape")
    known = len(part.defects)
    try:
        data = part.get_payload(decode=True)
    except Exception:
        return b""
    # Decoding records what it repaired (bad base64 padding or characters) on the part only.
    defects.extend(type(d).__name__ for d in part.defects[known:])
    return data if isinstance(data, bytes) else b""


def _bodies(found: _Found, hints: Sequence[str]) -> tuple[str, list[str]]:
    plain: list[str] = []
    markup: list[str] = []
    for part, view, ctype in found.bodies:
        label = view.get_param("charset")
        charset = label if isinstance(label, str) else None
        data = _payload(part, found.defects)
        if ctype == "text/html" and not (charset and _codecs_for(charset)):
            # No usable MIME label: the page's own <meta charset> (Big5 spam from Taiwan) beats
            # guessing, which reads Big5 bytes as GB18030.
            meta = _META_CHARSET.search(data[:4096])
            charset = meta.group(1).decode("ascii") if meta else charset
        text = _decode(data, charset, hints, found.defects)
        if text.strip():
            (markup if ctype == "text/html" else plain).append(text)
    return "\n\n".join(plain), markup


def _attachments(found: _Found, hints: Sequence[str]) -> tuple[MailAttachment, ...]:
    files: list[MailAttachment] = []
    forwarded = 0
    for part, view, ctype in found.files:
        name = _filename(view, hints, found.defects)
        if ctype.startswith("message/"):
            data = _flatten(part, found.defects)
            if ctype in _FORWARDED and not name:
                forwarded += 1
                name = "forwarded.eml" if forwarded == 1 else f"forwarded-{forwarded}.eml"
        else:
            data = _payload(part, found.defects)
        name = name or f"attachment-{len(files) + 1}{_extension(ctype)}"
        files.append(MailAttachment(filename=name, content_type=ctype, data=data))
    return tuple(files)


def _filename(view: Message, hints: Sequence[str], defects: list[str]) -> str:
    try:
        value = view.get_param("filename", None, "content-disposition") or view.get_param("name")
    except Exception:
        return ""
    if isinstance(value, tuple):  # RFC 2231: (charset, language, percent-decoded latin-1)
        charset, _, text = value
        try:
            data = text.encode("latin-1")
        except UnicodeEncodeError:
            data = text.encode("utf-8", "surrogateescape")
        name = _decode(data, charset or None, hints, defects)
    elif isinstance(value, str):
        if not value.isascii():  # raw 8-bit filename (see _params)
            value = _decode(value.encode("latin-1", "replace"), None, hints, defects)
        # Outlook, Foxmail and QQ put RFC 2047 words inside the quoted filename.
        name = _words(value, hints, defects)
    else:
        return ""
    name = re.split(r"[/\\]", name)[-1]
    name = re.sub(r"[\x00-\x1f\x7f]", "", name).strip()
    return "" if name in ("", ".", "..") else name


def _extension(ctype: str) -> str:
    if ctype in _FORWARDED:
        return ".eml"
    guessed = _EXTENSIONS.get(ctype) or _mime_types().guess_extension(ctype)
    return guessed or (".txt" if ctype.startswith("text/") else ".bin")


@functools.cache
def _mime_types() -> mimetypes.MimeTypes:
    # Python's own table only, not /etc/mime.types: the same name on every machine.
    return mimetypes.MimeTypes()


def _flatten(part: Message, defects: list[str]) -> bytes:
    """The bytes of an attached message (compat32 writes raw 8-bit headers back unchanged)."""
    inner = _parts(part)
    if not inner:
        return _payload(part, defects)
    buffer = io.BytesIO()
    for sub in inner:
        try:
            BytesGenerator(buffer, mangle_from_=False, policy=policy.compat32).flatten(sub)
        except Exception as error:
            defects.append(f"attached message not rewritable ({type(error).__name__})")
    return buffer.getvalue()


# --- text -------------------------------------------------------------------------------------


# One HTML token. Not html.parser: it rescans to the end of the input for every '<' that starts
# a tag it cannot close, so 24 KB of "<a " takes it 6 s and a 1 MB spam body hours. Each
# alternative here stops at the next '<' or consumes to the end, so the scan is linear.
_HTML_TOKEN: Final = re.compile(
    r"<!--.*?(?:-->|\Z)"  # a comment; an unclosed one runs to the end, as in browsers
    r"|<(script|style)\b[^<>]*>.*?(?:</\1\s*>|\Z)"  # skipped whole
    r"|<[!?][^<>]*>?"  # doctype, <?xml …>, <![if mso]>
    r"|<(/?)([a-z][a-z0-9:_-]*)[^<>]*>?"  # a tag, attributes ignored; '<' ends it, as in browsers
    r"|[^<]+|<",  # text, or a '<' that opens nothing
    re.IGNORECASE | re.DOTALL,
)


class _HtmlText:
    """Just enough HTML to text for a complaint: blocks become lines, quotes keep a '>'."""

    SKIP: Final = frozenset({"script", "style", "head", "title", "template", "noscript"})
    BLOCKS: Final = frozenset(
        {"p", "div", "br", "li", "tr", "table", "ul", "ol", "hr", "pre", "blockquote", "dt", "dd"}
        | {"h1", "h2", "h3", "h4", "h5", "h6", "section", "article", "header", "footer", "center"}
    )

    def __init__(self) -> None:
        self.lines: list[str] = []
        self.line: list[str] = []
        self.skipping = 0
        self.quoting = 0

    def feed(self, markup: str) -> None:
        for token in _HTML_TOKEN.finditer(markup):
            closing, tag = token.group(2, 3)
            if tag is None:
                text = token.group()
                if not text.startswith("<") or len(text) == 1:
                    self.handle_data(html.unescape(text))
            elif closing:
                self.handle_endtag(tag.lower())
            else:
                self.handle_starttag(tag.lower())

    def handle_starttag(self, tag: str) -> None:
        if tag == "body":  # an unclosed <head> must not swallow the whole message
            self.skipping = 0
        elif tag in self.SKIP:
            self.skipping += 1
        elif tag in self.BLOCKS:
            self.newline()
            self.quoting += tag == "blockquote"
        elif tag in ("td", "th"):
            self.line.append(" ")

    def handle_endtag(self, tag: str) -> None:
        if tag in self.SKIP:
            self.skipping = max(0, self.skipping - 1)
        elif tag in self.BLOCKS:
            self.newline()
            if tag == "blockquote":
                self.quoting = max(0, self.quoting - 1)

    def handle_data(self, data: str) -> None:
        if not self.skipping:
            self.line.append(re.sub(r"\s+", " ", data))

    def newline(self) -> None:
        text = "".join(self.line).strip()
        self.lines.append("> " * self.quoting + text if text else "")
        self.line = []


def _html_to_text(markup: str) -> str:
    parser = _HtmlText()
    parser.feed(markup)
    parser.newline()
    return "\n".join(parser.lines)


def _tidy(text: str) -> str:
    """\\n line ends, no trailing spaces, no NUL (PostgreSQL refuses it), one blank line at most."""
    lines = [line.rstrip() for line in text.replace("\r\n", "\n").replace("\r", "\n").split("\n")]
    return re.sub(r"\n{3,}", "\n\n", "\n".join(lines).replace("\x00", "")).strip("\n")


def _is_attribution(line: str) -> bool:
    if not _ATTRIBUTION.match(line):
        return False
    detail = _CHINESE_ATTRIBUTION_DETAIL if "写道" in line else _ATTRIBUTION_DETAIL
    return bool(detail.search(line))


def _attribution_lines(lines: Sequence[str], i: int) -> int:
    """How many lines the attribution at line i takes: 0 (none), 1 or 2."""
    line = lines[i].strip()
    if _is_attribution(line):
        return 1
    # "On Mon, 2 Nov 2026 at 10:00, Zhang San <zhang@example.com>\nwrote:" (wrapped at 72-78).
    if i + 1 < len(lines) and _QUOTE_OPENING.match(line):
        return 2 if _is_attribution(f"{line} {lines[i + 1].strip()}") else 0
    return 0


def _history_starts(lines: Sequence[str], i: int) -> bool:
    """Whether line i opens the quoted original or a signature."""
    line = lines[i].strip()
    if _SEPARATOR.match(line) or _SIGNATURE.match(line) or _attribution_lines(lines, i):
        return True
    if not _FROM_LINE.match(line):
        return False
    unfolded = [following for following in lines[i + 1 : i + 40] if following[:1] not in " \t"]
    block = [following for following in unfolded[:5] if _HEADER_LINE.match(following)]
    return len(block) >= 2 and any(_TIME_LINE.match(following) for following in block)


def _new_text(full_text: str) -> str:
    """What the sender wrote new: full_text without the quoted history and the signature."""
    lines = full_text.split("\n")
    start = 0
    while start < len(lines) and not lines[start].strip():
        start += 1
    # Bottom-posting: an attribution and a '>' block first, the new words below it.
    if start < len(lines) and not lines[start].startswith(">"):
        after = start + _attribution_lines(lines, start)
        rest = [line for line in lines[after : after + 2] if line.strip()]
        if after > start and rest and rest[0].startswith(">"):
            start = after
    while start < len(lines) and (lines[start].startswith(">") or not lines[start].strip()):
        start += 1
    kept: list[str] = []
    for i in range(start, len(lines)):
        if _history_starts(lines, i) or (lines[i].startswith(">") and any(kept)):
            break
        kept.append(lines[i])
    text = "\n".join(kept).strip("\n")
    return text if text.strip() else full_text


# --- automatic mail ---------------------------------------------------------------------------


def _classify(
    msg: Message, subject: str, from_name: str, from_spec: str, found: _Found
) -> tuple[str, str]:
    """("bounce" | "auto_reply" | "bulk" | "", the signal that decided it)."""
    top = _content_type(msg)
    report = _params(msg).get_param("report-type")
    # Each word, because "From: MAILER-DAEMON" has no domain and an Exchange bounce in the
    # php-imap fixtures sends `<sending_domain.tld postmaster@sending_domain.tld>`. (That address
    # itself stays unusable: guessing a word from it could send a reply to a stranger.)
    local = {word.split("@")[0].strip('"<>').lower() for word in from_spec.split()}
    # Some bounces carry the null sender in From itself (McAfee: "From: <>").
    null_sender = _raw(msg, "from").strip() == "<>" or any(
        v.strip() in ("<>", "") for v in _raw_values(msg, "return-path")
    )
    kind = report.strip().lower() if isinstance(report, str) else ""
    if top == "multipart/report" and kind in _NOT_BOUNCES:
        return "auto_reply", f"multipart/report; report-type={kind}"
    if top == "multipart/report":
        return "bounce", "multipart/report"
    if kind == "delivery-status":
        return "bounce", "report-type=delivery-status"
    if top == "message/delivery-status" or found.delivery_status:
        return "bounce", "message/delivery-status"
    if local & _BOUNCE_LOCALS:
        return "bounce", f"From: {from_spec.split('@')[0][:80]}"
    if from_name.lower() == "mail delivery subsystem":
        return "bounce", f"From: {from_name}"
    # "投递失败" alone is also what a customer writes about a parcel: only with the null sender.
    if null_sender and _BOUNCE_SUBJECT.search(subject):
        return "bounce", f"Return-Path: <> and Subject: {subject[:60]}"
    auto_submitted = _raw(msg, "auto-submitted").strip()
    if auto_submitted and auto_submitted.split("(")[0].strip().lower() != "no":
        return "auto_reply", f"Auto-Submitted: {auto_submitted}"
    for name in _AUTO_HEADERS:
        if _raw_values(msg, name):
            return "auto_reply", f"{name}: {_raw(msg, name).strip()[:80]}"
    precedence = _raw(msg, "precedence").strip().lower()
    if precedence in ("auto_reply", "auto-reply"):
        return "auto_reply", f"Precedence: {precedence}"
    if _AUTO_SUBJECT.match(subject):
        return "auto_reply", f"Subject: {subject[:60]}"
    if precedence in _BULK_PRECEDENCE:
        return "bulk", f"Precedence: {precedence}"
    for name in ("List-Id", "List-Unsubscribe"):
        if _raw_values(msg, name):
            return "bulk", f"{name}: {_raw(msg, name).strip()[:80]}"
    return "", ""
