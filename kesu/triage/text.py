"""Folding text so that keywords survive real-world writing (issue: triage, risk signals).

Customers write １２３１５ in full width, 媒 体 with a space, 媒-體 in traditional characters
and mix in English ("找lawyer"). `fold()` undoes the first three: NFKC turns full-width
letters and digits into ASCII, everything is lower case, and traditional characters become
simplified ones, character by character, with OpenCC's table. Two views of the folded text
are matched:

* compact — only letters and digits, so punctuation and spaces inside a Chinese word vanish;
  Chinese keywords and numbers (12315) are looked for here, numbers only where no other digit
  touches them (12315 inside a phone number 13812315678 is not a hotline);
* spaced — every run of other characters becomes one space; English keywords are looked for
  here as whole words, bounded by anything that is not an ASCII letter (找lawyer matches,
  "issue" does not match "sue").
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from functools import cache
from importlib import resources

from django.utils.translation import gettext as _


@cache
def _traditional_to_simplified() -> dict[int, str]:
    table: dict[int, str] = {}
    source = resources.files("opencc") / "dictionary" / "TSCharacters.txt"
    for line in source.read_text(encoding="utf-8").splitlines():
        traditional, _tab, simplified = line.partition("\t")
        first = simplified.split(" ")[0]
        if len(traditional) == 1 and len(first) == 1 and first != traditional:
            table[ord(traditional)] = first
    return table


def fold(text: str) -> str:
    """NFKC, lower case, simplified characters; spacing and punctuation are kept."""
    return unicodedata.normalize("NFKC", text).lower().translate(_traditional_to_simplified())


_NOT_WORD = re.compile(r"[\W_]+", re.UNICODE)
_ASCII_LETTER = re.compile(r"[a-z]")


def compact(folded: str) -> str:
    return _NOT_WORD.sub("", folded)


def spaced(folded: str) -> str:
    return " " + _NOT_WORD.sub(" ", folded).strip() + " "


@dataclass(frozen=True)
class Folded:
    """One text in the three forms the matchers read."""

    folded: str
    compact: str
    spaced: str

    @classmethod
    def of(cls, text: str) -> Folded:
        folded = fold(text)
        return cls(folded, compact(folded), spaced(folded))


@dataclass(frozen=True)
class KeywordMatcher:
    """Keywords compiled once; `find()` names the keywords a text contains."""

    compact_re: re.Pattern[str] | None
    spaced_re: re.Pattern[str] | None

    def find(self, text: Folded) -> list[str]:
        found: list[str] = []
        if self.compact_re is not None:
            found += _matches(self.compact_re, text.compact, _runs_on_digits)
        if self.spaced_re is not None:
            found += _matches(self.spaced_re, text.spaced, _runs_on_letters)
        return list(dict.fromkeys(found))


def _matches(
    regex: re.Pattern[str], haystack: str, runs_on: Callable[[str, str], bool]
) -> list[str]:
    """Every match, skipping one that `runs_on` from the character before it.

    That check is here rather than a look-behind in each alternative of the regex: a
    look-behind at the front keeps `re` from skipping ahead to the alternatives' first
    characters, which made matching several times slower on long texts.
    """
    found = []
    position = 0
    while (match := regex.search(haystack, position)) is not None:
        start = match.start()
        word = match.group(0)
        if start and runs_on(haystack[start - 1], word[0]):
            position = start + 1
            continue
        found.append(word.strip())
        position = match.end()
    return found


def _runs_on_digits(before: str, first: str) -> bool:
    # Digits must not run on into other digits: 12315 is not part of 13812315678.
    return first.isdecimal() and before.isdecimal()


def _runs_on_letters(before: str, first: str) -> bool:
    # English words are whole words: "issue" does not contain "sue"; 找lawyer does.
    return "a" <= before <= "z"


def _bounded(keyword: str) -> str:
    # The front boundary is checked by _matches(); only the back one is in the regex.
    tail = r"(?!\d)" if keyword[-1].isdigit() else ""
    return re.escape(keyword) + tail


def compile_keywords(keywords: Iterable[str]) -> KeywordMatcher:
    """Fold each keyword as texts are folded and build the two alternations."""
    cjk: set[str] = set()
    english: set[str] = set()
    for raw in keywords:
        folded = fold(raw.strip())
        if not folded:
            continue
        if _ASCII_LETTER.search(folded):
            words = spaced(folded).strip()
            if words:
                english.add(words)
        else:
            word = compact(folded)
            if word:
                cjk.add(word)
    # Longest first so that 市场监管局 wins over 市场监管 in the reasons.
    compact_re = (
        re.compile("|".join(_bounded(k) for k in sorted(cjk, key=len, reverse=True)))
        if cjk
        else None
    )
    spaced_re = (
        re.compile(
            "|".join(re.escape(k) + r"(?![a-z])" for k in sorted(english, key=len, reverse=True))
        )
        if english
        else None
    )
    return KeywordMatcher(compact_re, spaced_re)


def compile_pattern(pattern: str) -> re.Pattern[str]:
    """An administrator's regular expression, or ValueError saying what is wrong with it."""
    try:
        return re.compile(fold(pattern))
    except re.error as error:
        raise ValueError(
            _("Not a valid regular expression: %(error)s.") % {"error": str(error)}
        ) from None


def split_keywords(text: str) -> list[str]:
    """Keywords as an administrator types them: one per line (commas and 、 also separate)."""
    return [k.strip() for k in re.split(r"[\n,，、;；]+", text) if k.strip()]
