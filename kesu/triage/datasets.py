"""Labelled texts from a CSV file, for training and evaluating classifiers."""

from __future__ import annotations

import csv
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from django.core.management.base import CommandParser
from django.utils.translation import gettext as _

from kesu.errors import InvalidInput

csv.field_size_limit(10_000_000)


def read_labelled_csv(
    path: str | Path,
    *,
    text_column: str = "text",
    label_column: str = "label",
    drop_labels: Iterable[str] = (),
) -> tuple[list[str], list[str], int]:
    """(texts, labels, rows skipped) from a UTF-8 CSV with a header row.

    Rows with an empty text or label, or a label in `drop_labels`, are skipped and counted.
    Raises InvalidInput naming the file or the column that is wrong.
    """
    file = Path(path)
    if not file.is_file():
        raise InvalidInput.one("data", _("No such file: %(path)s.") % {"path": str(file)})
    dropped = set(drop_labels)
    texts: list[str] = []
    labels: list[str] = []
    skipped = 0
    try:
        with file.open(encoding="utf-8-sig", newline="") as handle:
            reader = csv.DictReader(handle)
            columns = reader.fieldnames or []
            for name, option in ((text_column, "--text-column"), (label_column, "--label-column")):
                if name not in columns:
                    raise InvalidInput.one(
                        option,
                        _("%(path)s has no column %(name)s; its columns are: %(columns)s.")
                        % {"path": file.name, "name": repr(name), "columns": ", ".join(columns)},
                    )
            for row in reader:
                text = (row.get(text_column) or "").strip()
                label = (row.get(label_column) or "").strip()
                if not text or not label or label in dropped:
                    skipped += 1
                    continue
                texts.append(text)
                labels.append(label)
    except UnicodeDecodeError:
        raise InvalidInput.one(
            "data", _("%(path)s is not UTF-8 text.") % {"path": file.name}
        ) from None
    except csv.Error as error:
        raise InvalidInput.one(
            "data",
            _("%(path)s is not a readable CSV file: %(error)s")
            % {"path": file.name, "error": error},
        ) from None
    return texts, labels, skipped


def add_csv_options(parser: CommandParser, *, data_required: bool) -> None:
    """The options of the commands that read labelled texts from a CSV file."""
    parser.add_argument("--data", required=data_required, help="UTF-8 CSV file with a header row")
    parser.add_argument("--text-column", default="text")
    parser.add_argument("--label-column", default="label")
    parser.add_argument("--drop-label", action="append", default=[],
                        help="skip rows with this label (repeatable), e.g. unknown")  # fmt: skip


def read_csv_options(options: dict[str, Any]) -> tuple[list[str], list[str], int]:
    """read_labelled_csv() with the options add_csv_options() declared."""
    return read_labelled_csv(
        options["data"],
        text_column=options["text_column"],
        label_column=options["label_column"],
        drop_labels=options["drop_label"],
    )
