"""Public posts from a monitoring tool: complaints in public become cases at escalation ≥ 1."""

from __future__ import annotations

import pytest

from kesu.complaints.models import Complaint, Event
from kesu.intake.models import InboundMessage, Outcome

pytestmark = pytest.mark.django_db

POST = {
    "platform": "weibo",
    "url": "https://weibo.example/u/123/post/456",
    "author": "爱喝咖啡的猫",
    "author_id": "123",
    "text": "某某电器的热水器用了一个月就漏电，找客服一直推脱，大家千万别买！@消费者协会",
    "posted_at": "2026-11-30T09:00:00+08:00",
}


def test_a_complaint_in_public_becomes_a_social_case_at_escalation_level_one(api):
    answer = api("wang").post("/api/intake/mentions", {"mentions": [POST]})
    assert answer.status_code == 200, answer.content
    [result] = answer.json()["results"]
    assert result["outcome"] == "created"
    complaint = Complaint.objects.get(reference=result["reference"])
    assert complaint.channel == "social"
    assert complaint.escalation_level >= 1
    assert complaint.customer.name == "爱喝咖啡的猫"
    received = Event.objects.get(complaint=complaint, kind="received")
    assert received.data["url"] == POST["url"]
    assert received.data["platform"] == "weibo"


def test_the_same_post_twice_is_one_case_and_other_posts_are_ignored(api):
    client = api("wang")
    first = client.post("/api/intake/mentions", {"mentions": [POST]}).json()["results"][0]
    praise = {**POST, "url": "https://weibo.example/u/9/post/1", "text": "今天去店里逛了逛"}
    second = client.post("/api/intake/mentions", {"mentions": [POST, praise]}).json()["results"]
    assert second[0] == {**first, "again": True}
    assert second[1]["outcome"] == "ignored" and "Not a complaint" in second[1]["reason"]
    assert Complaint.objects.count() == 1
    assert InboundMessage.objects.filter(outcome=Outcome.IGNORED).count() == 1


def test_a_known_customer_posting_the_same_grievance_raises_their_open_case(api, receive_public):
    opened = receive_public(
        phone="13700137000", description="热水器用了一个月就漏电，客服一直推脱。"
    ).complaint
    assert opened.escalation_level == 0
    post = {**POST, "phone": "13700137000", "url": "https://weibo.example/u/123/post/789"}
    [result] = api("wang").post("/api/intake/mentions", {"mentions": [post]}).json()["results"]
    assert result == {"url": post["url"], "outcome": "joined", "reference": opened.reference}
    opened.refresh_from_db()
    assert opened.escalation_level == 1
    assert Event.objects.filter(complaint=opened, kind="escalate").exists()
    # A later post by the same account is known by the account id, without the phone.
    later = {**POST, "url": "https://weibo.example/u/123/post/999", "text": "门店店员态度很差"}
    [again] = api("wang").post("/api/intake/mentions", {"mentions": [later]}).json()["results"]
    assert Complaint.objects.get(reference=again["reference"]).customer_id == opened.customer_id


def test_bad_posts_are_refused_naming_the_field_and_the_rest_goes_on(api):
    client = api("wang")
    bad = [
        ({"url": "weibo.example/post"}, "mentions.0.url"),
        ({"platform": "微 博"}, "mentions.1.platform"),
        ({"phone": "12"}, "mentions.2.phone"),
        ({"text": ""}, "mentions.3.text"),
    ]
    posts = [{**POST, **change} for change, _field in bad]
    answer = client.post("/api/intake/mentions", {"mentions": [*posts, POST]})
    assert answer.status_code == 200, answer.content
    results = answer.json()["results"]
    for (_change, field), result in zip(bad, results, strict=False):
        assert result["outcome"] == "rejected"
        assert field in [e["field"] for e in result["errors"]], result
    assert results[-1]["outcome"] == "created"
    assert InboundMessage.objects.count() == 1 and Complaint.objects.count() == 1
    assert client.post("/api/intake/mentions", {"mentions": []}).status_code == 422
    assert client.post("/api/intake/mentions", raw="[1, 2").status_code == 422
    assert api(None).post("/api/intake/mentions", {"mentions": [POST]}).status_code == 401
    assert api("sun").post("/api/intake/mentions", {"mentions": [POST]}).status_code == 403
