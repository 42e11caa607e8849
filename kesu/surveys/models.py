"""After a complaint is resolved: the customer's satisfaction survey, and the callback (回访)
an agent makes when the customer does not answer it (DOMAIN L8)."""

from __future__ import annotations

from django.conf import settings
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from kesu.complaints.models import Complaint


class FollowUpPolicy(models.Model):
    """How follow-up runs; one row, edited in the admin (the first row is the one used)."""

    answer_within_days = models.PositiveSmallIntegerField(
        _("days the customer has to answer the survey"), default=3,
        validators=[MinValueValidator(1), MaxValueValidator(60)],
    )  # fmt: skip
    callback_within_days = models.PositiveSmallIntegerField(
        _("days an agent has for the callback"), default=2,
        validators=[MinValueValidator(1), MaxValueValidator(60)],
    )  # fmt: skip
    goal_percent = models.PositiveSmallIntegerField(
        _("satisfaction goal (%)"), default=90,
        validators=[MinValueValidator(1), MaxValueValidator(100)],
    )  # fmt: skip

    class Meta:
        verbose_name = _("follow-up policy")
        verbose_name_plural = _("follow-up policy")

    def __str__(self) -> str:
        return str(_("Follow-up policy"))


class SurveyState(models.TextChoices):
    WAITING = "waiting", _("Waiting for the customer")
    ANSWERED = "answered", _("Answered")
    CALLBACK = "callback", _("No answer: handed to a callback")
    WITHDRAWN = "withdrawn", _("Withdrawn: the complaint was resolved again")


class Survey(models.Model):
    """One satisfaction survey sent when a complaint was resolved."""

    complaint = models.ForeignKey(Complaint, on_delete=models.CASCADE, related_name="surveys")
    # The link's code, kept hashed like the tracking code.
    token_hash = models.CharField(max_length=64)
    state = models.CharField(
        _("state"), max_length=10, choices=SurveyState.choices, default=SurveyState.WAITING
    )
    sent_at = models.DateTimeField(_("sent"))
    due_at = models.DateTimeField(_("answer by"))
    answered_at = models.DateTimeField(_("answered"), null=True, blank=True)
    resolved = models.BooleanField(_("resolved, says the customer"), null=True, blank=True)
    score = models.PositiveSmallIntegerField(
        _("satisfaction (1–5)"), null=True, blank=True,
        validators=[MinValueValidator(1), MaxValueValidator(5)],
    )  # fmt: skip
    comment = models.TextField(_("comment"), blank=True)

    class Meta:
        verbose_name = _("satisfaction survey")
        verbose_name_plural = _("satisfaction surveys")
        indexes = [
            # surveys.jobs.follow_up(): surveys still waiting, the oldest due first.
            models.Index(fields=["due_at"], condition=Q(state="waiting"), name="survey_waiting"),
        ]
        constraints = [
            models.CheckConstraint(
                condition=Q(score__isnull=True) | Q(score__gte=1, score__lte=5),
                name="survey_score_1_to_5",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.complaint_id} {self.state}"


class CallbackOutcome(models.TextChoices):
    REACHED_SATISFIED = "reached_satisfied", _("Reached – satisfied")
    REACHED_UNSATISFIED = "reached_unsatisfied", _("Reached – not satisfied")
    UNREACHABLE = "unreachable", _("Could not be reached")


class CallbackTask(models.Model):
    """A customer to call back about a resolved complaint (回访), and what came of it."""

    complaint = models.ForeignKey(Complaint, on_delete=models.CASCADE, related_name="callbacks")
    survey = models.OneToOneField(
        Survey, on_delete=models.CASCADE, null=True, blank=True, related_name="callback"
    )
    assignee = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True,
        related_name="callbacks", verbose_name=_("agent"),
    )  # fmt: skip
    created_at = models.DateTimeField(_("created"))
    due_at = models.DateTimeField(_("call by"))
    done_at = models.DateTimeField(_("done"), null=True, blank=True)
    outcome = models.CharField(
        _("outcome"), max_length=20, choices=CallbackOutcome.choices, blank=True
    )
    score = models.PositiveSmallIntegerField(
        _("satisfaction (1–5)"), null=True, blank=True,
        validators=[MinValueValidator(1), MaxValueValidator(5)],
    )  # fmt: skip
    note = models.TextField(_("note"), blank=True)

    class Meta:
        verbose_name = _("callback")
        verbose_name_plural = _("callbacks")
        indexes = [
            # An agent's open callbacks, and the job's overdue ones.
            models.Index(
                fields=["assignee", "due_at"],
                condition=Q(done_at__isnull=True),
                name="callback_open",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.complaint_id} → {self.assignee_id}"
