"""Small display helpers for Kesu's pages."""

from __future__ import annotations

from datetime import datetime, timedelta

from django import template
from django.utils import timezone
from django.utils.html import format_html
from django.utils.safestring import SafeString
from django.utils.translation import gettext as _

from kesu.complaints.models import Complaint, Flag, State
from kesu.customers.contact import mask_phone

register = template.Library()

SOON = timedelta(hours=24)


def _span(delta: timedelta) -> str:
    seconds = abs(int(delta.total_seconds()))
    if seconds >= 86400:
        return _("%(n)s d") % {"n": seconds // 86400}
    if seconds >= 3600:
        return _("%(n)s h") % {"n": seconds // 3600}
    return _("%(n)s min") % {"n": max(1, seconds // 60)}


@register.simple_tag
def due_badge(complaint: Complaint, now: datetime | None = None) -> SafeString:
    """'due in 3 h' / 'overdue 2 d' / 'paused' for an open complaint's resolution deadline."""
    if not complaint.is_open:
        return SafeString("")
    paused = complaint.state == State.AWAITING_CUSTOMER
    return countdown(complaint.resolve_due, now, paused=paused)


@register.simple_tag
def countdown(
    due: datetime | None,
    now: datetime | None = None,
    *,
    paused: bool = False,
    met: datetime | None = None,
) -> SafeString:
    """A deadline as a badge: met ✓, paused (awaiting the customer), due in …, overdue …."""
    if due is None:
        return SafeString("")
    title = timezone.localtime(due).strftime("%Y-%m-%d %H:%M")
    if met is not None:
        return format_html('<span class="badge due met" title="{}">✓ {}</span>', title,
                           timezone.localtime(met).strftime("%m-%d %H:%M"))  # fmt: skip
    if paused:
        return format_html('<span class="badge due paused" title="{}">{}</span>', title,
                           _("paused: awaiting the customer"))  # fmt: skip
    left = due - (now or timezone.now())
    if left < timedelta(0):
        return format_html('<span class="badge due over" title="{}">{}</span>', title,
                           _("overdue %(span)s") % {"span": _span(left)})  # fmt: skip
    css = "due soon" if left < SOON else "due"
    return format_html('<span class="badge {}" title="{}">{}</span>', css, title,
                       _("due in %(span)s") % {"span": _span(left)})  # fmt: skip


@register.filter
def masked_phone(value: str) -> str:
    return mask_phone(value) if value else ""


@register.simple_tag(takes_context=True)
def query_with(context: template.Context, **changes: object) -> str:
    """The current query string with some parameters replaced (for tabs and pages)."""
    query = context["request"].GET.copy()
    for key, value in changes.items():
        if value in (None, ""):
            query.pop(key, None)
        else:
            query[key] = str(value)
    return "?" + query.urlencode() if query else "?"


@register.filter
def state_label(code: str) -> str:
    from kesu.complaints.events import state_label as label

    return label(code)


@register.filter
def flag_list(flags: str) -> list[tuple[str, str]]:
    """A complaint's space-separated risk flags as (code, label) pairs."""
    return [(code, str(Flag(code).label)) for code in (flags or "").split() if code in Flag.values]
