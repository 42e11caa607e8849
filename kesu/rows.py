"""Writing new rows on intake's hot path: SQL built once per model, rows sent together.

`Model.objects.create()` compiles its INSERT anew on every call and costs a round trip per row;
on intake that, not the work of the database, was most of the cost (docs/performance.md).
Here a statement is built once per model (or per shape of batch) from the model's own fields,
so columns, defaults and value conversion stay the model's: callers build ordinary unsaved
instances, and for each row only the values are converted, as the fields would, and sent.

A `Batch` writes several new rows — a row may point at an earlier one of the same batch
(`Complaint(customer=new_customer)`) — in one statement on PostgreSQL (a chain of INSERTs in
one WITH, each passing its id on) and row by row elsewhere. No signals are sent: nothing in
Kesu listens to the saves of the models written this way. The caller's transaction holds it.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any, NamedTuple, TypeVar

from django.db import DEFAULT_DB_ALIAS, connection, connections, models
from django.db.backends.base.base import BaseDatabaseWrapper
from django.db.models.fields import AutoFieldMixin

M = TypeVar("M", bound=models.Model)
Fields = list[models.Field]  # type: ignore[type-arg]
# A batch's shape: each row's model and, per field, the earlier row it points at (or None).
Shape = tuple[tuple[type[models.Model], tuple[int | None, ...]], ...]


class _Column(NamedTuple):
    """How one field's value is taken for the INSERT (see _plan)."""

    field: models.Field  # type: ignore[type-arg]
    attname: str
    foreign: bool  # a foreign key: may take a parent's new id
    # A value of exactly this type (or None) is converted here instead of by the field.
    plain: Any  # a type, or None (typed Any: mypy would narrow the value to `object`)
    integer: str  # the internal type passed to adapt_integerfield_value, if it is one
    auto_pk: bool  # a foreign key to an automatic id: validate_autopk_value
    moment: bool  # a date and time: adapt_datetimefield_value, for an aware one only


_TEXT = (models.CharField, models.TextField)
_INTEGER = (
    models.IntegerField,
    models.SmallIntegerField,
    models.BigIntegerField,
    models.PositiveIntegerField,
    models.PositiveSmallIntegerField,
    models.PositiveBigIntegerField,
)
_AUTO = (models.AutoField, models.BigAutoField, models.SmallAutoField)


def _cache_long_queries() -> None:
    """Let psycopg keep the parsed form of a batch's statement, as it does for short ones.

    psycopg parses each query for its placeholders and caches the result only for queries of
    at most 4,096 characters and 50 parameters; intake's batch is longer and was parsed again
    for every complaint (0.1 ms each). The cache keeps its size (128 queries); only the limit
    moves. The names are psycopg's own: if they change, nothing breaks, the cache just stays.
    """
    try:
        from psycopg import _queries
    except ImportError:  # SQLite only
        return
    if hasattr(_queries, "MAX_CACHED_STATEMENT_LENGTH"):
        _queries.MAX_CACHED_STATEMENT_LENGTH = max(_queries.MAX_CACHED_STATEMENT_LENGTH, 16_384)
    if hasattr(_queries, "MAX_CACHED_STATEMENT_PARAMS"):
        _queries.MAX_CACHED_STATEMENT_PARAMS = max(_queries.MAX_CACHED_STATEMENT_PARAMS, 200)


_cache_long_queries()
_fields: dict[type[models.Model], Fields] = {}
_plans: dict[type[models.Model], tuple[_Column, ...]] = {}
# (model, database vendor, number of rows, whether the new id comes back) → INSERT statement.
_inserts: dict[tuple[type[models.Model], str, int, bool], str] = {}
_chains: dict[Shape, str] = {}


def _writable(model: type[models.Model]) -> Fields:
    """The columns an INSERT names: every concrete field but an id the database generates."""
    found = _fields.get(model)
    if found is None:
        pk = model._meta.pk
        found = _fields[model] = [
            f
            for f in model._meta.concrete_fields
            if not (f is pk and isinstance(f, AutoFieldMixin))
        ]
    return found


def _plan(model: type[models.Model]) -> tuple[_Column, ...]:
    """Per writable field, how its value is converted (built once per model).

    For the commonest fields of Django's own classes (not subclasses) — text, integers,
    booleans, foreign keys to automatic ids, aware dates and times without auto_now(_add) — a
    value of exactly the plain Python type is converted here as the field would convert it
    (identity or the backend's adapt_* method), without the calls through pre_save,
    get_db_prep_save and get_prep_value: for the ~150 values of one complaint's rows those
    calls were about a tenth of intake's CPU. Every other field and value goes through the
    field. tests/test_rows.py checks both ways agree on every model intake writes.
    """
    found = _plans.get(model)
    if found is None:
        columns = []
        for f in _writable(model):
            cls, integer, auto_pk, moment = type(f), "", False, False
            plain: type | None = None
            if cls in _TEXT:
                plain = str
            elif cls is models.BooleanField:
                plain = bool
            elif cls in _INTEGER:
                plain, integer = int, f.get_internal_type()
            elif isinstance(f, models.ForeignKey) and type(f.target_field) in _AUTO:
                plain, auto_pk = int, True
            elif cls is models.DateTimeField and not (
                getattr(f, "auto_now", False) or getattr(f, "auto_now_add", False)
            ):
                plain, moment = datetime, True
            columns.append(_Column(f, f.attname, f.is_relation, plain, integer, auto_pk, moment))
        found = _plans[model] = tuple(columns)
    return found


def _generated(model: type[models.Model]) -> bool:
    return isinstance(model._meta.pk, AutoFieldMixin)


def _insert_sql(
    model: type[models.Model], *, rows: int = 1, marks: Sequence[str] = (), returning: str = ""
) -> str:
    """INSERT of `rows` rows (`marks`: the placeholders of one row, %s by default)."""
    quote = connection.ops.quote_name
    fields = _writable(model)
    columns = ", ".join(quote(str(f.column)) for f in fields)
    row = "(" + ", ".join(marks or ["%s"] * len(fields)) + ")"
    table = quote(model._meta.db_table)
    # Names from the model, placeholders from us: nothing of a user's is put into the SQL.
    sql = f"INSERT INTO {table} ({columns}) VALUES {', '.join([row] * rows)}"  # noqa: S608
    return f"{sql} RETURNING {returning}" if returning else sql


def _pk_column(model: type[models.Model]) -> str:
    pk = model._meta.pk
    assert pk is not None
    return connection.ops.quote_name(str(pk.column))


def _parent(obj: models.Model, field: models.Field) -> models.Model | None:  # type: ignore[type-arg]
    """The instance assigned to this foreign key of `obj`, if one was."""
    if isinstance(field, models.ForeignObject) and field.is_cached(obj):
        parent: models.Model | None = field.get_cached_value(obj)
        return parent
    return None


def _take_parent_ids(obj: models.Model, field: models.Field) -> None:  # type: ignore[type-arg]
    # A parent saved after it was assigned leaves the child's `<name>_id` empty; save() would
    # take the parent's id at this point, and so do we.
    parent = _parent(obj, field)
    if parent is not None and getattr(obj, field.attname) is None:
        setattr(obj, field.attname, parent.pk)


def _values(
    obj: models.Model, skip: Sequence[int | None] = (), db: BaseDatabaseWrapper | None = None
) -> list[Any]:
    """The row's values as the database takes them; fields that `skip` marks are left out."""
    db = db or connections[DEFAULT_DB_ALIAS]
    ops = db.ops
    values: list[Any] = []
    for i, c in enumerate(_plan(type(obj))):
        if skip and skip[i] is not None:
            continue
        if c.foreign:
            _take_parent_ids(obj, c.field)
        if c.plain is not None:
            value: Any = getattr(obj, c.attname)
            if value is None:
                values.append(None)
                continue
            # Exactly the type, not a subclass (a bool is an int); a naive time goes through
            # the field, which warns of it.
            if value.__class__ is c.plain and not (c.moment and value.tzinfo is None):
                if c.integer:
                    values.append(ops.adapt_integerfield_value(value, c.integer))
                elif c.auto_pk:
                    values.append(ops.validate_autopk_value(value))
                elif c.moment:
                    values.append(ops.adapt_datetimefield_value(value))
                else:
                    values.append(value)
                continue
        # pre_save gives auto_now(_add) fields their time and sets it on the instance.
        values.append(c.field.get_db_prep_save(c.field.pre_save(obj, True), db))
    return values


def _saved(obj: models.Model, pk: Any = None) -> None:
    if pk is not None:
        obj.pk = pk
    obj._state.adding = False
    obj._state.db = DEFAULT_DB_ALIAS


def add(obj: M) -> M:
    """Insert this new instance and give it its id (where the database makes it); returns it."""
    model = type(obj)
    generated = _generated(model)
    if generated and obj.pk is not None:
        raise ValueError(f"{obj!r} already has an id")
    key = (model, connection.vendor, 1, generated)
    sql = _inserts.get(key)
    if sql is None:
        sql = _inserts[key] = _insert_sql(model, returning=_pk_column(model) if generated else "")
    with connection.cursor() as cursor:
        cursor.execute(sql, _values(obj))
        _saved(obj, cursor.fetchone()[0] if generated else None)
    return obj


def add_all(objs: Sequence[models.Model]) -> None:
    """Insert a few new instances of one model in one statement; they get no ids (see add())."""
    if not objs:
        return
    model = type(objs[0])
    key = (model, connection.vendor, len(objs), False)
    sql = _inserts.get(key)
    if sql is None:
        sql = _inserts[key] = _insert_sql(model, rows=len(objs))
    with connection.cursor() as cursor:
        cursor.execute(sql, [value for obj in objs for value in _values(obj)])
    for obj in objs:
        _saved(obj)


class Batch:
    """New rows written together when `write()` is called, earlier rows first."""

    def __init__(self) -> None:
        self.rows: list[models.Model] = []

    def add(self, obj: M) -> M:
        if _generated(type(obj)) and obj.pk is not None:
            raise ValueError(f"{obj!r} already has an id")
        self.rows.append(obj)
        return obj

    def write(self) -> None:
        """Insert every row; each gets its id. The batch is empty afterwards."""
        rows, self.rows = self.rows, []
        if not rows:
            return
        shape = self._shape(rows)  # also refuses a row whose parent is not written before it
        if connection.vendor != "postgresql" or len(rows) == 1:
            for obj in rows:
                add(obj) if _generated(type(obj)) else add_all([obj])
            return
        sql = _chains.get(shape)
        if sql is None:
            sql = _chains[shape] = self._chain_sql(shape)
        db = connections[DEFAULT_DB_ALIAS]
        params = [
            value for obj, (_model, refs) in zip(rows, shape, strict=True)
            for value in _values(obj, refs, db)
        ]  # fmt: skip
        with db.cursor() as cursor:
            cursor.execute(sql, params)
            ids = cursor.fetchone()
        for obj, pk in zip(rows, ids, strict=True):
            _saved(obj, pk if _generated(type(obj)) else None)
            for c in _plan(type(obj)):
                if c.foreign:
                    _take_parent_ids(obj, c.field)

    @staticmethod
    def _shape(rows: Sequence[models.Model]) -> Shape:
        position = {id(obj): i for i, obj in enumerate(rows)}
        shape = []
        for i, obj in enumerate(rows):
            refs: list[int | None] = []
            for f in _writable(type(obj)):
                parent = _parent(obj, f)
                j = position.get(id(parent)) if parent is not None and parent.pk is None else None
                if parent is not None and parent.pk is None and (j is None or j >= i):
                    raise ValueError(f"{obj!r} points at a row that is not saved before it")
                refs.append(j)
            shape.append((type(obj), tuple(refs)))
        return tuple(shape)

    @staticmethod
    def _chain_sql(shape: Shape) -> str:
        # WITH r0 AS (INSERT … RETURNING id), r1 AS (INSERT … VALUES ((SELECT id FROM r0), …)) …
        # SELECT each id. A row's reference to an earlier row reads that row's new id.
        parts = []
        for i, (model, refs) in enumerate(shape):
            marks = [f"(SELECT id FROM r{j})" if j is not None else "%s" for j in refs]  # noqa: S608
            insert = _insert_sql(model, marks=marks, returning=f"{_pk_column(model)} AS id")
            parts.append(f"r{i} AS ({insert})")
        ids = ", ".join(f"(SELECT id FROM r{i})" for i in range(len(shape)))  # noqa: S608
        return f"WITH {', '.join(parts)} SELECT {ids}"
