"""The embedded background loop: runs the periodic jobs inside the `serve` process.

At scale the same job functions run in separate processes (`manage.py run_jobs`, or Celery
workers); they are idempotent and safe to run in several processes at once.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass

from django.db import close_old_connections, transaction

log = logging.getLogger(__name__)

_wake = threading.Event()


@dataclass(frozen=True)
class Job:
    name: str
    run: Callable[[], object]
    every_seconds: float  # 0: on every turn of the loop


def jobs() -> list[Job]:
    from django.conf import settings

    from kesu.intake.jobs import (
        fetch_pending_media,
        poll_mailboxes,
        pull_all_wecom_messages,
        pull_wecom_messages,
        purge_idempotency_keys,
        start_imports,
    )
    from kesu.jobs import refresh_statistics
    from kesu.notify.jobs import dispatch
    from kesu.sla.jobs import sweep
    from kesu.surveys.jobs import follow_up
    from kesu.triage.jobs import rescore_risks

    return [
        Job("notify.dispatch", dispatch, 0),
        # Warnings, breaches, the chain and alert time-outs: seconds late at most.
        Job("sla.sweep", sweep, 10),
        Job("surveys.follow_up", follow_up, 60),
        # E3: the escalation risk of complaints a deadline passed (and of those never scored).
        Job("triage.rescore_risks", rescore_risks, 60),
        Job("intake.poll_mailboxes", poll_mailboxes, settings.KESU_MAIL_EVERY),
        # WeCom customer service: what pushes announced (woken by them), and a safety net.
        Job("intake.pull_wecom_messages", pull_wecom_messages, 5),
        Job("intake.pull_all_wecom_messages", pull_all_wecom_messages, 300),
        # WeChat official accounts: the files that pushes announced (woken by them).
        Job("intake.fetch_pending_media", fetch_pending_media, 5),
        # Queued imports run in a thread of their own (the loop does not wait for them).
        Job("intake.start_imports", start_imports, 10),
        Job("intake.purge_idempotency_keys", purge_idempotency_keys, 3600),
        Job("db.refresh_statistics", refresh_statistics, 3600),
    ]


def wake_after_commit() -> None:
    """Ask the loop to run now, once the current transaction has committed (no-op elsewhere)."""
    transaction.on_commit(_wake.set)


def run_once(last_run: dict[str, float]) -> None:
    now = time.monotonic()
    for job in jobs():
        if now - last_run.get(job.name, float("-inf")) < job.every_seconds:
            continue
        last_run[job.name] = now
        try:
            job.run()
        except Exception:
            log.exception("job %s failed", job.name)


def loop(interval: float, stop: threading.Event) -> None:
    last_run: dict[str, float] = {}
    while not stop.is_set():
        _wake.clear()
        # A long-lived loop drops connections that are broken or past CONN_MAX_AGE, as a
        # request would; never inside run_once, which may run in a caller's transaction.
        close_old_connections()
        run_once(last_run)
        close_old_connections()
        _wake.wait(interval)


def start_in_background(interval: float) -> threading.Event:
    """Start the loop in a daemon thread; set the returned event to stop it."""
    stop = threading.Event()
    thread = threading.Thread(target=loop, args=(interval, stop), name="kesu-jobs", daemon=True)
    thread.start()
    return stop
