"""One customer across channels: the same grievance joins the open case; ID numbers match."""

from __future__ import annotations

from datetime import timedelta

import pytest
import time_machine
from django.db import connection
from django.utils import timezone

from kesu.complaints.models import Complaint, Event
from kesu.complaints.workflow import perform
from kesu.customers.contact import normalise_id_card
from kesu.customers.models import ContactKind, Customer, CustomerContact
from kesu.errors import InvalidInput
from kesu.intake.services import parse_incoming, receive
from kesu.notify.models import Notification
from kesu.triage import selectors as triage_selectors
from kesu.triage.duplicates import same_grievance
from kesu.triage.models import Scoring
from kesu.triage.text import fold

pytestmark = pytest.mark.django_db

STORY = "网购的羽绒服收到后发现袖子有破洞，联系在线客服三天没人回复，要求退货退款。"
RETOLD = "羽绒服袖子破了个洞！找在线客服三天都没人理，我要退货退款。"
OTHER = "上个月办的会员卡积分一直没有到账，门店说系统问题让我等。"
# A made-up number with a valid check character (GB 11643).
ID_NUMBER = "11010519491231002X"


def web(**fields):
    raw = {"description": STORY, "phone": "13800138000", "name": "陈女士", **fields}
    return receive(parse_incoming(raw, staff=False), actor=None)


def logged(actor, **fields):
    raw = {"description": RETOLD, "phone": "138 0013 8000", "channel": "hotline", **fields}
    return receive(parse_incoming(raw, staff=True), actor=actor)


def test_the_same_grievance_by_another_channel_joins_the_open_case(people) -> None:
    first = web()
    perform(first.complaint, "assign", people["li"], assignee="zhao")
    again = logged(people["wang"])
    assert again.created is False and again.tracking_token == ""
    assert again.complaint == first.complaint
    assert Complaint.objects.count() == 1
    message = Event.objects.get(complaint=first.complaint, kind="customer_message")
    assert message.data["joined"] is True and message.data["channel"] == "hotline"
    assert message.data["logged_by"] == "wang" and "袖子破了个洞" in message.data["text"]
    assert message.customer_visible
    # Still one complaint in the customer's history; the handler hears of it at once.
    assert Customer.objects.get().complaint_count == 1
    assert Notification.objects.filter(user=people["zhao"], kind="customer_wrote").count() == 1


def test_a_different_grievance_opens_its_own_case(people) -> None:
    web()
    other = logged(people["wang"], description=OTHER)
    assert other.created is True
    assert Complaint.objects.count() == 2
    assert Customer.objects.get().complaint_count == 2


def test_no_join_after_the_window(people) -> None:
    web()
    with time_machine.travel(timezone.now() + timedelta(days=8), tick=False):
        assert logged(people["wang"]).created is True


def test_no_join_when_switched_off(people) -> None:
    web()
    Scoring.objects.update(join_window_days=0)
    triage_selectors.forget()
    assert logged(people["wang"]).created is True


def test_a_closed_case_is_not_joined(people) -> None:
    first = web()
    perform(first.complaint, "mark_invalid", people["li"], reason="客户撤诉")
    assert logged(people["wang"]).created is True


def test_public_api_and_staff_api_answer_200_when_joined(api) -> None:
    body = {"description": STORY, "phone": "13800138000"}
    assert api(None).post("/api/public/complaints", body).status_code == 201
    again = api(None).post("/api/public/complaints", {**body, "description": RETOLD})
    assert again.status_code == 200
    assert again.json()["created"] is False and again.json()["tracking_url"] == ""
    staff = api("wang").post("/api/complaints", {**body, "channel": "hotline"})
    assert staff.status_code == 200 and staff.json()["created"] is False
    assert staff.json()["reference"] == again.json()["reference"]


def test_web_form_says_it_was_added(client) -> None:
    web()
    response = client.post("/complain/", {"description": RETOLD, "phone": "13800138000"})
    assert response.status_code == 200
    assert "KS-" in response.content.decode() and Complaint.objects.count() == 1


# --- ID numbers --------------------------------------------------------------------------------


def test_id_numbers_are_checked_and_15_digit_ones_widened() -> None:
    assert normalise_id_card(ID_NUMBER.lower()) == ID_NUMBER
    assert normalise_id_card("110105491231002") == ID_NUMBER  # the same person's old number
    for bad in ("110105194912310020", "12345", "11010519491231002Y"):
        with pytest.raises(ValueError):
            normalise_id_card(bad)


def test_the_id_number_finds_the_customer_and_is_never_stored(people) -> None:
    first = logged(people["wang"], id_number=ID_NUMBER, description=OTHER)
    # Another phone, the same person: found by the ID number's keyed hash.
    second = logged(people["wang"], id_number=ID_NUMBER.lower(), phone="13900139000")
    assert second.complaint.customer_id == first.complaint.customer_id
    contact = CustomerContact.objects.get(kind=ContactKind.ID_CARD)
    assert len(contact.value) == 64 and ID_NUMBER not in contact.value
    with connection.cursor() as cursor:
        for table in ("customers_customercontact", "complaints_event", "complaints_complaint"):
            cursor.execute(f"SELECT * FROM {table}")  # noqa: S608 - constant names
            assert ID_NUMBER not in repr(cursor.fetchall())


def test_a_wrong_id_number_is_named(people) -> None:
    with pytest.raises(InvalidInput) as error:
        logged(people["wang"], id_number="110105194912310020")
    assert [e.field for e in error.value.errors] == ["id_number"]
    assert "check character" in error.value.errors[0].message


# --- The measure, on pairs written for this test ---------------------------------------------

SAME = [
    (STORY, RETOLD),
    ("我在朝阳门店买的电水壶用了两天就漏水，要求退货。",
     "电水壶漏水，朝阳店买的才两天，能不能退？"),
    ("订单12345678的快递已经一周没有更新物流，客服一直说在查。",
     "快递一个礼拜了物流没动，订单12345678，客服光说在查"),
    ("信用卡被重复扣了两次年费，每次300元，电话客服说要等审核。",
     "你们重复收我两次信用卡年费共600元，打客服只说审核，到底什么时候退"),
    ("The blender I bought last week stopped working after two uses and the store refuses "
     "to refund.",
     "Blender broke after 2 uses, store won't give me a refund, bought it last week."),
    ("外卖送来的汤洒了一半，骑手态度还很差，要求退款。", "汤洒了一半，骑手还凶我，退钱"),
    ("保险理赔材料交了一个月了还没有结果，理赔员电话打不通。",
     "理赔一个月没消息，理赔员电话一直不接，我要投诉"),
]  # fmt: skip
DIFFERENT = [
    (STORY, OTHER),
    ("订单12345678的快递已经一周没有更新物流，客服一直说在查。",
     "订单87654321的快递送错地址了，被别人签收了，客服说在查。"),
    ("我在朝阳门店买的电水壶用了两天就漏水，要求退货。",
     "朝阳门店的店员态度很差，结账时多收了我20元。"),
    ("信用卡被重复扣了两次年费，每次300元，电话客服说要等审核。",
     "信用卡额度被无故降低了，电话客服也说不清原因。"),
    ("The blender I bought last week stopped working after two uses and the store refuses "
     "to refund.", "The delivery driver left my parcel in the rain and the box was soaked."),
    ("宽带从周一开始断网，报修三次都没有人上门，耽误我在家办公。",
     "这个月的话费账单多了一个我没开通的增值业务，要求退费。"),
    ("外卖送来的汤洒了一半，骑手态度还很差，要求退款。", "外卖少送了一份米饭，商家不承认。"),
    ("保险理赔材料交了一个月了还没有结果，理赔员电话打不通。",
     "续保的时候保费涨了一倍，业务员没有提前告诉我。"),
]  # fmt: skip


@pytest.mark.parametrize(("a", "b"), SAME)
def test_retellings_reach_the_default_threshold(a, b) -> None:
    assert same_grievance(fold(a), fold(b)) >= Scoring().join_similarity


@pytest.mark.parametrize(("a", "b"), DIFFERENT)
def test_different_grievances_stay_below_it(a, b) -> None:
    assert same_grievance(fold(a), fold(b)) < Scoring().join_similarity
