"""Celery's handle on follow-up; the work is surveys.jobs.follow_up()."""

from __future__ import annotations

from celery import shared_task

from kesu.surveys import jobs


@shared_task(name="kesu.surveys.follow_up", ignore_result=True)
def follow_up() -> int:
    result = jobs.follow_up()
    return result.callbacks + result.timed_out
