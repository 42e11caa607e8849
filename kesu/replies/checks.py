"""Checks on a reply before it reaches the customer (DOMAIN §5: forbidden phrases, CLEAR).

`check_reply()` returns findings with character offsets into the text as written, so that the
composer can underline them and the API can point at them:

* phrase rules (database rows): forbidden phrases (禁语), blaming the customer, and vague
  promises (尽快, 改天, ASAP …) — the last only when the reply names no concrete date;
* a first reply without an apology or a word of understanding, or without the reference
  number (CLEAR: Calm, Listen, Empathy, Apologize, Resolve);
* personal data of other people: a mobile number that is not the recipient's, an ID card number.

Phrases are matched on folded text — full-width forms, traditional characters, spaces and
punctuation do not hide them — allowing one edit in phrases of five to nine characters and two
in longer ones, so that 规定就是这样的 also finds 规定就这样的 and 规定就是这样.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from typing import Any

from django.utils.translation import gettext as _

from kesu.triage.text import fold


@dataclass(frozen=True)
class Finding:
    rule: str  # forbidden_phrase, blames_customer, vague_promise, no_apology, no_reference,
    #            other_customer_phone, id_number
    severity: str  # warn | block
    start: int
    end: int
    message: str
    suggestion: str

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass(frozen=True)
class Phrase:
    """A compiled phrase rule: its folded form and how many edits a match may have."""

    kind: str
    phrase: str
    folded: str
    severity: str
    suggestion: str

    @property
    def edits(self) -> int:
        size = len(self.folded)
        return 0 if size <= 4 else 1 if size <= 9 else 2


def compact(text: str) -> tuple[str, list[int]]:
    """The text folded to letters, digits and CJK characters, with each one's offset.

    Spaces and punctuation vanish between Chinese characters (媒 体 is 媒体) but become one
    space between two Latin letters or digits, so that English words keep their edges.
    """
    chars: list[str] = []
    offsets: list[int] = []
    gap_at: int | None = None
    for index, ch in enumerate(text):
        for folded in fold(ch):
            if folded.isalnum():
                if gap_at is not None and chars and chars[-1].isascii() and folded.isascii():
                    chars.append(" ")
                    offsets.append(gap_at)
                gap_at = None
                chars.append(folded)
                offsets.append(index)
            elif gap_at is None:
                gap_at = index
    return "".join(chars), offsets


def compile_phrase(kind: str, phrase: str, severity: str, suggestion: str) -> Phrase:
    return Phrase(kind, phrase, compact(phrase)[0], severity, suggestion)


def _bigrams(text: str) -> set[str]:
    return {text[i : i + 2] for i in range(len(text) - 1)}


def approximate(pattern: str, text: str, edits: int) -> list[tuple[int, int, int]]:
    """Where `pattern` occurs in `text` with at most `edits` edits: (start, end, distance).

    Sellers' dynamic programme (edit distance with a free start in the text), each cell
    remembering where its alignment began; overlapping matches keep the closest one.
    """
    m, n = len(pattern), len(text)
    if m == 0 or n == 0:
        return []
    if edits == 0:
        found, at = [], text.find(pattern)
        while at >= 0:
            found.append((at, at + m, 0))
            at = text.find(pattern, at + m)
        return found
    previous = [0] * (n + 1)
    previous_start = list(range(n + 1))
    for i in range(1, m + 1):
        current = [i] + [0] * n
        current_start = [0] * (n + 1)
        p = pattern[i - 1]
        for j in range(1, n + 1):
            best = previous[j - 1] + (p != text[j - 1])
            start = previous_start[j - 1]
            if previous[j] + 1 < best:  # the pattern's character is missing from the text
                best, start = previous[j] + 1, previous_start[j]
            if current[j - 1] + 1 < best:  # the text has an extra character
                best, start = current[j - 1] + 1, current_start[j - 1]
            current[j], current_start[j] = best, start
        previous, previous_start = current, current_start
    candidates = [(previous_start[j], j, previous[j]) for j in range(1, n + 1)
                  if previous[j] <= edits]  # fmt: skip
    chosen: list[tuple[int, int, int]] = []
    for start, end, distance in sorted(candidates, key=lambda c: (c[2], c[0] - c[1])):
        if all(end <= s or start >= e for s, e, _d in chosen):
            chosen.append((start, end, distance))
    return sorted(chosen)


def _find(phrase: Phrase, text: str, grams: set[str]) -> list[tuple[int, int]]:
    if not phrase.folded:
        return []
    edits = phrase.edits
    if edits:
        # A match with k edits keeps at least (m − 1) − 2k of the phrase's character pairs.
        needed = len(phrase.folded) - 1 - 2 * edits
        if needed > 0 and len(_bigrams(phrase.folded) & grams) < needed:
            return []
    found = [(s, e) for s, e, _d in approximate(phrase.folded, text, edits)]
    if phrase.folded.isascii():
        # English words are whole words: "asap" is not in "as approach".
        found = [(s, e) for s, e in found if not _runs_on(text, s - 1) and not _runs_on(text, e)]
    return found


def _runs_on(text: str, at: int) -> bool:
    return 0 <= at < len(text) and text[at].isascii() and text[at].isalnum()


# --- Concrete dates, apologies, personal data ----------------------------------------------------

_DATE = re.compile(
    r"\d{1,4}\s*[年/.-]\s*\d{1,2}\s*[月/.-]\s*\d{1,2}|\d{1,2}\s*月\s*\d{1,2}\s*[日号]"
    r"|\d{1,2}\s*[日号]\s*(?:前|之前|以前|内)|\d+\s*(?:个)?(?:工作日|小时|天|日)\s*(?:内|之内|以内)"
    r"|[今明后]天|周[一二三四五六日天]|星期[一二三四五六日天]|\d{1,2}\s*[:：点]\s*\d{0,2}"
    r"|\b(?:today|tomorrow|monday|tuesday|wednesday|thursday|friday|saturday|sunday)\b"
    r"|\b(?:jan|feb|mar|apr|may|jun|jul|aug|sep|sept|oct|nov|dec)[a-z]*\.?\s+\d{1,2}\b"
    r"|\bwithin\s+\d+\s+(?:hours?|days?|working days?|business days?)\b"
    r"|\bby\s+\d{1,2}(?::\d{2})?\s*(?:am|pm)\b|\b\d{1,2}/\d{1,2}\b",
    re.IGNORECASE,
)
APOLOGY = {
    "zh": ("抱歉", "对不起", "道歉", "歉意", "不好意思", "理解您", "体谅", "给您带来", "不便",
           "让您久等", "让您失望", "感谢您的耐心", "非常理解"),
    "en": ("sorry", "apolog", "regret", "understand", "inconvenience", "frustrat"),
}  # fmt: skip
# Suggested openings, in the reply's own language (content, not interface text).
OPENING = {
    "zh": "非常抱歉给您带来不便，我们理解您的心情。",
    "en": "We are sorry for the trouble this has caused you, and we understand your frustration.",
}
_MOBILE = re.compile(r"(?<![\d])(?:\+?\s*86[\s-]*)?(1[3-9]\d(?:[\s-]*\d){8})(?![\d])")
_ID_CARD = re.compile(r"(?<![0-9A-Za-z])([1-9]\d{5}(?:19|20)\d{2}(?:0[1-9]|1[0-2])\d{2}\d{3}[\dXx])"
                      r"(?![0-9A-Za-z])")  # fmt: skip


def _digits(text: str) -> str:
    return re.sub(r"\D", "", text)


# --- The check ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class Recipient:
    """What a check knows of the complaint the reply is for."""

    reference: str
    phone: str  # E.164 or empty
    first_reply: bool


def check_reply(
    text: str, *, language: str, phrases: Sequence[Phrase], recipient: Recipient | None = None
) -> list[Finding]:
    """Every finding in a reply, in the order of the text (offsets are into `text`)."""
    findings: list[Finding] = []
    folded, offsets = compact(text)
    grams = _bigrams(folded)
    dated = _DATE.search(fold(text)) is not None
    for phrase in phrases:
        if phrase.kind == "vague" and dated:
            continue  # a vague word beside a real date is not a vague promise
        for start, end in _find(phrase, folded, grams):
            findings.append(_phrase_finding(phrase, offsets[start], offsets[end - 1] + 1))
    findings += _personal_data(text, recipient)
    if recipient is not None and recipient.first_reply:
        findings += _clear(text, language, recipient)
    return sorted(findings, key=lambda f: (f.start, f.end, f.rule))


def _phrase_finding(phrase: Phrase, start: int, end: int) -> Finding:
    rule, message = {
        "forbidden": ("forbidden_phrase", _("A phrase not to use with customers (禁语): %(p)s.")),
        "blame": ("blames_customer", _("This blames the customer: %(p)s.")),
        "vague": ("vague_promise", _("A promise without a date: %(p)s. Say when.")),
    }[phrase.kind]
    return Finding(rule, phrase.severity, start, end, message % {"p": phrase.phrase},
                   phrase.suggestion)  # fmt: skip


def _personal_data(text: str, recipient: Recipient | None) -> list[Finding]:
    own = _digits(recipient.phone)[-11:] if recipient is not None and recipient.phone else ""
    found = []
    for match in _MOBILE.finditer(text):
        if _digits(match.group(1)) != own:
            found.append(Finding(
                "other_customer_phone", "block", match.start(), match.end(),
                _("A mobile number that is not this customer's: another person's data."),
                _("Remove it, or give only the last four digits."),
            ))  # fmt: skip
    for match in _ID_CARD.finditer(text):
        found.append(Finding(
            "id_number", "block", match.start(1), match.end(1),
            _("An ID card number: a reply never carries one."),
            _("Remove it; refer to the customer's record instead."),
        ))  # fmt: skip
    return found


def _clear(text: str, language: str, recipient: Recipient) -> list[Finding]:
    found = []
    lowered = fold(text)
    words = APOLOGY.get(language, APOLOGY["zh"])
    if not any(word in lowered for word in words):
        found.append(Finding(
            "no_apology", "warn", 0, 0,
            _("A first reply begins with an apology or a word of understanding (CLEAR)."),
            OPENING.get(language, OPENING["zh"]),
        ))  # fmt: skip
    if recipient.reference and recipient.reference.lower() not in lowered:
        found.append(Finding(
            "no_reference", "warn", 0, 0,
            _("Give the reference number, so that the customer can follow the complaint."),
            recipient.reference,
        ))  # fmt: skip
    return found
