"""Items listed in running text: joined by 、 in Chinese, by a comma and a space in English."""

from __future__ import annotations

from collections.abc import Iterable

from django.utils.translation import get_language


def series(items: Iterable[str]) -> str:
    language = get_language() or "zh-hans"
    return ("、" if language.startswith("zh") else ", ").join(items)
