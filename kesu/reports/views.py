"""The performance report: page, CSV and Excel (managers, experts, admins, auditors)."""

from __future__ import annotations

import csv
import io
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
    period = int(days) if days.isascii() and days.isdigit() and 1 <= int(days) <= 366 else 30
    report = selectors.performance(user, days=period)
    if request.GET.get("format") == "csv":
        return _csv(report)
    if request.GET.get("format") == "xlsx":
        return _xlsx(report)
    context = {"report": report, "days": period, "periods": PERIODS}
    return render(request, "reports/performance.html", context)


def _filename(report: selectors.Performance, extension: str) -> str:
    stamp = timezone.localtime(report.until).strftime("%Y%m%d")
    return f'attachment; filename="kesu-performance-{report.days}d-{stamp}.{extension}"'


def _groups(report: selectors.Performance) -> list[tuple[str, list[selectors.Row]]]:
    return [
        (_("All"), [report.total]),
        (_("Department"), report.departments),
        (_("Handler"), report.handlers),
        (_("Store"), report.stores),
        (_("Channel"), report.channels),
    ]


def _lines(rows: list[selectors.Row]) -> list[list[Any]]:
    columns = _columns()
    lines = []
    for row in rows:
        values = row.as_dict()
        lines.append([_text(row.label or _("All")), *(_cell(values[key]) for _t, key in columns)])
    return lines


_FORMULA = ("=", "+", "-", "@")
_CONTROL = dict.fromkeys(range(32))


def _text(value: str) -> str:
    """A name as a spreadsheet shows it: never a formula, no control characters."""
    value = value.translate(_CONTROL)
    return f"'{value}" if value.startswith(_FORMULA) else value


def _csv(report: selectors.Performance) -> HttpResponse:
    """One line per department, handler, store and channel, in the page's language."""
    response = HttpResponse(content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = _filename(report, "csv")
    response.write("\ufeff")  # so that Excel reads the Chinese as UTF-8
    writer = csv.writer(response)
    titles = [title for title, _key in _columns()]
    writer.writerow([_("Group"), pgettext("report", "Name"), *titles])
    for group, rows in _groups(report):
        writer.writerows([group, *line] for line in _lines(rows))
    return response


def _xlsx(report: selectors.Performance) -> HttpResponse:
    """An Excel workbook: a sheet for each grouping and one for the causes."""
    from openpyxl import Workbook

    book = Workbook(write_only=True)
    titles = [title for title, _key in _columns()]
    period = _("Complaints received from %(since)s to %(until)s") % {
        "since": timezone.localtime(report.since).strftime("%Y-%m-%d %H:%M"),
        "until": timezone.localtime(report.until).strftime("%Y-%m-%d %H:%M"),
    }
    for group, rows in _groups(report):
        sheet = book.create_sheet(group)
        sheet.append([period])
        sheet.append([pgettext("report", "Name"), *titles])
        for line in _lines(rows):
            sheet.append(line)
    sheet = book.create_sheet(_("Causes"))
    sheet.append([period])
    sheet.append([_("Category"), _("Received"), _("Period before"), _("Change (%)"),
                  _("Rising"), _("Ours (%)"), _("Escalated outside")])  # fmt: skip
    for cause in report.causes:
        c = cause.as_dict()
        sheet.append([_text(c["name"]), c["received"], c["previous_period"], _cell(c["change_pct"]),
                      _("yes") if c["rising"] else "", _cell(c["ours_pct"]),
                      c["escalated_outside"]])  # fmt: skip
    content = io.BytesIO()
    book.save(content)
    response = HttpResponse(
        content.getvalue(),
        content_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    )
    response["Content-Disposition"] = _filename(report, "xlsx")
    return response


def _columns() -> list[tuple[str, str]]:
    return [
        (_("Received"), "received"),
        (_("Open"), "open"),
        (_("Overdue"), "overdue"),
        (_("High escalation risk"), "high_risk_open"),
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
