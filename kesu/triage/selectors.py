"""Triage's configuration as each process reads it: taxonomy, compiled rules, scoring.

Loaded once and kept for `TTL` seconds, so intake does not read a dozen rows per complaint;
a change saved in this process is seen at once (signals in apps.py call `forget()`), one saved
in another process within `TTL`.
"""

from __future__ import annotations

import re
import time
from dataclasses import dataclass
from threading import Lock

from django.utils.translation import get_language

from kesu.triage.models import Category, Rule, Scoring
from kesu.triage.text import Folded, KeywordMatcher, compile_keywords, compile_pattern
from kesu.triage.text import split_keywords as _split

TTL = 30.0


@dataclass(frozen=True)
class Node:
    code: str
    parent: str  # "" for a nature
    name_zh: str
    name_en: str
    points: int
    is_active: bool

    @property
    def label(self) -> str:
        return self.name_en if (get_language() or "").startswith("en") else self.name_zh


@dataclass(frozen=True)
class Taxonomy:
    nodes: dict[str, Node]  # in display order: natures, each followed by its categories

    def label(self, code: str) -> str:
        node = self.nodes.get(code)
        return node.label if node is not None else code

    def nature_of(self, category: str) -> str:
        node = self.nodes.get(category)
        return node.parent if node is not None else ""

    def is_nature(self, code: str) -> bool:
        """An active nature: one that may be given to a complaint now."""
        node = self.nodes.get(code)
        return node is not None and not node.parent and node.is_active

    def is_category(self, code: str) -> bool:
        """An active category (under an active nature): one that may be given now."""
        node = self.nodes.get(code)
        return node is not None and bool(node.parent) and node.is_active

    def nature_choices(self) -> list[tuple[str, str]]:
        return [(n.code, n.label) for n in self.nodes.values() if not n.parent and n.is_active]

    def category_choices(self) -> list[tuple[str, list[tuple[str, str]]]]:
        """Categories grouped under their nature, for a <select> with <optgroup>s."""
        groups: list[tuple[str, list[tuple[str, str]]]] = []
        for nature in self.nodes.values():
            if nature.parent or not nature.is_active:
                continue
            children = [
                (n.code, n.label)
                for n in self.nodes.values()
                if n.parent == nature.code and n.is_active
            ]
            if children:
                groups.append((nature.label, children))
        return groups


@dataclass(frozen=True)
class CompiledRule:
    id: int
    name: str
    keywords: KeywordMatcher | None
    pattern: re.Pattern[str] | None
    category: str
    flag: str
    grade_floor: str

    def evidence(self, text: Folded) -> list[str]:
        """What in the text made the rule match (empty: it does not match)."""
        found = self.keywords.find(text) if self.keywords is not None else []
        if self.pattern is not None:
            match = self.pattern.search(text.folded)
            if match:
                found.append(match.group(0))
        return found


@dataclass(frozen=True)
class Setup:
    taxonomy: Taxonomy
    rules: tuple[CompiledRule, ...]
    scoring: Scoring


_lock = Lock()
_cached: tuple[float, Setup] | None = None


def _load() -> Setup:
    natures = list(Category.objects.filter(parent=None).order_by("position", "code"))
    children = list(Category.objects.exclude(parent=None).order_by("position", "code"))
    nodes: dict[str, Node] = {}
    for nature in natures:
        nodes[nature.code] = Node(
            nature.code, "", nature.name_zh, nature.name_en, nature.points, nature.is_active
        )
        for child in children:
            if child.parent_id == nature.pk:
                nodes[child.code] = Node(
                    child.code,
                    nature.code,
                    child.name_zh,
                    child.name_en,
                    child.points,
                    child.is_active and nature.is_active,
                )
    rules = []
    for rule in Rule.objects.filter(is_active=True).select_related("category"):
        words = _split(rule.keywords)
        try:
            pattern = compile_pattern(rule.pattern) if rule.pattern else None
        except ValueError:
            pattern = None  # refused when saved through the admin; never let one row stop intake
        rules.append(
            CompiledRule(
                rule.pk,
                rule.name,
                compile_keywords(words) if words else None,
                pattern,
                rule.category.code if rule.category is not None else "",
                rule.flag,
                rule.grade_floor,
            )
        )
    scoring = Scoring.objects.order_by("pk").first() or Scoring()
    return Setup(Taxonomy(nodes), tuple(rules), scoring)


def current() -> Setup:
    """The configuration triage uses now (at most TTL seconds old)."""
    global _cached
    cached = _cached
    if cached is not None and time.monotonic() - cached[0] < TTL:
        return cached[1]
    with _lock:
        setup = _load()
        _cached = (time.monotonic(), setup)
    return setup


def forget(**_kwargs: object) -> None:
    """Drop the cached configuration (after a change, and between tests)."""
    global _cached
    _cached = None


def taxonomy() -> Taxonomy:
    return current().taxonomy
