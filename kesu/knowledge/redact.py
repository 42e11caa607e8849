"""Removing a customer's personal data from text that becomes a shared case (DESIGN: personal data).

What is replaced, in this order (each step must not leave a part of its match to the next):
email addresses 〔邮箱〕; 18-character ID card numbers 〔证件号〕; mainland mobiles and landlines,
and numbers written after 电话 / 手机 / tel 〔电话〕; the complaint's order number, then street
addresses 〔地址〕 (Chinese: areas … road + number, building, room; English: "12 Main Street");
then any remaining run of 8 or more letters and digits holding 6 digits or more 〔订单号〕; last
the customer's name and, for a Chinese name, the surname with a form of address (刘女士,
刘先生) 〔客户〕. Detection of addresses is pragmatic: a road or housing estate must come with a
number or with the city and district before it.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass

CUSTOMER = "〔客户〕"
PHONE = "〔电话〕"
EMAIL = "〔邮箱〕"
ID_CARD = "〔证件号〕"
ORDER = "〔订单号〕"
ADDRESS = "〔地址〕"

_EMAIL = re.compile(r"[A-Za-z0-9._%+-]+@[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)+")
# Six-digit area, birth date, sequence, check digit (X for ten).
_ID_CARD = re.compile(r"(?<![A-Za-z0-9])\d{17}[\dXx](?![A-Za-z0-9])")
_MOBILE = re.compile(r"(?<![\d+])(?:(?:\+|00)?86[\s-]?)?1[3-9]\d[\s-]?\d{4}[\s-]?\d{4}(?!\d)")
_LANDLINE = re.compile(
    r"(?<!\d)(?:\(0\d{2,3}\)|（0\d{2,3}）|0\d{2,3})[\s-]?\d{7,8}(?:[\s-]?(?:转|ext\.?)\s*\d{1,5})?"
    r"(?!\d)"
)
_SAID_PHONE = re.compile(
    r"((?:电话|手机|座机|联系方式|tel|phone)\s*(?:号码|号)?\s*(?:是|为)?\s*[:：]?\s*)"
    r"\+?\d[\d-]{5,16}\d",
    re.IGNORECASE,
)
_LONG_RUN = re.compile(r"(?<![A-Za-z0-9])[A-Za-z0-9][A-Za-z0-9-]{6,}[A-Za-z0-9](?![A-Za-z0-9])")
_DATE = re.compile(r"\d{4}-\d{1,2}-\d{1,2}")

# Chinese addresses. A segment is a run of Chinese characters or Latin letters that does not
# start with a word that leads into an address (我住在, 寄到, 地址是 …), so that those stay.
_LEAD = "在住是到从寄送的我你他她于址为往去来了和与及或把被给向至"
_SEG = rf"(?:(?![{_LEAD}])[\u4e00-\u9fffA-Za-z])"
_AREA = rf"(?:{_SEG}{{2,8}}?(?:省|自治区|市|区|县|旗|镇|乡|街道|村))"
_ROAD = rf"(?:{_SEG}{{1,10}}?(?:大道|大街|路|街|巷|弄|胡同))"
_NUMBER = r"(?:\s*\d+\s*(?:号院|号|弄|巷))"
_ESTATE = rf"(?:{_SEG}{{1,10}}?(?:小区|花园|公寓|大厦|家园|新村|广场|苑))"
_UNIT = r"(?:\s*[A-Za-z]?\d+\s*(?:号楼|栋|幢|座|单元|层|楼|室|号|户))"
# After the road or estate: a building's name before its units (SOHO现代城3号楼1201室), and a
# bare room number at the end (2单元301).
_TAIL = rf"(?:{_SEG}{{0,12}}?{_UNIT})*(?:-?\d{{3,4}}(?!\d))?"
_CN_ADDRESS = re.compile(
    rf"(?P<area>{_AREA}*)(?P<place>{_ROAD}{_NUMBER}?{_ESTATE}?|{_ESTATE}){_TAIL}"
)
_EN_ADDRESS = re.compile(
    r"\b\d{1,5}\s+(?:[A-Z][A-Za-z]+\s+){1,3}"
    r"(?:Street|St|Road|Rd|Avenue|Ave|Lane|Ln|Drive|Dr|Boulevard|Blvd|Way|Court|Ct|Place|Pl)\b"
    r"\.?(?:,?\s*(?:Apt|Apartment|Suite|Unit|Flat)\.?\s*[A-Za-z0-9-]+)?"
)
# Forms of address for a customer; not 经理, 总, 师傅 or 老师, which more often name staff.
_HONORIFICS = "女士|小姐|先生|太太|夫人|阿姨|大爷|大妈|姐|哥"
_COMPOUND_SURNAMES = frozenset({
    "欧阳", "司马", "上官", "诸葛", "东方", "皇甫", "尉迟", "公孙", "慕容", "长孙", "宇文", "司徒",
    "夏侯", "令狐", "端木",
})  # fmt: skip
_CHINESE_NAME = re.compile(r"[\u4e00-\u9fff]{2,4}")


@dataclass(frozen=True)
class Known:
    """What we know about this customer and complaint, removed wherever it appears."""

    name: str = ""
    phones: tuple[str, ...] = ()
    emails: tuple[str, ...] = ()
    order_refs: tuple[str, ...] = ()


def _literal(values: Iterable[str]) -> re.Pattern[str] | None:
    # Shorter values (an order "X1") would also hit ordinary words.
    words = sorted({v.strip() for v in values if len(v.strip()) >= 4}, key=len, reverse=True)
    if not words:
        return None
    return re.compile("|".join(re.escape(w) for w in words), re.IGNORECASE)


def _sub(pattern: re.Pattern[str] | None, placeholder: str, text: str) -> str:
    return pattern.sub(placeholder, text) if pattern is not None else text


def _address(match: re.Match[str]) -> str:
    # A road or estate alone (一路顺风, 这条街) is not an address: it needs a number, or the
    # areas before it.
    text = match.group(0)
    if any(ch.isdigit() for ch in text) or match.group("area"):
        return ADDRESS
    return text


def _long_run(match: re.Match[str]) -> str:
    # Order, waybill and account numbers; a date (2026-05-01) or a model (iPhone15) stays.
    text = match.group(0)
    if sum(ch.isdigit() for ch in text) < 6 or _DATE.fullmatch(text):
        return text
    return ORDER


def _surname(name: str) -> str:
    base = re.sub(f"(?:{_HONORIFICS})$", "", name)
    if len(base) >= 3 and base[:2] in _COMPOUND_SURNAMES:
        return base[:2]
    return base[:1]


def _name_patterns(name: str) -> list[re.Pattern[str]]:
    name = name.strip()
    if len(name) < 2:
        return []
    patterns = [re.compile(re.escape(name), re.IGNORECASE)]
    if _CHINESE_NAME.fullmatch(name):
        patterns.append(re.compile(f"{re.escape(_surname(name))}(?:{_HONORIFICS})"))
    else:
        # A Latin name: each part of it as a whole word (Mr Smith, Dear John).
        for part in name.split():
            if len(part) >= 3:
                patterns.append(re.compile(rf"\b{re.escape(part)}\b", re.IGNORECASE))
    return patterns


def redact(text: str, known: Known) -> str:
    """The text with the customer's personal data replaced by placeholders."""
    if not text:
        return text
    text = _sub(_literal(known.emails), EMAIL, text)
    text = _EMAIL.sub(EMAIL, text)
    text = _ID_CARD.sub(ID_CARD, text)
    text = _sub(_literal(known.phones), PHONE, text)
    text = _MOBILE.sub(PHONE, text)
    text = _LANDLINE.sub(PHONE, text)
    text = _SAID_PHONE.sub(lambda m: m.group(1) + PHONE, text)
    text = _sub(_literal(known.order_refs), ORDER, text)
    text = _CN_ADDRESS.sub(_address, text)
    text = _EN_ADDRESS.sub(ADDRESS, text)
    text = _LONG_RUN.sub(_long_run, text)
    for pattern in _name_patterns(known.name):
        text = pattern.sub(CUSTOMER, text)
    return text
