"""Plain SQL for the importer: whole rows by COPY or INSERT, lookups over many values."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator, Sequence
from datetime import UTC, datetime
from typing import Any

from django.db import connection, models


def _sqlite_time(value: datetime | None) -> str | None:
    # As Django stores it on SQLite: naive UTC text.
    return None if value is None else str(value.astimezone(UTC).replace(tzinfo=None))


def _converter(f: models.Field, postgres: bool) -> Callable[[Any], Any] | None:  # type: ignore[type-arg]
    """How a value goes to the database; None: as it is (psycopg adapts the rest itself)."""
    if isinstance(f, models.JSONField):
        return lambda v: json.dumps(v, ensure_ascii=False)
    if postgres:
        return None
    if isinstance(f, models.DateTimeField):
        return _sqlite_time
    if isinstance(f, models.DateField):
        return lambda v: None if v is None else v.isoformat()
    if isinstance(f, models.DecimalField):
        return lambda v: None if v is None else str(v)
    return None


class _Table:
    """Whole rows of one model with the ids we give them: COPY on PostgreSQL, INSERT elsewhere.

    Built once per model from its own fields, so columns and defaults stay the model's (as in
    kesu.rows); a row is a list of values in column order, converted as the database takes them.
    """

    def __init__(self, model: type[models.Model]) -> None:
        self.model = model
        self.postgres = connection.vendor == "postgresql"
        fields = list(model._meta.concrete_fields)
        self.position = {f.attname: i for i, f in enumerate(fields)}
        self.convert = [_converter(f, self.postgres) for f in fields]
        self.blank = [
            convert(f.get_default()) if convert else f.get_default()
            for f, convert in zip(fields, self.convert, strict=True)
        ]
        quote = connection.ops.quote_name
        self.table = quote(model._meta.db_table)
        self.columns = ", ".join(quote(str(f.column)) for f in fields)
        self.marks = ", ".join(["%s"] * len(fields))

    def row(self, **values: Any) -> list[Any]:
        out = list(self.blank)
        position, convert = self.position, self.convert
        for name, value in values.items():
            i = position[name]
            change = convert[i]
            out[i] = value if change is None else change(value)
        return out

    def write(self, rows: Sequence[Sequence[Any]]) -> None:
        if not rows:
            return
        with connection.cursor() as cursor:
            if self.postgres:
                # Names from the model: nothing of the file's goes into the statement.
                sql = f"COPY {self.table} ({self.columns}) FROM STDIN"
                with cursor.cursor.copy(sql) as copy:
                    for row in rows:
                        copy.write_row(row)
            else:
                sql = f"INSERT INTO {self.table} ({self.columns}) VALUES ({self.marks})"  # noqa: S608
                cursor.executemany(sql, rows)

    def new_ids(self, count: int) -> list[int]:
        """Ids for `count` new rows, which no other writer will take."""
        if count == 0:
            return []
        with connection.cursor() as cursor:
            if self.postgres:
                # Sequences are outside transactions: live intake never gets one of these.
                cursor.execute(
                    "SELECT nextval(pg_get_serial_sequence(%s, 'id')) FROM generate_series(1, %s)",
                    [self.model._meta.db_table, count],
                )
                return [row[0] for row in cursor.fetchall()]
            # SQLite: the batch's transaction holds the write lock from BEGIN (IMMEDIATE), so
            # nobody inserts between reading the largest id and using the ones after it.
            cursor.execute(f"SELECT COALESCE(MAX(id), 0) FROM {self.table}")  # noqa: S608
            largest = cursor.fetchone()[0]
            cursor.execute(
                "SELECT seq FROM sqlite_sequence WHERE name = %s", [self.model._meta.db_table]
            )
            found = cursor.fetchone()
            start = max(largest, found[0] if found else 0) + 1
            return list(range(start, start + count))


def _chunks(values: Sequence[Any], size: int = 500) -> Iterator[Sequence[Any]]:
    for start in range(0, len(values), size):
        yield values[start : start + size]


def _select(sql: str, params: Sequence[Any], values: Sequence[Any]) -> list[tuple[Any, ...]]:
    """The rows of `sql`, whose last condition is "{values}" on `values` (after `params`).

    On PostgreSQL that is "= ANY(%s)" with one array: one statement that psycopg parses once
    and the server plans once; elsewhere "IN (%s, …)" by 500. Times in `params` must be
    aware; times read back are aware (UTC) on both databases.
    """
    found: list[tuple[Any, ...]] = []
    postgres = connection.vendor == "postgresql"
    with connection.cursor() as cursor:
        if postgres:
            cursor.execute(sql.format(values="= ANY(%s)"), [*params, list(values)])
            return list(cursor.fetchall())
        converted = [_sqlite_time(p) if isinstance(p, datetime) else p for p in params]
        for chunk in _chunks(values):
            marks = ", ".join(["%s"] * len(chunk))
            cursor.execute(sql.format(values=f"IN ({marks})"), [*converted, *chunk])
            found += [tuple(_aware(v) for v in row) for row in cursor.fetchall()]
    return found


def _aware(value: Any) -> Any:
    # SQLite gives times back as they are stored: naive UTC.
    if isinstance(value, datetime) and value.tzinfo is None:
        return value.replace(tzinfo=UTC)
    return value


def _name(model: type[models.Model]) -> str:
    return connection.ops.quote_name(model._meta.db_table)
