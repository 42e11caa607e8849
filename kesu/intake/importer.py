"""History import: complaints from a CSV or XLSX file, by a column mapping (issue: history import).

The mapping names the source and, for each Kesu field, the file's column:

    {"source": "crm2019",
     "columns": {"source_id": "工单号", "description": "投诉内容", "received_at": "受理时间",
                 "phone": "电话", "channel": "渠道", "state": "状态", "closed_at": "结案时间"},
     "defaults": {"channel": "hotline"},
     "values": {"state": {"已结案": "closed"}},
     "date_format": "%Y/%m/%d %H:%M", "timezone": "Asia/Shanghai"}

A wrong mapping, a file that cannot be read, or a mapped column missing from its header is
refused before any row is read. Each row is then checked as intake checks a staff submission
(`parse_incoming`), plus its id, times and state; a bad row is reported by its number as the
user sees it (the header is row 1), its column and the reason, and the good rows are imported.

Rows go in batches, one transaction each, with the rows the intake path would write —
customer (found by phone or email, else created), complaint, one `imported` event, search
row — plus an ImportedRow keyed by (source, source id): a re-run skips what is there, so a run
that stopped is completed by running it again. It is not `receive()` row by row: that takes
six round trips and sends an acknowledgement per complaint. Here each batch costs a handful
of statements (COPY on PostgreSQL), triage runs on the whole batch with the same rules,
scoring and classifier, and nothing is sent: no outbox row, no alert. Imported complaints
keep their received time and take a reference number of that day from the same per-day
counter as live intake, so the two never collide. Open ones carry the default deadlines from
their received time but no running SLA clocks, so that the sweep does not escalate history;
the first workflow action on them chooses their policy.
"""

from __future__ import annotations

import codecs
import csv
import io
import json
import logging
import multiprocessing
import os
import time
from collections import Counter, deque
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import PurePath
from typing import IO, Any, cast
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import django
import numpy as np
from django.conf import settings
from django.core.files.base import File
from django.db import IntegrityError, OperationalError, connection, models, transaction
from django.db.models import Q
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from kesu.accounts.models import Store, User
from kesu.complaints import deadlines
from kesu.complaints.models import Channel, Closure, Complaint, Event, Grade, Priority, State
from kesu.customers.contact import national_digits
from kesu.customers.models import ContactKind, Customer, CustomerContact, Tier
from kesu.errors import FieldError, InvalidInput
from kesu.intake.models import ImportedRow, ImportJob, ImportState
from kesu.intake.services import IncomingComplaint, parse_incoming
from kesu.search.models import SearchDocument
from kesu.search.tokens import document_tokens
from kesu.triage import classifier
from kesu.triage import services as triage
from kesu.triage.engine import Facts, Prediction, Reading, assess
from kesu.triage.selectors import Setup, current

log = logging.getLogger(__name__)

BATCH_SIZE = 2000
# Bad rows kept on the job (all are counted; the command can write every one to a file).
ERRORS_KEPT = 1000
# Files of at least this many rows are read in worker processes (_Workers) while this one writes.
PARALLEL_FROM = 20_000
ATTEMPTS = 3  # a batch that meets a concurrent writer (same contact, same id) is tried again
# A running job whose batches stopped for this long lost its worker and is taken again.
STALE_AFTER = timedelta(minutes=15)

# Mapping keys: the fields of a complaint an import can fill.
REQUIRED = ("source_id", "description", "received_at")
# What parse_incoming() checks, as intake does for staff.
PARSED = (
    "description", "subject", "name", "phone", "email", "channel", "order_ref", "product",
    "amount", "nature", "category", "grade", "priority", "demand", "occurred_at", "language",
)  # fmt: skip
FIELDS = (*REQUIRED, *(f for f in PARSED if f not in REQUIRED), "store", "state", "closed_at",
          "resolution")  # fmt: skip
NO_DEFAULT = frozenset({"source_id", "description", "received_at", "name", "phone", "email"})
MAPPING_KEYS = frozenset({"source", "columns", "defaults", "values", "date_format", "timezone"})
TIMES = frozenset({"received_at", "closed_at", "occurred_at"})
# States a historical complaint may arrive in: the others need a remedy Kesu knows nothing of.
IMPORTABLE_STATES = [State.RECEIVED, State.ACKNOWLEDGED, State.INVESTIGATING, State.RESOLVED,
                     State.CLOSED]  # fmt: skip
# Tried after ISO 8601 and the mapping's own "date_format".
DATE_FORMATS = (
    "%Y/%m/%d %H:%M:%S", "%Y/%m/%d %H:%M", "%Y/%m/%d", "%Y.%m.%d %H:%M:%S", "%Y.%m.%d",
    "%Y年%m月%d日 %H:%M:%S", "%Y年%m月%d日 %H:%M", "%Y年%m月%d日 %H时%M分", "%Y年%m月%d日",
    "%Y%m%d",
)  # fmt: skip
FUTURE_SKEW = timedelta(minutes=10)
EARLIEST = datetime(1970, 1, 1, tzinfo=UTC)  # 1899-12-30 is an empty Excel date, not history
# Words old systems use for channels and states, besides Kesu's codes and labels.
WORDS: dict[str, dict[str, str]] = {
    "channel": {
        Channel.HOTLINE: "phone telephone 电话 热线 400 来电",
        Channel.EMAIL: "e-mail 邮件 邮箱",
        Channel.WEB: "网站 官网 网页",
        Channel.CHAT: "在线 在线客服",
        Channel.WECHAT: "微信 公众号",
        Channel.STORE: "门店 柜台",
        Channel.WALK_IN: "来访 到店",
        Channel.SOCIAL: "微博 抖音",
        Channel.REGULATOR: "12315 监管转办",
        Channel.LETTER: "来信 信件",
        Channel.OTHER: "其他",
    },
    "state": {
        State.RECEIVED: "new open 新建 待处理 未处理",
        State.ACKNOWLEDGED: "已受理",
        State.INVESTIGATING: "处理中 调查中",
        State.RESOLVED: "已解决 已处理 处理完毕",
        State.CLOSED: "已结案 结案 已关闭 关闭 已完成 完成",
    },
}
ALIASES = {
    name: {word: str(code) for code, words in table.items() for word in words.split()}
    for name, table in WORDS.items()
}


# --- The mapping ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class ImportMapping:
    """A checked mapping: the source's name and, per field, its column, default and values."""

    source: str
    columns: dict[str, str]
    defaults: dict[str, str] = field(default_factory=dict)
    values: dict[str, dict[str, str]] = field(default_factory=dict)
    date_formats: tuple[str, ...] = DATE_FORMATS
    zone: ZoneInfo = field(default_factory=lambda: ZoneInfo(settings.TIME_ZONE))

    def column(self, name: str) -> str:
        """The file's column for a field, as a bad row names it (a default names the field)."""
        return self.columns.get(name) or _("%(field)s (default)") % {"field": name}


def read_mapping(raw: Any) -> ImportMapping:
    """Check a mapping (parsed JSON); raise InvalidInput naming every wrong key."""
    errors: list[FieldError] = []

    def fail(key: str, message: str) -> None:
        errors.append(FieldError(key, message))

    if not isinstance(raw, dict):
        raise InvalidInput.one("mapping", _("The mapping must be a JSON object."))
    for key in raw:
        if key not in MAPPING_KEYS:
            fail(key, _("Unknown key; use: %(keys)s.") % {"keys": ", ".join(sorted(MAPPING_KEYS))})
    source = raw.get("source")
    if not isinstance(source, str) or not source.strip():
        fail("source", _('Name the source system, e.g. "crm2019".'))
        source = ""
    elif len(source.strip()) > 60:
        fail("source", _("At most 60 characters."))
    columns = _string_map(raw.get("columns"), "columns", fail, required=True)
    defaults = _string_map(raw.get("defaults"), "defaults", fail)
    for name in [*columns, *defaults]:
        if name not in FIELDS:
            where = "columns" if name in columns else "defaults"
            fail(
                f"{where}.{name}",
                _("Unknown field; use: %(fields)s.") % {"fields": ", ".join(FIELDS)},
            )
    for name in defaults:
        if name in NO_DEFAULT:
            fail(f"defaults.{name}", _("This field cannot have a default: each row has its own."))
    for name in REQUIRED:
        if name not in columns:
            fail(f"columns.{name}", _("Map this field to a column of the file."))
    if not ({"phone", "email"} & set(columns)):
        fail("columns.phone", _("Map a phone or an email column: customers are found by them."))
    if "channel" not in columns and "channel" not in defaults:
        fail("columns.channel", _('Map the channel to a column or give it in "defaults".'))
    values: dict[str, dict[str, str]] = {}
    raw_values = raw.get("values", {})
    if not isinstance(raw_values, dict):
        fail("values", _("Must be an object: field → {value in the file: Kesu's code}."))
    else:
        for name, table in raw_values.items():
            if name not in FIELDS:
                fail(f"values.{name}", _("Unknown field."))
                continue
            values[name] = _string_map(table, f"values.{name}", fail)
    formats = raw.get("date_format", [])
    formats = [formats] if isinstance(formats, str) else formats
    if not isinstance(formats, list) or not all(isinstance(f, str) and "%" in f for f in formats):
        fail("date_format", _('A strftime format such as "%Y/%m/%d %H:%M", or a list of them.'))
        formats = []
    zone_name = raw.get("timezone", settings.TIME_ZONE)
    zone = ZoneInfo(settings.TIME_ZONE)
    try:
        zone = ZoneInfo(str(zone_name))
    except (ZoneInfoNotFoundError, ValueError):
        fail(
            "timezone",
            _("Unknown time zone %(zone)s; e.g. Asia/Shanghai.") % {"zone": repr(zone_name)},
        )
    if errors:
        raise InvalidInput(errors)
    return ImportMapping(
        source=str(source).strip(),
        columns=columns,
        defaults=defaults,
        values=values,
        date_formats=(*formats, *DATE_FORMATS) if formats else DATE_FORMATS,
        zone=zone,
    )


def _string_map(
    raw: Any, key: str, fail: Callable[[str, str], None], *, required: bool = False
) -> dict[str, str]:
    if raw is None and not required:
        return {}
    if not isinstance(raw, dict) or (required and not raw):
        fail(key, _("Must be an object of names to text."))
        return {}
    out: dict[str, str] = {}
    for name, value in raw.items():
        if not isinstance(value, str) or not value.strip():
            fail(f"{key}.{name}", _("Must be non-empty text."))
        else:
            out[str(name)] = value.strip()
    return out


def load_mapping(text: str | bytes) -> ImportMapping:
    """A mapping from its JSON text."""
    try:
        raw = json.loads(text)
    except (ValueError, UnicodeDecodeError) as error:
        raise InvalidInput.one(
            "mapping", _("Not valid JSON: %(error)s") % {"error": error}
        ) from None
    return read_mapping(raw)


# --- Reading the file ----------------------------------------------------------------------------


@dataclass
class SourceFile:
    """A file's header and a way to read its rows: (row number as the user sees it, cells)."""

    header: list[str]
    total: int | None  # data rows (without the header), when known
    rows: Callable[[], Iterator[tuple[int, Sequence[Any]]]]
    kind: str  # "csv (utf-8)", "csv (gb18030)" or "xlsx"


def open_source(handle: IO[bytes], name: str, *, whole: bool = True) -> SourceFile:
    """Read a file's header and, for a CSV file, check that every line can be decoded (unless
    not `whole`: only the header, for a quick check of an upload); InvalidInput if not."""
    suffix = PurePath(name).suffix.lower()
    handle.seek(0)
    magic = handle.read(4)
    handle.seek(0)
    if suffix == ".xlsx" or magic == b"PK\x03\x04":
        return _open_xlsx(handle)
    if suffix in (".xls", ".et"):
        raise InvalidInput.one("file", _("Old .xls workbooks cannot be read; save it as .xlsx."))
    if suffix not in (".csv", ".txt", ".tsv", ""):
        raise InvalidInput.one("file", _("Use a .csv or .xlsx file."))
    return _open_csv(handle, whole)


def _open_csv(handle: IO[bytes], whole: bool) -> SourceFile:
    # Chinese Excel saves CSV in GBK (GB18030 is its superset), others in UTF-8, often with a
    # BOM. The whole file is decoded once first, line by line, so that a byte that is neither
    # is named before anything is written; the same pass counts the rows for the progress bar.
    furthest = 0  # the encoding that read further tells where the file breaks
    for encoding in ("utf-8-sig", "gb18030"):
        line = [0]
        rows = 0
        try:
            reader = csv.reader(_decoded(handle, encoding, line), delimiter=_delimiter(handle))
            header = next(reader, None)
            for rows, _cells in enumerate(reader if whole else (), start=1):  # noqa: B007
                pass
        except UnicodeDecodeError:
            furthest = max(furthest, line[0])
            continue
        except csv.Error as error:
            raise InvalidInput.one(
                "file",
                _("Line %(line)s cannot be read as CSV: %(error)s")
                % {"line": line[0], "error": error},
            ) from None
        if header is None or not any(cell.strip() for cell in header):
            raise InvalidInput.one(
                "file", _("The file is empty: the first row must name the columns.")
            )
        total = rows if whole else None
        chosen, delimiter = encoding, _delimiter(handle)

        def read(
            encoding: str = chosen, delimiter: str = delimiter
        ) -> Iterator[tuple[int, Sequence[Any]]]:
            handle.seek(0)
            text = io.TextIOWrapper(handle, encoding=encoding, newline="")
            try:
                reader = csv.reader(text, delimiter=delimiter)
                next(reader)
                yield from enumerate(reader, start=2)
            finally:
                text.detach()

        label = "utf-8" if encoding == "utf-8-sig" else encoding
        return SourceFile(_header(header), total, read, f"csv ({label})")
    raise InvalidInput.one(
        "file", _("Line %(line)s is neither UTF-8 nor GB18030 text.") % {"line": furthest}
    )


def _decoded(handle: IO[bytes], encoding: str, line: list[int]) -> Iterator[str]:
    """The file's lines decoded one by one; `line[0]` says which line is being read."""
    handle.seek(0)
    decoder = codecs.getincrementaldecoder(encoding)()
    # Neither encoding uses the byte of a line break inside a character: lines split safely.
    for number, raw in enumerate(handle, start=1):
        line[0] = number
        yield decoder.decode(raw)
    rest = decoder.decode(b"", final=True)  # raises on a character cut off at the end
    if rest:
        yield rest


def _delimiter(handle: IO[bytes]) -> str:
    """Comma, tab or semicolon: whichever the header line has most of."""
    handle.seek(0)
    first_line = handle.readline()
    counts = {d: first_line.count(d.encode()) for d in (",", "\t", ";")}
    best = max(counts, key=lambda d: counts[d])
    return best if counts[best] else ","


def _open_xlsx(handle: IO[bytes]) -> SourceFile:
    import zipfile

    from openpyxl import load_workbook
    from openpyxl.utils.exceptions import InvalidFileException

    try:
        # read_only streams the sheet's XML: a million rows never sit in memory at once.
        book = load_workbook(handle, read_only=True, data_only=True)
        sheet = book.worksheets[0]
        header_row = next(sheet.iter_rows(max_row=1, values_only=True), None)
    except (zipfile.BadZipFile, InvalidFileException, KeyError, OSError, IndexError, ValueError):
        raise InvalidInput.one(
            "file", _("This is not an Excel .xlsx workbook that can be read.")
        ) from None
    if header_row is None or not any(cell not in (None, "") for cell in header_row):
        raise InvalidInput.one(
            "file", _("The first sheet is empty: its first row must name the columns.")
        )
    total = (sheet.max_row - 1) if sheet.max_row else None

    def read() -> Iterator[tuple[int, Sequence[Any]]]:
        yield from enumerate(sheet.iter_rows(min_row=2, values_only=True), start=2)

    return SourceFile(_header([_cell_text(c) for c in header_row]), total, read, "xlsx")


def _header(cells: Sequence[str]) -> list[str]:
    return [cell.strip().lstrip("\ufeff").strip() for cell in cells]


def check_columns(mapping: ImportMapping, header: Sequence[str]) -> dict[str, int]:
    """Each mapped field's position in the header; InvalidInput naming every missing column."""
    errors = []
    positions: dict[str, int] = {}
    present = [name for name in header if name]
    for name, column in mapping.columns.items():
        found = [i for i, title in enumerate(header) if title == column]
        if not found:
            errors.append(
                FieldError(
                    f"columns.{name}",
                    _("The file has no column %(column)s; its columns are: %(header)s.")
                    % {"column": repr(column), "header": ", ".join(present)},
                )
            )
        elif len(found) > 1:
            errors.append(
                FieldError(
                    f"columns.{name}",
                    _("The file has %(n)s columns named %(column)s; rename them.")
                    % {"n": len(found), "column": repr(column)},
                )
            )
        else:
            positions[name] = found[0]
    if errors:
        raise InvalidInput(errors)
    return positions


def _cell_text(value: Any) -> str:
    """A cell as text: Excel keeps phone numbers and ids as numbers, 13800138000.0 included."""
    if value is None:
        return ""
    if isinstance(value, str):
        return value.strip()
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    if isinstance(value, datetime):
        return value.isoformat(sep=" ")
    return str(value).strip()


# --- Rows ----------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Problem:
    """One thing wrong with one row: as the user sees it in the file."""

    row: int
    column: str
    reason: str

    def as_dict(self) -> dict[str, Any]:
        return {"row": self.row, "column": self.column, "reason": self.reason}


@dataclass
class _Row:
    """A good row on its way in."""

    number: int
    source_id: str
    incoming: IncomingComplaint
    store: _Store | None
    received_at: datetime
    state: str
    closed_at: datetime | None
    resolution: str
    # Read from the text alone, in the first stage (_Preparer): the classifier's answer,
    # triage for a customer without history, the search tokens of the complaint's own words.
    prediction: Prediction | None = None
    reading: Reading | None = None
    tokens: str = ""
    phone_digits: str = ""
    # Decided in the batch's transaction.
    customer: int | _NewCustomer | None = None
    tier: str = Tier.REGULAR


@dataclass(frozen=True)
class _Store:
    id: int
    name_zh: str


def _choices(choices: Any) -> dict[str, str]:
    """A TextChoices' codes and its labels in both languages, to its code (case-insensitive)."""
    table: dict[str, str] = {}
    for code, label in choices.choices:
        table[str(code).lower()] = str(code)
        for language in ("en", "zh-hans"):
            with translation.override(language):
                table[str(label).strip().lower()] = str(code)
    return table


class _Reader:
    """Turns a file row into a _Row, or the problems that keep it out."""

    def __init__(self, mapping: ImportMapping, positions: dict[str, int], width: int) -> None:
        self.mapping = mapping
        self.positions = positions
        self.width = width
        self.now = timezone.now()
        self.stores: dict[str, _Store] = {}
        for pk, code, name_zh, name_en in Store.objects.values_list(
            "pk", "code", "name_zh", "name_en"
        ):
            store = _Store(pk, name_zh)
            for key in (name_en, name_zh, code):
                if key:
                    self.stores[key.lower()] = store
        self.codes = {
            "channel": {**_choices(Channel), **ALIASES["channel"]},
            "state": {**_choices(State), **ALIASES["state"]},
            "grade": _choices(Grade),
            "priority": _choices(Priority),
        }

    def read(self, number: int, cells: Sequence[Any]) -> tuple[str, _Row | list[Problem]]:
        """The row's source id ("" if it has none that can be used) and the row or its problems."""
        problems: list[Problem] = []
        mapping = self.mapping
        if self.width and len(cells) != self.width and any(_cell_text(c) for c in cells):
            reason = _(
                "This row has %(n)s values but the header has %(m)s columns (a line break "
                "or separator inside an unquoted value?)."
            )
            return "", [Problem(number, "", reason % {"n": len(cells), "m": self.width})]
        raw: dict[str, Any] = {}
        for name, position in self.positions.items():
            value = cells[position] if position < len(cells) else None
            timed = name in TIMES and isinstance(value, datetime)
            raw[name] = value if timed else _cell_text(value)
        for name, value in mapping.defaults.items():
            if not raw.get(name):
                raw[name] = value
        for name, table in mapping.values.items():
            value = raw.get(name)
            if isinstance(value, str) and value in table:
                raw[name] = table[value]
        for name in ("channel", "grade", "priority"):
            value = raw.get(name)
            if isinstance(value, str) and value:
                raw[name] = self.codes[name].get(value.lower(), value)

        def fail(name: str, reason: str) -> None:
            problems.append(Problem(number, mapping.column(name), reason))

        source_id = str(raw.get("source_id", ""))
        if not source_id:
            fail("source_id", _("This field is required."))
        elif len(source_id) > 100:
            fail("source_id", _("At most 100 characters."))
            source_id = ""
        received_at = self._when(raw.get("received_at"), "received_at", fail, required=True)
        closed_at = self._when(raw.get("closed_at"), "closed_at", fail)
        occurred = raw.get("occurred_at")
        if occurred:
            raw["occurred_at"] = self._when(occurred, "occurred_at", fail)
        state = self._state(raw.get("state"), closed_at, fail)
        if received_at and closed_at and closed_at < received_at:
            fail(
                "closed_at",
                _("Closed before it was received (%(received)s).")
                % {"received": received_at.astimezone(mapping.zone).strftime("%Y-%m-%d %H:%M")},
            )
        store = None
        store_name = str(raw.get("store") or "")
        if store_name:
            store = self.stores.get(store_name.lower())
            if store is None:
                fail("store", _("No store %(code)s.") % {"code": repr(store_name)})
        submission = {name: raw[name] for name in PARSED if raw.get(name) not in (None, "")}
        try:
            incoming = parse_incoming(submission, staff=True)
        except InvalidInput as error:
            incoming = None
            for wrong in error.errors:
                if wrong.field == "phone" and "phone" not in mapping.columns:
                    fail("email", wrong.message)
                else:
                    fail(wrong.field, wrong.message)
        if problems or incoming is None or received_at is None:
            return source_id, problems
        return source_id, _Row(
            number=number,
            source_id=source_id,
            incoming=incoming,
            store=store,
            received_at=received_at,
            state=state,
            closed_at=closed_at,
            resolution=str(raw.get("resolution") or "")[:20_000],
        )

    def _when(
        self, value: Any, name: str, fail: Callable[[str, str], None], *, required: bool = False
    ) -> datetime | None:
        if value in (None, ""):
            if required:
                fail(name, _("This field is required."))
            return None
        when = value if isinstance(value, datetime) else self._parse_time(str(value))
        if when is None:
            fail(
                name,
                _('Not a date or time: %(value)s (give "date_format" in the mapping).')
                % {"value": repr(value)},
            )
            return None
        if when.tzinfo is None:
            when = when.replace(tzinfo=self.mapping.zone)
        if when > self.now + FUTURE_SKEW:
            fail(name, _("This is in the future."))
            return None
        if when < EARLIEST:
            fail(name, _("Not a plausible date: %(value)s.") % {"value": repr(str(value))})
            return None
        return when

    def _parse_time(self, text: str) -> datetime | None:
        try:
            return datetime.fromisoformat(text)
        except ValueError:
            pass
        for pattern in self.mapping.date_formats:
            try:
                return datetime.strptime(text, pattern)  # the zone is set by the caller
            except ValueError:
                continue
        return None

    def _state(
        self, value: Any, closed_at: datetime | None, fail: Callable[[str, str], None]
    ) -> str:
        text = str(value or "").strip()
        if not text:
            return State.CLOSED if closed_at else State.RECEIVED
        state = self.codes["state"].get(text.lower())
        if state is None or state not in IMPORTABLE_STATES:
            fail(
                "state",
                _(
                    "Unknown or unimportable state %(value)s; use one of: %(allowed)s "
                    '(or map it in "values").'
                )
                % {"value": repr(text), "allowed": ", ".join(IMPORTABLE_STATES)},
            )
            return State.RECEIVED
        return state


# --- Writing rows --------------------------------------------------------------------------------


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


@dataclass
class _Customers:
    """A batch's customers: those to create, contacts added to known ones, the known ones."""

    new: list[_NewCustomer] = field(default_factory=list)
    added: list[tuple[int, str, str]] = field(default_factory=list)
    known: dict[int, dict[str, Any]] = field(default_factory=dict)


@dataclass(eq=False)
class _NewCustomer:
    name: str
    phone: str
    email: str
    language: str
    contacts: list[tuple[str, str]] = field(default_factory=list)
    rows: list[_Row] = field(default_factory=list)
    id: int | None = None


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


def _batches(
    rows: Iterable[tuple[int, Sequence[Any]]], size: int
) -> Iterator[list[tuple[int, Sequence[Any]]]]:
    batch: list[tuple[int, Sequence[Any]]] = []
    for row in rows:
        batch.append(row)
        if len(batch) >= size:
            yield batch
            batch = []
    if batch:
        yield batch


# --- Running an import ---------------------------------------------------------------------------


@dataclass
class Outcome:
    """What a run did (or, dry, would do)."""

    dry_run: bool
    total: int | None = None
    done: int = 0
    created: int = 0
    skipped: int = 0
    failed: int = 0
    errors: list[dict[str, Any]] = field(default_factory=list)
    seconds: float = 0.0
    kind: str = ""

    @property
    def message(self) -> str:
        if self.dry_run:
            text = _(
                "Dry run of %(done)s rows: %(created)s would be imported, %(skipped)s are "
                "already there, %(failed)s bad rows. Nothing was written."
            )
        else:
            text = _(
                "%(done)s rows read: %(created)s complaints imported, %(skipped)s already "
                "there, %(failed)s bad rows."
            )
        return text % vars(self)


Progress = Callable[[Outcome], None]


def import_file(
    handle: IO[bytes],
    *,
    name: str,
    mapping: ImportMapping,
    dry_run: bool = False,
    batch_size: int = BATCH_SIZE,
    actor: User | None = None,
    job: ImportJob | None = None,
    progress: Progress | None = None,
    on_problem: Callable[[Problem], None] | None = None,
    workers: int | None = None,
) -> Outcome:
    """Import (or with `dry_run`, only check) every row of a CSV or XLSX file.

    InvalidInput before any row is read if the file cannot be read or lacks a mapped column.
    Each batch of good rows is one transaction; bad rows are counted, the first ERRORS_KEPT
    kept, and each passed to `on_problem`. `job` gets its counters with each batch.
    """
    if batch_size < 1:
        raise InvalidInput.one("batch_size", _("Must be at least 1."))
    source = open_source(handle, name)
    positions = check_columns(mapping, source.header)
    run = _Run(
        mapping,
        positions,
        source,
        dry_run=dry_run,
        actor=actor,
        job=job,
        name=name,
        progress=progress,
        on_problem=on_problem,
    )
    return run.all(batch_size, workers)


@dataclass
class _Prepared:
    """A batch after the first stage: rows read, each row's source id, good rows, problems."""

    read: int
    ids: list[tuple[int, str]]  # (row number, source id) of every row read
    rows: list[_Row]
    problems: list[Problem]


class _Preparer:
    """The first stage of a batch, from the text alone: read and check the rows, ask the
    classifier, triage each as if its customer had no history, tokenise it for search.

    It writes nothing and reads little (which rows are already imported: a re-run reads no
    texts), so it runs in worker processes on large files while the importer's own process
    writes (_Workers).
    """

    def __init__(
        self, mapping: ImportMapping, positions: dict[str, int], width: int, triage: bool
    ) -> None:
        self.reader = _Reader(mapping, positions, width)
        self.source = mapping.source
        self.triage = triage

    def prepare(self, batch: list[tuple[int, Sequence[Any]]]) -> _Prepared:
        done = _Prepared(0, [], [], [])
        for number, cells in batch:
            if not any(c not in (None, "") for c in cells):
                continue  # an empty line is no row
            done.read += 1
            source_id, result = self.reader.read(number, cells)
            done.ids.append((number, source_id))
            if isinstance(result, _Row):
                done.rows.append(result)
            else:
                done.problems.extend(result)
        if self.triage and done.rows:
            # Rows imported before need no reading: the writer skips them. (One imported since
            # is read for nothing; the writer's own look is the one that counts.)
            there = _imported(self.source, [row.source_id for row in done.rows])
            _read_texts([row for row in done.rows if row.source_id not in there])
        return done


def _read_texts(rows: list[_Row]) -> None:
    """Each row's prediction, first triage and own search tokens (see _Row)."""
    if not rows:
        return
    setup: Setup = current()
    texts = [_text(row.incoming) for row in rows]
    predictions = _predict_all(
        [t for t, row in zip(texts, rows, strict=True) if not row.incoming.assessment.category]
    )
    for text, row in zip(texts, rows, strict=True):
        i = row.incoming
        row.prediction = None if i.assessment.category else next(predictions, None)
        row.reading = assess(_facts(row, text, (), Tier.REGULAR), setup, row.prediction)
        # What search.services.document_text() reads of the complaint itself, in its order.
        own = (i.subject, i.description, i.product, i.order_ref, i.demand_detail)
        row.tokens = " ".join(document_tokens(" ".join(part for part in own if part)))
        row.phone_digits = national_digits(i.phone) if i.phone else ""


def _imported(source: str, ids: Sequence[str]) -> set[str]:
    """Which of these source ids are imported already."""
    table = _name(ImportedRow)  # names from the model; the ids are parameters
    sql = f"SELECT source_id FROM {table} WHERE source = %s AND source_id {{values}}"  # noqa: S608
    return {source_id for (source_id,) in _select(sql, [source], ids)}


def _facts(row: _Row, text: str, earlier: tuple[datetime, ...], tier: str) -> Facts:
    a = row.incoming.assessment
    return Facts(
        text=text,
        amount=row.incoming.amount,
        tier=tier,
        earlier=earlier,
        at=row.received_at,
        nature=a.nature,
        category=a.category,
        grade=a.grade,
        priority=a.priority,
    )


# A worker process's preparer, made by its first batch (see _Workers).
_worker: _Preparer | None = None


def _prepare_in_worker(setup: tuple[Any, ...], batch: list[tuple[int, Sequence[Any]]]) -> _Prepared:
    global _worker
    if _worker is None:
        database, language, *preparer_args = setup
        # The importer's own database (a test's, say) for the triage setup and the model.
        connection.settings_dict["NAME"] = database
        translation.activate(language)
        _worker = _Preparer(*preparer_args)
    return _worker.prepare(batch)


class _Workers:
    """The first stage in worker processes, batches handed back in the file's order.

    Spawned, not forked: the importer may run inside a threaded server, and a child must not
    share its database connections. A few batches are in flight at a time, so a file of a
    million rows is never read ahead into memory.
    """

    def __init__(self, count: int, preparer_args: tuple[Any, ...]) -> None:
        language = translation.get_language() or settings.LANGUAGE_CODE
        self.setup = (connection.settings_dict["NAME"], language, *preparer_args)
        # Django is set up before this module is imported there (it imports models).
        self.pool = multiprocessing.get_context("spawn").Pool(count, initializer=django.setup)
        self.in_flight = 2 * count + 1

    def map(self, batches: Iterable[list[tuple[int, Sequence[Any]]]]) -> Iterator[_Prepared]:
        pending: deque[Any] = deque()
        try:
            for batch in batches:
                pending.append(self.pool.apply_async(_prepare_in_worker, (self.setup, batch)))
                if len(pending) >= self.in_flight:
                    yield pending.popleft().get()
            while pending:
                yield pending.popleft().get()
        finally:
            self.pool.terminate()
            self.pool.join()


class _Statistics:
    """Fresh planner statistics while an import grows the tables (PostgreSQL).

    The batch's lookups (customers' history, contacts) are planned from the statistics of the
    tables they read; an import that multiplies a table leaves them describing a much smaller
    one, and the planner then scans a range of complaints instead of a customer's few: a
    hundred times slower by 100,000 rows, before autovacuum (if it runs at all) catches up.
    So the tables are analysed whenever the import has added a fifth of what they held.
    """

    TABLES = (Complaint, Customer, CustomerContact, ImportedRow)
    AT_LEAST = 10_000

    def __init__(self) -> None:
        self.postgres = connection.vendor == "postgresql"
        self.since = 0
        self.next = self.AT_LEAST
        self.counted = 0

    def after(self, created: int, *, last: bool = False) -> None:
        if not self.postgres or created == self.counted:
            return
        self.since += created - self.counted
        self.counted = created
        if self.since < self.next and not last:
            return
        tables = [*self.TABLES, Event, SearchDocument] if last else self.TABLES
        with connection.cursor() as cursor:
            for model in tables:
                cursor.execute(f"ANALYZE {connection.ops.quote_name(model._meta.db_table)}")
            cursor.execute(
                "SELECT reltuples FROM pg_class WHERE relname = %s", [Complaint._meta.db_table]
            )
            held = cursor.fetchone()[0]
        self.since = 0
        self.next = max(self.AT_LEAST, int(held) // 5)


class _Run:
    def __init__(
        self,
        mapping: ImportMapping,
        positions: dict[str, int],
        source: SourceFile,
        *,
        dry_run: bool,
        actor: User | None,
        job: ImportJob | None,
        name: str,
        progress: Progress | None,
        on_problem: Callable[[Problem], None] | None,
    ) -> None:
        self.mapping = mapping
        self.source = source
        width = len(source.header) if source.kind.startswith("csv") else 0
        self.preparer_args = (mapping, positions, width, not dry_run)
        # The first row of each source id: a later row with the same id is a mistake in the
        # file, reported, never a second complaint.
        self.seen: dict[str, int] = {}
        self.dry_run = dry_run
        self.actor_id = actor.pk if actor is not None else None
        self.job = job
        self.name = name
        self.progress = progress
        self.on_problem = on_problem
        self.outcome = Outcome(dry_run=dry_run, total=source.total, kind=source.kind)
        self.tables = {
            m: _Table(m)
            for m in (Customer, CustomerContact, Complaint, Event, SearchDocument, ImportedRow)
        }

    def all(self, batch_size: int, workers: int | None) -> Outcome:
        started = time.perf_counter()
        if self.job is not None:
            counters = {"done_rows": 0, "created": 0, "skipped": 0, "failed": 0, "errors": []}
            ImportJob.objects.filter(pk=self.job.pk).update(
                total_rows=self.source.total, **counters
            )
        batches = _batches(self.source.rows(), batch_size)
        count = self._workers(workers)
        if count:
            prepared = _Workers(count, self.preparer_args).map(batches)
        else:
            preparer = _Preparer(*self.preparer_args)
            prepared = (preparer.prepare(batch) for batch in batches)
        statistics = _Statistics()
        for batch in prepared:
            self.batch(batch)
            statistics.after(self.outcome.created if not self.dry_run else 0)
            self.outcome.seconds = time.perf_counter() - started
            if self.progress is not None:
                self.progress(self.outcome)
        statistics.after(self.outcome.created if not self.dry_run else 0, last=True)
        self.outcome.total = self.outcome.done
        self.outcome.seconds = time.perf_counter() - started
        return self.outcome

    def _workers(self, requested: int | None) -> int:
        """Worker processes for the first stage: none for small files or inside a transaction
        (a test's, or a caller's: its rows must be seen by the same connection)."""
        # An in-memory SQLite database (tests) cannot be opened by another process.
        in_memory = getattr(connection, "is_in_memory_db", lambda: False)()
        if connection.in_atomic_block or in_memory:
            return 0
        if requested is not None:
            return max(0, requested)
        if self.source.total is None or self.source.total < PARALLEL_FROM:
            return 0
        return max(1, (os.cpu_count() or 1) - 1)

    def batch(self, prepared: _Prepared) -> None:
        problems = prepared.problems
        twins = set()
        for number, source_id in prepared.ids:
            if not source_id:
                continue
            first = self.seen.setdefault(source_id, number)
            if first != number:
                twins.add(number)
                reason = _("The same id as row %(row)s.") % {"row": first}
                problems.append(Problem(number, self.mapping.column("source_id"), reason))
        problems.sort(key=lambda p: p.row)
        good = [row for row in prepared.rows if row.number not in twins]
        read = prepared.read
        failed = len({p.row for p in problems})
        for attempt in range(ATTEMPTS):
            try:
                with transaction.atomic():
                    created, skipped = self._store(good)
                    self._count(read, created, skipped, failed, problems)
                break
            except (IntegrityError, OperationalError) as error:
                # A concurrent writer took a contact or an id first, or a deadlock: the batch
                # rolled back whole; read again, it now finds theirs.
                if attempt == ATTEMPTS - 1:
                    raise
                log.warning("import batch retried after %s", error)
        self.outcome.done += read
        self.outcome.created += created
        self.outcome.skipped += skipped
        self.outcome.failed += failed
        for problem in problems:
            if len(self.outcome.errors) < ERRORS_KEPT:
                self.outcome.errors.append(problem.as_dict())
            if self.on_problem is not None:
                self.on_problem(problem)

    def _count(
        self, read: int, created: int, skipped: int, failed: int, problems: list[Problem]
    ) -> None:
        """The job's counters move with the batch's own transaction: they say what is stored."""
        if self.job is None:
            return
        kept = self.outcome.errors
        room = ERRORS_KEPT - len(kept)
        changes: dict[str, Any] = {
            "done_rows": self.outcome.done + read,
            "created": self.outcome.created + created,
            "skipped": self.outcome.skipped + skipped,
            "failed": self.outcome.failed + failed,
            "heartbeat_at": timezone.now(),
        }
        if problems and room > 0:
            changes["errors"] = kept + [p.as_dict() for p in problems[:room]]
        ImportJob.objects.filter(pk=self.job.pk).update(**changes)

    def _store(self, rows: list[_Row]) -> tuple[int, int]:
        """Write the batch's new rows (dry: only look); (created, skipped)."""
        fresh = self._not_imported(rows)
        skipped = len(rows) - len(fresh)
        if self.dry_run or not fresh:
            return len(fresh), skipped
        customers = self._customers(fresh)
        self._triage(fresh)
        self._write(fresh, customers)
        return len(fresh), skipped

    def _not_imported(self, rows: list[_Row]) -> list[_Row]:
        there = _imported(self.mapping.source, [row.source_id for row in rows])
        return [row for row in rows if row.source_id not in there]

    # -- customers

    def _customers(self, rows: list[_Row]) -> _Customers:
        """Match each row's customer by phone, then email (normalised), in two queries.

        As find_or_create_customer(): the first contact known wins; contacts the customer
        lacks are added unless another customer owns them (merging customers is a person's
        decision); rows of one batch with the same phone or email share the new customer.
        """
        wanted: dict[str, set[str]] = {ContactKind.PHONE: set(), ContactKind.EMAIL: set()}
        for row in rows:
            if row.incoming.phone:
                wanted[ContactKind.PHONE].add(row.incoming.phone)
            if row.incoming.email:
                wanted[ContactKind.EMAIL].add(row.incoming.email)
        owners: dict[tuple[str, str], int | _NewCustomer] = {}
        found = _Customers()
        for kind, values in wanted.items():
            # With each owner's name, contacts and tier: triage and the search row use them.
            for value, pk, name, phone, email, tier in _select(
                f"SELECT c.value, u.id, u.name, u.phone, u.email, u.tier FROM "  # noqa: S608
                f"{_name(CustomerContact)} c JOIN {_name(Customer)} u ON u.id = c.customer_id "
                "WHERE c.kind = %s AND c.value {values}",
                [kind],
                sorted(values),
            ):
                owners[(kind, value)] = pk
                found.known[pk] = {"name": name, "phone": phone, "email": email, "tier": tier}
        for row in rows:
            keys = [
                (kind, value)
                for kind, value in (
                    (ContactKind.PHONE, row.incoming.phone),
                    (ContactKind.EMAIL, row.incoming.email),
                )
                if value
            ]
            owner = next((owners[key] for key in keys if key in owners), None)
            if owner is None:
                incoming = row.incoming
                owner = _NewCustomer(
                    incoming.name, incoming.phone, incoming.email, incoming.language
                )
                found.new.append(owner)
            for key in keys:
                if key not in owners:
                    owners[key] = owner
                    if isinstance(owner, _NewCustomer):
                        owner.contacts.append(key)
                    else:
                        found.added.append((owner, *key))
            if isinstance(owner, _NewCustomer):
                # A later row of the batch fills what the first left blank, as a later
                # intake would (find_or_create_customer).
                owner.name = owner.name or row.incoming.name
                owner.phone = owner.phone or row.incoming.phone
                owner.email = owner.email or row.incoming.email
                owner.rows.append(row)
            row.customer = owner
        for row in rows:
            if isinstance(row.customer, int):
                row.tier = found.known[row.customer]["tier"]
        return found

    # -- triage

    def _triage(self, rows: list[_Row]) -> None:
        """Triage again the rows whose customer has a history or a tier (the first stage read
        each as a regular customer's first complaint): as intake does, the customer's
        complaints of the 90 days before, from the database (one query) and from the batch."""
        _read_texts([row for row in rows if row.reading is None])  # imported, then deleted
        setup: Setup = current()
        history = self._history(rows)
        for row in rows:
            assert row.customer is not None
            times = history.get(_key(row.customer), ())
            start = row.received_at - triage.HISTORY
            # As triage.services.earlier_complaints(): the newest 50 of the 90 days before.
            recent = sorted((t for t in times if start <= t < row.received_at), reverse=True)
            earlier = tuple(recent[:50])
            if earlier or row.tier != Tier.REGULAR:
                facts = _facts(row, _text(row.incoming), earlier, row.tier)
                row.reading = assess(facts, setup, row.prediction)

    def _history(self, rows: list[_Row]) -> dict[object, list[datetime]]:
        """Received times of each customer's complaints near the batch's rows (by _key)."""
        times: dict[object, list[datetime]] = {}
        for row in rows:
            assert row.customer is not None
            times.setdefault(_key(row.customer), []).append(row.received_at)
        existing = {row.customer for row in rows if isinstance(row.customer, int)}
        if existing:
            start = min(row.received_at for row in rows) - triage.HISTORY
            end = max(row.received_at for row in rows)
            for customer_id, at in _select(
                f"SELECT customer_id, received_at FROM {_name(Complaint)} "  # noqa: S608
                "WHERE received_at >= %s AND received_at < %s AND customer_id {values}",
                [start, end],
                sorted(existing),
            ):
                times[customer_id].append(at)
        return times

    # -- the batch's rows

    def _write(self, rows: list[_Row], customers: _Customers) -> None:
        now = timezone.now()
        t = self.tables
        # Customers first, then the day counters: the order live intake takes its locks in
        # (record_complaint, then next_reference), so the two never wait on each other.
        for customer, pk in zip(
            customers.new, t[Customer].new_ids(len(customers.new)), strict=True
        ):
            customer.id = pk
        t[Customer].write(
            [
                t[Customer].row(
                    id=c.id,
                    name=c.name,
                    phone=c.phone,
                    email=c.email,
                    language=c.language,
                    tier=Tier.REGULAR,
                    complaint_count=len(c.rows),
                    last_complaint_at=max(r.received_at for r in c.rows),
                    created_at=now,
                )
                for c in customers.new
            ]
        )
        contacts = [(c.id, kind, value) for c in customers.new for kind, value in c.contacts]
        contacts += customers.added
        ids = t[CustomerContact].new_ids(len(contacts))
        t[CustomerContact].write(
            [
                t[CustomerContact].row(
                    id=pk, customer_id=owner, kind=kind, value=value, created_at=now
                )
                for pk, (owner, kind, value) in zip(ids, contacts, strict=True)
            ]
        )
        self._count_for_known(rows, customers)
        numbers = self._references(rows)
        complaint_ids = t[Complaint].new_ids(len(rows))
        event_ids = t[Event].new_ids(len(rows))
        imported_ids = t[ImportedRow].new_ids(len(rows))
        complaints, events, documents, imported = [], [], [], []
        for row, pk, event_id, imported_id, reference in zip(
            rows, complaint_ids, event_ids, imported_ids, numbers, strict=True
        ):
            assert row.reading is not None and row.customer is not None
            owner = row.customer
            customer_id = owner.id if isinstance(owner, _NewCustomer) else owner
            complaints.append(self._complaint(row, pk, reference, customer_id, now))
            data = {
                "source": self.mapping.source,
                "source_id": row.source_id,
                "file": self.name,
                "row": row.number,
                "job": self.job.pk if self.job is not None else None,
                "triage": triage.summary(row.reading),
            }
            events.append(
                t[Event].row(
                    id=event_id,
                    complaint_id=pk,
                    kind="imported",
                    actor_id=self.actor_id,
                    at=now,
                    to_state=row.state,
                    customer_visible=False,
                    data=data,
                )
            )
            tokens = self._tokens(reference, row, customers.known)
            documents.append(t[SearchDocument].row(complaint_id=pk, tokens=tokens))
            imported.append(
                t[ImportedRow].row(
                    id=imported_id,
                    source=self.mapping.source,
                    source_id=row.source_id,
                    complaint_id=pk,
                )
            )
        t[Complaint].write(complaints)
        t[Event].write(events)
        t[SearchDocument].write(documents)
        t[ImportedRow].write(imported)

    def _complaint(
        self, row: _Row, pk: int, reference: str, customer_id: Any, now: datetime
    ) -> list[Any]:
        i = row.incoming
        assert row.reading is not None
        due = deadlines.initial(row.received_at)
        closed = row.state == State.CLOSED
        ended = row.state in (State.RESOLVED, State.CLOSED)
        return self.tables[Complaint].row(
            id=pk,
            reference=reference,
            tracking_token_hash="",
            customer_id=customer_id,
            language=i.language,
            channel=i.channel,
            subject=i.subject,
            description=i.description,
            occurred_at=i.occurred_at,
            store_id=row.store.id if row.store else None,
            product=i.product,
            order_ref=i.order_ref,
            amount=i.amount,
            demand=i.demand,
            demand_detail=i.demand_detail,
            **triage.triage_fields(row.reading),
            # The old system's people chose it: a label the classifier may learn from.
            category_confirmed=bool(i.assessment.category),
            state=row.state,
            closure=Closure.RESOLVED if closed else "",
            resolution=row.resolution,
            received_at=row.received_at,
            ack_due=due.ack_due,
            first_contact_due=due.first_contact_due,
            resolve_due=due.resolve_due,
            resolved_at=row.closed_at if ended else None,
            closed_at=row.closed_at if closed else None,
            updated_at=now,
        )

    def _tokens(self, reference: str, row: _Row, known: dict[int, dict[str, Any]]) -> str:
        """The search row's tokens, as search.services.document_text() puts a complaint's parts
        (tokens never cross the spaces between parts, so they can be made part by part)."""
        customer = row.customer
        if isinstance(customer, _NewCustomer):
            name, phone, email = customer.name, customer.phone, customer.email
        else:
            assert isinstance(customer, int)
            values = known[customer]
            name = values["name"] or row.incoming.name
            phone = values["phone"] or row.incoming.phone
            email = values["email"] or row.incoming.email
        digits = row.phone_digits if phone == row.incoming.phone else national_digits(phone)
        tail = [name, email, digits if phone else "", row.store.name_zh if row.store else ""]
        return (
            " ".join([*document_tokens(reference), row.tokens, *document_tokens(" ".join(tail))])
            .replace("  ", " ")
            .strip()
        )

    def _count_for_known(self, rows: list[_Row], customers: _Customers) -> None:
        """Existing customers: count their imported complaints; fill a name, phone or email
        they lack (find_or_create_customer does the same). Sorted: one lock order."""
        by_customer: dict[int, list[_Row]] = {}
        for row in rows:
            if isinstance(row.customer, int):
                by_customer.setdefault(row.customer, []).append(row)
        if not by_customer:
            return
        added: dict[int, dict[str, str]] = {}
        for owner, kind, value in customers.added:
            added.setdefault(owner, {}).setdefault(kind, value)
        convert = _sqlite_time if connection.vendor != "postgresql" else (lambda v: v)
        params = []
        for pk in sorted(by_customer):
            mine = by_customer[pk]
            latest = convert(max(r.received_at for r in mine))
            values = customers.known[pk]
            name = next((r.incoming.name for r in mine if r.incoming.name), "")
            phone = added.get(pk, {}).get(ContactKind.PHONE, "")
            email = added.get(pk, {}).get(ContactKind.EMAIL, "")
            params.append([len(mine), latest, latest, name, phone, email, pk])
            # What the search rows of this batch show of them.
            values["name"] = values["name"] or name
            values["phone"] = values["phone"] or phone
            values["email"] = values["email"] or email
        table = connection.ops.quote_name(Customer._meta.db_table)
        with connection.cursor() as cursor:
            cursor.executemany(
                f"UPDATE {table} SET complaint_count = complaint_count + %s, "  # noqa: S608
                # An imported old complaint must not move "last complaint" back in time.
                "last_complaint_at = CASE WHEN last_complaint_at IS NULL "
                "OR last_complaint_at < %s THEN %s ELSE last_complaint_at END, "
                "name = CASE WHEN name = '' THEN %s ELSE name END, "
                "phone = CASE WHEN phone = '' THEN %s ELSE phone END, "
                "email = CASE WHEN email = '' THEN %s ELSE email END WHERE id = %s",
                params,
            )

    def _references(self, rows: list[_Row]) -> list[str]:
        """KS-YYYYMMDD-NNNNNN of each row's received day, from live intake's own day counters.

        One upsert per batch takes a block of numbers for every day the batch touches (days in
        order: two imports lock them in the same order).
        """
        days = [timezone.localdate(row.received_at) for row in rows]
        wanted = Counter(days)
        last: dict[str, int] = {}
        table = "complaints_referencecounter"
        postgres = connection.vendor == "postgresql"
        ordered = sorted(wanted)
        for chunk in _chunks(ordered, 300):
            values = ", ".join(["(%s, %s)"] * len(chunk))
            params: list[Any] = []
            for day in chunk:
                params += [day if postgres else day.isoformat(), wanted[day]]
            with connection.cursor() as cursor:
                cursor.execute(
                    f"INSERT INTO {table} (day, last) VALUES {values} "  # noqa: S608 - constant
                    f"ON CONFLICT (day) DO UPDATE SET last = {table}.last + excluded.last "
                    "RETURNING day, last",
                    params,
                )
                for day, number in cursor.fetchall():
                    last[str(day)] = number
        # Hand each day's block out in the batch's order.
        following = {day: last[str(day)] - wanted[day] for day in wanted}
        references = []
        for day in days:
            following[day] += 1
            references.append(f"KS-{day:%Y%m%d}-{following[day]:06d}")
        return references


def _name(model: type[models.Model]) -> str:
    return connection.ops.quote_name(model._meta.db_table)


def _key(customer: int | _NewCustomer) -> object:
    return customer if isinstance(customer, int) else ("new", id(customer))


def _text(incoming: IncomingComplaint) -> str:
    return triage.text_of(incoming.subject, incoming.description, incoming.demand_detail)


def _predict_all(texts: list[str]) -> Iterator[Prediction | None]:
    """The active category classifier's answer for each text, read as one matrix.

    The same numbers as the one-text path (classifier.Loaded.predict), with scikit-learn's
    per-call overhead paid once per batch. No model, or a failing one: None for each.
    """
    try:
        loaded = classifier.active(triage.CATEGORY_MODEL)
        if loaded is None or not texts:
            return iter([None] * len(texts))
        matrix = loaded.pipeline.named_steps["features"].transform(texts).tocsr()
        scores = np.asarray(matrix @ loaded.coef.T) + loaded.intercept
        if scores.shape[1] == 1:  # two labels: one score, for the second
            scores = np.column_stack([-scores[:, 0], scores[:, 0]])
        z = loaded.scale * scores
        z -= z.max(axis=1, keepdims=True)
        probabilities = np.exp(z)
        probabilities /= probabilities.sum(axis=1, keepdims=True)
    except Exception:  # a broken model must never cost an import
        log.exception("The category classifier failed; the import goes on without it.")
        return iter([None] * len(texts))
    return _predictions(loaded, matrix, probabilities)


def _predictions(
    loaded: classifier.Loaded, matrix: Any, probabilities: np.ndarray
) -> Iterator[Prediction]:
    for i in range(matrix.shape[0]):
        best = int(probabilities[i].argmax())
        start, end = matrix.indptr[i], matrix.indptr[i + 1]
        columns, values = matrix.indices[start:end], matrix.data[start:end].astype(np.float64)
        if not len(columns):
            yield Prediction(loaded.classes[best], 0.0, (), loaded.label)
            continue
        coef = loaded.coef
        weights = coef[0] * (1 if best == 1 else -1) if len(coef) == 1 else coef[best]
        contributions = values * weights[columns]
        order = np.argsort(-contributions)[:5]
        words = [loaded._term(int(columns[j])) for j in order if contributions[j] > 0]
        yield Prediction(
            loaded.classes[best],
            float(probabilities[i, best]),
            tuple(dict.fromkeys(w for w in words if w)),
            loaded.label,
        )


# --- Jobs: the admin's uploads, run in the background --------------------------------------------


def queue_import(
    *,
    upload: File[Any],
    name: str,
    mapping: ImportMapping,
    raw_mapping: dict[str, Any],
    dry_run: bool,
    user: User,
) -> ImportJob:
    """Check the file's header against the mapping, store the file and queue the import."""
    opened = open_source(_raw(upload), name, whole=False)
    check_columns(mapping, opened.header)
    upload.seek(0)
    job = ImportJob(
        original_name=name[:200],
        mapping=raw_mapping,
        dry_run=dry_run,
        total_rows=opened.total,
        created_by=user,
    )
    job.file.save(PurePath(name).name[-100:] or "import", upload, save=False)
    job.save()
    return job


def _raw(upload: File[Any]) -> IO[bytes]:
    # The file object itself: io.TextIOWrapper wants a real binary file, not Django's proxy.
    return cast(IO[bytes], getattr(upload, "file", None) or upload)


def queue_again(job: ImportJob, *, dry_run: bool | None = None, user: User) -> ImportJob:
    """A new run of a job's file and mapping (a dry run for real, or a run that stopped)."""
    return ImportJob.objects.create(
        file=job.file.name,
        original_name=job.original_name,
        mapping=job.mapping,
        dry_run=job.dry_run if dry_run is None else dry_run,
        total_rows=job.total_rows,
        created_by=user,
    )


def _claimable(now: datetime) -> Q:
    """Queued, or running without a heartbeat for STALE_AFTER: its worker died (a restart)."""
    stale = now - STALE_AFTER
    return Q(state=ImportState.QUEUED) | Q(
        Q(heartbeat_at__lt=stale) | Q(heartbeat_at__isnull=True, started_at__lt=stale),
        state=ImportState.RUNNING,
    )


def _claim() -> ImportJob | None:
    """Take the oldest queued (or abandoned) job; two workers never take the same one."""
    with transaction.atomic():
        now = timezone.now()
        job = (
            ImportJob.objects.select_for_update(skip_locked=True)
            .filter(_claimable(now))
            .order_by("created_at", "pk")
            .first()
        )
        if job is None:
            return None
        if job.state == ImportState.RUNNING:
            log.warning("import %s: its worker stopped beating; running it again", job.pk)
        # The conditional update is the guard where FOR UPDATE does not exist (SQLite, whose
        # IMMEDIATE transaction already lets one writer in at a time).
        if not ImportJob.objects.filter(_claimable(now), pk=job.pk).update(
            state=ImportState.RUNNING, started_at=now, heartbeat_at=now
        ):
            return None
        job.state, job.started_at, job.heartbeat_at = ImportState.RUNNING, now, now
        return job


def run_pending_imports(limit: int | None = None) -> int:
    """Run queued imports one after another (at most `limit`); the number run."""
    count = 0
    while limit is None or count < limit:
        job = _claim()
        if job is None:
            break
        run_job(job)
        count += 1
    return count


def run_job(job: ImportJob) -> Outcome | None:
    """Run one claimed job to its end; its state says how it went (failed: the message why)."""
    outcome = None
    try:
        mapping = read_mapping(job.mapping)
        with job.file.open("rb") as handle:
            outcome = import_file(
                _raw(handle),
                name=job.original_name,
                mapping=mapping,
                dry_run=job.dry_run,
                actor=job.created_by,
                job=job,
            )
        state, message = ImportState.DONE, outcome.message
    except InvalidInput as error:
        state, message = ImportState.FAILED, error.detail
    except Exception as error:
        log.exception("import %s failed", job.pk)
        state = ImportState.FAILED
        message = _(
            "Stopped by an error: %(error)s. The batches before it are imported; run it "
            "again to complete it."
        ) % {"error": error}
    changes: dict[str, Any] = {"state": state, "message": message, "finished_at": timezone.now()}
    if outcome is not None:
        changes.update(total_rows=outcome.done, errors=outcome.errors)
    ImportJob.objects.filter(pk=job.pk).update(**changes)
    return outcome


def errors_csv(job: ImportJob) -> str:
    """A job's kept bad rows as CSV (row, column, reason), for a spreadsheet."""
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow([_("row"), _("column"), _("reason")])
    for problem in job.errors or []:
        writer.writerow([problem.get("row"), problem.get("column"), problem.get("reason")])
    return "\ufeff" + out.getvalue()  # the BOM tells Excel it is UTF-8
