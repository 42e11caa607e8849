"""Permission-checked reads of customers: one person across every channel (STYLE 3).

Who sees a customer: whoever may see at least one of their complaints (the rule of
complaints.selectors.visibility); administrators and auditors see every customer, also one
whose messages were all ignored or rejected. Of the customer's complaints and messages, a user
sees only those on complaints they may see; the others are counted, never shown.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from django.conf import settings
from django.db.models import CharField, Count, Exists, F, OuterRef, Q, QuerySet, Value
from django.utils import timezone
from django.utils.translation import gettext as _

from kesu.accounts.models import User
from kesu.complaints.models import OPEN_STATE_LIST, Channel, Complaint, Event
from kesu.complaints.selectors import complaints_visible_to, visibility
from kesu.customers.contact import mask_email, mask_phone
from kesu.customers.models import ContactKind, Customer
from kesu.intake.models import InboundMessage, Outcome

PAGE_SIZE = 25


def get_customer_for_user(user: User, pk: int) -> Customer:
    """The customer if the user may see one of their complaints; else Customer.DoesNotExist."""
    customer = Customer.objects.get(pk=pk)
    if visibility(user) is None:
        return customer
    if not complaints_visible_to(user).filter(customer=customer).exists():
        # The same answer as an unknown id: a guessed id tells nothing about who complained.
        raise Customer.DoesNotExist
    return customer


@dataclass(frozen=True)
class ContactRow:
    kind: str
    label: str
    value: str


@dataclass(frozen=True)
class Counts:
    total: int
    open: int
    last_30: int
    last_90: int
    visible: int

    @property
    def hidden(self) -> int:
        return self.total - self.visible


@dataclass(frozen=True)
class Entry:
    """One thing the customer sent: a message on a complaint or a channel's intake record."""

    at: datetime
    source: str  # "message" (an Event) or "inbound" (an InboundMessage)
    channel: str
    via: str
    summary: str
    text: str
    sender: str
    outcome: str
    outcome_label: str
    reason: str
    reference: str


@dataclass(frozen=True)
class Timeline:
    entries: list[Entry]
    total: int
    page: int
    page_size: int

    @property
    def pages(self) -> int:
        return max(1, -(-self.total // self.page_size))


@dataclass(frozen=True)
class CustomerPage:
    customer: Customer
    language: str
    contacts: list[ContactRow]
    counts: Counts
    complaints: list[Complaint]
    timeline: Timeline


def customer_page(user: User, customer: Customer, *, page: int = 1) -> CustomerPage:
    """Everything the customer page shows, in a fixed number of queries."""
    visible = complaints_visible_to(user).filter(customer=customer)
    complaints = list(
        visible.only(
            "id", "reference", "customer_id", "received_at", "channel", "state", "closure",
            "grade", "priority", "escalation_level", "subject", "resolve_due",
        ).order_by("-received_at", "-id")
    )  # fmt: skip
    return CustomerPage(
        customer=customer,
        language=str(dict(settings.LANGUAGES).get(customer.language, customer.language)),
        contacts=contact_rows(customer),
        counts=_counts(customer, visible=len(complaints)),
        complaints=complaints,
        timeline=timeline(user, customer, page=page),
    )


def contact_rows(customer: Customer) -> list[ContactRow]:
    """The customer's contact points as shown to staff: never an ID number or its hash.

    Phone numbers and addresses are masked as in the lists: shown in full only on a case page,
    which records the access (AccessLog).
    """
    rows = []
    for contact in customer.contacts.order_by("kind", "id"):
        kind = ContactKind(contact.kind) if contact.kind in ContactKind.values else None
        if kind == ContactKind.ID_CARD:
            value = _("ID number on file")
        elif kind == ContactKind.PHONE:
            value = mask_phone(contact.value)
        elif kind == ContactKind.EMAIL:
            value = mask_email(contact.value)
        else:
            value = contact.value
        label = _("ID card") if kind == ContactKind.ID_CARD else str(kind.label if kind else "")
        rows.append(ContactRow(kind=contact.kind, label=label or contact.kind, value=value))
    return rows


def _counts(customer: Customer, *, visible: int) -> Counts:
    """All the customer's complaints, seen or not: repeats raise the grade (triage, 90 days)."""
    now = timezone.now()
    found = Complaint.objects.filter(customer=customer).aggregate(
        total=Count("id"),
        open=Count("id", filter=Q(state__in_codes=OPEN_STATE_LIST)),
        last_30=Count("id", filter=Q(received_at__gte=now - timedelta(days=30))),
        last_90=Count("id", filter=Q(received_at__gte=now - timedelta(days=90))),
    )
    return Counts(
        total=found["total"],
        open=found["open"],
        last_30=found["last_30"],
        last_90=found["last_90"],
        visible=visible,
    )


def _messages(user: User, customer: Customer) -> tuple[QuerySet[Event], QuerySet[InboundMessage]]:
    """What the customer sent, narrowed to the complaints the user may see."""
    visible_ids = complaints_visible_to(user).filter(customer=customer).values("id")
    # A channel that joins a message to an open case writes both its record and the case's
    # customer_message event, at the same instant (intake.email_channel): the page shows the
    # record, which says where it came from, and not the event a second time.
    recorded = InboundMessage.objects.filter(
        complaint_id=OuterRef("complaint_id"), received_at=OuterRef("at"), outcome=Outcome.JOINED
    )
    events = Event.objects.filter(kind="customer_message", complaint_id__in=visible_ids).exclude(
        Exists(recorded)
    )
    # A channel's record of a message that opened or joined no complaint (ignored, rejected)
    # belongs to whoever sent it; one attached to a complaint follows that complaint's rule.
    inbound = InboundMessage.objects.filter(
        Q(customer=customer, complaint__isnull=True) | Q(complaint_id__in=visible_ids)
    )
    return events, inbound


def timeline(user: User, customer: Customer, *, page: int = 1) -> Timeline:
    """One page of everything the customer sent on every channel, newest first."""
    events, inbound = _messages(user, customer)
    # Both tables' keys in one sorted query, then the page's rows: a page costs the same
    # whether the customer wrote ten times or ten thousand.
    keys = (
        events.annotate(src=Value("message", output_field=CharField()), t=F("at"))
        .values_list("src", "id", "t")
        .order_by()
        .union(
            inbound.annotate(src=Value("inbound", output_field=CharField()), t=F("received_at"))
            .values_list("src", "id", "t")
            .order_by(),
            all=True,
        )
    )  # fmt: skip
    total = keys.count()
    pages = max(1, -(-total // PAGE_SIZE))
    page = min(max(page, 1), pages)
    start = (page - 1) * PAGE_SIZE
    found = list(keys.order_by("-t", "src", "-id")[start : start + PAGE_SIZE])
    event_rows = Event.objects.select_related("complaint").only(
        "id", "at", "data", "complaint__reference", "complaint__channel"
    ).in_bulk([pk for src, pk, _t in found if src == "message"])  # fmt: skip
    inbound_rows = InboundMessage.objects.select_related("complaint").only(
        "id", "source_key", "channel", "received_at", "sender", "summary", "text", "outcome",
        "reason", "complaint__reference",
    ).in_bulk([pk for src, pk, _t in found if src == "inbound"])  # fmt: skip
    entries = []
    for src, pk, _t in found:
        if src == "message" and pk in event_rows:
            entries.append(_from_event(event_rows[pk]))
        elif src == "inbound" and pk in inbound_rows:
            entries.append(_from_inbound(inbound_rows[pk]))
    return Timeline(entries=entries, total=total, page=page, page_size=PAGE_SIZE)


def _channel_label(code: str) -> str:
    return str(Channel(code).label) if code in Channel.values else code


def _from_event(event: Event) -> Entry:
    data = event.data or {}
    channel = str(data.get("channel") or event.complaint.channel)
    return Entry(
        at=event.at,
        source="message",
        channel=_channel_label(channel),
        via=_("Message on the complaint"),
        summary="",
        text=str(data.get("text", "")),
        sender="",
        outcome="",
        outcome_label="",
        reason="",
        reference=event.complaint.reference,
    )


def source_label(source_key: str) -> str:
    """An intake source key in words: email, webhook:<code>, wechat:<code>, mention:<platform>."""
    kind, _sep, code = source_key.partition(":")
    names = {
        "email": _("Email"),
        "webhook": _("Chat system"),
        "wechat": _("WeChat official account"),
        "wecom": _("WeCom"),
        "mention": _("Mention"),
    }
    name = str(names.get(kind, kind))
    return f"{name} · {code}" if code else name


def _masked_sender(sender: str) -> str:
    if "@" in sender:
        return mask_email(sender)
    if sender.startswith("+") and sender[1:].isdigit():
        return mask_phone(sender)
    return sender


def _from_inbound(message: InboundMessage) -> Entry:
    outcome = message.outcome
    return Entry(
        at=message.received_at,
        source="inbound",
        channel=_channel_label(message.channel),
        via=source_label(message.source_key),
        summary=message.summary,
        text=message.text,
        sender=_masked_sender(message.sender),
        outcome=outcome,
        outcome_label=str(Outcome(outcome).label) if outcome in Outcome.values else outcome,
        reason=message.reason,
        reference=message.complaint.reference if message.complaint is not None else "",
    )
