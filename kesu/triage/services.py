"""Triage's use cases: read a complaint at intake, re-read it when the customer writes again,
train and activate classifiers."""

from __future__ import annotations

import logging
import time
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from django.db import transaction
from django.db.models import Max, Q, QuerySet
from django.utils import timezone
from django.utils.translation import gettext as _

from kesu.complaints.models import Complaint, Event, Grade, Priority
from kesu.errors import InvalidInput
from kesu.triage import classifier
from kesu.triage.engine import GRADES, Facts, Prediction, Reading, assess
from kesu.triage.models import ClassifierModel
from kesu.triage.selectors import current

log = logging.getLogger(__name__)

# The classifier whose active version triage uses for complaints' categories.
CATEGORY_MODEL = "category"
HISTORY = timedelta(days=90)
PRIORITIES = [Priority.P1, Priority.P2, Priority.P3, Priority.P4]


def predict(text: str) -> Prediction | None:
    """The active category classifier's answer, or None (no model, or it failed)."""
    try:
        loaded = classifier.active(CATEGORY_MODEL)
        return loaded.predict(text) if loaded is not None else None
    except Exception:  # a broken model must never cost a complaint
        log.exception("The category classifier failed; triage goes on without it.")
        return None


_PREDICT_NOW = Prediction("", 0.0, (), "")


def read(facts: Facts, prediction: Prediction | None = _PREDICT_NOW) -> Reading:
    """Triage one complaint's text and facts with the current rules, scoring and model.

    `prediction` is the classifier's answer if the caller has it already (intake asks before
    its transaction, so that no lock is held while the model reads); by default it is asked
    here, unless staff set the category.
    """
    if prediction is _PREDICT_NOW:
        prediction = None if facts.category else predict(facts.text)
    return assess(facts, current(), prediction)


def earlier_complaints(
    customer_id: int, at: datetime, exclude: int | None = None
) -> tuple[datetime, ...]:
    """When the customer complained in the 90 days before `at` (complaint_customer_newest)."""
    rows = Complaint.objects.filter(
        customer_id=customer_id, received_at__gte=at - HISTORY, received_at__lt=at
    )
    if exclude is not None:
        rows = rows.exclude(pk=exclude)
    return tuple(rows.order_by("-received_at").values_list("received_at", flat=True)[:50])


def triage_fields(reading: Reading) -> dict[str, Any]:
    """The Complaint fields a reading sets."""
    return {
        "nature": reading.nature,
        "category": reading.category,
        "grade": reading.grade,
        "priority": reading.priority,
        "flags": reading.flag_text,
        "emotion": reading.emotion,
        "triage_score": reading.score,
        "triage_reasons": reading.reasons,
        "category_confidence": reading.confidence,
        "needs_review": reading.needs_review,
    }


def summary(reading: Reading) -> dict[str, Any]:
    """What an Event keeps of a reading: the codes it decided."""
    return {
        "category": reading.category,
        "grade": reading.grade,
        "priority": reading.priority,
        "flags": reading.flags,
        "emotion": reading.emotion,
        "score": reading.score,
        "needs_review": reading.needs_review,
    }


def text_of(subject: str, description: str, *more: str) -> str:
    """The text triage and its classifier read, from a complaint's parts.

    The subject is left out when it is only the start of the description (intake takes a
    missing subject from the first line): its words would count twice, and the classifier's
    time grows with the text.
    """
    told = subject and not description.startswith(subject.removesuffix("…"))
    return "\n".join(p for p in (subject if told else "", description, *more) if p)


def complaint_text(complaint: Complaint, messages: Sequence[str] = ()) -> str:
    return text_of(complaint.subject, complaint.description, complaint.demand_detail, *messages)


def retriage(complaint: Complaint, *, trigger: str, at: datetime | None = None) -> Event | None:
    """Read the complaint again with everything the customer has written; record what changed.

    A person's decisions stand: a confirmed category is kept; grade and priority are only
    ever raised here (lowering them is a person's `classify`), and when a person set them they
    are raised only by a risk flag that is new. Runs in the caller's transaction on a locked
    complaint; returns the `triaged` Event, or None if nothing changed.
    """
    now = at or timezone.now()
    messages = list(
        Event.objects.filter(complaint=complaint, kind="customer_message")
        .order_by("at", "pk")
        .values_list("data__text", flat=True)
    )
    facts = Facts(
        text=complaint_text(complaint, [m for m in messages if isinstance(m, str)]),
        amount=complaint.amount,
        tier=complaint.customer.tier,
        earlier=earlier_complaints(complaint.customer_id, complaint.received_at, complaint.pk),
        at=complaint.received_at,
        messages=len(messages),
        category=complaint.category if complaint.category_confirmed else "",
        nature=complaint.nature if complaint.category_confirmed else "",
    )
    reading = read(facts)
    new_flags = set(reading.flags) - set(complaint.flags.split())
    keep = not new_flags and assessed_by_people(complaint)
    if keep or GRADES.index(Grade(complaint.grade)) < GRADES.index(Grade(reading.grade)):
        reading.grade = complaint.grade
    if keep or PRIORITIES.index(Priority(complaint.priority)) < PRIORITIES.index(
        Priority(reading.priority)
    ):
        reading.priority = complaint.priority
    if not reading.category and complaint.category:
        # An earlier confident reading is not thrown away because this one is unsure.
        reading.category, reading.nature = complaint.category, complaint.nature
        reading.confidence = complaint.category_confidence
        reading.needs_review = complaint.needs_review
    wanted = triage_fields(reading)
    changes = {
        name: [getattr(complaint, name), value]
        for name, value in wanted.items()
        if name in ("category", "nature", "grade", "priority", "flags", "emotion", "needs_review")
        and getattr(complaint, name) != value
    }
    for name, value in wanted.items():
        setattr(complaint, name, value)
    complaint.save(update_fields=[*wanted, "updated_at"])
    if not changes:
        return None
    return Event.objects.create(
        complaint=complaint,
        kind="triaged",
        actor=None,
        at=now,
        data={"trigger": trigger, "changes": changes, "triage": summary(reading)},
        customer_visible=False,
    )


# --- Training -----------------------------------------------------------------------------------


@dataclass(frozen=True)
class Trained:
    model: ClassifierModel
    activated: bool
    active_before: ClassifierModel | None
    active_metrics: dict[str, Any] | None


TARGETS = ("category", "nature", "grade")


def graded_by_people() -> QuerySet[Complaint]:
    """Complaints whose grade a person set: at staff intake or by `classify` (the events say)."""
    by_classify = Event.objects.filter(kind="classify").filter(
        Q(data__changes__has_key="grade") | Q(data__confirmed__has_key="grade")
    )
    at_intake = Event.objects.filter(kind="received", data__assessment__has_key="grade")
    return Complaint.objects.filter(
        Q(pk__in=by_classify.values("complaint_id")) | Q(pk__in=at_intake.values("complaint_id"))
    )


def assessed_by_people(complaint: Complaint) -> bool:
    """Whether a person set this complaint's grade or priority (at intake or by classify)."""
    keys = Q()
    for name in ("grade", "priority"):
        keys |= Q(kind="classify", data__changes__has_key=name)
        keys |= Q(kind="classify", data__confirmed__has_key=name)
        keys |= Q(kind="received", data__assessment__has_key=name)
    return Event.objects.filter(keys, complaint=complaint).exists()


def confirmed_examples(target: str = "category") -> tuple[list[str], list[str]]:
    """Texts and labels that people gave: the training labels of `target`.

    A category (and so its nature) counts when a person chose or confirmed it; a grade when a
    person set it — its current value, so a later correction wins.
    """
    if target not in TARGETS:
        raise InvalidInput.one(
            "target", _("Use one of: %(targets)s.") % {"targets": ", ".join(TARGETS)}
        )
    if target == "grade":
        rows = graded_by_people()
    else:
        rows = Complaint.objects.filter(category_confirmed=True).exclude(**{target: ""})
    texts: list[str] = []
    labels: list[str] = []
    values = rows.order_by("pk").values_list("subject", "description", target)
    for subject, description, label in values.iterator(chunk_size=2000):
        texts.append(text_of(subject, description))
        labels.append(label)
    return texts, labels


def check_examples(texts: Sequence[str], labels: Sequence[str]) -> None:
    counts: dict[str, int] = {}
    for label in labels:
        counts[label] = counts.get(label, 0) + 1
    if len(texts) < 10:
        raise InvalidInput.one(
            "data", _("Need at least 10 labelled texts to train; found %(n)s.") % {"n": len(texts)}
        )
    if len(counts) < 2:
        raise InvalidInput.one(
            "data",
            _("Need at least two different labels to train; found %(n)s.") % {"n": len(counts)},
        )


def train_classifier(
    *, name: str, texts: Sequence[str], labels: Sequence[str], source: str, activate: str = "auto"
) -> Trained:
    """Train a new version of `name`; it becomes active unless it is worse than the active one.

    Judged on a held-back 20 % (fixed seed): the new version's macro-F1 against the active
    version's on the same texts. `activate` is "auto", "always" or "never".
    """
    check_examples(texts, labels)
    language = classifier.detect_language(texts)
    started = time.perf_counter()
    split = classifier.hold_back(texts, labels)
    try:
        candidate = classifier.fit(split.train_texts, split.train_labels, language)
        metrics = classifier.evaluate(candidate, split.test_texts, split.test_labels)
        final = classifier.fit(texts, labels, language)
    except ValueError as error:  # e.g. no word occurs twice: nothing to learn from
        raise InvalidInput.one(
            "data", _("Cannot learn from these texts: %(error)s") % {"error": error}
        ) from None
    metrics["seconds"] = round(time.perf_counter() - started, 2)
    blob = classifier.dump(final)

    previous = ClassifierModel.objects.filter(name=name, is_active=True).first()
    previous_metrics = None
    if previous is not None:
        previous_metrics = classifier.evaluate(
            classifier.load(previous.blob), split.test_texts, split.test_labels
        )
    if activate == "always":
        activated, decision = True, "activated on request"
    elif activate == "never":
        activated, decision = False, "kept inactive on request"
    elif previous_metrics is None:
        activated, decision = True, "activated: no active version"
    elif metrics["macro_f1"] >= previous_metrics["macro_f1"]:
        activated = True
        decision = (
            f"activated: macro-F1 {metrics['macro_f1']} ≥ {previous_metrics['macro_f1']} "
            f"of v{previous.version if previous else '?'} on the held-back split"
        )
    else:
        activated = False
        decision = (
            f"not activated: macro-F1 {metrics['macro_f1']} < {previous_metrics['macro_f1']} "
            f"of v{previous.version if previous else '?'} on the held-back split"
        )
    with transaction.atomic():
        last = ClassifierModel.objects.filter(name=name).aggregate(v=Max("version"))["v"] or 0
        if activated:
            ClassifierModel.objects.filter(name=name, is_active=True).update(is_active=False)
        model = ClassifierModel.objects.create(
            name=name,
            version=last + 1,
            is_active=activated,
            source=source[:300],
            language=language,
            labels=sorted(set(labels)),
            train_size=len(texts),
            metrics=metrics,
            decision=decision,
            blob=blob,
            size=len(blob),
        )
    classifier.forget()
    return Trained(model, activated, previous, previous_metrics)


def activate(model: ClassifierModel) -> None:
    """Make this version the one triage uses (an administrator's choice, e.g. to roll back)."""
    with transaction.atomic():
        ClassifierModel.objects.filter(name=model.name, is_active=True).update(is_active=False)
        ClassifierModel.objects.filter(pk=model.pk).update(
            is_active=True, decision=f"activated by hand at {timezone.now():%Y-%m-%d %H:%M}"
        )
    classifier.forget()
