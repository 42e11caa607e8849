"""Benchmark data: the organisation, a session and a token, and 100,000 complaints in bulk.

Run with the project's Python and the benchmark's DATABASE_URL / KESU_VAR_DIR:
    python bench/seed.py org            → JSON with an admin token and a manager session
    python bench/seed.py complaints N   → N complaints (with customers, events, search rows)
    python bench/seed.py count          → JSON with the number of complaints
    python bench/seed.py classifier     → trains and activates the "category" model
    python bench/seed.py triage N       → triage's time per complaint (p50/p95/p99) over N texts

Complaint texts come from ../shared/data (real third-party texts, read in place, never copied)
when it is there, otherwise from the demo scenarios. Rows are written with bulk_create, as a
history import would, not through receive(): the point is the size of the tables the read
benchmarks run against.
"""

from __future__ import annotations

import csv
import json
import os
import random
import sys
from datetime import datetime, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "kesu.settings")

import django  # noqa: E402

django.setup()

from django.contrib.auth import BACKEND_SESSION_KEY, HASH_SESSION_KEY, SESSION_KEY  # noqa: E402
from django.contrib.sessions.backends.db import SessionStore  # noqa: E402
from django.db import transaction  # noqa: E402
from django.utils import timezone  # noqa: E402

from kesu.accounts.models import Department, Role  # noqa: E402
from kesu.accounts.services import create_user, issue_token  # noqa: E402
from kesu.complaints import deadlines  # noqa: E402
from kesu.complaints.models import (  # noqa: E402
    Channel,
    Complaint,
    Event,
    Grade,
    Priority,
    ReferenceCounter,
    State,
)
from kesu.customers.models import ContactKind, Customer, CustomerContact  # noqa: E402
from kesu.search.models import SearchDocument  # noqa: E402
from kesu.search.tokens import document_tokens  # noqa: E402
from kesu.sla.models import Clock, Target  # noqa: E402

SHARED = ROOT.parent / "shared" / "data"
DEPARTMENTS = ["customer_service", "after_sales", "quality", "logistics", "store_ops", "finance"]
BATCH = 2000


def texts() -> tuple[list[str], str]:
    found: list[str] = []
    for name in ("zh-shopping-negative", "zh-gov-messages", "zh-jd-disputes",
                 "zh-car-quality-service", "en-cfpb-product"):  # fmt: skip
        path = SHARED / name / "dev.csv"
        if path.exists():
            with path.open(encoding="utf-8") as handle:
                found += [row["text"][:2000] for row in csv.DictReader(handle) if row["text"]]
    if found:
        return found, f"{len(found)} texts from {SHARED} (read in place)"
    from kesu.demo import scenarios

    made = [s.description.format(product=p, store="门店", amount=100, order="X1", date="5月1日",
                                 days=3, time="下午") for s in scenarios.SCENARIOS
            for p in s.products]  # fmt: skip
    return made, f"{len(made)} texts from the demo scenarios ({SHARED} is absent)"


def org() -> dict[str, str]:
    with transaction.atomic():
        departments = {
            code: Department.objects.get_or_create(code=code, defaults={"name_zh": code})[0]
            for code in DEPARTMENTS
        }
        admin = create_user(username="bench-admin", role=Role.ADMIN, password=None)
        manager = create_user(
            username="bench-manager",
            role=Role.MANAGER,
            password=None,
            departments=[departments[c] for c in DEPARTMENTS[:3]],
        )
        for code in DEPARTMENTS:
            create_user(username=f"bench-{code}", role=Role.HANDLER, password=None,
                        departments=[departments[code]])  # fmt: skip
        session = SessionStore()
        session[SESSION_KEY] = str(manager.pk)
        session[BACKEND_SESSION_KEY] = "django.contrib.auth.backends.ModelBackend"
        session[HASH_SESSION_KEY] = manager.get_session_auth_hash()
        session.save()
        return {"token": issue_token(user=admin, name="bench"), "session": session.session_key}


def complaints(total: int, seed: int = 1) -> dict[str, object]:
    rng = random.Random(seed)
    corpus, source = texts()
    now = timezone.now()
    departments = list(Department.objects.filter(code__in=DEPARTMENTS))
    handlers = {d.pk: list(d.members.filter(role=Role.HANDLER)) for d in departments}
    states = [State.CLOSED] * 6 + [
        State.RESOLVED, State.INVESTIGATING, State.INVESTIGATING, State.ACKNOWLEDGED,
        State.AWAITING_CUSTOMER, State.REMEDYING, State.RECEIVED,
    ]  # fmt: skip
    customers_wanted = max(1, total // 3)
    start_number = Customer.objects.count()
    with transaction.atomic():
        customers = Customer.objects.bulk_create(
            [Customer(name=f"客户{start_number + i}", phone=f"+86139{start_number + i:08d}")
             for i in range(customers_wanted)], batch_size=BATCH)  # fmt: skip
        CustomerContact.objects.bulk_create(
            [CustomerContact(customer=c, kind=ContactKind.PHONE, value=c.phone) for c in customers],
            batch_size=BATCH,
        )
    counters: dict[object, int] = {row.day: row.last for row in ReferenceCounter.objects.all()}
    made = 0
    while made < total:
        size = min(BATCH * 5, total - made)
        rows: list[Complaint] = []
        for _ in range(size):
            received = now - timedelta(seconds=rng.uniform(0, 365 * 86400))
            day = timezone.localdate(received)
            counters[day] = counters.get(day, 0) + 1
            department = rng.choice([*departments, None])  # a sixth unassigned
            state = rng.choice(states) if department else State.RECEIVED
            text = rng.choice(corpus)
            due = deadlines.initial(received)
            done = _milestones(rng, received, state)
            rows.append(Complaint(
                reference=f"KS-{day:%Y%m%d}-{counters[day]:06d}",
                tracking_token_hash="0" * 64,
                customer=rng.choice(customers),
                channel=rng.choice(Channel.values),
                subject=text[:40],
                description=text,
                grade=rng.choice(Grade.values),
                priority=rng.choice(Priority.values),
                state=state,
                closure="resolved" if state == State.CLOSED else "",
                department=department,
                assignee=rng.choice(handlers[department.pk]) if department else None,
                received_at=received,
                **done,
                ack_due=due.ack_due,
                first_contact_due=due.first_contact_due,
                resolve_due=due.resolve_due,
            ))  # fmt: skip
        with transaction.atomic():
            saved = Complaint.objects.bulk_create(rows, batch_size=BATCH)
            Event.objects.bulk_create(
                [Event(complaint=c, kind="received", at=c.received_at, to_state="received",
                       data={"channel": c.channel}, customer_visible=True) for c in saved],
                batch_size=BATCH,
            )  # fmt: skip
            Clock.objects.bulk_create(
                [clock for c in saved for clock in _clocks(c)], batch_size=BATCH
            )
            SearchDocument.objects.bulk_create(
                [SearchDocument(complaint=c, tokens=" ".join(document_tokens(
                    f"{c.reference} {c.subject} {c.description} {c.customer.name} "
                    f"{c.customer.phone[3:]}"))) for c in saved],
                batch_size=BATCH,
            )  # fmt: skip
        made += size
        print(f"  {made}/{total} complaints", file=sys.stderr, flush=True)
    with transaction.atomic():
        for day, last in counters.items():
            ReferenceCounter.objects.update_or_create(day=day, defaults={"last": last})
    return {"complaints": Complaint.objects.count(), "texts": source}


def _milestones(rng: random.Random, received: datetime, state: str) -> dict[str, datetime]:
    """When a complaint in `state` was acknowledged, first contacted and resolved: mostly in
    time, some late, as the performance report reads them."""
    done: dict[str, datetime] = {}
    if state != State.RECEIVED:
        done["acknowledged_at"] = received + timedelta(minutes=rng.expovariate(1 / 60))
        done["first_contact_at"] = received + timedelta(hours=rng.expovariate(1 / 12))
    if state in (State.RESOLVED, State.CLOSED):
        done["resolved_at"] = received + timedelta(days=rng.expovariate(1 / 6))
    if state == State.CLOSED:
        done["closed_at"] = done["resolved_at"] + timedelta(days=rng.uniform(0, 7))
    return done


CLOCKS = [  # target, allowed, the complaint's field that stops it
    (Target.ACKNOWLEDGE, "2h", timedelta(hours=2), "acknowledged_at"),
    (Target.FIRST_CONTACT, "24h", timedelta(hours=24), "first_contact_at"),
    (Target.RESOLVE, "15d", timedelta(days=15), "resolved_at"),
]


def _clocks(complaint: Complaint) -> list[Clock]:
    """The standard policy's three clocks (calendar time here), stopped when their step was."""
    clocks = []
    for target, allowed, span, stopped_by in CLOCKS:
        due = complaint.received_at + span
        clocks.append(Clock(complaint=complaint, target=target, allowed=allowed,
                            started_at=complaint.received_at, warn_at=due - span / 5, due_at=due,
                            stopped_at=getattr(complaint, stopped_by)))  # fmt: skip
    return clocks


def classifier() -> dict[str, object]:
    """Train and activate the "category" model that intake's triage loads.

    The largest labelled set is used when ../shared/data is there (zh-shopping-negative,
    21,662 texts): a model at least as large as an organisation's own would be. Its labels are
    not taxonomy codes, so triage treats every prediction as unsure; the cost of predicting
    and explaining is the same.
    """
    from kesu.triage import services as triage
    from kesu.triage.datasets import read_labelled_csv

    path = SHARED / "zh-shopping-negative" / "dev.csv"
    if path.exists():
        texts_, labels, _skipped = read_labelled_csv(path)
        source = f"{len(texts_)} texts of {path} (read in place)"
    else:
        from kesu.demo import scenarios

        texts_, labels = [], []
        for scenario in scenarios.SCENARIOS:
            for product in scenario.products:
                texts_.append(scenario.description.format(
                    product=product, store="门店", amount=100, order="X1", date="5月1日",
                    days=3, time="下午"))  # fmt: skip
                labels.append(scenario.category)
        source = f"{len(texts_)} texts from the demo scenarios ({SHARED} is absent)"
    trained = triage.train_classifier(
        name=triage.CATEGORY_MODEL, texts=texts_, labels=labels, source=source, activate="always"
    )
    model = trained.model
    return {"source": source, "seconds": model.metrics["seconds"],
            "size_kib": model.size // 1024, "labels": len(model.labels)}  # fmt: skip


def triage_latency(count: int) -> dict[str, object]:
    """Time triage's read() per complaint, the work it adds to receive(), model loaded."""
    import time

    from kesu.triage import classifier as model
    from kesu.triage import services as triage
    from kesu.triage.engine import Facts

    corpus, source = texts()
    rng = random.Random(3)
    sample = [t[:1500] for t in rng.sample(corpus, min(count, len(corpus)))]
    started = time.perf_counter()
    model.active(triage.CATEGORY_MODEL)  # loaded once per process, before the first complaint
    load_seconds = time.perf_counter() - started
    triage.read(Facts(text="warm-up"))
    times = []
    for text in sample:
        started = time.perf_counter()
        triage.read(Facts(text=text, at=timezone.now()))
        times.append((time.perf_counter() - started) * 1000)
    times.sort()

    def at(share: float) -> float:
        return round(times[min(len(times) - 1, int(share * len(times)))], 2)

    return {"texts": len(times), "source": source, "model_load_seconds": round(load_seconds, 2),
            "p50_ms": at(0.5), "p95_ms": at(0.95), "p99_ms": at(0.99),
            "max_ms": round(times[-1], 2)}  # fmt: skip


def main() -> None:
    command = sys.argv[1]
    if command == "org":
        print(json.dumps(org()))
    elif command == "complaints":
        print(json.dumps(complaints(int(sys.argv[2]))))
    elif command == "classifier":
        print(json.dumps(classifier(), ensure_ascii=False))
    elif command == "triage":
        print(json.dumps(triage_latency(int(sys.argv[2])), ensure_ascii=False))
    elif command == "count":
        print(json.dumps({"complaints": Complaint.objects.count(),
                          "customers": Customer.objects.count()}))  # fmt: skip
    else:
        raise SystemExit(f"unknown command {command!r}")


if __name__ == "__main__":
    main()
