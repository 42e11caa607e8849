"""The customer page: one person across channels, only what the reader may see."""

from __future__ import annotations

import dataclasses
from datetime import timedelta

import pytest
from django.conf import settings
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from kesu.complaints.models import Complaint
from kesu.complaints.workflow import perform
from kesu.customers.contact import id_card_key, normalise_id_card
from kesu.customers.models import ContactKind, Customer
from kesu.intake.models import InboundMessage, Outcome
from kesu.intake.services import parse_incoming, receive, receive_message
from tests.conftest import walk

pytestmark = pytest.mark.django_db

# A made-up number with a valid check character (GB 11643).
ID_NUMBER = "11010519491231002X"


def page_of(client, user, customer_id: int, **params):
    client.force_login(user)
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "en"
    return client.get(f"/work/customers/{customer_id}/", params)


def get(client, customer_id: int):
    return client.get(f"/work/customers/{customer_id}/")


def inbound(customer: Customer | None, complaint: Complaint | None = None, **fields):
    """An intake record as a channel writes it (the channels' writer is not built yet)."""
    n = InboundMessage.objects.count() + 1
    row = {
        "source_key": "email",
        "external_id": f"<m{n}@example.com>",
        "channel": "email",
        "received_at": timezone.now(),
        "sender": "liu@example.com",
        "summary": f"来信 {n}",
        "text": f"第{n}封来信",
        "outcome": Outcome.JOINED if complaint else Outcome.IGNORED,
        **fields,
    }
    return InboundMessage.objects.create(customer=customer, complaint=complaint, **row)


def to_logistics(complaint: Complaint, people) -> Complaint:
    return walk(
        complaint,
        [
            ("acknowledge", people["wang"], {}),
            ("assign", people["admin"], {"department": "logistics", "assignee": "zhang"}),
        ],
    )


def test_complaints_from_two_channels_are_one_customer(client, people, make_complaint) -> None:
    web = make_complaint(description="网上买的电水壶漏水，要求退货。", email="Liu@Example.COM")
    call = make_complaint(actor=people["wang"], phone="+86 138-0013-8000",
                          description="打电话投诉：会员积分被清零。")  # fmt: skip
    # A WeChat message from the same phone brings the open-id along.
    incoming = dataclasses.replace(
        parse_incoming({"description": "公众号留言：快递三天没到。", "phone": "13800138000",
                        "channel": "wechat"}, staff=False),
        identifiers=((ContactKind.WECHAT_OPENID, "oWx-123"),),
    )  # fmt: skip
    chat = receive(incoming, actor=None, join_repeats=False).complaint
    assert web.customer_id == call.customer_id == chat.customer_id
    receive_message(call, text="请尽快回电，我下午都在。", channel="hotline")

    response = page_of(client, people["wang"], web.customer_id)
    html = response.content.decode()
    assert response.status_code == 200
    for complaint in (web, call, chat):
        assert f'href="/work/c/{complaint.reference}/"' in html
    assert "Web form" in html and "Hotline" in html and "WeChat" in html
    assert "刘女士" in html and "138****8000" in html and "13800138000" not in html
    assert "l***@example.com" in html  # stored lower-cased, shown masked
    assert "oWx-123" in html
    assert "请尽快回电" in html  # the message on the call's complaint
    assert 'data-testid="count-total">3<' in html and 'data-testid="count-open">3<' in html
    assert "hidden-complaints" not in html


def test_counts_of_recent_and_open_complaints(client, people, make_complaint, in_department):
    old = receive(
        parse_incoming({"description": "去年的投诉：空调不制冷。", "phone": "13800138000"},
                       staff=False),
        actor=None, received_at=timezone.now() - timedelta(days=60), join_repeats=False,
    ).complaint  # fmt: skip
    make_complaint()
    closed = in_department(description="门店多收了二十元")
    perform(closed, "mark_invalid", people["zhao"], reason="重复提交")
    html = page_of(client, people["admin"], old.customer_id).content.decode()
    assert 'data-testid="count-total">3<' in html
    assert 'data-testid="count-open">2<' in html
    assert 'data-testid="count-30">2<' in html and 'data-testid="count-90">3<' in html


def test_a_restricted_user_sees_the_count_not_the_hidden_complaints(
    client, people, make_complaint, in_department
) -> None:
    hidden = in_department(description="售后：洗衣机漏水，师傅没来。")  # after-sales only
    receive_message(hidden, text="售后那边的秘密补充")
    inbound(hidden.customer, hidden, summary="售后来信", text="关于洗衣机的邮件")
    mine = to_logistics(make_complaint(description="快递员把包裹扔在门口，摔坏了。"), people)
    receive_message(mine, text="包裹照片已经拍好")
    inbound(mine.customer, None, summary="自动回复", text="我正在休假", reason="auto-reply")

    response = page_of(client, people["zhang"], mine.customer_id)
    html = response.content.decode()
    assert response.status_code == 200
    assert mine.reference in html and hidden.reference not in html
    assert "1 more complaint of this customer is outside what you may see." in html
    assert "包裹照片已经拍好" in html and "我正在休假" in html
    for secret in ("售后那边的秘密补充", "关于洗衣机的邮件", "售后来信", "洗衣机"):
        assert secret not in html
    # The manager of after-sales sees both.
    both = page_of(client, people["li"], mine.customer_id).content.decode()
    assert hidden.reference in both and "售后那边的秘密补充" in both


def test_inbound_messages_are_listed_with_their_outcome(client, people, make_complaint) -> None:
    complaint = make_complaint()
    customer = complaint.customer
    now = timezone.now()
    inbound(customer, complaint, source_key="wechat:gh_kesu", channel="wechat",
            sender="oWx-123", summary="", text="水壶的照片发给你们了",
            received_at=now - timedelta(minutes=5))  # fmt: skip
    inbound(customer, None, source_key="webhook:shop-chat", channel="chat",
            summary="", text="在吗", reason="too short: no complaint",
            received_at=now - timedelta(minutes=3))  # fmt: skip
    inbound(customer, None, source_key="mention:weibo", channel="social",
            outcome=Outcome.REJECTED, summary="", text="广告链接", reason="spam",
            received_at=now - timedelta(minutes=1))  # fmt: skip

    html = page_of(client, people["wang"], customer.pk).content.decode()
    positions = [html.index(text) for text in ("广告链接", "在吗", "水壶的照片")]
    assert positions == sorted(positions)  # newest first
    assert 'data-outcome="ignored"' in html and "too short: no complaint" in html
    assert 'data-outcome="rejected"' in html and "spam" in html
    assert 'data-outcome="joined"' in html and complaint.reference in html
    assert "WeChat official account · gh_kesu" in html and "Chat system · shop-chat" in html
    assert "Mention · weibo" in html and "Social media" in html


def test_a_message_a_channel_joined_to_the_case_is_shown_once(
    client, people, make_complaint
) -> None:
    complaint = make_complaint()
    at = timezone.now()
    # What the email channel writes for a reply to an open case: its record and the event.
    receive_message(complaint, text="回信：发票请寄到公司", channel="email", at=at)
    inbound(complaint.customer, complaint, text="回信：发票请寄到公司", received_at=at)
    html = page_of(client, people["wang"], complaint.customer_id).content.decode()
    assert html.count("回信：发票请寄到公司") == 1 and 'data-outcome="joined"' in html


def test_the_timeline_is_paged(client, people, make_complaint) -> None:
    complaint = make_complaint()
    start = timezone.now() - timedelta(days=1)
    for n in range(30):
        inbound(complaint.customer, None, text=f"消息编号{n:02d}",
                received_at=start + timedelta(minutes=n))  # fmt: skip
    receive_message(complaint, text="最新的一条")
    first = page_of(client, people["wang"], complaint.customer_id).content.decode()
    # 31 entries, 25 a page: the newest message, then 29 … 06.
    assert first.index("最新的一条") < first.index("消息编号29") < first.index("消息编号06")
    assert "消息编号05" not in first and "Page 1 of 2" in first
    second = page_of(client, people["wang"], complaint.customer_id, page=2).content.decode()
    assert second.index("消息编号05") < second.index("消息编号00")
    assert "消息编号06" not in second and "最新的一条" not in second
    beyond = page_of(client, people["wang"], complaint.customer_id, page=9).content.decode()
    assert "Page 2 of 2" in beyond


def test_the_id_number_is_never_shown(client, people) -> None:
    raw = {"description": "身份证登记的会员，积分丢失。", "phone": "13800138000",
           "channel": "hotline", "id_number": ID_NUMBER}  # fmt: skip
    complaint = receive(parse_incoming(raw, staff=True), actor=people["wang"]).complaint
    key = id_card_key(normalise_id_card(ID_NUMBER))
    assert complaint.customer.contacts.filter(kind=ContactKind.ID_CARD, value=key).exists()
    html = page_of(client, people["wang"], complaint.customer_id).content.decode()
    assert "ID number on file" in html
    for secret in (ID_NUMBER, ID_NUMBER[:17], key, key[:16]):
        assert secret not in html


def test_unknown_customers_and_strangers_get_404(client, people, in_department) -> None:
    complaint = in_department()
    assert page_of(client, people["zhao"], complaint.customer_id).status_code == 200
    assert page_of(client, people["zhao"], complaint.customer_id + 1000).status_code == 404
    # A handler of logistics sees none of this customer's complaints: same answer as unknown.
    assert page_of(client, people["zhang"], complaint.customer_id).status_code == 404
    assert page_of(client, people["sun"], complaint.customer_id).status_code == 200  # auditor


def test_login_is_required(client, make_complaint) -> None:
    complaint = make_complaint()
    response = client.get(f"/work/customers/{complaint.customer_id}/")
    assert response.status_code == 302 and response["Location"].startswith("/login/")


def test_the_case_page_links_to_the_customer(client, people, make_complaint) -> None:
    first = make_complaint()
    second = make_complaint(description="第二次投诉：退款还没到账。")
    client.force_login(people["wang"])
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "en"
    html = client.get(f"/work/c/{second.reference}/").content.decode()
    assert f'href="/work/customers/{first.customer_id}/"' in html
    assert "1 other complaint" in html


def test_queries_do_not_grow_with_the_customer_history(
    client, people, make_complaint, django_assert_max_num_queries
) -> None:
    def build(n: int, phone: str) -> Customer:
        complaint = None
        for i in range(n):
            made = make_complaint(description=f"第{i}次投诉：包裹丢失。", phone=phone)
            complaint = to_logistics(made, people)
            receive_message(complaint, text=f"补充{i}")
            inbound(complaint.customer, complaint, source_key=f"wechat:gh{i}")
            inbound(complaint.customer, None, outcome=Outcome.IGNORED)
        assert complaint is not None
        return complaint.customer

    small = build(1, "13800138000")
    assert page_of(client, people["zhang"], small.pk).status_code == 200  # logs in
    with CaptureQueriesContext(connection) as few:
        assert get(client, small.pk).status_code == 200
    big = build(8, "13900139000")
    with django_assert_max_num_queries(13), CaptureQueriesContext(connection) as many:
        response = get(client, big.pk)
    assert response.status_code == 200 and "第7次投诉" in response.content.decode()
    assert len(many) == len(few)
