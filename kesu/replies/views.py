"""The reply composer's helpers on the case page: checks as one types, templates filled in."""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST

from kesu.accounts.models import User
from kesu.complaints.forms import ReplyForm
from kesu.complaints.models import Complaint
from kesu.complaints.selectors import get_complaint_for_user
from kesu.replies import services
from kesu.replies.models import ReplyTemplate


def _complaint(request: HttpRequest, reference: str) -> tuple[User, Complaint]:
    user = request.user
    assert isinstance(user, User)
    try:
        return user, get_complaint_for_user(user, reference)
    except Complaint.DoesNotExist:
        raise Http404(_("No such complaint.")) from None


@login_required
@require_POST
def check(request: HttpRequest, reference: str) -> HttpResponse:
    _user, complaint = _complaint(request, reference)
    text = request.POST.get("text", "")[:5000]
    findings = services.check(text, language="", complaint=complaint) if text.strip() else []
    rows = [(f, text[f.start : f.end]) for f in findings]
    return render(request, "replies/_findings.html", {"rows": rows})


@login_required
@require_GET
def template(request: HttpRequest, reference: str) -> HttpResponse:
    user, complaint = _complaint(request, reference)
    chosen = ReplyTemplate.objects.filter(pk=request.GET.get("template") or 0).first()
    text = services.render_template(chosen, complaint) if chosen is not None else ""
    form = ReplyForm(initial={"text": text}, complaint=complaint, actor=user)
    return HttpResponse(str(form["text"]))
