"""kesu.rows: new rows written with statements built once, alone or as one batch."""

from __future__ import annotations

from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any

import pytest
from django.apps import apps
from django.db import IntegrityError, connection, transaction
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from kesu import rows
from kesu.complaints.models import Complaint, Event
from kesu.customers.models import Customer, CustomerContact
from kesu.notify.models import OutboxMessage
from kesu.search.models import SearchDocument

pytestmark = pytest.mark.django_db


def _complaint(customer: Customer, reference: str = "KS-20260501-000001") -> Complaint:
    now = timezone.now()
    return Complaint(
        reference=reference,
        tracking_token_hash="h" * 64,
        customer=customer,
        channel="web",
        subject="洗衣机漏水",
        description="新买的洗衣机第一次用就漏水，要求换货。",
        amount=Decimal("2999.50"),
        received_at=now,
        ack_due=now,
        first_contact_due=now + timedelta(hours=24),
        resolve_due=now + timedelta(days=15),
        triage_reasons=[{"kind": "score", "score": 3, "grade": "D"}],
    )


def test_add_writes_the_row_with_the_models_defaults_and_gives_its_id() -> None:
    customer = rows.add(Customer(name="王女士", phone="+8613800000001"))
    assert customer.pk is not None and not customer._state.adding
    stored = Customer.objects.get(pk=customer.pk)
    assert (stored.name, stored.phone, stored.tier, stored.complaint_count) == (
        "王女士", "+8613800000001", "regular", 0,
    )  # fmt: skip
    # auto_now_add was filled in, on the row and on the instance alike.
    assert stored.created_at is not None and stored.created_at == customer.created_at


def test_add_refuses_an_instance_that_has_an_id() -> None:
    customer = rows.add(Customer(name="王女士"))
    with pytest.raises(ValueError, match="already has an id"):
        rows.add(customer)


def test_add_all_writes_several_rows_in_one_statement() -> None:
    customer = rows.add(Customer(name="王女士"))
    contacts = [
        CustomerContact(customer=customer, kind="phone", value="+8613800000001"),
        CustomerContact(customer=customer, kind="email", value="wang@example.com"),
    ]
    with CaptureQueriesContext(connection) as queries:
        rows.add_all(contacts)
    assert len(queries) == 1
    assert sorted(customer.contacts.values_list("kind", "value")) == [
        ("email", "wang@example.com"), ("phone", "+8613800000001"),
    ]  # fmt: skip


def test_a_batch_writes_rows_that_point_at_each_other() -> None:
    batch = rows.Batch()
    customer = batch.add(Customer(name="王女士", phone="+8613800000001"))
    batch.add(CustomerContact(customer=customer, kind="phone", value="+8613800000001"))
    complaint = batch.add(_complaint(customer))
    event = batch.add(Event(complaint=complaint, kind="received", at=complaint.received_at,
                            data={"channel": "web", "附件": []}))  # fmt: skip
    document = batch.add(SearchDocument(complaint=complaint, tokens="洗衣 衣机 漏水"))
    message = batch.add(
        OutboxMessage(channel="sms", kind="acknowledgement", recipient="+8613800000001",
                      body="您的投诉已受理", complaint=complaint, next_attempt_at=complaint.ack_due)
    )  # fmt: skip
    with CaptureQueriesContext(connection) as queries:
        batch.write()
    # One statement on PostgreSQL; row by row elsewhere.
    assert len(queries) == (1 if connection.vendor == "postgresql" else 6)
    assert batch.rows == []
    assert customer.pk and complaint.pk and event.pk and message.pk
    assert (complaint.customer_id, event.complaint_id, document.pk, message.complaint_id) == (
        customer.pk, complaint.pk, complaint.pk, complaint.pk,
    )  # fmt: skip
    stored = Complaint.objects.get(pk=complaint.pk)
    assert stored.customer.contacts.get().value == "+8613800000001"
    assert (stored.amount, stored.state, stored.grade, stored.triage_reasons) == (
        Decimal("2999.50"), "received", "E", [{"kind": "score", "score": 3, "grade": "D"}],
    )  # fmt: skip
    assert stored.updated_at is not None
    assert Event.objects.get(pk=event.pk).data == {"channel": "web", "附件": []}
    assert SearchDocument.objects.get(pk=complaint.pk).tokens == "洗衣 衣机 漏水"
    assert OutboxMessage.objects.get(pk=message.pk).status == "pending"


def test_the_same_batch_shape_writes_again_with_new_values() -> None:
    for number in (1, 2):
        batch = rows.Batch()
        customer = batch.add(Customer(name=f"客户{number}"))
        batch.add(_complaint(customer, reference=f"KS-20260501-00000{number}"))
        batch.write()
    assert list(Complaint.objects.order_by("pk").values_list("reference", "customer__name")) == [
        ("KS-20260501-000001", "客户1"), ("KS-20260501-000002", "客户2"),
    ]  # fmt: skip


def test_a_row_pointing_at_an_unsaved_row_outside_the_batch_is_refused() -> None:
    stranger = Customer(name="不在批次里")
    batch = rows.Batch()
    batch.add(_complaint(stranger))
    batch.add(Customer(name="另一位"))  # two rows, so that PostgreSQL takes the chained path
    with pytest.raises(ValueError, match="not saved before it"):
        batch.write()
    assert not Complaint.objects.exists() and not Customer.objects.exists()


def test_a_failing_batch_leaves_nothing_behind() -> None:
    rows.add(Customer(name="王女士"))
    rows.add(CustomerContact(customer=Customer.objects.get(), kind="phone", value="+8613800000001"))
    batch = rows.Batch()
    customer = batch.add(Customer(name="重复的电话"))
    batch.add(CustomerContact(customer=customer, kind="phone", value="+8613800000001"))
    batch.add(_complaint(customer))
    with pytest.raises(IntegrityError), transaction.atomic():
        batch.write()
    assert Customer.objects.count() == 1 and not Complaint.objects.exists()


def _by_the_field(obj: Any) -> list[Any]:
    """The values as Django's own INSERT takes them: each field's pre_save and conversion."""
    return [
        f.get_db_prep_save(f.pre_save(obj, True), connection) for f in rows._writable(type(obj))
    ]


def _comparable(values: list[Any], model: type[Any]) -> list[tuple[type, Any]]:
    # auto_now(_add) fields take the time anew on each call: their value is not compared.
    moving = {
        i
        for i, f in enumerate(rows._writable(model))
        if getattr(f, "auto_now", False) or getattr(f, "auto_now_add", False)
    }
    # psycopg's JSON wrappers do not compare equal: their content is compared.
    return [(type(v), None if i in moving else getattr(v, "obj", v)) for i, v in enumerate(values)]


def test_values_are_converted_as_the_fields_would_for_every_model_intake_writes(
    make_complaint: Any, people: Any
) -> None:
    # A complaint with amount, store, staff actor and assignment: rows of every kind intake
    # writes, and more (assign event, clocks, outbox, search row), read back from the tables.
    make_complaint(actor=people["wang"], amount="2999.50", order_ref="JD-1", email="a@b.cn")
    checked = set()
    for model in apps.get_models():
        if not model._meta.managed or model._meta.proxy:
            continue
        for obj in model._default_manager.all()[:5]:
            assert _comparable(rows._values(obj), model) == _comparable(_by_the_field(obj), model)
            checked.add(model.__name__)
    assert {"Customer", "CustomerContact", "Complaint", "Event", "SearchDocument"} <= checked
    assert {"OutboxMessage", "Clock"} & checked


def test_values_of_an_unexpected_type_still_go_through_the_field() -> None:
    contact = CustomerContact(customer_id="7", kind="phone", value=13800000001)
    customer = Customer(name=12345, complaint_count="3", language="zh-hans")
    for obj in (contact, customer):
        assert _comparable(rows._values(obj), type(obj)) == _comparable(
            _by_the_field(obj), type(obj)
        )
    # A naive time goes through the field too, which warns of it and makes it aware.
    event = Event(complaint_id=1, kind="note", at=datetime(2026, 5, 1, 9, 30))
    with pytest.warns(RuntimeWarning, match="naive datetime"):
        fast = rows._values(event)
    with pytest.warns(RuntimeWarning, match="naive datetime"):
        assert _comparable(fast, Event) == _comparable(_by_the_field(event), Event)
    names = [f.name for f in rows._writable(Customer)]
    values = dict(zip(names, rows._values(customer), strict=True))
    assert values["name"] == "12345"
    assert int(values["complaint_count"]) == 3
