"""`manage.py import_complaints FILE --mapping MAP.json`: history import from the command line."""

from __future__ import annotations

import csv
import sys
from collections.abc import Callable
from contextlib import ExitStack
from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from kesu.accounts.models import User
from kesu.errors import InvalidInput
from kesu.intake import importer

BAR = 30


class Command(BaseCommand):
    help = (
        "Import historical complaints from a CSV or XLSX file with a JSON column mapping "
        "(docs: kesu/intake/importer/__init__.py). Rows already imported from the same source are "
        "skipped, so a run that stopped is completed by running it again. Exit status 1: the "
        "mapping or the file is wrong and nothing was read."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("file", help="the .csv (UTF-8 or GBK/GB18030) or .xlsx file")
        parser.add_argument("--mapping", required=True, help="the JSON mapping file")
        parser.add_argument("--dry-run", action="store_true", help="check every row, write nothing")
        parser.add_argument("--batch-size", type=int, default=importer.BATCH_SIZE)
        parser.add_argument(
            "--workers",
            type=int,
            help="processes that read and triage rows (default: one per core but one, for "
            f"files of {importer.PARALLEL_FROM:,} rows or more; 0: none)",
        )
        parser.add_argument("--user", help="the user the import is recorded for (events)")
        parser.add_argument("--errors", help="write every bad row to this CSV file")

    _tenth = -1

    def handle(self, *args: Any, **options: Any) -> None:
        path = Path(options["file"])
        try:
            mapping = importer.load_mapping(Path(options["mapping"]).read_bytes())
        except OSError as error:
            raise CommandError(f"cannot read the mapping: {error}") from None
        except InvalidInput as error:
            raise CommandError(self._errors("the mapping is wrong", error)) from None
        actor = None
        if options["user"]:
            actor = User.objects.filter(username=options["user"], is_active=True).first()
            if actor is None:
                raise CommandError(f"no active user {options['user']!r}")
        try:
            with ExitStack() as files:
                writer = None
                if options["errors"]:
                    target = Path(options["errors"])
                    out = files.enter_context(target.open("w", encoding="utf-8-sig", newline=""))
                    writer = csv.writer(out)
                    writer.writerow(["row", "column", "reason"])
                handle = files.enter_context(path.open("rb"))
                outcome = importer.import_file(
                    handle,
                    name=path.name,
                    mapping=mapping,
                    dry_run=options["dry_run"],
                    batch_size=options["batch_size"],
                    actor=actor,
                    progress=self._progress,
                    on_problem=_writing(writer),
                    workers=options["workers"],
                )
        except OSError as error:
            raise CommandError(f"cannot read or write a file: {error}") from None
        except InvalidInput as error:
            raise CommandError(self._errors(f"cannot import {path.name}", error)) from None
        self.stderr.write("")
        self._summary(outcome, options)

    def _errors(self, what: str, error: InvalidInput) -> str:
        return what + ":\n" + "\n".join(f"  {e.field}: {e.message}" for e in error.errors)

    def _progress(self, outcome: importer.Outcome) -> None:
        done, total = outcome.done, outcome.total
        rate = done / outcome.seconds if outcome.seconds else 0.0
        if total:
            share = min(1.0, done / total)
            filled = int(BAR * share)
            text = f"[{'#' * filled}{'.' * (BAR - filled)}] {share:4.0%} {done:,}/{total:,} rows"
        else:
            text = f"{done:,} rows"
        text += f"  {rate:,.0f} rows/s"
        if sys.stderr.isatty():
            self.stderr.write("\r" + text, ending="")
        else:
            # A log, not a terminal: a line per tenth of the way.
            tenth = int(10 * done / total) if total else done // 100_000
            if tenth != self._tenth:
                self._tenth = tenth
                self.stderr.write(text)

    def _summary(self, outcome: importer.Outcome, options: dict[str, Any]) -> None:
        self.stdout.write(outcome.message)
        self.stdout.write(
            f"{outcome.kind}, {outcome.seconds:.1f} s"
            + (f", {outcome.done / outcome.seconds:,.0f} rows/s" if outcome.seconds else "")
        )
        shown = outcome.errors[:20]
        for problem in shown:
            self.stdout.write(f"  row {problem['row']}, {problem['column']}: {problem['reason']}")
        hidden = outcome.failed and len(outcome.errors) - len(shown)
        if hidden or outcome.failed > len(outcome.errors):
            more = (
                " (all of them in --errors)" if options["errors"] else "; --errors FILE lists all"
            )
            self.stdout.write(f"  … and more bad rows{more}.")


def _writing(writer: Any) -> Callable[[importer.Problem], None] | None:
    if writer is None:
        return None
    return lambda p: writer.writerow([p.row, p.column, p.reason])
