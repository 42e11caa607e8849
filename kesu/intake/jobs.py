"""Periodic intake work: read the mailboxes, run queued imports, forget old idempotency keys."""

from __future__ import annotations

import logging
import threading

from django.conf import settings
from django.db import DatabaseError, connection
from django.utils import timezone

from kesu.env import ConfigError, read_secret
from kesu.errors import InvalidInput
from kesu.intake.email_channel import receive_email, record_unreadable
from kesu.intake.imap import ImapError, MailboxAddress, Position, fetch_new
from kesu.intake.models import (
    IdempotencyKey,
    ImportJob,
    ImportState,
    Mailbox,
)
from kesu.intake.services import IDEMPOTENCY_WINDOW

log = logging.getLogger(__name__)


def purge_idempotency_keys() -> int:
    """Forget keys older than 24 h (their stored answers hold tracking tokens)."""
    deleted, _ = IdempotencyKey.objects.filter(
        created_at__lt=timezone.now() - IDEMPOTENCY_WINDOW
    ).delete()
    return deleted


def mailbox_password(mailbox: Mailbox) -> str:
    return read_secret(mailbox.password_env, mailbox.password_file)


def run_imports() -> int:
    """Run the imports queued in the admin (intake.importer); the number run."""
    from kesu.intake.importer import run_pending_imports

    return run_pending_imports()


_import_thread: threading.Thread | None = None


def start_imports() -> int:
    """For the embedded loop: run queued imports in a thread of their own, so that delivery and
    the SLA sweep go on during an import of an hour's worth of rows. 1 if one was started."""
    global _import_thread
    if _import_thread is not None and _import_thread.is_alive():
        return 0
    if not ImportJob.objects.filter(state=ImportState.QUEUED).exists():
        return 0
    _import_thread = threading.Thread(target=_imports_thread, name="kesu-imports", daemon=True)
    _import_thread.start()
    return 1


def _imports_thread() -> None:
    try:
        run_imports()
    except Exception:
        log.exception("the import thread failed")
    finally:
        connection.close()


def pull_wecom_messages() -> int:
    """WeCom customer service: pull what pushes announced (intake.wecom)."""
    from kesu.intake import wecom

    return wecom.pull_announced()


def fetch_pending_media() -> int:
    """WeChat official accounts: fetch the files that pushes announced (intake.media)."""
    from kesu.intake import media

    return media.fetch_pending_media()


def pull_all_wecom_messages() -> int:
    """WeCom customer service, the safety net: pull every source (intake.wecom)."""
    from kesu.intake import wecom

    return wecom.pull_all()


def poll_mailboxes() -> int:
    """Read new mail from every active mailbox; the number of messages taken in."""
    return sum(poll_mailbox(mailbox) for mailbox in Mailbox.objects.filter(is_active=True))


def poll_mailbox(mailbox: Mailbox) -> int:
    """Take in the mailbox's new mail, oldest first, moving its position after each message.

    A message is stored (receive_email) before the position passes it, so a crash in between
    reads it again, and its Message-ID finds the first answer. Errors go to `last_error` for
    the admin page; the mailbox is tried again on the next run.
    """
    now = timezone.now()
    try:
        address = MailboxAddress(
            host=mailbox.host,
            port=mailbox.port,
            security=mailbox.security,
            username=mailbox.username,
            password=mailbox_password(mailbox),
            folder=mailbox.folder,
            timeout=settings.KESU_MAIL_TIMEOUT,
        )
        since = (
            Position(mailbox.uid_validity, mailbox.last_uid)
            if mailbox.uid_validity is not None
            else None
        )
        position, mails = fetch_new(address, since, limit=settings.KESU_MAIL_BATCH)
    except (ConfigError, ImapError, ValueError) as error:
        _failed(mailbox, str(error))
        return 0
    if since is not None and position.uid_validity != since.uid_validity:
        log.warning("mailbox %s: UIDVALIDITY changed, reading the folder again", mailbox.name)
    taken = 0
    for fetched in mails:
        try:
            receive_email(fetched.raw)
        except InvalidInput as error:
            log.warning("mailbox %s: UID %s is not email: %s", mailbox.name, fetched.uid,
                        error.detail)  # fmt: skip
            record_unreadable(fetched.raw, error.detail)
        except DatabaseError as error:
            # The database is away: stop here, the position stays before this message.
            _failed(mailbox, f"database error while storing UID {fetched.uid}: {error}")
            return taken
        except Exception as error:  # a bug must not hold up every mail after this one
            log.exception("mailbox %s: UID %s could not be taken in", mailbox.name, fetched.uid)
            record_unreadable(fetched.raw, f"could not be taken in: {type(error).__name__}")
        taken += 1
        Mailbox.objects.filter(pk=mailbox.pk).update(
            uid_validity=position.uid_validity, last_uid=fetched.uid
        )
    Mailbox.objects.filter(pk=mailbox.pk).update(
        uid_validity=position.uid_validity,
        last_uid=position.last_uid,
        last_polled_at=now,
        last_error="",
        last_error_at=None,
    )
    return taken


def _failed(mailbox: Mailbox, message: str) -> None:
    log.warning("mailbox %s: %s", mailbox.name, message)
    Mailbox.objects.filter(pk=mailbox.pk).update(
        last_error=message[:2000], last_error_at=timezone.now(), last_polled_at=timezone.now()
    )
