"""Admins keep the reply phrase rules and the reply templates."""

from __future__ import annotations

from django.contrib import admin

from kesu.replies.models import PhraseRule, ReplyTemplate


@admin.register(PhraseRule)
class PhraseRuleAdmin(admin.ModelAdmin):  # type: ignore[type-arg]
    list_display = ("phrase", "kind", "language", "severity", "suggestion", "is_active")
    list_editable = ("severity", "is_active")
    list_filter = ("kind", "language", "severity", "is_active")
    search_fields = ("phrase", "suggestion")


@admin.register(ReplyTemplate)
class ReplyTemplateAdmin(admin.ModelAdmin):  # type: ignore[type-arg]
    list_display = ("name", "language", "category", "position", "is_active")
    list_editable = ("position", "is_active")
    list_filter = ("language", "is_active")
    search_fields = ("name", "body")
