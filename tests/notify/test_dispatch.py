"""Delivery of the outbox: sent after commit, retried with back-off, never twice."""

from __future__ import annotations

import threading
from datetime import timedelta

import pytest
import time_machine
from django.core import mail
from django.db import connection
from django.utils import timezone

from kesu.notify import jobs
from kesu.notify.models import NotifyGroup, OutboxMessage, OutboxStatus, Robot
from kesu.notify.services import retry
from tests.httpsink import Sink

pytestmark = pytest.mark.django_db


def test_acknowledgement_is_queued_not_sent_in_the_request(api) -> None:
    body = (
        api(None)
        .post(
            "/api/public/complaints",
            {"description": "蛋糕里吃出头发", "email": "guest@example.com", "language": "en"},
        )
        .json()
    )
    assert mail.outbox == []  # nothing sent inside the request
    message = OutboxMessage.objects.get()
    assert message.status == OutboxStatus.PENDING
    result = jobs.dispatch()
    assert (result.sent, result.failed) == (1, 0)
    assert len(mail.outbox) == 1
    sent = mail.outbox[0]
    assert sent.to == ["guest@example.com"]
    assert body["reference"] in sent.subject
    assert body["tracking_token"] in sent.body
    message.refresh_from_db()
    assert message.status == OutboxStatus.SENT and message.attempts == 1
    assert jobs.dispatch().sent == 0  # nothing is sent twice


def test_chinese_customer_gets_a_chinese_acknowledgement(api) -> None:
    api(None).post(
        "/api/public/complaints", {"description": "蛋糕里吃出头发", "email": "zh@example.com"}
    )
    jobs.dispatch()
    assert "投诉" in mail.outbox[0].subject


def test_failures_are_retried_with_back_off_then_given_up(receive_public, monkeypatch) -> None:
    receive_public()

    def broken(self, fail_silently=False):
        raise ConnectionRefusedError("SMTP server down")

    monkeypatch.setattr("django.core.mail.EmailMessage.send", broken)
    start = timezone.now()
    with time_machine.travel(start, tick=False):
        assert jobs.dispatch().failed == 1
        message = OutboxMessage.objects.get()
        assert message.status == OutboxStatus.RETRYING
        assert "SMTP server down" in message.last_error
        assert jobs.dispatch().failed == 0  # not due yet
    moment = start
    for _ in range(jobs.MAX_ATTEMPTS):
        moment += timedelta(hours=2)
        with time_machine.travel(moment, tick=False):
            jobs.dispatch()
    message.refresh_from_db()
    assert message.status == OutboxStatus.DEAD
    assert message.attempts == jobs.MAX_ATTEMPTS
    monkeypatch.undo()
    assert retry(OutboxMessage.objects.all()) == 1
    assert jobs.dispatch().sent == 1


def test_a_claim_left_by_a_crashed_dispatcher_is_taken_again(receive_public) -> None:
    receive_public()
    claimed = jobs._claim(10, timezone.now())
    assert len(claimed) == 1
    assert jobs._claim(10, timezone.now()) == []  # claimed rows are not handed out twice
    later = timezone.now() + jobs.CLAIM_FOR + timedelta(seconds=1)
    with time_machine.travel(later, tick=False):
        assert jobs.dispatch().sent == 1


def test_sms_goes_through_the_log_provider(receive_public, caplog) -> None:
    receive_public(email="", phone="13512345678")
    with caplog.at_level("INFO", logger="kesu.notify.jobs"):
        assert jobs.dispatch().sent == 1
    assert "+8613512345678" in caplog.text


def _robot(channel: str, url: str, secret: str = "") -> Robot:
    group = NotifyGroup.objects.get(code="escalation")
    return Robot.objects.create(group=group, channel=channel, name=f"{channel}群", webhook=url,
                                secret=secret)  # fmt: skip


def _for_robot(robot: Robot, n: int = 1) -> list[OutboxMessage]:
    return OutboxMessage.objects.bulk_create(
        OutboxMessage(channel=robot.channel, kind="risk_alert", robot=robot,
                      recipient=robot.name, subject=f"风险预警 {i}", body="客户要找记者",
                      next_attempt_at=timezone.now())
        for i in range(n)
    )  # fmt: skip


@pytest.mark.parametrize("channel", ["dingtalk", "wecom", "feishu"])
def test_robots_deliver_through_their_webhooks(channel) -> None:
    with Sink() as sink:
        sink.respond(body={"errcode": 0, "errmsg": "ok", "code": 0})
        robot = _robot(channel, f"{sink.url}/hook?key=k", secret="" if channel == "wecom" else "S")
        [message] = _for_robot(robot)
        assert jobs.dispatch().sent == 1
        request = sink.wait_for(1)[0]
    assert "客户要找记者" in request.body.decode()
    message.refresh_from_db()
    assert message.status == OutboxStatus.SENT and "200" in message.provider_response


def test_a_robots_refusal_is_kept_and_retried(monkeypatch) -> None:
    with Sink() as sink:
        sink.respond(body={"errcode": 310000, "errmsg": "sign not match"})
        robot = _robot("dingtalk", f"{sink.url}/robot/send?access_token=t", secret="WRONG")
        [message] = _for_robot(robot)
        assert jobs.dispatch().failed == 1
    message.refresh_from_db()
    assert message.status == OutboxStatus.RETRYING and message.attempts == 1
    assert message.last_error == "errcode 310000: sign not match"
    assert "WRONG" not in message.last_error
    # A robot switched off since: the message fails for that reason, visibly.
    Robot.objects.filter(pk=robot.pk).update(is_active=False)
    OutboxMessage.objects.filter(pk=message.pk).update(next_attempt_at=timezone.now())
    jobs.dispatch()
    message.refresh_from_db()
    assert "switched off" in message.last_error


def test_sms_goes_through_the_http_gateway(settings, receive_public) -> None:
    with Sink() as sink:
        settings.KESU_SMS_PROVIDER, settings.KESU_SMS_HTTP_URL = "http", f"{sink.url}/sms"
        settings.KESU_SMS_HTTP_TOKEN = "tok"
        receive_public(email="", phone="13800138000")
        assert jobs.dispatch().sent == 1
        request = sink.wait_for(1)[0]
    assert request.json()["to"] == "+8613800138000"
    assert request.headers["authorization"] == "Bearer tok"


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_two_dispatchers_at_once_never_send_a_row_twice() -> None:
    if connection.vendor != "postgresql":
        pytest.skip("row locks with SKIP LOCKED need PostgreSQL (SQLite serialises writers)")
    with Sink() as sink:
        robot = _robot("wecom", f"{sink.url}/hook")
        _for_robot(robot, 120)
        done: list[int] = []

        def run() -> None:
            try:
                while (result := jobs.dispatch(limit=10)).sent:
                    done.append(result.sent)
            finally:
                connection.close()

        workers = [threading.Thread(target=run) for _ in range(2)]
        for worker in workers:
            worker.start()
        for worker in workers:
            worker.join()
        received = sink.requests
    subjects = [r.json()["markdown"]["content"].split("\n")[0] for r in received]
    assert len(subjects) == 120 and len(set(subjects)) == 120  # each once, none twice
    assert sum(done) == 120
    assert OutboxMessage.objects.filter(status=OutboxStatus.SENT).count() == 120
