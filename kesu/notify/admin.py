from django.contrib import admin, messages
from django.db.models import QuerySet
from django.http import HttpRequest
from django.utils.translation import gettext_lazy as _

from kesu.notify.models import NotifyGroup, OutboxMessage, Robot
from kesu.notify.services import retry
from kesu.readonly_admin import ReadOnlyAdmin


@admin.register(OutboxMessage)
class OutboxAdmin(ReadOnlyAdmin):
    list_display = ("created_at", "channel", "kind", "recipient", "status", "attempts", "sent_at",
                    "last_error")  # fmt: skip
    list_filter = ("status", "channel", "kind")
    search_fields = ("recipient", "subject")
    actions = ["retry_now"]

    @admin.action(description=_("Retry delivery now"))
    def retry_now(self, request: HttpRequest, queryset: QuerySet[OutboxMessage]) -> None:
        count = retry(queryset)
        messages.success(request, _("%(n)s message(s) queued again.") % {"n": count})

    def has_change_permission(self, request: HttpRequest, obj: object = None) -> bool:
        # Needed for the admin action; the fields themselves stay read-only.
        return bool(request.user.is_superuser)

    def get_readonly_fields(self, request: HttpRequest, obj: object = None) -> list[str]:
        return [f.name for f in OutboxMessage._meta.fields]


class RobotInline(admin.StackedInline):  # type: ignore[type-arg]
    model = Robot
    extra = 0
    fields = ("channel", "name", "webhook", "secret", "is_active")


@admin.register(NotifyGroup)
class NotifyGroupAdmin(admin.ModelAdmin):  # type: ignore[type-arg]
    list_display = ("code", "name_zh", "name_en")
    filter_horizontal = ("members",)
    inlines = [RobotInline]
