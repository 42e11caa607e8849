"""Replies: check a text, fill a template for a complaint (the sending is the `reply` action)."""

from __future__ import annotations

import re

from django.conf import settings
from django.db.models import Q
from django.utils import timezone

from kesu.complaints.models import Complaint, Event
from kesu.replies import selectors
from kesu.replies.checks import Finding, Recipient, check_reply
from kesu.replies.models import VARIABLES, ReplyTemplate


def reply_language(complaint: Complaint | None, asked: str = "") -> str:
    """zh or en: the one asked for, else the complaint's, else Chinese."""
    if asked in ("zh", "en"):
        return asked
    if complaint is not None and complaint.language.startswith("en"):
        return "en"
    return "zh"


def is_first_reply(complaint: Complaint) -> bool:
    """Whether staff have not written to the customer yet (CLEAR applies to the first reply)."""
    said = Event.objects.filter(complaint=complaint).filter(
        Q(kind="reply") | Q(kind="note", customer_visible=True)
    )
    return not said.exists()


def recipient_of(complaint: Complaint) -> Recipient:
    return Recipient(complaint.reference, complaint.customer.phone, is_first_reply(complaint))


def check(text: str, *, language: str, complaint: Complaint | None = None) -> list[Finding]:
    """The findings on a reply, for a complaint when given (its customer, first reply or not)."""
    language = reply_language(complaint, language)
    recipient = recipient_of(complaint) if complaint is not None else None
    return check_reply(text, language=language, phrases=selectors.phrases(language),
                       recipient=recipient)  # fmt: skip


def _local(moment: object) -> str:
    if moment is None:
        return ""
    return f"{timezone.localtime(moment):%Y-%m-%d %H:%M}"  # type: ignore[arg-type]


def render_template(template: ReplyTemplate, complaint: Complaint) -> str:
    """The template's text with the complaint's values put in for its {variables}."""
    values = {
        "customer_name": complaint.customer.name or ("客户" if template.language == "zh" else
                                                     "customer"),
        "reference": complaint.reference,
        "first_contact_due": _local(complaint.first_contact_due),
        "resolve_due": _local(complaint.resolve_due),
        "handler_name": complaint.assignee.label if complaint.assignee else "",
        "org_name": settings.KESU_ORG_NAME,
        "tracking_page": f"{settings.KESU_BASE_URL}/track/",
    }  # fmt: skip
    assert set(values) == set(VARIABLES)
    return re.sub(r"\{(\w+)\}", lambda m: values.get(m.group(1), m.group(0)), template.body)
