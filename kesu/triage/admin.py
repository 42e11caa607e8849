"""Admins edit the taxonomy, the rules and the scoring here; classifiers are read and activated."""

from __future__ import annotations

from typing import Any

from django.contrib import admin, messages
from django.db.models import Q, QuerySet
from django.http import HttpRequest
from django.utils.translation import gettext_lazy as _

from kesu.complaints.models import Complaint
from kesu.readonly_admin import ReadOnlyAdmin
from kesu.triage import services
from kesu.triage.models import Category, ClassifierModel, Rule, Scoring


@admin.register(Category)
class CategoryAdmin(admin.ModelAdmin):  # type: ignore[type-arg]
    list_display = ("code", "name_zh", "name_en", "parent", "points", "position", "is_active")
    list_editable = ("name_zh", "name_en", "points", "position", "is_active")
    list_filter = ("parent", "is_active")
    search_fields = ("code", "name_zh", "name_en")

    def get_readonly_fields(self, request: HttpRequest, obj: Any = None) -> tuple[str, ...]:
        # Complaints and trained classifiers keep the code: it never changes once saved.
        return ("code",) if obj is not None else ()

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        if (
            obj is not None
            and Complaint.objects.filter(Q(category=obj.code) | Q(nature=obj.code)).exists()
        ):
            return False  # in use: deactivate it instead
        return super().has_delete_permission(request, obj)


@admin.register(Rule)
class RuleAdmin(admin.ModelAdmin):  # type: ignore[type-arg]
    list_display = ("name", "flag", "category", "grade_floor", "position", "is_active")
    list_editable = ("position", "is_active")
    list_filter = ("flag", "is_active", "grade_floor")
    search_fields = ("name", "keywords", "pattern")
    autocomplete_fields = ("category",)


@admin.register(Scoring)
class ScoringAdmin(admin.ModelAdmin):  # type: ignore[type-arg]
    fieldsets = (
        (
            _("Risk signals"),
            {
                "fields": (
                    "safety_points", "regulator_points", "media_points", "legal_points",
                    "group_points", "repeat_signal_points",
                )
            },
        ),
        (
            _("Amount involved"),
            {
                "fields": (
                    ("amount_medium", "amount_medium_points"),
                    ("amount_large", "amount_large_points"),
                    ("amount_huge", "amount_huge_points"),
                )
            },
        ),
        (
            _("Customer and history"),
            {
                "fields": (
                    "vip_points", "repeat_30d_points", "repeat_90d_points", "repeat_max_points",
                )
            },
        ),
        (_("Emotion"), {"fields": ("upset_points", "angry_points", "threatening_points")}),
        (
            _("Grade and priority"),
            {
                "fields": (
                    "grade_a_from", "grade_b_from", "grade_c_from", "grade_d_from",
                    "important_grade", "urgent_emotion",
                )
            },
        ),
        (
            _("Classifier and duplicates"),
            {
                "fields": (
                    "min_confidence",
                    "duplicate_similarity",
                    "join_window_days",
                    "join_similarity",
                )
            },
        ),
    )  # fmt: skip

    def has_add_permission(self, request: HttpRequest) -> bool:
        return not Scoring.objects.exists()

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


@admin.register(ClassifierModel)
class ClassifierModelAdmin(ReadOnlyAdmin):
    list_display = (
        "name", "version", "is_active", "macro_f1", "accuracy", "train_size", "created_at",
        "decision",
    )  # fmt: skip
    list_filter = ("name", "is_active")
    exclude = ("blob",)
    actions = ["activate"]

    @admin.display(description=_("macro-F1 (held back)"))
    def macro_f1(self, obj: ClassifierModel) -> Any:
        return obj.metrics.get("macro_f1")

    @admin.display(description=_("accuracy (held back)"))
    def accuracy(self, obj: ClassifierModel) -> Any:
        return obj.metrics.get("accuracy")

    @admin.action(description=_("Make this version the active one"))
    def activate(self, request: HttpRequest, queryset: QuerySet[ClassifierModel]) -> None:
        chosen = list(queryset[:2])
        if len(chosen) != 1:
            self.message_user(request, _("Choose exactly one version."), messages.ERROR)
            return
        services.activate(chosen[0])
        self.message_user(request, _("%(model)s is now active.") % {"model": chosen[0]})
