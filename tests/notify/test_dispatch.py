"""Delivery of the outbox: sent after commit, retried with back-off, never twice."""

from __future__ import annotations

from datetime import timedelta

import pytest
import time_machine
from django.core import mail
from django.utils import timezone

from kesu.notify import jobs
from kesu.notify.models import OutboxMessage, OutboxStatus
from kesu.notify.services import retry

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
