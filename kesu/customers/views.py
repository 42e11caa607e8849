"""The customer page: one person's complaints and messages across every channel."""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils import timezone
from django.utils.translation import gettext as _

from kesu.accounts.models import User
from kesu.customers import selectors
from kesu.customers.models import Customer


@login_required
def customer(request: HttpRequest, pk: int) -> HttpResponse:
    user = request.user
    assert isinstance(user, User)
    try:
        found = selectors.get_customer_for_user(user, pk)
    except Customer.DoesNotExist:
        raise Http404(_("No such customer.")) from None
    raw_page = request.GET.get("page", "")
    page = int(raw_page) if raw_page.isdigit() else 1
    context = {"info": selectors.customer_page(user, found, page=page), "now": timezone.now()}
    return render(request, "customers/customer.html", context)
