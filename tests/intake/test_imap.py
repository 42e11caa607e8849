"""`fetch_new()`: reading a mailbox through a real (local) IMAP server, without changing it."""

from __future__ import annotations

import base64
import dataclasses
import email
import email.policy
import time
from collections.abc import Iterator
from email.message import EmailMessage
from typing import Any

import pytest

from kesu.intake.imap import FETCH_CHUNK, ImapError, MailboxAddress, Position, fetch_new
from tests.imapserver import HOST, ImapServer

USER = "complaints@example.com"
# A space and a quote: LOGIN must quote both the user name and the password properly.
PASSWORD = 'open "sesame" 2024'
VALIDITY = 7

PLAIN = (
    b"From: Zhou <zhou@example.com>\r\n"
    b"To: complaints@example.com\r\n"
    b"Subject: Late delivery\r\n"
    b"Message-ID: <plain@example.com>\r\n"
    b"\r\n"
    b"My parcel is a week late.\r\n"
)
GBK_TEXT = "您好，我买的电饭煲第二天就坏了，要求退货。"
# Raw 8-bit GBK in the body: the bytes must arrive exactly as stored, never decoded on the way.
GBK = (
    b"From: =?GBK?B?" + base64.b64encode("周先生".encode("gbk")) + b"?= <z@example.cn>\r\n"
    b"Subject: =?GBK?B?" + base64.b64encode("投诉".encode("gbk")) + b"?=\r\n"
    b"Message-ID: <gbk@example.cn>\r\n"
    b"MIME-Version: 1.0\r\n"
    b"Content-Type: text/plain; charset=GBK\r\n"
    b"Content-Transfer-Encoding: 8bit\r\n"
    b"\r\n" + GBK_TEXT.encode("gbk") + b"\r\n"
)
PHOTO = bytes(range(256)) * 40  # every byte value, 10 KB


def with_attachment() -> bytes:
    message = EmailMessage()
    message["From"] = "li@example.com"
    message["Subject"] = "Photo of the damage"
    message["Message-ID"] = "<photo@example.com>"
    # Text that looks like IMAP protocol must not confuse the FETCH parsing.
    message.set_content("See attached.\r\n) UID 99 BODY[] {12}\r\n* 5 FETCH (UID 1)\r\n")
    message.add_attachment(PHOTO, maintype="image", subtype="jpeg", filename="damage.jpg")
    return message.as_bytes(policy=message.policy.clone(linesep="\r\n"))


ATTACHMENT = with_attachment()


def small(n: int) -> bytes:
    return b"Subject: no. %d\r\nMessage-ID: <%d@example.com>\r\n\r\nbody %d\r\n" % (n, n, n)


@pytest.fixture
def server() -> Iterator[ImapServer]:
    folders = {"INBOX": [PLAIN, GBK, ATTACHMENT], "Empty": [], "&U,BTFw-/&ZeVnLIqe-": [PLAIN]}
    with ImapServer(users={USER: PASSWORD}, folders=folders, uid_validity=VALIDITY) as server:
        yield server


def address(server: ImapServer, **changes: Any) -> MailboxAddress:
    base = MailboxAddress(HOST, server.port, "none", USER, PASSWORD, timeout=2.0)
    return dataclasses.replace(base, **changes)


def test_first_run_fetches_everything_oldest_first(server: ImapServer) -> None:
    position, mail = fetch_new(address(server), None)

    assert position == Position(uid_validity=VALIDITY, last_uid=3)
    assert [m.uid for m in mail] == [1, 2, 3]
    assert [m.raw for m in mail] == [PLAIN, GBK, ATTACHMENT]
    assert email.message_from_bytes(mail[1].raw).get_payload(decode=True) == (
        GBK_TEXT.encode("gbk") + b"\r\n"
    )
    [photo] = email.message_from_bytes(mail[2].raw, policy=email.policy.default).iter_attachments()
    assert photo.get_content() == PHOTO


def test_next_run_fetches_only_what_is_new(server: ImapServer) -> None:
    position, _ = fetch_new(address(server), None)

    again, mail = fetch_new(address(server), position)
    assert (again, mail) == (position, [])
    # The server answers "UID 4:*" with message 3 (RFC 3501); fetch_new must not hand it over.
    assert "UID SEARCH UID 4:*" in server.commands

    server.add("INBOX", small(4))
    server.add("INBOX", small(5))
    position, mail = fetch_new(address(server), again)
    assert position == Position(VALIDITY, 5)
    assert [(m.uid, m.raw) for m in mail] == [(4, small(4)), (5, small(5))]


def test_limit_is_respected_and_the_next_call_continues(server: ImapServer) -> None:
    position, mail = fetch_new(address(server), None, limit=2)
    assert position == Position(VALIDITY, 2)
    assert [m.uid for m in mail] == [1, 2]

    position, mail = fetch_new(address(server), position, limit=2)
    assert position == Position(VALIDITY, 3)
    assert [m.raw for m in mail] == [ATTACHMENT]


def test_large_batches_are_fetched_in_chunks(server: ImapServer) -> None:
    for n in range(4, 4 + 2 * FETCH_CHUNK + 5):
        server.add("INBOX", small(n))

    position, mail = fetch_new(address(server), Position(VALIDITY, 3))

    assert [m.uid for m in mail] == list(range(4, 4 + 2 * FETCH_CHUNK + 5))
    assert [m.raw for m in mail] == [small(m.uid) for m in mail]
    assert position.last_uid == 3 + 2 * FETCH_CHUNK + 5
    assert server.verbs().count("UID FETCH") == 3


def test_uid_after_the_body_is_understood(server: ImapServer) -> None:
    server.uid_last = True  # some servers answer (BODY[] {n} ... UID 7) whatever was asked

    _, mail = fetch_new(address(server), None)

    assert [(m.uid, m.raw) for m in mail] == [(1, PLAIN), (2, GBK), (3, ATTACHMENT)]


def test_changed_uidvalidity_fetches_everything_again(server: ImapServer) -> None:
    server.add("INBOX", small(4))
    position, _ = fetch_new(address(server), None)
    assert position == Position(VALIDITY, 4)

    server.renumber(uid_validity=VALIDITY + 1)  # same mail, new UIDs 1–4
    position, mail = fetch_new(address(server), position)

    assert position == Position(VALIDITY + 1, 4)
    assert [m.raw for m in mail] == [PLAIN, GBK, ATTACHMENT, small(4)]


def test_empty_folder(server: ImapServer) -> None:
    assert fetch_new(address(server, folder="Empty"), None) == (Position(VALIDITY, 0), [])
    since = Position(VALIDITY, 12)
    assert fetch_new(address(server, folder="Empty"), since) == (since, [])
    assert "UID SEARCH" not in server.verbs()


def test_the_mailbox_is_never_changed(server: ImapServer) -> None:
    before = server.messages()
    position, _ = fetch_new(address(server), None, limit=1)
    server.add("INBOX", small(4))
    fetch_new(address(server), position)
    fetch_new(address(server), None)

    verbs = server.verbs()
    assert not {"STORE", "UID STORE", "EXPUNGE", "UID EXPUNGE", "SELECT", "FETCH"} & set(verbs)
    assert verbs.count("EXAMINE") == verbs.count("LOGOUT") == 3
    assert all("BODY.PEEK[]" in c for c in server.commands if c.startswith("UID FETCH"))
    assert server.messages()[:3] == before


def test_non_ascii_folder_names_are_sent_in_modified_utf7(server: ImapServer) -> None:
    # The example from RFC 3501 section 5.1.3.
    _, mail = fetch_new(address(server, folder="台北/日本語"), None)

    assert [m.raw for m in mail] == [PLAIN]
    assert 'EXAMINE "&U,BTFw-/&ZeVnLIqe-"' in server.commands


def test_wrong_password(server: ImapServer) -> None:
    wrong = "not-the-password"
    with pytest.raises(ImapError) as caught:
        fetch_new(address(server, password=wrong), None)

    message = str(caught.value)
    assert HOST in message
    assert "login" in message
    assert "AUTHENTICATIONFAILED" in message
    assert wrong not in message
    assert server.verbs()[-1] == "LOGOUT"


def test_missing_folder(server: ImapServer) -> None:
    with pytest.raises(ImapError, match="'Complaints'"):
        fetch_new(address(server, folder="Complaints"), None)

    assert server.verbs()[-1] == "LOGOUT"


def test_connection_refused() -> None:
    with ImapServer() as closed:
        pass  # its port is free again, and nothing listens there

    with pytest.raises(ImapError, match="connect failed: connection refused"):
        fetch_new(address(closed), None)


def test_silent_server_times_out(server: ImapServer) -> None:
    server.fail_next("hang")

    started = time.monotonic()
    with pytest.raises(ImapError, match=r"connect failed: .*timeout"):
        fetch_new(address(server, timeout=0.2), None)
    assert time.monotonic() - started < 10  # not forever (generous: CI machines stall)


def test_hang_in_the_middle_does_not_wait_twice(server: ImapServer) -> None:
    server.fail_next("hang", on="UID FETCH")

    with pytest.raises(ImapError, match=r"fetch failed: .*timeout"):
        fetch_new(address(server, timeout=0.3), None)
    # One timeout, not a second one spent waiting for an answer to LOGOUT: none was sent.
    assert "UID FETCH" in " ".join(server.verbs()) and "LOGOUT" not in server.verbs()


def test_dropped_connection(server: ImapServer) -> None:
    server.fail_next("drop", on="UID FETCH")
    with pytest.raises(ImapError, match="fetch failed: connection lost"):
        fetch_new(address(server), None)

    server.fail_next("drop")
    with pytest.raises(ImapError, match="connect failed"):
        fetch_new(address(server), None)


def test_starttls_is_required_when_asked_for(server: ImapServer) -> None:
    with pytest.raises(ImapError, match="STARTTLS failed: the server does not offer STARTTLS"):
        fetch_new(address(server, security="starttls"), None)

    assert "LOGIN" not in server.verbs()  # the password never went out in clear
    assert server.verbs()[-1] == "LOGOUT"


def test_ssl_against_a_plain_server(server: ImapServer) -> None:
    with pytest.raises(ImapError, match="connect failed: TLS failed"):
        fetch_new(address(server, security="ssl"), None)


def test_address_checks_and_hides_the_password(server: ImapServer) -> None:
    assert PASSWORD not in repr(address(server))
    with pytest.raises(ValueError, match="security"):
        address(server, security="tls")
    with pytest.raises(ValueError, match="limit"):
        fetch_new(address(server), None, limit=0)
