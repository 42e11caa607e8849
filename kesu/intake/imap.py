"""Fetch new mail from one IMAP mailbox without changing anything on the server.

Kesu remembers its own place in the folder (a Position: the folder's UIDVALIDITY and the highest
UID already handed over) instead of flagging mail \\Seen or deleting it. The mailbox may be shared
with people who read it in a mail client, and a crash between fetching and storing loses nothing:
the next run fetches the same mail again and the caller deduplicates by Message-ID.

Standard library only (imaplib) and no Django, so that it runs against a local test server.
"""

from __future__ import annotations

import base64
import imaplib
import re
import ssl
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from dataclasses import dataclass, field
from typing import Any

SECURITY_MODES = ("ssl", "starttls", "none")
# For the caller's configuration: the usual port for each mode.
DEFAULT_PORTS = {"ssl": 993, "starttls": 143, "none": 143}
# UIDs per UID FETCH: keeps command lines short and bounds what one response holds in memory.
FETCH_CHUNK = 20

_UID = re.compile(rb"\bUID (\d+)")


class ImapError(Exception):
    """The mailbox could not be read; the message names the server and what failed in English
    (connect refused, TLS, login rejected, folder missing, timeout…). Never contains the
    password."""


@dataclass(frozen=True)
class MailboxAddress:
    """Where to read mail and as whom. `security` is "ssl" (IMAP4_SSL, usually port 993),
    "starttls" (IMAP4 then STARTTLS, 143) or "none" (plain; tests and local relays only)."""

    host: str
    port: int
    security: str
    username: str
    # Kept out of repr() so that a logged address or a traceback does not show it.
    password: str = field(repr=False)
    folder: str = "INBOX"
    timeout: float = 30.0

    def __post_init__(self) -> None:
        if self.security not in SECURITY_MODES:
            raise ValueError(f"security must be one of {SECURITY_MODES}, not {self.security!r}")
        # imaplib refuses 0, and no timeout at all would let a silent server hang the job.
        if not self.timeout > 0:
            raise ValueError(f"timeout must be positive, not {self.timeout!r}")


@dataclass(frozen=True)
class FetchedMail:
    """One message exactly as the server stores it (RFC 5322 bytes)."""

    uid: int
    raw: bytes


@dataclass(frozen=True)
class Position:
    """How far Kesu has read a folder. UIDs only mean something within one UIDVALIDITY."""

    uid_validity: int
    last_uid: int  # highest UID already handed over


def fetch_new(
    address: MailboxAddress, since: Position | None, *, limit: int = 200
) -> tuple[Position, list[FetchedMail]]:
    """Mail with UID > since.last_uid (all mail in the folder when since is None or the folder's
    UIDVALIDITY changed), oldest first, at most `limit`; returns the new Position (uid_validity
    of the folder, last_uid = highest UID returned, or the old one when nothing new). Uses
    EXAMINE (SELECT readonly=True) and BODY.PEEK[] so that nothing on the server is changed (no
    \\Seen flags set, nothing deleted): Kesu remembers its position instead, so a crash between
    fetching and storing just fetches the same mail again (the caller deduplicates by
    Message-ID)."""
    if limit < 1:
        raise ValueError(f"limit must be at least 1, not {limit}")
    session = _Session(address)
    try:
        session.connect()
        session.login()
        uid_validity, exists = session.examine()
        last_uid = since.last_uid if since is not None and since.uid_validity == uid_validity else 0
        # An empty folder is common (everything read and filed away); "UID n:*" on an empty
        # folder is an error on some servers, so do not ask.
        uids = session.search(last_uid)[:limit] if exists else []
        mail = session.fetch(uids)
        return Position(uid_validity, mail[-1].uid if mail else last_uid), mail
    finally:
        session.close()


class _Session:
    """One IMAP connection. Each step turns failures into an ImapError that says which step
    failed, and notes whether the connection is still usable for a polite LOGOUT."""

    def __init__(self, address: MailboxAddress) -> None:
        self.address = address
        self.imap: imaplib.IMAP4 | None = None
        self.broken = False

    def connect(self) -> None:
        address = self.address
        # Verifies the certificate and the host name. Made only when needed: loading the system's
        # CA certificates takes a noticeable 20 ms.
        context = ssl.create_default_context() if address.security != "none" else None
        with self.step("connect"):
            if address.security == "ssl":
                self.imap = imaplib.IMAP4_SSL(
                    address.host, address.port, ssl_context=context, timeout=address.timeout
                )
            else:
                self.imap = imaplib.IMAP4(address.host, address.port, timeout=address.timeout)
        if address.security == "starttls":
            with self.step("STARTTLS"):
                if "STARTTLS" not in self._imap.capabilities:
                    # Never fall back to plain text: LOGIN would send the password in clear.
                    raise imaplib.IMAP4.error("the server does not offer STARTTLS")
                self._imap.starttls(context)

    def login(self) -> None:
        username = self.address.username
        with self.step(f"login as {username!r}"):
            # imaplib quotes the password but sends the user name as it is; quote it too so that
            # names with spaces or quotes survive.
            self._imap.login(_quote(username), self.address.password)

    def examine(self) -> tuple[int, int]:
        """Open the folder read-only; return its UIDVALIDITY and message count."""
        with self.step(f"open folder {self.address.folder!r}"):
            typ, data = self._imap.select(_quote(_mailbox_name(self.address.folder)), True)
            _check(typ, data)
            _, validity = self._imap.response("UIDVALIDITY")
            if not validity or validity[-1] is None:
                raise imaplib.IMAP4.error("the server sent no UIDVALIDITY")
            return int(validity[-1]), int(data[-1] or 0)

    def search(self, last_uid: int) -> list[int]:
        """UIDs above last_uid, ascending."""
        with self.step("search"):
            if last_uid:
                typ, data = self._imap.uid("SEARCH", "UID", f"{last_uid + 1}:*")
            else:
                typ, data = self._imap.uid("SEARCH", "ALL")
            _check(typ, data)
        uids = {int(word) for line in data if line for word in line.split()}
        # "UID n:*" always matches the highest message, even when n is beyond it.
        return sorted(uid for uid in uids if uid > last_uid)

    def fetch(self, uids: list[int]) -> list[FetchedMail]:
        mail: list[FetchedMail] = []
        with self.step("fetch"):
            for start in range(0, len(uids), FETCH_CHUNK):
                chunk = uids[start : start + FETCH_CHUNK]
                typ, data = self._imap.uid("FETCH", ",".join(map(str, chunk)), "(UID BODY.PEEK[])")
                _check(typ, data)
                bodies = _bodies(data)
                missing = [uid for uid in chunk if uid not in bodies]
                if missing:
                    # Skipping would move the position past mail never handed over; fail instead
                    # and let the next run try again (a message expunged meanwhile is gone then).
                    uids_text = ", ".join(map(str, missing))
                    raise imaplib.IMAP4.error(f"the server returned no message for UID {uids_text}")
                mail.extend(FetchedMail(uid, bodies[uid]) for uid in chunk)
        return mail

    def close(self) -> None:
        """LOGOUT if the connection still works, and close the socket in any case."""
        imap = self.imap
        if imap is None:
            return
        if not self.broken:
            try:
                imap.logout()  # closes the socket itself when it succeeds
                return
            except (imaplib.IMAP4.error, OSError):
                pass  # the mail, or the error being raised, matters more than a clean goodbye
        with suppress(OSError):
            imap.shutdown()

    @contextmanager
    def step(self, what: str) -> Iterator[None]:
        try:
            yield
        except (imaplib.IMAP4.abort, OSError) as exc:
            # The socket is gone or in an unknown state: a LOGOUT would only wait out another
            # timeout. (ssl.SSLError and socket.timeout are OSErrors.)
            self.broken = True
            raise self._error(what, _describe(exc, self.address.timeout)) from exc
        except imaplib.IMAP4.error as exc:
            raise self._error(what, _describe(exc, self.address.timeout)) from exc
        except UnicodeEncodeError as exc:
            # imaplib sends commands as ASCII; LOGIN cannot carry other characters.
            raise self._error(what, "only ASCII user names and passwords work here") from exc

    def _error(self, what: str, detail: str) -> ImapError:
        address = self.address
        message = f"IMAP server {address.host}:{address.port}: {what} failed: {detail}"
        if address.password:
            # Belt and braces: nothing above should echo it, but a server's reply might.
            message = message.replace(address.password, "***")
        return ImapError(message)

    @property
    def _imap(self) -> imaplib.IMAP4:
        assert self.imap is not None, "connect() first"
        return self.imap


def _check(typ: str, data: list[Any]) -> None:
    if typ != "OK":
        raise imaplib.IMAP4.error(_text(data[-1] if data else typ))


def _bodies(data: list[Any]) -> dict[int, bytes]:
    """Message bytes by UID from a UID FETCH answer as imaplib returns it.

    A message arrives as a tuple (b'3 (UID 7 BODY[] {n}', literal) followed by the rest of its
    line (b')'); servers may also put the UID after the body, in that rest (b' UID 7)'). Other
    items, such as unsolicited flag updates, are ignored.
    """
    bodies: dict[int, bytes] = {}
    waiting: bytes | None = None  # a body whose UID comes after it
    for item in data:
        if isinstance(item, tuple) and len(item) == 2:
            head, body = item
            found = _UID.search(head)
            if found:
                bodies[int(found[1])] = body
                waiting = None
            else:
                waiting = body
        elif isinstance(item, bytes) and waiting is not None:
            found = _UID.search(item)
            if found:
                bodies[int(found[1])] = waiting
            waiting = None
    return bodies


def _describe(exc: BaseException, timeout: float) -> str:
    if isinstance(exc, TimeoutError):
        return f"no answer within {timeout:g} s (timeout)"
    if isinstance(exc, ssl.SSLCertVerificationError):
        return f"TLS certificate rejected ({exc.verify_message})"
    if isinstance(exc, ssl.SSLError):
        return f"TLS failed ({exc.reason or exc})"
    if isinstance(exc, ConnectionRefusedError):
        return "connection refused"
    if isinstance(exc, OSError):
        return exc.strerror or str(exc) or type(exc).__name__
    if isinstance(exc, imaplib.IMAP4.abort):
        return f"connection lost ({_text(exc.args[0] if exc.args else exc)})"
    return _text(exc.args[0] if exc.args else exc)


def _text(value: object) -> str:
    """A server reply or imaplib message as readable text (imaplib often hands over bytes)."""
    if isinstance(value, bytes):
        return value.decode("utf-8", "replace")
    return str(value)


def _quote(text: str) -> str:
    """An IMAP quoted string."""
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"'


def _mailbox_name(folder: str) -> str:
    """The folder name as IMAP spells it: modified UTF-7 (RFC 3501 5.1.3), so that a folder
    such as 投诉 works; "&" becomes "&-" and other non-ASCII runs become &<base64 UTF-16>-."""

    def encode(run: re.Match[str]) -> str:
        packed = base64.b64encode(run[0].encode("utf-16-be")).decode("ascii")
        return "&" + packed.rstrip("=").replace("/", ",") + "-"

    return re.sub(r"[^\x20-\x7e]+", encode, folder.replace("&", "&-"))
