"""Celery for Kesu at scale: workers run the same job functions as the embedded loop.

`make worker` starts a worker with beat (CELERY_BROKER_URL, e.g. redis://127.0.0.1:6379/0).
Beat only says when; the jobs are idempotent and claim their rows with SKIP LOCKED, so any
number of workers may run them at once (docs/deployment.md).
"""

from __future__ import annotations

import os

from celery import Celery

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "kesu.settings")

app = Celery("kesu")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks(["kesu.notify", "kesu.sla", "kesu.surveys", "kesu.intake", "kesu.triage"])
