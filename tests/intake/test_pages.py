"""The customer's pages: the complaint form, the thank-you, the tracking page; languages."""

from __future__ import annotations

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from kesu.complaints.models import Complaint

pytestmark = pytest.mark.django_db

FORM = {
    "description": "在门店买的面包发霉了，店员说过期不关他们的事。",
    "name": "林女士",
    "phone": "13800001111",
    "idempotency_key": "11111111-2222-3333-4444-555555555555",
}


def test_home_and_form_render_in_chinese_by_default(client) -> None:
    home = client.get("/", headers={"Accept-Language": "en-US,en;q=0.9"})
    assert home.status_code == 200 and home["Content-Language"] == "zh-hans"
    form = client.get("/complain/")
    assert form.status_code == 200 and 'name="description"' in form.content.decode()


def test_language_switch_to_english_and_back(client) -> None:
    client.post("/i18n/setlang/", {"language": "en", "next": "/complain/"})
    page = client.get("/complain/")
    assert page["Content-Language"] == "en" and "Make a complaint" in page.content.decode()
    client.post("/i18n/setlang/", {"language": "zh-hans", "next": "/complain/"})
    assert client.get("/complain/")["Content-Language"] == "zh-hans"


def test_submit_redirects_to_tracking_with_reference_and_token(client) -> None:
    photo = SimpleUploadedFile("面包.jpg", b"\xff\xd8\xff\xe0" + b"0" * 100)
    response = client.post("/complain/", {**FORM, "attachments": [photo]})
    assert response.status_code == 302
    complaint = Complaint.objects.get()
    assert complaint.attachments.count() == 1
    page = client.get(response["Location"])
    html = page.content.decode()
    assert page.status_code == 200 and complaint.reference in html
    assert 'data-testid="token"' in html
    again = client.post("/complain/", FORM)  # a reload resubmits the same key
    assert again.status_code == 302 and Complaint.objects.count() == 1


def test_form_errors_name_the_fields_and_keep_the_input(client) -> None:
    response = client.post("/complain/", {**FORM, "phone": "12", "description": ""})
    html = response.content.decode()
    assert response.status_code == 422
    assert html.count('class="errors"') >= 2
    assert "林女士" in html  # what the customer typed is kept
    bad_file = SimpleUploadedFile("x.exe", b"MZ")
    refused = client.post("/complain/", {**FORM, "attachments": [bad_file]})
    assert refused.status_code == 422 and "x.exe" in refused.content.decode()
    assert Complaint.objects.count() == 0


def test_tracking_page_lookup_and_wrong_token(client, receive_public) -> None:
    received = receive_public()
    reference = received.complaint.reference
    lookup = client.get(
        "/track/", {"reference": reference.lower(), "token": received.tracking_token}
    )
    assert lookup.status_code == 302
    assert client.get(lookup["Location"]).status_code == 200
    assert client.get(f"/track/{reference}/", {"token": "guess"}).status_code == 404
    assert client.get("/track/").status_code == 200


def test_tracking_is_rate_limited(client, receive_public, settings) -> None:
    settings.KESU_PUBLIC_RATE_LIMIT = 2
    reference = receive_public().complaint.reference
    codes = [client.get(f"/track/{reference}/", {"token": "x"}).status_code for _ in range(3)]
    assert codes == [404, 404, 429]
