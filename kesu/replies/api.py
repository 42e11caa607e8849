"""Reply checks and templates for integrators (the composer on the case page uses the same)."""

from __future__ import annotations

from typing import Any, Literal

from django.http import HttpRequest
from django.utils.translation import gettext as _
from ninja import Field, Router, Schema

from kesu.accounts.models import User
from kesu.api_support import BearerAuth, ErrorOut
from kesu.complaints.models import Complaint
from kesu.complaints.selectors import get_complaint_for_user
from kesu.errors import NotFound
from kesu.replies import services
from kesu.replies.selectors import templates_for

router = Router(tags=["replies"])


class CheckIn(Schema):
    text: str = Field(..., max_length=5000)
    language: Literal["zh", "en"] = "zh"
    reference: str | None = Field(None, description="The complaint replied to, if any")

    model_config = {"extra": "forbid"}


class FindingOut(Schema):
    rule: str
    severity: Literal["warn", "block"]
    start: int = Field(description="Character offset of the finding in the text")
    end: int
    message: str
    suggestion: str


class CheckOut(Schema):
    findings: list[FindingOut]


def _user(request: HttpRequest) -> User:
    user = request.auth  # type: ignore[attr-defined]
    assert isinstance(user, User)
    return user


def _complaint(request: HttpRequest, reference: str) -> Complaint:
    try:
        return get_complaint_for_user(_user(request), reference)
    except Complaint.DoesNotExist:
        raise NotFound(_("No such complaint.")) from None


@router.post(
    "/replies/check",
    auth=BearerAuth(),
    response={200: CheckOut, 404: ErrorOut, 422: ErrorOut},
    summary="Check a reply: forbidden phrases, blame, vague promises, CLEAR, others' data",
)
def check_reply(request: HttpRequest, payload: CheckIn) -> dict[str, Any]:
    complaint = _complaint(request, payload.reference) if payload.reference else None
    findings = services.check(payload.text, language=payload.language, complaint=complaint)
    return {"findings": [f.as_dict() for f in findings]}


class TemplateOut(Schema):
    id: int
    name: str
    language: str
    category: str
    text: str = Field(description="The template filled in for the complaint")


@router.get(
    "/complaints/{reference}/reply-templates",
    auth=BearerAuth(),
    response={200: list[TemplateOut], 404: ErrorOut},
    summary="The reply templates for this complaint's category and language, filled in",
)
def reply_templates(request: HttpRequest, reference: str) -> list[dict[str, Any]]:
    complaint = _complaint(request, reference)
    language = services.reply_language(complaint)
    return [
        {"id": t.pk, "name": t.name, "language": t.language, "category": t.category,
         "text": services.render_template(t, complaint)}
        for t in templates_for(category=complaint.category, language=language)
    ]  # fmt: skip
