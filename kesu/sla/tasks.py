"""Celery's handle on the SLA sweep; the work is sla.jobs.sweep()."""

from __future__ import annotations

from celery import shared_task

from kesu.sla import jobs


@shared_task(name="kesu.sla.sweep", ignore_result=True)
def sweep() -> int:
    return jobs.sweep().clocks
