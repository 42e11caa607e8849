"""`receive()`: one transaction that creates everything a new complaint needs."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest
import time_machine
from django.utils import timezone

from kesu.complaints.models import Complaint, Event, State
from kesu.complaints.selectors import get_complaint_for_customer
from kesu.customers.models import Customer, CustomerContact
from kesu.errors import Forbidden, InvalidInput
from kesu.intake.services import parse_incoming, receive
from kesu.notify.models import OutboxChannel, OutboxMessage
from kesu.search.models import SearchDocument

pytestmark = pytest.mark.django_db


def fields_of(error: InvalidInput) -> set[str]:
    return {e.field for e in error.errors}


def test_receive_creates_everything_in_one_go(receive_public) -> None:
    received = receive_public(name="周先生", amount="199.50", demand="refund")
    complaint = received.complaint
    assert re.fullmatch(r"KS-\d{8}-\d{6}", complaint.reference)
    assert complaint.state == State.RECEIVED
    assert complaint.channel == "web"
    assert complaint.amount == Decimal("199.50")
    assert complaint.customer.email == "kehu@example.com"
    assert Customer.objects.get().complaint_count == 1
    event = Event.objects.get(complaint=complaint)
    assert event.kind == "received" and event.customer_visible
    assert SearchDocument.objects.filter(complaint=complaint).exists()
    ack = OutboxMessage.objects.get(complaint=complaint)
    assert ack.kind == "acknowledgement" and ack.channel == OutboxChannel.EMAIL
    assert complaint.reference in ack.subject
    assert received.tracking_token in ack.body  # the link carries the token
    assert get_complaint_for_customer(complaint.reference, received.tracking_token) == complaint


def test_the_default_policy_sets_2h_24h_48h_15d(receive_public) -> None:
    moment = datetime(2026, 3, 2, 9, 30, tzinfo=UTC)
    with time_machine.travel(moment, tick=False):
        complaint = receive_public().complaint
    assert complaint.received_at == moment
    assert complaint.policy is not None and complaint.policy.is_default
    assert complaint.ack_due == moment + timedelta(hours=2)
    assert complaint.first_contact_due == moment + timedelta(hours=24)
    assert complaint.update_due == moment + timedelta(hours=48)
    assert complaint.resolve_due == moment + timedelta(days=15)


def test_reference_numbers_count_per_day_in_the_organisations_zone(receive_public) -> None:
    # 2026-03-01 23:30 UTC is already 2 March in Shanghai.
    with time_machine.travel(datetime(2026, 3, 1, 15, 0, tzinfo=UTC), tick=False):
        first = receive_public().complaint.reference
        second = receive_public().complaint.reference
    with time_machine.travel(datetime(2026, 3, 1, 23, 30, tzinfo=UTC), tick=False):
        next_day = receive_public().complaint.reference
    assert (first, second, next_day) == (
        "KS-20260301-000001",
        "KS-20260301-000002",
        "KS-20260302-000001",
    )


def test_same_customer_found_again_by_phone_in_any_format(receive_public) -> None:
    one = receive_public(phone="138 0013 8000", email="").complaint
    two = receive_public(phone="+86 138-0013-8000", email="new@example.com").complaint
    assert one.customer_id == two.customer_id
    customer = Customer.objects.get(pk=one.customer_id)
    assert customer.phone == "+8613800138000"
    assert customer.complaint_count == 2
    assert set(CustomerContact.objects.values_list("kind", "value")) == {
        ("phone", "+8613800138000"),
        ("email", "new@example.com"),
    }


def test_phone_only_customer_gets_an_sms_acknowledgement(receive_public) -> None:
    complaint = receive_public(email="", phone="13912345678").complaint
    ack = OutboxMessage.objects.get(complaint=complaint)
    assert ack.channel == OutboxChannel.SMS and ack.recipient == "+8613912345678"


@pytest.mark.parametrize(
    ("fields", "expected"),
    [
        ({"description": ""}, {"description"}),
        ({"description": "  \n "}, {"description"}),
        ({"description": "字" * 20_001}, {"description"}),
        ({"phone": "", "email": ""}, {"phone"}),
        ({"phone": "12345", "email": ""}, {"phone"}),
        ({"phone": "call me", "email": ""}, {"phone"}),
        ({"email": "not-an-email"}, {"email"}),
        ({"amount": "-5"}, {"amount"}),
        ({"amount": "abc"}, {"amount"}),
        ({"amount": "1.234"}, {"amount"}),
        ({"occurred_at": "yesterday"}, {"occurred_at"}),
        ({"occurred_at": "2099-01-01T00:00:00+08:00"}, {"occurred_at"}),
        ({"channel": "pigeon"}, {"channel"}),
        ({"store": "nowhere"}, {"store"}),
        ({"language": "fr"}, {"language"}),
        ({"subject": "s" * 201}, {"subject"}),
        ({"surprise": "x"}, {"surprise"}),
        ({"description": 42}, {"description"}),
        ({"description": "", "email": "bad", "amount": "x"}, {"description", "email", "amount"}),
    ],
)
def test_bad_input_names_every_field_and_writes_nothing(fields, expected) -> None:
    raw = {"description": "门店店员态度很差。", "email": "kehu@example.com", **fields}
    with pytest.raises(InvalidInput) as caught:
        parse_incoming(raw, staff=False)
    assert fields_of(caught.value) == expected
    assert Complaint.objects.count() == 0 and Customer.objects.count() == 0


def test_demand_may_be_a_code_or_the_customers_own_words() -> None:
    base = {"description": "快递丢件", "email": "a@example.com"}
    assert parse_incoming({**base, "demand": "refund"}, staff=False).demand == "refund"
    words = parse_incoming({**base, "demand": "退一赔三"}, staff=False)
    assert (words.demand, words.demand_detail) == ("other", "退一赔三")


def test_naive_times_are_read_in_the_organisations_zone() -> None:
    incoming = parse_incoming(
        {"description": "x", "email": "a@example.com", "occurred_at": "2026-01-05 14:00"},
        staff=False,
    )
    assert incoming.occurred_at == datetime(2026, 1, 5, 6, 0, tzinfo=UTC)


def test_staff_intake_sets_assessment_and_places_the_case(people) -> None:
    raw = {
        "description": "顾客在收银台被多收了二十元，要求退还。",
        "phone": "13700001111",
        "channel": "store",
        "grade": "D",
        "category": "overcharging",
        "department": "after_sales",
        "assignee": "zhao",
        "customer_tier": "vip",
    }
    complaint = receive(parse_incoming(raw, staff=True), actor=people["wang"]).complaint
    assert complaint.created_by == people["wang"]
    assert (complaint.grade, complaint.category) == ("D", "overcharging")
    assert complaint.assignee == people["zhao"]
    assert complaint.customer.tier == "vip"
    assert list(complaint.events.values_list("kind", flat=True)) == ["received", "assign"]


def test_staff_intake_needs_a_channel_and_known_people() -> None:
    with pytest.raises(InvalidInput) as caught:
        parse_incoming(
            {"description": "x", "phone": "13700001111", "assignee": "ghost", "department": "x"},
            staff=True,
        )
    assert fields_of(caught.value) == {"channel", "assignee", "department"}


def test_auditors_may_not_log_complaints(people) -> None:
    incoming = parse_incoming(
        {"description": "x", "phone": "13700001111", "channel": "hotline"}, staff=True
    )
    with pytest.raises(Forbidden):
        receive(incoming, actor=people["sun"])
    assert Complaint.objects.count() == 0


def test_a_failure_late_in_receive_leaves_nothing_behind(receive_public, monkeypatch) -> None:
    def explode(*args, **kwargs):
        raise RuntimeError("index down")

    monkeypatch.setattr("kesu.intake.services.index_complaint", explode)
    with pytest.raises(RuntimeError):
        receive_public()
    assert Complaint.objects.count() == 0
    assert Customer.objects.count() == 0
    assert OutboxMessage.objects.count() == 0
    assert timezone.now()  # the database is still usable
