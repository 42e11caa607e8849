"""Replies to the customer: the phrases a reply must not use, and reply templates (DOMAIN §5)."""

from __future__ import annotations

import re

from django.core.exceptions import ValidationError
from django.db import models
from django.utils.translation import gettext_lazy as _


class Language(models.TextChoices):
    ZH = "zh", _("Chinese")
    EN = "en", _("English")


class PhraseKind(models.TextChoices):
    FORBIDDEN = "forbidden", _("Forbidden phrase (禁语)")
    BLAME = "blame", _("Blames the customer")
    VAGUE = "vague", _("Vague promise without a date")


class Severity(models.TextChoices):
    WARN = "warn", _("Warn: may be sent with a reason")
    BLOCK = "block", _("Block: cannot be sent")


class PhraseRule(models.Model):
    """A phrase a reply should not contain, with what to say instead.

    Matched on folded text (full-width, traditional characters, spaces and punctuation do not
    hide it) allowing a small edit for longer phrases: 规定就是这样的 also finds 规定就这样的.
    """

    kind = models.CharField(_("kind"), max_length=10, choices=PhraseKind.choices)
    language = models.CharField(_("language"), max_length=2, choices=Language.choices)
    phrase = models.CharField(_("phrase"), max_length=100)
    severity = models.CharField(
        _("severity"), max_length=5, choices=Severity.choices, default=Severity.WARN
    )
    suggestion = models.CharField(_("say instead"), max_length=300, blank=True)
    is_active = models.BooleanField(_("active"), default=True)

    class Meta:
        verbose_name = _("reply phrase rule")
        verbose_name_plural = _("reply phrase rules")
        ordering = ["kind", "language", "phrase"]
        constraints = [
            models.UniqueConstraint(fields=["language", "phrase"], name="phrase_rule_unique")
        ]

    def __str__(self) -> str:
        return self.phrase


# The variables a template may use; sla and notify fill them from the complaint.
VARIABLES = (
    "customer_name", "reference", "first_contact_due", "resolve_due", "handler_name",
    "org_name", "tracking_page",
)  # fmt: skip
_VARIABLE = re.compile(r"\{([^{}]*)\}")


def validate_template_body(body: str) -> None:
    unknown = sorted({name for name in _VARIABLE.findall(body) if name not in VARIABLES})
    if unknown:
        raise ValidationError(
            _("Unknown variable(s) %(unknown)s; use %(known)s."),
            params={
                "unknown": ", ".join("{" + u + "}" for u in unknown),
                "known": ", ".join("{" + v + "}" for v in VARIABLES),
            },
        )


class ReplyTemplate(models.Model):
    """A reply to start from (a macro), for a category or any, in one language."""

    name = models.CharField(_("name"), max_length=100)
    language = models.CharField(_("language"), max_length=2, choices=Language.choices)
    # A category code of the triage taxonomy; empty: for every category.
    category = models.CharField(_("category"), max_length=40, blank=True)
    body = models.TextField(_("text"), validators=[validate_template_body])
    position = models.PositiveSmallIntegerField(_("position"), default=100)
    is_active = models.BooleanField(_("active"), default=True)

    class Meta:
        verbose_name = _("reply template")
        verbose_name_plural = _("reply templates")
        ordering = ["language", "position", "name"]

    def __str__(self) -> str:
        return self.name
