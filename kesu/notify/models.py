"""The outbox: every outbound message, written in the same transaction as its cause."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from kesu.accounts.models import Bilingual
from kesu.complaints.models import Complaint


class OutboxChannel(models.TextChoices):
    EMAIL = "email", _("Email")
    SMS = "sms", _("SMS")
    DINGTALK = "dingtalk", _("DingTalk robot")
    WECOM = "wecom", _("WeCom robot")
    FEISHU = "feishu", _("Feishu robot")


ROBOT_CHANNELS = (OutboxChannel.DINGTALK, OutboxChannel.WECOM, OutboxChannel.FEISHU)


class NotifyGroup(Bilingual):
    """People told together, with the group chats their robots post to.

    Two groups carry the escalation chain (DOMAIN E2, E4): `escalation` (the expert group, level
    3, alerted at once on a regulator, media, legal or safety signal) and `executives` (level 4).
    """

    code = models.SlugField(_("code"), max_length=40, unique=True)
    members = models.ManyToManyField(
        settings.AUTH_USER_MODEL,
        blank=True,
        related_name="notify_groups",
        verbose_name=_("members"),
    )

    class Meta:
        verbose_name = _("notification group")
        verbose_name_plural = _("notification groups")


class Robot(models.Model):
    """A group chat's robot (webhook) on DingTalk, WeCom or Feishu."""

    group = models.ForeignKey(
        NotifyGroup, on_delete=models.CASCADE, related_name="robots", verbose_name=_("group")
    )
    channel = models.CharField(
        _("kind"), max_length=10, choices=[(c.value, c.label) for c in ROBOT_CHANNELS]
    )
    name = models.CharField(_("name"), max_length=100)
    webhook = models.URLField(_("webhook address"), max_length=500)
    # DingTalk's and Feishu's signing secret ("加签" / "签名校验"); WeCom robots have none.
    secret = models.CharField(_("signing secret"), max_length=200, blank=True)
    is_active = models.BooleanField(_("active"), default=True)

    class Meta:
        verbose_name = _("robot")
        verbose_name_plural = _("robots")

    def __str__(self) -> str:
        return f"{self.get_channel_display()}: {self.name}"


class Notification(models.Model):
    """An in-app notification: the bell in the workspace, with its unread count."""

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="notifications"
    )
    complaint = models.ForeignKey(
        Complaint, on_delete=models.CASCADE, null=True, blank=True, related_name="+"
    )
    # A code (sla_warning, sla_breach, sla_escalation, risk_alert …) and its facts; the text is
    # made when shown, in the reader's language.
    kind = models.CharField(_("kind"), max_length=40)
    data = models.JSONField(default=dict, blank=True)
    created_at = models.DateTimeField(_("created"))
    read_at = models.DateTimeField(_("read"), null=True, blank=True)

    class Meta:
        verbose_name = _("notification")
        verbose_name_plural = _("notifications")
        indexes = [
            # The bell: a person's newest notifications, and the unread count.
            models.Index(fields=["user", "-created_at"], name="notification_inbox"),
            models.Index(
                fields=["user"], condition=Q(read_at__isnull=True), name="notification_unread"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.user_id}:{self.kind}@{self.created_at:%Y-%m-%d %H:%M}"


class OutboxStatus(models.TextChoices):
    PENDING = "pending", _("Pending")
    SENDING = "sending", _("Sending")
    SENT = "sent", _("Sent")
    RETRYING = "retrying", _("Retrying")
    DEAD = "dead", _("Failed for good")


class OutboxMessage(models.Model):
    channel = models.CharField(_("channel"), max_length=10, choices=OutboxChannel.choices)
    kind = models.CharField(_("kind"), max_length=40)
    recipient = models.CharField(_("recipient"), max_length=254)
    subject = models.CharField(_("subject"), max_length=200, blank=True)
    body = models.TextField(_("body"))
    complaint = models.ForeignKey(
        Complaint, on_delete=models.PROTECT, null=True, blank=True, related_name="outbox"
    )
    # For a robot message: the robot whose webhook and secret deliver it (read when sending).
    robot = models.ForeignKey(
        Robot, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    status = models.CharField(
        _("status"), max_length=10, choices=OutboxStatus.choices, default=OutboxStatus.PENDING
    )
    attempts = models.PositiveSmallIntegerField(_("attempts"), default=0)
    next_attempt_at = models.DateTimeField(_("next attempt"))
    # A dispatcher that claimed the row and died leaves it claimed until this passes.
    claimed_until = models.DateTimeField(null=True, blank=True)
    last_error = models.TextField(_("last error"), blank=True)
    provider_response = models.TextField(_("provider's answer"), blank=True)
    sent_at = models.DateTimeField(_("sent"), null=True, blank=True)
    created_at = models.DateTimeField(_("created"), auto_now_add=True)

    class Meta:
        verbose_name = _("outbound message")
        verbose_name_plural = _("outbox")
        ordering = ["-created_at"]
        indexes = [
            # The dispatcher's query: rows still to deliver, oldest due first.
            models.Index(
                fields=["next_attempt_at"],
                condition=Q(status__in=["pending", "retrying", "sending"]),
                name="outbox_due",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.channel}:{self.kind} → {self.recipient}"
