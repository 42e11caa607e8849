"""Tokens for search: Chinese as overlapping character pairs, other text as lower-case words.

A run of Chinese characters 我要退款 becomes 我要 要退 退款 款: every pair, then the run's last
character alone. A query for 退款 is then the phrase of its pairs, which finds the text
wherever it occurs — word boundaries do not matter, as they would with a segmenter's words —
and a one-character query 退 is the prefix 退*, which matches a pair starting with 退 or the
run's last character. Full-width letters and digits are folded (NFKC) first.
"""

from __future__ import annotations

import re
import unicodedata

_CJK = (
    "\u3400-\u4dbf"  # extension A
    "\u4e00-\u9fff"  # unified ideographs
    "\uf900-\ufaff"  # compatibility ideographs
    "\u3040-\u30ff"  # kana
    "\uac00-\ud7af"  # hangul
)
# A run of CJK characters, or a run of other letters and digits (never mixing the two).
_RUN = re.compile(rf"([{_CJK}]+)|([^\W_{_CJK}]+)", re.UNICODE)


def _normalise(text: str) -> str:
    return unicodedata.normalize("NFKC", text).lower()


def _runs(text: str) -> list[tuple[bool, str]]:
    runs: list[tuple[bool, str]] = []
    for match in _RUN.finditer(_normalise(text)):
        cjk, word = match.group(1), match.group(2)
        if cjk:
            runs.append((True, cjk))
        elif word:
            runs.append((False, word))
    return runs


def _pairs(run: str) -> list[str]:
    return [run[i : i + 2] for i in range(len(run) - 1)]


def document_tokens(text: str) -> list[str]:
    tokens: list[str] = []
    for is_cjk, run in _runs(text):
        if is_cjk:
            tokens.extend(_pairs(run))
            tokens.append(run[-1])
        else:
            tokens.append(run)
    return tokens


def query_phrases(query: str) -> list[tuple[list[str], bool]]:
    """The query as phrases (each a token list, all required) and whether the last is a prefix.

    Each whitespace-separated term is one phrase. Inside a term a Chinese run that is followed
    by more text keeps its last character (the document has it there too); the term's final
    run does not, since in the document that run may go on.
    """
    phrases: list[tuple[list[str], bool]] = []
    for term in query.split():
        runs = _runs(term)
        tokens: list[str] = []
        prefix = False
        for index, (is_cjk, run) in enumerate(runs):
            last = index == len(runs) - 1
            if not is_cjk:
                tokens.append(run)
            elif len(run) == 1 and last:
                tokens.append(run)
                prefix = True
            else:
                tokens.extend(_pairs(run))
                if not last:
                    tokens.append(run[-1])
        if tokens:
            phrases.append((tokens, prefix))
    return phrases
