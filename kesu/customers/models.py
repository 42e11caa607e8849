"""Customers and every way of reaching or recognising them."""

from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy


class Tier(models.TextChoices):
    VIP = "vip", _("VIP")
    REGULAR = "regular", _("Regular")
    WALK_IN = "walk_in", pgettext_lazy("customer tier", "Walk-in")


class Profile(models.TextChoices):
    """Difficult-customer profiles (DOMAIN §4), each with its own advice (kesu.knowledge)."""

    EMOTIONAL = "emotional", _("Emotional")
    JUSTICE_DRIVEN = "justice_driven", _("Justice-driven")
    PREPARED = "prepared", _("Prepared")
    PUBLICITY_POWER = "publicity_power", _("Has publicity power")
    PROFESSIONAL = "professional", _("Professional complainant")
    MALICIOUS = "malicious", _("Malicious or irrational")


class Customer(models.Model):
    name = models.CharField(_("full name"), max_length=100, blank=True)
    # The primary phone (E.164) and email, kept beside the contact rows so that lists and
    # search need no extra query per row. Customers are found by CustomerContact, not these.
    phone = models.CharField(_("phone"), max_length=20, blank=True)
    email = models.EmailField(_("email"), max_length=254, blank=True)
    tier = models.CharField(_("tier"), max_length=10, choices=Tier.choices, default=Tier.REGULAR)
    language = models.CharField(_("language"), max_length=10, default="zh-hans")
    complaint_count = models.PositiveIntegerField(_("complaints"), default=0)
    last_complaint_at = models.DateTimeField(_("last complaint"), null=True, blank=True)
    # Set by staff on a case page (the `profile` action, which records who and when).
    profile = models.CharField(
        _("difficult-customer profile"), max_length=20, choices=Profile.choices, blank=True
    )
    created_at = models.DateTimeField(_("created"), auto_now_add=True)

    class Meta:
        verbose_name = _("customer")
        verbose_name_plural = _("customers")

    def __str__(self) -> str:
        return self.name or self.phone or self.email or f"#{self.pk}"


class ContactKind(models.TextChoices):
    PHONE = "phone", _("Phone")
    EMAIL = "email", _("Email")
    WECHAT_OPENID = "wechat_openid", _("WeChat open-id")
    WECHAT_UNIONID = "wechat_unionid", _("WeChat union-id")
    EXTERNAL_ID = "external_id", _("External id")
    # Never the number itself: a keyed hash (customers.contact.id_card_key), for matching only.
    ID_CARD = "id_card", _("ID card (keyed hash)")


class CustomerContact(models.Model):
    """One identifier of a customer; (kind, value) finds the customer again on any channel."""

    customer = models.ForeignKey(Customer, on_delete=models.CASCADE, related_name="contacts")
    kind = models.CharField(_("kind"), max_length=20, choices=ContactKind.choices)
    value = models.CharField(_("value"), max_length=254)
    created_at = models.DateTimeField(_("created"), auto_now_add=True)

    class Meta:
        verbose_name = _("contact")
        verbose_name_plural = _("contacts")
        constraints = [
            models.UniqueConstraint(fields=["kind", "value"], name="contact_kind_value_unique")
        ]

    def __str__(self) -> str:
        return f"{self.kind}:{self.value}"
