"""Celery's handle on intake's periodic work; the work is intake.jobs."""

from __future__ import annotations

from celery import shared_task

from kesu.intake import jobs


@shared_task(name="kesu.intake.purge_idempotency_keys", ignore_result=True)
def purge_idempotency_keys() -> int:
    return jobs.purge_idempotency_keys()


@shared_task(name="kesu.intake.poll_mailboxes", ignore_result=True)
def poll_mailboxes() -> int:
    return jobs.poll_mailboxes()


@shared_task(name="kesu.intake.run_imports", ignore_result=True)
def run_imports() -> int:
    return jobs.run_imports()


@shared_task(name="kesu.intake.pull_wecom_messages", ignore_result=True)
def pull_wecom_messages() -> int:
    return jobs.pull_wecom_messages()


@shared_task(name="kesu.intake.fetch_pending_media", ignore_result=True)
def fetch_pending_media() -> int:
    return jobs.fetch_pending_media()


@shared_task(name="kesu.intake.pull_all_wecom_messages", ignore_result=True)
def pull_all_wecom_messages() -> int:
    return jobs.pull_all_wecom_messages()
