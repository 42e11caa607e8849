"""Admins tune follow-up and read surveys and callbacks (they change through services)."""

from __future__ import annotations

from typing import Any

from django.contrib import admin
from django.http import HttpRequest

from kesu.readonly_admin import ReadOnlyAdmin
from kesu.surveys.models import CallbackTask, FollowUpPolicy, Survey


@admin.register(FollowUpPolicy)
class FollowUpPolicyAdmin(admin.ModelAdmin):  # type: ignore[type-arg]
    list_display = ("__str__", "answer_within_days", "callback_within_days", "goal_percent")

    def has_add_permission(self, request: HttpRequest) -> bool:
        return not FollowUpPolicy.objects.exists()

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


@admin.register(Survey)
class SurveyAdmin(ReadOnlyAdmin):
    list_display = ("complaint", "state", "sent_at", "due_at", "answered_at", "resolved", "score")
    list_filter = ("state", "resolved", "score")
    exclude = ("token_hash",)


@admin.register(CallbackTask)
class CallbackTaskAdmin(ReadOnlyAdmin):
    list_display = ("complaint", "assignee", "due_at", "done_at", "outcome", "score")
    list_filter = ("outcome",)
