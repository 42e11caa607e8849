"""Forms for the workflow's actions and the queue filters, shared by pages and the API."""

from __future__ import annotations

import re
from datetime import date, datetime, time
from decimal import Decimal
from typing import Any

from django import forms
from django.core.exceptions import ValidationError
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django_stubs_ext import StrOrPromise

from kesu.accounts.models import Department, Role, User
from kesu.complaints.models import (
    Channel,
    Complaint,
    EscalationLevel,
    Flag,
    Grade,
    Priority,
    RemedyType,
    Responsibility,
    RiskLevel,
    State,
)

MAX_TEXT = 20_000
MAX_AMOUNT = Decimal("9999999999.99")
OPERATING_ROLES = (Role.HANDLER, Role.MANAGER, Role.EXPERT, Role.ADMIN, Role.AGENT)


class ActionForm(forms.Form):
    """Base of every action's form; knows the complaint and the actor it serves."""

    def __init__(self, *args: Any, complaint: Complaint, actor: User | None, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.complaint = complaint
        self.actor = actor


def _text(
    label: StrOrPromise, *, required: bool = True, max_length: int = MAX_TEXT
) -> forms.CharField:
    return forms.CharField(
        label=label,
        required=required,
        max_length=max_length,
        widget=forms.Textarea(attrs={"rows": 3}),
    )


def _choice(choices: Any, label: StrOrPromise, *, required: bool = True) -> forms.ChoiceField:
    blank = [] if required else [("", "—")]
    return forms.ChoiceField(choices=blank + list(choices), label=label, required=required)


def _amount(label: StrOrPromise, *, required: bool = False) -> forms.DecimalField:
    return forms.DecimalField(
        label=label,
        required=required,
        min_value=Decimal("0"),
        max_value=MAX_AMOUNT,
        max_digits=12,
        decimal_places=2,
    )


def _department() -> forms.ModelChoiceField:  # type: ignore[type-arg]
    return forms.ModelChoiceField(
        queryset=Department.objects.filter(is_active=True),
        to_field_name="code",
        label=_("Department"),
        required=False,
    )


def _assignee() -> forms.ModelChoiceField:  # type: ignore[type-arg]
    return forms.ModelChoiceField(
        queryset=User.objects.filter(is_active=True, role__in=OPERATING_ROLES).order_by("username"),
        to_field_name="username",
        label=_("Handler"),
        required=False,
    )


class NoDataForm(ActionForm):
    pass


class ContactForm(ActionForm):
    method = _choice(
        [
            ("phone", _("Phone call")),
            ("sms", _("SMS")),
            ("email", _("Email")),
            ("wechat", _("WeChat")),
            ("visit", _("In person")),
            ("other", _("Other")),
        ],
        _("How"),
    )
    reached = forms.BooleanField(label=_("Reached the customer"), required=False, initial=True)
    summary = _text(_("What was said"))


def nature_choices() -> list[tuple[str, Any]]:
    # Imported when called: triage's models import this app's, so not at module level.
    from kesu.triage.selectors import taxonomy

    return [("", "—"), *taxonomy().nature_choices()]


def category_choices() -> list[tuple[str, Any]]:
    from kesu.triage.selectors import taxonomy

    return [("", "—"), *taxonomy().category_choices()]


def check_taxonomy(form: forms.Form, data: dict[str, Any]) -> None:
    """A category implies its nature; a nature given beside it must be that one."""
    from kesu.triage.selectors import taxonomy

    category, nature = data.get("category"), data.get("nature")
    if not category:
        return
    parent = taxonomy().nature_of(category)
    if nature and nature != parent:
        form.add_error(
            "nature",
            _("%(category)s belongs to %(nature)s.")
            % {"category": taxonomy().label(category), "nature": taxonomy().label(parent)},
        )
    else:
        data["nature"] = parent


class ClassifyForm(ActionForm):
    """A person's assessment; a category given here is a confirmed training label."""

    nature = forms.ChoiceField(choices=nature_choices, label=_("Nature"), required=False)
    category = forms.ChoiceField(choices=category_choices, label=_("Category"), required=False)
    grade = _choice(Grade.choices, _("Grade"), required=False)
    priority = _choice(Priority.choices, _("Priority"), required=False)

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        if not any(data.get(name) for name in ("nature", "category", "grade", "priority")):
            raise ValidationError(_("Give at least one of nature, category, grade or priority."))
        check_taxonomy(self, data)
        return data


def _check_member(form: forms.Form, department: Department | None, assignee: User | None) -> None:
    if assignee is None or department is None:
        return
    if (
        assignee.role not in (Role.ADMIN,)
        and not assignee.departments.filter(pk=department.pk).exists()
    ):
        form.add_error(
            "assignee",
            _("%(user)s is not a member of %(department)s.")
            % {"user": assignee.username, "department": department.name},
        )


class AssignForm(ActionForm):
    department = _department()
    assignee = _assignee()

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        department: Department | None = data.get("department")
        assignee: User | None = data.get("assignee")
        if department is None and assignee is None and not self.errors:
            raise ValidationError(_("Give a department, a handler, or both."))
        if department is None and assignee is not None:
            department = self.complaint.department
            if department is None:
                own = list(assignee.departments.all()[:2])
                if len(own) != 1:
                    self.add_error(
                        "department",
                        _("%(user)s belongs to several departments or none: name the department.")
                        % {"user": assignee.username},
                    )
                    return data
                department = own[0]
            data["department"] = department
        _check_member(self, department, assignee)
        return data


class TransferForm(ActionForm):
    department = _department()
    assignee = _assignee()
    reason = _text(_("Reason for the transfer"))

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["department"].required = True

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        _check_member(self, data.get("department"), data.get("assignee"))
        return data


class RemedyForm(ActionForm):
    remedy_type = _choice(RemedyType.choices, _("Remedy"))
    remedy_amount = _amount(_("Amount (yuan)"))
    remedy_description = _text(_("What we will do, and by when"))
    responsibility = _choice(Responsibility.choices, _("Responsibility"), required=False)
    root_cause = _text(_("Root cause"), required=False)


class NoteOnlyForm(ActionForm):
    note = _text(_("Note"), required=False)


class ReasonForm(ActionForm):
    reason = _text(_("Reason"))


class ExtendForm(ActionForm):
    """An approved extension of the resolution limit (the regulatory profile: 15 d → 30 d)."""

    allowed = forms.CharField(
        label=_("Allow in all"), max_length=10, help_text=_("From receipt, e.g. 30d.")
    )
    reason = _text(_("Reason"))

    def clean_allowed(self) -> str:
        from kesu.sla.services import check_extension

        try:
            return check_extension(self.complaint, self.cleaned_data["allowed"])
        except ValueError as error:
            raise ValidationError(str(error)) from None


class StartRemedyForm(ActionForm):
    remedy_due = forms.DateTimeField(
        label=_("Carry out by"),
        required=False,
        widget=forms.DateTimeInput(attrs={"type": "datetime-local"}),
    )
    note = _text(_("Note"), required=False)

    def clean_remedy_due(self) -> datetime | None:
        due: datetime | None = self.cleaned_data.get("remedy_due")
        if due is not None and due <= timezone.now():
            raise ValidationError(_("The date must be in the future."))
        return due


class ResolveForm(ActionForm):
    responsibility = _choice(Responsibility.choices, _("Responsibility"), required=False)
    root_cause = _text(_("Root cause"), required=False)
    corrective_action = _text(_("Corrective action"), required=False)
    resolution = _text(_("Resolution summary"), required=False)

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        responsibility = data.get("responsibility") or self.complaint.responsibility
        if not responsibility:
            self.add_error("responsibility", _("Give the responsibility verdict."))
        if not (data.get("root_cause") or self.complaint.root_cause):
            self.add_error("root_cause", _("Give the root cause."))
        # DOMAIN L11: a fault of ours names a corrective action that is followed to completion.
        if responsibility in (Responsibility.OURS, Responsibility.SHARED) and not (
            data.get("corrective_action") or self.complaint.corrective_action
        ):
            self.add_error(
                "corrective_action",
                _("When the fault is ours or shared, give the corrective action."),
            )
        return data


class CloseForm(ActionForm):
    satisfaction = forms.TypedChoiceField(
        choices=[("", "—")] + [(str(i), str(i)) for i in range(5, 0, -1)],
        coerce=int,
        empty_value=None,
        required=False,
        label=_("Customer satisfaction (1–5)"),
    )
    note = _text(_("Note"), required=False)


REFERENCE_RE = re.compile(r"^KS-\d{8}-\d{6,}$")


class MergeForm(ActionForm):
    target = forms.CharField(label=_("Merge into (reference)"), max_length=20)

    def clean_target(self) -> str:
        value: str = self.cleaned_data["target"].strip().upper()
        if not REFERENCE_RE.match(value):
            raise ValidationError(_("A reference looks like KS-20260101-000001."))
        return value


class EscalateForm(ActionForm):
    level = forms.TypedChoiceField(
        choices=[(str(v), label) for v, label in EscalationLevel.choices if v > 0],
        coerce=int,
        label=_("Escalation level"),
    )
    reason = _text(_("Reason"))


class ReplyForm(ActionForm):
    """A reply to the customer, checked (DOMAIN §5) as it is typed and again when it is sent."""

    template = forms.TypedChoiceField(label=_("Start from a template"), required=False,
                                      coerce=int, empty_value=None)  # fmt: skip
    text = _text(_("Reply"), max_length=5000)
    override_reason = forms.CharField(
        label=_("Reason to send despite the warnings"), required=False, max_length=500
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        from django.urls import reverse

        from kesu.replies.selectors import templates_for
        from kesu.replies.services import reply_language

        reference = self.complaint.reference
        language = reply_language(self.complaint)
        choices = [(t.pk, t.name) for t in templates_for(category=self.complaint.category,
                                                         language=language)]  # fmt: skip
        picker = self.fields["template"]
        assert isinstance(picker, forms.TypedChoiceField)
        picker.choices = [("", "—"), *choices]
        self.fields["template"].widget.attrs.update({
            "hx-get": reverse("replies:template", args=[reference]),
            "hx-target": "#id_text", "hx-swap": "outerHTML",
        })  # fmt: skip
        self.fields["text"].widget.attrs.update({
            "hx-post": reverse("replies:check", args=[reference]),
            "hx-trigger": "keyup changed delay:400ms, change", "hx-target": "#reply-findings",
            "rows": 8,
        })  # fmt: skip

    def clean(self) -> dict[str, Any]:
        from kesu.replies.services import check

        data = super().clean() or {}
        text = data.get("text")
        if not text:
            return data
        findings = check(text, language="", complaint=self.complaint)
        blocks = [f for f in findings if f.severity == "block"]
        warnings = [f for f in findings if f.severity == "warn"]
        if blocks:
            self.add_error("text", " ".join(f.message for f in blocks))
        elif warnings and not (data.get("override_reason") or "").strip():
            self.add_error(
                "override_reason",
                _("This reply has warnings: %(warnings)s Give a reason to send it anyway, or "
                  "change it.") % {"warnings": " ".join(f.message for f in warnings)},
            )  # fmt: skip
        data["findings"] = [
            {"rule": f.rule, "severity": f.severity, "start": f.start, "end": f.end}
            for f in findings
        ]
        return data


class ProfileForm(ActionForm):
    """The customer's difficult-customer profile (DOMAIN §4); empty clears it."""

    profile = forms.ChoiceField(label=_("Profile"), required=False)
    reason = _text(_("Why"), required=False, max_length=500)

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        from kesu.customers.models import Profile

        picker = self.fields["profile"]
        assert isinstance(picker, forms.ChoiceField)
        picker.choices = [("", _("None")), *Profile.choices]
        picker.initial = self.complaint.customer.profile


class NoteForm(ActionForm):
    text = _text(_("Note"))
    internal = forms.BooleanField(
        label=_("Internal (not shown to the customer)"), required=False, initial=True
    )


# --- Queue filters ------------------------------------------------------------------------------

QUEUES = ("mine", "department", "unassigned", "review", "all")
SORTS = {
    "newest": ("-received_at", "-id"),
    "oldest": ("received_at", "id"),
    "due": ("resolve_due", "id"),
}


class QueueFilterForm(forms.Form):
    queue = forms.ChoiceField(choices=[(q, q) for q in QUEUES], required=False, label=_("Queue"))
    state = forms.ChoiceField(
        choices=[("", _("Any state")), ("open", _("Open")), *State.choices],
        required=False,
        label=_("State"),
    )
    grade = _choice(Grade.choices, _("Grade"), required=False)
    priority = _choice(Priority.choices, _("Priority"), required=False)
    channel = _choice(Channel.choices, _("Channel"), required=False)
    flag = _choice(Flag.choices, _("Risk flag"), required=False)
    risk = _choice(RiskLevel.choices, _("Escalation risk"), required=False)
    department = forms.ModelChoiceField(
        queryset=Department.objects.all(),
        to_field_name="code",
        required=False,
        label=_("Department"),
        empty_label="—",
    )
    date_from = forms.DateField(
        required=False, label=_("From"), widget=forms.DateInput(attrs={"type": "date"})
    )
    date_to = forms.DateField(
        required=False, label=_("To"), widget=forms.DateInput(attrs={"type": "date"})
    )
    overdue = forms.BooleanField(required=False, label=_("Overdue only"))
    q = forms.CharField(required=False, max_length=200, label=_("Keyword"))
    sort = forms.ChoiceField(
        choices=[
            ("newest", _("Newest first")),
            ("oldest", _("Oldest first")),
            ("due", _("Due soonest")),
        ],
        required=False,
        label=_("Sort"),
    )
    page = forms.IntegerField(required=False, min_value=1, max_value=100_000)
    page_size = forms.IntegerField(required=False, min_value=1, max_value=100)

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        start: date | None = data.get("date_from")
        end: date | None = data.get("date_to")
        if start and end and start > end:
            self.add_error("date_to", _("The end date is before the start date."))
        return data


def day_bounds(day: date) -> tuple[datetime, datetime]:
    """The first instant of a day and of the next, in the organisation's time zone."""
    zone = timezone.get_current_timezone()
    start = datetime.combine(day, time.min, tzinfo=zone)
    end = datetime.combine(day, time.max, tzinfo=zone)
    return start, end
