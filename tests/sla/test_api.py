"""Clocks, extensions and risk alerts through the REST API."""

from __future__ import annotations

import threading
from datetime import UTC, datetime, timedelta

import pytest
import time_machine
from django.db import connection

from kesu.complaints.models import Event
from kesu.sla.jobs import sweep
from kesu.sla.models import Clock

MONDAY = datetime(2026, 6, 1, 2, 0, tzinfo=UTC)


@pytest.mark.django_db
def test_a_complaint_carries_its_policy_clocks_and_alert(api, receive_public):
    with time_machine.travel(MONDAY, tick=False):
        complaint = receive_public(description="再不退款就去12315投诉").complaint
    admin = api("admin")
    record = admin.get(f"/api/complaints/{complaint.reference}").json()
    assert record["alert_level"] == 3 and record["update_due"]
    sla = record["sla"]
    assert sla["alerted_flags"] == ["regulator"] and sla["policy"]
    clocks = {c["target"]: c for c in sla["clocks"]}
    assert set(clocks) == {"acknowledge", "first_contact", "update", "resolve", "expert"}
    assert clocks["expert"]["due_at"].startswith("2026-06-01T02:10")
    listed = admin.get("/api/complaints").json()["items"][0]
    assert listed["alert_level"] == 3
    # The expert acknowledges through the API; the event has the kind the issue names.
    answer = api("chen").post(f"/api/complaints/{complaint.reference}/actions/acknowledge_alert",
                              {"note": "已处理"})  # fmt: skip
    assert answer.status_code == 200, answer.content
    assert Event.objects.filter(complaint=complaint, kind="risk_alert_acknowledged").exists()
    assert admin.get(f"/api/complaints/{complaint.reference}").json()["alert_level"] == 0


@pytest.mark.django_db
def test_extension_through_the_api_names_a_bad_value(api, make_complaint, people):
    complaint = make_complaint(actor=people["wang"], channel="regulator")
    li = api("li")
    url = f"/api/complaints/{complaint.reference}/actions/extend"
    bad = li.post(url, {"allowed": "45d", "reason": "等报告"})
    assert bad.status_code == 422
    assert bad.json()["errors"][0]["field"] == "allowed"
    missing = li.post(url, {"allowed": "30d"})
    assert missing.status_code == 422 and missing.json()["errors"][0]["field"] == "reason"
    good = li.post(url, {"allowed": "30d", "reason": "需要第三方检测"})
    assert good.status_code == 200, good.content
    assert Clock.objects.get(complaint=complaint, target="resolve").extended


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_two_sweeps_at_once_record_each_warning_once(receive_public):
    if connection.vendor != "postgresql":
        pytest.skip("row locks with SKIP LOCKED need PostgreSQL (SQLite serialises writers)")
    with time_machine.travel(MONDAY, tick=False):
        complaints = [receive_public(email=f"k{i}@example.com").complaint for i in range(40)]
    later = MONDAY + timedelta(days=20)
    results = []

    def run() -> None:
        try:
            results.append(sweep(now=later, limit=1000))
        finally:
            connection.close()

    sweeps = [threading.Thread(target=run) for _ in range(2)]
    for thread in sweeps:
        thread.start()
    for thread in sweeps:
        thread.join()
    ids = [c.pk for c in complaints]
    warnings = Event.objects.filter(complaint_id__in=ids, kind="sla_warning")
    # Four clocks each (acknowledge, first contact, update, resolve) warned once, no more.
    assert warnings.count() == 4 * 40
    assert sum(r.warnings for r in results) == 4 * 40
    assert Event.objects.filter(complaint_id__in=ids, kind="sla_breach").count() == 4 * 40
