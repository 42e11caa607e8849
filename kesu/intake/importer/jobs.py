"""Import jobs: the admin's uploads, queued, claimed and run in the background."""

from __future__ import annotations

import csv
import io
import logging
from datetime import datetime, timedelta
from pathlib import PurePath
from typing import IO, Any, cast

from django.core.files.base import File
from django.db import transaction
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext as _

from kesu.accounts.models import User
from kesu.errors import InvalidInput
from kesu.intake.importer.files import check_columns, open_source
from kesu.intake.importer.mapping import ImportMapping, read_mapping
from kesu.intake.importer.writer import Outcome, import_file
from kesu.intake.models import ImportJob, ImportState

log = logging.getLogger(__package__)  # the package's logger, kesu.intake.importer

# A running job whose batches stopped for this long lost its worker and is taken again.
STALE_AFTER = timedelta(minutes=15)


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
