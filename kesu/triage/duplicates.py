"""Duplicate candidates: the same customer's other complaints with similar text (issue: triage).

Within 30 days of the complaint, the customer's other complaints are compared by TF-IDF
cosine over character 1–2-grams of the folded text (subject and description), so that the
same story retold in other words still scores high; those at or above the configured
similarity are offered for merging on the case page. Computed when the page is shown: a
customer has few complaints, and the answer is always current.
"""

from __future__ import annotations

import math
import re
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import timedelta

from django.db.models import QuerySet
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.metrics.pairwise import cosine_similarity

from kesu.complaints.models import Closure, Complaint
from kesu.triage.selectors import current
from kesu.triage.text import fold

WINDOW = timedelta(days=30)


@dataclass(frozen=True)
class Candidate:
    complaint: Complaint
    similarity: float

    @property
    def percent(self) -> int:
        return round(self.similarity * 100)


def _text(complaint: Complaint) -> str:
    return fold(f"{complaint.subject}\n{complaint.description}")


def similarities(text: str, others: Sequence[str]) -> list[float]:
    """Cosine similarity (0–1) of `text` to each of `others`, over character 1–2-grams.

    Texts must be folded (kesu.triage.text.fold). Fitted on just these texts: a customer's
    few complaints, so that what they share with each other, not with everyone, counts.
    """
    if not others:
        return []
    vectorizer = TfidfVectorizer(analyzer="char_wb", ngram_range=(1, 2), sublinear_tf=True)
    try:
        matrix = vectorizer.fit_transform([text, *others])
    except ValueError:  # nothing but blanks: no vocabulary
        return [0.0] * len(others)
    return [float(score) for score in cosine_similarity(matrix[0], matrix[1:])[0]]


# Words that say nothing about which grievance it is (the letters of a sentence, not its facts).
_ZH_FILLER = frozenset("的了我你他她它在是就都也还说要有和让被把一个这那吗呢啊吧么呀哦嗯")
_EN_FILLER = frozenset(
    re.split(
        r"\s+",
        "a an the i me my we our you your it its is are was were be been to of and or in on at "
        "for with from by after before that this but not no have has had they them their",
    )
)
_TOKEN = re.compile(r"[\u3400-\u9fff]|[a-z0-9]+")
_LONG_NUMBER = re.compile(r"\d{6,}")


def _grievance_tokens(folded: str) -> Counter[str]:
    tokens: Counter[str] = Counter()
    for token in _TOKEN.findall(folded.lower()):
        if token in _ZH_FILLER or token in _EN_FILLER:
            continue
        tokens[token[:-1] if len(token) > 3 and token.endswith("s") else token] += 1
    return tokens


def same_grievance(a: str, b: str) -> float:
    """How surely two folded texts tell the same grievance (0–1), for joining repeats.

    Cosine over Chinese characters and other words, filler left out: a retelling keeps the
    facts' characters (羽绒服, 破洞, 客服, 退款) whatever words surround them, where character
    pairs or a segmenter's words split differently each time. Two texts naming different long
    numbers (order, policy or card numbers) and none in common are different grievances.
    On the pairs in tests/intake/test_repeats.py retellings score 0.45–0.77 and different
    grievances of the same customer 0.00–0.42.
    """
    numbers_a, numbers_b = set(_LONG_NUMBER.findall(a)), set(_LONG_NUMBER.findall(b))
    if numbers_a and numbers_b and not numbers_a & numbers_b:
        return 0.0
    ta, tb = _grievance_tokens(a), _grievance_tokens(b)
    dot = sum(count * tb[token] for token, count in ta.items())
    norm = math.sqrt(sum(v * v for v in ta.values())) * math.sqrt(sum(v * v for v in tb.values()))
    return dot / norm if norm else 0.0


def duplicate_candidates(
    complaint: Complaint, visible: QuerySet[Complaint], *, limit: int = 5
) -> list[Candidate]:
    """The customer's similar complaints that the reader may see, most similar first."""
    others = list(
        visible.filter(
            customer_id=complaint.customer_id,
            received_at__gte=complaint.received_at - WINDOW,
            received_at__lte=complaint.received_at + WINDOW,
        )
        .exclude(pk=complaint.pk)
        .exclude(closure=Closure.DUPLICATE)
        .order_by("-received_at")[:50]
    )
    if not others:
        return []
    scores = similarities(_text(complaint), [_text(o) for o in others])
    threshold = current().scoring.duplicate_similarity
    found = [
        Candidate(other, float(score))
        for other, score in zip(others, scores, strict=True)
        if score >= threshold
    ]
    found.sort(key=lambda c: -c.similarity)
    return found[:limit]
