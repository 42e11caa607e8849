"""The customer's survey page; the agents' callbacks; the satisfaction report."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from kesu.accounts.models import User
from kesu.complaints.selectors import can_view
from kesu.errors import InvalidInput, KesuError
from kesu.intake import ratelimit
from kesu.surveys import selectors, services
from kesu.surveys.models import CallbackOutcome, Survey, SurveyState


def survey(request: HttpRequest, reference: str) -> HttpResponse:
    ratelimit.check(request, "track")
    token = request.GET.get("t", "")
    try:
        found = services.survey_for_customer(reference, token)
    except Survey.DoesNotExist:
        raise Http404(_("No survey with this reference and code.")) from None
    errors: dict[str, str] = {}
    if request.method == "POST" and found.state == SurveyState.WAITING:
        score = request.POST.get("score", "")
        try:
            services.answer_survey(
                found,
                resolved={"yes": True, "no": False}.get(request.POST.get("resolved", "")),
                score=int(score) if score.isdigit() else None,
                comment=request.POST.get("comment", ""),
            )
        except InvalidInput as error:
            errors = {e.field: e.message for e in error.errors}
        except KesuError as error:
            errors = {"": error.detail}
        else:
            return redirect(f"{request.path}?t={token}")
        found.refresh_from_db()
    return render(request, "surveys/survey.html",
                  {"survey": found, "errors": errors, "data": request.POST})  # fmt: skip


def _staff(request: HttpRequest) -> User:
    user = request.user
    assert isinstance(user, User)
    return user


@login_required
def callbacks(request: HttpRequest) -> HttpResponse:
    user = _staff(request)
    tasks = list(selectors.open_callbacks(user)[:200])
    for task in tasks:
        # An agent calls about cases they may not handle: the link only where they may look.
        task.visible = can_view(user, task.complaint)  # type: ignore[attr-defined]
    mine = [t for t in tasks if t.assignee_id == user.pk]
    others = [t for t in tasks if t.assignee_id != user.pk]
    context = {"mine": mine, "others": others, "outcomes": CallbackOutcome.choices}
    return render(request, "surveys/callbacks.html", context)


@login_required
@require_POST
def record(request: HttpRequest, task_id: int) -> HttpResponse:
    user = _staff(request)
    task = selectors.open_callbacks(user).filter(pk=task_id).first()
    if task is None:
        raise Http404(_("No such callback."))
    try:
        services.record_callback(task, actor=user, outcome=request.POST.get("outcome", ""),
                                 score=request.POST.get("score"),
                                 note=request.POST.get("note", ""))  # fmt: skip
    except InvalidInput as error:
        messages.error(request, " ".join(e.message for e in error.errors))
    except KesuError as error:
        messages.error(request, error.detail)
    else:
        messages.success(request, _("Callback recorded for %(ref)s.")
                         % {"ref": task.complaint.reference})  # fmt: skip
    return redirect("surveys:callbacks")


@login_required
def report(request: HttpRequest) -> HttpResponse:
    user = _staff(request)
    if user.role not in selectors.REPORT_ROLES:
        raise Http404(_("Only managers, experts, administrators and auditors see this report."))
    days = request.GET.get("days", "30")
    period = int(days) if days.isdigit() and 1 <= int(days) <= 366 else 30
    context = {"report": selectors.satisfaction(user, days=period), "days": period}
    return render(request, "surveys/report.html", context)
