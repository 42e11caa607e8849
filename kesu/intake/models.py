"""What intake must remember: idempotency keys, the channels it listens to, what they brought.

Every message a channel delivers is recorded once as an InboundMessage keyed by (source,
external id): a re-polled mail, a retried webhook or a re-sent WeChat push finds its row and
is answered as before instead of opening a second complaint (issue: intake channels).
Secrets (mailbox passwords, webhook keys, WeChat tokens) are never stored here: a row names
the environment variable or file that holds them.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from kesu.complaints.models import Channel, Complaint
from kesu.customers.models import Customer


class IdempotencyKey(models.Model):
    """A client's Idempotency-Key and the answer it got, so that a retry gets the same answer.

    The answer includes the tracking token, so rows are deleted after 24 hours
    (intake.jobs.purge_idempotency_keys).
    """

    key = models.CharField(max_length=255, unique=True)
    fingerprint = models.CharField(max_length=64)
    complaint = models.ForeignKey(
        Complaint, on_delete=models.CASCADE, null=True, blank=True, related_name="+"
    )
    response = models.JSONField()
    created_at = models.DateTimeField(db_index=True)

    def __str__(self) -> str:
        return self.key


class Security(models.TextChoices):
    SSL = "ssl", _("SSL/TLS (port 993)")
    STARTTLS = "starttls", _("STARTTLS (port 143)")
    NONE = "none", _("None (local relays and tests only)")


class Mailbox(models.Model):
    """An IMAP mailbox polled for complaints; Kesu remembers how far it has read (UIDs)."""

    name = models.CharField(_("name"), max_length=100, unique=True)
    host = models.CharField(_("IMAP server"), max_length=200)
    port = models.PositiveIntegerField(_("port"), default=993)
    security = models.CharField(
        _("security"), max_length=10, choices=Security.choices, default=Security.SSL
    )
    username = models.CharField(_("user name"), max_length=200)
    password_env = models.CharField(
        _("password from environment variable"),
        max_length=100,
        blank=True,
        help_text=_("The name of the variable, e.g. KESU_MAILBOX_SERVICE_PASSWORD."),
    )
    password_file = models.CharField(
        _("password from file"),
        max_length=300,
        blank=True,
        help_text=_("A file readable by Kesu holding only the password."),
    )
    folder = models.CharField(_("folder"), max_length=200, default="INBOX")
    is_active = models.BooleanField(_("active"), default=True)
    # Where reading stopped: mail with a UID above last_uid in a folder of this UIDVALIDITY.
    uid_validity = models.BigIntegerField(null=True, blank=True, editable=False)
    last_uid = models.BigIntegerField(default=0, editable=False)
    last_polled_at = models.DateTimeField(_("last polled"), null=True, blank=True, editable=False)
    last_error = models.TextField(_("last error"), blank=True, editable=False)
    last_error_at = models.DateTimeField(_("last error at"), null=True, blank=True, editable=False)

    class Meta:
        verbose_name = _("mailbox")
        verbose_name_plural = _("mailboxes")
        constraints = [
            models.CheckConstraint(
                condition=~models.Q(password_env="", password_file=""),
                name="mailbox_has_password_source",
            )
        ]

    def __str__(self) -> str:
        return self.name


class SourceKind(models.TextChoices):
    WEBHOOK = "webhook", _("Chat system (signed JSON webhook)")
    WECHAT = "wechat", _("WeChat official account")
    WECOM = "wecom", _("WeCom (app or customer service)")


TENCENT_API = {"wechat": "https://api.weixin.qq.com", "wecom": "https://qyapi.weixin.qq.com"}


class Source(models.Model):
    """A chat or messaging system allowed to deliver messages, with where its secrets are."""

    code = models.SlugField(
        _("code"),
        max_length=40,
        unique=True,
        help_text=_("Sent by the system (X-Kesu-Source) or part of its callback address."),
    )
    name = models.CharField(_("name"), max_length=100)
    kind = models.CharField(_("kind"), max_length=10, choices=SourceKind.choices)
    channel = models.CharField(
        _("channel of its complaints"), max_length=16, choices=Channel.choices, default=Channel.CHAT
    )
    app_id = models.CharField(
        _("AppID or CorpID"),
        max_length=100,
        blank=True,
        help_text=_("WeChat: the official account's AppID; WeCom: the CorpID."),
    )
    secret_env = models.CharField(
        _("secret from environment variable"),
        max_length=100,
        blank=True,
        help_text=_("Webhook: the signing key. WeChat and WeCom: the Token."),
    )
    secret_file = models.CharField(_("secret from file"), max_length=300, blank=True)
    aes_key_env = models.CharField(
        _("EncodingAESKey from environment variable"),
        max_length=100,
        blank=True,
        help_text=_("WeChat safe mode and WeCom; empty for WeChat plain mode."),
    )
    api_secret_env = models.CharField(
        _("API Secret from environment variable"),
        max_length=100,
        blank=True,
        help_text=_(
            "WeCom customer service: the Secret used to fetch its messages and files. WeCom "
            "app: the app's Secret, used to fetch the photos, voice messages and videos sent "
            "to it. WeChat official account: the AppSecret, used for the same."
        ),
    )
    api_base = models.URLField(
        _("API address"),
        max_length=200,
        blank=True,
        help_text=_("Empty: Tencent's own (api.weixin.qq.com, qyapi.weixin.qq.com)."),
    )
    # WeCom customer service: where kf/sync_msg stopped.
    cursor = models.CharField(max_length=200, blank=True, editable=False)
    # WeCom customer service: the news a push announced, for the job that pulls (intake.wecom).
    kf_token = models.CharField(max_length=200, blank=True, editable=False)
    kf_open_kfid = models.CharField(max_length=100, blank=True, editable=False)
    kf_announced_at = models.DateTimeField(null=True, blank=True, editable=False)
    is_active = models.BooleanField(_("active"), default=True)

    class Meta:
        verbose_name = _("message source")
        verbose_name_plural = _("message sources")
        constraints = [
            models.CheckConstraint(
                condition=~models.Q(secret_env="", secret_file=""),
                name="source_has_secret",
            )
        ]

    def __str__(self) -> str:
        return f"{self.name} ({self.code})"

    @property
    def api_address(self) -> str:
        return (self.api_base or TENCENT_API.get(self.kind, "")).rstrip("/")


class Conversation(models.Model):
    """A chat conversation (or a WeChat user's thread): its messages join its open case."""

    source = models.ForeignKey(Source, on_delete=models.PROTECT, related_name="conversations")
    external_id = models.CharField(max_length=200)
    customer = models.ForeignKey(
        Customer, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    complaint = models.ForeignKey(
        Complaint, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    last_message_at = models.DateTimeField()

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["source", "external_id"], name="conversation_source_external_unique"
            )
        ]

    def __str__(self) -> str:
        return f"{self.source_id}:{self.external_id}"


class Outcome(models.TextChoices):
    CREATED = "created", _("Created a complaint")
    JOINED = "joined", _("Joined an open complaint")
    IGNORED = "ignored", _("Ignored")
    REJECTED = "rejected", _("Rejected")


class InboundMessage(models.Model):
    """One message a channel delivered, and what became of it; never two for the same message."""

    # "email", "webhook:<code>", "wechat:<code>", "wecom:<code>", "mention:<platform>".
    source_key = models.CharField(_("source"), max_length=80)
    external_id = models.CharField(_("message id"), max_length=255)
    channel = models.CharField(_("channel"), max_length=16, choices=Channel.choices)
    received_at = models.DateTimeField(_("received"))
    sender = models.CharField(_("from"), max_length=254, blank=True)
    summary = models.CharField(_("subject"), max_length=200, blank=True)
    # What was said, kept for ignored and rejected messages too: nothing a channel brings is lost.
    text = models.TextField(_("text"), blank=True)
    # Files that came before there was a case to put them on (attachments.held_facts): they
    # become the complaint's when the message is read as its context.
    held_files = models.JSONField(_("files held"), default=list, blank=True)
    # WeChat official accounts: files announced by the push, for the job that fetches them
    # (intake.media): [{"kind": "image", "media_id": "…"}].
    pending_media = models.JSONField(_("files to fetch"), default=list, blank=True)
    media_due_at = models.DateTimeField(null=True, blank=True, editable=False)
    outcome = models.CharField(_("outcome"), max_length=10, choices=Outcome.choices)
    reason = models.CharField(_("reason"), max_length=300, blank=True)
    complaint = models.ForeignKey(
        Complaint, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    customer = models.ForeignKey(
        Customer, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    conversation = models.ForeignKey(
        Conversation, on_delete=models.PROTECT, null=True, blank=True, related_name="messages"
    )

    class Meta:
        verbose_name = _("inbound message")
        verbose_name_plural = _("inbound messages")
        constraints = [
            models.UniqueConstraint(
                fields=["source_key", "external_id"], name="inbound_source_external_unique"
            )
        ]
        indexes = [
            # The customer page lists a customer's messages, newest first.
            models.Index(fields=["customer", "-received_at"], name="inbound_customer_time"),
            # Staff look at what was ignored or rejected lately (the inbound log).
            models.Index(fields=["-received_at"], name="inbound_time"),
            # The job that fetches announced files reads only the few that wait.
            models.Index(
                fields=["media_due_at"],
                name="inbound_media_due",
                condition=models.Q(media_due_at__isnull=False),
            ),
        ]

    def __str__(self) -> str:
        return f"{self.source_key}:{self.external_id}"


class ImportState(models.TextChoices):
    QUEUED = "queued", _("Queued")
    RUNNING = "running", _("Running")
    DONE = "done", _("Done")
    FAILED = "failed", _("Failed")


class ImportJob(models.Model):
    """One import of historical complaints from a CSV or XLSX file, with its progress."""

    file = models.FileField(_("file"), upload_to="imports/", max_length=200)
    original_name = models.CharField(_("file name"), max_length=200)
    mapping = models.JSONField(_("column mapping"))
    dry_run = models.BooleanField(_("dry run"), default=False)
    state = models.CharField(
        _("state"), max_length=10, choices=ImportState.choices, default=ImportState.QUEUED
    )
    total_rows = models.PositiveIntegerField(_("rows"), null=True, blank=True)
    done_rows = models.PositiveIntegerField(_("rows read"), default=0)
    created = models.PositiveIntegerField(_("imported"), default=0)
    skipped = models.PositiveIntegerField(_("already there"), default=0)
    failed = models.PositiveIntegerField(_("bad rows"), default=0)
    # The first bad rows: [{"row": n, "column": ..., "reason": ...}], capped (see intake.importer).
    errors = models.JSONField(_("bad rows"), default=list, blank=True)
    message = models.TextField(_("message"), blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    created_at = models.DateTimeField(_("created"), auto_now_add=True)
    started_at = models.DateTimeField(_("started"), null=True, blank=True)
    finished_at = models.DateTimeField(_("finished"), null=True, blank=True)
    # Moved by every stored batch: a running job whose heartbeat stopped lost its worker, and
    # is taken again (intake.importer.STALE_AFTER; a re-run skips what was stored).
    heartbeat_at = models.DateTimeField(null=True, blank=True, editable=False)

    class Meta:
        verbose_name = _("import")
        verbose_name_plural = _("imports")

    def __str__(self) -> str:
        return self.original_name


class ImportedRow(models.Model):
    """A source row already imported: re-running an import skips it (keyed by the source's id)."""

    source = models.CharField(max_length=60)
    source_id = models.CharField(max_length=100)
    complaint = models.ForeignKey(Complaint, on_delete=models.CASCADE, related_name="+")

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["source", "source_id"], name="imported_row_unique")
        ]

    def __str__(self) -> str:
        return f"{self.source}:{self.source_id}"
