"""Escalation risk (E3): scored at intake, as the case moves, and when a deadline passes."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from kesu.complaints.events import describe
from kesu.complaints.models import Complaint, Event
from kesu.complaints.workflow import perform
from kesu.intake.services import parse_incoming, receive, receive_message
from kesu.notify.models import Notification
from kesu.triage import risk
from kesu.triage.jobs import rescore_risks
from tests.conftest import walk

pytestmark = pytest.mark.django_db

THREAT = "电水壶漏水烫伤了孩子，再不解决我就打１２３１５并找媒体曝光！"


def facts(**changes) -> risk.Facts:
    base = {"flags": frozenset(), "level": 0, "emotion": "calm", "tier": "regular",
            "profile": "", "earlier": 0, "escalated_before": 0}  # fmt: skip
    return risk.Facts(**{**base, **changes})


@pytest.mark.parametrize(
    ("changes", "score", "level", "codes"),
    [
        ({}, 0, "low", []),
        ({"flags": frozenset({"regulator", "media"})}, 30, "medium", ["threat"]),
        ({"rejections": 1, "reopens": 1}, 45, "medium", ["rejected", "reopened"]),
        ({"rejections": 3}, 45, "medium", ["rejected"]),  # 25 + 10 + 10, capped at two more
        ({"rejections": 1, "overdue": True, "transfers": 3, "emotion": "angry"}, 75, "high",
         ["rejected", "overdue", "many_transfers", "angry"]),
        ({"transfers": 1, "earlier": 1, "tier": "vip"}, 20, "low", ["repeat", "vip"]),
        ({"escalated_before": 1, "profile": "publicity_power", "late_contact": True}, 55,
         "medium", ["late_contact", "escalated_before", "publicity_power"]),
        ({"level": 2, "flags": frozenset({"legal", "safety", "group"}), "earlier": 3,
          "emotion": "threatening"}, 100, "high",
         ["threat", "threatens", "safety", "group", "repeats", "threatening"]),  # 120, capped
        ({"level": 3}, 100, "high", ["outside"]),
    ],
)  # fmt: skip
def test_the_points(changes, score, level, codes) -> None:
    found = risk.assess(facts(**changes))
    assert (found.score, found.level) == (score, level)
    assert [r["code"] for r in found.reasons] == codes


def test_intake_scores_the_threat_and_the_customers_history(make_complaint, people) -> None:
    first = make_complaint()
    assert (first.risk_level, first.risk_score, first.risk_reasons) == ("low", 0, [])
    assert first.risk_scored_at is not None
    perform(first, "escalate", people["li"], level=2, reason="客户称要找律师")
    again = make_complaint(description=THREAT)  # the same customer (phone) writes again
    codes = {r["code"] for r in again.risk_reasons}
    assert {"threat", "safety", "escalated_before", "repeat"} <= codes
    assert again.risk_level == "high" and again.risk_score >= 60


def test_a_rejected_remedy_raises_the_risk_and_tells_the_handler_and_manager(
    in_department, people
) -> None:
    complaint = in_department(description="快递三天没到，客服不回复，我要投诉到12315。")
    assert complaint.risk_level == "medium"  # the threat: 30
    remedy = {"remedy_type": "refund", "remedy_amount": "50", "remedy_description": "退运费"}
    walk(complaint, [("investigate", people["zhao"], {}),
                     ("propose_remedy", people["zhao"], remedy)])  # fmt: skip
    event = perform(complaint, "customer_reject", people["li"], reason="不接受，要全额退款")
    complaint.refresh_from_db()
    assert (complaint.risk_level, complaint.risk_score) == ("medium", 55)
    assert "risk" not in event.data  # the level did not change
    perform(complaint, "propose_remedy", people["zhao"], **remedy)
    event = perform(complaint, "customer_reject", people["li"], reason="还是不接受")
    complaint.refresh_from_db()
    assert (complaint.risk_level, complaint.risk_score) == ("high", 65)
    assert event.data["risk"] == {"from": "medium", "to": "high", "score": 65}
    assert "Escalation risk Medium → High (score 65)." in describe(event)
    told = set(Notification.objects.filter(kind="escalation_risk").values_list(
        "user__username", flat=True))  # fmt: skip
    assert told == {"zhao", "li"}  # the handler and after-sales' manager
    assert Event.objects.filter(complaint=complaint, kind="escalation_risk").count() == 0


def test_the_job_scores_again_when_a_deadline_passes(in_department) -> None:
    complaint = in_department()
    assert complaint.risk_level == "low"
    later = timezone.now() + timedelta(days=30)
    assert risk.rescore_overdue(now=later) == 1
    complaint.refresh_from_db()
    assert {r["code"] for r in complaint.risk_reasons} == {"overdue", "late_contact"}
    assert (complaint.risk_level, complaint.risk_score) == ("medium", 30)
    event = Event.objects.get(complaint=complaint, kind="escalation_risk")
    assert event.data == {"from": "low", "to": "medium", "score": 30, "trigger": "deadline"}
    assert risk.rescore_overdue(now=later) == 0  # scored after both deadlines: nothing to do
    assert not Notification.objects.filter(kind="escalation_risk").exists()  # medium: no one


def test_complaints_never_scored_are_scored_by_the_job(in_department) -> None:
    complaint = in_department(description=THREAT)
    Complaint.objects.filter(pk=complaint.pk).update(
        risk_scored_at=None, risk_score=0, risk_level="low", risk_reasons=[]
    )  # as after the migration, for complaints from before it
    Notification.objects.all().delete()  # those of its assignment (high from intake)
    assert rescore_risks() == 1
    complaint.refresh_from_db()
    assert complaint.risk_level == "high" and complaint.risk_scored_at is not None
    # Scored for the first time, not risen: no event, nobody told (an upgrade would page all).
    assert not Event.objects.filter(complaint=complaint, kind="escalation_risk").exists()
    assert not Notification.objects.filter(kind="escalation_risk").exists()


def test_what_the_customer_writes_again_can_raise_it(receive_public) -> None:
    complaint = receive_public(description="快递三天没到，客服不回复。").complaint
    assert complaint.risk_level == "low"
    receive_message(complaint, text="再不处理我就打12315，还要发到网上，我要找律师起诉你们")
    complaint.refresh_from_db()
    assert complaint.risk_level in ("medium", "high")
    changed = Event.objects.get(complaint=complaint, kind="escalation_risk")
    assert changed.data["from"] == "low" and changed.data["trigger"] == "customer_message"


def test_the_queue_api_and_case_page_show_it(api, client, in_department, people) -> None:
    high = in_department(description=THREAT)
    low = in_department()
    found = api("admin").get("/api/complaints", risk="high").json()
    assert [c["reference"] for c in found["items"]] == [high.reference]
    assert found["items"][0]["risk_level"] == "high"
    detail = api("admin").get(f"/api/complaints/{high.reference}").json()
    assert detail["triage"]["risk_headline"].startswith(f"High ({high.risk_score}): mentions")
    assert {r["code"] for r in detail["triage"]["risk_reasons"]} >= {"threat", "safety"}
    bad = api("admin").get("/api/complaints", risk="severe")
    assert bad.status_code == 422 and bad.json()["errors"][0]["field"] == "risk"
    assert api("admin").get("/api/complaints", risk="low").json()["total"] == 1
    client.force_login(people["li"])
    page = client.get(f"/work/c/{high.reference}/", headers={"Accept-Language": "zh-hans"})
    assert 'data-testid="escalation-risk"' in page.content.decode()
    assert "risk-high" in page.content.decode()
    queue = client.get("/work/?queue=all&state=&risk=high").content.decode()
    assert high.reference in queue and low.reference not in queue


def test_deadlines_a_message_moves_count_at_once(people) -> None:
    twelve_days_ago = timezone.now() - timedelta(days=12)
    incoming = parse_incoming(
        {"description": "快递一直没到，客服也不回复。", "name": "刘女士", "phone": "13800138000"},
        staff=False,
    )
    complaint = receive(incoming, actor=None, received_at=twelve_days_ago).complaint
    assert "overdue" not in {r["code"] for r in complaint.risk_reasons}
    receive_message(complaint, text="再不处理我就打12315投诉你们")  # a stricter policy: 7 days
    complaint.refresh_from_db()
    assert complaint.resolve_due < timezone.now()
    assert {"threat", "overdue"} <= {r["code"] for r in complaint.risk_reasons}
    event = Event.objects.get(complaint=complaint, kind="escalation_risk")
    assert event.data["trigger"] == "customer_message"


def test_a_case_high_from_intake_is_told_to_whoever_gets_it(in_department) -> None:
    complaint = in_department(description=THREAT)  # high at intake, then assigned
    assert complaint.risk_level == "high"
    told = Notification.objects.filter(kind="escalation_risk", complaint=complaint)
    assert set(told.values_list("user__username", flat=True)) == {"zhao", "li"}


def test_a_merged_duplicate_is_not_history(make_complaint, people) -> None:
    first = make_complaint()
    twin = make_complaint()
    perform(twin, "escalate", people["li"], level=2, reason="扬言找律师")
    perform(twin, "merge", people["li"], target=first.reference)
    again = make_complaint()
    codes = {r["code"] for r in again.risk_reasons}
    # Both earlier complaints count as complaining again; the twin's threat was the first's.
    assert "escalated_before" not in codes and "repeats" in codes


def test_a_profile_reaches_the_customers_other_open_complaints(make_complaint, people) -> None:
    first = make_complaint()
    second = make_complaint()  # the same customer (phone)
    before = Complaint.objects.get(pk=first.pk).risk_score
    perform(second, "profile", people["wang"], profile="publicity_power", reason="自称记者")
    first.refresh_from_db()
    assert first.risk_score == before + 20
    assert "publicity_power" in {r["code"] for r in first.risk_reasons}
    perform(second, "escalate", people["li"], level=2, reason="扬言找媒体")
    first.refresh_from_db()
    assert "escalated_before" in {r["code"] for r in first.risk_reasons}


def test_an_action_on_a_never_scored_complaint_records_no_rise(in_department, people) -> None:
    complaint = in_department(description=THREAT)
    Complaint.objects.filter(pk=complaint.pk).update(risk_scored_at=None, risk_level="low")
    event = perform(complaint, "note", people["zhao"], text="已致电客户")
    complaint.refresh_from_db()
    assert complaint.risk_level == "high" and complaint.risk_scored_at is not None
    assert "risk" not in event.data  # it was never low: it had no score
