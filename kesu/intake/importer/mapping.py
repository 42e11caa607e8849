"""The mapping of a file's columns to Kesu's fields: its keys, their checks, the words it knows."""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from django.conf import settings
from django.utils.translation import gettext as _

from kesu.complaints.models import Channel, State
from kesu.errors import FieldError, InvalidInput

# Mapping keys: the fields of a complaint an import can fill.
REQUIRED = ("source_id", "description", "received_at")
# What parse_incoming() checks, as intake does for staff.
PARSED = (
    "description", "subject", "name", "phone", "email", "channel", "order_ref", "product",
    "amount", "nature", "category", "grade", "priority", "demand", "occurred_at", "language",
)  # fmt: skip
FIELDS = (*REQUIRED, *(f for f in PARSED if f not in REQUIRED), "store", "state", "closed_at",
          "resolution", "department", "assignee")  # fmt: skip
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
