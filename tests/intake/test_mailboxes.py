"""Polling IMAP mailboxes end to end: a local IMAP server, the poll job, complaints in the DB."""

from __future__ import annotations

import pytest

from kesu.complaints.models import Complaint, Event
from kesu.intake.jobs import poll_mailbox, poll_mailboxes
from kesu.intake.models import InboundMessage, Mailbox, Outcome
from kesu.scheduler import jobs
from tests.imapserver import HOST, ImapServer
from tests.intake.test_email_channel import make_mail

pytestmark = pytest.mark.django_db

PASSWORD = "s3cret pass"


@pytest.fixture
def server():
    with ImapServer(users={"complaints": PASSWORD}, folders={"INBOX": []}) as imap:
        yield imap


@pytest.fixture
def mailbox(server, monkeypatch):
    monkeypatch.setenv("KESU_TEST_MAILBOX_PASSWORD", PASSWORD)
    return Mailbox.objects.create(
        name="投诉邮箱",
        host=HOST,
        port=server.port,
        security="none",
        username="complaints",
        password_env="KESU_TEST_MAILBOX_PASSWORD",
    )


def test_new_mail_becomes_complaints_and_is_never_taken_twice(server, mailbox):
    server.add("INBOX", make_mail(message_id="<m1@example.com>"))
    server.add(
        "INBOX",
        make_mail(
            "我的快递丢了，商家不理我。", subject="快递丢失", sender="b@example.com",
            message_id="<m2@example.com>",
        ),
    )  # fmt: skip
    server.add(
        "INBOX",
        make_mail(subject="Out of office", headers={"Auto-Submitted": "auto-replied"},
                  message_id="<m3@example.com>"),
    )  # fmt: skip
    assert poll_mailboxes() == 3
    assert Complaint.objects.filter(channel="email").count() == 2
    outcomes = dict(InboundMessage.objects.values_list("external_id", "outcome"))
    assert outcomes == {
        "m1@example.com": Outcome.CREATED,
        "m2@example.com": Outcome.CREATED,
        "m3@example.com": Outcome.IGNORED,
    }
    mailbox.refresh_from_db()
    assert (mailbox.last_uid, mailbox.last_error) == (3, "")
    assert mailbox.last_polled_at is not None
    # Read-only: nothing was flagged, moved or deleted on the server.
    assert [m.flags for m in server.messages()] == [(), (), ()]
    assert not {"STORE", "EXPUNGE", "COPY", "MOVE"} & set(server.verbs())

    # The next poll takes only what is new; a reply joins its case.
    server.add(
        "INBOX",
        make_mail("补充：我要求全额退款。", subject="Re: 电饭煲质量问题",
                  headers={"In-Reply-To": "<m1@example.com>"}, message_id="<m4@example.com>"),
    )  # fmt: skip
    assert poll_mailboxes() == 1
    first = InboundMessage.objects.get(external_id="m1@example.com").complaint
    assert Event.objects.filter(complaint=first, kind="customer_message").count() == 1
    assert Complaint.objects.count() == 2


def test_a_rebuilt_folder_is_read_again_without_duplicates(server, mailbox):
    server.add("INBOX", make_mail(message_id="<r1@example.com>"))
    poll_mailbox(mailbox)
    server.renumber(uid_validity=99)
    mailbox.refresh_from_db()
    assert poll_mailbox(mailbox) == 1  # read again …
    assert Complaint.objects.count() == 1  # … and recognised by its Message-ID
    mailbox.refresh_from_db()
    assert mailbox.uid_validity == 99


def test_unreadable_bytes_are_recorded_logged_and_passed(server, mailbox, caplog):
    server.add("INBOX", b"\x00\x01\x02")
    server.add("INBOX", make_mail(message_id="<after@example.com>"))
    assert poll_mailbox(mailbox) == 2
    assert "UID 1 is not email" in caplog.text
    rejected = InboundMessage.objects.get(outcome=Outcome.REJECTED)
    assert "email" in rejected.reason
    assert Complaint.objects.count() == 1


def test_errors_are_shown_on_the_mailbox_and_never_the_password(server, mailbox, monkeypatch):
    monkeypatch.setenv("KESU_TEST_MAILBOX_PASSWORD", "wrong-password")
    assert poll_mailbox(mailbox) == 0
    mailbox.refresh_from_db()
    assert "login" in mailbox.last_error and "wrong-password" not in mailbox.last_error
    monkeypatch.delenv("KESU_TEST_MAILBOX_PASSWORD")
    poll_mailbox(mailbox)
    mailbox.refresh_from_db()
    assert "KESU_TEST_MAILBOX_PASSWORD is not set" in mailbox.last_error
    assert PASSWORD not in mailbox.last_error


def test_the_password_may_come_from_a_file(server, mailbox, tmp_path):
    secret = tmp_path / "password"
    secret.write_text(PASSWORD + "\n")
    mailbox.password_env, mailbox.password_file = "", str(secret)
    mailbox.save()
    server.add("INBOX", make_mail(message_id="<file@example.com>"))
    assert poll_mailbox(mailbox) == 1
    mailbox.refresh_from_db()
    assert mailbox.last_error == ""


def test_the_embedded_loop_polls_the_mailboxes():
    assert "intake.poll_mailboxes" in [job.name for job in jobs()]
