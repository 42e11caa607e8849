from django.contrib import admin

from kesu.customers.models import Customer, CustomerContact


class ContactInline(admin.TabularInline):  # type: ignore[type-arg]
    model = CustomerContact
    extra = 0


@admin.register(Customer)
class CustomerAdmin(admin.ModelAdmin):  # type: ignore[type-arg]
    list_display = ("name", "phone", "email", "tier", "complaint_count", "last_complaint_at")
    list_filter = ("tier",)
    search_fields = ("name", "phone", "email", "contacts__value")
    readonly_fields = ("complaint_count", "last_complaint_at", "created_at")
    inlines = [ContactInline]
