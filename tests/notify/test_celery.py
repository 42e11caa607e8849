"""A real Celery worker with beat, on the Redis server, delivers the outbox (issue: SLA).

The worker is started as `make worker` starts it (`celery -A kesu worker --beat`), in its
own process with its own database file, migrated for the occasion; nothing is sent to it by
hand: beat schedules the dispatch, the worker claims the row and posts it to a DingTalk-style
robot that is a local HTTP sink on 127.0.0.1.
"""

from __future__ import annotations

import os
import socket
import sqlite3
import subprocess
import sys
import uuid
from pathlib import Path

import pytest

from tests.httpsink import Sink

ROOT = Path(__file__).resolve().parents[2]
BIN = Path(sys.executable).parent
REDIS = ("127.0.0.1", 6379)

SETUP = """
from django.utils import timezone
from kesu.notify.models import NotifyGroup, OutboxMessage, Robot
group = NotifyGroup.objects.get(code="escalation")
robot = Robot.objects.create(group=group, channel="dingtalk", name="值班群", webhook="{url}",
                             secret="SEC-test")
OutboxMessage.objects.create(channel="dingtalk", kind="risk_alert", robot=robot, recipient="值班群",
                             subject="风险预警 KS-TEST", body="客户扬言找媒体曝光",
                             next_attempt_at=timezone.now())
"""


def redis_is_up() -> bool:
    try:
        with socket.create_connection(REDIS, timeout=1):
            return True
    except OSError:
        return False


@pytest.mark.skipif(
    not redis_is_up() and not os.environ.get("KESU_REDIS_REQUIRED"),
    reason="needs the Redis server on 127.0.0.1:6379 (CI sets KESU_REDIS_REQUIRED and fails)",
)
def test_a_celery_worker_with_beat_delivers_an_outbox_row(tmp_path: Path) -> None:
    env = {
        **{k: v for k, v in os.environ.items() if k != "DATABASE_URL"},
        "DJANGO_SETTINGS_MODULE": "kesu.settings",
        "DATABASE_URL": f"sqlite:///{tmp_path / 'kesu.sqlite3'}",
        "KESU_VAR_DIR": str(tmp_path),
        "KESU_SECRET_KEY": "celery-test-secret-key-0123456789abcdef0123456789",
        "CELERY_BROKER_URL": f"redis://{REDIS[0]}:{REDIS[1]}/0",
        # A queue of this run's own, so that no other worker on the server takes the task.
        "KESU_CELERY_QUEUE": f"kesu-test-{uuid.uuid4().hex}",
        "KESU_DISPATCH_EVERY": "1",
        "no_proxy": "*",
    }

    def manage(*args: str) -> None:
        subprocess.run([sys.executable, "manage.py", *args], cwd=ROOT, env=env, check=True,
                       capture_output=True, timeout=120)  # fmt: skip

    manage("migrate", "--no-input")
    with Sink() as sink:
        manage("shell", "-c", SETUP.format(url=f"{sink.url}/robot/send?access_token=t"))
        worker = subprocess.Popen(
            [str(BIN / "celery"), "-A", "kesu", "worker", "--beat", "--pool", "solo",
             "--loglevel", "warning", "--schedule", str(tmp_path / "beat-schedule")],
            cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
        )  # fmt: skip
        try:
            received = sink.wait_for(1, timeout=60)
        finally:
            worker.terminate()
            output = worker.communicate(timeout=30)[0].decode(errors="replace")
    body = received[0].json()
    assert body["msgtype"] == "markdown" and "客户扬言找媒体曝光" in body["markdown"]["text"]
    assert received[0].query.get("sign"), output  # signed with the robot's secret
    with sqlite3.connect(tmp_path / "kesu.sqlite3") as db:
        status, answer = db.execute(
            "SELECT status, provider_response FROM notify_outboxmessage"
        ).fetchone()
    assert status == "sent" and "errcode" in answer
