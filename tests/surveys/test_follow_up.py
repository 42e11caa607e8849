"""Follow-up after resolution (L8): the survey, reopening, callbacks, the satisfaction rate;
and the customer's own decision on a proposed remedy (L7)."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
import time_machine
from django.utils import timezone

from kesu.complaints.models import Complaint, Event
from kesu.errors import InvalidInput, NotAllowed
from kesu.notify.models import Notification, OutboxMessage
from kesu.surveys.jobs import follow_up
from kesu.surveys.models import CallbackTask, Survey
from kesu.surveys.selectors import satisfaction
from kesu.surveys.services import answer_survey, record_callback, survey_for_customer
from tests.conftest import walk

pytestmark = pytest.mark.django_db


def proposed(in_department, people) -> Complaint:
    complaint = in_department()
    return walk(complaint, [
        ("investigate", people["zhao"], {}),
        ("propose_remedy", people["zhao"], {"remedy_type": "refund", "remedy_amount": "99",
                                            "remedy_description": "全额退款"}),
    ])  # fmt: skip


def resolved(in_department, people) -> Complaint:
    complaint = proposed(in_department, people)
    return walk(complaint, [
        ("customer_accept", people["li"], {}),
        ("resolve", people["zhao"], {"responsibility": "ours", "root_cause": "出库漏检",
                                     "corrective_action": "出库逐件检查"}),
    ])  # fmt: skip


def link_of(complaint: Complaint) -> tuple[str, str]:
    """The survey link the "resolved" message carried: (reference, code)."""
    message = OutboxMessage.objects.get(complaint=complaint, kind="resolved")
    found = re.search(r"/survey/(KS-\d{8}-\d{6})/\?t=([\w-]+)", message.body)
    assert found, message.body
    return found.group(1), found.group(2)


def state(complaint: Complaint) -> str:
    return Complaint.objects.get(pk=complaint.pk).state


def test_resolving_sends_a_survey_link_and_a_happy_answer_closes(in_department, people):
    complaint = resolved(in_department, people)
    survey = survey_for_customer(*link_of(complaint))
    assert survey.state == "waiting"
    answer_survey(survey, resolved=True, score=5, comment="处理得很快，谢谢")
    closed = Complaint.objects.get(pk=complaint.pk)
    assert (closed.state, closed.closure, closed.satisfaction) == ("closed", "resolved", 5)
    answered = Event.objects.get(complaint=complaint, kind="survey_answered")
    assert answered.customer_visible and answered.data["score"] == 5
    assert Event.objects.get(complaint=complaint, kind="close").actor is None


@pytest.mark.parametrize(("solved", "score"), [(False, 4), (True, 2), (True, 1)])
def test_not_solved_or_a_low_score_reopens_and_tells_the_people(in_department, people, solved,
                                                                 score):  # fmt: skip
    complaint = resolved(in_department, people)
    survey = survey_for_customer(*link_of(complaint))
    answer_survey(survey, resolved=solved, score=score, comment="还是漏水")
    assert state(complaint) == "investigating"
    reopen = Event.objects.get(complaint=complaint, kind="reopen")
    assert reopen.actor is None and "还是漏水" in reopen.data["reason"]
    told = set(Notification.objects.filter(kind="survey_unsatisfied")
               .values_list("user__username", flat=True))  # fmt: skip
    assert told == {"zhao", "li"}


def test_bad_answers_are_named_and_a_survey_is_answered_once(in_department, people):
    complaint = resolved(in_department, people)
    survey = survey_for_customer(*link_of(complaint))
    with pytest.raises(InvalidInput) as bad:
        answer_survey(survey, resolved="maybe", score=6, comment="x" * 2001)
    assert [e.field for e in bad.value.errors] == ["resolved", "score", "comment"]
    assert state(complaint) == "resolved"  # nothing changed
    answer_survey(survey, resolved=True, score=4, comment="")
    with pytest.raises(NotAllowed):
        answer_survey(survey, resolved=False, score=1, comment="")


def test_the_survey_page_and_api(client, api, in_department, people):
    complaint = resolved(in_department, people)
    reference, code = link_of(complaint)
    assert client.get(f"/survey/{reference}/", {"t": "wrong"}).status_code == 404
    page = client.get(f"/survey/{reference}/", {"t": code})
    assert page.status_code == 200 and b'data-testid="survey"' in page.content
    missing = client.post(f"/survey/{reference}/?t={code}", {"resolved": "yes"})
    assert b"errors" in missing.content and state(complaint) == "resolved"
    done = client.post(f"/survey/{reference}/?t={code}", {"resolved": "yes", "score": "4"})
    assert done.status_code == 302 and state(complaint) == "closed"
    again = api(None).post(f"/api/public/complaints/{reference}/survey?t={code}",
                           {"resolved": False, "score": 1})  # fmt: skip
    assert again.status_code == 409


def test_a_survey_nobody_answers_becomes_a_callback_for_the_least_busy_agent(in_department,
                                                                             people):  # fmt: skip
    complaint = resolved(in_department, people)
    later = timezone.now() + timedelta(days=3, minutes=1)
    assert follow_up(now=later).callbacks == 1
    assert follow_up(now=later).callbacks == 0  # idempotent
    task = CallbackTask.objects.get(complaint=complaint)
    assert task.assignee == people["wang"] and task.survey.state == "callback"
    assert Notification.objects.filter(user=people["wang"], kind="callback").exists()
    assert Event.objects.filter(complaint=complaint, kind="callback_created").exists()


@pytest.mark.parametrize(
    ("outcome", "score", "note", "after"),
    [
        ("reached_satisfied", 5, "", "closed"),
        ("reached_unsatisfied", 2, "退款还没到账", "investigating"),
        ("unreachable", None, "", "closed"),
    ],
)
def test_callback_outcomes(in_department, people, outcome, score, note, after):
    complaint = resolved(in_department, people)
    follow_up(now=timezone.now() + timedelta(days=4))
    task = CallbackTask.objects.get(complaint=complaint)
    record_callback(task, actor=people["wang"], outcome=outcome, score=score, note=note)
    assert state(complaint) == after
    done = Event.objects.get(complaint=complaint, kind="callback_done")
    assert done.actor == people["wang"] and done.data["outcome"] == outcome
    with pytest.raises(NotAllowed):
        record_callback(task, actor=people["wang"], outcome="unreachable")


def test_callback_input_is_checked(in_department, people):
    complaint = resolved(in_department, people)
    follow_up(now=timezone.now() + timedelta(days=4))
    task = CallbackTask.objects.get(complaint=complaint)
    with pytest.raises(InvalidInput) as bad:
        record_callback(task, actor=people["wang"], outcome="reached_unsatisfied", score=9)
    assert {e.field for e in bad.value.errors} == {"score", "note"}
    with pytest.raises(InvalidInput):
        record_callback(task, actor=people["wang"], outcome="maybe")


def test_a_callback_not_made_in_time_closes_the_case(in_department, people):
    complaint = resolved(in_department, people)
    follow_up(now=timezone.now() + timedelta(days=4))
    result = follow_up(now=timezone.now() + timedelta(days=7))
    assert result.timed_out == 1 and state(complaint) == "closed"
    assert Event.objects.get(complaint=complaint, kind="callback_done").data["timed_out"]


def test_the_satisfaction_rate_counts_each_complaint_by_its_latest_answer(in_department, people):
    happy, unhappy, silent = (resolved(in_department, people) for _ in range(3))
    answer_survey(survey_for_customer(*link_of(happy)), resolved=True, score=5, comment="")
    answer_survey(survey_for_customer(*link_of(unhappy)), resolved=False, score=2, comment="")
    report = satisfaction(people["li"])
    total = report.total
    assert (total.resolved, total.responded, total.satisfied) == (3, 2, 1)
    assert total.satisfaction_rate == 50 and round(total.response_rate or 0) == 67
    assert [r.label for r in report.handlers] == ["赵敏"] and report.goal == 90
    # A silent one's callback that reaches a satisfied customer counts too.
    follow_up(now=timezone.now() + timedelta(days=4))
    record_callback(CallbackTask.objects.get(complaint=silent), actor=people["wang"],
                    outcome="reached_satisfied", score=4)  # fmt: skip
    assert satisfaction(people["li"]).total.satisfied == 2


def test_the_report_and_callback_pages(client, people, in_department):
    complaint = resolved(in_department, people)
    follow_up(now=timezone.now() + timedelta(days=4))
    client.force_login(people["zhao"])
    assert client.get("/work/reports/satisfaction/").status_code == 404
    client.force_login(people["li"])
    assert b'data-testid="satisfaction-total"' in client.get("/work/reports/satisfaction/").content
    client.force_login(people["wang"])
    listed = client.get("/work/callbacks/").content.decode()
    assert complaint.reference in listed
    task = CallbackTask.objects.get(complaint=complaint)
    client.post(f"/work/callbacks/{task.pk}/", {"outcome": "reached_satisfied", "score": "5"})
    assert state(complaint) == "closed"


def test_the_customer_decides_on_the_tracking_page(client, people, make_complaint):
    received = None
    with time_machine.travel(timezone.now(), tick=False):
        from kesu.intake.services import parse_incoming, receive

        raw = {"description": "电水壶漏水", "phone": "13800138000"}
        received = receive(parse_incoming(raw, staff=False), actor=None)
    complaint = walk(received.complaint, [
        ("acknowledge", people["wang"], {}),
        ("assign", people["li"], {"department": "after_sales", "assignee": "zhao"}),
        ("investigate", people["zhao"], {}),
        ("propose_remedy", people["zhao"], {"remedy_type": "replacement",
                                            "remedy_description": "换新"}),
    ])  # fmt: skip
    url = f"/track/{complaint.reference}/?token={received.tracking_token}"
    page = client.get(url).content.decode()
    assert 'data-testid="decision"' in page and "换新" in page
    refused = client.post(url, {"decision": "reject", "reason": ""})
    assert refused.status_code == 422 and state(complaint) == "awaiting_customer"
    client.post(url, {"decision": "reject", "reason": "我要退款不要换货"})
    assert state(complaint) == "investigating"
    rejected = Event.objects.get(complaint=complaint, kind="customer_reject")
    assert rejected.actor is None and rejected.data["reason"] == "我要退款不要换货"


def test_the_customer_decides_through_the_api(api, people):
    from kesu.intake.services import parse_incoming, receive

    received = receive(parse_incoming({"description": "空调不制冷", "phone": "13800138001"},
                                      staff=False), actor=None)  # fmt: skip
    complaint = walk(received.complaint, [
        ("acknowledge", people["wang"], {}),
        ("assign", people["li"], {"department": "after_sales", "assignee": "zhao"}),
        ("investigate", people["zhao"], {}),
        ("propose_remedy", people["zhao"], {"remedy_type": "repair",
                                            "remedy_description": "上门维修"}),
    ])  # fmt: skip
    base = f"/api/public/complaints/{complaint.reference}/decision"
    public = api(None)
    assert public.post(f"{base}?token=wrong", {"accept": True}).status_code == 404
    assert public.post(f"{base}?token={received.tracking_token}",
                       {"accept": False}).status_code == 422  # fmt: skip
    accepted = public.post(f"{base}?token={received.tracking_token}", {"accept": True})
    assert accepted.status_code == 200
    assert Complaint.objects.get(pk=complaint.pk).remedy_status == "accepted"
    again = public.post(f"{base}?token={received.tracking_token}", {"accept": True})
    assert again.status_code == 409  # nothing waits for an answer any more
    assert Survey.objects.count() == 0
