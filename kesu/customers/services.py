"""Use cases for customers: find them again on any channel, keep their history counters."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from django.db import connection
from django.db.models import F, Value
from django.db.models.functions import Coalesce, Greatest

from kesu import rows
from kesu.customers.models import ContactKind, Customer, CustomerContact, Tier


def find_or_create_customer(
    *,
    name: str,
    phone: str,
    email: str,
    language: str,
    tier: Tier | None = None,
    complaint_at: datetime | None = None,
    batch: rows.Batch | None = None,
    identifiers: Sequence[tuple[str, str]] = (),
    record: bool = True,
) -> Customer:
    """The customer owning this phone, email or other identifier, created if none.

    Phone, email and `identifiers` ((ContactKind, value): WeChat open-id and union-id, an ID
    card's keyed hash, a chat system's user id) must already be normalised; they are tried in
    that order, and the ones the customer does not have yet are added to them.

    Runs inside the caller's transaction. With
    `complaint_at`, the complaint being received is counted (record_complaint) in the same go:
    in the database only, so a customer found again comes back with the counters of before
    (`last_complaint_at` is their previous complaint), and a new one with this complaint's.
    Intake relies on this to skip reading the history of customers who have none. With
    `record=False` a customer found again is not counted: the caller calls record_complaint()
    once it knows a complaint is opened (not joined to an open one).
    A new customer and its contacts are added to `batch` when one is given (written when the
    caller writes it), else inserted at once.
    """
    wanted = [*dict.fromkeys((kind, value) for kind, value in ((ContactKind.PHONE, phone),
              (ContactKind.EMAIL, email), *identifiers) if value)]  # fmt: skip
    owners = _owners(wanted)
    owner = next((owners[key] for key in wanted if key in owners), None)
    customer = Customer.objects.get(pk=owner) if owner is not None else None
    if customer is None:
        customer = Customer(
            name=name,
            phone=phone,
            email=email,
            language=language,
            tier=tier or Tier.REGULAR,
            complaint_count=1 if complaint_at else 0,
            last_complaint_at=complaint_at,
        )
        contacts = [CustomerContact(customer=customer, kind=k, value=v) for k, v in wanted]
        if batch is not None:
            batch.add(customer)
            for contact in contacts:
                batch.add(contact)
        else:
            rows.add(customer)
            rows.add_all(contacts)
        return customer
    if complaint_at is not None and record:
        record_complaint(customer=customer, at=complaint_at)

    changed: list[str] = []
    if name and not customer.name:
        customer.name = name
        changed.append("name")
    if tier is not None and tier != customer.tier:
        customer.tier = tier
        changed.append("tier")
    for kind, value, field in (
        (ContactKind.PHONE, phone, "phone"),
        (ContactKind.EMAIL, email, "email"),
    ):
        if not value:
            continue
        # A contact that already belongs to another customer stays where it is: merging two
        # customer records is a person's decision, not intake's.
        _, created = CustomerContact.objects.get_or_create(
            kind=kind, value=value, defaults={"customer": customer}
        )
        if created and not getattr(customer, field):
            setattr(customer, field, value)
            changed.append(field)
    for other_kind, other_value in identifiers:
        if other_value and (other_kind, other_value) not in owners:
            CustomerContact.objects.get_or_create(
                kind=other_kind, value=other_value, defaults={"customer": customer}
            )
    if changed:
        customer.save(update_fields=changed)
    return customer


def _owners(wanted: Sequence[tuple[str, str]]) -> dict[tuple[str, str], int]:
    """The customer id of each of these contacts that is known; one plain query (intake's path)."""
    if not wanted:
        return {}
    table = CustomerContact._meta.db_table
    where = " OR ".join(["(kind = %s AND value = %s)"] * len(wanted))
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT kind, value, customer_id FROM {table} WHERE {where}",  # noqa: S608 - no input
            [part for pair in wanted for part in pair],
        )
        return {(kind, value): owner for kind, value, owner in cursor.fetchall()}


def record_complaint(*, customer: Customer, at: datetime) -> None:
    """Count one more complaint for the customer (their history drives triage and risk)."""
    Customer.objects.filter(pk=customer.pk).update(
        complaint_count=F("complaint_count") + 1,
        # An imported old complaint must not move "last complaint" back in time.
        last_complaint_at=Greatest(Coalesce("last_complaint_at", Value(at)), Value(at)),
    )
