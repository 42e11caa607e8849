"""Reading a source file: CSV (UTF-8 or GB18030) or XLSX, its header and its cells as text."""

from __future__ import annotations

import codecs
import csv
import io
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from datetime import datetime
from pathlib import PurePath
from typing import IO, Any

from django.utils.translation import gettext as _

from kesu.errors import FieldError, InvalidInput
from kesu.intake.importer.mapping import ImportMapping


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
