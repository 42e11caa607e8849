"""The performance report's page and its CSV download (managers, experts, admins, auditors)."""

from __future__ import annotations

import csv
from typing import Any

from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import pgettext

from kesu.accounts.models import User
from kesu.reports import selectors
from kesu.surveys.selectors import REPORT_ROLES

PERIODS = (7, 30, 90, 365)


@login_required
def performance(request: HttpRequest) -> HttpResponse:
    user = request.user
    assert isinstance(user, User)
    if user.role not in REPORT_ROLES:
        raise Http404(_("Only managers, experts, administrators and auditors see this report."))
    days = request.GET.get("days", "30")
    period = int(days) if days.isdigit() and 1 <= int(days) <= 366 else 30
    report = selectors.performance(user, days=period)
    if request.GET.get("format") == "csv":
        return _csv(report)
    context = {"report": report, "days": period, "periods": PERIODS}
    return render(request, "reports/performance.html", context)


def _csv(report: selectors.Performance) -> HttpResponse:
    """One line per department, handler and store, in the page's language, for a spreadsheet."""
    stamp = timezone.localtime(report.until).strftime("%Y%m%d")
    response = HttpResponse(content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = (
        f'attachment; filename="kesu-performance-{report.days}d-{stamp}.csv"'
    )
    response.write("\ufeff")  # so that Excel reads the Chinese as UTF-8
    writer = csv.writer(response)
    columns = _columns()
    writer.writerow([_("Group"), pgettext("report", "Name"), *(t for t, _k in columns)])
    groups: list[tuple[str, list[selectors.Row]]] = [
        (_("All"), [report.total]),
        (_("Department"), report.departments),
        (_("Handler"), report.handlers),
        (_("Store"), report.stores),
    ]
    for group, rows in groups:
        for row in rows:
            values = row.as_dict()
            writer.writerow(
                [group, row.label or _("All"), *(_cell(values[k]) for _t, k in columns)]
            )
    return response


def _columns() -> list[tuple[str, str]]:
    return [
        (_("Received"), "received"),
        (_("Open"), "open"),
        (_("Overdue"), "overdue"),
        (_("Resolved"), "resolved"),
        (_("Closed as invalid"), "invalid"),
        (_("Acknowledged on time (%)"), "acknowledged_on_time_pct"),
        (_("Contacted on time (%)"), "contacted_on_time_pct"),
        (_("Resolved on time (%)"), "resolved_on_time_pct"),
        (_("Median time to resolve (hours)"), "median_resolution_hours"),
        (_("Reopen rate (%)"), "reopen_rate_pct"),
        (_("Transfer rate (%)"), "transfer_rate_pct"),
        (_("Escalated outside"), "escalated_outside"),
    ]


def _cell(value: Any) -> Any:
    return "" if value is None else value
