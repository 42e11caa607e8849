"""Project-level periodic work."""

from __future__ import annotations

from django.db import connection


def refresh_statistics() -> None:
    """Keep SQLite's query planner statistics current (PostgreSQL's autovacuum does this).

    Without them SQLite picks the index on a queue's filter and sorts thousands of rows instead
    of walking the newest-first index. `analysis_limit` keeps the run to milliseconds on large
    tables (SQLite ≥ 3.32 samples that many rows per index).
    """
    if connection.vendor != "sqlite":
        return
    with connection.cursor() as cursor:
        cursor.execute("PRAGMA analysis_limit=1000")
        cursor.execute("ANALYZE")
