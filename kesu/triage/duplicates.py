"""Duplicate candidates: the same customer's other complaints with similar text (issue: triage).

Within 30 days of the complaint, the customer's other complaints are compared by TF-IDF
cosine over character 1–2-grams of the folded text (subject and description), so that the
same story retold in other words still scores high; those at or above the configured
similarity are offered for merging on the case page. Computed when the page is shown: a
customer has few complaints, and the answer is always current.
"""

from __future__ import annotations

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
    vectorizer = TfidfVectorizer(analyzer="char_wb", ngram_range=(1, 2), sublinear_tf=True)
    matrix = vectorizer.fit_transform([_text(complaint), *(_text(o) for o in others)])
    scores = cosine_similarity(matrix[0], matrix[1:])[0]
    threshold = current().scoring.duplicate_similarity
    found = [
        Candidate(other, float(score))
        for other, score in zip(others, scores, strict=True)
        if score >= threshold
    ]
    found.sort(key=lambda c: -c.similarity)
    return found[:limit]
