"""The performance report for integrators: `GET /api/reports/performance?days=30`."""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest
from django.utils.translation import gettext as _
from ninja import Router, Schema

from kesu.accounts.models import User
from kesu.api_support import BearerAuth, ErrorOut
from kesu.errors import FieldError, Forbidden, InvalidInput
from kesu.reports import selectors
from kesu.surveys.selectors import REPORT_ROLES

router = Router(tags=["reports"])
MAX_DAYS = 366


class RowOut(Schema):
    key: str
    name: str
    received: int
    open: int
    overdue: int
    high_risk_open: int
    resolved: int
    invalid: int
    acknowledged_on_time_pct: float | None
    contacted_on_time_pct: float | None
    resolved_on_time_pct: float | None
    median_resolution_hours: float | None
    reopen_rate_pct: float | None
    transfer_rate_pct: float | None
    escalated_outside: int


class CauseOut(Schema):
    code: str
    name: str
    received: int
    previous_period: int
    change_pct: float | None
    rising: bool
    ours_pct: float | None
    escalated_outside: int


class PerformanceOut(Schema):
    since: str
    until: str
    days: int
    total: RowOut
    departments: list[RowOut]
    handlers: list[RowOut]
    stores: list[RowOut]
    channels: list[RowOut]
    causes: list[CauseOut]


@router.get(
    "/reports/performance",
    auth=BearerAuth(),
    response={200: PerformanceOut, 403: ErrorOut, 422: ErrorOut},
    summary="KPIs per department, handler, store and channel, and the causes (managers, experts, "
    "admins, auditors)",
    openapi_extra={
        "parameters": [
            {
                "in": "query",
                "name": "days",
                "required": False,
                "schema": {"type": "integer", "minimum": 1, "maximum": MAX_DAYS, "default": 30},
                "description": "Complaints received in the last this many days.",
            }
        ]
    },
)
def performance(request: HttpRequest) -> dict[str, Any]:
    user = request.auth  # type: ignore[attr-defined]
    assert isinstance(user, User)
    if user.role not in REPORT_ROLES:
        raise Forbidden(_("Only managers, experts, administrators and auditors see this report."))
    errors = [
        FieldError(name, _("Unknown parameter.")) for name in sorted(set(request.GET) - {"days"})
    ]
    raw = request.GET.get("days", "30")
    if not (raw.isascii() and raw.isdigit() and len(raw) <= 3 and 1 <= int(raw) <= MAX_DAYS):
        errors.insert(
            0,
            FieldError("days", _("A whole number of days from 1 to %(max)s.") % {"max": MAX_DAYS}),
        )
    if errors:
        raise InvalidInput(errors)
    report = selectors.performance(user, days=int(raw))
    return {
        "since": report.since.isoformat(),
        "until": report.until.isoformat(),
        "days": report.days,
        "total": report.total.as_dict(),
        "departments": [r.as_dict() for r in report.departments],
        "handlers": [r.as_dict() for r in report.handlers],
        "stores": [r.as_dict() for r in report.stores],
        "channels": [r.as_dict() for r in report.channels],
        "causes": [c.as_dict() for c in report.causes],
    }
