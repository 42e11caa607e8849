"""Staff endpoints: list, log, read and move complaints (bearer token)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from django import forms
from django.http import FileResponse, HttpRequest
from django.utils import timezone
from django.utils.choices import CallableChoiceIterator
from django.utils.translation import gettext as _
from ninja import Field, File, Router, Schema, Status
from ninja.files import UploadedFile

from kesu.accounts.models import Department, User
from kesu.api_support import BearerAuth, ErrorOut, StrictJSONParser
from kesu.complaints import attachments as files
from kesu.complaints import selectors, services
from kesu.complaints.events import Directory, action_label, describe, kind_label
from kesu.complaints.forms import QueueFilterForm
from kesu.complaints.models import AccessLog, Attachment, Complaint, Event
from kesu.complaints.workflow import Action, allowed_actions, perform, rule_for
from kesu.customers.contact import mask_email, mask_phone
from kesu.errors import FieldError, InvalidInput, NotFound
from kesu.intake.services import fingerprint, parse_incoming, receive_once
from kesu.triage import risk
from kesu.triage.explain import headline, reason_text

router = Router(tags=["complaints"])


# --- Shapes -------------------------------------------------------------------------------------


class CustomerOut(Schema):
    name: str
    phone: str
    email: str
    tier: str


class ComplaintSummaryOut(Schema):
    reference: str
    state: str
    closure: str
    channel: str
    subject: str
    description: str
    nature: str
    category: str
    grade: str
    priority: str
    escalation_level: int
    flags: list[str]
    needs_review: bool
    ack_due: datetime
    first_contact_due: datetime
    resolve_due: datetime
    update_due: datetime | None
    overdue: bool
    alert_level: int = Field(
        description="An open risk alert's level (3 experts, 4 executives); 0: none."
    )
    risk_level: str | None = Field(
        description="Escalation risk (E3): low, medium or high; null if never scored"
    )
    risk_score: int | None = Field(description="Escalation risk score, 0–100")
    department: str | None
    assignee: str | None
    store: str | None
    received_at: datetime
    customer: CustomerOut


class RemedyOut(Schema):
    type: str
    amount: str | None
    description: str
    status: str
    proposed_by: str | None
    approved_by: str | None
    due: datetime | None


class AttachmentOut(Schema):
    id: int
    name: str
    content_type: str
    size: int
    internal: bool
    uploaded_at: datetime
    url: str


class TriageOut(Schema):
    score: int
    emotion: str
    category_confidence: float | None
    category_confirmed: bool
    headline: str
    reasons: list[dict[str, Any]]
    risk_headline: str
    risk_reasons: list[dict[str, Any]]


class ClockOut(Schema):
    target: str = Field(description="acknowledge, first_contact, update, resolve or expert")
    allowed: str = Field(
        description="The duration allowed, e.g. 15d (working time on a business calendar)"
    )
    started_at: datetime
    warn_at: datetime
    due_at: datetime
    stopped_at: datetime | None = Field(
        description="When the target was met (or no longer applied)"
    )
    paused: bool = Field(description="Paused while the complaint awaits the customer")
    warned_at: datetime | None
    breached_at: datetime | None
    escalation_step: int = Field(description="The escalation chain's level reached (0–4)")
    extended: bool


class SlaOut(Schema):
    policy: str | None
    alert_raised_at: datetime | None
    alerted_flags: list[str]
    clocks: list[ClockOut]


class ComplaintOut(ComplaintSummaryOut):
    occurred_at: datetime | None
    product: str
    order_ref: str
    amount: str | None
    demand: str
    demand_detail: str
    language: str
    responsibility: str
    root_cause: str
    corrective_action: str
    resolution: str
    remedy: RemedyOut
    satisfaction: int | None
    transfers: int
    reopens: int
    rejections: int
    acknowledged_at: datetime | None
    first_contact_at: datetime | None
    resolved_at: datetime | None
    closed_at: datetime | None
    merged_into: str | None
    created_by: str | None
    attachments: list[AttachmentOut]
    triage: TriageOut
    sla: SlaOut


class CreatedComplaintOut(ComplaintOut):
    created: bool = Field(
        description="false: the same complaint from this customer was open, and this joined "
        "it as a customer message (answered 200, without a token)"
    )
    tracking_token: str
    tracking_url: str


class ComplaintListOut(Schema):
    items: list[ComplaintSummaryOut]
    total: int
    page: int
    page_size: int


class EventOut(Schema):
    id: int
    kind: str
    label: str
    text: str
    at: datetime
    actor: str | None
    from_state: str
    to_state: str
    customer_visible: bool
    data: dict[str, Any]


class EventListOut(Schema):
    items: list[EventOut]
    total: int


class FieldOut(Schema):
    name: str
    label: str
    type: str
    required: bool
    choices: list[str] | None


class ActionOut(Schema):
    action: str
    label: str
    fields: list[FieldOut]


class ActionListOut(Schema):
    items: list[ActionOut]
    total: int


class ActionDoneOut(Schema):
    event: EventOut
    complaint: ComplaintOut


class DepartmentOut(Schema):
    code: str
    name_zh: str
    name_en: str


# --- Serialisation ------------------------------------------------------------------------------


def _username(user: User | None) -> str | None:
    return user.username if user is not None else None


def summary(c: Complaint, *, now: datetime | None = None, masked: bool = True) -> dict[str, Any]:
    customer = c.customer
    return {
        "reference": c.reference,
        "state": c.state,
        "closure": c.closure,
        "channel": c.channel,
        "subject": c.subject,
        "description": c.description,
        "nature": c.nature,
        "category": c.category,
        "grade": c.grade,
        "priority": c.priority,
        "escalation_level": c.escalation_level,
        "flags": c.flags.split(),
        "needs_review": c.needs_review,
        "risk_level": c.risk_level if c.risk_scored_at else None,
        "risk_score": c.risk_score if c.risk_scored_at else None,
        "ack_due": c.ack_due,
        "first_contact_due": c.first_contact_due,
        "resolve_due": c.resolve_due,
        "update_due": c.update_due,
        "overdue": selectors.is_overdue(c, now),
        "alert_level": c.alert_level if c.alert_raised_at else 0,
        "department": c.department.code if c.department else None,
        "assignee": _username(c.assignee),
        "store": c.store.code if c.store else None,
        "received_at": c.received_at,
        "customer": {
            "name": customer.name,
            # DESIGN: personal data is masked in lists; the full record is access-logged.
            "phone": mask_phone(customer.phone) if masked else customer.phone,
            "email": mask_email(customer.email) if masked and customer.email else customer.email,
            "tier": customer.tier,
        },
    }


def attachment_json(a: Attachment, reference: str) -> dict[str, Any]:
    return {
        "id": a.pk,
        "name": a.original_name,
        "content_type": a.content_type,
        "size": a.size,
        "internal": a.internal,
        "uploaded_at": a.uploaded_at,
        "url": f"/api/complaints/{reference}/attachments/{a.pk}",
    }


def sla_json(c: Complaint) -> dict[str, Any]:
    return {
        "policy": c.policy.name if c.policy else None,
        "alert_raised_at": c.alert_raised_at,
        "alerted_flags": c.alerted_flags.split(),
        "clocks": [
            {
                "target": k.target, "allowed": k.allowed, "started_at": k.started_at,
                "warn_at": k.warn_at, "due_at": k.due_at, "stopped_at": k.stopped_at,
                "paused": k.paused_at is not None, "warned_at": k.warned_at,
                "breached_at": k.breached_at, "escalation_step": k.level, "extended": k.extended,
            }
            for k in c.clocks.order_by("pk")
        ],
    }  # fmt: skip


def detail(c: Complaint) -> dict[str, Any]:
    data = summary(c, masked=False)
    data.update(
        {
            "occurred_at": c.occurred_at,
            "product": c.product,
            "order_ref": c.order_ref,
            "amount": str(c.amount) if c.amount is not None else None,
            "demand": c.demand,
            "demand_detail": c.demand_detail,
            "language": c.language,
            "responsibility": c.responsibility,
            "root_cause": c.root_cause,
            "corrective_action": c.corrective_action,
            "resolution": c.resolution,
            "remedy": {
                "type": c.remedy_type,
                "amount": str(c.remedy_amount) if c.remedy_amount is not None else None,
                "description": c.remedy_description,
                "status": c.remedy_status,
                "proposed_by": _username(c.remedy_proposed_by),
                "approved_by": _username(c.remedy_approved_by),
                "due": c.remedy_due,
            },
            "satisfaction": c.satisfaction,
            "transfers": c.transfers,
            "reopens": c.reopens,
            "rejections": c.rejections,
            "acknowledged_at": c.acknowledged_at,
            "first_contact_at": c.first_contact_at,
            "resolved_at": c.resolved_at,
            "closed_at": c.closed_at,
            "merged_into": c.merged_into.reference if c.merged_into else None,
            "created_by": _username(c.created_by),
            "attachments": [attachment_json(a, c.reference) for a in c.attachments.all()],
            "sla": sla_json(c),
            "triage": {
                "score": c.triage_score,
                "emotion": c.emotion,
                "category_confidence": c.category_confidence,
                "category_confirmed": c.category_confirmed,
                "headline": headline(c.grade, c.triage_reasons or []),
                # Each reason's codes as stored, with the sentence in the request's language.
                "reasons": [{**r, "text": reason_text(r)} for r in c.triage_reasons or []],
                "risk_headline": risk.headline(c) if c.risk_scored_at else "",
                "risk_reasons": [{**r, "text": risk.reason_text(r)} for r in c.risk_reasons or []],
            },
        }
    )
    return data


def event_json(e: Event, names: Directory | None = None) -> dict[str, Any]:
    return {
        "id": e.pk,
        "kind": e.kind,
        "label": kind_label(e.kind),
        "text": describe(e, names),
        "at": e.at,
        "actor": _username(e.actor),
        "from_state": e.from_state,
        "to_state": e.to_state,
        "customer_visible": e.customer_visible,
        "data": e.data,
    }


def _field_type(field: forms.Field) -> str:
    if isinstance(field, forms.BooleanField):
        return "boolean"
    if isinstance(field, forms.DecimalField):
        return "number"
    if isinstance(field, forms.DateTimeField):
        return "datetime"
    if isinstance(field, forms.DateField):
        return "date"
    if isinstance(field, forms.IntegerField):
        return "integer"
    if isinstance(field, forms.TypedChoiceField) and field.coerce is int:
        return "integer"
    return "string"


def _choices(field: forms.Field, *, from_database: bool = True) -> list[str] | None:
    """The codes a choice field accepts (taxonomy codes only when the database may be read)."""
    if isinstance(field, forms.ModelChoiceField) or not isinstance(field, forms.ChoiceField):
        return None
    if isinstance(field.choices, CallableChoiceIterator) and not from_database:
        return None
    codes: list[str] = []
    for value, label in list(field.choices):  # type: ignore[arg-type]
        if isinstance(label, (list, tuple)):  # an <optgroup>: the codes are inside
            codes.extend(str(inner) for inner, _label in label)
        elif value != "":
            codes.append(str(value))
    return codes


def action_json(action: Action) -> dict[str, Any]:
    form_class = rule_for(action.value).form
    return {
        "action": action.value,
        "label": action_label(action.value),
        "fields": [
            {
                "name": name,
                "label": str(field.label or name),
                "type": _field_type(field),
                "required": field.required,
                "choices": _choices(field),
            }
            for name, field in form_class.base_fields.items()
        ],
    }


def _user(request: HttpRequest) -> User:
    user = request.auth  # type: ignore[attr-defined]
    assert isinstance(user, User)
    return user


def _complaint(request: HttpRequest, reference: str) -> Complaint:
    try:
        return selectors.get_complaint_for_user(_user(request), reference)
    except Complaint.DoesNotExist:
        raise NotFound(_("No complaint %(ref)s.") % {"ref": reference}) from None


def _form_errors(form: forms.Form) -> InvalidInput:
    return InvalidInput(
        [
            FieldError(name if name != "__all__" else "query", str(message))
            for name, messages in form.errors.items()
            for message in messages
        ]
    )


def _queue_parameters() -> list[dict[str, Any]]:
    """OpenAPI parameters of the list, made from the same form that validates them."""
    return [
        {
            "in": "query",
            "name": name,
            "required": False,
            "description": str(field.label or name),
            "schema": {"type": "string", "enum": _choices(field)}
            if _choices(field)
            else {
                "type": {"integer": "integer", "boolean": "boolean"}.get(
                    _field_type(field), "string"
                )
            },
        }
        for name, field in QueueFilterForm.base_fields.items()
    ]


def _action_body_doc() -> str:
    lines = ["JSON body per action (fields; * = required):"]
    for action in Action:
        fields = rule_for(action.value).form.base_fields
        described = ", ".join(
            f"{name}{'*' if f.required else ''}"
            + (
                f" ({'|'.join(_choices(f, from_database=False) or [])})"
                if _choices(f, from_database=False)
                else ""
            )
            for name, f in fields.items()
        )
        lines.append(f"- `{action.value}`: {described or '{}'}")
    return "\n".join(lines)


# --- Endpoints ----------------------------------------------------------------------------------


@router.get(
    "/complaints",
    auth=BearerAuth(),
    response={200: ComplaintListOut, 422: ErrorOut},
    openapi_extra={"parameters": _queue_parameters()},
    summary="List complaints (queue filters, keyword search, paginated)",
)
def list_complaints(request: HttpRequest) -> dict[str, Any]:
    form = QueueFilterForm(request.GET)
    if not form.is_valid():
        raise _form_errors(form)
    unknown = set(request.GET) - set(QueueFilterForm.base_fields)
    if unknown:
        raise InvalidInput([FieldError(name, _("Unknown parameter.")) for name in sorted(unknown)])
    page = selectors.queue_page(_user(request), form.cleaned_data)
    now = timezone.now()
    return {
        "items": [summary(c, now=now) for c in page.items],
        "total": page.total,
        "page": page.page,
        "page_size": page.page_size,
    }


class StaffComplaintIn(Schema):
    description: str
    channel: str
    subject: str | None = None
    name: str | None = None
    phone: str | None = None
    email: str | None = None
    occurred_at: str | None = None
    store: str | None = None
    product: str | None = None
    order_ref: str | None = None
    amount: float | str | None = None
    demand: str | None = None
    demand_detail: str | None = None
    language: str | None = None
    customer_tier: str | None = None
    nature: str | None = None
    category: str | None = None
    grade: str | None = None
    priority: str | None = None
    escalation_level: int | None = None
    department: str | None = None
    assignee: str | None = None

    model_config = {"extra": "forbid"}


@router.post(
    "/complaints",
    auth=BearerAuth(),
    response={201: CreatedComplaintOut, 200: CreatedComplaintOut, 403: ErrorOut, 422: ErrorOut},
    summary="Log a complaint (hotline, store counter, walk-in …); honours Idempotency-Key",
)
def create_complaint(request: HttpRequest, payload: StaffComplaintIn) -> Status[dict[str, Any]]:
    raw = payload.model_dump(exclude_none=True)
    incoming = parse_incoming(raw, staff=True)
    answer, _replayed = receive_once(
        incoming,
        key=request.headers.get("Idempotency-Key"),
        payload_fingerprint=fingerprint({"staff": _user(request).pk, **raw}),
        actor=_user(request),
    )
    complaint = _complaint(request, answer["reference"])
    body = detail(complaint)
    body["created"] = answer.get("created", True)  # answers stored before joins existed
    body["tracking_token"] = answer["tracking_token"]
    body["tracking_url"] = answer["tracking_url"]
    return Status(201 if body["created"] else 200, body)


@router.get(
    "/complaints/{reference}",
    auth=BearerAuth(),
    response={200: ComplaintOut, 404: ErrorOut},
    summary="One complaint, in full (the access is logged)",
)
def get_complaint(request: HttpRequest, reference: str) -> dict[str, Any]:
    complaint = _complaint(request, reference)
    services.record_access(user=_user(request), complaint=complaint, via=AccessLog.Via.API)
    return detail(complaint)


@router.get(
    "/complaints/{reference}/actions",
    auth=BearerAuth(),
    response={200: ActionListOut, 404: ErrorOut},
    summary="The actions this user may take on the complaint now, with their fields",
)
def list_actions(request: HttpRequest, reference: str) -> dict[str, Any]:
    complaint = _complaint(request, reference)
    items = [action_json(a) for a in allowed_actions(complaint, _user(request))]
    return {"items": items, "total": len(items)}


@router.post(
    "/complaints/{reference}/actions/{action}",
    auth=BearerAuth(),
    response={200: ActionDoneOut, 403: ErrorOut, 404: ErrorOut, 409: ErrorOut, 422: ErrorOut},
    summary="Take a workflow action",
    description=_action_body_doc(),
    openapi_extra={
        "requestBody": {
            "required": False,
            "content": {"application/json": {"schema": {"type": "object"}}},
        }
    },
)
def take_action(request: HttpRequest, reference: str, action: str) -> dict[str, Any]:
    rule_for(action)  # an unknown action is a 404 before anything else
    complaint = _complaint(request, reference)
    data: Any = {}
    if request.body:
        try:
            data = StrictJSONParser().parse_body(request)
        except ValueError as error:
            raise InvalidInput.one("body", str(error)) from None
    if not isinstance(data, dict):
        raise InvalidInput.one("body", _("The body must be a JSON object."))
    event = perform(complaint, action, _user(request), **data)
    complaint = _complaint(request, reference)
    return {"event": event_json(event), "complaint": detail(complaint)}


@router.get(
    "/complaints/{reference}/events",
    auth=BearerAuth(),
    response={200: EventListOut, 404: ErrorOut},
    summary="The complaint's timeline, oldest first",
)
def list_events(request: HttpRequest, reference: str) -> dict[str, Any]:
    complaint = _complaint(request, reference)
    events = list(selectors.staff_timeline(complaint))
    names = Directory.for_events(events)
    items = [event_json(e, names) for e in events]
    return {"items": items, "total": len(items)}


@router.post(
    "/complaints/{reference}/attachments",
    auth=BearerAuth(),
    response={201: list[AttachmentOut], 403: ErrorOut, 404: ErrorOut, 422: ErrorOut},
    summary="Attach evidence files (multipart field `files`)",
)
def upload_attachments(
    request: HttpRequest,
    reference: str,
    files_: list[UploadedFile] = File(..., alias="files"),  # type: ignore[type-arg]  # noqa: B008
    internal: bool = False,
) -> Status[list[dict[str, Any]]]:
    complaint = _complaint(request, reference)
    checked = files.check_uploads(list(files_), field="files")
    saved = services.add_attachments(
        complaint=complaint, uploads=checked, by=_user(request), internal=internal
    )
    return Status(201, [attachment_json(a, complaint.reference) for a in saved])


@router.get(
    "/complaints/{reference}/attachments/{attachment_id}",
    auth=BearerAuth(),
    response={404: ErrorOut},
    summary="Download an attachment (the access is logged)",
)
def download_attachment(request: HttpRequest, reference: str, attachment_id: int) -> FileResponse:
    complaint = _complaint(request, reference)
    attachment = complaint.attachments.filter(pk=attachment_id).first()
    if attachment is None:
        raise NotFound(_("No such attachment."))
    services.record_access(user=_user(request), complaint=complaint, via=AccessLog.Via.ATTACHMENT)
    return FileResponse(
        attachment.file.open("rb"),
        as_attachment=True,
        filename=attachment.original_name,
        content_type=attachment.content_type,
    )


@router.get(
    "/departments",
    auth=BearerAuth(),
    response=list[DepartmentOut],
    summary="Departments, by code (for assign and transfer)",
)
def list_departments(request: HttpRequest) -> list[dict[str, Any]]:
    return [
        {"code": d.code, "name_zh": d.name_zh, "name_en": d.name_en}
        for d in Department.objects.filter(is_active=True)
    ]
