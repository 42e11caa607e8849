"""The agent workspace through the test client: login, queues, the case page, htmx actions."""

from __future__ import annotations

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from kesu.complaints.models import AccessLog, Complaint
from tests.conftest import PASSWORD

pytestmark = pytest.mark.django_db


def test_login_and_logout(client, people) -> None:
    assert client.get("/work/").status_code == 302  # to the login page
    response = client.post("/login/", {"username": "zhao", "password": PASSWORD})
    assert response.status_code == 302 and response["Location"] == "/work/"
    assert client.get("/work/").status_code == 200
    client.post("/logout/")
    assert client.get("/work/").status_code == 302


def test_wrong_password_stays_on_the_login_page(client, people) -> None:
    response = client.post("/login/", {"username": "zhao", "password": "nope"})
    assert response.status_code == 200 and b"errorlist" in response.content


def test_queue_shows_masked_rows_with_a_fixed_number_of_queries(
    client, people, in_department, django_assert_max_num_queries
) -> None:
    for _ in range(30):
        in_department()
    client.force_login(people["li"])
    with django_assert_max_num_queries(12):
        response = client.get("/work/", {"queue": "all", "state": ""})
    assert response.status_code == 200
    text = response.content.decode()
    assert "30" in text and "138****8000" in text and "13800138000" not in text
    with django_assert_max_num_queries(12):
        assert client.get("/work/", {"queue": "all", "page": 2}).status_code == 200


def test_queue_filters_and_htmx_partial(client, people, in_department, make_complaint) -> None:
    in_department(description="空调外机噪音太大")
    make_complaint(description="会员积分被清零")
    client.force_login(people["admin"])
    partial = client.get("/work/", {"q": "空调", "queue": "all"}, headers={"HX-Request": "true"})
    assert partial.status_code == 200
    html = partial.content.decode()
    assert "空调外机" in html and "会员积分" not in html and "<html" not in html
    bad = client.get("/work/", {"state": "nonsense"})
    assert bad.status_code == 200 and "flash-error" in bad.content.decode()


def test_case_page_shows_everything_and_logs_the_access(client, people, in_department) -> None:
    complaint = in_department(description="门店收银员多收了我二十元")
    client.force_login(people["zhao"])
    response = client.get(f"/work/c/{complaint.reference}/")
    html = response.content.decode()
    assert response.status_code == 200
    assert "多收了我二十元" in html and "+8613800138000" in html
    assert 'data-action="investigate"' in html and 'data-action="acknowledge"' not in html
    assert AccessLog.objects.filter(user=people["zhao"], complaint=complaint).count() == 1


def test_action_form_and_htmx_post(client, people, in_department) -> None:
    complaint = in_department()
    client.force_login(people["zhao"])
    base = f"/work/c/{complaint.reference}/do"
    form = client.get(f"{base}/mark_invalid/", headers={"HX-Request": "true"})
    assert form.status_code == 200 and 'name="reason"' in form.content.decode()
    refused = client.post(f"{base}/mark_invalid/", {"reason": ""}, headers={"HX-Request": "true"})
    assert refused.status_code == 200
    assert refused["HX-Retarget"] == "#action-panel" and "errors" in refused.content.decode()
    done = client.post(f"{base}/investigate/", {}, headers={"HX-Request": "true"})
    assert done.status_code == 200 and 'id="case"' in done.content.decode()
    complaint.refresh_from_db()
    assert complaint.state == "investigating"
    plain = client.post(f"{base}/note/", {"text": "已核实", "internal": "on"})
    assert plain.status_code == 302
    assert complaint.events.filter(kind="note", customer_visible=False).count() == 1
    conflict = client.post(f"{base}/close/", {})
    assert conflict.status_code == 302  # with a message saying why
    assert client.get(f"{base}/teleport/").status_code == 404


def test_upload_and_download_evidence(client, people, in_department, settings) -> None:
    complaint = in_department()
    client.force_login(people["zhao"])
    url = f"/work/c/{complaint.reference}/files/"
    pdf = SimpleUploadedFile("发票.pdf", b"%PDF-1.4 test", content_type="application/pdf")
    assert client.post(url, {"files": [pdf]}).status_code == 302
    attachment = complaint.attachments.get()
    download = client.get(f"{url}{attachment.pk}/")
    assert download.status_code == 200
    assert b"".join(download.streaming_content) == b"%PDF-1.4 test"
    exe = SimpleUploadedFile("run.bat", b"echo hi")
    client.post(url, {"files": [exe]})
    assert complaint.attachments.count() == 1
    assert complaint.events.filter(kind="attachment_added").count() == 1


def test_staff_logs_a_complaint(client, people) -> None:
    client.force_login(people["wang"])
    assert client.get("/work/new/").status_code == 200
    missing = client.post("/work/new/", {"description": "", "channel": "hotline"})
    assert missing.status_code == 422 and Complaint.objects.count() == 0
    response = client.post(
        "/work/new/",
        {
            "channel": "hotline",
            "name": "吴先生",
            "phone": "13611112222",
            "description": "来电反映外卖送达时饭菜洒了一半。",
            "grade": "D",
            "department": "after_sales",
            "idempotency_key": "form-1",
        },
    )
    complaint = Complaint.objects.get()
    assert response.status_code == 302 and complaint.reference in response["Location"]
    assert complaint.created_by == people["wang"] and complaint.department.code == "after_sales"


def test_a_full_reference_in_the_search_box_opens_the_case(client, people, make_complaint) -> None:
    complaint = make_complaint()
    client.force_login(people["zhao"])
    response = client.get("/work/", {"q": complaint.reference.lower(), "queue": "mine"})
    assert response.status_code == 302
    assert response["Location"] == f"/work/c/{complaint.reference}/"
    htmx = client.get("/work/", {"q": complaint.reference}, headers={"HX-Request": "true"})
    assert htmx["HX-Redirect"] == f"/work/c/{complaint.reference}/"
    client.force_login(people["zhang"])
    complaint_elsewhere = make_complaint()
    from kesu.complaints.workflow import perform

    perform(complaint_elsewhere, "assign", people["li"], department="after_sales")
    hidden = client.get("/work/", {"q": complaint_elsewhere.reference})
    assert hidden.status_code == 200  # not found for this user: an empty list, no leak
