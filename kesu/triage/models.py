"""Triage's data: the taxonomy, the keyword rules, the scoring and the trained classifiers.

All of it is rows that an administrator edits (STYLE 9): the category tree of DOMAIN §2,
named keyword rules (risk signals of E2 among them), one row of scoring weights, and the
versioned classifiers with the metrics they were activated on.
"""

from __future__ import annotations

from decimal import Decimal

from django.core.exceptions import ValidationError
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import get_language
from django.utils.translation import gettext_lazy as _

from kesu.complaints.models import Emotion, Flag, Grade


class Category(models.Model):
    """A node of the taxonomy: a nature (no parent) or a category under one."""

    code = models.SlugField(
        _("code"),
        max_length=40,
        unique=True,
        help_text=_("Stored on complaints and used as the classifier's label; do not reuse."),
    )
    parent = models.ForeignKey(
        "self",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="children",
        verbose_name=_("nature"),
        help_text=_("Empty for a nature; the nature for a category."),
    )
    name_zh = models.CharField(_("name (Chinese)"), max_length=60)
    name_en = models.CharField(_("name (English)"), max_length=60)
    points = models.PositiveSmallIntegerField(
        _("points"), default=0, help_text=_("Added to the grade score of a complaint in it.")
    )
    position = models.PositiveSmallIntegerField(_("position"), default=0)
    is_active = models.BooleanField(_("active"), default=True)

    class Meta:
        verbose_name = _("category")
        verbose_name_plural = _("categories")
        ordering = ["position", "code"]

    def __str__(self) -> str:
        return self.label

    @property
    def label(self) -> str:
        return self.name_en if (get_language() or "").startswith("en") else self.name_zh

    @property
    def is_nature(self) -> bool:
        return self.parent_id is None

    def clean(self) -> None:
        # Two levels only: nature → category, as DOMAIN §2 and the reports read them.
        if self.parent is not None and self.parent.parent_id is not None:
            raise ValidationError({"parent": _("Choose a nature (a top-level node) as parent.")})
        if self.parent is not None and self.pk is not None and self.children.exists():
            raise ValidationError({"parent": _("A nature with categories cannot move under one.")})


class Rule(models.Model):
    """A named keyword or pattern rule: when it matches, it sets what it says and is the reason."""

    name = models.CharField(_("name"), max_length=100, unique=True)
    keywords = models.TextField(
        _("keywords"),
        help_text=_(
            "One per line. Matched after folding full-width characters, traditional characters, "
            "case, spaces and punctuation; English words match whole words."
        ),
        blank=True,
    )
    pattern = models.CharField(
        _("pattern"),
        max_length=500,
        blank=True,
        help_text=_("A regular expression, matched against the folded text (optional)."),
    )
    category = models.ForeignKey(
        Category,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="rules",
        verbose_name=_("sets category"),
    )
    flag = models.CharField(_("raises flag"), max_length=20, choices=Flag.choices, blank=True)
    grade_floor = models.CharField(
        _("grade at least"), max_length=1, choices=Grade.choices, blank=True
    )
    position = models.PositiveSmallIntegerField(
        _("position"), default=100, help_text=_("Rules are tried in this order.")
    )
    is_active = models.BooleanField(_("active"), default=True)
    updated_at = models.DateTimeField(_("updated"), auto_now=True)

    class Meta:
        verbose_name = _("rule")
        verbose_name_plural = _("rules")
        ordering = ["position", "id"]
        constraints = [
            models.CheckConstraint(
                condition=~Q(keywords="") | ~Q(pattern=""), name="rule_has_keywords_or_pattern"
            ),
            models.CheckConstraint(
                condition=Q(category__isnull=False) | ~Q(flag="") | ~Q(grade_floor=""),
                name="rule_sets_something",
            ),
        ]

    def __str__(self) -> str:
        return self.name

    def clean(self) -> None:
        from kesu.triage.text import compile_pattern

        errors: dict[str, str] = {}
        if not self.keywords.strip() and not self.pattern.strip():
            errors["keywords"] = str(_("Give keywords, a pattern, or both."))
        if self.pattern:
            try:
                compile_pattern(self.pattern)
            except ValueError as error:
                errors["pattern"] = str(error)
        if self.category_id is None and not self.flag and not self.grade_floor:
            errors["category"] = str(_("A rule must set a category, a flag or a grade floor."))
        if self.category is not None and self.category.parent_id is None:
            errors["category"] = str(_("Choose a category, not a nature."))
        if errors:
            raise ValidationError(errors)


class Scoring(models.Model):
    """The weights of the grade score and the priority (one row; DOMAIN L4, docs/triage.md)."""

    # Points towards the grade.
    safety_points = models.PositiveSmallIntegerField(_("safety or health"), default=45)
    regulator_points = models.PositiveSmallIntegerField(_("regulator or hotline"), default=30)
    media_points = models.PositiveSmallIntegerField(_("media or exposure"), default=30)
    legal_points = models.PositiveSmallIntegerField(_("legal threat"), default=25)
    group_points = models.PositiveSmallIntegerField(_("group complaint"), default=25)
    repeat_signal_points = models.PositiveSmallIntegerField(_("says it is repeated"), default=10)
    amount_medium = models.DecimalField(
        _("medium amount from"), max_digits=12, decimal_places=2, default=Decimal("1000")
    )
    amount_medium_points = models.PositiveSmallIntegerField(_("medium amount"), default=5)
    amount_large = models.DecimalField(
        _("large amount from"), max_digits=12, decimal_places=2, default=Decimal("10000")
    )
    amount_large_points = models.PositiveSmallIntegerField(_("large amount"), default=15)
    amount_huge = models.DecimalField(
        _("huge amount from"), max_digits=12, decimal_places=2, default=Decimal("100000")
    )
    amount_huge_points = models.PositiveSmallIntegerField(_("huge amount"), default=30)
    vip_points = models.PositiveSmallIntegerField(_("VIP customer"), default=15)
    repeat_30d_points = models.PositiveSmallIntegerField(
        _("each earlier complaint in 30 days"), default=15
    )
    repeat_90d_points = models.PositiveSmallIntegerField(
        _("each earlier complaint in 31–90 days"), default=5
    )
    repeat_max_points = models.PositiveSmallIntegerField(_("repeat complaints at most"), default=30)
    upset_points = models.PositiveSmallIntegerField(_("upset"), default=5)
    angry_points = models.PositiveSmallIntegerField(_("angry"), default=10)
    threatening_points = models.PositiveSmallIntegerField(_("threatening"), default=20)
    # Score → grade.
    grade_a_from = models.PositiveSmallIntegerField(_("grade A from"), default=90)
    grade_b_from = models.PositiveSmallIntegerField(_("grade B from"), default=60)
    grade_c_from = models.PositiveSmallIntegerField(_("grade C from"), default=35)
    grade_d_from = models.PositiveSmallIntegerField(_("grade D from"), default=15)
    # Priority = urgency × importance.
    important_grade = models.CharField(
        _("important from grade"),
        max_length=1,
        choices=Grade.choices,
        default=Grade.C,
        help_text=_("Complaints of this grade or worse are important."),
    )
    urgent_emotion = models.CharField(
        _("urgent from emotion"),
        max_length=12,
        choices=Emotion.choices,
        default=Emotion.ANGRY,
        help_text=_("Complaints with this emotion or stronger are urgent."),
    )
    # Below this confidence the classifier's category is not used (needs review).
    min_confidence = models.FloatField(_("lowest confidence to accept"), default=0.5)
    duplicate_similarity = models.FloatField(_("duplicate similarity from"), default=0.5)
    # The same grievance arriving again (another channel, a second mail) joins the customer's
    # open complaint instead of opening another (issue: intake channels). Stricter than the
    # merge suggestion above, because nobody confirms it.
    join_window_days = models.PositiveSmallIntegerField(
        _("join a repeat within (days)"),
        default=7,
        help_text=_("0: never join; every message opens its own complaint."),
    )
    join_similarity = models.FloatField(_("join a repeat from similarity"), default=0.5)
    updated_at = models.DateTimeField(_("updated"), auto_now=True)

    class Meta:
        verbose_name = _("scoring")
        verbose_name_plural = _("scoring")
        constraints = [
            models.CheckConstraint(
                condition=Q(grade_a_from__gt=models.F("grade_b_from"))
                & Q(grade_b_from__gt=models.F("grade_c_from"))
                & Q(grade_c_from__gt=models.F("grade_d_from")),
                name="scoring_grade_thresholds_descend",
            ),
            models.CheckConstraint(
                condition=Q(min_confidence__gte=0, min_confidence__lte=1)
                & Q(duplicate_similarity__gt=0, duplicate_similarity__lte=1)
                & Q(join_similarity__gt=0, join_similarity__lte=1),
                name="scoring_ratios_0_1",
            ),
        ]

    def __str__(self) -> str:
        return str(_("Scoring"))


class ClassifierModel(models.Model):
    """One trained version of a named classifier, with the metrics it was judged on."""

    name = models.SlugField(_("name"), max_length=40)
    version = models.PositiveIntegerField(_("version"))
    is_active = models.BooleanField(_("active"), default=False)
    created_at = models.DateTimeField(_("trained"), default=timezone.now)
    source = models.CharField(_("trained from"), max_length=300)
    language = models.CharField(_("language"), max_length=10)
    labels = models.JSONField(_("labels"), default=list)
    train_size = models.PositiveIntegerField(_("training texts"))
    # Held-back split: {macro_f1, accuracy, per_class, confusion, test_size, seconds, ...}.
    metrics = models.JSONField(_("metrics"), default=dict)
    # Why it was (or was not) activated, against which version.
    decision = models.CharField(_("decision"), max_length=300, blank=True)
    # The fitted scikit-learn pipeline (joblib); kept in the database so that every web
    # process and machine loads the same model without a shared disk.
    blob = models.BinaryField(_("model"))
    size = models.PositiveIntegerField(_("size (bytes)"))

    class Meta:
        verbose_name = _("classifier")
        verbose_name_plural = _("classifiers")
        ordering = ["name", "-version"]
        constraints = [
            models.UniqueConstraint(fields=["name", "version"], name="classifier_name_version"),
            # At most one active version per name: the one triage uses.
            models.UniqueConstraint(
                fields=["name"], condition=Q(is_active=True), name="classifier_one_active"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.name} v{self.version}"
