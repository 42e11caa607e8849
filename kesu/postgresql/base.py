"""Django's PostgreSQL backend with a health check that asks the server only when in doubt.

With persistent connections and CONN_HEALTH_CHECKS, Django checks a kept connection at the
start of every request by sending `SELECT 1`: a round trip before each request's own first
statement (0.11 ms of CPU in the web process and the server when measured alone, about 1 %
of a public intake's; more under load, docs/performance.md). A connection the server ended (restart,
pg_terminate_backend, idle timeout) has something waiting on its socket: the server's
goodbye message or the end of the stream. So a connection that is idle, in good standing and
has nothing to read is taken as usable at once; anything else gets Django's `SELECT 1`. A
connection lost silently in the network is not seen by either check before it is used (the
`SELECT 1` would wait for the same TCP time-out as the request's own first statement).
"""

from __future__ import annotations

import select
from typing import Any

import psycopg
from django.db.backends.postgresql import base
from psycopg import pq


def plainly_usable(connection: Any) -> bool | None:
    """True when this psycopg connection is idle, open and has nothing waiting to be read;
    False when it is closed or broken; None when only asking the server can tell."""
    if connection.closed or connection.broken:
        return False
    pgconn = connection.pgconn
    if pgconn.status != pq.ConnStatus.OK:
        return False
    if pgconn.transaction_status != pq.TransactionStatus.IDLE:
        return None
    try:
        poller = select.poll()
        poller.register(pgconn.socket, select.POLLIN | select.POLLPRI)
        waiting = poller.poll(0)
    except (OSError, ValueError, psycopg.Error):  # the socket is gone
        return False
    return None if waiting else True


class DatabaseWrapper(base.DatabaseWrapper):
    def is_usable(self) -> bool:
        if self.connection is None:
            return False
        plain = plainly_usable(self.connection)
        if plain is None:
            return bool(super().is_usable())
        return plain
