"""Use cases for customers: find them again on any channel, keep their history counters."""

from __future__ import annotations

from datetime import datetime

from django.db.models import F, Q, Value
from django.db.models.functions import Coalesce, Greatest

from kesu.customers.models import ContactKind, Customer, CustomerContact, Tier


def find_or_create_customer(
    *,
    name: str,
    phone: str,
    email: str,
    language: str,
    tier: Tier | None = None,
    complaint_at: datetime | None = None,
) -> Customer:
    """The customer owning this phone or email (phone first), created if none; adds new contacts.

    Phone and email must already be normalised. Runs inside the caller's transaction. With
    `complaint_at`, the complaint being received is counted (record_complaint) in the same go:
    in the database only, so a customer found again comes back with the counters of before
    (`last_complaint_at` is their previous complaint), and a new one with this complaint's.
    Intake relies on this to skip reading the history of customers who have none.
    """
    wanted = [(kind, value) for kind, value in ((ContactKind.PHONE, phone),
              (ContactKind.EMAIL, email)) if value]  # fmt: skip
    lookup = Q()
    for kind, value in wanted:
        lookup |= Q(kind=kind, value=value)
    found = {
        (c.kind, c.value): c.customer
        for c in CustomerContact.objects.select_related("customer").filter(lookup)
    } if wanted else {}  # fmt: skip
    customer = next((found[key] for key in wanted if key in found), None)
    if customer is None:
        customer = Customer.objects.create(
            name=name,
            phone=phone,
            email=email,
            language=language,
            tier=tier or Tier.REGULAR,
            complaint_count=1 if complaint_at else 0,
            last_complaint_at=complaint_at,
        )
        CustomerContact.objects.bulk_create(
            [CustomerContact(customer=customer, kind=kind, value=value) for kind, value in wanted]
        )
        return customer
    if complaint_at is not None:
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
    if changed:
        customer.save(update_fields=changed)
    return customer


def record_complaint(*, customer: Customer, at: datetime) -> None:
    """Count one more complaint for the customer (their history drives triage and risk)."""
    Customer.objects.filter(pk=customer.pk).update(
        complaint_count=F("complaint_count") + 1,
        # An imported old complaint must not move "last complaint" back in time.
        last_complaint_at=Greatest(Coalesce("last_complaint_at", Value(at)), Value(at)),
    )
