"""The agent workspace: queues, the case page, actions as htmx forms, evidence files."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import FileResponse, Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods, require_POST
from django_htmx.http import HttpResponseClientRedirect, reswap, retarget

from kesu.accounts.models import Role, User
from kesu.complaints import attachments as files
from kesu.complaints import selectors, services
from kesu.complaints.events import Directory, action_label, describe, kind_label
from kesu.complaints.forms import REFERENCE_RE, QueueFilterForm
from kesu.complaints.models import AccessLog, Complaint, State
from kesu.complaints.workflow import Action, allowed_actions, perform, rule_for
from kesu.customers.models import Profile
from kesu.errors import InvalidInput, KesuError
from kesu.knowledge.advice import advice_for, suggested_profile
from kesu.knowledge.selectors import can_write, scripts_for, similar_resolved
from kesu.knowledge.services import is_resolved
from kesu.notify.services import mark_read
from kesu.sla.selectors import clock_rows
from kesu.triage.duplicates import duplicate_candidates
from kesu.triage.explain import triage_view

ACTION_NAMES = frozenset(a.value for a in Action)
DEFAULT_QUEUE: dict[str, str] = {
    Role.AGENT: "all",
    Role.HANDLER: "mine",
    Role.MANAGER: "department",
    Role.EXPERT: "all",
    Role.ADMIN: "all",
    Role.AUDITOR: "all",
}


def _staff(request: HttpRequest) -> User:
    user = request.user
    assert isinstance(user, User)
    return user


def _get(request: HttpRequest, reference: str) -> Complaint:
    try:
        return selectors.get_complaint_for_user(_staff(request), reference)
    except Complaint.DoesNotExist:
        raise Http404(_("No such complaint.")) from None


def queue_filters(request: HttpRequest) -> QueueFilterForm:
    """The filter form with the queue's defaults: the role's usual queue, open cases."""
    data = request.GET.copy()
    data.setdefault("queue", DEFAULT_QUEUE.get(_staff(request).role, "all"))
    if "state" not in data:
        data["state"] = "open"
    return QueueFilterForm(data)


@login_required
def queue(request: HttpRequest) -> HttpResponse:
    jump = _reference_lookup(request)
    if jump is not None:
        return jump
    form = queue_filters(request)
    page = selectors.queue_page(_staff(request), form.cleaned_data) if form.is_valid() else None
    template = "complaints/_results.html" if request.htmx else "complaints/queue.html"  # type: ignore[attr-defined]
    return render(request, template, {"form": form, "page": page, "now": timezone.now()})


MAIN_PATH = [s.value for s in State]


def passed_states(complaint: Complaint) -> set[str]:
    """The steps of the main path behind the complaint's current state (for the progress bar)."""
    if complaint.closure in ("invalid", "duplicate"):
        return set()
    return set(MAIN_PATH[: MAIN_PATH.index(complaint.state)])


def _reference_lookup(request: HttpRequest) -> HttpResponse | None:
    """A full reference typed in the search box opens that case, whatever tab is shown."""
    keyword = request.GET.get("q", "").strip().upper()
    if not REFERENCE_RE.match(keyword):
        return None
    try:
        complaint = selectors.get_complaint_for_user(_staff(request), keyword)
    except Complaint.DoesNotExist:
        return None
    url = reverse("complaints:case", kwargs={"reference": complaint.reference})
    if request.htmx:  # type: ignore[attr-defined]
        return HttpResponseClientRedirect(url)
    return redirect(url)


def _knowledge(user: User, complaint: Complaint) -> dict[str, Any]:
    """The knowledge base beside the case: similar resolved cases, scripts, how to handle."""
    chosen = complaint.customer.profile
    profile = chosen or suggested_profile(complaint)
    return {
        "similar": similar_resolved(complaint, among=selectors.complaints_visible_to(user))
        if complaint.is_open
        else [],
        "scripts": scripts_for(category=complaint.category, language=complaint.language)
        if complaint.category
        else [],
        "advice": advice_for(profile),
        "advice_label": Profile(profile).label if profile else "",
        "advice_suggested": bool(profile) and not chosen,
        "can_promote": can_write(user) and is_resolved(complaint),
    }


def case_context(request: HttpRequest, complaint: Complaint, **extra: Any) -> dict[str, Any]:
    user = _staff(request)
    timeline = list(selectors.staff_timeline(complaint))
    names = Directory.for_events(timeline)
    allowed = allowed_actions(complaint, user)
    return {
        "complaint": complaint,
        "timeline": [(event, kind_label(event.kind), describe(event, names)) for event in timeline],
        "others": selectors.other_complaints_of_customer(user, complaint),
        "triage": triage_view(complaint),
        "duplicates": duplicate_candidates(complaint, selectors.complaints_visible_to(user))
        if complaint.is_open
        else [],
        "actions": [(a.value, action_label(a.value)) for a in allowed],
        "passed_states": passed_states(complaint),
        "attachments": list(complaint.attachments.select_related("uploaded_by")),
        "overdue": selectors.is_overdue(complaint),
        "can_upload": user.role != Role.AUDITOR,
        "can_merge": Action.MERGE in allowed,
        "states": State.choices,
        "clocks": clock_rows(complaint.pk),
        **_knowledge(user, complaint),
        "now": timezone.now(),
        **extra,
    }


@login_required
def case(request: HttpRequest, reference: str) -> HttpResponse:
    complaint = _get(request, reference)
    services.record_access(user=_staff(request), complaint=complaint, via=AccessLog.Via.PAGE)
    # Opening the case is reading what the bell said about it.
    mark_read(_staff(request), complaint=complaint)
    return render(request, "complaints/case.html", case_context(request, complaint))


def _action_form(request: HttpRequest, complaint: Complaint, action: str, data: Any = None) -> Any:
    form_class = rule_for(action).form
    return form_class(data=data, complaint=complaint, actor=_staff(request))


@login_required
@require_http_methods(["GET", "POST"])
def action(request: HttpRequest, reference: str, name: str) -> HttpResponse:
    if name not in ACTION_NAMES:
        raise Http404(_("No such action."))
    complaint = _get(request, reference)
    if request.method == "GET":
        return render(
            request,
            "complaints/_action_form.html",
            {"complaint": complaint, "action": name, "label": action_label(name),
             "form": _action_form(request, complaint, name)},
        )  # fmt: skip
    data: dict[str, Any] = {k: v for k, v in request.POST.items() if k != "csrfmiddlewaretoken"}
    try:
        perform(complaint, name, _staff(request), **data)
    except KesuError as error:
        form = _action_form(request, complaint, name, data)
        if isinstance(error, InvalidInput):
            for item in error.errors:
                form.add_error(item.field if item.field in form.fields else None, item.message)
        context = {"complaint": complaint, "action": name, "label": action_label(name),
                   "form": form, "error": error.detail}  # fmt: skip
        if request.htmx:  # type: ignore[attr-defined]
            # The form comes back with its errors in place of the case body it would replace.
            response = render(request, "complaints/_action_form.html", context)
            return reswap(retarget(response, "#action-panel"), "innerHTML")
        messages.error(request, error.detail)
        return redirect("complaints:case", reference=complaint.reference)
    messages.success(request, _("Done: %(action)s.") % {"action": kind_label(name)})
    if request.htmx:  # type: ignore[attr-defined]
        complaint = _get(request, reference)
        return render(request, "complaints/_case_body.html", case_context(request, complaint))
    return redirect("complaints:case", reference=complaint.reference)


@login_required
@require_POST
def upload(request: HttpRequest, reference: str) -> HttpResponse:
    complaint = _get(request, reference)
    try:
        checked = files.check_uploads(request.FILES.getlist("files"), field="files")
        if not checked:
            raise InvalidInput.one("files", _("Choose at least one file."))
        services.add_attachments(
            complaint=complaint,
            uploads=checked,
            by=_staff(request),
            internal=request.POST.get("internal") == "on",
        )
    except KesuError as error:
        messages.error(request, error.detail)
    else:
        messages.success(request, _("Files attached."))
    return redirect("complaints:case", reference=complaint.reference)


@login_required
def download(request: HttpRequest, reference: str, attachment_id: int) -> FileResponse:
    complaint = _get(request, reference)
    attachment = complaint.attachments.filter(pk=attachment_id).first()
    if attachment is None:
        raise Http404(_("No such attachment."))
    services.record_access(user=_staff(request), complaint=complaint, via=AccessLog.Via.ATTACHMENT)
    return FileResponse(
        attachment.file.open("rb"),
        as_attachment=True,
        filename=attachment.original_name,
        content_type=attachment.content_type,
    )
