"""The customer's pages (file and track a complaint) and the staff's "log a complaint" page."""

from __future__ import annotations

import uuid
from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.http import urlencode
from django.utils.translation import get_language
from django.utils.translation import gettext as _

from kesu.accounts.models import User
from kesu.complaints import attachments as files
from kesu.complaints.events import describe_for_customer, kind_label_for_customer
from kesu.complaints.models import Complaint, RemedyStatus, State
from kesu.complaints.selectors import customer_timeline, get_complaint_for_customer
from kesu.errors import InvalidInput, KesuError
from kesu.intake import ratelimit
from kesu.intake.forms import PublicComplaintForm, StaffComplaintForm
from kesu.intake.services import (
    decide_remedy,
    fingerprint,
    parse_incoming,
    receive_message,
    receive_once,
)


def _submitted(request: HttpRequest, form_class: type[PublicComplaintForm]) -> dict[str, Any]:
    return {name: request.POST[name] for name in form_class.base_fields if name in request.POST}


def _attach_errors(form: PublicComplaintForm, error: KesuError) -> None:
    if isinstance(error, InvalidInput):
        for item in error.errors:
            form.add_error(item.field if item.field in form.fields else None, item.message)
    else:
        form.add_error(None, error.detail)


def _intake(
    request: HttpRequest, form_class: type[PublicComplaintForm], *, staff: bool
) -> tuple[PublicComplaintForm, dict[str, Any] | None]:
    """Validate and receive a submitted intake form; (form with errors, None) when refused."""
    form = form_class(request.POST)
    raw = _submitted(request, form_class)
    if not staff:
        raw["language"] = get_language() or "zh-hans"
    try:
        if not staff:
            ratelimit.check(request, "intake")
        incoming = parse_incoming(raw, staff=staff)
        uploads = files.check_uploads(request.FILES.getlist("attachments"))
        # The hidden key makes a double click or a reload resubmit the same complaint.
        answer, _replayed = receive_once(
            incoming,
            key=request.POST.get("idempotency_key") or None,
            payload_fingerprint=fingerprint(raw),
            actor=request.user if staff and isinstance(request.user, User) else None,
            uploads=uploads,
        )
    except KesuError as error:
        _attach_errors(form, error)
        return form, None
    return form, answer


def complain(request: HttpRequest) -> HttpResponse:
    if request.method == "POST":
        form, answer = _intake(request, PublicComplaintForm, staff=False)
        if answer is not None and not answer.get("created", True):
            return render(request, "intake/joined.html", {"reference": answer["reference"]})
        if answer is not None:
            url = reverse("intake:track", kwargs={"reference": answer["reference"]})
            return redirect(f"{url}?{urlencode({'token': answer['tracking_token'], 'new': 1})}")
        status = 422
    else:
        form, status = PublicComplaintForm(), 200
    context = {"form": form, "idempotency_key": request.POST.get("idempotency_key") or uuid.uuid4()}
    return render(request, "intake/complain.html", context, status=status)


def track_lookup(request: HttpRequest) -> HttpResponse:
    reference = request.GET.get("reference", "").strip().upper()
    token = request.GET.get("token", "").strip()
    if reference and token:
        url = reverse("intake:track", kwargs={"reference": reference})
        return redirect(f"{url}?{urlencode({'token': token})}")
    return render(request, "intake/track_lookup.html", {"reference": reference})


def track(request: HttpRequest, reference: str) -> HttpResponse:
    ratelimit.check(request, "track")
    token = request.GET.get("token", "")
    try:
        complaint = get_complaint_for_customer(reference, token)
    except Complaint.DoesNotExist:
        raise Http404(_("No complaint with this reference and token.")) from None
    error, status = "", 200
    if request.method == "POST":
        ratelimit.check(request, "intake")
        decision = request.POST.get("decision")
        try:
            if decision in ("accept", "reject"):
                decide_remedy(complaint, accept=decision == "accept",
                              reason=request.POST.get("reason", ""))  # fmt: skip
            else:
                receive_message(complaint, text=request.POST.get("text", ""))
        except KesuError as failure:
            error = (
                failure.errors[0].message if isinstance(failure, InvalidInput) else failure.detail
            )
            status = failure.status
        else:
            url = reverse("intake:track", kwargs={"reference": complaint.reference})
            return redirect(f"{url}?{urlencode({'token': token})}#progress")
    timeline = [
        (event, kind_label_for_customer(event.kind), describe_for_customer(event))
        for event in customer_timeline(complaint)
    ]
    context = {
        "complaint": complaint,
        "timeline": timeline,
        "token": token,
        "new": request.GET.get("new") == "1",
        "message_error": error if not request.POST.get("decision") else "",
        "message_text": request.POST.get("text", "") if error else "",
        "decision_error": error if request.POST.get("decision") else "",
        "deciding": complaint.state == State.AWAITING_CUSTOMER
        and complaint.remedy_status == RemedyStatus.PROPOSED,
    }
    return render(request, "intake/track.html", context, status=status)


@login_required
def log_complaint(request: HttpRequest) -> HttpResponse:
    if request.method == "POST":
        form, answer = _intake(request, StaffComplaintForm, staff=True)
        if answer is not None:
            if not answer.get("created", True):
                messages.info(
                    request,
                    _("The customer's complaint %(ref)s was open: what you logged was added to it.")
                    % {"ref": answer["reference"]},
                )
            return redirect("complaints:case", reference=answer["reference"])
        status = 422
    else:
        form, status = StaffComplaintForm(initial={"channel": "hotline"}), 200
    context = {"form": form, "idempotency_key": request.POST.get("idempotency_key") or uuid.uuid4()}
    return render(request, "intake/log.html", context, status=status)
