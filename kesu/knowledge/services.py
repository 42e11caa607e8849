"""Use cases of the knowledge base: write articles and their versions, promote a case.

Only managers, experts and administrators write (selectors.WRITERS). Every save appends one
ArticleVersion and re-indexes the article for search, in the same transaction.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime

from django.db import transaction
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from kesu.accounts.models import User
from kesu.complaints.models import Closure, Complaint, RemedyType, Responsibility, State
from kesu.complaints.selectors import can_view
from kesu.customers.contact import national_digits
from kesu.errors import FieldError, Forbidden, InvalidInput, NotAllowed, NotFound
from kesu.knowledge.models import (
    Article,
    ArticleCategory,
    ArticleToken,
    ArticleVersion,
    Kind,
    Language,
    Status,
)
from kesu.knowledge.redact import Known, redact
from kesu.knowledge.selectors import can_write
from kesu.knowledge.text import search_tokens
from kesu.triage.selectors import taxonomy

MAX_TITLE = 200
MAX_BODY = 50_000
MAX_NOTE = 300


@dataclass(frozen=True)
class Content:
    """An article's content as one save gives it, checked."""

    title: str
    body: str
    kind: str
    language: str
    categories: tuple[str, ...]
    change_note: str


def _check_writer(actor: User) -> None:
    if not can_write(actor):
        raise Forbidden(_("Only managers, experts and administrators edit the knowledge base."))


def _content(
    *,
    title: str,
    body: str,
    kind: str,
    language: str,
    categories: Iterable[str],
    change_note: str,
) -> Content:
    """Check what an editor gave; InvalidInput names every wrong field."""
    errors: list[FieldError] = []
    title, body, change_note = title.strip(), body.strip(), change_note.strip()
    if not title:
        errors.append(FieldError("title", _("Give the article a title.")))
    elif len(title) > MAX_TITLE:
        errors.append(FieldError("title", _("At most %(n)s characters.") % {"n": MAX_TITLE}))
    if not body:
        errors.append(FieldError("body", _("Write the article's text.")))
    elif len(body) > MAX_BODY:
        errors.append(FieldError("body", _("At most %(n)s characters.") % {"n": MAX_BODY}))
    if kind not in Kind.values:
        errors.append(FieldError("kind", _("Choose script, policy, case or FAQ.")))
    if language not in Language.values:
        errors.append(FieldError("language", _("Choose zh-hans or en.")))
    codes = tuple(dict.fromkeys(code.strip() for code in categories if code.strip()))
    tree = taxonomy()
    unknown = [code for code in codes if not tree.is_category(code)]
    if unknown:
        errors.append(
            FieldError(
                "categories",
                _("Unknown or inactive category: %(codes)s.") % {"codes": ", ".join(unknown)},
            )
        )
    if len(change_note) > MAX_NOTE:
        errors.append(FieldError("change_note", _("At most %(n)s characters.") % {"n": MAX_NOTE}))
    if errors:
        raise InvalidInput(errors)
    return Content(title, body, kind, language, codes, change_note)


def index_article(article: Article) -> None:
    """Replace the article's search tokens with those of its current title and body."""
    ArticleToken.objects.filter(article=article).delete()
    if article.current is None:
        return
    tokens = search_tokens(f"{article.current.title}\n{article.current.body}")
    ArticleToken.objects.bulk_create(
        [ArticleToken(article=article, token=token) for token in sorted(tokens)]
    )


def _save_version(
    article: Article, content: Content, *, actor: User, now: datetime, number: int
) -> ArticleVersion:
    version = ArticleVersion.objects.create(
        article=article,
        number=number,
        title=content.title,
        body=content.body,
        kind=content.kind,
        language=content.language,
        categories=list(content.categories),
        change_note=content.change_note,
        author=actor,
        created_at=now,
    )
    article.current = version
    article.kind = content.kind
    article.language = content.language
    article.updated_at = now
    article.save(update_fields=["current", "kind", "language", "updated_at"])
    links = ArticleCategory.objects.filter(article=article)
    links.exclude(category__code__in=content.categories).delete()
    present = set(links.values_list("category__code", flat=True))
    ArticleCategory.objects.bulk_create(
        [
            ArticleCategory(article=article, category_id=code)
            for code in content.categories
            if code not in present
        ]
    )
    index_article(article)
    return version


def create_article(
    *,
    actor: User,
    title: str,
    body: str,
    kind: str,
    language: str,
    categories: Iterable[str] = (),
    change_note: str = "",
    source_complaint: Complaint | None = None,
) -> Article:
    """Write a new draft article with its first version."""
    _check_writer(actor)
    content = _content(title=title, body=body, kind=kind, language=language,
                       categories=categories, change_note=change_note)  # fmt: skip
    now = timezone.now()
    with transaction.atomic():
        article = Article.objects.create(
            kind=content.kind,
            language=content.language,
            status=Status.DRAFT,
            source_complaint=source_complaint,
            created_by=actor,
            created_at=now,
            updated_at=now,
        )
        _save_version(article, content, actor=actor, now=now, number=1)
    return article


def _same(version: ArticleVersion, content: Content) -> bool:
    return (version.title, version.body, version.kind, version.language) == (
        content.title, content.body, content.kind, content.language,
    ) and set(version.categories) == set(content.categories)  # fmt: skip


def revise_article(
    *,
    article: Article,
    actor: User,
    title: str,
    body: str,
    kind: str,
    language: str,
    categories: Iterable[str],
    change_note: str = "",
    base_version: int | None = None,
) -> Article:
    """Save a new version of an article (none if nothing changed).

    `base_version` is the version the editor started from: if someone saved another one
    meanwhile, the save is refused instead of silently overwriting theirs.
    """
    _check_writer(actor)
    content = _content(title=title, body=body, kind=kind, language=language,
                       categories=categories, change_note=change_note)  # fmt: skip
    with transaction.atomic():
        # Locked: two editors saving at once get one version number each, in turn.
        locked = Article.objects.select_for_update(of=("self",)).select_related("current")
        article = locked.get(pk=article.pk)
        current = article.current
        number = current.number if current is not None else 0
        if base_version is not None and base_version != number:
            raise NotAllowed(
                _("Someone saved version %(n)s meanwhile; open the article again and redo "
                  "your change.") % {"n": number}
            )  # fmt: skip
        if current is not None and _same(current, content):
            return article  # a save that changes nothing adds no version
        _save_version(article, content, actor=actor, now=timezone.now(), number=number + 1)
    return article


def set_status(*, article: Article, actor: User, status: str) -> Article:
    """Publish, archive or return an article to draft."""
    _check_writer(actor)
    if status not in Status.values:
        raise InvalidInput.one("status", _("Choose draft, published or archived."))
    with transaction.atomic():
        article = (
            Article.objects.select_for_update(of=("self",))
            .select_related("current")
            .get(pk=article.pk)
        )
        if article.status != status:
            article.status = status
            article.status_changed_at = timezone.now()
            article.status_changed_by = actor
            article.save(update_fields=["status", "status_changed_at", "status_changed_by"])
    return article


# --- Promote a resolved complaint to a case -----------------------------------------------------


def is_resolved(complaint: Complaint) -> bool:
    """Resolved, or closed as resolved (an invalid or duplicate complaint teaches nothing)."""
    return complaint.state == State.RESOLVED or (
        complaint.state == State.CLOSED and complaint.closure == Closure.RESOLVED
    )


def _line(label: str, value: str) -> str:
    return _("%(label)s: %(value)s") % {"label": label, "value": value}


def _span(hours: float) -> str:
    if hours < 48:
        return _("%(hours).1f hours") % {"hours": hours}
    return _("%(days).1f days") % {"days": hours / 24}


def case_text(complaint: Complaint) -> tuple[str, str]:
    """The title and body of a case from this complaint, in the active language, anonymised."""
    customer = complaint.customer
    phones = (customer.phone, national_digits(customer.phone)) if customer.phone else ()
    known = Known(
        name=customer.name,
        phones=phones,
        emails=(customer.email,) if customer.email else (),
        order_refs=(complaint.order_ref,) if complaint.order_ref else (),
    )

    def clean(text: str) -> str:
        return redact(text.strip(), known)

    happened = []
    if complaint.product:
        happened.append(_line(_("Product"), clean(complaint.product)))
    if complaint.amount is not None:
        happened.append(_line(_("Amount involved"), f"¥{complaint.amount}"))
    description = clean(complaint.description)
    happened.append(description)
    finding = []
    if complaint.responsibility in Responsibility.values:
        label = str(Responsibility(complaint.responsibility).label)
        finding.append(_line(_("Responsibility"), label))
    for name, label in (("root_cause", _("Root cause")),
                        ("corrective_action", _("Corrective action")),
                        ("resolution", _("Resolution summary"))):  # fmt: skip
        value = getattr(complaint, name)
        if value.strip():
            finding.append(_line(label, clean(value)))
    if complaint.remedy_type in RemedyType.values:
        what = str(RemedyType(complaint.remedy_type).label)
        if complaint.remedy_amount is not None:
            what += f" · ¥{complaint.remedy_amount}"
        finding.append(_line(_("Remedy"), what))
    if complaint.remedy_description.strip():
        finding.append(clean(complaint.remedy_description))
    if complaint.resolved_at is not None:
        hours = (complaint.resolved_at - complaint.received_at).total_seconds() / 3600
        finding.append(_line(_("Handling time"), _span(hours)))
    satisfaction = f"{complaint.satisfaction}/5" if complaint.satisfaction else _("not asked")
    finding.append(_line(_("Satisfaction"), satisfaction))
    body = "\n\n".join(
        f"## {heading}\n" + "\n".join(lines)
        for heading, lines in ((_("What happened"), happened), (_("Findings and remedy"), finding))
    )
    # A subject made from the description's start may end inside a phone number (+86 138…),
    # which no pattern recognises any more: the title is then cut from the cleaned text.
    stem = complaint.subject.rstrip("…")
    if stem and complaint.description.strip().startswith(stem):
        first_line = description.splitlines()[0] if description else ""
        title = first_line[:60] + ("…" if len(first_line) > 60 else "")
    else:
        title = clean(complaint.subject)
    return title[:MAX_TITLE], body


def promote_to_case(*, complaint: Complaint, actor: User) -> Article:
    """Turn a resolved complaint into a draft case article, without the customer's data."""
    _check_writer(actor)
    if not can_view(actor, complaint):
        raise NotFound(_("No such complaint."))
    with transaction.atomic():
        # Locked, so that two editors promoting at once make one article, not a crash.
        complaint = (
            Complaint.objects.select_for_update(of=("self",))
            .select_related("customer")
            .get(pk=complaint.pk)
        )
        if not is_resolved(complaint):
            raise NotAllowed(
                _("Only a resolved complaint can become a case; %(ref)s is %(state)s.")
                % {"ref": complaint.reference, "state": complaint.get_state_display()}
            )
        existing = Article.objects.filter(source_complaint=complaint).first()
        if existing is not None:
            raise NotAllowed(
                _("%(ref)s is already the case “%(title)s”.")
                % {"ref": complaint.reference, "title": existing.title}
            )
        language = complaint.language if complaint.language in Language.values else "zh-hans"
        with translation.override(language):
            title, body = case_text(complaint)
        category = complaint.category if taxonomy().is_category(complaint.category) else ""
        return create_article(
            actor=actor,
            title=title,
            body=body,
            kind=Kind.CASE,
            language=language,
            categories=[category] if category else [],
            change_note=_("Promoted from complaint %(ref)s.") % {"ref": complaint.reference},
            source_complaint=complaint,
        )
