"""Clocks, alerts and notifications as people see them: case page, bell, inbox, outbox."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
import time_machine
from django.conf import settings

from kesu.accounts.models import User
from kesu.complaints.models import Event
from kesu.notify.models import Notification, OutboxMessage, OutboxStatus
from kesu.sla.jobs import sweep

pytestmark = pytest.mark.django_db
MONDAY = datetime(2026, 6, 1, 2, 0, tzinfo=UTC)


def test_the_case_page_shows_each_clock_and_the_open_alert(client, people, receive_public):
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "en"
    with time_machine.travel(MONDAY, tick=False):
        complaint = receive_public(description="我要向市场监管局举报你们").complaint
        client.force_login(people["chen"])
        page = client.get(f"/work/c/{complaint.reference}/").content.decode()
    assert 'data-testid="risk-alert"' in page and "acknowledge_alert" in page
    for target in ("acknowledge", "first_contact", "update", "resolve", "expert"):
        assert f'data-target="{target}"' in page
    assert "due in 10 min" in page  # the expert's ten minutes (E4)
    # The auditor sees the alert but has no button to acknowledge it.
    client.force_login(people["sun"])
    page = client.get(f"/work/c/{complaint.reference}/").content.decode()
    assert 'data-testid="risk-alert"' in page and 'data-action="acknowledge_alert"' not in page


def test_acknowledging_the_alert_through_the_page(client, people, receive_public):
    complaint = receive_public(description="已经联系了记者，准备曝光").complaint
    client.force_login(people["chen"])
    response = client.post(f"/work/c/{complaint.reference}/do/acknowledge_alert/",
                           {"note": "已电话安抚，专家跟进"})  # fmt: skip
    assert response.status_code in (200, 302)
    page = client.get(f"/work/c/{complaint.reference}/").content.decode()
    assert 'data-testid="risk-alert"' not in page
    assert "Risk alert acknowledged" in page or "风险预警已确认" in page


def test_the_bell_counts_unread_and_opening_the_case_reads_them(client, people, receive_public):
    complaint = receive_public(description="孩子吃了以后过敏住院").complaint
    client.force_login(people["chen"])
    queue = client.get("/work/").content.decode()
    assert 'data-testid="bell"' in queue and '<span class="count">1</span>' in queue
    inbox = client.get("/work/notifications/").content.decode()
    assert complaint.reference in inbox
    client.get(f"/work/c/{complaint.reference}/")
    assert not Notification.objects.filter(user=people["chen"], read_at__isnull=True).exists()
    assert '<span class="count">' not in client.get("/work/").content.decode()


def test_mark_all_read(client, people, receive_public):
    receive_public(description="我要去法院起诉")
    client.force_login(people["chen"])
    assert client.post("/work/notifications/read/").status_code == 302
    assert not Notification.objects.filter(read_at__isnull=True).exists()


def test_people_choose_email_and_sms_and_bad_values_are_named(client, people):
    client.force_login(people["zhao"])
    bad = client.post("/work/me/notifications/", {"email": "not-an-email", "mobile": "12",
                                                  "notify_by_sms": "on"})  # fmt: skip
    text = bad.content.decode()
    assert bad.status_code == 200 and "not-an-email" in text and "12" in text
    zhao = User.objects.get(username="zhao")
    assert not zhao.notify_by_sms  # nothing saved
    good = client.post("/work/me/notifications/", {"email": "zhao@example.com",
                                                   "mobile": "139 0013 9000",
                                                   "notify_by_email": "on",
                                                   "notify_by_sms": "on"})  # fmt: skip
    assert good.status_code == 302
    zhao.refresh_from_db()
    assert (zhao.email, zhao.mobile, zhao.notify_by_sms) == ("zhao@example.com",
                                                            "+8613900139000", True)  # fmt: skip


def test_warnings_reach_people_on_the_channels_they_chose(people, in_department):
    zhao = people["zhao"]
    zhao.email, zhao.mobile, zhao.notify_by_sms = "zhao@example.com", "+8613900139000", True
    zhao.save()
    with time_machine.travel(MONDAY, tick=False):
        complaint = in_department()
    sweep(now=MONDAY + timedelta(days=12))  # past 75 % of the 15 days
    warnings = Event.objects.filter(complaint=complaint, kind="sla_warning").count()
    sent = OutboxMessage.objects.filter(complaint=complaint, kind="sla_warning")
    assert warnings >= 1 and sent.count() == 2 * warnings  # one email and one SMS each
    assert set(sent.values_list("channel", "recipient")) == {
        ("email", "zhao@example.com"), ("sms", "+8613900139000"),
    }  # fmt: skip
    assert all(complaint.reference in m.subject for m in sent.filter(channel="email"))


def test_undelivered_messages_are_listed_for_managers_who_send_them_again(client, people):
    dead = OutboxMessage.objects.create(channel="email", kind="acknowledgement",
                                        recipient="x@example.com", body="…",
                                        status=OutboxStatus.DEAD, attempts=8,
                                        last_error="SMTPRecipientsRefused: 550 no such user",
                                        next_attempt_at=MONDAY)  # fmt: skip
    client.force_login(people["zhao"])
    assert client.get("/work/outbox/").status_code == 404
    assert client.post("/work/outbox/retry/").status_code == 404
    client.force_login(people["li"])
    page = client.get("/work/outbox/").content.decode()
    assert "550 no such user" in page and "x@example.com" in page
    assert client.post("/work/outbox/retry/", {"message": [dead.pk]}).status_code == 302
    dead.refresh_from_db()
    assert dead.status == OutboxStatus.PENDING
