"""The classifier: train → eval round trip, versioned activation, corrections as labels."""

from __future__ import annotations

import csv
import json
import random
from io import StringIO
from pathlib import Path

import pytest
from django.core.management import CommandError, call_command

from kesu.complaints.models import Complaint
from kesu.complaints.workflow import perform
from kesu.errors import InvalidInput
from kesu.intake.services import parse_incoming, receive
from kesu.triage import classifier, services
from kesu.triage.classifier import hold_back
from kesu.triage.models import ClassifierModel

pytestmark = pytest.mark.django_db

# Three categories with their own words, and words every complaint shares.
WORDS = {
    "quality_defect": ["屏幕碎了", "漏水", "开机就坏", "质量太差", "用了两天就坏", "有裂缝"],
    "late_delivery": ["快递没到", "物流不动", "还没发货", "配送太慢", "超时未送达", "一直在路上"],
    "staff_attitude": ["店员态度差", "服务员骂人", "爱理不理", "很不耐烦", "甩脸色", "不搭理人"],
}
FILLER = ["我上周买的", "请尽快处理", "希望给个说法", "订单已付款", "这次购物", "联系客服"]


def examples(n: int, seed: int = 0) -> list[tuple[str, str]]:
    rng = random.Random(seed)
    rows = []
    for i in range(n):
        label = list(WORDS)[i % 3]
        text = f"{rng.choice(FILLER)}，{rng.choice(WORDS[label])}，{rng.choice(FILLER)}"
        rows.append((text, label))
    return rows


def write_csv(path: Path, rows: list[tuple[str, str]], header=("text", "label")) -> Path:
    with path.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(["id", *header])
        for i, row in enumerate(rows):
            writer.writerow([i, *row])
    return path


def run(command: str, *args: str) -> dict:
    out = StringIO()
    call_command(command, *args, stdout=out, stderr=StringIO())
    return json.loads(out.getvalue().strip().splitlines()[-1])


def test_train_then_eval_round_trip(tmp_path) -> None:
    train = write_csv(tmp_path / "train.csv", examples(90))
    trained = run("train_classifier", "--data", str(train), "--name", "demo")
    assert trained["version"] == 1 and trained["active"]
    assert trained["macro_f1"] >= 0.9
    test = write_csv(tmp_path / "test.csv", examples(30, seed=1))
    scored = run("eval_classifier", "--name", "demo", "--data", str(test))
    assert set(scored) >= {"macro_f1", "accuracy", "per_class", "labels", "confusion"}
    assert scored["macro_f1"] >= 0.9 and scored["labels"] == sorted(WORDS)
    assert len(scored["confusion"]) == 3 and sum(map(sum, scored["confusion"])) == 30


def test_a_worse_version_is_stored_but_not_activated(tmp_path) -> None:
    good = write_csv(tmp_path / "good.csv", examples(90))
    run("train_classifier", "--data", str(good), "--name", "demo")
    # New data whose held-back rows are right but whose training rows are labelled at random:
    # the split is fixed, so the same row numbers are held back whatever the texts say.
    rows = examples(90, seed=5)
    labels = [label for _text, label in rows]
    held_back = set(hold_back([str(i) for i in range(90)], labels).test_texts)
    rng = random.Random(3)
    noisy = [
        (text, label if str(i) in held_back else rng.choice(list(WORDS)))
        for i, (text, label) in enumerate(rows)
    ]
    bad = write_csv(tmp_path / "bad.csv", noisy)
    second = run("train_classifier", "--data", str(bad), "--name", "demo")
    assert second["version"] == 2 and not second["active"]
    assert second["decision"].startswith("not activated")
    assert ClassifierModel.objects.get(name="demo", is_active=True).version == 1
    # An administrator may still choose it (e.g. to roll forward or back).
    services.activate(ClassifierModel.objects.get(name="demo", version=2))
    assert ClassifierModel.objects.get(name="demo", is_active=True).version == 2


def test_columns_and_dropped_labels(tmp_path) -> None:
    rows = [(t, label) for t, label in examples(60)] + [("不知道什么问题", "unknown")] * 5
    path = write_csv(tmp_path / "titled.csv", rows, header=("title", "kind"))
    trained = run(
        "train_classifier", "--data", str(path), "--name", "demo",
        "--text-column", "title", "--label-column", "kind", "--drop-label", "unknown",
    )  # fmt: skip
    assert trained["train_size"] == 60
    assert "unknown" not in ClassifierModel.objects.get(name="demo").labels


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--data", "/nonexistent.csv"], "No such file"),
        (["--data", "{csv}", "--text-column", "body"], "has no column 'body'"),
        (["--data", "{tiny}"], "at least 10"),
        (["--data", "{one_label}"], "two different labels"),
        (["--data", "{nothing_shared}"], "Cannot learn from these texts"),
    ],
)
def test_bad_training_input_is_named(tmp_path, args, message) -> None:
    files = {
        "{csv}": write_csv(tmp_path / "ok.csv", examples(30)),
        "{tiny}": write_csv(tmp_path / "tiny.csv", examples(5)),
        "{one_label}": write_csv(tmp_path / "one.csv", [("同样的话", "x")] * 20),
        # Every text one character no other text has: no feature is seen twice.
        "{nothing_shared}": write_csv(
            tmp_path / "unique.csv", [(chr(0x4E00 + i * 7), "ab"[i % 2]) for i in range(20)]
        ),
    }
    args = [str(files.get(a, a)) for a in args]
    with pytest.raises(CommandError, match=message):
        call_command("train_classifier", "--name", "demo", *args, stderr=StringIO())
    assert not ClassifierModel.objects.exists()


def test_eval_names_a_missing_model(tmp_path) -> None:
    path = write_csv(tmp_path / "ok.csv", examples(30))
    with pytest.raises(CommandError, match="has no an active version; stored: none"):
        call_command("eval_classifier", "--name", "nothing", "--data", str(path))


def test_intake_uses_the_active_model_and_sends_the_unsure_to_review(
    tmp_path, receive_public, people, client
) -> None:
    path = write_csv(tmp_path / "train.csv", examples(90))
    run("train_classifier", "--data", str(path))  # the "category" model triage uses
    sure = receive_public(description="我上周买的手机，屏幕碎了，请尽快处理").complaint
    assert sure.category == "quality_defect" and sure.nature == "product_quality"
    assert sure.category_confidence is not None and sure.category_confidence >= 0.5
    model_reason = next(r for r in sure.triage_reasons if r["kind"] == "model")
    assert model_reason["model"] == "category v1" and model_reason["features"]
    unsure = receive_public(description="你好", phone="13700137000").complaint
    assert unsure.category == "" and unsure.needs_review
    assert any(r["kind"] == "model_unsure" for r in unsure.triage_reasons)
    client.force_login(people["li"])
    queue = client.get("/work/", {"queue": "review"}).content.decode()
    assert unsure.reference in queue and sure.reference not in queue


def test_a_correction_is_an_event_and_a_training_label(receive_public, people) -> None:
    complaint = receive_public(description="店员态度差，很不耐烦").complaint
    assert not complaint.category_confirmed
    event = perform(complaint, "classify", people["wang"], category="staff_attitude")
    complaint.refresh_from_db()
    assert complaint.category_confirmed and not complaint.needs_review
    # Triage had already said staff_attitude (a rule): agreeing is recorded as a confirmation.
    assert event.data == {
        "changes": {},
        "confirmed": {"nature": "service", "category": "staff_attitude"},
    }
    other = receive_public(description="快递没到", phone="13700137000").complaint
    event = perform(other, "classify", people["wang"], category="late_delivery")
    # No rule knew "快递没到": the person's category is a change, from nothing.
    assert event.data["changes"]["category"] == ["", "late_delivery"]
    texts, labels = services.confirmed_examples()
    assert sorted(labels) == ["late_delivery", "staff_attitude"]
    assert any("态度差" in t for t in texts)


def test_training_from_confirmed_complaints(receive_public, people) -> None:
    for i, (text, label) in enumerate(examples(30)):
        complaint = receive_public(description=text, phone=f"1390000{i:04d}").complaint
        perform(complaint, "classify", people["wang"], category=label)
    trained = run("train_classifier")
    assert trained["train_size"] == 30 and trained["active"]
    model = ClassifierModel.objects.get(is_active=True)
    assert model.name == "category" and model.source == "confirmed complaints (category)"
    with pytest.raises(InvalidInput):
        Complaint.objects.update(category_confirmed=False)
        services.train_classifier(name="x", texts=[], labels=[], source="none")


@pytest.mark.parametrize("language", ["zh", "en"])
def test_one_text_prediction_matches_the_pipeline(language) -> None:
    if language == "zh":
        rows = examples(90)
        probes = [
            "我上周买的手机，屏幕碎了",
            "快递没到！请尽快处理",
            "服务员骂人，还很不耐烦",
            "你好",
        ]
    else:
        words = {
            "card": ["credit card fee", "card interest"],
            "loan": ["mortgage payment late", "loan servicer"],
            "debt": ["debt collector calls", "collection agency"],
        }
        rng = random.Random(0)
        rows = [(f"My {rng.choice(v)} XXXX problem {i}", k) for i in range(60)
                for k, v in [list(words.items())[i % 3]]]  # fmt: skip
        probes = ["the debt collector keeps calling", "late mortgage payment", "hello"]
    pipeline = classifier.fit([t for t, _ in rows], [label for _, label in rows], language)
    loaded = classifier.Loaded(pipeline, "test v1")
    expected = pipeline.predict_proba(probes)
    for probe, row in zip(probes, expected, strict=True):
        assert loaded.probabilities(probe) == pytest.approx(row, abs=1e-5)
    prediction = loaded.predict(probes[0])
    assert prediction.category == pipeline.predict([probes[0]])[0]
    assert prediction.features  # the words that weighed most


def test_a_two_label_model_reads_the_same_one_text_at_a_time() -> None:
    """Two labels give one score per text, not one per label: read as the pipeline reads it."""
    rows = [(t, label) for t, label in examples(90) if label != "staff_attitude"]
    pipeline = classifier.fit([t for t, _ in rows], [label for _, label in rows], "zh")
    loaded = classifier.Loaded(pipeline, "test v2")
    probes = ["我上周买的手机，屏幕碎了", "快递没到！请尽快处理"]
    for probe, row in zip(probes, pipeline.predict_proba(probes), strict=True):
        assert loaded.probabilities(probe) == pytest.approx(row, abs=1e-5)
        prediction = loaded.predict(probe)
        assert prediction.category == pipeline.predict([probe])[0]
        assert prediction.confidence == pytest.approx(max(row), abs=1e-5)
    assert {loaded.predict(p).category for p in probes} == {"quality_defect", "late_delivery"}


def test_grade_corrections_are_labels_too(receive_public, people) -> None:
    """A person's grade — at staff intake or by classify — is a training label for `grade`."""
    for i, (text, label) in enumerate(examples(24)):
        complaint = receive_public(description=text, phone=f"1390000{i:04d}").complaint
        grade = {"quality_defect": "B", "late_delivery": "D", "staff_attitude": "C"}[label]
        perform(complaint, "classify", people["wang"], grade=grade)
    untouched = receive_public(description="没人改过等级", phone="13911110000").complaint
    raw = {"description": "热线来电：屏幕碎了", "phone": "13911119999", "channel": "hotline",
           "grade": "A"}  # fmt: skip
    at_intake = receive(parse_incoming(raw, staff=True), actor=people["wang"]).complaint
    texts, labels = services.confirmed_examples("grade")
    assert len(labels) == 25 and labels.count("A") == 1
    assert not any("没人改过等级" in t for t in texts) and untouched.pk
    assert any("热线来电" in t for t in texts) and at_intake.grade == "A"
    trained = run("train_classifier", "--target", "grade", "--name", "grade")
    assert trained["train_size"] == 25
    assert ClassifierModel.objects.get(name="grade").labels == ["A", "B", "C", "D"]
