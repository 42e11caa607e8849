"""The knowledge base in the admin: read-only, since every save must append a version and
re-index the article (kesu.knowledge.services); editors use the workspace at /work/kb/."""

from __future__ import annotations

from django.contrib import admin

from kesu.knowledge.models import Article, ArticleVersion
from kesu.readonly_admin import ReadOnlyAdmin


class VersionInline(admin.TabularInline):  # type: ignore[type-arg]
    model = ArticleVersion
    extra = 0
    can_delete = False
    fields = ("number", "title", "change_note", "author", "created_at")
    readonly_fields = fields
    ordering = ("-number",)

    def has_add_permission(self, request, obj=None):  # type: ignore[no-untyped-def]
        return False


@admin.register(Article)
class ArticleAdmin(ReadOnlyAdmin):
    list_display = ("__str__", "kind", "language", "status", "updated_at", "created_by")
    list_filter = ("status", "kind", "language")
    search_fields = ("current__title",)
    list_select_related = ("current", "created_by")
    date_hierarchy = "updated_at"
    inlines = [VersionInline]


@admin.register(ArticleVersion)
class ArticleVersionAdmin(ReadOnlyAdmin):
    list_display = ("title", "article", "number", "author", "created_at", "change_note")
    list_filter = ("kind", "language")
    search_fields = ("title",)
    list_select_related = ("article__current", "author")
