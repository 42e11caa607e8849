"""The knowledge base (DOMAIN §5): scripts (话术), policies, cases and FAQs, with their versions.

An article's text lives in its versions: every save by an editor appends one ArticleVersion
(never changed afterwards) and points the article at it. The categories an article serves are
triage's category codes; the search index is one row per distinct token of the current title
and body (kesu.knowledge.text).
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from kesu.complaints.models import Complaint
from kesu.triage.models import Category


class Kind(models.TextChoices):
    SCRIPT = "script", _("Script")
    POLICY = "policy", _("Policy")
    CASE = "case", _("Case")
    FAQ = "faq", _("FAQ")


class Status(models.TextChoices):
    DRAFT = "draft", _("Draft")
    PUBLISHED = "published", _("Published")
    ARCHIVED = "archived", _("Archived")


class Language(models.TextChoices):
    ZH_HANS = "zh-hans", _("Chinese")
    EN = "en", _("English")


class Article(models.Model):
    kind = models.CharField(_("kind"), max_length=10, choices=Kind.choices)
    language = models.CharField(_("language"), max_length=10, choices=Language.choices)
    status = models.CharField(
        _("status"), max_length=10, choices=Status.choices, default=Status.DRAFT
    )
    # The version shown now. Empty only inside the transaction that creates the article: the
    # article row must exist before its first version can point at it.
    current = models.ForeignKey(
        "ArticleVersion",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("current version"),
    )
    categories = models.ManyToManyField(
        Category,
        through="ArticleCategory",
        related_name="articles",
        blank=True,
        verbose_name=_("categories"),
    )
    # The complaint a case was promoted from. SET_NULL, not PROTECT: the article is an
    # anonymised derivative meant to outlive its source, so the link is provenance only; if a
    # complaint is ever purged (personal-data retention), the case neither blocks the purge nor
    # goes with it. One article per complaint: promoting twice would split the lesson.
    source_complaint = models.OneToOneField(
        Complaint,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="knowledge_article",
        verbose_name=_("promoted from"),
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        related_name="+",
        verbose_name=_("created by"),
    )
    created_at = models.DateTimeField(_("created"))
    # When the current version was saved: "newest first" everywhere.
    updated_at = models.DateTimeField(_("updated"))
    status_changed_at = models.DateTimeField(_("status changed"), null=True, blank=True)
    status_changed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("status changed by"),
    )

    class Meta:
        verbose_name = _("article")
        verbose_name_plural = _("articles")
        indexes = [
            # The list page and scripts_for: published articles of a kind and language, newest
            # first.
            models.Index(
                fields=["status", "kind", "language", "-updated_at"], name="article_listing"
            ),
        ]

    def __str__(self) -> str:
        return self.title or f"#{self.pk}"

    @property
    def title(self) -> str:
        return self.current.title if self.current is not None else ""


class ArticleVersion(models.Model):
    """One save of an article: what it said then, who saved it and why. Append-only."""

    article = models.ForeignKey(
        Article,
        on_delete=models.PROTECT,
        related_name="versions",
        db_index=False,  # article_version_number leads with it
    )
    number = models.PositiveIntegerField(_("version"))
    title = models.CharField(_("title"), max_length=200)
    body = models.TextField(_("body"))
    # What the article's kind, language and categories were at this save, so that an old
    # version reads as it was.
    kind = models.CharField(_("kind"), max_length=10, choices=Kind.choices)
    language = models.CharField(_("language"), max_length=10, choices=Language.choices)
    categories = models.JSONField(_("categories"), default=list, blank=True)
    change_note = models.CharField(_("change note"), max_length=300, blank=True)
    author = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        related_name="+",
        verbose_name=_("author"),
    )
    created_at = models.DateTimeField(_("saved"))

    class Meta:
        verbose_name = _("article version")
        verbose_name_plural = _("article versions")
        ordering = ["article", "-number"]
        constraints = [
            models.UniqueConstraint(fields=["article", "number"], name="article_version_number"),
        ]

    def __str__(self) -> str:
        return f"{self.title} (v{self.number})"


class ArticleCategory(models.Model):
    """An article serves complaints of this triage category (by code, as complaints store it)."""

    article = models.ForeignKey(
        Article,
        on_delete=models.CASCADE,
        related_name="category_links",
    )
    # The column holds the category's code, so that scripts_for(category="late_delivery")
    # needs no join. PROTECT: a category in use is deactivated, not deleted.
    category = models.ForeignKey(
        Category,
        to_field="code",
        db_column="category_code",
        on_delete=models.PROTECT,
        related_name="+",
        db_index=False,  # article_category_once leads with it
    )

    class Meta:
        verbose_name = _("article category")
        verbose_name_plural = _("article categories")
        constraints = [
            # Also the index scripts_for reads: a category's articles.
            models.UniqueConstraint(fields=["category", "article"], name="article_category_once"),
        ]

    def __str__(self) -> str:
        return f"{self.article_id}:{self.category_id}"


class ArticleToken(models.Model):
    """One distinct search token of an article's current title and body."""

    article = models.ForeignKey(Article, on_delete=models.CASCADE, related_name="tokens")
    token = models.CharField(max_length=40)

    class Meta:
        constraints = [
            # Also the index search reads: the articles holding a token.
            models.UniqueConstraint(fields=["token", "article"], name="article_token_once"),
        ]

    def __str__(self) -> str:
        return f"{self.article_id}:{self.token}"
