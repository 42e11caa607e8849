"""A local HTTP sink for tests: records every request and answers as told.

    with Sink() as sink:
        sink.respond(500, "boom")
        call_something(sink.url + "/robot/send?access_token=t")
        [received] = sink.wait_for(1)

It listens on 127.0.0.1 only, on a free port, in a daemon thread, and stops on exit.
"""

from __future__ import annotations

import json
import threading
import urllib.parse
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from types import TracebackType
from typing import Any

from tests.serving import Serving

HOST = "127.0.0.1"  # never anything wider: a test must not open a port to the network


@dataclass(frozen=True)
class Received:
    """One request as the sink saw it; header names are lower-case."""

    method: str
    path: str
    query: dict[str, str]
    headers: dict[str, str]
    body: bytes

    def json(self) -> Any:
        """The body parsed as UTF-8 JSON."""
        return json.loads(self.body.decode("utf-8"))


@dataclass(frozen=True)
class _Reply:
    status: int
    body: bytes
    content_type: str
    delay: float


class Sink:
    """Context manager serving on 127.0.0.1:<free port>; see the module docstring."""

    def __init__(self) -> None:
        self._lock = threading.Condition()
        self._requests: list[Received] = []
        self._reply = _reply(200, b'{"errcode":0,"errmsg":"ok"}', 0.0)
        # Set on exit so that a delayed reply stops waiting instead of outliving the test.
        self._closing = threading.Event()
        self._serving: Serving | None = None
        self.url = ""

    @property
    def requests(self) -> list[Received]:
        """Every request so far, in arrival order (a copy)."""
        with self._lock:
            return list(self._requests)

    def respond(
        self,
        status: int = 200,
        body: bytes | str | dict[str, Any] = b'{"errcode":0,"errmsg":"ok"}',
        delay: float = 0.0,
    ) -> None:
        """Answer the next and all later requests with this status and body, after `delay` s."""
        with self._lock:
            self._reply = _reply(status, body, delay)

    def wait_for(self, count: int, timeout: float = 10.0) -> list[Received]:
        """Block until `count` requests have arrived; return them all, or raise AssertionError."""
        with self._lock:
            if not self._lock.wait_for(lambda: len(self._requests) >= count, timeout):
                raise AssertionError(
                    f"expected {count} request(s) within {timeout} s, got {len(self._requests)}"
                )
            return list(self._requests)

    def __enter__(self) -> Sink:
        server = _Server((HOST, 0), _handler_for(self))
        self.url = f"http://{HOST}:{server.server_address[1]}"
        self._serving = Serving(server)
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

    def _record(self, received: Received) -> _Reply:
        with self._lock:
            self._requests.append(received)
            self._lock.notify_all()
            return self._reply


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    # Rebinding a port still in TIME_WAIT is fine for a sink; another live listener is not.
    allow_reuse_address = False

    def handle_error(self, request: Any, client_address: Any) -> None:
        # A client that gave up (the timeout tests) leaves a broken pipe behind; that is expected.
        pass


def _reply(status: int, body: bytes | str | dict[str, Any], delay: float) -> _Reply:
    if isinstance(body, dict):
        raw = json.dumps(body, ensure_ascii=False).encode("utf-8")
    elif isinstance(body, str):
        raw = body.encode("utf-8")
    else:
        raw = body
    try:
        json.loads(raw)
        content_type = "application/json; charset=utf-8"
    except ValueError:
        content_type = "text/plain; charset=utf-8"
    return _Reply(status, raw, content_type, delay)


def _handler_for(sink: Sink) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        timeout = 5  # a client that connects and never sends must not hold a thread forever

        def _handle(self) -> None:
            length = int(self.headers.get("Content-Length") or 0)
            body = self.rfile.read(length) if length else b""
            parts = urllib.parse.urlsplit(self.path)
            reply = sink._record(
                Received(
                    method=self.command,
                    path=parts.path,
                    query=dict(urllib.parse.parse_qsl(parts.query, keep_blank_values=True)),
                    headers={name.lower(): value for name, value in self.headers.items()},
                    body=body,
                )
            )
            if reply.delay and sink._closing.wait(reply.delay):
                return
            try:
                self.send_response(reply.status)
                self.send_header("Content-Type", reply.content_type)
                self.send_header("Content-Length", str(len(reply.body)))
                self.send_header("Connection", "close")
                self.end_headers()
                self.wfile.write(reply.body)
            except OSError:
                pass  # the client has gone away

        # http.server dispatches on these names.
        do_GET = do_POST = do_PUT = do_PATCH = do_DELETE = _handle  # noqa: N815

        def log_message(self, format: str, *args: Any) -> None:
            pass  # keep test output clean

    return Handler
