"""A tiny IMAP4rev1 server for tests: folders of messages in memory, every command recorded.

    with ImapServer(users={"kesu": "secret"}, folders={"INBOX": [raw1, raw2]}) as server:
        fetch_new(MailboxAddress(HOST, server.port, "none", "kesu", "secret"), None)
        server.add("INBOX", raw3)
        assert "LOGOUT" in server.verbs()

It speaks just what kesu.intake.imap sends through imaplib: CAPABILITY, LOGIN, SELECT/EXAMINE,
UID SEARCH (ALL, UID m:n, UID m:*), UID FETCH (UID BODY.PEEK[]), NOOP, CLOSE and LOGOUT.
Anything else gets BAD, so a client that tried to change the mailbox (STORE, EXPUNGE, a FETCH
that sets \\Seen) fails loudly. It listens on 127.0.0.1 only, on a free port, in daemon threads,
and stops on exit.
"""

from __future__ import annotations

import re
import socketserver
import threading
from dataclasses import dataclass
from types import TracebackType
from typing import Any

from tests.serving import Serving

HOST = "127.0.0.1"  # never anything wider: a test must not open a port to the network

_TOKEN = re.compile(r'"((?:[^"\\]|\\.)*)"|(\([^)]*\))|(\S+)')


@dataclass
class Message:
    uid: int
    raw: bytes
    flags: tuple[str, ...] = ()


class ImapServer:
    """Context manager serving IMAP on 127.0.0.1:<free port>; see the module docstring."""

    def __init__(
        self,
        users: dict[str, str] | None = None,
        folders: dict[str, list[bytes]] | None = None,
        uid_validity: int = 1,
    ) -> None:
        self.users = users if users is not None else {"kesu": "secret"}
        self.uid_validity = uid_validity
        # Answer FETCH with the UID after the body, as some servers do whatever the request says.
        self.uid_last = False
        self._lock = threading.Lock()
        self._folders: dict[str, list[Message]] = {}
        self._uid_next: dict[str, int] = {}
        for name, raws in (folders if folders is not None else {"INBOX": []}).items():
            self._folders[name], self._uid_next[name] = [], 1
            for raw in raws:
                self.add(name, raw)
        self._commands: list[tuple[str, str]] = []  # (name, line without the tag)
        self._fault: tuple[str, str | None] | None = None
        # Set on exit so that a hanging connection lets go instead of outliving the test.
        self._closing = threading.Event()
        self._serving: Serving | None = None
        self.port = 0

    def add(self, folder: str, raw: bytes, flags: tuple[str, ...] = ()) -> int:
        """Deliver a message to `folder` (which must exist); return its UID."""
        with self._lock:
            uid = self._uid_next[folder]
            self._uid_next[folder] = uid + 1
            self._folders[folder].append(Message(uid, raw, flags))
            return uid

    def messages(self, folder: str = "INBOX") -> list[Message]:
        """What the folder holds now (a copy), in UID order."""
        with self._lock:
            return [Message(m.uid, m.raw, m.flags) for m in self._folders[folder]]

    def renumber(self, uid_validity: int) -> None:
        """Change UIDVALIDITY and number every message from 1 again, as a rebuilt mailbox does."""
        with self._lock:
            self.uid_validity = uid_validity
            for name, messages in self._folders.items():
                for uid, message in enumerate(messages, start=1):
                    message.uid = uid
                self._uid_next[name] = len(messages) + 1

    def fail_next(self, how: str, on: str | None = None) -> None:
        """Make the next connection "hang" (never answer again) or "drop" (close the socket),
        right after accepting it or, with `on`, when it receives that command (e.g. "UID FETCH").
        """
        with self._lock:
            self._fault = (how, on.upper() if on else None)

    @property
    def commands(self) -> list[str]:
        """Every command line received so far, without its tag, in arrival order."""
        with self._lock:
            return [line for _, line in self._commands]

    def verbs(self) -> list[str]:
        """The names of those commands: "LOGIN", "EXAMINE", "UID FETCH"…"""
        with self._lock:
            return [name for name, _ in self._commands]

    def __enter__(self) -> ImapServer:
        server = _Server((HOST, 0), _Handler)
        server.imap = self
        self.port = server.server_address[1]
        self._serving = Serving(server, poll_interval=0.01)
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self._closing.set()
        if self._serving is not None:
            self._serving.stop()

    def _take_fault(self) -> tuple[str, str | None] | None:
        with self._lock:
            fault, self._fault = self._fault, None
            return fault

    def _record(self, name: str, line: str) -> None:
        with self._lock:
            self._commands.append((name, line))


class _Server(socketserver.ThreadingTCPServer):
    daemon_threads = True
    allow_reuse_address = False
    imap: ImapServer

    def handle_error(self, request: Any, client_address: Any) -> None:
        # A client that gave up (the TLS and timeout tests) leaves a broken pipe behind.
        pass


class _Handler(socketserver.StreamRequestHandler):
    timeout = 5  # a client that connects and never sends must not hold a thread forever
    server: _Server

    def handle(self) -> None:
        imap = self.server.imap
        fault = imap._take_fault()
        if fault and fault[1] is None:
            self._fail(fault[0])
            return
        self.user: str | None = None
        self.folder: str | None = None
        self._out = bytearray()
        self.send("* OK Kesu test IMAP server ready")
        self._flush()
        while line := self.rfile.readline():
            tag, _, rest = line.decode("utf-8", "replace").rstrip("\r\n").partition(" ")
            words = _tokens(rest)
            name = words[0].upper() if words else ""
            if name == "UID" and len(words) > 1:
                name, words = f"UID {words[1].upper()}", words[1:]
            imap._record(name, rest)
            if fault and name == fault[1]:
                self._fail(fault[0])
                return
            try:
                reply = self.dispatch(name, words[1:])
            except (ValueError, KeyError, IndexError):
                reply = f"BAD Cannot parse {name}"
            self.send(f"{tag} {reply}")
            self._flush()
            if name == "LOGOUT":
                return

    def dispatch(self, name: str, args: list[str]) -> str:
        """Answer one command: write any untagged lines, return the tagged status."""
        imap = self.server.imap
        if name in ("NOOP", "CLOSE"):
            self.folder = None if name == "CLOSE" else self.folder
            return f"OK {name} completed"
        if name == "CAPABILITY":
            self.send("* CAPABILITY IMAP4rev1")
            return "OK CAPABILITY completed"
        if name == "LOGOUT":
            self.send("* BYE Logging out")
            return "OK LOGOUT completed"
        if name == "LOGIN":
            if len(args) == 2 and imap.users.get(args[0]) == args[1]:
                self.user = args[0]
                return "OK LOGIN completed"
            return "NO [AUTHENTICATIONFAILED] Invalid credentials"
        if self.user is None:
            return f"BAD {name or 'command'} not allowed before LOGIN"
        if name in ("SELECT", "EXAMINE"):
            self.folder = None
            if args[0] not in imap._folders:
                return "NO [NONEXISTENT] Unknown mailbox"
            messages = imap.messages(args[0])
            self.send("* FLAGS (\\Answered \\Flagged \\Deleted \\Seen \\Draft)")
            self.send(f"* {len(messages)} EXISTS")
            self.send("* 0 RECENT")
            self.send(f"* OK [UIDVALIDITY {imap.uid_validity}] UIDs valid")
            self.send(f"* OK [UIDNEXT {imap._uid_next[args[0]]}] Predicted next UID")
            self.folder = args[0]
            return f"OK [{'READ-ONLY' if name == 'EXAMINE' else 'READ-WRITE'}] {name} completed"
        if self.folder is None or name not in ("UID SEARCH", "UID FETCH"):
            return f"BAD {name or 'command'} not supported here"
        messages = imap.messages(self.folder)
        uids = [m.uid for m in messages]
        if name == "UID SEARCH":
            if args[0].upper() not in ("ALL", "UID"):
                return "BAD Only ALL and UID <set> are supported"
            found = uids if args[0].upper() == "ALL" else _matching(args[1], uids)
            self.send(" ".join(["* SEARCH", *map(str, found)]))
            return "OK SEARCH completed"
        items = args[1].strip("()").upper().split()
        if set(items) != {"UID", "BODY.PEEK[]"}:
            return "BAD Only (UID BODY.PEEK[]) is supported"
        wanted = set(_matching(args[0], uids))
        for number, message in enumerate(messages, start=1):
            if message.uid in wanted:
                uid = b"UID %d" % message.uid
                body = b"BODY[] {%d}\r\n%s" % (len(message.raw), message.raw)
                first, second = (body, uid) if imap.uid_last or items[0] != "UID" else (uid, body)
                self._out += b"* %d FETCH (%s %s)\r\n" % (number, first, second)
        return "OK FETCH completed"

    def send(self, line: str) -> None:
        self._out += line.encode("utf-8") + b"\r\n"

    def _flush(self) -> None:
        # One write per answer: many small ones meet Nagle and delayed ACKs, 40 ms apiece.
        self.wfile.write(bytes(self._out))
        self._out.clear()

    def _fail(self, how: str) -> None:
        if how == "hang":
            self.server.imap._closing.wait()
        # Returning closes the socket: for "drop" that is the whole point.


def _tokens(text: str) -> list[str]:
    """Atoms, quoted strings (unescaped) and parenthesised lists (kept whole) of a command."""
    words = []
    for match in _TOKEN.finditer(text):
        if match[1] is not None:
            words.append(re.sub(r"\\(.)", r"\1", match[1]))
        else:
            words.append(match[2] or match[3])
    return words


def _matching(spec: str, uids: list[int]) -> list[int]:
    """The UIDs matched by an IMAP set such as 3,5:7 or 4:*. As RFC 3501 says, * is the highest
    UID in use, so 9:* matches that message even when it is below 9."""
    highest = max(uids, default=0)
    chosen: set[int] = set()
    for part in spec.split(","):
        first, _, last = part.partition(":")
        low = highest if first == "*" else int(first)
        high = low if not last else highest if last == "*" else int(last)
        low, high = min(low, high), max(low, high)
        chosen.update(uid for uid in uids if low <= uid <= high)
    return sorted(chosen)
