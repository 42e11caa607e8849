"""kesu.postgresql: the health check of a kept connection asks the server only when in doubt."""

from __future__ import annotations

import time
from collections.abc import Iterator

import pytest
from django.db import DEFAULT_DB_ALIAS, connection, connections
from django.db.backends.base.base import BaseDatabaseWrapper

from kesu.postgresql.base import plainly_usable

pytestmark = [
    pytest.mark.skipif(connection.vendor != "postgresql", reason="PostgreSQL only"),
    pytest.mark.django_db,
]


@pytest.fixture
def other() -> Iterator[BaseDatabaseWrapper]:
    """A second, persistent connection to the test database, as a web worker keeps one."""
    wrapper = connections.create_connection(DEFAULT_DB_ALIAS)
    wrapper.ensure_connection()
    yield wrapper
    wrapper.close()


def _ended_by_the_server(wrapper: BaseDatabaseWrapper) -> None:
    pid = wrapper.connection.info.backend_pid
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_terminate_backend(%s)", [pid])
        assert cursor.fetchone() == (True,)
    # The server ends the backend asynchronously; its goodbye arrives shortly after.
    deadline = time.monotonic() + 5
    while plainly_usable(wrapper.connection) is True and time.monotonic() < deadline:
        time.sleep(0.01)


def test_an_idle_healthy_connection_is_usable_without_asking_the_server(
    other: BaseDatabaseWrapper,
) -> None:
    assert plainly_usable(other.connection) is True
    assert other.is_usable()


def test_a_connection_the_server_ended_is_found_and_replaced(other: BaseDatabaseWrapper) -> None:
    _ended_by_the_server(other)
    # Something is waiting on the socket: the check asks, and the answer is no.
    assert plainly_usable(other.connection) is None
    assert not other.is_usable()
    # What Django does at the start of a request: close it, then connect anew on first use.
    other.health_check_done = False
    other.close_if_health_check_failed()
    assert other.connection is None
    with other.cursor() as cursor:
        cursor.execute("SELECT 1")
        assert cursor.fetchone() == (1,)


def test_a_connection_inside_a_transaction_is_checked_by_asking(
    other: BaseDatabaseWrapper,
) -> None:
    other.set_autocommit(False)
    try:
        with other.cursor() as cursor:
            cursor.execute("SELECT 1")
        assert plainly_usable(other.connection) is None  # in a transaction: not idle
        assert other.is_usable()
    finally:
        other.rollback()
        other.set_autocommit(True)


def test_a_closed_connection_is_not_usable(other: BaseDatabaseWrapper) -> None:
    other.connection.close()
    assert plainly_usable(other.connection) is False
    assert not other.is_usable()
