"""Admins edit calendars (with their holidays), SLA policies and the escalation chain here."""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib import admin, messages
from django.http import HttpRequest
from django.utils.translation import gettext_lazy as _

from kesu.sla.calendar import NoWorkingTime, official_years
from kesu.sla.models import Calendar, CalendarDay, Clock, EscalationStep, Policy
from kesu.sla.selectors import schedule_of


class CalendarDayInline(admin.TabularInline):  # type: ignore[type-arg]
    model = CalendarDay
    extra = 3


class CalendarForm(forms.ModelForm):  # type: ignore[type-arg]
    class Meta:
        model = Calendar
        fields = ["code", "name_zh", "name_en", "around_the_clock", "opens", "closes",
                  "lunch_from", "lunch_to", "official_holidays"]  # fmt: skip

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        try:
            schedule_of(Calendar(**{k: v for k, v in data.items() if k in
                                    {"around_the_clock", "opens", "closes", "lunch_from",
                                     "lunch_to", "official_holidays"}}))  # fmt: skip
        except (ValueError, NoWorkingTime) as error:
            raise forms.ValidationError(str(error)) from None
        return data


@admin.register(Calendar)
class CalendarAdmin(admin.ModelAdmin):  # type: ignore[type-arg]
    form = CalendarForm
    list_display = ("code", "name_zh", "name_en", "around_the_clock", "opens", "closes",
                    "official_holidays")  # fmt: skip
    inlines = [CalendarDayInline]

    def change_view(self, request: HttpRequest, object_id: str, *args: Any, **kwargs: Any) -> Any:
        years = official_years()
        messages.info(
            request,
            _("The chinese-calendar package knows the years %(first)s–%(last)s; add holidays and "
              "make-up working days below for later years.")
            % {"first": years.start, "last": years.stop - 1},
        )  # fmt: skip
        return super().change_view(request, object_id, *args, **kwargs)


@admin.register(Policy)
class PolicyAdmin(admin.ModelAdmin):  # type: ignore[type-arg]
    list_display = (
        "name_zh", "position", "grades", "tiers", "channels", "risk", "calendar", "acknowledge",
        "first_contact", "resolve", "is_default", "is_active",
    )  # fmt: skip
    list_editable = ("position", "is_active")
    fieldsets = (
        (None, {"fields": ("name_zh", "name_en", "position", "is_active", "is_default")}),
        (
            _("Matches (empty: any)"),
            {"fields": ("grades", "tiers", "channels", "categories", "risk")},
        ),
        (
            _("Targets"),
            {
                "fields": (
                    "calendar",
                    "acknowledge",
                    "first_contact",
                    "update_every",
                    "resolve",
                    "resolve_extendable_to",
                    "expert_response",
                    "warn_at",
                )
            },
        ),
    )

    def get_readonly_fields(self, request: HttpRequest, obj: Any = None) -> tuple[str, ...]:
        # The default policy always exists and always applies.
        return ("is_default", "is_active") if obj is not None and obj.is_default else ()

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        if obj is not None and obj.is_default:
            return False
        return super().has_delete_permission(request, obj)


@admin.register(EscalationStep)
class EscalationStepAdmin(admin.ModelAdmin):  # type: ignore[type-arg]
    list_display = ("department", "level", "when", "after", "reassign")
    list_filter = ("department", "level")


@admin.register(Clock)
class ClockAdmin(admin.ModelAdmin):  # type: ignore[type-arg]
    list_display = ("complaint", "target", "due_at", "warned_at", "breached_at", "stopped_at",
                    "paused_at", "level")  # fmt: skip
    list_filter = ("target",)
    search_fields = ("complaint__reference",)

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False
