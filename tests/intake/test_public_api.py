"""The public intake and tracking endpoints."""

from __future__ import annotations

import json
import threading

import pytest
from django.db import connection

from kesu.complaints.models import Complaint
from kesu.complaints.workflow import perform
from kesu.intake.models import IdempotencyKey

pytestmark = pytest.mark.django_db

URL = "/api/public/complaints"
BODY = {
    "description": "网购的羽绒服收到后发现有破洞，联系在线客服三天没人回复。",
    "name": "陈女士",
    "phone": "13800138000",
    "amount": 899,
    "demand": "replacement",
    "order_ref": "JD2026110100123",
}


def test_post_creates_a_complaint_and_answers_201(api) -> None:
    response = api(None).post(URL, BODY)
    assert response.status_code == 201, response.content
    body = response.json()
    assert set(body) >= {"reference", "tracking_token", "status", "tracking_url"}
    assert body["status"] == "received"
    complaint = Complaint.objects.get(reference=body["reference"])
    assert complaint.channel == "web" and complaint.order_ref == "JD2026110100123"


def test_tracking_shows_status_and_only_customer_visible_events(api, people) -> None:
    body = api(None).post(URL, BODY).json()
    complaint = Complaint.objects.get(reference=body["reference"])
    perform(complaint, "acknowledge", people["li"])
    perform(complaint, "assign", people["li"], department="after_sales", assignee="zhao")
    perform(complaint, "note", people["zhao"], text="内部：查仓库记录", internal=True)
    perform(complaint, "note", people["zhao"], text="我们已安排换货，明天发出。", internal=False)
    response = api(None).get(f"{URL}/{body['reference']}", token=body["tracking_token"])
    assert response.status_code == 200
    track = response.json()
    assert track["status"] == "acknowledged"
    kinds = [item["kind"] for item in track["timeline"]]
    assert kinds == ["received", "acknowledge", "note"]
    texts = " ".join(item["text"] for item in track["timeline"])
    assert "明天发出" in texts and "仓库" not in texts and "zhao" not in texts


@pytest.mark.parametrize("token", ["", "wrong-token"])
def test_wrong_token_is_404(api, token) -> None:
    body = api(None).post(URL, BODY).json()
    response = api(None).get(f"{URL}/{body['reference']}", token=token)
    assert response.status_code == 404
    assert response.json()["detail"]


def test_unknown_reference_is_404(api) -> None:
    assert api(None).get(f"{URL}/KS-20200101-000001", token="x").status_code == 404


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({**BODY, "description": ""}, "description"),
        ({k: v for k, v in BODY.items() if k != "description"}, "description"),
        ({**BODY, "description": "长" * 20_001}, "description"),
        ({**BODY, "phone": "123"}, "phone"),
        ({**BODY, "phone": None}, "phone"),
        ({**BODY, "email": "x@", "phone": None}, "email"),
        ({**BODY, "amount": -1}, "amount"),
        ({**BODY, "channel": "carrier-pigeon"}, "channel"),
        ({**BODY, "secret_field": 1}, "secret_field"),
        ({**BODY, "phone": 13800138000}, "phone"),
    ],
)
def test_bad_input_is_422_naming_the_field(api, body, field) -> None:
    response = api(None).post(URL, body)
    assert response.status_code == 422, response.content
    payload = response.json()
    assert payload["detail"]
    assert field in [e["field"] for e in payload["errors"]]
    assert Complaint.objects.count() == 0


@pytest.mark.parametrize("raw", ['{"description": "x",', "not json", "[1, 2]", '"text"'])
def test_malformed_json_is_422_on_body(api, raw) -> None:
    response = api(None).post(URL, raw=raw)
    assert response.status_code == 422
    assert response.json()["errors"][0]["field"] in {"body", "payload"}
    assert Complaint.objects.count() == 0


def test_idempotency_key_returns_the_same_complaint(api) -> None:
    client = api(None)
    first = client.post(URL, BODY, headers={"Idempotency-Key": "order-123-retry"})
    second = client.post(URL, BODY, headers={"Idempotency-Key": "order-123-retry"})
    assert first.status_code == second.status_code == 201
    assert first.json() == second.json()
    assert second["Idempotent-Replayed"] == "true"
    assert Complaint.objects.count() == 1
    other = client.post(
        URL, {**BODY, "description": "另一件事"}, headers={"Idempotency-Key": "order-123-retry"}
    )
    assert other.status_code == 422
    assert other.json()["errors"][0]["field"] == "Idempotency-Key"
    assert Complaint.objects.count() == 1


def test_idempotency_keys_expire_after_24_hours(api) -> None:
    from datetime import timedelta

    import time_machine
    from django.utils import timezone

    client = api(None)
    client.post(URL, BODY, headers={"Idempotency-Key": "k-1"})
    with time_machine.travel(timezone.now() + timedelta(hours=25), tick=False):
        again = client.post(URL, BODY, headers={"Idempotency-Key": "k-1"})
    # Not a replay any more: received anew, it joins the same customer's open complaint.
    assert again.status_code == 200 and again.get("Idempotent-Replayed") is None
    assert again.json()["created"] is False and again.json()["tracking_token"] == ""
    assert Complaint.objects.count() == 1
    assert IdempotencyKey.objects.count() == 1


def test_bad_idempotency_key_is_422(api) -> None:
    response = api(None).post(URL, BODY, headers={"Idempotency-Key": "x" * 300})
    assert response.status_code == 422


def test_rate_limit_answers_429_with_retry_after(api, settings) -> None:
    settings.KESU_PUBLIC_RATE_LIMIT = 3
    client = api(None)
    phones = ["13800138001", "13800138002", "13800138003", "13800138004"]
    codes = [client.post(URL, {**BODY, "phone": phone}).status_code for phone in phones]
    assert codes == [201, 201, 201, 429]
    blocked = client.post(URL, BODY)
    assert blocked.status_code == 429 and int(blocked["Retry-After"]) > 0
    assert Complaint.objects.count() == 3


def test_error_messages_follow_accept_language(api) -> None:
    client = api(None)
    response = client.post(URL, {**BODY, "phone": "123"}, headers={"Accept-Language": "zh-CN"})
    assert response["Content-Language"] == "zh-hans"
    assert response.json()["errors"][0]["message"] == "123 不是有效的电话号码。"
    english = client.post(URL, {**BODY, "phone": "123"}, headers={"Accept-Language": "en"})
    assert english["Content-Language"] == "en"
    assert "valid phone" in english.json()["errors"][0]["message"]


@pytest.mark.skipif(connection.vendor != "postgresql", reason="needs concurrent transactions")
@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_concurrent_retries_with_one_key_create_one_complaint(api) -> None:
    results: list[int] = []

    def send() -> None:
        from django.test import Client

        response = Client().post(
            URL, json.dumps(BODY), content_type="application/json",
            headers={"Idempotency-Key": "same-key"},
        )  # fmt: skip
        results.append(response.status_code)
        connection.close()

    threads = [threading.Thread(target=send) for _ in range(6)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert results == [201] * 6
    assert Complaint.objects.count() == 1


def test_json_answers_are_utf8_not_escaped(api, receive_public) -> None:
    received = receive_public(description="热水器漏水")
    response = api(None).get(f"{URL}/{received.complaint.reference}", token=received.tracking_token)
    assert response["Content-Type"].startswith("application/json")
    assert "热水器漏水" in response.content.decode("utf-8")
