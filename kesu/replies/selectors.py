"""Reply rules and templates as the composer and the checks read them (cached per process)."""

from __future__ import annotations

import time
from collections.abc import Sequence
from threading import Lock

from django.db.models import Q

from kesu.replies.checks import Phrase, compile_phrase
from kesu.replies.models import PhraseRule, ReplyTemplate

TTL = 30.0
_lock = Lock()
_cached: tuple[float, dict[str, tuple[Phrase, ...]]] | None = None


def phrases(language: str) -> Sequence[Phrase]:
    """The active phrase rules of a language, compiled (a change shows within TTL seconds)."""
    global _cached
    cached = _cached
    if cached is None or time.monotonic() - cached[0] >= TTL:
        with _lock:
            compiled: dict[str, list[Phrase]] = {}
            for rule in PhraseRule.objects.filter(is_active=True):
                compiled.setdefault(rule.language, []).append(
                    compile_phrase(rule.kind, rule.phrase, rule.severity, rule.suggestion)
                )
            cached = _cached = (time.monotonic(), {k: tuple(v) for k, v in compiled.items()})
    return cached[1].get(language, ())


def forget(**_kwargs: object) -> None:
    global _cached
    _cached = None


def templates_for(*, category: str, language: str) -> list[ReplyTemplate]:
    """Active templates for this category (or any), in this language, in their order."""
    return list(
        ReplyTemplate.objects.filter(is_active=True, language=language)
        .filter(Q(category="") | Q(category=category))
        .order_by("position", "name")
    )
