"""Emotion intensity — calm, upset, angry, threatening — from a small bilingual lexicon.

One input of the grade (issue: triage). A word preceded closely by a negation (不, 没有,
并不, not, never, don't …) does not count: 并不生气 and "not angry" are calm. Three or more
exclamation marks raise the level by one step, up to angry: shouting is not a threat.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from kesu.complaints.models import Emotion
from kesu.triage.text import Folded, compile_keywords

LEVELS = [Emotion.CALM, Emotion.UPSET, Emotion.ANGRY, Emotion.THREATENING]

LEXICON: dict[Emotion, list[str]] = {
    Emotion.UPSET: [
        "不满", "失望", "生气", "郁闷", "无语", "糟糕", "差劲", "太差", "不爽", "后悔", "难受",
        "委屈", "无奈", "闹心", "窝火", "着急", "心寒", "寒心",
        "disappointed", "unhappy", "frustrated", "frustrating", "annoyed", "upset",
        "unacceptable", "dissatisfied", "not happy",
    ],
    Emotion.ANGRY: [
        "愤怒", "气愤", "恼火", "太过分", "欺骗", "骗子", "垃圾", "恶心", "无耻", "黑心",
        "忍无可忍", "火大", "强烈不满", "岂有此理", "奸商", "坑人", "气死", "欺人太甚",
        "什么破", "太离谱", "流氓",
        "angry", "furious", "outraged", "outrageous", "disgusting", "ridiculous", "scam",
        "cheated", "terrible", "worst", "rip off", "ripped off", "livid", "fed up", "appalled",
    ],
    Emotion.THREATENING: [
        "再不解决", "再不处理", "再不给", "否则", "不然我", "走着瞧", "后果自负", "等着瞧",
        "要你们好看", "投诉到底", "奉陪到底", "死磕", "别怪我", "给个说法", "讨个说法",
        "or else", "otherwise i will", "last chance", "final warning", "you will regret",
        "i will take this further", "i will escalate",
    ],
}  # fmt: skip

_NEGATORS_ZH = ("不", "没", "没有", "并不", "并没有", "不是", "毫不", "未")
_NEGATORS_EN = frozenset({"not", "no", "never", "dont", "don", "isnt", "wasnt", "t", "nor"})
_MATCHERS = {level: compile_keywords(words) for level, words in LEXICON.items()}
_EXCLAIM = re.compile(r"[!！]")


@dataclass(frozen=True)
class EmotionReading:
    level: Emotion
    words: tuple[str, ...]


def _negated(text: Folded, word: str) -> bool:
    if word.isascii():
        at = text.spaced.find(f" {word} ")
        before = text.spaced[:at].split()[-3:] if at >= 0 else []
        return any(w in _NEGATORS_EN for w in before)
    at = text.compact.find(word)
    preceding = text.compact[max(0, at - 3) : at] if at >= 0 else ""
    # 不满 is itself the word; only what stands before it may negate it.
    return any(preceding.endswith(n) for n in _NEGATORS_ZH)


def read_emotion(text: Folded) -> EmotionReading:
    """The strongest emotion the text shows, and the words that show it."""
    level_index = 0
    words: list[str] = []
    for index, level in enumerate(LEVELS[1:], start=1):
        found = [w for w in _MATCHERS[level].find(text) if not _negated(text, w)]
        if found:
            level_index = index
            words = found
    if len(_EXCLAIM.findall(text.folded)) >= 3:
        angry = LEVELS.index(Emotion.ANGRY)
        if level_index < angry:
            level_index += 1
            words.append("!!!")
    return EmotionReading(LEVELS[level_index], tuple(words))
