"""People and the organisation: users with one role each, departments, stores, API tokens."""

from __future__ import annotations

from decimal import Decimal

from django.contrib.auth.models import AbstractUser
from django.db import models
from django.utils.translation import get_language
from django.utils.translation import gettext_lazy as _


class Role(models.TextChoices):
    AGENT = "agent", _("Agent")
    HANDLER = "handler", _("Handler")
    MANAGER = "manager", _("Manager")
    EXPERT = "expert", _("Expert (escalation group)")
    ADMIN = "admin", _("Administrator")
    AUDITOR = "auditor", _("Auditor")


class Bilingual(models.Model):
    """A name kept in Chinese and English; `name` follows the active language."""

    name_zh = models.CharField(_("name (Chinese)"), max_length=100)
    name_en = models.CharField(_("name (English)"), max_length=100, blank=True)

    class Meta:
        abstract = True

    def __str__(self) -> str:
        return self.name

    @property
    def name(self) -> str:
        language = get_language() or "zh-hans"
        if language.startswith("en") and self.name_en:
            return self.name_en
        return self.name_zh


class Department(Bilingual):
    code = models.SlugField(_("code"), max_length=40, unique=True)
    is_active = models.BooleanField(_("active"), default=True)

    class Meta:
        ordering = ["code"]
        verbose_name = _("department")
        verbose_name_plural = _("departments")


class User(AbstractUser):
    display_name = models.CharField(_("display name"), max_length=100, blank=True)
    role = models.CharField(_("role"), max_length=16, choices=Role.choices, default=Role.AGENT)
    departments = models.ManyToManyField(
        Department, blank=True, related_name="members", verbose_name=_("departments")
    )
    language = models.CharField(_("language"), max_length=10, default="zh-hans")
    # Where this person is told of warnings, breaches and risk alerts, beside the bell in the
    # workspace (always on). E.164, as customers' phones are kept.
    mobile = models.CharField(_("mobile"), max_length=20, blank=True)
    notify_by_email = models.BooleanField(_("notify me by email"), default=True)
    notify_by_sms = models.BooleanField(_("notify me by SMS"), default=False)

    class Meta:
        verbose_name = _("user")
        verbose_name_plural = _("users")

    @property
    def label(self) -> str:
        return self.display_name or self.get_full_name() or self.username

    def __str__(self) -> str:
        return self.label


class Store(Bilingual):
    """A store or branch where complaints happen and where customers complain in person."""

    code = models.SlugField(_("code"), max_length=40, unique=True)
    city = models.CharField(_("city"), max_length=60, blank=True)
    address = models.CharField(_("address"), max_length=200, blank=True)
    manager = models.ForeignKey(
        User,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="managed_stores",
        verbose_name=_("store manager"),
    )
    is_active = models.BooleanField(_("active"), default=True)

    class Meta:
        ordering = ["code"]
        verbose_name = _("store")
        verbose_name_plural = _("stores")


class RolePolicy(models.Model):
    """What a role may decide alone; the business edits these rows in the admin (DOMAIN L7)."""

    role = models.CharField(_("role"), max_length=16, choices=Role.choices, unique=True)
    remedy_authority = models.DecimalField(
        _("remedy authority (yuan)"),
        max_digits=12,
        decimal_places=2,
        null=True,
        blank=True,
        help_text=_(
            "Largest remedy amount this role may propose without approval; empty = no limit."
        ),
    )

    class Meta:
        ordering = ["role"]
        verbose_name = _("role policy")
        verbose_name_plural = _("role policies")
        constraints = [
            models.CheckConstraint(
                condition=models.Q(remedy_authority__isnull=True)
                | models.Q(remedy_authority__gte=Decimal("0")),
                name="rolepolicy_authority_not_negative",
            )
        ]

    def __str__(self) -> str:
        return str(self.get_role_display())


class ApiToken(models.Model):
    """A bearer token for the REST API; only its SHA-256 is stored."""

    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="api_tokens")
    name = models.CharField(_("name"), max_length=100, blank=True)
    prefix = models.CharField(_("prefix"), max_length=12)
    key_hash = models.CharField(max_length=64, unique=True)
    created_at = models.DateTimeField(_("created"), auto_now_add=True)
    last_used_at = models.DateTimeField(_("last used"), null=True, blank=True)
    revoked_at = models.DateTimeField(_("revoked"), null=True, blank=True)

    class Meta:
        verbose_name = _("API token")
        verbose_name_plural = _("API tokens")

    def __str__(self) -> str:
        return f"{self.prefix}… ({self.user})"
