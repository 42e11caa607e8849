"""Keeping the search index in step with complaints, and querying it."""

from __future__ import annotations

from django.db import connection
from django.db.models.expressions import RawSQL

from kesu import rows
from kesu.complaints.models import Complaint
from kesu.customers.contact import national_digits
from kesu.search.models import SearchDocument
from kesu.search.tokens import document_tokens, query_phrases


def document_text(complaint: Complaint) -> str:
    customer = complaint.customer
    parts = [
        complaint.reference,
        complaint.subject,
        complaint.description,
        complaint.product,
        complaint.order_ref,
        complaint.demand_detail,
        customer.name,
        customer.email,
        national_digits(customer.phone) if customer.phone else "",
        complaint.store.name_zh if complaint.store else "",
    ]
    return " ".join(part for part in parts if part)


def index_complaint(
    complaint: Complaint, *, new: bool = False, batch: rows.Batch | None = None
) -> None:
    """Write (`new`, into `batch` if given) or refresh the complaint's search row."""
    tokens = " ".join(document_tokens(document_text(complaint)))
    if new:
        document = SearchDocument(complaint=complaint, tokens=tokens)
        batch.add(document) if batch is not None else rows.add(document)
    else:
        SearchDocument.objects.update_or_create(complaint=complaint, defaults={"tokens": tokens})


def _fts5_query(phrases: list[tuple[list[str], bool]]) -> str:
    # Tokens hold only letters, digits and CJK characters, so quoting cannot be broken out of.
    parts = []
    for tokens, prefix in phrases:
        phrase = '"' + " ".join(tokens) + '"'
        parts.append(phrase + ("*" if prefix else ""))
    return " AND ".join(parts)


def _tsquery(phrases: list[tuple[list[str], bool]]) -> str:
    parts = []
    for tokens, prefix in phrases:
        quoted = [f"'{token}'" for token in tokens]
        if prefix:
            quoted[-1] += ":*"
        parts.append("(" + " <-> ".join(quoted) + ")")
    return " & ".join(parts)


def matching_ids(query: str) -> RawSQL:
    """A subquery of the ids of complaints whose text matches every term of the query."""
    phrases = query_phrases(query)
    if not phrases:
        return RawSQL("SELECT complaint_id FROM search_searchdocument WHERE 1 = 0", [])
    if connection.vendor == "postgresql":
        # `tsv` is the stored tsvector with its GIN index (migration 0002). OFFSET 0 keeps the
        # planner from folding the match into a walk over the newest complaints, testing each
        # one: the matches are found once in the index and then looked up by hash.
        return RawSQL(
            "SELECT complaint_id FROM search_searchdocument "
            "WHERE tsv @@ to_tsquery('simple'::regconfig, %s) OFFSET 0",
            [_tsquery(phrases)],
        )
    return RawSQL("SELECT rowid FROM search_fts WHERE search_fts MATCH %s", [_fts5_query(phrases)])
