"""Celery's handle on the outbox dispatcher; the work is notify.jobs.dispatch()."""

from __future__ import annotations

from celery import shared_task

from kesu.notify import jobs


@shared_task(name="kesu.notify.dispatch", ignore_result=True)
def dispatch() -> int:
    return jobs.dispatch().sent
