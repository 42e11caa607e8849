"""Public endpoints: a customer (or a channel on their behalf) files and tracks a complaint."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from django.http import HttpRequest, HttpResponse
from django.utils.translation import gettext as _
from ninja import Field, Router, Schema, Status

from kesu.api_support import ErrorOut
from kesu.complaints.events import describe_for_customer, kind_label_for_customer, state_label
from kesu.complaints.models import Complaint
from kesu.complaints.selectors import customer_timeline, get_complaint_for_customer
from kesu.errors import NotFound
from kesu.intake import ratelimit
from kesu.intake.services import (
    decide_remedy,
    fingerprint,
    parse_incoming,
    receive_message,
    receive_once,
)

router = Router(tags=["public"])


class PublicComplaintIn(Schema):
    description: str
    name: str | None = None
    phone: str | None = None
    email: str | None = None
    subject: str | None = None
    channel: str | None = None
    occurred_at: str | None = None
    store: str | None = None
    order_ref: str | None = None
    product: str | None = None
    amount: float | str | None = None
    demand: str | None = None
    demand_detail: str | None = None
    language: str | None = None

    model_config = {"extra": "forbid"}


class PublicComplaintOut(Schema):
    reference: str
    created: bool = Field(
        description="false: the same complaint from this customer was open, and this joined "
        "it (answered 200, without a token: the first acknowledgement carried it)"
    )
    tracking_token: str
    status: str
    tracking_url: str


class TimelineItem(Schema):
    at: datetime
    kind: str
    label: str
    text: str


class TrackingOut(Schema):
    reference: str
    status: str
    status_label: str
    closure: str
    subject: str
    received_at: datetime
    resolve_due: datetime
    merged_into: str | None
    timeline: list[TimelineItem]


@router.post(
    "/complaints",
    response={201: PublicComplaintOut, 200: PublicComplaintOut, 422: ErrorOut, 429: ErrorOut},
    summary="File a complaint (no authentication; rate-limited; honours Idempotency-Key for 24 h)",
)
def file_complaint(
    request: HttpRequest, payload: PublicComplaintIn, response: HttpResponse
) -> Status[dict[str, Any]]:
    ratelimit.check(request, "intake")
    raw = payload.model_dump(exclude_none=True)
    incoming = parse_incoming(raw, staff=False)
    answer, replayed = receive_once(
        incoming,
        key=request.headers.get("Idempotency-Key"),
        payload_fingerprint=fingerprint(raw),
        actor=None,
    )
    if replayed:
        response["Idempotent-Replayed"] = "true"
    answer.setdefault("created", True)  # answers stored before joins existed
    return Status(201 if answer["created"] else 200, answer)


def tracking_json(complaint: Complaint) -> dict[str, Any]:
    return {
        "reference": complaint.reference,
        "status": complaint.state,
        "status_label": state_label(complaint.state),
        "closure": complaint.closure,
        "subject": complaint.subject,
        "received_at": complaint.received_at,
        "resolve_due": complaint.resolve_due,
        "merged_into": complaint.merged_into.reference if complaint.merged_into else None,
        "timeline": [
            {
                "at": event.at,
                "kind": event.kind,
                "label": kind_label_for_customer(event.kind),
                "text": describe_for_customer(event),
            }
            for event in customer_timeline(complaint)
        ],
    }


@router.get(
    "/complaints/{reference}",
    response={200: TrackingOut, 404: ErrorOut, 429: ErrorOut},
    summary="Track a complaint with its tracking token (customer-visible timeline only)",
)
def track_complaint(request: HttpRequest, reference: str, token: str = "") -> dict[str, Any]:
    ratelimit.check(request, "track")
    try:
        complaint = get_complaint_for_customer(reference, token)
    except Complaint.DoesNotExist:
        raise NotFound(_("No complaint with this reference and token.")) from None
    return tracking_json(complaint)


class MessageIn(Schema):
    text: str = Field(..., description="What the customer adds (at most 5,000 characters).")

    model_config = {"extra": "forbid"}


@router.post(
    "/complaints/{reference}/messages",
    response={201: TrackingOut, 404: ErrorOut, 409: ErrorOut, 422: ErrorOut, 429: ErrorOut},
    summary="The customer writes again about an open complaint (tracking token; re-triages it)",
)
def add_message(
    request: HttpRequest, reference: str, payload: MessageIn, token: str = ""
) -> Status[dict[str, Any]]:
    ratelimit.check(request, "intake")
    try:
        complaint = get_complaint_for_customer(reference, token)
    except Complaint.DoesNotExist:
        raise NotFound(_("No complaint with this reference and token.")) from None
    receive_message(complaint, text=payload.text)
    complaint.refresh_from_db()
    return Status(201, tracking_json(complaint))


class DecisionIn(Schema):
    accept: bool = Field(..., description="true: carry out the proposal; false: reject it")
    reason: str | None = Field(None, description="Why not (required to reject)")

    model_config = {"extra": "forbid"}


@router.post(
    "/complaints/{reference}/decision",
    response={200: TrackingOut, 404: ErrorOut, 409: ErrorOut, 422: ErrorOut, 429: ErrorOut},
    summary="The customer accepts or rejects the proposed remedy (tracking token)",
)
def decide(
    request: HttpRequest, reference: str, payload: DecisionIn, token: str = ""
) -> dict[str, Any]:
    ratelimit.check(request, "intake")
    try:
        complaint = get_complaint_for_customer(reference, token)
    except Complaint.DoesNotExist:
        raise NotFound(_("No complaint with this reference and token.")) from None
    decide_remedy(complaint, accept=payload.accept, reason=payload.reason or "")
    complaint.refresh_from_db()
    return tracking_json(complaint)


class SurveyIn(Schema):
    resolved: bool
    score: int = Field(..., description="Satisfaction, 1 (not at all) to 5 (very)")
    comment: str | None = None

    model_config = {"extra": "forbid"}


class SurveyOut(Schema):
    reference: str
    status: str
    reopened: bool


@router.post(
    "/complaints/{reference}/survey",
    response={200: SurveyOut, 404: ErrorOut, 409: ErrorOut, 422: ErrorOut, 429: ErrorOut},
    summary="The customer answers the satisfaction survey (the code from its link, `t`)",
)
def answer(request: HttpRequest, reference: str, payload: SurveyIn, t: str = "") -> dict[str, Any]:
    from kesu.surveys.models import Survey
    from kesu.surveys.services import answer_survey, survey_for_customer

    ratelimit.check(request, "intake")
    try:
        survey = survey_for_customer(reference, t)
    except Survey.DoesNotExist:
        raise NotFound(_("No survey with this reference and code.")) from None
    answer_survey(survey, resolved=payload.resolved, score=payload.score,
                  comment=payload.comment or "")  # fmt: skip
    complaint = Complaint.objects.get(pk=survey.complaint_id)
    return {"reference": complaint.reference, "status": complaint.state,
            "reopened": complaint.state == "investigating"}  # fmt: skip
