"""The complaint, its append-only event timeline, its attachments and who looked at it."""

from __future__ import annotations

import re
from decimal import Decimal
from typing import Any

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy
from django_stubs_ext import StrOrPromise

from kesu.accounts.models import Department, Store
from kesu.customers.models import Customer


class Channel(models.TextChoices):
    WEB = "web", _("Web form")
    HOTLINE = "hotline", _("Hotline")
    EMAIL = "email", _("Email")
    CHAT = "chat", _("Online chat")
    WECHAT = "wechat", _("WeChat")
    STORE = "store", _("Store counter")
    WALK_IN = "walk_in", _("Walk-in")
    SOCIAL = "social", _("Social media")
    REGULATOR = "regulator", _("Regulator referral")
    LETTER = "letter", _("Letter")
    OTHER = "other", _("Other")


class State(models.TextChoices):
    RECEIVED = "received", _("Received")
    ACKNOWLEDGED = "acknowledged", _("Acknowledged")
    INVESTIGATING = "investigating", _("Investigating")
    AWAITING_CUSTOMER = "awaiting_customer", _("Awaiting customer")
    REMEDYING = "remedying", _("Remedying")
    RESOLVED = "resolved", _("Resolved")
    CLOSED = "closed", _("Closed")


# In one fixed order: queries filter with exactly this list, written into the SQL with
# `state__in_codes`, so that the databases match it to the partial indexes below (SQLite
# compares the IN list term by term, literal for literal).
OPEN_STATE_LIST = [
    State.RECEIVED,
    State.ACKNOWLEDGED,
    State.INVESTIGATING,
    State.AWAITING_CUSTOMER,
    State.REMEDYING,
]
OPEN_STATES = frozenset(OPEN_STATE_LIST)
_CODE = re.compile(r"[a-z][a-z0-9_]*")


@models.CharField.register_lookup
class InCodes(models.Lookup):
    """`field__in_codes=[...]`: IN with our own codes written into the SQL instead of bound.

    SQLite uses a partial index only when the query repeats the index's condition, and a bound
    parameter never equals the index's literal: with `state__in`, the open-complaints index was
    ignored and 61,000 rows were sorted to list 25 (a read of 210 ms instead of 0.1 ms). Only
    codes (lower-case letters, digits, _) are accepted, so nothing can be injected.
    """

    lookup_name = "in_codes"
    prepare_rhs = False

    def get_prep_lookup(self) -> Any:
        return list(self.rhs)

    def as_sql(self, compiler: Any, connection: Any) -> tuple[str, tuple[str | int, ...]]:
        lhs, params = self.process_lhs(compiler, connection)
        codes = [str(code) for code in self.rhs]
        if not codes or not all(_CODE.fullmatch(code) for code in codes):
            raise ValueError(f"in_codes takes a non-empty list of codes, not {codes!r}")
        return f"{lhs} IN ({', '.join(repr(code) for code in codes)})", tuple(params)


class Closure(models.TextChoices):
    RESOLVED = "resolved", _("Resolved")
    INVALID = "invalid", _("Invalid")
    DUPLICATE = "duplicate", _("Duplicate")


class Grade(models.TextChoices):
    A = "A", _("A · severe crisis")
    B = "B", _("B · major")
    C = "C", _("C · intermediate")
    D = "D", _("D · general")
    E = "E", _("E · ordinary")


class Priority(models.TextChoices):
    P1 = "P1", _("P1 · urgent and important")
    P2 = "P2", _("P2 · important")
    P3 = "P3", _("P3 · urgent")
    P4 = "P4", _("P4 · routine")


class Emotion(models.TextChoices):
    """How strongly the customer feels (triage reads it from the text; an input of the grade)."""

    CALM = "calm", _("Calm")
    UPSET = "upset", _("Upset")
    ANGRY = "angry", _("Angry")
    THREATENING = "threatening", _("Threatening")


class RiskLevel(models.TextChoices):
    """How likely the customer is to take the complaint outside (DOMAIN E3; kesu.triage.risk)."""

    LOW = "low", pgettext_lazy("escalation risk", "Low")
    MEDIUM = "medium", pgettext_lazy("escalation risk", "Medium")
    HIGH = "high", pgettext_lazy("escalation risk", "High")


class Flag(models.TextChoices):
    """Risk signals (DOMAIN E2): each raises the grade and may make a complaint urgent."""

    REGULATOR = "regulator", _("Regulator or hotline")
    MEDIA = "media", _("Media or public exposure")
    LEGAL = "legal", _("Legal action")
    SAFETY = "safety", _("Safety or health")
    GROUP = "group", _("Group complaint")
    REPEAT = "repeat", _("Repeated contact")
    URGENT = "urgent", _("Asks for urgency")


# The signals that alert the escalation group at once and start the expert clock (E2, E4).
ALERT_FLAGS = frozenset({Flag.REGULATOR, Flag.MEDIA, Flag.LEGAL, Flag.SAFETY})


class EscalationLevel(models.IntegerChoices):
    NONE = 0, _("0 · none")
    INTERNAL = 1, _("1 · internal (management / quality line)")
    THREATENED = 2, _("2 · threatens to go outside")
    EXTERNAL = 3, _("3 · regulator, media or court")


class Responsibility(models.TextChoices):
    OURS = "ours", _("Ours")
    SHARED = "shared", _("Shared")
    CUSTOMER = "customer", _("Customer's")
    UNFOUNDED = "unfounded", _("Unfounded")


class RemedyType(models.TextChoices):
    APOLOGY = "apology", _("Apology")
    EXPLANATION = "explanation", _("Explanation")
    REFUND = "refund", _("Refund")
    REPLACEMENT = "replacement", _("Replacement")
    REPAIR = "repair", _("Repair")
    REDO = "redo", _("Redo")
    COMPENSATION = "compensation", _("Compensation")
    FEE_WAIVER = "fee_waiver", _("Fee waiver")
    OTHER = "other", _("Other")


class RemedyStatus(models.TextChoices):
    NONE = "", _("None")
    PENDING_APPROVAL = "pending_approval", _("Awaiting approval")
    PROPOSED = "proposed", _("Proposed to the customer")
    ACCEPTED = "accepted", _("Accepted by the customer")
    REJECTED = "rejected", _("Rejected by the customer")
    IN_PROGRESS = "in_progress", _("Being carried out")
    DONE = "done", _("Done")


def _person(
    related_name: str, verbose_name: StrOrPromise, *, db_index: bool = False
) -> models.ForeignKey:  # type: ignore[type-arg]
    # People are PROTECTed: a complaint's history must never lose who did what (L10). No index
    # of its own by default: the queue indexes below lead with the columns that are searched,
    # and every index is paid for on each intake.
    return models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name=related_name,
        verbose_name=verbose_name,
        db_index=db_index,
    )


class Complaint(models.Model):
    reference = models.CharField(_("reference"), max_length=20, unique=True)
    tracking_token_hash = models.CharField(max_length=64)
    customer = models.ForeignKey(
        Customer,
        on_delete=models.PROTECT,
        related_name="complaints",
        verbose_name=_("customer"),
        db_index=False,  # complaint_customer_newest leads with it
    )
    language = models.CharField(_("language"), max_length=10, default="zh-hans")

    # What happened (L2).
    channel = models.CharField(_("channel"), max_length=16, choices=Channel.choices)
    subject = models.CharField(_("subject"), max_length=200)
    description = models.TextField(_("description"))
    occurred_at = models.DateTimeField(_("occurred at"), null=True, blank=True)
    store = models.ForeignKey(
        Store, on_delete=models.PROTECT, null=True, blank=True, verbose_name=_("store")
    )
    product = models.CharField(_("product"), max_length=200, blank=True)
    order_ref = models.CharField(_("order"), max_length=100, blank=True)
    amount = models.DecimalField(
        _("amount involved"), max_digits=12, decimal_places=2, null=True, blank=True
    )
    demand = models.CharField(
        _("customer's demand"), max_length=20, choices=RemedyType.choices, blank=True
    )
    demand_detail = models.CharField(
        _("demand in the customer's words"), max_length=500, blank=True
    )

    # Assessment (L4).
    # Codes of the triage taxonomy (kesu.triage.models.Category): a nature and a category.
    nature = models.CharField(_("nature"), max_length=40, blank=True)
    category = models.CharField(_("category"), max_length=40, blank=True)
    grade = models.CharField(_("grade"), max_length=1, choices=Grade.choices, default=Grade.E)
    priority = models.CharField(
        _("priority"), max_length=2, choices=Priority.choices, default=Priority.P3
    )
    escalation_level = models.PositiveSmallIntegerField(
        _("escalation level"), choices=EscalationLevel.choices, default=EscalationLevel.NONE
    )
    # Triage's reading (kesu.triage): risk flags as space-separated codes of Flag, the
    # emotion, the grade score and its reasons (codes and numbers, rendered when shown).
    flags = models.CharField(_("risk flags"), max_length=200, blank=True)
    emotion = models.CharField(
        _("emotion"), max_length=12, choices=Emotion.choices, default=Emotion.CALM
    )
    triage_score = models.PositiveSmallIntegerField(_("triage score"), default=0)
    triage_reasons = models.JSONField(_("triage reasons"), default=list, blank=True)
    category_confidence = models.FloatField(_("category confidence"), null=True, blank=True)
    # The classifier was unsure and no person has decided yet: the "needs review" queue.
    needs_review = models.BooleanField(_("needs review"), default=False)
    # A person chose or confirmed the category: the complaint is a training label.
    category_confirmed = models.BooleanField(_("category confirmed"), default=False)
    # The escalation risk (E3, kesu.triage.risk): scored at intake and again whenever the case
    # moves, with its reasons (codes and numbers, rendered when shown).
    risk_score = models.PositiveSmallIntegerField(_("escalation risk score"), default=0)
    risk_level = models.CharField(
        _("escalation risk"), max_length=8, choices=RiskLevel.choices, default=RiskLevel.LOW
    )
    risk_reasons = models.JSONField(_("escalation risk reasons"), default=list, blank=True)
    risk_scored_at = models.DateTimeField(_("escalation risk scored"), null=True, blank=True)

    # Workflow.
    state = models.CharField(
        _("state"), max_length=20, choices=State.choices, default=State.RECEIVED
    )
    closure = models.CharField(_("closed as"), max_length=10, choices=Closure.choices, blank=True)
    closure_reason = models.TextField(_("reason for closing"), blank=True)
    merged_into = models.ForeignKey(
        "self",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="merged_complaints",
        verbose_name=_("merged into"),
        db_index=False,  # read from the duplicate, rarely the other way
    )

    # Accountability (L5).
    department = models.ForeignKey(
        Department,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="complaints",
        verbose_name=_("department"),
        db_index=False,  # complaint_dept_newest leads with it
    )
    assignee = _person("assigned_complaints", _("handler"))
    created_by = _person("logged_complaints", _("logged by"))

    # Investigation and remedy (L6, L7, L11).
    responsibility = models.CharField(
        _("responsibility"), max_length=10, choices=Responsibility.choices, blank=True
    )
    root_cause = models.TextField(_("root cause"), blank=True)
    corrective_action = models.TextField(_("corrective action"), blank=True)
    resolution = models.TextField(_("resolution summary"), blank=True)
    remedy_type = models.CharField(
        _("remedy"), max_length=20, choices=RemedyType.choices, blank=True
    )
    remedy_amount = models.DecimalField(
        _("remedy amount"), max_digits=12, decimal_places=2, null=True, blank=True
    )
    remedy_description = models.TextField(_("remedy description"), blank=True)
    remedy_status = models.CharField(
        _("remedy status"), max_length=20, choices=RemedyStatus.choices, blank=True
    )
    remedy_proposed_by = _person("remedies_proposed", _("remedy proposed by"))
    remedy_approved_by = _person("remedies_approved", _("remedy approved by"))
    remedy_due = models.DateTimeField(_("remedy due"), null=True, blank=True)
    satisfaction = models.PositiveSmallIntegerField(_("satisfaction (1–5)"), null=True, blank=True)

    # Counters (L5, L8; inputs of the escalation risk, E3).
    transfers = models.PositiveSmallIntegerField(_("transfers"), default=0)
    reopens = models.PositiveSmallIntegerField(_("reopens"), default=0)
    rejections = models.PositiveSmallIntegerField(_("remedies rejected"), default=0)

    # Clock (L3, L9): stored in UTC. The deadlines are those of the SLA policy's clocks
    # (kesu.sla), kept here for lists and sorting and recomputed on every workflow action.
    received_at = models.DateTimeField(_("received"))
    policy = models.ForeignKey(
        "sla.Policy",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("SLA policy"),
    )
    ack_due = models.DateTimeField(_("acknowledge by"))
    first_contact_due = models.DateTimeField(_("first contact by"))
    resolve_due = models.DateTimeField(_("resolve by"))
    update_due = models.DateTimeField(_("update the customer by"), null=True, blank=True)
    # A risk alert (E2) not yet acknowledged: when it was raised, and the chain level it has
    # reached (3: the escalation group, 4: executives). `alerted_flags` are the signals alerted
    # so far, so that the same threat repeated raises no second alert.
    alert_raised_at = models.DateTimeField(_("risk alert raised"), null=True, blank=True)
    alert_level = models.PositiveSmallIntegerField(_("risk alert level"), default=0)
    alerted_flags = models.CharField(_("alerted signals"), max_length=100, blank=True)
    acknowledged_at = models.DateTimeField(_("acknowledged"), null=True, blank=True)
    first_contact_at = models.DateTimeField(_("first contact"), null=True, blank=True)
    resolved_at = models.DateTimeField(_("resolved"), null=True, blank=True)
    closed_at = models.DateTimeField(_("closed"), null=True, blank=True)
    updated_at = models.DateTimeField(_("updated"), auto_now=True)

    class Meta:
        verbose_name = _("complaint")
        verbose_name_plural = _("complaints")
        ordering = ["-received_at", "-id"]
        indexes = [
            # Queue pages: newest first, optionally narrowed by one of these columns.
            models.Index(fields=["-received_at", "-id"], name="complaint_newest"),
            models.Index(fields=["department", "-received_at"], name="complaint_dept_newest"),
            models.Index(fields=["assignee", "-received_at"], name="complaint_assignee_newest"),
            models.Index(fields=["created_by", "-received_at"], name="complaint_logger_newest"),
            models.Index(fields=["customer", "-received_at"], name="complaint_customer_newest"),
            # Queue totals: who may see a complaint and which queue it is in, read from the
            # index alone (the rows themselves are wide with text).
            models.Index(
                fields=["department", "state", "assignee", "created_by", "escalation_level"],
                name="complaint_queue_cover",
            ),
            # The "needs review" queue reads only the few open complaints waiting for a person.
            models.Index(
                fields=["-received_at"],
                condition=Q(needs_review=True) & Q(state__in=OPEN_STATE_LIST),
                name="complaint_needs_review",
            ),
            # The overdue sweep and the "due soonest" sort read only open complaints.
            models.Index(
                fields=["resolve_due", "id"],
                condition=Q(state__in=OPEN_STATE_LIST),
                name="complaint_open_resolve_due",
            ),
        ]
        constraints = [
            models.CheckConstraint(
                condition=Q(escalation_level__lte=3), name="complaint_escalation_0_3"
            ),
            models.CheckConstraint(
                condition=Q(satisfaction__isnull=True)
                | Q(satisfaction__gte=1, satisfaction__lte=5),
                name="complaint_satisfaction_1_5",
            ),
            models.CheckConstraint(
                condition=Q(amount__isnull=True) | Q(amount__gte=Decimal("0")),
                name="complaint_amount_not_negative",
            ),
            models.CheckConstraint(
                condition=Q(remedy_amount__isnull=True) | Q(remedy_amount__gte=Decimal("0")),
                name="complaint_remedy_amount_not_negative",
            ),
            # A closed complaint says how it was closed; an open one does not.
            models.CheckConstraint(
                condition=(Q(state=State.CLOSED) & ~Q(closure=""))
                | (~Q(state=State.CLOSED) & Q(closure="")),
                name="complaint_closure_iff_closed",
            ),
            models.CheckConstraint(
                condition=Q(merged_into__isnull=True) | Q(closure=Closure.DUPLICATE),
                name="complaint_merged_only_if_duplicate",
            ),
        ]

    def __str__(self) -> str:
        return self.reference

    @property
    def is_open(self) -> bool:
        return self.state in OPEN_STATES


class Event(models.Model):
    """One change of a complaint. Append-only: the trace (L10), the KPI source, the notifier.

    `kind` is a code (an action name or a system event such as `received`); labels are
    translated when shown, never stored.
    """

    complaint = models.ForeignKey(
        Complaint,
        on_delete=models.PROTECT,
        related_name="events",
        db_index=False,  # event_timeline leads with it
    )
    kind = models.CharField(max_length=40)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    at = models.DateTimeField()
    from_state = models.CharField(max_length=20, blank=True)
    to_state = models.CharField(max_length=20, blank=True)
    data = models.JSONField(default=dict, blank=True)
    customer_visible = models.BooleanField(default=False)

    class Meta:
        verbose_name = _("event")
        verbose_name_plural = _("events")
        ordering = ["at", "id"]
        indexes = [
            models.Index(fields=["complaint", "at", "id"], name="event_timeline"),
            models.Index(fields=["kind", "at"], name="event_kind_at"),
        ]

    def __str__(self) -> str:
        return f"{self.complaint_id}:{self.kind}@{self.at:%Y-%m-%d %H:%M}"


def attachment_path(instance: Attachment, filename: str) -> str:
    # The stored name is random: a customer's file name never becomes a path on our disk.
    return f"attachments/{instance.uploaded_at:%Y/%m}/{instance.storage_name}"


class Attachment(models.Model):
    complaint = models.ForeignKey(Complaint, on_delete=models.PROTECT, related_name="attachments")
    file = models.FileField(upload_to=attachment_path, max_length=200)
    storage_name = models.CharField(max_length=80)
    original_name = models.CharField(_("file name"), max_length=200)
    content_type = models.CharField(_("type"), max_length=100)
    size = models.PositiveIntegerField(_("size"))
    internal = models.BooleanField(_("internal"), default=False)
    uploaded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    uploaded_at = models.DateTimeField(_("uploaded"))

    class Meta:
        verbose_name = _("attachment")
        verbose_name_plural = _("attachments")
        ordering = ["uploaded_at", "id"]

    def __str__(self) -> str:
        return self.original_name


class AccessLog(models.Model):
    """A member of staff opened the full record of a complaint (DESIGN: personal data)."""

    class Via(models.TextChoices):
        PAGE = "page", _("Case page")
        API = "api", _("API")
        ATTACHMENT = "attachment", _("Attachment download")

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    complaint = models.ForeignKey(Complaint, on_delete=models.PROTECT, related_name="+")
    via = models.CharField(max_length=12, choices=Via.choices)
    at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("access log entry")
        verbose_name_plural = _("access log")
        indexes = [models.Index(fields=["complaint", "at"], name="accesslog_complaint_at")]

    def __str__(self) -> str:
        return f"{self.user_id} {self.via} {self.complaint_id}"


class ReferenceCounter(models.Model):
    """The last reference number given on one day (organisation time zone)."""

    day = models.DateField(primary_key=True)
    last = models.PositiveIntegerField(default=0)

    def __str__(self) -> str:
        return f"{self.day}: {self.last}"
