"""Service levels: calendars, the policies that set each complaint's targets, its running
clocks, and the escalation chain that follows a warning or a breach (DOMAIN L3, L9, E2, E4)."""

from __future__ import annotations

from datetime import time

from django.core.exceptions import ValidationError
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy
from django_stubs_ext import StrOrPromise

from kesu.accounts.models import Bilingual, Department
from kesu.complaints.models import Complaint
from kesu.sla.calendar import Duration


def validate_duration(value: str) -> None:
    try:
        Duration.parse(value)
    except ValueError:
        raise ValidationError(
            _("%(value)s is not a duration: write a whole number and m, h or d, e.g. 24h or 15d."),
            params={"value": repr(value)},
        ) from None


def _duration(
    label: StrOrPromise, default: str, *, blank: bool = False, help_text: StrOrPromise = ""
) -> models.CharField:  # type: ignore[type-arg]
    return models.CharField(
        label, max_length=10, default=default, blank=blank, validators=[validate_duration],
        help_text=help_text or _("m, h or d: 10m, 24h, 15d. On business hours, working time."),
    )  # fmt: skip


class Calendar(Bilingual):
    """When the clocks run: around the clock, or business hours on working days."""

    code = models.SlugField(_("code"), max_length=40, unique=True)
    around_the_clock = models.BooleanField(_("24×7"), default=False)
    opens = models.TimeField(_("opens"), default=time(9))
    closes = models.TimeField(_("closes"), default=time(18))
    lunch_from = models.TimeField(_("lunch break from"), null=True, blank=True)
    lunch_to = models.TimeField(_("lunch break to"), null=True, blank=True)
    official_holidays = models.BooleanField(
        _("Chinese public holidays and make-up working days"),
        default=True,
        help_text=_("From the chinese-calendar package; add days below for years it lacks."),
    )

    class Meta:
        verbose_name = _("calendar")
        verbose_name_plural = _("calendars")
        constraints = [
            models.CheckConstraint(
                condition=Q(around_the_clock=True) | Q(opens__lt=models.F("closes")),
                name="calendar_opens_before_closing",
            ),
            models.CheckConstraint(
                condition=Q(lunch_from__isnull=True, lunch_to__isnull=True)
                | Q(
                    lunch_from__isnull=False,
                    lunch_to__isnull=False,
                    lunch_from__lt=models.F("lunch_to"),
                    lunch_from__gte=models.F("opens"),
                    lunch_to__lte=models.F("closes"),
                ),
                name="calendar_lunch_inside_the_day",
            ),
        ]


class CalendarDay(models.Model):
    """One date a calendar treats differently: a holiday, or a day worked (调休)."""

    calendar = models.ForeignKey(Calendar, on_delete=models.CASCADE, related_name="days")
    day = models.DateField(_("date"))
    is_workday = models.BooleanField(_("working day"))
    note = models.CharField(_("note"), max_length=60, blank=True)

    class Meta:
        verbose_name = _("calendar day")
        verbose_name_plural = _("calendar days")
        ordering = ["day"]
        constraints = [
            models.UniqueConstraint(fields=["calendar", "day"], name="calendar_day_unique")
        ]

    def __str__(self) -> str:
        return f"{self.day} {'✓' if self.is_workday else '✗'} {self.note}"


class Risk(models.TextChoices):
    ANY = "any", _("Any")
    HIGH = "high", _("High: a regulator, media, legal or safety signal")
    NORMAL = "normal", _("Normal: none of those")


class Policy(Bilingual):
    """The targets of the complaints it matches; the first active match in order wins.

    Empty match fields match anything. The default policy matches what no other does, and
    always exists (it cannot be deactivated or deleted).
    """

    position = models.PositiveSmallIntegerField(_("position"), default=100)
    is_active = models.BooleanField(_("active"), default=True)
    is_default = models.BooleanField(_("default policy"), default=False)
    grades = models.CharField(_("grades"), max_length=20, blank=True,
                              help_text=_("Codes separated by spaces, e.g. A B"))  # fmt: skip
    tiers = models.CharField(_("customer tiers"), max_length=60, blank=True,
                             help_text=_("vip, regular, walk_in"))  # fmt: skip
    channels = models.CharField(_("channels"), max_length=200, blank=True,
                                help_text=_("e.g. regulator social"))  # fmt: skip
    categories = models.CharField(_("categories"), max_length=500, blank=True,
                                  help_text=_("Category codes of the triage taxonomy"))  # fmt: skip
    risk = models.CharField(_("risk"), max_length=10, choices=Risk.choices, default=Risk.ANY)
    calendar = models.ForeignKey(Calendar, on_delete=models.PROTECT, verbose_name=_("calendar"))
    acknowledge = _duration(_("acknowledge within"), "2h")
    first_contact = _duration(_("first contact within"), "24h")
    update_every = _duration(
        _("update the customer every"), "48h", blank=True,
        help_text=_("While the complaint is open; empty: no update clock."),
    )  # fmt: skip
    resolve = _duration(_("resolve within"), "15d")
    resolve_extendable_to = _duration(
        _("resolution extendable to"), "", blank=True,
        help_text=_("With a recorded approval, e.g. 30d for the regulatory profile."),
    )  # fmt: skip
    expert_response = _duration(
        _("expert response within"), "10m",
        help_text=_("High-risk alerts must be acknowledged within this, around the clock (E4)."),
    )  # fmt: skip
    warn_at = models.PositiveSmallIntegerField(
        _("warn at (percent of the target)"), default=75,
        validators=[MinValueValidator(1), MaxValueValidator(99)],
    )  # fmt: skip

    class Meta:
        verbose_name = _("SLA policy")
        verbose_name_plural = _("SLA policies")
        ordering = ["-is_default", "position", "pk"]
        constraints = [
            models.UniqueConstraint(
                fields=["is_default"], condition=Q(is_default=True), name="one_default_policy"
            ),
            models.CheckConstraint(
                condition=Q(is_default=False) | Q(is_active=True),
                name="default_policy_is_active",
            ),
            models.CheckConstraint(
                condition=Q(warn_at__gte=1, warn_at__lte=99), name="policy_warn_at_share"
            ),
        ]


class Target(models.TextChoices):
    ACKNOWLEDGE = "acknowledge", _("Acknowledge")
    FIRST_CONTACT = "first_contact", _("First contact")
    UPDATE = "update", _("Customer update")
    RESOLVE = "resolve", pgettext_lazy("SLA target", "Resolution")
    EXPERT = "expert", _("Expert response")


class Clock(models.Model):
    """One target of one complaint, running from `started_at` to `due_at`.

    `next_check_at` is when the sweep must next look at it — the warning, the breach, or the
    next step of the escalation chain — and is empty while the clock is stopped or paused, so
    that the sweep's index holds only what can come due (DESIGN: timers are indexed columns).
    """

    complaint = models.ForeignKey(Complaint, on_delete=models.CASCADE, related_name="clocks")
    target = models.CharField(_("target"), max_length=16, choices=Target.choices)
    allowed = models.CharField(_("allowed"), max_length=10)  # a Duration, e.g. 15d
    # The resolution was extended with an approval: the allowance stands if the policy changes.
    extended = models.BooleanField(_("extended"), default=False)
    started_at = models.DateTimeField(_("started"))
    warn_at = models.DateTimeField(_("warning at"))
    due_at = models.DateTimeField(_("due"))
    stopped_at = models.DateTimeField(_("stopped"), null=True, blank=True)
    paused_at = models.DateTimeField(_("paused"), null=True, blank=True)
    paused_minutes = models.FloatField(_("working minutes paused"), default=0)
    warned_at = models.DateTimeField(_("warned"), null=True, blank=True)
    breached_at = models.DateTimeField(_("breached"), null=True, blank=True)
    # The highest step of the escalation chain this clock has reached (0: none).
    level = models.PositiveSmallIntegerField(_("escalation step"), default=0)
    next_check_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = _("clock")
        verbose_name_plural = _("clocks")
        constraints = [
            models.UniqueConstraint(fields=["complaint", "target"], name="clock_per_target")
        ]
        indexes = [
            # sla.jobs.sweep(): clocks that have come due, soonest first.
            models.Index(
                fields=["next_check_at"],
                condition=Q(next_check_at__isnull=False),
                name="clock_sweep",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.complaint_id}:{self.target} due {self.due_at:%Y-%m-%d %H:%M}"


class Step(models.TextChoices):
    WARNING = "warning", _("At the warning")
    BREACH = "breach", _("At the breach")
    AFTER_BREACH = "after_breach", _("Some time after the breach")


class Level(models.IntegerChoices):
    HANDLER = 1, _("1 · the handler")
    MANAGER = 2, _("2 · the department's managers")
    EXPERTS = 3, _("3 · the expert (escalation) group")
    EXECUTIVES = 4, _("4 · executives")


class EscalationStep(models.Model):
    """One level of a department's escalation chain: when it is reached and what it does."""

    department = models.ForeignKey(
        Department,
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="escalation_steps",
        help_text=_("Empty: the chain of every department without its own."),
    )
    level = models.PositiveSmallIntegerField(_("level"), choices=Level.choices)
    when = models.CharField(_("when"), max_length=12, choices=Step.choices)
    after = _duration(_("after the breach"), "", blank=True,
                      help_text=_("For “some time after the breach”: e.g. 1d."))  # fmt: skip
    reassign = models.BooleanField(
        _("reassign"),
        default=False,
        help_text=_("Level 2 gives the case to the department's manager, level 3 to an expert."),
    )

    class Meta:
        verbose_name = _("escalation step")
        verbose_name_plural = _("escalation chain")
        ordering = ["department", "level"]
        constraints = [
            models.UniqueConstraint(
                fields=["department", "level"], name="escalation_step_per_level"
            ),
            models.UniqueConstraint(
                fields=["level"], condition=Q(department__isnull=True),
                name="escalation_default_step_per_level",
            ),
            models.CheckConstraint(
                condition=~Q(when="after_breach") | ~Q(after=""), name="escalation_after_is_set"
            ),
        ]  # fmt: skip

    def __str__(self) -> str:
        return f"{self.department or '*'} L{self.level} {self.when} {self.after}".strip()
