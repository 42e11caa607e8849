from django.contrib import admin

from kesu.complaints.models import AccessLog, Complaint, Event
from kesu.readonly_admin import ReadOnlyAdmin


class EventInline(admin.TabularInline):  # type: ignore[type-arg]
    model = Event
    extra = 0
    can_delete = False
    fields = ("at", "kind", "actor", "from_state", "to_state", "data", "customer_visible")
    readonly_fields = fields

    def has_add_permission(self, request, obj=None):  # type: ignore[no-untyped-def]
        return False


@admin.register(Complaint)
class ComplaintAdmin(ReadOnlyAdmin):
    list_display = (
        "reference",
        "subject",
        "state",
        "grade",
        "priority",
        "department",
        "assignee",
        "received_at",
    )
    list_filter = ("state", "grade", "priority", "channel", "department")
    search_fields = ("reference", "subject")
    date_hierarchy = "received_at"
    list_select_related = ("department", "assignee")
    exclude = ("tracking_token_hash",)
    inlines = [EventInline]


@admin.register(AccessLog)
class AccessLogAdmin(ReadOnlyAdmin):
    list_display = ("at", "user", "complaint", "via")
    list_filter = ("via",)
    list_select_related = ("user", "complaint")
