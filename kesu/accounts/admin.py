from django.contrib import admin, messages
from django.contrib.auth.admin import UserAdmin as BaseUserAdmin
from django.db.models import QuerySet
from django.http import HttpRequest
from django.utils.translation import gettext_lazy as _

from kesu.accounts.models import ApiToken, Department, RolePolicy, Store, User
from kesu.accounts.services import revoke_token
from kesu.readonly_admin import ReadOnlyAdmin


@admin.register(User)
class UserAdmin(BaseUserAdmin[User]):
    list_display = ("username", "display_name", "role", "is_active", "last_login")
    list_filter = ("role", "is_active", "departments")
    search_fields = ("username", "display_name", "email")
    filter_horizontal = ("departments", "groups", "user_permissions")
    fieldsets = (
        *BaseUserAdmin.fieldsets,  # type: ignore[misc]
        (_("Kesu"), {"fields": ("display_name", "role", "departments", "language")}),
        (_("Notifications"), {"fields": ("mobile", "notify_by_email", "notify_by_sms")}),
    )
    add_fieldsets = (
        *BaseUserAdmin.add_fieldsets,
        (_("Kesu"), {"fields": ("display_name", "role", "departments")}),
    )


@admin.register(Department)
class DepartmentAdmin(admin.ModelAdmin):  # type: ignore[type-arg]
    list_display = ("code", "name_zh", "name_en", "is_active")
    search_fields = ("code", "name_zh", "name_en")


@admin.register(Store)
class StoreAdmin(admin.ModelAdmin):  # type: ignore[type-arg]
    list_display = ("code", "name_zh", "city", "manager", "is_active")
    list_filter = ("city", "is_active")
    search_fields = ("code", "name_zh", "name_en", "city")


@admin.register(RolePolicy)
class RolePolicyAdmin(admin.ModelAdmin):  # type: ignore[type-arg]
    list_display = ("role", "remedy_authority")


@admin.register(ApiToken)
class ApiTokenAdmin(ReadOnlyAdmin):
    list_display = ("prefix", "user", "name", "created_at", "last_used_at", "revoked_at")
    list_filter = ("revoked_at",)
    exclude = ("key_hash",)
    actions = ["revoke"]

    @admin.action(description=_("Revoke the selected tokens"))
    def revoke(self, request: HttpRequest, queryset: QuerySet[ApiToken]) -> None:
        tokens = list(queryset.filter(revoked_at__isnull=True))
        for token in tokens:
            revoke_token(token=token)
        messages.success(request, _("%(n)s token(s) revoked.") % {"n": len(tokens)})

    def has_change_permission(self, request: HttpRequest, obj: object = None) -> bool:
        # Needed for the admin action; the fields themselves stay read-only.
        return bool(request.user.is_superuser)

    def get_readonly_fields(self, request: HttpRequest, obj: object = None) -> list[str]:
        return [f.name for f in ApiToken._meta.fields]
