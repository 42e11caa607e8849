"""A test server running in a thread of its own: the shared part of the local fakes.

httpsink.Sink, imapserver.ImapServer and wecomserver.FakeWeCom each build their socketserver
and hand it to `Serving`, which serves it from a daemon thread until `stop()`.
"""

from __future__ import annotations

import socketserver
import threading


class Serving:
    def __init__(self, server: socketserver.BaseServer, poll_interval: float = 0.05) -> None:
        self.server = server
        self._thread = threading.Thread(
            target=server.serve_forever, kwargs={"poll_interval": poll_interval}, daemon=True
        )
        self._thread.start()

    def stop(self) -> None:
        """Stop serving, close the socket and wait (at most 5 s) for the thread to end."""
        self.server.shutdown()
        self.server.server_close()
        self._thread.join(timeout=5)
