"""Reads of the knowledge base, and what the case page shows from it.

Who reads what: every member of staff reads published and archived articles; managers, experts
and administrators, who write them, also read drafts (a case promoted from a complaint is a
draft until an editor has checked that no personal data is left in it).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal

from django.db.models import Count, Q, QuerySet
from django.db.models.expressions import RawSQL

from kesu.accounts.models import Role, User
from kesu.complaints.models import Closure, Complaint, RemedyType, State
from kesu.knowledge.models import Article, ArticleCategory, ArticleVersion, Kind, Status
from kesu.knowledge.text import cosine, grams, key_terms, search_tokens
from kesu.search.services import matching_ids

WRITERS = frozenset({Role.MANAGER, Role.EXPERT, Role.ADMIN})

# "Resolved" for the knowledge base: resolved, or closed as resolved (not invalid or duplicate).
RESOLVED = Q(state=State.RESOLVED) | Q(state=State.CLOSED, closure=Closure.RESOLVED)


def can_write(user: User) -> bool:
    """Whether the user may create, edit, publish and archive articles and promote cases."""
    return bool(user.is_authenticated and user.is_active and user.role in WRITERS)


def readable_articles(user: User) -> QuerySet[Article]:
    """The articles the user may read, with their current version."""
    if not user.is_authenticated or not user.is_active:
        return Article.objects.none()
    articles = Article.objects.select_related("current")
    if can_write(user):
        return articles
    return articles.filter(status__in=[Status.PUBLISHED, Status.ARCHIVED])


def get_article_for_user(user: User, pk: int) -> Article:
    """The article if the user may read it; else Article.DoesNotExist."""
    return readable_articles(user).get(pk=pk)


def search_articles(
    user: User,
    *,
    query: str = "",
    kind: str = "",
    category: str = "",
    language: str = "",
    status: str = "",
) -> QuerySet[Article]:
    """Readable articles matching the query and filters, best match first, then newest.

    `status` "" means published only; "all" means every status the user may read. A query
    matches an article holding any of its tokens; the more distinct tokens it holds, the
    higher it ranks.
    """
    articles = readable_articles(user)
    if status != "all":
        articles = articles.filter(status=status or Status.PUBLISHED)
    if kind:
        articles = articles.filter(kind=kind)
    if language:
        articles = articles.filter(language=language)
    if category:
        # A subquery, not a join: a join would multiply the token rows counted below.
        linked = ArticleCategory.objects.filter(category__code=category).values("article_id")
        articles = articles.filter(pk__in=linked)
    tokens = search_tokens(query) if query.strip() else set()
    if query.strip() and not tokens:
        return articles.none()  # only stop words or punctuation: nothing to look for
    if tokens:
        # Served by article_token_once (token, article).
        articles = articles.filter(tokens__token__in=sorted(tokens)).annotate(hits=Count("tokens"))
        return articles.order_by("-hits", "-updated_at", "-pk")
    return articles.order_by("-updated_at", "-pk")


def versions(article: Article) -> QuerySet[ArticleVersion]:
    """The article's versions, newest first, with their authors."""
    return article.versions.select_related("author").order_by("-number")


def get_version(article: Article, number: int) -> ArticleVersion:
    """One version of an article; ArticleVersion.DoesNotExist if it has no such version."""
    return article.versions.select_related("author").get(number=number)


def scripts_for(*, category: str, language: str, limit: int = 5) -> list[Article]:
    """Published scripts and FAQs for a category, in the language (else another), newest first."""
    if not category:
        return []
    linked = ArticleCategory.objects.filter(category__code=category).values("article_id")
    articles = (
        Article.objects.select_related("current")
        .filter(status=Status.PUBLISHED, kind__in=[Kind.SCRIPT, Kind.FAQ], pk__in=linked)
        .order_by("-updated_at", "-pk")
    )
    found = list(articles.filter(language=language)[:limit])
    if not found:
        found = list(articles.exclude(language=language)[:limit])
    return found


# --- Similar resolved complaints (the case page) -------------------------------------------------

# The candidates ranked in Python: among the newest TERM_MATCHES complaints holding each of
# this complaint's KEY_TERMS most distinctive words (found through the search index), the POOL
# most recently resolved that the reader may see. Not "the newest of the same category" as
# well: complaints have no index on category, and with 100,000 rows finding those meant walking
# tens of thousands of rows for a handler who sees one department (60–180 ms on SQLite); the
# category breaks ties instead. Capping each word's matches keeps a common word (小时, 快递)
# from costing a lookup of thousands of complaints.
KEY_TERMS = 4
TERM_MATCHES = 300
POOL = 100
# The gist of a complaint is in its first lines; a 2,000-character letter would cost more to
# compare than it adds.
TEXT_CHARS = 400
# Below this a "similar" complaint has only common words in common: not worth showing.
MIN_SIMILARITY = 0.1

_FIELDS = (
    "pk", "reference", "subject", "description", "remedy_type", "remedy_amount",
    "received_at", "resolved_at", "satisfaction", "category",
)  # fmt: skip
_Row = tuple[int, str, str, str, str, Decimal | None, datetime, datetime, int | None, str]


@dataclass(frozen=True)
class SimilarCase:
    """A resolved complaint like this one: how it was remedied, how fast, how well."""

    reference: str
    subject: str
    similarity: float  # 0–1
    remedy_type: str  # a RemedyType code, "" if none was recorded
    remedy_label: str
    remedy_amount: Decimal | None
    handling_hours: float  # from received to resolved
    satisfaction: int | None  # 1–5

    @property
    def percent(self) -> int:
        return round(self.similarity * 100)

    @property
    def handling_days(self) -> float:
        return self.handling_hours / 24


def complaint_text(subject: str, description: str) -> str:
    """What similarity compares: the subject (unless it is the description's start) and text."""
    stem = subject.rstrip("…")
    text = description if stem and description.startswith(stem) else f"{subject}\n{description}"
    return text[:TEXT_CHARS]


def _newest_matches(terms: list[str]) -> RawSQL:
    """The ids of the newest TERM_MATCHES complaints matching each term, as one subquery.

    Built from search.services.matching_ids (one term each) and wrapped so that each term's
    matches are cut before they are joined to complaints: a subquery of ids is what both
    databases then look up by primary key (PostgreSQL, given the OR of several IN subqueries,
    walked the newest-complaints index instead and tested 30,000 rows).
    """
    parts = [matching_ids(term) for term in terms]
    # Only SQL text that matching_ids wrote (its values are bound parameters) and our integers
    # go into the statement: nothing of the user's text.
    sql = " UNION ".join(
        f"SELECT * FROM (SELECT * FROM ({part.sql}) AS m{i} "  # noqa: S608
        f"ORDER BY 1 DESC LIMIT {TERM_MATCHES}) AS n{i}"
        for i, part in enumerate(parts)
    )
    return RawSQL(sql, [param for part in parts for param in part.params])  # noqa: S611


def similar_resolved(
    complaint: Complaint, *, among: QuerySet[Complaint], limit: int = 5
) -> list[SimilarCase]:
    """The resolved complaints in `among` most similar in text to this one, most similar first."""
    text = complaint_text(complaint.subject, complaint.description)
    terms = key_terms(text, KEY_TERMS)
    if not terms:
        return []
    rows: list[_Row] = list(
        among.filter(RESOLVED, resolved_at__isnull=False, id__in=_newest_matches(terms))
        .exclude(pk=complaint.pk)
        .order_by("-resolved_at", "-id")
        .values_list(*_FIELDS)[:POOL]
    )
    if not rows:
        return []
    scores = cosine(grams(text), [grams(complaint_text(row[2], row[3])) for row in rows])
    ranked = sorted(
        zip(scores, rows, strict=True),
        key=lambda pair: (-pair[0], pair[1][9] != complaint.category, -pair[1][7].timestamp()),
    )
    found: list[SimilarCase] = []
    for score, row in ranked:
        if score < MIN_SIMILARITY or len(found) == limit:
            break
        _pk, reference, subject, _text, remedy, amount, received, resolved_at, satisfaction, _c = (
            row
        )
        found.append(
            SimilarCase(
                reference=reference,
                subject=subject,
                similarity=min(1.0, round(score, 4)),
                remedy_type=remedy,
                remedy_label=str(RemedyType(remedy).label) if remedy in RemedyType.values else "",
                remedy_amount=amount,
                handling_hours=(resolved_at - received).total_seconds() / 3600,
                satisfaction=satisfaction,
            )
        )
    return found
