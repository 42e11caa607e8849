"""Intake in the admin: history imports (upload, progress, bad rows), mailboxes, message sources,
and a read-only view of conversations and inbound messages.

Secrets never appear here: mailboxes and sources only name the environment variable or file
that holds them.
"""

from __future__ import annotations

import json
from typing import Any

from django import forms
from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied
from django.db.models import QuerySet
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import get_object_or_404
from django.template.response import TemplateResponse
from django.urls import URLPattern, path, reverse
from django.utils.html import format_html
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from kesu.errors import InvalidInput
from kesu.intake import importer
from kesu.intake.models import (
    Conversation,
    ImportJob,
    ImportState,
    InboundMessage,
    Mailbox,
    Source,
)
from kesu.readonly_admin import ReadOnlyAdmin

ERRORS_SHOWN = 100  # on the job's page; the CSV has every one kept
REFRESH_SECONDS = 3

EXAMPLE = {
    "source": "crm2019",
    "columns": {
        "source_id": "工单号",
        "description": "投诉内容",
        "received_at": "受理时间",
        "name": "客户姓名",
        "phone": "联系电话",
        "channel": "来源渠道",
        "state": "状态",
        "closed_at": "结案时间",
        "resolution": "处理结果",
    },
    "defaults": {"channel": "hotline"},
    "values": {"state": {"已办结": "closed"}},
    "date_format": "%Y/%m/%d %H:%M",
}


class ImportForm(forms.Form):
    file = forms.FileField(
        label=_("File"), help_text=_("CSV (UTF-8 or GBK, as Excel saves it) or XLSX.")
    )
    mapping = forms.CharField(
        label=_("Column mapping (JSON)"),
        widget=forms.Textarea(attrs={"rows": 14, "cols": 80, "style": "font-family: monospace"}),
        initial=json.dumps(EXAMPLE, ensure_ascii=False, indent=2),
    )
    dry_run = forms.BooleanField(
        label=_("Dry run"),
        required=False,
        initial=True,
        help_text=_("Check every row and report the bad ones; write nothing."),
    )

    def clean_mapping(self) -> importer.ImportMapping:
        try:
            return importer.load_mapping(self.cleaned_data["mapping"])
        except InvalidInput as error:
            raise forms.ValidationError([f"{e.field}: {e.message}" for e in error.errors]) from None


@admin.register(ImportJob)
class ImportJobAdmin(admin.ModelAdmin):  # type: ignore[type-arg]
    """Imports are uploaded here and run in the background (importer.run_pending_imports)."""

    list_display = (
        "original_name",
        "state",
        "progress",
        "created",
        "skipped",
        "failed",
        "dry_run",
        "created_by",
        "created_at",
    )
    list_filter = ("state", "dry_run")
    list_select_related = ("created_by",)
    search_fields = ("original_name",)
    fields = (
        "original_name",
        "state",
        "dry_run",
        "progress",
        "created",
        "skipped",
        "failed",
        "message",
        "mapping_text",
        "created_by",
        "created_at",
        "started_at",
        "finished_at",
    )
    readonly_fields = fields
    actions = ["import_for_real", "run_again"]

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        # Needed for the actions; a job itself changes only by running.
        return bool(obj is None and super().has_change_permission(request, obj))

    @admin.display(description=_("progress"))
    def progress(self, job: ImportJob) -> str:
        done, total = job.done_rows, job.total_rows
        if not total:
            return f"{done:,}"
        share = min(100, round(100 * done / total))
        return format_html(
            '<progress value="{}" max="{}" style="width: 8em"></progress> {}% ({} / {})',
            done,
            total,
            share,
            f"{done:,}",
            f"{total:,}",
        )

    @admin.display(description=_("column mapping"))
    def mapping_text(self, job: ImportJob) -> str:
        return format_html("<pre>{}</pre>", json.dumps(job.mapping, ensure_ascii=False, indent=2))

    def get_urls(self) -> list[URLPattern]:
        errors = path(
            "<path:object_id>/errors.csv",
            self.admin_site.admin_view(self.errors_view),
            name="intake_importjob_errors",
        )
        return [errors, *super().get_urls()]

    def add_view(
        self, request: HttpRequest, form_url: str = "", extra_context: dict[str, Any] | None = None
    ) -> HttpResponse:
        """Upload a file and its mapping; the header is checked now, the rows in the background."""
        if not self.has_add_permission(request):
            raise PermissionDenied
        form = ImportForm(request.POST or None, request.FILES or None)
        if request.method == "POST" and form.is_valid():
            upload = form.cleaned_data["file"]
            try:
                job = importer.queue_import(
                    upload=upload,
                    name=upload.name,
                    mapping=form.cleaned_data["mapping"],
                    raw_mapping=json.loads(request.POST["mapping"]),
                    dry_run=form.cleaned_data["dry_run"],
                    user=request.user,  # type: ignore[arg-type]
                )
            except InvalidInput as error:
                for wrong in error.errors:
                    target = "file" if wrong.field == "file" else "mapping"
                    form.add_error(target, f"{wrong.field}: {wrong.message}")
            else:
                self.message_user(request, gettext("Queued: %(name)s.") % {"name": job})
                return HttpResponseRedirect(reverse("admin:intake_importjob_change", args=[job.pk]))
        context = {
            **self.admin_site.each_context(request),
            "opts": self.opts,
            "title": gettext("Import complaints"),
            "form": form,
            "fields": importer.FIELDS,
            "required": importer.REQUIRED,
            **(extra_context or {}),
        }
        return TemplateResponse(request, "admin/intake/importjob/upload.html", context)

    def change_view(
        self,
        request: HttpRequest,
        object_id: str,
        form_url: str = "",
        extra_context: dict[str, Any] | None = None,
    ) -> HttpResponse:
        job = self.get_object(request, object_id)
        context = dict(extra_context or {})
        if job is not None:
            context.update(
                import_running=job.state in (ImportState.QUEUED, ImportState.RUNNING),
                refresh_seconds=REFRESH_SECONDS,
                import_errors=(job.errors or [])[:ERRORS_SHOWN],
                errors_kept=len(job.errors or []),
                errors_url=reverse("admin:intake_importjob_errors", args=[job.pk]),
            )
        return super().change_view(request, object_id, form_url, context)

    def changelist_view(
        self, request: HttpRequest, extra_context: dict[str, Any] | None = None
    ) -> HttpResponse:
        running = ImportJob.objects.filter(
            state__in=[ImportState.QUEUED, ImportState.RUNNING]
        ).exists()
        context = {"import_running": running, "refresh_seconds": REFRESH_SECONDS}
        return super().changelist_view(request, {**context, **(extra_context or {})})

    def errors_view(self, request: HttpRequest, object_id: str) -> HttpResponse:
        """The job's bad rows as a CSV file (row, column, reason)."""
        job = get_object_or_404(ImportJob, pk=object_id)
        if not self.has_view_permission(request, job):
            raise PermissionDenied
        response = HttpResponse(importer.errors_csv(job), content_type="text/csv; charset=utf-8")
        response["Content-Disposition"] = f'attachment; filename="import-{job.pk}-bad-rows.csv"'
        return response

    @admin.action(description=_("Import for real (the file of a dry run)"))
    def import_for_real(self, request: HttpRequest, queryset: QuerySet[ImportJob]) -> None:
        count = 0
        for job in queryset.filter(dry_run=True):
            importer.queue_again(job, dry_run=False, user=request.user)  # type: ignore[arg-type]
            count += 1
        self.message_user(request, gettext("%(n)s import(s) queued.") % {"n": count})

    @admin.action(description=_("Run again (rows already imported are skipped)"))
    def run_again(self, request: HttpRequest, queryset: QuerySet[ImportJob]) -> None:
        count = 0
        for job in queryset.exclude(state__in=[ImportState.QUEUED, ImportState.RUNNING]):
            importer.queue_again(job, user=request.user)  # type: ignore[arg-type]
            count += 1
        level = messages.SUCCESS if count else messages.WARNING
        self.message_user(
            request,
            gettext("%(n)s import(s) queued (not those still running).") % {"n": count},
            level,
        )


@admin.register(Mailbox)
class MailboxAdmin(admin.ModelAdmin):  # type: ignore[type-arg]
    list_display = (
        "name",
        "host",
        "port",
        "security",
        "username",
        "folder",
        "is_active",
        "last_polled_at",
        "last_error_at",
    )
    list_filter = ("is_active", "security")
    search_fields = ("name", "host", "username")
    fieldsets = (
        (
            None,
            {"fields": ("name", "is_active", ("host", "port", "security"), "username", "folder")},
        ),
        (_("Password (never stored here)"), {"fields": ("password_env", "password_file")}),
        (
            _("Reading"),
            {
                "fields": (
                    "last_polled_at",
                    "last_uid",
                    "uid_validity",
                    "last_error_at",
                    "last_error",
                )
            },
        ),
    )
    readonly_fields = ("last_polled_at", "last_uid", "uid_validity", "last_error_at", "last_error")


@admin.register(Source)
class SourceAdmin(admin.ModelAdmin):  # type: ignore[type-arg]
    list_display = ("code", "name", "kind", "channel", "is_active")
    list_filter = ("kind", "channel", "is_active")
    search_fields = ("code", "name", "app_id")
    fieldsets = (
        (None, {"fields": ("code", "name", "kind", "channel", "is_active", "app_id", "api_base")}),
        (
            _("Secrets (never stored here)"),
            {"fields": ("secret_env", "secret_file", "aes_key_env", "api_secret_env")},
        ),
    )


@admin.register(Conversation)
class ConversationAdmin(ReadOnlyAdmin):
    list_display = ("source", "external_id", "customer", "complaint", "last_message_at")
    list_filter = ("source",)
    search_fields = ("external_id",)
    list_select_related = ("source", "customer", "complaint")


@admin.register(InboundMessage)
class InboundMessageAdmin(ReadOnlyAdmin):
    list_display = (
        "received_at",
        "source_key",
        "channel",
        "outcome",
        "sender",
        "summary",
        "complaint",
    )
    list_filter = ("outcome", "channel", "source_key")
    search_fields = ("sender", "external_id")
    list_select_related = ("complaint",)
    # The table grows with every message: no full count on each page.
    show_full_result_count = False
