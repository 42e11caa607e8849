"""Clocks of a complaint: policies, pauses, extensions, warnings, breaches and the chain."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
import time_machine

from kesu.complaints.models import Complaint, Event
from kesu.complaints.workflow import perform
from kesu.errors import Forbidden, InvalidInput, NotAllowed
from kesu.notify.models import Notification, NotifyGroup, OutboxMessage
from kesu.sla.jobs import sweep
from kesu.sla.models import Calendar, Clock, Policy

pytestmark = pytest.mark.django_db
SHANGHAI = ZoneInfo("Asia/Shanghai")
MONDAY = datetime(2026, 6, 1, 2, 0, tzinfo=UTC)  # 10:00 in Shanghai


def kinds(complaint: Complaint) -> list[str]:
    return list(Event.objects.filter(complaint=complaint).order_by("at", "pk")
                .values_list("kind", flat=True))  # fmt: skip


def clock(complaint: Complaint, target: str) -> Clock:
    return Clock.objects.get(complaint=complaint, target=target)


def test_the_first_matching_policy_sets_the_targets(receive_public, make_complaint, people):
    with time_machine.travel(MONDAY, tick=False):
        ordinary = receive_public().complaint
        threat = receive_public(description="再不退款我就打12315投诉").complaint
        vip = make_complaint(actor=people["wang"], customer_tier="vip")
        referral = make_complaint(actor=people["wang"], channel="regulator", phone="13900001111")
    assert ordinary.policy.is_default
    assert (ordinary.ack_due - MONDAY, ordinary.resolve_due - MONDAY) == (
        timedelta(hours=2), timedelta(days=15),
    )  # fmt: skip
    # A regulator signal makes it high risk: acknowledge in 15 minutes, first contact in 2 h.
    assert threat.policy.risk == "high"
    assert (threat.ack_due - MONDAY, threat.first_contact_due - MONDAY) == (
        timedelta(minutes=15), timedelta(hours=2),
    )  # fmt: skip
    assert vip.policy.tiers == "vip" and vip.first_contact_due - MONDAY == timedelta(hours=8)
    assert referral.policy.resolve_extendable_to == "30d"
    assert sorted(Clock.objects.filter(complaint=ordinary).values_list("target", flat=True)) == [
        "acknowledge", "first_contact", "resolve", "update",
    ]  # fmt: skip


def test_business_hours_policy_counts_working_time_across_the_spring_festival(receive_public):
    office = Calendar.objects.get(code="office")
    Policy.objects.filter(is_default=True).update(calendar=office, first_contact="2d",
                                                  acknowledge="4h")  # fmt: skip
    # Friday 13 February 2026, 17:00 in Shanghai: the eve of nine days off, with a make-up
    # working Saturday on the 14th.
    received = datetime(2026, 2, 13, 17, 0, tzinfo=SHANGHAI)
    with time_machine.travel(received, tick=False):
        complaint = receive_public().complaint
    assert complaint.ack_due == datetime(2026, 2, 14, 12, 0, tzinfo=SHANGHAI)  # 1 h + 3 h
    # Two working days (16 h): 1 h on Friday, 8 h on the make-up Saturday, 7 h on the 24th.
    assert complaint.first_contact_due == datetime(2026, 2, 24, 17, 0, tzinfo=SHANGHAI)


def test_meeting_a_target_stops_its_clock_and_an_update_restarts_its_own(receive_public, people):
    with time_machine.travel(MONDAY, tick=False) as traveller:
        complaint = receive_public().complaint
        traveller.shift(timedelta(hours=1))
        perform(complaint, "acknowledge", people["wang"])
        assert clock(complaint, "acknowledge").stopped_at == MONDAY + timedelta(hours=1)
        assert clock(complaint, "acknowledge").next_check_at is None
        traveller.shift(timedelta(hours=5))
        perform(complaint, "contact", people["wang"], method="phone", reached=False,
                summary="未接通")  # fmt: skip
        assert clock(complaint, "first_contact").stopped_at is None  # not reached: still due
        perform(complaint, "contact", people["wang"], method="phone", reached=True,
                summary="已联系客户，说明处理进度")  # fmt: skip
    complaint.refresh_from_db()
    assert clock(complaint, "first_contact").stopped_at == MONDAY + timedelta(hours=6)
    # The customer heard from us at 16:00: the next update is due 48 h from then.
    assert complaint.update_due == MONDAY + timedelta(hours=6 + 48)


def test_awaiting_the_customer_pauses_resolution_and_updates(in_department, people):
    with time_machine.travel(MONDAY, tick=False) as traveller:
        complaint = in_department()
        due = Complaint.objects.get(pk=complaint.pk).resolve_due
        perform(complaint, "investigate", people["zhao"])
        perform(complaint, "propose_remedy", people["zhao"], remedy_type="refund",
                remedy_amount="99", remedy_description="全额退款")  # fmt: skip
        assert clock(complaint, "resolve").paused_at == MONDAY
        assert clock(complaint, "resolve").next_check_at is None
        # Three days later the customer answers: the clock resumes, three days later.
        traveller.shift(timedelta(days=3))
        perform(complaint, "customer_reject", people["li"], reason="金额不够")
    resolve = clock(complaint, "resolve")
    assert resolve.paused_at is None and resolve.paused_minutes == 3 * 24 * 60
    assert Complaint.objects.get(pk=complaint.pk).resolve_due == due + timedelta(days=3)
    assert resolve.next_check_at == resolve.warn_at


def test_a_regulatory_case_is_extended_with_a_recorded_approval(make_complaint, people):
    with time_machine.travel(MONDAY, tick=False):
        complaint = make_complaint(actor=people["wang"], channel="regulator")
        perform(complaint, "assign", people["li"], department="after_sales", assignee="zhao")
        with pytest.raises(Forbidden):
            perform(complaint, "extend", people["zhao"], allowed="30d", reason="等检测报告")
        for too_much in ("31d", "15d", "10d"):
            with pytest.raises(InvalidInput):
                perform(complaint, "extend", people["li"], allowed=too_much, reason="x")
        event = perform(complaint, "extend", people["li"], allowed="30d",
                        reason="需要第三方检测机构出具报告")  # fmt: skip
    complaint.refresh_from_db()
    assert complaint.resolve_due == MONDAY + timedelta(days=30)
    assert event.actor == people["li"] and event.customer_visible
    assert event.data["reason"] == "需要第三方检测机构出具报告"
    assert event.data["resolve_due"] == complaint.resolve_due.isoformat()
    told = OutboxMessage.objects.filter(complaint=complaint, kind="extended").get()
    assert "30" in told.body or "07-01" in told.body or "2026-07-01" in told.body


def test_an_ordinary_policy_allows_no_extension(in_department, people):
    complaint = in_department()
    with pytest.raises(NotAllowed, match="does not allow"):
        perform(complaint, "extend", people["li"], allowed="30d", reason="x")


def test_a_grade_raised_by_a_person_moves_every_deadline(in_department, people):
    with time_machine.travel(MONDAY, tick=False):
        complaint = in_department()
        event = perform(complaint, "classify", people["li"], grade="A")
    complaint.refresh_from_db()
    assert complaint.policy.grades == "A B"
    assert complaint.resolve_due == MONDAY + timedelta(days=7)
    assert event.data["policy"] == complaint.policy_id


def test_warnings_breaches_and_every_level_of_the_chain_are_recorded_once(in_department, people):
    executives = NotifyGroup.objects.get(code="executives")
    executives.members.add(people["admin"])
    with time_machine.travel(MONDAY, tick=False):
        complaint = in_department()
        perform(complaint, "contact", people["zhao"], method="phone", reached=True,
                summary="已联系")  # fmt: skip
    resolve = clock(complaint, "resolve")
    # 75 % of 15 days: the warning goes to the handler (level 1).
    at_warning = resolve.warn_at + timedelta(seconds=1)
    sweep(now=at_warning)
    sweep(now=at_warning)  # a second sweep records nothing twice
    levels = Event.objects.filter(complaint=complaint, kind="sla_escalation")
    warning = Event.objects.filter(complaint=complaint, kind="sla_warning")
    assert warning.filter(data__target="resolve").count() == 1
    assert [e.data["level"] for e in levels.filter(data__target="resolve")] == [1]
    assert Notification.objects.filter(user=people["zhao"], kind="sla_warning").exists()
    # The breach reaches the department's managers (level 2).
    at_breach = resolve.due_at + timedelta(seconds=1)
    sweep(now=at_breach)
    sweep(now=at_breach)
    assert Event.objects.filter(complaint=complaint, kind="sla_breach",
                                data__target="resolve").count() == 1  # fmt: skip
    assert Notification.objects.filter(user=people["li"], kind="sla_breach").exists()
    # A day later the expert group (level 3), which takes the case; three days, executives.
    sweep(now=at_breach + timedelta(days=1))
    complaint.refresh_from_db()
    assert complaint.assignee == people["chen"]
    sweep(now=at_breach + timedelta(days=3))
    sweep(now=at_breach + timedelta(days=3))
    resolve_levels = [e.data for e in levels.filter(data__target="resolve").order_by("pk")]
    assert [d["level"] for d in resolve_levels] == [1, 2, 3, 4]
    assert resolve_levels[2]["reassigned_to"] == "chen"
    assert resolve_levels[3]["notified"] == ["admin"]
    assert Notification.objects.filter(user=people["admin"], kind="sla_escalation").exists()
    assert clock(complaint, "resolve").next_check_at is None  # nothing left to do
    # A late customer update warns and breaches, but climbs no further than the managers.
    update_levels = levels.filter(data__target="update").values_list("data__level", flat=True)
    assert sorted(update_levels) == [1, 2]


def test_a_paused_or_stopped_clock_never_warns(in_department, people):
    with time_machine.travel(MONDAY, tick=False):
        complaint = in_department()
        perform(complaint, "investigate", people["zhao"])
        perform(complaint, "propose_remedy", people["zhao"], remedy_type="apology",
                remedy_description="书面道歉")  # fmt: skip
    result = sweep(now=MONDAY + timedelta(days=40))
    assert not Event.objects.filter(complaint=complaint, kind__startswith="sla_",
                                    data__target="resolve").exists()  # fmt: skip
    assert result.breaches >= 1  # the first-contact clock, never met, did breach


def test_a_risk_signal_alerts_the_expert_group_who_must_acknowledge(receive_public, people):
    with time_machine.travel(MONDAY, tick=False):
        complaint = receive_public(
            description="孩子用了你们的产品过敏住院，我要找媒体曝光"
        ).complaint
    complaint.refresh_from_db()
    alert = Event.objects.get(complaint=complaint, kind="risk_alert")
    assert set(alert.data["flags"]) == {"safety", "media"} and alert.data["level"] == 3
    assert alert.data["notified"] == ["chen"]  # the group is empty: every expert
    assert complaint.alert_raised_at == MONDAY and complaint.alert_level == 3
    assert clock(complaint, "expert").due_at == MONDAY + timedelta(minutes=10)
    assert Notification.objects.filter(user=people["chen"], kind="risk_alert").exists()
    with pytest.raises(Forbidden):
        perform(complaint, "acknowledge_alert", people["zhao"])
    with time_machine.travel(MONDAY + timedelta(minutes=4), tick=False):
        event = perform(complaint, "acknowledge_alert", people["chen"], note="我来跟进")
    assert event.kind == "risk_alert_acknowledged" and event.actor == people["chen"]
    assert clock(complaint, "expert").stopped_at == MONDAY + timedelta(minutes=4)
    sweep(now=MONDAY + timedelta(minutes=30))
    assert Event.objects.filter(complaint=complaint, kind="risk_alert").count() == 1
    with pytest.raises(NotAllowed, match="No risk alert"):
        perform(complaint, "acknowledge_alert", people["chen"])


def test_an_alert_nobody_acknowledges_goes_up_to_executives(receive_public, people):
    with time_machine.travel(MONDAY, tick=False):
        complaint = receive_public(description="我已经请了律师，准备起诉你们").complaint
    sweep(now=MONDAY + timedelta(minutes=9))
    assert Event.objects.filter(complaint=complaint, kind="risk_alert").count() == 1
    sweep(now=MONDAY + timedelta(minutes=10, seconds=1))
    sweep(now=MONDAY + timedelta(minutes=11))
    alerts = list(Event.objects.filter(complaint=complaint, kind="risk_alert").order_by("pk"))
    assert [a.data["level"] for a in alerts] == [3, 4]
    assert alerts[1].data["cause"] == "not_acknowledged"
    assert alerts[1].data["notified"] == ["admin"]  # no executives named: the administrators
    assert Complaint.objects.get(pk=complaint.pk).alert_level == 4
    # Acknowledging still closes it, at level 4.
    event = perform(complaint, "acknowledge_alert", people["admin"])
    assert event.data["level"] == 4


def test_later_words_raise_an_alert_once_per_new_signal(receive_public, people):
    received = receive_public(description="快递三天没到")
    complaint = received.complaint
    assert "risk_alert" not in kinds(complaint)
    from kesu.intake.services import receive_message

    receive_message(complaint, text="再不处理我就打１２３１５")
    receive_message(complaint, text="我说了要打12315")  # the same signal: no second alert
    assert kinds(complaint).count("risk_alert") == 1
    # A call note by staff that records a new threat alerts too (E2).
    perform(complaint, "note", people["wang"], text="客户电话里说已经联系了记者", internal=True)
    alerts = Event.objects.filter(complaint=complaint, kind="risk_alert").order_by("pk")
    assert [a.data["flags"] for a in alerts] == [["regulator"], ["media"]]
    assert alerts[1].data["cause"] == "note"
