"""Intake: every channel turns what arrives into an IncomingComplaint and calls `receive()`.

`receive()` does, in one transaction (DESIGN, "the flow of one complaint"): find or create the
customer, give the reference number, create the complaint with its deadlines and its
`received` Event, store the evidence, index it for search, queue the acknowledgement to the
customer (DOMAIN L3) and, for staff intake, place it with a department or person.
"""

from __future__ import annotations

import hashlib
import json
import secrets
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from decimal import Decimal, InvalidOperation
from typing import Any

from django.db import IntegrityError, connection, transaction
from django.utils import timezone
from django.utils.dateparse import parse_date, parse_datetime
from django.utils.translation import gettext as _

from kesu import rows
from kesu.accounts.models import Department, Role, Store, User
from kesu.complaints import attachments as files
from kesu.complaints.forms import MAX_AMOUNT, MAX_TEXT
from kesu.complaints.models import (
    OPEN_STATE_LIST,
    Attachment,
    Channel,
    Complaint,
    EscalationLevel,
    Event,
    Grade,
    Priority,
    RemedyType,
)
from kesu.complaints.selectors import hash_token
from kesu.complaints.services import files_removed_on_error
from kesu.complaints.workflow import perform, perform_unattended
from kesu.customers.contact import (
    id_card_key,
    normalise_email,
    normalise_id_card,
    normalise_phone,
)
from kesu.customers.models import ContactKind, Customer, Tier
from kesu.customers.services import find_or_create_customer, record_complaint
from kesu.errors import FieldError, Forbidden, InvalidInput, NotAllowed
from kesu.intake.models import IdempotencyKey
from kesu.notify import services as outbox
from kesu.scheduler import wake_after_commit
from kesu.search.services import index_complaint
from kesu.sla import services as clocks
from kesu.triage import risk
from kesu.triage import services as triage
from kesu.triage.duplicates import same_grievance
from kesu.triage.engine import Facts, Prediction
from kesu.triage.selectors import current as triage_setup
from kesu.triage.selectors import taxonomy
from kesu.triage.text import fold

IDEMPOTENCY_WINDOW = timedelta(hours=24)
LANGUAGES = {"zh": "zh-hans", "zh-hans": "zh-hans", "zh-cn": "zh-hans", "en": "en"}
INTAKE_ROLES = frozenset({Role.AGENT, Role.HANDLER, Role.MANAGER, Role.EXPERT, Role.ADMIN})
# Clock skew we tolerate on a customer's "when did it happen".
FUTURE_SKEW = timedelta(minutes=10)


@dataclass(frozen=True)
class Assessment:
    """What staff may set when they log a complaint themselves (L4, L5)."""

    nature: str = ""
    category: str = ""
    grade: str = ""
    priority: str = ""
    escalation_level: int = 0
    department: Department | None = None
    assignee: User | None = None


@dataclass(frozen=True)
class IncomingComplaint:
    """One complaint as a channel delivers it, validated and normalised."""

    channel: str
    description: str
    subject: str = ""
    name: str = ""
    phone: str = ""
    email: str = ""
    occurred_at: datetime | None = None
    store: Store | None = None
    product: str = ""
    order_ref: str = ""
    amount: Decimal | None = None
    demand: str = ""
    demand_detail: str = ""
    language: str = "zh-hans"
    customer_tier: str = ""
    assessment: Assessment = field(default_factory=Assessment)
    # More ways to recognise the customer: (ContactKind, normalised value), e.g. a WeChat
    # open-id or the keyed hash of an ID number (customers.contact.id_card_key).
    identifiers: tuple[tuple[str, str], ...] = ()


@dataclass(frozen=True)
class Received:
    complaint: Complaint
    # Empty when the complaint joined an open one: its token went out with the first.
    tracking_token: str
    # False: the same grievance was already open and this joined it (see _open_repeat).
    created: bool = True


# --- Parsing ------------------------------------------------------------------------------------


class _Parser:
    """Collects every field error of one submission, so that the answer names them all."""

    def __init__(self, raw: Mapping[str, Any]) -> None:
        self.raw = raw
        self.errors: list[FieldError] = []

    def fail(self, name: str, message: str) -> None:
        self.errors.append(FieldError(name, message))

    def text(self, name: str, max_length: int, *, required: bool = False) -> str:
        value = self.raw.get(name)
        if value is None:
            value = ""
        if not isinstance(value, str):
            self.fail(name, _("Must be text."))
            return ""
        value = value.strip()
        if required and not value:
            self.fail(name, _("This field is required."))
        elif len(value) > max_length:
            self.fail(
                name,
                _("At most %(max)s characters (this has %(n)s).")
                % {"max": max_length, "n": len(value)},
            )
        return value

    def choice(self, name: str, choices: Any, *, default: str = "") -> str:
        value = self.text(name, 40) or default
        allowed = [str(c) for c in choices.values]
        if value and value not in allowed:
            self.fail(
                name,
                _("Unknown value %(value)s; use one of: %(allowed)s.")
                % {"value": repr(value), "allowed": ", ".join(allowed)},
            )
            return default
        return value


def _parse_when(p: _Parser, name: str) -> datetime | None:
    value = p.raw.get(name)
    if value in (None, ""):
        return None
    if isinstance(value, datetime):
        when: datetime | None = value
    elif isinstance(value, str):
        try:
            when = parse_datetime(value.strip())
            if when is None:
                day = parse_date(value.strip())
                when = datetime(day.year, day.month, day.day) if day else None
        except ValueError:
            when = None
    else:
        when = None
    if when is None:
        p.fail(name, _("Not a date or time; use ISO 8601 such as 2026-05-01T14:30+08:00."))
        return None
    if timezone.is_naive(when):
        when = timezone.make_aware(when, timezone.get_current_timezone())
    if when > timezone.now() + FUTURE_SKEW:
        p.fail(name, _("This is in the future."))
        return None
    return when


def _parse_amount(p: _Parser, name: str) -> Decimal | None:
    value = p.raw.get(name)
    if value in (None, ""):
        return None
    if isinstance(value, bool) or not isinstance(value, (int, float, str, Decimal)):
        p.fail(name, _("Must be a number."))
        return None
    try:
        amount = Decimal(str(value).strip().replace(",", "").lstrip("¥￥"))
    except InvalidOperation:
        p.fail(name, _("Must be a number."))
        return None
    if not amount.is_finite() or amount < 0:
        p.fail(name, _("Must be zero or more."))
        return None
    if amount > MAX_AMOUNT or amount != amount.quantize(Decimal("0.01")):
        p.fail(name, _("At most 10 digits before the point and 2 after."))
        return None
    return amount


def _parse_contact(p: _Parser) -> tuple[str, str]:
    phone_raw = p.text("phone", 40)
    email_raw = p.text("email", 254)
    phone = email = ""
    if phone_raw:
        try:
            phone = normalise_phone(phone_raw)
        except ValueError:
            p.fail("phone", _("%(value)s is not a valid phone number.") % {"value": phone_raw})
    if email_raw:
        try:
            email = normalise_email(email_raw)
        except ValueError:
            p.fail("email", _("%(value)s is not a valid email address.") % {"value": email_raw})
    if not phone_raw and not email_raw:
        p.fail("phone", _("Give a phone number or an email address so that we can reply."))
    return phone, email


def _parse_id_number(p: _Parser) -> tuple[tuple[str, str], ...]:
    raw = p.text("id_number", 20)
    if not raw:
        return ()
    try:
        return ((ContactKind.ID_CARD, id_card_key(normalise_id_card(raw))),)
    except ValueError as error:
        p.fail("id_number", _("Not a valid ID number: %(why)s.") % {"why": _(str(error))})
        return ()


def _parse_staff(p: _Parser) -> Assessment:
    department: Department | None = None
    assignee: User | None = None
    code = p.text("department", 40)
    if code:
        department = Department.objects.filter(code=code, is_active=True).first()
        if department is None:
            p.fail("department", _("No department %(code)s.") % {"code": repr(code)})
    username = p.text("assignee", 150)
    if username:
        assignee = User.objects.filter(username=username, is_active=True).first()
        if assignee is None:
            p.fail("assignee", _("No user %(name)s.") % {"name": repr(username)})
    level_raw = p.raw.get("escalation_level")
    level = 0
    if level_raw not in (None, ""):
        try:
            level = int(str(level_raw))
        except ValueError:
            level = -1
        if level not in EscalationLevel.values:
            p.fail("escalation_level", _("Use 0, 1, 2 or 3."))
            level = 0
    nature, category = _taxonomy(p)
    return Assessment(
        nature=nature,
        category=category,
        grade=p.choice("grade", Grade),
        priority=p.choice("priority", Priority),
        escalation_level=level,
        department=department,
        assignee=assignee,
    )


def _taxonomy(p: _Parser) -> tuple[str, str]:
    """Nature and category codes of the triage taxonomy; a category implies its nature."""
    tree = taxonomy()
    nature = p.text("nature", 40)
    category = p.text("category", 40)
    if nature and not tree.is_nature(nature):
        known = ", ".join(code for code, _label in tree.nature_choices())
        p.fail("nature", _("Unknown nature %(value)s; use one of: %(known)s.")
               % {"value": repr(nature), "known": known})  # fmt: skip
        nature = ""
    if category and not tree.is_category(category):
        p.fail("category", _("Unknown category %(value)s; GET /api/taxonomy lists them.")
               % {"value": repr(category)})  # fmt: skip
        category = ""
    if category:
        parent = tree.nature_of(category)
        if nature and nature != parent:
            p.fail("nature", _("%(category)s belongs to %(nature)s.")
                   % {"category": category, "nature": parent})  # fmt: skip
        nature = parent
    return nature, category


PUBLIC_FIELDS = frozenset(
    {
        "description", "name", "phone", "email", "subject", "channel", "occurred_at", "store",
        "order_ref", "product", "amount", "demand", "demand_detail", "language",
    }
)  # fmt: skip
STAFF_FIELDS = PUBLIC_FIELDS | {
    "customer_tier", "nature", "category", "grade", "priority", "escalation_level",
    "department", "assignee", "id_number",
}  # fmt: skip


def parse_incoming(raw: Mapping[str, Any], *, staff: bool) -> IncomingComplaint:
    """Validate one submission; raise InvalidInput naming every wrong field."""
    p = _Parser(raw)
    known = STAFF_FIELDS if staff else PUBLIC_FIELDS
    for name in raw:
        if name not in known:
            p.fail(name, _("Unknown field."))
    description = p.text("description", MAX_TEXT, required=True)
    subject = p.text("subject", 200)
    name = p.text("name", 100)
    phone, email = _parse_contact(p)
    channel = p.choice("channel", Channel, default="" if staff else Channel.WEB)
    if staff and not channel:
        p.fail("channel", _("Say through which channel the complaint came."))
    occurred_at = _parse_when(p, "occurred_at")
    store: Store | None = None
    store_code = p.text("store", 40)
    if store_code:
        store = Store.objects.filter(code=store_code).first()
        if store is None:
            p.fail("store", _("No store %(code)s.") % {"code": repr(store_code)})
    amount = _parse_amount(p, "amount")
    # The demand may be a code (refund, replacement …) or the customer's own words.
    demand_raw = p.text("demand", 500)
    demand_detail = p.text("demand_detail", 500)
    if demand_raw in RemedyType.values:
        demand = demand_raw
    elif demand_raw:
        demand = RemedyType.OTHER
        demand_detail = demand_detail or demand_raw
    else:
        demand = RemedyType.OTHER if demand_detail else ""
    language_raw = p.text("language", 10).lower()
    language = LANGUAGES.get(language_raw or "zh-hans", "")
    if not language:
        p.fail("language", _("Use zh or en."))
    tier = p.choice("customer_tier", Tier) if staff else ""
    assessment = _parse_staff(p) if staff else Assessment()
    identifiers = _parse_id_number(p) if staff else ()
    if p.errors:
        raise InvalidInput(p.errors)
    return IncomingComplaint(
        channel=channel,
        description=description,
        subject=subject or _subject_from(description),
        name=name,
        phone=phone,
        email=email,
        occurred_at=occurred_at,
        store=store,
        product=p.text("product", 200),
        order_ref=p.text("order_ref", 100),
        amount=amount,
        demand=demand,
        demand_detail=demand_detail,
        language=language,
        customer_tier=tier,
        assessment=assessment,
        identifiers=identifiers,
    )


def _subject_from(description: str) -> str:
    first_line = description.strip().splitlines()[0] if description.strip() else ""
    return first_line[:60] + ("…" if len(first_line) > 60 else "")


# --- Receiving ----------------------------------------------------------------------------------


def next_reference(at: datetime) -> str:
    """KS-YYYYMMDD-NNNNNN: the day in the organisation's zone and that day's running number."""
    day = timezone.localdate(at)
    table = "complaints_referencecounter"
    with connection.cursor() as cursor:
        # One statement that creates or bumps the day's row: no race between two intakes.
        cursor.execute(
            f"INSERT INTO {table} (day, last) VALUES (%s, 1) "  # noqa: S608 - constant table
            f"ON CONFLICT (day) DO UPDATE SET last = {table}.last + 1 RETURNING last",
            [day],
        )
        number = cursor.fetchone()[0]
    return f"KS-{day:%Y%m%d}-{number:06d}"


def receive(
    incoming: IncomingComplaint,
    *,
    actor: User | None,
    uploads: list[files.CheckedUpload] | None = None,
    received_at: datetime | None = None,
    notify_customer: bool = True,
    join_repeats: bool = True,
    data: Mapping[str, Any] | None = None,
) -> Received:
    """Accept one complaint from any channel; everything is written or nothing is.

    The same grievance from the same customer while their complaint is open joins it as a
    customer message (`Received.created` is False; see _open_repeat) unless `join_repeats` is
    False. `received_at` and `notify_customer=False` are for importers replaying history and
    for demo data: the complaint keeps its original time and the customer is not messaged
    again. `data` goes into the `received` event (a channel's message id, say).
    """
    prediction = _predict(incoming)
    with transaction.atomic():
        return _receive(
            incoming,
            actor=actor,
            uploads=uploads,
            received_at=received_at,
            notify_customer=notify_customer,
            prediction=prediction,
            join_repeats=join_repeats,
            data=data,
        )


def _text(incoming: IncomingComplaint) -> str:
    return triage.text_of(incoming.subject, incoming.description, incoming.demand_detail)


def _predict(incoming: IncomingComplaint) -> Prediction | None:
    """The classifier's reading, taken before the transaction: no lock waits on the model."""
    return None if incoming.assessment.category else triage.predict(_text(incoming))


def _receive(
    incoming: IncomingComplaint,
    *,
    actor: User | None,
    uploads: list[files.CheckedUpload] | None,
    received_at: datetime | None,
    notify_customer: bool,
    prediction: Prediction | None,
    join_repeats: bool = True,
    data: Mapping[str, Any] | None = None,
) -> Received:
    """The body of receive(); the caller holds the transaction."""
    if actor is not None and actor.role not in INTAKE_ROLES:
        raise Forbidden(_("Your role may not log complaints."))
    now = received_at or timezone.now()
    token = secrets.token_urlsafe(16)
    saved: list[Attachment] = []
    # The new rows (customer, complaint, event, search row, acknowledgement) go in together:
    # one statement on PostgreSQL, where a round trip per row was most of intake's cost.
    batch = rows.Batch()
    with files_removed_on_error(saved):
        customer = find_or_create_customer(
            name=incoming.name,
            phone=incoming.phone,
            email=incoming.email,
            language=incoming.language,
            tier=Tier(incoming.customer_tier) if incoming.customer_tier else None,
            complaint_at=now,
            batch=batch,
            identifiers=incoming.identifiers,
            record=False,
        )
        if customer.pk is not None:
            # Found again: the same grievance may already be open (another channel, a
            # second mail). Then it joins that case, and nothing new is written.
            repeat = _open_repeat(customer, incoming, now) if join_repeats else None
            if repeat is not None:
                _join(repeat, incoming, uploads, saved, actor=actor, now=now, data=data)
                return Received(complaint=repeat, tracking_token="", created=False)
            record_complaint(customer=customer, at=now)
        a = incoming.assessment
        earlier = (
            triage.earlier_complaints(customer.pk, now) if _may_have_earlier(customer, now) else ()
        )
        # Triage before the row exists, so that it is written once with its assessment.
        reading = triage.read(
            Facts(
                text=_text(incoming),
                amount=incoming.amount,
                tier=customer.tier,
                earlier=earlier,
                at=now,
                nature=a.nature,
                category=a.category,
                grade=a.grade,
                priority=a.priority,
            ),
            prediction,
        )
        complaint = batch.add(Complaint(
            reference=next_reference(now),
            tracking_token_hash=hash_token(token),
            customer=customer,
            language=incoming.language,
            channel=incoming.channel,
            subject=incoming.subject,
            description=incoming.description,
            occurred_at=incoming.occurred_at,
            store=incoming.store,
            product=incoming.product,
            order_ref=incoming.order_ref,
            amount=incoming.amount,
            demand=incoming.demand,
            demand_detail=incoming.demand_detail,
            **triage.triage_fields(reading),
            category_confirmed=bool(a.category),
            escalation_level=a.escalation_level,
            created_by=actor,
            received_at=now,
        ))  # fmt: skip
        risk.at_intake(complaint, customer.pk, len(earlier), now)  # E3: before the row is written
        clocks.start_clocks(complaint, customer, now=now, batch=batch)
        batch.add(Event(
            complaint=complaint,
            kind="received",
            actor=actor,
            at=now,
            to_state=complaint.state,
            data={
                "channel": complaint.channel,
                "attachments": [upload.name for upload in uploads or []],
                "assessment": {
                    k: v
                    for k, v in (
                        ("nature", a.nature),
                        ("category", a.category),
                        ("grade", a.grade),
                        ("priority", a.priority),
                        ("escalation_level", a.escalation_level),
                    )
                    if v
                },
                "triage": triage.summary(reading),
                **(data or {}),
            },
            customer_visible=True,
        ))  # fmt: skip
        index_complaint(complaint, new=True, batch=batch)
        if notify_customer:
            # DOMAIN L3: the acknowledgement, with the reference number, goes out at once.
            outbox.notify_customer(complaint, "acknowledgement", token=token, batch=batch)
            wake_after_commit()
        batch.write()
        for upload in uploads or []:
            saved.append(files.store(complaint, upload, by=actor, internal=False, at=now))
        # E2: a regulator, media, legal or safety signal alerts the escalation group at once.
        clocks.raise_alert(complaint, reading.flags, cause="received", now=now)
        _place(complaint, actor, a, now, notify_customer)
    return Received(complaint=complaint, tracking_token=token)


def _open_repeat(
    customer: Customer, incoming: IncomingComplaint, now: datetime
) -> Complaint | None:
    """The customer's open complaint that this one repeats, if any (issue: intake channels).

    The same grievance often arrives twice: an email and then a call, a chat and then a post.
    Within the configured days (Scoring.join_window_days) and from its similarity
    (triage.duplicates.same_grievance) it joins the most similar open complaint instead of
    opening a second one that two people would handle. Different order numbers never join.
    """
    scoring = triage_setup().scoring
    window = timedelta(days=scoring.join_window_days)
    last = customer.last_complaint_at  # before this complaint (find_or_create_customer)
    if not scoring.join_window_days or last is None or now - last > window:
        return None
    candidates = [
        c
        for c in Complaint.objects.filter(
            customer=customer, state__in_codes=OPEN_STATE_LIST, received_at__gte=now - window
        ).order_by("-received_at")[:20]
        if not (incoming.order_ref and c.order_ref and incoming.order_ref != c.order_ref)
    ]
    text = fold(f"{incoming.subject}\n{incoming.description}")
    scored = [(same_grievance(text, fold(f"{c.subject}\n{c.description}")), c) for c in candidates]
    best = max(scored, key=lambda pair: pair[0], default=None)
    return best[1] if best is not None and best[0] >= scoring.join_similarity else None


def _join(
    complaint: Complaint,
    incoming: IncomingComplaint,
    uploads: list[files.CheckedUpload] | None,
    saved: list[Attachment],
    *,
    actor: User | None,
    now: datetime,
    data: Mapping[str, Any] | None,
) -> None:
    """Add a repeated complaint to the open one: a customer message that says so, its files."""
    text = incoming.description
    if incoming.subject and not incoming.description.startswith(incoming.subject.rstrip("…")):
        text = f"{incoming.subject}\n{incoming.description}"
    _add_message(
        complaint,
        text=text[:MAX_MESSAGE],
        channel=incoming.channel,
        now=now,
        data={"joined": True, "logged_by": actor.username if actor else None, **(data or {})},
    )
    for upload in uploads or []:
        saved.append(files.store(complaint, upload, by=actor, internal=False, at=now))


def _may_have_earlier(customer: Customer, now: datetime) -> bool:
    """Whether the customer may have complained in the 90 days before `now`.

    find_or_create_customer() returns a customer found again with the `last_complaint_at` of
    their previous complaint, and one created just now with this complaint's (see there). Most
    complainants are new: their history is not read at all.
    """
    last = customer.last_complaint_at
    if last is None or last == now:
        return False
    return last > now or now - last <= triage.HISTORY


def _place(
    complaint: Complaint, actor: User | None, a: Assessment, now: datetime, notify: bool
) -> None:
    """Staff intake may name a department or person at once (L5): an `assign` action."""
    if actor is not None and (a.department is not None or a.assignee is not None):
        data: dict[str, Any] = {}
        if a.department is not None:
            data["department"] = a.department.code
        if a.assignee is not None:
            data["assignee"] = a.assignee.username
        perform(complaint, "assign", actor, at=now, notify_customer=notify, **data)


# --- Idempotent intake --------------------------------------------------------------------------


def fingerprint(payload: Mapping[str, Any]) -> str:
    canonical = json.dumps(payload, sort_keys=True, ensure_ascii=False, default=str)
    return hashlib.sha256(canonical.encode("utf-8")).hexdigest()


def public_answer(received: Received) -> dict[str, Any]:
    """The answer to a submission; a joined one has no token (it went out with the first)."""
    complaint = received.complaint
    return {
        "reference": complaint.reference,
        "created": received.created,
        "tracking_token": received.tracking_token,
        "status": complaint.state,
        "tracking_url": outbox.tracking_url(complaint, received.tracking_token)
        if received.created
        else "",
    }


def check_idempotency_key(key: str) -> str:
    key = key.strip()
    if not key or len(key) > 255 or not key.isprintable() or not key.isascii():
        raise InvalidInput.one(
            "Idempotency-Key", _("Use 1 to 255 printable ASCII characters, e.g. a UUID.")
        )
    return key


def receive_once(
    incoming: IncomingComplaint,
    *,
    key: str | None,
    payload_fingerprint: str,
    actor: User | None,
    uploads: list[files.CheckedUpload] | None = None,
) -> tuple[dict[str, Any], bool]:
    """`receive()` guarded by the client's Idempotency-Key (24 h): (answer, replayed)."""
    if key is None:
        return public_answer(receive(incoming, actor=actor, uploads=uploads)), False
    key = check_idempotency_key(key)
    prediction = _predict(incoming)
    for _attempt in range(2):
        try:
            with transaction.atomic():
                cutoff = timezone.now() - IDEMPOTENCY_WINDOW
                IdempotencyKey.objects.filter(key=key, created_at__lt=cutoff).delete()
                existing = IdempotencyKey.objects.filter(key=key).first()
                if existing is not None:
                    if existing.fingerprint != payload_fingerprint:
                        raise InvalidInput.one(
                            "Idempotency-Key",
                            _("This key was already used for a different complaint."),
                        )
                    return dict(existing.response), True
                # The key's row goes in first: a concurrent twin waits on it and then fails
                # here, before it has stored anything.
                row = IdempotencyKey.objects.create(
                    key=key,
                    fingerprint=payload_fingerprint,
                    response={},
                    created_at=timezone.now(),
                )
                # Already in this transaction: the body of receive() without a savepoint.
                received = _receive(
                    incoming,
                    actor=actor,
                    uploads=uploads,
                    received_at=None,
                    notify_customer=True,
                    prediction=prediction,
                )
                answer = public_answer(received)
                row.complaint = received.complaint
                row.response = answer
                row.save(update_fields=["complaint", "response"])
                return answer, False
        except IntegrityError:
            # A concurrent request with the same key committed first: answer as it did.
            continue
    raise InvalidInput.one("Idempotency-Key", _("This key is in use by a concurrent request."))


# --- The customer writes again ------------------------------------------------------------------

MAX_MESSAGE = 5_000


def receive_message(
    complaint: Complaint,
    *,
    text: str,
    channel: str = Channel.WEB,
    at: datetime | None = None,
    data: Mapping[str, Any] | None = None,
) -> Event:
    """Add what the customer writes about an open complaint, and triage it again.

    The message is a customer-visible Event on the timeline; triage reads the complaint with
    all the customer's messages, so that a new threat (“I will call 12315”) raises the flags,
    grade and priority at once (issue: triage). A closed complaint takes no more messages.
    """
    text = text.strip() if isinstance(text, str) else ""
    if not text:
        raise InvalidInput.one("text", _("Write a message."))
    if len(text) > MAX_MESSAGE:
        raise InvalidInput.one(
            "text",
            _("At most %(max)s characters (this has %(n)s).")
            % {"max": MAX_MESSAGE, "n": len(text)},
        )
    with transaction.atomic():
        return _add_message(complaint, text=text, channel=channel, now=at or timezone.now(),
                            data=data)  # fmt: skip


def _add_message(
    complaint: Complaint,
    *,
    text: str,
    channel: str,
    now: datetime,
    data: Mapping[str, Any] | None = None,
) -> Event:
    """The body of receive_message(); the caller holds the transaction."""
    locked = (
        Complaint.objects.select_for_update(of=("self",))
        .select_related("customer")
        .get(pk=complaint.pk)
    )
    if not locked.is_open:
        raise NotAllowed(
            _("This complaint is closed; please file a new complaint and mention %(ref)s.")
            % {"ref": locked.reference}
        )
    event = Event.objects.create(
        complaint=locked,
        kind="customer_message",
        actor=None,
        at=now,
        data={"text": text, "channel": channel, **(data or {})},
        customer_visible=True,
    )
    triage.retriage(locked, trigger="customer_message", at=now)
    # A higher grade or a new risk signal may bring a stricter policy: deadlines follow.
    moved = clocks.after_action(locked, "triaged", from_state=locked.state,
                                customer_visible=False, data={}, now=now)  # fmt: skip
    # E3: what the customer wrote, and the deadlines it moved, may change the escalation risk.
    risk_before = risk.rescore(locked, now)
    locked.save(update_fields=[*moved.fields, *risk.FIELDS, "updated_at"])
    risk.record_change(locked, risk_before, trigger="customer_message", now=now)
    clocks.raise_alert(locked, locked.flags.split(), cause="customer_message", now=now)
    if locked.assignee is not None:
        # The person on the case hears at once that the customer wrote (any channel).
        outbox.notify_staff(complaint=locked, kind="customer_wrote", users=[locked.assignee],
                            data={"channel": channel}, now=now)  # fmt: skip
    return event


# --- The customer decides on a proposed remedy (L7) ----------------------------------------------


def decide_remedy(complaint: Complaint, *, accept: Any, reason: Any = "") -> Event:
    """The customer accepts or rejects the remedy proposed to them (tracking page or API).

    A rejection needs the reason and returns the case to investigating (the workflow's
    customer_reject); the caller has checked the customer's tracking code.
    """
    if not isinstance(accept, bool):
        raise InvalidInput.one("accept", _("Say whether you accept the proposal (true or false)."))
    if accept:
        return perform_unattended(complaint, "customer_accept")
    reason = reason.strip() if isinstance(reason, str) else ""
    if not reason:
        raise InvalidInput.one("reason", _("Tell us why, so that we can propose something better."))
    return perform_unattended(complaint, "customer_reject", reason=reason)
