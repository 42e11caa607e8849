"""Triage inside receive(), and again when the customer writes (tracking page and API)."""

from __future__ import annotations

import pytest

from kesu.complaints.models import Complaint, Event, Flag
from kesu.complaints.workflow import perform
from kesu.errors import InvalidInput, NotAllowed
from kesu.intake.services import parse_incoming, receive, receive_message
from kesu.triage import services as triage_services
from kesu.triage.models import ClassifierModel

pytestmark = pytest.mark.django_db


def test_receive_triages_before_the_row_is_written(receive_public) -> None:
    received = receive_public(description="再不解决我就打１２３１５并找媒体曝光", amount="3000")
    complaint = Complaint.objects.get(pk=received.complaint.pk)
    assert set(complaint.flags.split()) == {Flag.REGULATOR, Flag.MEDIA}
    assert complaint.grade in ("A", "B") and complaint.priority == "P1"
    assert complaint.emotion == "threatening" and complaint.triage_score >= 60
    assert any(r["kind"] == "amount" for r in complaint.triage_reasons)
    # With no trained model and no category rule, nothing is guessed: a person decides.
    assert complaint.category == "" and complaint.needs_review
    received_event = Event.objects.get(complaint=complaint, kind="received")
    assert received_event.data["triage"]["flags"] == ["regulator", "media"]


def test_a_category_rule_sets_category_and_nature(receive_public) -> None:
    complaint = receive_public(description="商家发错货了，型号不对").complaint
    assert (complaint.category, complaint.nature) == ("wrong_item", "product_quality")
    assert not complaint.needs_review and not complaint.category_confirmed


def test_staff_assessment_is_kept_and_confirmed(people) -> None:
    raw = {
        "description": "我要打12315",
        "phone": "13900139000",
        "channel": "hotline",
        "category": "long_wait",
        "grade": "D",
    }
    complaint = receive(parse_incoming(raw, staff=True), actor=people["wang"]).complaint
    assert (complaint.category, complaint.nature, complaint.grade) == ("long_wait", "service", "D")
    assert complaint.category_confirmed and not complaint.needs_review


def test_unknown_taxonomy_codes_are_named(people) -> None:
    raw = {"description": "x", "phone": "13900139000", "channel": "hotline",
           "category": "nope", "nature": "service"}  # fmt: skip
    with pytest.raises(InvalidInput) as caught:
        parse_incoming(raw, staff=True)
    assert [e.field for e in caught.value.errors] == ["category"]
    raw.update(category="wrong_item")  # a product-quality category under "service"
    with pytest.raises(InvalidInput) as caught:
        parse_incoming(raw, staff=True)
    assert [e.field for e in caught.value.errors] == ["nature"]


def test_second_complaint_in_30_days_counts(receive_public) -> None:
    receive_public(description="快递三天没到")
    second = receive_public(description="快递还是没到").complaint
    assert Flag.REPEAT in second.flags.split()
    assert any(r["kind"] == "repeat" and r["within_30"] == 1 for r in second.triage_reasons)


def test_customer_message_retriages_and_raises(receive_public) -> None:
    complaint = receive_public(description="快递三天没到，客服不回复。").complaint
    assert complaint.flags == "" and complaint.grade == "E"
    receive_message(complaint, text="再不处理我就打12315，还要发到网上")
    complaint.refresh_from_db()
    assert {Flag.REGULATOR, Flag.MEDIA} <= set(complaint.flags.split())
    assert complaint.grade in ("A", "B", "C")
    kinds = list(
        Event.objects.filter(complaint=complaint).order_by("pk").values_list("kind", flat=True)
    )
    # The new regulator and media signals raise the escalation risk (E3) and alert the
    # escalation group (issue: SLA).
    assert kinds == ["received", "customer_message", "triaged", "escalation_risk", "risk_alert"]
    triaged = Event.objects.get(complaint=complaint, kind="triaged")
    assert triaged.data["trigger"] == "customer_message"
    assert triaged.data["changes"]["grade"][0] == "E"
    assert not triaged.customer_visible


def test_retriage_keeps_a_persons_decisions(receive_public, people) -> None:
    complaint = receive_public(description="快递三天没到").complaint
    perform(complaint, "classify", people["wang"], category="staff_attitude", grade="B")
    receive_message(complaint, text="还有，包装也破损了")
    complaint.refresh_from_db()
    assert complaint.category == "staff_attitude"  # confirmed: not replaced by the rule
    assert complaint.grade == "B"  # never lowered by triage


def test_messages_are_refused_when_empty_or_closed(receive_public, people) -> None:
    complaint = receive_public().complaint
    with pytest.raises(InvalidInput):
        receive_message(complaint, text="   ")
    perform(complaint, "mark_invalid", people["li"], reason="重复提交")
    with pytest.raises(NotAllowed):
        receive_message(complaint, text="还有一件事")
    assert not Event.objects.filter(complaint=complaint, kind="customer_message").exists()


def test_tracking_page_form_adds_a_message(client, receive_public) -> None:
    received = receive_public()
    url = f"/track/{received.complaint.reference}/?token={received.tracking_token}"
    response = client.post(url, {"text": "我已经第三次问了，再不处理就找律师"})
    assert response.status_code == 302
    page = client.get(url).content.decode()
    assert "第三次问了" in page
    complaint = Complaint.objects.get(pk=received.complaint.pk)
    assert {Flag.LEGAL, Flag.REPEAT} <= set(complaint.flags.split())
    # An empty message comes back with the error and keeps nothing.
    response = client.post(url, {"text": ""})
    assert response.status_code == 422 and "errorlist" in response.content.decode()


def test_public_api_message(api, receive_public) -> None:
    received = receive_public()
    ref, token = received.complaint.reference, received.tracking_token
    response = api(None).post(
        f"/api/public/complaints/{ref}/messages?token={token}", {"text": "孩子用了以后过敏"}
    )
    assert response.status_code == 201, response.content
    assert response.json()["timeline"][-1]["kind"] == "customer_message"
    assert Flag.SAFETY in Complaint.objects.get(pk=received.complaint.pk).flags
    wrong = api(None).post(f"/api/public/complaints/{ref}/messages?token=nope", {"text": "x"})
    assert wrong.status_code == 404
    bad = api(None).post(f"/api/public/complaints/{ref}/messages?token={token}", {"txt": "x"})
    assert bad.status_code == 422


def test_a_broken_model_never_costs_a_complaint(receive_public) -> None:
    ClassifierModel.objects.create(
        name="category", version=1, is_active=True, source="test", language="zh",
        train_size=0, blob=b"not a model", size=11,
    )  # fmt: skip
    complaint = receive_public(description="屏幕有划痕").complaint
    assert complaint.pk is not None and complaint.needs_review


def test_a_persons_grade_stands_until_a_new_risk_appears(people) -> None:
    raw = {"description": "说要打12315，其实只是问问发票", "phone": "13900139000",
           "channel": "hotline", "grade": "E", "priority": "P4"}  # fmt: skip
    complaint = receive(parse_incoming(raw, staff=True), actor=people["wang"]).complaint
    assert (complaint.grade, complaint.priority) == ("E", "P4")
    receive_message(complaint, text="谢谢，发票收到了")
    complaint.refresh_from_db()
    assert (complaint.grade, complaint.priority) == ("E", "P4")  # nothing new: theirs stands
    receive_message(complaint, text="孩子用了以后过敏住院了")
    complaint.refresh_from_db()
    assert complaint.grade in ("A", "B") and complaint.priority == "P1"  # a new safety flag


def test_the_classifier_reads_a_subject_only_when_it_says_more(receive_public, monkeypatch):
    read: list[str] = []
    monkeypatch.setattr(triage_services, "predict", lambda text: read.append(text))
    # No subject given: intake takes the first line, which the description already holds.
    receive_public(description="空调不制冷\n师傅来了三次都没修好")
    receive_public(description="空调不制冷，师傅来了三次都没修好", subject="维修拖延")
    assert read == [
        "空调不制冷\n师傅来了三次都没修好",
        "维修拖延\n空调不制冷，师傅来了三次都没修好",
    ]
    long_line = "冰箱" * 40  # a first line over 60 characters becomes a shortened subject
    assert triage_services.text_of(long_line[:60] + "…", long_line) == long_line
