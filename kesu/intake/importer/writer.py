"""Running an import: batches of good rows, each written in one transaction with its
customers, triage, reference numbers, events, search rows and ImportedRow."""

from __future__ import annotations

import logging
import os
import time
from collections import Counter
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import IO, Any

from django.db import IntegrityError, OperationalError, connection, transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from kesu.accounts.models import User
from kesu.complaints import deadlines
from kesu.complaints.models import Closure, Complaint, Event, State
from kesu.customers.contact import national_digits
from kesu.customers.models import ContactKind, Customer, CustomerContact, Tier
from kesu.errors import InvalidInput
from kesu.intake.importer.files import SourceFile, check_columns, open_source
from kesu.intake.importer.mapping import ImportMapping
from kesu.intake.importer.rows import (
    Problem,
    _facts,
    _imported,
    _Prepared,
    _Preparer,
    _read_texts,
    _Row,
    _text,
    _Workers,
)
from kesu.intake.importer.sql import _chunks, _name, _select, _sqlite_time, _Table
from kesu.intake.models import ImportedRow, ImportJob
from kesu.search.models import SearchDocument
from kesu.search.tokens import document_tokens
from kesu.sla import services as sla
from kesu.sla.models import Clock, Target
from kesu.triage import services as triage
from kesu.triage.engine import assess
from kesu.triage.selectors import Setup, current

log = logging.getLogger(__package__)  # the package's logger, kesu.intake.importer

BATCH_SIZE = 2000
# Bad rows kept on the job (all are counted; the command can write every one to a file).
ERRORS_KEPT = 1000
# Files of at least this many rows are read in worker processes (_Workers) while this one writes.
PARALLEL_FROM = 20_000
# What an open complaint's policy and clocks set on it, and what an imported clock carries.
DEADLINE_COLUMNS = ("policy_id", "ack_due", "first_contact_due", "resolve_due", "update_due")
CLOCK_COLUMNS = ("target", "allowed", "started_at", "warn_at", "due_at", "warned_at",
                 "breached_at", "level", "next_check_at")  # fmt: skip
ATTEMPTS = 3  # a batch that meets a concurrent writer (same contact, same id) is tried again


@dataclass
class _Customers:
    """A batch's customers: those to create, contacts added to known ones, the known ones."""

    new: list[_NewCustomer] = field(default_factory=list)
    added: list[tuple[int, str, str]] = field(default_factory=list)
    known: dict[int, dict[str, Any]] = field(default_factory=dict)


@dataclass(eq=False)
class _NewCustomer:
    name: str
    phone: str
    email: str
    language: str
    contacts: list[tuple[str, str]] = field(default_factory=list)
    rows: list[_Row] = field(default_factory=list)
    id: int | None = None


def _batches(
    rows: Iterable[tuple[int, Sequence[Any]]], size: int
) -> Iterator[list[tuple[int, Sequence[Any]]]]:
    batch: list[tuple[int, Sequence[Any]]] = []
    for row in rows:
        batch.append(row)
        if len(batch) >= size:
            yield batch
            batch = []
    if batch:
        yield batch


@dataclass
class Outcome:
    """What a run did (or, dry, would do)."""

    dry_run: bool
    total: int | None = None
    done: int = 0
    created: int = 0
    skipped: int = 0
    failed: int = 0
    errors: list[dict[str, Any]] = field(default_factory=list)
    seconds: float = 0.0
    kind: str = ""
    overdue: int = 0  # open complaints already past their resolution deadline

    @property
    def message(self) -> str:
        if self.dry_run:
            text = _(
                "Dry run of %(done)s rows: %(created)s would be imported, %(skipped)s are "
                "already there, %(failed)s bad rows. Nothing was written."
            )
        else:
            text = _(
                "%(done)s rows read: %(created)s complaints imported, %(skipped)s already "
                "there, %(failed)s bad rows."
            )
        text %= vars(self)
        if self.overdue:
            text += ("" if text.endswith("。") else " ") + ngettext(
                "%(overdue)s open complaint was already past its resolution deadline: its clocks "
                "run from its received time, and its escalation was not announced.",
                "%(overdue)s open complaints were already past their resolution deadline: their "
                "clocks run from their received time, and their escalation was not announced.",
                self.overdue,
            ) % {"overdue": self.overdue}
        return text


Progress = Callable[[Outcome], None]


def import_file(
    handle: IO[bytes],
    *,
    name: str,
    mapping: ImportMapping,
    dry_run: bool = False,
    batch_size: int = BATCH_SIZE,
    actor: User | None = None,
    job: ImportJob | None = None,
    progress: Progress | None = None,
    on_problem: Callable[[Problem], None] | None = None,
    workers: int | None = None,
) -> Outcome:
    """Import (or with `dry_run`, only check) every row of a CSV or XLSX file.

    InvalidInput before any row is read if the file cannot be read or lacks a mapped column.
    Each batch of good rows is one transaction; bad rows are counted, the first ERRORS_KEPT
    kept, and each passed to `on_problem`. `job` gets its counters with each batch.
    """
    if batch_size < 1:
        raise InvalidInput.one("batch_size", _("Must be at least 1."))
    source = open_source(handle, name)
    positions = check_columns(mapping, source.header)
    run = _Run(
        mapping,
        positions,
        source,
        dry_run=dry_run,
        actor=actor,
        job=job,
        name=name,
        progress=progress,
        on_problem=on_problem,
    )
    return run.all(batch_size, workers)


class _Statistics:
    """Fresh planner statistics while an import grows the tables (PostgreSQL).

    The batch's lookups (customers' history, contacts) are planned from the statistics of the
    tables they read; an import that multiplies a table leaves them describing a much smaller
    one, and the planner then scans a range of complaints instead of a customer's few: a
    hundred times slower by 100,000 rows, before autovacuum (if it runs at all) catches up.
    So the tables are analysed whenever the import has added a fifth of what they held.
    """

    TABLES = (Complaint, Customer, CustomerContact, ImportedRow)
    AT_LEAST = 10_000

    def __init__(self) -> None:
        self.postgres = connection.vendor == "postgresql"
        self.since = 0
        self.next = self.AT_LEAST
        self.counted = 0

    def after(self, created: int, *, last: bool = False) -> None:
        if not self.postgres or created == self.counted:
            return
        self.since += created - self.counted
        self.counted = created
        if self.since < self.next and not last:
            return
        tables = [*self.TABLES, Event, SearchDocument] if last else self.TABLES
        with connection.cursor() as cursor:
            for model in tables:
                cursor.execute(f"ANALYZE {connection.ops.quote_name(model._meta.db_table)}")
            cursor.execute(
                "SELECT reltuples FROM pg_class WHERE relname = %s", [Complaint._meta.db_table]
            )
            held = cursor.fetchone()[0]
        self.since = 0
        self.next = max(self.AT_LEAST, int(held) // 5)


class _Run:
    def __init__(
        self,
        mapping: ImportMapping,
        positions: dict[str, int],
        source: SourceFile,
        *,
        dry_run: bool,
        actor: User | None,
        job: ImportJob | None,
        name: str,
        progress: Progress | None,
        on_problem: Callable[[Problem], None] | None,
    ) -> None:
        self.mapping = mapping
        self.source = source
        width = len(source.header) if source.kind.startswith("csv") else 0
        self.preparer_args = (mapping, positions, width, not dry_run)
        # The first row of each source id: a later row with the same id is a mistake in the
        # file, reported, never a second complaint.
        self.seen: dict[str, int] = {}
        self.dry_run = dry_run
        self.actor_id = actor.pk if actor is not None else None
        self.job = job
        self.name = name
        self.progress = progress
        self.on_problem = on_problem
        self.outcome = Outcome(dry_run=dry_run, total=source.total, kind=source.kind)
        self.overdue = 0
        self.tables = {
            m: _Table(m)
            for m in (Customer, CustomerContact, Complaint, Clock, Event, SearchDocument,
                      ImportedRow)
        }  # fmt: skip

    def all(self, batch_size: int, workers: int | None) -> Outcome:
        started = time.perf_counter()
        if self.job is not None:
            counters = {"done_rows": 0, "created": 0, "skipped": 0, "failed": 0, "errors": []}
            ImportJob.objects.filter(pk=self.job.pk).update(
                total_rows=self.source.total, **counters
            )
        batches = _batches(self.source.rows(), batch_size)
        count = self._workers(workers)
        if count:
            prepared = _Workers(count, self.preparer_args).map(batches)
        else:
            preparer = _Preparer(*self.preparer_args)
            prepared = (preparer.prepare(batch) for batch in batches)
        statistics = _Statistics()
        for batch in prepared:
            self.batch(batch)
            statistics.after(self.outcome.created if not self.dry_run else 0)
            self.outcome.seconds = time.perf_counter() - started
            if self.progress is not None:
                self.progress(self.outcome)
        statistics.after(self.outcome.created if not self.dry_run else 0, last=True)
        self.outcome.total = self.outcome.done
        self.outcome.seconds = time.perf_counter() - started
        return self.outcome

    def _workers(self, requested: int | None) -> int:
        """Worker processes for the first stage: none for small files or inside a transaction
        (a test's, or a caller's: its rows must be seen by the same connection)."""
        # An in-memory SQLite database (tests) cannot be opened by another process.
        in_memory = getattr(connection, "is_in_memory_db", lambda: False)()
        if connection.in_atomic_block or in_memory:
            return 0
        if requested is not None:
            return max(0, requested)
        if self.source.total is None or self.source.total < PARALLEL_FROM:
            return 0
        return max(1, (os.cpu_count() or 1) - 1)

    def batch(self, prepared: _Prepared) -> None:
        problems = prepared.problems
        twins = set()
        for number, source_id in prepared.ids:
            if not source_id:
                continue
            first = self.seen.setdefault(source_id, number)
            if first != number:
                twins.add(number)
                reason = _("The same id as row %(row)s.") % {"row": first}
                problems.append(Problem(number, self.mapping.column("source_id"), reason))
        problems.sort(key=lambda p: p.row)
        good = [row for row in prepared.rows if row.number not in twins]
        read = prepared.read
        failed = len({p.row for p in problems})
        for attempt in range(ATTEMPTS):
            try:
                with transaction.atomic():
                    created, skipped = self._store(good)
                    self._count(read, created, skipped, failed, problems)
                break
            except (IntegrityError, OperationalError) as error:
                # A concurrent writer took a contact or an id first, or a deadlock: the batch
                # rolled back whole; read again, it now finds theirs.
                if attempt == ATTEMPTS - 1:
                    raise
                log.warning("import batch retried after %s", error)
        self.outcome.done += read
        self.outcome.created += created
        self.outcome.skipped += skipped
        self.outcome.failed += failed
        self.outcome.overdue += self.overdue
        for problem in problems:
            if len(self.outcome.errors) < ERRORS_KEPT:
                self.outcome.errors.append(problem.as_dict())
            if self.on_problem is not None:
                self.on_problem(problem)

    def _count(
        self, read: int, created: int, skipped: int, failed: int, problems: list[Problem]
    ) -> None:
        """The job's counters move with the batch's own transaction: they say what is stored."""
        if self.job is None:
            return
        kept = self.outcome.errors
        room = ERRORS_KEPT - len(kept)
        changes: dict[str, Any] = {
            "done_rows": self.outcome.done + read,
            "created": self.outcome.created + created,
            "skipped": self.outcome.skipped + skipped,
            "failed": self.outcome.failed + failed,
            "heartbeat_at": timezone.now(),
        }
        if problems and room > 0:
            changes["errors"] = kept + [p.as_dict() for p in problems[:room]]
        ImportJob.objects.filter(pk=self.job.pk).update(**changes)

    def _store(self, rows: list[_Row]) -> tuple[int, int]:
        """Write the batch's new rows (dry: only look); (created, skipped)."""
        self.overdue = 0  # of this attempt at the batch
        fresh = self._not_imported(rows)
        skipped = len(rows) - len(fresh)
        if self.dry_run or not fresh:
            return len(fresh), skipped
        customers = self._customers(fresh)
        self._triage(fresh)
        self._write(fresh, customers)
        return len(fresh), skipped

    def _not_imported(self, rows: list[_Row]) -> list[_Row]:
        there = _imported(self.mapping.source, [row.source_id for row in rows])
        return [row for row in rows if row.source_id not in there]

    # -- customers

    def _customers(self, rows: list[_Row]) -> _Customers:
        """Match each row's customer by phone, then email (normalised), in two queries.

        As find_or_create_customer(): the first contact known wins; contacts the customer
        lacks are added unless another customer owns them (merging customers is a person's
        decision); rows of one batch with the same phone or email share the new customer.
        """
        wanted: dict[str, set[str]] = {ContactKind.PHONE: set(), ContactKind.EMAIL: set()}
        for row in rows:
            if row.incoming.phone:
                wanted[ContactKind.PHONE].add(row.incoming.phone)
            if row.incoming.email:
                wanted[ContactKind.EMAIL].add(row.incoming.email)
        owners: dict[tuple[str, str], int | _NewCustomer] = {}
        found = _Customers()
        for kind, values in wanted.items():
            # With each owner's name, contacts and tier: triage and the search row use them.
            for value, pk, name, phone, email, tier in _select(
                f"SELECT c.value, u.id, u.name, u.phone, u.email, u.tier FROM "  # noqa: S608
                f"{_name(CustomerContact)} c JOIN {_name(Customer)} u ON u.id = c.customer_id "
                "WHERE c.kind = %s AND c.value {values}",
                [kind],
                sorted(values),
            ):
                owners[(kind, value)] = pk
                found.known[pk] = {"name": name, "phone": phone, "email": email, "tier": tier}
        for row in rows:
            keys = [
                (kind, value)
                for kind, value in (
                    (ContactKind.PHONE, row.incoming.phone),
                    (ContactKind.EMAIL, row.incoming.email),
                )
                if value
            ]
            owner = next((owners[key] for key in keys if key in owners), None)
            if owner is None:
                incoming = row.incoming
                owner = _NewCustomer(
                    incoming.name, incoming.phone, incoming.email, incoming.language
                )
                found.new.append(owner)
            for key in keys:
                if key not in owners:
                    owners[key] = owner
                    if isinstance(owner, _NewCustomer):
                        owner.contacts.append(key)
                    else:
                        found.added.append((owner, *key))
            if isinstance(owner, _NewCustomer):
                # A later row of the batch fills what the first left blank, as a later
                # intake would (find_or_create_customer).
                owner.name = owner.name or row.incoming.name
                owner.phone = owner.phone or row.incoming.phone
                owner.email = owner.email or row.incoming.email
                owner.rows.append(row)
            row.customer = owner
        for row in rows:
            if isinstance(row.customer, int):
                row.tier = found.known[row.customer]["tier"]
        return found

    # -- triage

    def _triage(self, rows: list[_Row]) -> None:
        """Triage again the rows whose customer has a history or a tier (the first stage read
        each as a regular customer's first complaint): as intake does, the customer's
        complaints of the 90 days before, from the database (one query) and from the batch."""
        _read_texts([row for row in rows if row.reading is None])  # imported, then deleted
        setup: Setup = current()
        history = self._history(rows)
        for row in rows:
            assert row.customer is not None
            times = history.get(_key(row.customer), ())
            start = row.received_at - triage.HISTORY
            # As triage.services.earlier_complaints(): the newest 50 of the 90 days before.
            recent = sorted((t for t in times if start <= t < row.received_at), reverse=True)
            earlier = tuple(recent[:50])
            if earlier or row.tier != Tier.REGULAR:
                facts = _facts(row, _text(row.incoming), earlier, row.tier)
                row.reading = assess(facts, setup, row.prediction)

    def _history(self, rows: list[_Row]) -> dict[object, list[datetime]]:
        """Received times of each customer's complaints near the batch's rows (by _key)."""
        times: dict[object, list[datetime]] = {}
        for row in rows:
            assert row.customer is not None
            times.setdefault(_key(row.customer), []).append(row.received_at)
        existing = {row.customer for row in rows if isinstance(row.customer, int)}
        if existing:
            start = min(row.received_at for row in rows) - triage.HISTORY
            end = max(row.received_at for row in rows)
            for customer_id, at in _select(
                f"SELECT customer_id, received_at FROM {_name(Complaint)} "  # noqa: S608
                "WHERE received_at >= %s AND received_at < %s AND customer_id {values}",
                [start, end],
                sorted(existing),
            ):
                times[customer_id].append(at)
        return times

    # -- the batch's rows

    def _write(self, rows: list[_Row], customers: _Customers) -> None:
        now = timezone.now()
        t = self.tables
        # Customers first, then the day counters: the order live intake takes its locks in
        # (record_complaint, then next_reference), so the two never wait on each other.
        for customer, pk in zip(
            customers.new, t[Customer].new_ids(len(customers.new)), strict=True
        ):
            customer.id = pk
        t[Customer].write(
            [
                t[Customer].row(
                    id=c.id,
                    name=c.name,
                    phone=c.phone,
                    email=c.email,
                    language=c.language,
                    tier=Tier.REGULAR,
                    complaint_count=len(c.rows),
                    last_complaint_at=max(r.received_at for r in c.rows),
                    created_at=now,
                )
                for c in customers.new
            ]
        )
        contacts = [(c.id, kind, value) for c in customers.new for kind, value in c.contacts]
        contacts += customers.added
        ids = t[CustomerContact].new_ids(len(contacts))
        t[CustomerContact].write(
            [
                t[CustomerContact].row(
                    id=pk, customer_id=owner, kind=kind, value=value, created_at=now
                )
                for pk, (owner, kind, value) in zip(ids, contacts, strict=True)
            ]
        )
        self._count_for_known(rows, customers)
        numbers = self._references(rows)
        complaint_ids = t[Complaint].new_ids(len(rows))
        event_ids = t[Event].new_ids(len(rows))
        imported_ids = t[ImportedRow].new_ids(len(rows))
        complaints, events, documents, imported, clocks = [], [], [], [], []
        for row, pk, event_id, imported_id, reference in zip(
            rows, complaint_ids, event_ids, imported_ids, numbers, strict=True
        ):
            assert row.reading is not None and row.customer is not None
            owner = row.customer
            customer_id = owner.id if isinstance(owner, _NewCustomer) else owner
            due, running = self._deadlines(row, pk, now)
            complaints.append(self._complaint(row, pk, reference, customer_id, due, now))
            clocks += running
            data = {
                "source": self.mapping.source,
                "source_id": row.source_id,
                "file": self.name,
                "row": row.number,
                "job": self.job.pk if self.job is not None else None,
                "triage": triage.summary(row.reading),
            }
            overdue = [c.target for c in running if c.breached_at is not None]
            if overdue:
                data["overdue"] = overdue
                self.overdue += Target.RESOLVE in overdue
            events.append(
                t[Event].row(
                    id=event_id,
                    complaint_id=pk,
                    kind="imported",
                    actor_id=self.actor_id,
                    at=now,
                    to_state=row.state,
                    customer_visible=False,
                    data=data,
                )
            )
            tokens = self._tokens(reference, row, customers.known)
            documents.append(t[SearchDocument].row(complaint_id=pk, tokens=tokens))
            imported.append(
                t[ImportedRow].row(
                    id=imported_id,
                    source=self.mapping.source,
                    source_id=row.source_id,
                    complaint_id=pk,
                )
            )
        t[Complaint].write(complaints)
        clock_ids = t[Clock].new_ids(len(clocks))
        t[Clock].write(
            [
                t[Clock].row(id=pk, complaint_id=c.complaint.pk,
                             **{name: getattr(c, name) for name in CLOCK_COLUMNS})
                for pk, c in zip(clock_ids, clocks, strict=True)
            ]
        )  # fmt: skip
        t[Event].write(events)
        t[SearchDocument].write(documents)
        t[ImportedRow].write(imported)

    def _deadlines(self, row: _Row, pk: int, now: datetime) -> tuple[dict[str, Any], list[Clock]]:
        """The complaint's deadline columns and policy, with the running clocks of an open one
        (sla.start_history_clocks: from its received time, what was overdue taken as such)."""
        due = deadlines.initial(row.received_at)
        columns: dict[str, Any] = {
            "ack_due": due.ack_due,
            "first_contact_due": due.first_contact_due,
            "resolve_due": due.resolve_due,
        }
        if row.state in (State.RESOLVED, State.CLOSED):
            return columns, []
        assert row.reading is not None
        complaint = Complaint(id=pk, state=row.state, received_at=row.received_at,
                              channel=row.incoming.channel, department_id=row.department_id,
                              **columns, **triage.triage_fields(row.reading))  # fmt: skip
        clocks = sla.start_history_clocks(complaint, row.tier, now=now)
        columns = {name: getattr(complaint, name) for name in DEADLINE_COLUMNS}
        return columns, clocks

    def _complaint(
        self,
        row: _Row,
        pk: int,
        reference: str,
        customer_id: Any,
        due: dict[str, Any],
        now: datetime,
    ) -> list[Any]:
        i = row.incoming
        assert row.reading is not None
        closed = row.state == State.CLOSED
        ended = row.state in (State.RESOLVED, State.CLOSED)
        return self.tables[Complaint].row(
            id=pk,
            reference=reference,
            tracking_token_hash="",
            customer_id=customer_id,
            language=i.language,
            channel=i.channel,
            subject=i.subject,
            description=i.description,
            occurred_at=i.occurred_at,
            store_id=row.store.id if row.store else None,
            department_id=row.department_id,
            assignee_id=row.assignee_id,
            product=i.product,
            order_ref=i.order_ref,
            amount=i.amount,
            demand=i.demand,
            demand_detail=i.demand_detail,
            **triage.triage_fields(row.reading),
            # The old system's people chose it: a label the classifier may learn from.
            category_confirmed=bool(i.assessment.category),
            state=row.state,
            closure=Closure.RESOLVED if closed else "",
            resolution=row.resolution,
            received_at=row.received_at,
            **due,
            resolved_at=row.closed_at if ended else None,
            closed_at=row.closed_at if closed else None,
            updated_at=now,
        )

    def _tokens(self, reference: str, row: _Row, known: dict[int, dict[str, Any]]) -> str:
        """The search row's tokens, as search.services.document_text() puts a complaint's parts
        (tokens never cross the spaces between parts, so they can be made part by part)."""
        customer = row.customer
        if isinstance(customer, _NewCustomer):
            name, phone, email = customer.name, customer.phone, customer.email
        else:
            assert isinstance(customer, int)
            values = known[customer]
            name = values["name"] or row.incoming.name
            phone = values["phone"] or row.incoming.phone
            email = values["email"] or row.incoming.email
        digits = row.phone_digits if phone == row.incoming.phone else national_digits(phone)
        tail = [name, email, digits if phone else "", row.store.name_zh if row.store else ""]
        return (
            " ".join([*document_tokens(reference), row.tokens, *document_tokens(" ".join(tail))])
            .replace("  ", " ")
            .strip()
        )

    def _count_for_known(self, rows: list[_Row], customers: _Customers) -> None:
        """Existing customers: count their imported complaints; fill a name, phone or email
        they lack (find_or_create_customer does the same). Sorted: one lock order."""
        by_customer: dict[int, list[_Row]] = {}
        for row in rows:
            if isinstance(row.customer, int):
                by_customer.setdefault(row.customer, []).append(row)
        if not by_customer:
            return
        added: dict[int, dict[str, str]] = {}
        for owner, kind, value in customers.added:
            added.setdefault(owner, {}).setdefault(kind, value)
        convert = _sqlite_time if connection.vendor != "postgresql" else (lambda v: v)
        params = []
        for pk in sorted(by_customer):
            mine = by_customer[pk]
            latest = convert(max(r.received_at for r in mine))
            values = customers.known[pk]
            name = next((r.incoming.name for r in mine if r.incoming.name), "")
            phone = added.get(pk, {}).get(ContactKind.PHONE, "")
            email = added.get(pk, {}).get(ContactKind.EMAIL, "")
            params.append([len(mine), latest, latest, name, phone, email, pk])
            # What the search rows of this batch show of them.
            values["name"] = values["name"] or name
            values["phone"] = values["phone"] or phone
            values["email"] = values["email"] or email
        table = connection.ops.quote_name(Customer._meta.db_table)
        with connection.cursor() as cursor:
            cursor.executemany(
                f"UPDATE {table} SET complaint_count = complaint_count + %s, "  # noqa: S608
                # An imported old complaint must not move "last complaint" back in time.
                "last_complaint_at = CASE WHEN last_complaint_at IS NULL "
                "OR last_complaint_at < %s THEN %s ELSE last_complaint_at END, "
                "name = CASE WHEN name = '' THEN %s ELSE name END, "
                "phone = CASE WHEN phone = '' THEN %s ELSE phone END, "
                "email = CASE WHEN email = '' THEN %s ELSE email END WHERE id = %s",
                params,
            )

    def _references(self, rows: list[_Row]) -> list[str]:
        """KS-YYYYMMDD-NNNNNN of each row's received day, from live intake's own day counters.

        One upsert per batch takes a block of numbers for every day the batch touches (days in
        order: two imports lock them in the same order).
        """
        days = [timezone.localdate(row.received_at) for row in rows]
        wanted = Counter(days)
        last: dict[str, int] = {}
        table = "complaints_referencecounter"
        postgres = connection.vendor == "postgresql"
        ordered = sorted(wanted)
        for chunk in _chunks(ordered, 300):
            values = ", ".join(["(%s, %s)"] * len(chunk))
            params: list[Any] = []
            for day in chunk:
                params += [day if postgres else day.isoformat(), wanted[day]]
            with connection.cursor() as cursor:
                cursor.execute(
                    f"INSERT INTO {table} (day, last) VALUES {values} "  # noqa: S608 - constant
                    f"ON CONFLICT (day) DO UPDATE SET last = {table}.last + excluded.last "
                    "RETURNING day, last",
                    params,
                )
                for day, number in cursor.fetchall():
                    last[str(day)] = number
        # Hand each day's block out in the batch's order.
        following = {day: last[str(day)] - wanted[day] for day in wanted}
        references = []
        for day in days:
            following[day] += 1
            references.append(f"KS-{day:%Y%m%d}-{following[day]:06d}")
        return references


def _key(customer: int | _NewCustomer) -> object:
    return customer if isinstance(customer, int) else ("new", id(customer))
