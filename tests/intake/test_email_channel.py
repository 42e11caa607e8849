"""The email channel: new mail opens a complaint, a reply joins its case, robots are ignored."""

from __future__ import annotations

import csv
from collections import Counter
from email.message import EmailMessage
from email.utils import make_msgid
from pathlib import Path

import pytest
from django.core import mail as django_mail
from django.test import Client

from kesu.accounts.services import issue_token
from kesu.complaints.models import Attachment, Complaint, Event
from kesu.complaints.workflow import perform
from kesu.errors import InvalidInput
from kesu.intake.email_channel import OUR_MESSAGE_ID, receive_email
from kesu.intake.models import InboundMessage, Outcome
from kesu.notify.jobs import dispatch
from kesu.notify.models import OutboxMessage

pytestmark = pytest.mark.django_db

PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 64
STORY = "你好，我在贵店买的电饭煲用了三天就坏了，内胆涂层脱落，要求退货退款。"


def make_mail(
    text: str = STORY,
    *,
    subject: str = "电饭煲质量问题",
    sender: str = "王先生 <wang.customer@example.com>",
    message_id: str | None = None,
    charset: str = "utf-8",
    headers: dict[str, str] | None = None,
    attachments: list[tuple[str, str, bytes]] = (),  # type: ignore[assignment]
) -> bytes:
    msg = EmailMessage()
    msg["From"] = sender
    msg["To"] = "complaints@shop.example"
    msg["Subject"] = subject
    msg["Message-ID"] = message_id or make_msgid(domain="example.com")
    for name, value in (headers or {}).items():
        msg[name] = value
    msg.set_content(text, charset=charset)
    for filename, ctype, data in attachments:
        maintype, subtype = ctype.split("/")
        msg.add_attachment(data, maintype=maintype, subtype=subtype, filename=filename)
    return msg.as_bytes()


def test_a_new_mail_opens_a_complaint_acknowledged_by_email():
    result = receive_email(make_mail(attachments=[("照片.png", "image/png", PNG)]))
    record = result.record
    assert record.outcome == Outcome.CREATED and not result.again
    complaint = record.complaint
    assert complaint.channel == "email"
    assert complaint.subject == "电饭煲质量问题"
    assert "内胆涂层脱落" in complaint.description
    assert complaint.customer.email == "wang.customer@example.com"
    assert complaint.customer.name == "王先生"
    assert [a.original_name for a in Attachment.objects.filter(complaint=complaint)] == ["照片.png"]
    ack = OutboxMessage.objects.get(complaint=complaint, kind="acknowledgement")
    assert ack.recipient == "wang.customer@example.com"
    assert result.answer == {"reference": complaint.reference, "created": True}


def test_the_same_mail_twice_is_one_complaint():
    raw = make_mail(message_id="<same-1@example.com>")
    first = receive_email(raw)
    again = receive_email(raw)
    assert again.again and again.record.pk == first.record.pk
    assert again.answer == {"reference": first.record.complaint.reference, "created": False}
    assert Complaint.objects.count() == 1
    assert InboundMessage.objects.count() == 1


def test_a_reply_to_our_acknowledgement_joins_the_case_and_retriages_it():
    first = receive_email(make_mail()).record
    complaint = first.complaint
    dispatch()
    sent = django_mail.outbox[-1]
    our_id = sent.extra_headers["Message-ID"]
    assert OUR_MESSAGE_ID.match(our_id.strip("<>"))
    assert sent.extra_headers["Auto-Submitted"] == "auto-generated"
    reply = make_mail(
        "再不处理我就打12315投诉你们！\n\n"
        "在 2026年11月30日 周一 10:00，客服 写道：\n> 我们已收到您的投诉",
        subject=f"Re: {sent.subject}",
        headers={"In-Reply-To": our_id, "References": our_id},
        attachments=[("发票.png", "image/png", PNG)],
    )
    result = receive_email(reply)
    assert result.record.outcome == Outcome.JOINED
    assert result.record.complaint_id == complaint.pk
    assert result.answer == {"reference": complaint.reference, "created": False}
    message = Event.objects.get(complaint=complaint, kind="customer_message")
    assert message.data["channel"] == "email"
    assert message.data["text"].startswith("再不处理我就打12315投诉你们")
    assert "我们已收到" not in message.data["text"]  # the quoted history is not repeated
    complaint.refresh_from_db()
    assert "regulator" in complaint.flags.split()
    assert Attachment.objects.filter(complaint=complaint, original_name="发票.png").exists()
    assert Complaint.objects.count() == 1


def test_a_reply_in_a_thread_of_earlier_customer_mail_joins_the_case():
    receive_email(make_mail(message_id="<thread-1@example.com>"))
    reply = make_mail(
        "补充一下：购买时间是11月1日。",
        subject="Re: 电饭煲质量问题",
        headers={"References": "<thread-1@example.com>"},
    )
    assert receive_email(reply).record.outcome == Outcome.JOINED
    assert Complaint.objects.count() == 1


def test_a_reference_in_the_subject_counts_only_from_the_customers_address():
    complaint = receive_email(make_mail()).record.complaint
    mine = make_mail("订单号是 123456，请尽快处理。", subject=f"关于 [{complaint.reference}]")
    assert receive_email(mine).record.complaint_id == complaint.pk
    stranger = make_mail(
        "我的耳机坏了。", subject=f"[{complaint.reference}]", sender="someone@else.example"
    )
    result = receive_email(stranger)
    assert result.record.outcome == Outcome.CREATED
    assert result.record.complaint_id != complaint.pk


def test_a_reply_about_a_closed_case_opens_a_new_one_naming_it(people):
    complaint = receive_email(make_mail(message_id="<closed-1@example.com>")).record.complaint
    perform(complaint, "mark_invalid", people["li"], reason="测试")
    complaint.refresh_from_db()
    assert not complaint.is_open
    reply = make_mail(
        "问题还是没有解决，电饭煲又坏了。",
        subject="Re: 电饭煲质量问题",
        headers={"In-Reply-To": "<closed-1@example.com>"},
    )
    record = receive_email(reply).record
    assert record.outcome == Outcome.CREATED and record.complaint_id != complaint.pk
    received = Event.objects.get(complaint=record.complaint, kind="received")
    assert received.data["follows"] == complaint.reference


@pytest.mark.parametrize(
    ("headers", "sender", "subject", "kind"),
    [
        ({"Auto-Submitted": "auto-replied"}, "kehu@example.com", "Re: 电饭煲", "auto_reply"),
        ({"X-Autoreply": "yes"}, "kehu@example.com", "休假中", "auto_reply"),
        ({"Precedence": "bulk"}, "news@example.com", "本周特惠", "bulk"),
        ({}, "MAILER-DAEMON@mx.example.com", "Undelivered Mail Returned to Sender", "bounce"),
        ({}, "kehu@example.com", "自动回复: 电饭煲质量问题", "auto_reply"),
    ],
)
def test_robots_are_recorded_and_ignored(headers, sender, subject, kind):
    result = receive_email(make_mail(headers=headers, sender=sender, subject=subject))
    assert result.record.outcome == Outcome.IGNORED
    assert result.record.reason.startswith(kind)
    assert result.answer == {"status": "ignored", "reason": result.record.reason}
    assert Complaint.objects.count() == 0
    assert OutboxMessage.objects.count() == 0  # no answer to a robot: no loop


def test_mail_from_our_own_address_is_ignored(settings):
    settings.DEFAULT_FROM_EMAIL = "Shop <complaints@shop.example>"
    result = receive_email(make_mail(sender="complaints@shop.example"))
    assert result.record.outcome == Outcome.IGNORED
    assert Complaint.objects.count() == 0


def test_gbk_mail_labelled_gb2312_reads_right():
    text = "镕基牌电饭煲内胆脱落，要求退款。"  # 镕 is in GBK, not in GB2312
    raw = make_mail(text, charset="gbk").replace(b'charset="gbk"', b'charset="gb2312"')
    assert b"gb2312" in raw
    complaint = receive_email(raw).record.complaint
    assert complaint.description == text


def test_refused_files_are_named_and_the_rest_kept():
    raw = make_mail(
        attachments=[("virus.exe", "application/octet-stream", b"MZ" + b"\x00" * 30),
                     ("照片.png", "image/png", PNG)]
    )  # fmt: skip
    record = receive_email(raw).record
    assert record.outcome == Outcome.CREATED
    assert "virus.exe" in record.reason
    names = list(Attachment.objects.filter(complaint=record.complaint).values_list(
        "original_name", flat=True))  # fmt: skip
    assert names == ["照片.png"]


def test_a_very_long_mail_keeps_its_whole_text_as_a_file():
    text = "电饭煲坏了。" * 5000  # 30,000 characters: more than a description holds
    record = receive_email(make_mail(text)).record
    complaint = record.complaint
    assert len(complaint.description) <= 20_000
    kept = Attachment.objects.get(complaint=complaint, original_name="email.txt")
    assert kept.file.read().decode("utf-8").strip() == text


def test_mail_without_a_sender_address_is_recorded_as_rejected():
    raw = make_mail(sender="undisclosed-recipients:;")
    record = receive_email(raw).record
    assert record.outcome == Outcome.REJECTED
    assert "sender" in record.reason
    assert Complaint.objects.count() == 0


# --- POST /api/intake/email ----------------------------------------------------------------------


def post(user, body: bytes, content_type: str = "message/rfc822"):
    client = Client()
    headers = {"Accept-Language": "en"}
    if user is not None:
        headers["Authorization"] = f"Bearer {issue_token(user=user, name='gateway')}"
    return client.post("/api/intake/email", body, content_type=content_type, headers=headers)


def test_api_answers_201_then_200_for_the_same_mail(people):
    raw = make_mail(message_id="<api-1@example.com>")
    first = post(people["wang"], raw)
    assert first.status_code == 201, first.content
    reference = first.json()["reference"]
    assert first.json() == {"reference": reference, "created": True}
    again = post(people["wang"], raw)
    assert again.status_code == 200
    assert again.json() == {"reference": reference, "created": False}
    assert again["Idempotent-Replayed"] == "true"


def test_api_answers_200_ignored_for_a_bounce(people):
    raw = make_mail(sender="MAILER-DAEMON@mx.example.com", subject="Undelivered Mail")
    answer = post(people["wang"], raw)
    assert answer.status_code == 200
    assert answer.json()["status"] == "ignored"
    assert "reference" not in answer.json()


def test_api_refuses_what_is_not_mail_with_a_clear_error(people):
    for body in (b"", b"\x00\x01\x02 not a mail"):
        answer = post(people["wang"], body)
        assert answer.status_code == 422, (body, answer.content)
        assert "email" in answer.json()["detail"]
    assert Complaint.objects.count() == 0


def test_api_oversize_wrong_type_no_token_and_auditor(people, settings):
    settings.KESU_MAX_EMAIL_BYTES = 1000
    big = post(people["wang"], make_mail("长" * 2000))
    assert big.status_code == 413 and "larger" in big.json()["detail"]
    settings.KESU_MAX_EMAIL_BYTES = 25 * 1024 * 1024
    wrong = post(people["wang"], make_mail(), content_type="application/json")
    assert wrong.status_code == 415 and "message/rfc822" in wrong.json()["detail"]
    assert post(None, make_mail()).status_code == 401
    assert post(people["sun"], make_mail()).status_code == 403
    assert Complaint.objects.count() == 0


# --- Real third-party mail (../shared/data/emails, read in place) ---------------------------------

EMAILS = Path(__file__).resolve().parents[2].parent / "shared" / "data" / "emails"


@pytest.mark.skipif(
    not (EMAILS / "manifest.csv").exists(), reason=f"the real mail corpus is not at {EMAILS}"
)
def test_real_mail_through_the_channel_never_fails_and_is_always_recorded():
    """Every 5th message of the corpus (about 200), through the whole channel: each is a
    complaint, a joined message, ignored or rejected with a reason; none raises but 422."""
    with (EMAILS / "manifest.csv").open(encoding="utf-8") as manifest:
        paths = [row["path"] for row in csv.DictReader(manifest)][::5]
    outcomes: Counter[str] = Counter()
    for path in paths:
        raw = (EMAILS / path).read_bytes()
        try:
            result = receive_email(raw)
        except InvalidInput:
            outcomes["unreadable"] += 1
            continue
        record = result.record
        assert record.pk is not None, path
        if record.outcome in (Outcome.CREATED, Outcome.JOINED):
            assert record.complaint_id is not None, path
        else:
            assert record.reason, path
        outcomes[record.outcome] += 1
    assert sum(outcomes.values()) == len(paths)
    # Measured on 2026-11-30 over 203 messages: 113 created, 6 joined, 73 ignored (robots),
    # 9 rejected (no valid sender address), 2 not email at all.
    assert outcomes[Outcome.CREATED] >= 100, outcomes
    assert outcomes[Outcome.IGNORED] >= 40, outcomes


def test_a_known_customers_out_of_office_is_recorded_on_them():
    customer = receive_email(make_mail()).record.customer
    away = make_mail(subject="休假中", headers={"Auto-Submitted": "auto-replied"})
    record = receive_email(away).record
    assert record.outcome == Outcome.IGNORED and record.customer_id == customer.pk
