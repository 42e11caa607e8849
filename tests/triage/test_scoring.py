"""Grade and priority from the configurable scoring; emotion with negation (DOMAIN L4)."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

import pytest
from django.utils import timezone

from kesu.complaints.models import Emotion, Flag
from kesu.triage.emotion import read_emotion
from kesu.triage.engine import Facts
from kesu.triage.models import Scoring
from kesu.triage.services import read
from kesu.triage.text import Folded

pytestmark = pytest.mark.django_db
NOW = timezone.now()


@pytest.mark.parametrize(
    ("facts", "grade", "priority"),
    [
        # Nothing weighs: ordinary, routine.
        (Facts(text="收到的杯子有点小瑕疵"), "E", "P4"),
        (Facts(text="你们的服务让我很失望"), "E", "P4"),  # upset: 5 points
        # A large amount and anger: 15 + 10 = 25 → D; anger is urgent.
        (Facts(text="太过分了，一直不给处理", amount=Decimal("20000")), "D", "P3"),
        # Safety: 45 points → C, but the rule's floor is B; important and urgent.
        (Facts(text="孩子吃了以后过敏住院"), "B", "P1"),
        # A regulator alone: 30 points → D, floor C; C is important, a regulator urgent.
        (Facts(text="我要打12315"), "C", "P1"),
        # A VIP with nothing else: 15 → D; VIPs are urgent.
        (Facts(text="发票还没开", tier="vip"), "D", "P3"),
        # Regulator, media, lawyer and a threat: 30 + 30 + 25 + 20 = 105 → A.
        (Facts(text="再不解决就找记者曝光，打12315，还要请律师"), "A", "P1"),
        # Two earlier complaints in 30 days (capped at 30 points) → D, urgent, repeat flag.
        (
            Facts(
                text="还是那个问题",
                at=NOW,
                earlier=(NOW - timedelta(days=3), NOW - timedelta(days=20)),
            ),
            "D",
            "P3",
        ),
        # One earlier complaint 60 days ago: 5 points, not urgent.
        (Facts(text="还是那个问题", at=NOW, earlier=(NOW - timedelta(days=60),)), "E", "P4"),
    ],
)
def test_grade_and_priority_table(facts: Facts, grade: str, priority: str) -> None:
    reading = read(facts)
    assert (reading.grade, reading.priority) == (grade, priority), reading.reasons


def test_repeat_complaints_raise_the_repeat_flag() -> None:
    reading = read(Facts(text="还是那个问题", at=NOW, earlier=(NOW - timedelta(days=3),)))
    assert Flag.REPEAT in reading.flags
    repeat = next(r for r in reading.reasons if r["kind"] == "repeat")
    assert repeat == {"kind": "repeat", "within_30": 1, "within_90": 1, "points": 15}


def test_staff_decisions_stand_and_say_so() -> None:
    reading = read(Facts(text="我要打12315", grade="E", priority="P4", category="long_wait"))
    assert (reading.grade, reading.priority, reading.category) == ("E", "P4", "long_wait")
    assert reading.nature == "service"
    assert Flag.REGULATOR in reading.flags  # the signal is still recorded
    staff = [r["field"] for r in reading.reasons if r["kind"] == "set_by_staff"]
    assert staff == ["category", "grade", "priority"]


def test_the_scoring_row_is_the_configuration() -> None:
    facts = Facts(text="太过分了，一直不给处理", amount=Decimal("20000"))
    assert read(facts).grade == "D"
    scoring = Scoring.objects.get()
    scoring.grade_d_from = 30
    scoring.save()  # through the admin in real life; the save signal refreshes the cache
    assert read(facts).grade == "E"
    scoring.important_grade = "E"
    scoring.save()
    assert read(facts).priority == "P1"  # everything is important now, and anger is urgent


@pytest.mark.parametrize(
    ("text", "emotion"),
    [
        ("收到了，谢谢", Emotion.CALM),
        ("我并不生气，只是想问问", Emotion.CALM),  # negated
        ("I am not angry, just asking", Emotion.CALM),
        ("你们的服务让我很失望", Emotion.UPSET),
        ("I am really disappointed", Emotion.UPSET),
        ("这就是欺骗消费者", Emotion.ANGRY),
        ("This is a scam", Emotion.ANGRY),
        ("太过分了！！！", Emotion.ANGRY),  # shouting raises upset to angry, not further
        ("怎么还没到！！！", Emotion.UPSET),
        ("再不解决后果自负", Emotion.THREATENING),
        ("Refund me or else", Emotion.THREATENING),
    ],
)
def test_emotion_lexicon_with_negation(text: str, emotion: str) -> None:
    assert read_emotion(Folded.of(text)).level == emotion
