"""The bell's page, one's own notification channels, and the undelivered messages."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from kesu.accounts.models import User
from kesu.errors import InvalidInput
from kesu.notify import selectors, services
from kesu.notify.models import OutboxMessage


def _staff(request: HttpRequest) -> User:
    user = request.user
    assert isinstance(user, User)
    return user


@login_required
def inbox(request: HttpRequest) -> HttpResponse:
    rows = selectors.inbox(_staff(request))
    return render(request, "notify/inbox.html", {"rows": rows})


@login_required
@require_POST
def read_all(request: HttpRequest) -> HttpResponse:
    services.mark_read(_staff(request))
    return redirect("notify:inbox")


@login_required
def my_channels(request: HttpRequest) -> HttpResponse:
    user = _staff(request)
    errors: dict[str, str] = {}
    if request.method == "POST":
        try:
            services.set_my_channels(
                user,
                email=request.POST.get("email", ""),
                mobile=request.POST.get("mobile", ""),
                by_email=request.POST.get("notify_by_email") == "on",
                by_sms=request.POST.get("notify_by_sms") == "on",
            )
        except InvalidInput as error:
            errors = {e.field: e.message for e in error.errors}
        else:
            messages.success(request, _("Saved."))
            return redirect("notify:channels")
    return render(request, "notify/channels.html", {"errors": errors, "data": request.POST})


@login_required
def outbox(request: HttpRequest) -> HttpResponse:
    user = _staff(request)
    if user.role not in selectors.OUTBOX_ROLES:
        raise Http404(_("Only managers and administrators see undelivered messages."))
    page = Paginator(selectors.undelivered(user), 50).get_page(request.GET.get("page"))
    return render(request, "notify/outbox.html", {"page": page})


@login_required
@require_POST
def retry(request: HttpRequest) -> HttpResponse:
    user = _staff(request)
    if user.role not in selectors.OUTBOX_ROLES:
        raise Http404(_("Only managers and administrators see undelivered messages."))
    waiting = selectors.undelivered(user)
    chosen = request.POST.getlist("message")
    picked = waiting.filter(pk__in=[int(m) for m in chosen if m.isdigit()]) if chosen else waiting
    count = services.retry(OutboxMessage.objects.filter(pk__in=picked.values("pk")))
    messages.success(request, _("%(n)s message(s) queued again.") % {"n": count})
    return redirect("notify:outbox")
