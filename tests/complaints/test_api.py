"""The staff REST API: list, log, read, act, timeline, attachments."""

from __future__ import annotations

import pytest

from kesu.complaints.models import AccessLog, Complaint

pytestmark = pytest.mark.django_db

REQUIRED_KEYS = {
    "reference", "state", "channel", "subject", "description", "nature", "category", "grade",
    "priority", "escalation_level", "ack_due", "first_contact_due", "resolve_due", "department",
    "assignee", "received_at",
}  # fmt: skip


def test_no_or_bad_token_is_401(api) -> None:
    anonymous = api(None)
    assert anonymous.get("/api/complaints").status_code == 401
    anonymous.headers["Authorization"] = "Bearer ks_not-a-real-token"
    response = anonymous.get("/api/complaints")
    assert response.status_code == 401
    assert set(response.json()) == {"detail", "errors"}


def test_list_has_items_and_total_with_the_documented_keys(api, in_department) -> None:
    for _ in range(3):
        in_department()
    response = api("li").get("/api/complaints", page_size=2)
    assert response.status_code == 200
    body = response.json()
    assert body["total"] == 3 and len(body["items"]) == 2
    assert set(body["items"][0]) >= REQUIRED_KEYS
    assert body["items"][0]["customer"]["phone"] == "138****8000"  # masked in lists
    second = api("li").get("/api/complaints", page_size=2, page=2).json()
    assert len(second["items"]) == 1


def test_list_filters_and_keyword(api, in_department, make_complaint, people) -> None:
    in_department(description="热水器漏电，差点触电")
    in_department(description="快递员态度恶劣")
    make_complaint(description="冰箱不制冷")
    client = api("admin")
    assert client.get("/api/complaints", q="漏电").json()["total"] == 1
    assert client.get("/api/complaints", q="态度 快递").json()["total"] == 1
    assert client.get("/api/complaints", department="after_sales").json()["total"] == 2
    assert client.get("/api/complaints", queue="unassigned").json()["total"] == 1
    assert client.get("/api/complaints", state="acknowledged").json()["total"] == 2
    assert client.get("/api/complaints", state="open").json()["total"] == 3
    assert client.get("/api/complaints", channel="hotline").json()["total"] == 0
    reference = Complaint.objects.order_by("id").first().reference
    assert (
        client.get("/api/complaints", q=reference.lower()).json()["items"][0]["reference"]
        == reference
    )


@pytest.mark.parametrize(
    ("params", "field"),
    [
        ({"state": "flying"}, "state"),
        ({"page": "0"}, "page"),
        ({"page_size": "1000"}, "page_size"),
        ({"date_from": "2026-13-01"}, "date_from"),
        ({"date_from": "2026-05-02", "date_to": "2026-05-01"}, "date_to"),
        ({"department": "nowhere"}, "department"),
        ({"colour": "red"}, "colour"),
    ],
)
def test_bad_list_parameters_are_422(api, params, field) -> None:
    response = api("admin").get("/api/complaints", **params)
    assert response.status_code == 422
    assert field in [e["field"] for e in response.json()["errors"]]


def test_staff_intake_and_full_read(api, people) -> None:
    client = api("wang")
    response = client.post(
        "/api/complaints",
        {
            "description": "顾客来电：会员卡积分被清零，要求恢复。",
            "phone": "13900001234",
            "channel": "hotline",
            "grade": "D",
        },
    )
    assert response.status_code == 201, response.content
    body = response.json()
    assert body["tracking_token"] and body["channel"] == "hotline" and body["grade"] == "D"
    read = client.get(f"/api/complaints/{body['reference']}")
    assert read.status_code == 200
    assert read.json()["customer"]["phone"] == "+8613900001234"  # full, and logged
    assert AccessLog.objects.filter(user=people["wang"], via="api").count() == 1


def test_staff_intake_bad_input(api) -> None:
    response = api("wang").post("/api/complaints", {"description": "x", "phone": "13900001234"})
    assert response.status_code == 422
    assert "channel" in [e["field"] for e in response.json()["errors"]]
    assert (
        api("sun")
        .post("/api/complaints", {"description": "x", "phone": "13900001234", "channel": "hotline"})
        .status_code
        == 403
    )


def test_actions_list_and_take(api, in_department) -> None:
    complaint = in_department()
    client = api("zhao")
    listed = client.get(f"/api/complaints/{complaint.reference}/actions").json()
    names = [item["action"] for item in listed["items"]]
    assert "investigate" in names and "acknowledge" not in names
    note = next(item for item in listed["items"] if item["action"] == "note")
    assert {f["name"] for f in note["fields"]} == {"text", "internal"}
    done = client.post(f"/api/complaints/{complaint.reference}/actions/investigate", {})
    assert done.status_code == 200
    assert done.json()["complaint"]["state"] == "investigating"
    assert done.json()["event"]["kind"] == "investigate"
    noted = client.post(
        f"/api/complaints/{complaint.reference}/actions/note",
        {"text": "已联系仓库", "internal": True},
    )
    assert noted.status_code == 200 and noted.json()["event"]["customer_visible"] is False


def test_action_errors_409_403_404_422(api, in_department) -> None:
    complaint = in_department()
    url = f"/api/complaints/{complaint.reference}/actions"
    conflict = api("zhao").post(f"{url}/close", {})
    assert conflict.status_code == 409 and "Close" in conflict.json()["detail"]
    assert api("sun").post(f"{url}/note", {"text": "x"}).status_code == 403
    assert api("zhao").post(f"{url}/fly", {}).status_code == 404
    assert api("zhang").post(f"{url}/note", {"text": "x"}).status_code == 404  # not visible
    missing = api("zhao").post(f"{url}/mark_invalid", {})
    assert missing.status_code == 422
    assert missing.json()["errors"] == [
        {"field": "reason", "message": missing.json()["errors"][0]["message"]}
    ]
    assert api("zhao").post(f"{url}/note", raw="{oops").status_code == 422
    assert api("zhao").post(f"{url}/note", raw="[1]").status_code == 422
    assert api("zhao").get("/api/complaints/KS-20000101-000001").status_code == 404
    complaint.refresh_from_db()
    assert complaint.events.count() == 3  # received, acknowledge, assign: nothing more


def test_events_endpoint_is_the_timeline(api, in_department) -> None:
    complaint = in_department()
    body = api("li").get(f"/api/complaints/{complaint.reference}/events").json()
    assert body["total"] == 3
    assert [e["kind"] for e in body["items"]] == ["received", "acknowledge", "assign"]
    assert body["items"][2]["actor"] == "li"


PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 64


def test_attachments_upload_validate_and_download(api, in_department, settings) -> None:
    from django.core.files.uploadedfile import SimpleUploadedFile

    complaint = in_department()
    client = api("zhao")
    url = f"/api/complaints/{complaint.reference}/attachments"
    ok = client.client.post(
        url, {"files": [SimpleUploadedFile("收据.png", PNG)]}, headers=client.headers
    )
    assert ok.status_code == 201, ok.content
    attachment = ok.json()[0]
    assert attachment["name"] == "收据.png" and attachment["content_type"] == "image/png"
    download = client.client.get(attachment["url"], headers=client.headers)
    assert download.status_code == 200 and b"".join(download.streaming_content) == PNG

    bad_type = client.client.post(
        url, {"files": [SimpleUploadedFile("virus.exe", b"MZ" + b"\x00" * 10)]},
        headers=client.headers,
    )  # fmt: skip
    assert bad_type.status_code == 422 and "virus.exe" in bad_type.json()["detail"]
    liar = client.client.post(
        url, {"files": [SimpleUploadedFile("photo.jpg", b"not a jpeg at all")]},
        headers=client.headers,
    )  # fmt: skip
    assert liar.status_code == 422
    settings.KESU_MAX_ATTACHMENT_BYTES = 50
    too_big = client.client.post(
        url, {"files": [SimpleUploadedFile("big.png", PNG)]}, headers=client.headers
    )
    assert too_big.status_code == 422 and "limit" in too_big.json()["detail"]
    assert complaint.attachments.count() == 1


def test_openapi_and_docs_are_served(client) -> None:
    spec = client.get("/api/openapi.json")
    assert spec.status_code == 200
    paths = spec.json()["paths"]
    assert "/api/public/complaints" in paths
    assert "/api/complaints/{reference}/actions/{action}" in paths
    params = {p["name"] for p in paths["/api/complaints"]["get"]["parameters"]}
    assert {"q", "state", "page", "page_size"} <= params
    docs = client.get("/api/docs")
    assert docs.status_code == 200 and b"cdn" not in docs.content.lower()


def test_full_record_reads_in_a_fixed_number_of_queries(
    api, people, in_department, django_assert_max_num_queries
) -> None:
    from django.core.files.uploadedfile import SimpleUploadedFile

    from kesu.complaints.workflow import perform

    complaint = in_department()
    perform(complaint, "investigate", people["zhao"])
    perform(complaint, "request_approval", people["zhao"], remedy_type="compensation",
            remedy_amount="2000", remedy_description="赔偿")  # fmt: skip
    perform(complaint, "approve_remedy", people["li"])
    client = api("zhao")
    for name in ("a.png", "b.png", "c.png"):
        client.client.post(
            f"/api/complaints/{complaint.reference}/attachments",
            {"files": [SimpleUploadedFile(name, PNG)]},
            headers=client.headers,
        )
    # Token, the complaint with everyone it names, attachments, clocks, access log: nothing per
    # row.
    with django_assert_max_num_queries(6):
        response = client.get(f"/api/complaints/{complaint.reference}")
    body = response.json()
    assert len(body["attachments"]) == 3
    assert (body["remedy"]["proposed_by"], body["remedy"]["approved_by"]) == ("zhao", "li")
