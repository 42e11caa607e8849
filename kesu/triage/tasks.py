"""Celery's handle on triage's periodic work; the work is in triage.jobs."""

from __future__ import annotations

from celery import shared_task

from kesu.triage import jobs


@shared_task(name="kesu.triage.rescore_risks", ignore_result=True)
def rescore_risks() -> int:
    return jobs.rescore_risks()
