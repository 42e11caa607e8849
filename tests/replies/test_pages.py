"""The reply composer on the case page, and the checks and templates through the API."""

from __future__ import annotations

import pytest

from kesu.notify.models import OutboxMessage
from kesu.replies.models import ReplyTemplate

pytestmark = pytest.mark.django_db


def test_the_api_checks_a_reply_with_offsets(api, receive_public) -> None:
    complaint = receive_public().complaint
    answer = api("admin").post("/api/replies/check", {
        "text": "规定就是这样的，我们会尽快处理。", "language": "zh",
        "reference": complaint.reference,
    })  # fmt: skip
    assert answer.status_code == 200
    findings = answer.json()["findings"]
    first = next(f for f in findings if f["rule"] == "forbidden_phrase")
    assert (first["rule"], first["severity"], first["start"], first["end"]) == (
        "forbidden_phrase", "warn", 0, 7,
    )  # fmt: skip
    assert first["suggestion"] and {f["rule"] for f in findings} >= {"vague_promise"}
    clean = api("admin").post("/api/replies/check", {"text": "谢谢您的耐心，12月5日前答复您。"})
    assert clean.json() == {"findings": []}


def test_the_api_names_bad_input_and_unknown_complaints(api) -> None:
    client = api("admin")
    assert (
        client.post("/api/replies/check", {"language": "zh"}).json()["errors"][0]["field"] == "text"
    )
    bad = client.post("/api/replies/check", {"text": "x", "language": "fr"})
    assert bad.status_code == 422 and bad.json()["errors"][0]["field"] == "language"
    missing = client.post("/api/replies/check", {"text": "x", "reference": "KS-20260101-999999"})
    assert missing.status_code == 404
    assert api(None).post("/api/replies/check", {"text": "x"}).status_code == 401


def test_templates_for_a_complaint_through_the_api(api, in_department) -> None:
    complaint = in_department()
    items = api("zhao").get(f"/api/complaints/{complaint.reference}/reply-templates").json()
    assert items and all(complaint.reference in t["text"] for t in items if "{reference}"
                         in ReplyTemplate.objects.get(pk=t["id"]).body)  # fmt: skip


def test_the_composer_checks_as_one_types_and_sends(client, people, in_department) -> None:
    complaint = in_department()
    client.force_login(people["zhao"])
    form = client.get(f"/work/c/{complaint.reference}/do/reply/").content.decode()
    assert 'id="reply-findings"' in form and "reply/check/" in form
    checked = client.post(f"/work/c/{complaint.reference}/reply/check/",
                          {"text": "你看不懂中文吗"}).content.decode()  # fmt: skip
    assert 'data-rule="forbidden_phrase"' in checked and "你看不懂中文吗" in checked
    template = ReplyTemplate.objects.get(language="zh", position=10)
    filled = client.get(f"/work/c/{complaint.reference}/reply/template/",
                        {"template": template.pk}).content.decode()  # fmt: skip
    assert complaint.reference in filled and "<textarea" in filled
    text = f"非常抱歉给您带来不便。您的投诉 {complaint.reference} 已受理，12月5日前答复您。"
    sent = client.post(f"/work/c/{complaint.reference}/do/reply/", {"text": text})
    assert sent.status_code in (200, 302)
    message = OutboxMessage.objects.get(complaint=complaint, kind="message")
    assert "12月5日前答复您" in message.body
