"""Forms that render the intake pages. They only render and carry errors: the validation is
intake.services.parse_incoming, the same for pages, API and every channel."""

from __future__ import annotations

from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _
from django_stubs_ext import StrOrPromise

from kesu.accounts.models import Department, Role, Store, User
from kesu.complaints.forms import MAX_TEXT, category_choices, nature_choices
from kesu.complaints.models import (
    Channel,
    EscalationLevel,
    Grade,
    Priority,
    RemedyType,
)
from kesu.customers.models import Tier


def _select(choices: Any, label: StrOrPromise) -> forms.CharField:
    return forms.CharField(
        label=label,
        required=False,
        widget=forms.Select(choices=[("", "—"), *choices]),
    )


def _line(label: StrOrPromise, max_length: int, **attrs: str) -> forms.CharField:
    return forms.CharField(
        label=label,
        required=False,
        max_length=max_length,
        widget=forms.TextInput(attrs=attrs),
    )


class PublicComplaintForm(forms.Form):
    name = _line(_("Your name"), 100, autocomplete="name")
    phone = _line(_("Mobile phone"), 40, autocomplete="tel", inputmode="tel")
    email = forms.CharField(
        label=_("Email"), required=False, max_length=254,
        widget=forms.EmailInput(attrs={"autocomplete": "email"}),
    )  # fmt: skip
    subject = _line(_("Subject"), 200)
    description = forms.CharField(
        label=_("What happened"),
        required=False,
        max_length=MAX_TEXT,
        widget=forms.Textarea(attrs={"rows": 7}),
    )
    occurred_at = forms.CharField(
        label=_("When did it happen"),
        required=False,
        widget=forms.DateTimeInput(attrs={"type": "datetime-local"}),
    )
    store = forms.CharField(label=_("Store"), required=False, widget=forms.Select())
    order_ref = _line(_("Order or receipt number"), 100)
    product = _line(_("Product or service"), 200)
    amount = forms.CharField(
        label=_("Amount involved (yuan)"),
        required=False,
        widget=forms.NumberInput(attrs={"min": "0", "step": "0.01"}),
    )
    demand = _select(RemedyType.choices, _("What would you like us to do"))
    demand_detail = _line(_("In your own words (optional)"), 500)

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        stores = [(s.code, s.name) for s in Store.objects.filter(is_active=True)]
        self.fields["store"].widget.choices = [("", "—"), *stores]


class StaffComplaintForm(PublicComplaintForm):
    channel = _select(Channel.choices, _("Channel"))
    customer_tier = _select(Tier.choices, _("Customer tier"))
    nature = forms.CharField(label=_("Nature"), required=False, widget=forms.Select())
    category = forms.CharField(label=_("Category"), required=False, widget=forms.Select())
    grade = _select(Grade.choices, _("Grade"))
    priority = _select(Priority.choices, _("Priority"))
    escalation_level = _select(
        [(str(v), label) for v, label in EscalationLevel.choices], _("Escalation level")
    )
    department = forms.CharField(label=_("Department"), required=False, widget=forms.Select())
    assignee = forms.CharField(label=_("Handler"), required=False, widget=forms.Select())

    field_order = ["channel", "name", "phone", "email", "customer_tier"]

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["nature"].widget.choices = nature_choices()
        self.fields["category"].widget.choices = category_choices()
        departments = [(d.code, d.name) for d in Department.objects.filter(is_active=True)]
        self.fields["department"].widget.choices = [("", "—"), *departments]
        people = User.objects.filter(
            is_active=True, role__in=[Role.HANDLER, Role.MANAGER, Role.EXPERT]
        ).order_by("username")
        self.fields["assignee"].widget.choices = [
            ("", "—"),
            *[(u.username, f"{u.label} ({u.username})") for u in people],
        ]
