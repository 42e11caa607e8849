"""The demo data: loads through the services, once, and is our own text."""

from __future__ import annotations

import re
from io import StringIO
from pathlib import Path

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from kesu.accounts.models import Role, User
from kesu.complaints.models import Complaint, Event
from kesu.customers.models import Customer
from kesu.demo import scenarios
from kesu.demo.loader import LOGINS
from kesu.intake.models import InboundMessage
from kesu.triage.models import ClassifierModel

SHARED_DATA = Path(__file__).resolve().parents[2] / "shared" / "data"


@pytest.mark.django_db
def test_load_demo_makes_one_login_per_role_and_living_complaints() -> None:
    out = StringIO()
    call_command("load_demo", count=60, seed=7, stdout=out)
    # 60 lived complaints, and the story of one customer across channels (loader.channels).
    lin = Customer.objects.get(name="林晓燕")
    assert Complaint.objects.exclude(customer=lin).count() == 60
    outcomes = list(
        InboundMessage.objects.filter(customer=lin)
        .order_by("received_at")
        .values_list("channel", "outcome")
    )
    # Her chat opened the complaint; her email and her public post joined it.
    assert outcomes == [("chat", "ignored"), ("chat", "created"), ("chat", "joined"),
                        ("email", "joined"), ("social", "joined")]  # fmt: skip
    assert Complaint.objects.get(customer=lin).escalation_level == 1
    assert InboundMessage.objects.filter(outcome="ignored").count() >= 2  # a question, a list
    assert {u.role for u in User.objects.filter(username__in=[x.username for x in LOGINS])} == set(
        Role
    )
    assert User.objects.filter(username="admin", role=Role.ADMIN, is_superuser=True).exists()
    text = out.getvalue()
    for login in LOGINS:
        assert login.username in text
    states = set(Complaint.objects.values_list("state", flat=True))
    assert len(states) >= 4, states
    # Every complaint's events are in time order and start with `received`.
    for complaint in Complaint.objects.all()[:20]:
        kinds = list(complaint.events.order_by("at", "id").values_list("kind", flat=True))
        assert kinds[0] == "received"
    assert Event.objects.filter(kind="resolve").exists()
    # The managers' confirmed categories trained the classifier that triage uses.
    model = ClassifierModel.objects.get(name="category", is_active=True)
    assert model.source == "demo data" and model.train_size >= 10
    # A second run with --if-empty does nothing; without it, it refuses.
    count = Complaint.objects.count()
    call_command("load_demo", if_empty=True, stdout=StringIO())
    assert Complaint.objects.count() == count
    with pytest.raises(CommandError):
        call_command("load_demo", stdout=StringIO())


def _fragments(template: str) -> list[str]:
    # Runs of at least 12 characters without slots: long enough that a match is not chance.
    return [p for p in re.split(r"\{[a-z]+\}", template) if len(p) >= 12]


def test_demo_texts_are_not_taken_from_the_evaluation_data() -> None:
    if not SHARED_DATA.is_dir():
        pytest.skip(f"{SHARED_DATA} is absent: nothing to compare against")
    corpus = "\n".join(
        path.read_text(encoding="utf-8", errors="ignore") for path in SHARED_DATA.rglob("*.csv")
    )
    assert len(corpus) > 1_000_000
    for scenario in scenarios.SCENARIOS:
        for fragment in _fragments(scenario.description):
            for start in range(0, len(fragment) - 11, 6):
                piece = fragment[start : start + 12]
                assert piece not in corpus, (scenario.key, piece)
