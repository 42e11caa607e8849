"""The triage decision, as a pure function of the text, the facts and the configuration.

Order of precedence for the category (docs/triage.md): what staff set at intake, then the
first matching rule that sets one, then the classifier when it is confident enough; otherwise
nothing is guessed and the complaint needs review. The grade comes from a points score
(Scoring) raised to the highest floor a matching rule sets; priority is urgency × importance
(DOMAIN L4). Every step that counts leaves a reason: codes and numbers, rendered in the
reader's language by `kesu.triage.explain`.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any

from kesu.complaints.models import Emotion, Flag, Grade, Priority
from kesu.customers.models import Tier
from kesu.triage.emotion import LEVELS, read_emotion
from kesu.triage.selectors import Setup
from kesu.triage.text import Folded

GRADES = [Grade.A, Grade.B, Grade.C, Grade.D, Grade.E]  # most severe first
URGENT_FLAGS = frozenset(
    {Flag.SAFETY, Flag.REGULATOR, Flag.MEDIA, Flag.LEGAL, Flag.GROUP, Flag.URGENT}
)


@dataclass(frozen=True)
class Prediction:
    """What the classifier said about one text."""

    category: str
    confidence: float
    features: tuple[str, ...]
    model: str  # "name vN"


@dataclass(frozen=True)
class Facts:
    """What triage reads besides the text."""

    text: str
    amount: Decimal | None = None
    tier: str = Tier.REGULAR
    earlier: tuple[datetime, ...] = ()  # the customer's earlier complaints' times
    at: datetime | None = None
    messages: int = 0  # follow-up messages the customer has sent on this complaint
    # Set by staff at intake (or confirmed since): triage keeps them and says so.
    nature: str = ""
    category: str = ""
    grade: str = ""
    priority: str = ""


@dataclass
class Reading:
    nature: str = ""
    category: str = ""
    confidence: float | None = None
    needs_review: bool = False
    flags: list[str] = field(default_factory=list)
    emotion: str = Emotion.CALM
    score: int = 0
    grade: str = Grade.E
    priority: str = Priority.P4
    reasons: list[dict[str, Any]] = field(default_factory=list)

    @property
    def flag_text(self) -> str:
        return " ".join(self.flags)


def grade_for(score: int, setup: Setup) -> str:
    s = setup.scoring
    for grade, start in (
        (Grade.A, s.grade_a_from),
        (Grade.B, s.grade_b_from),
        (Grade.C, s.grade_c_from),
        (Grade.D, s.grade_d_from),
    ):
        if score >= start:
            return grade
    return Grade.E


def more_severe(a: str, b: str) -> str:
    return a if GRADES.index(Grade(a)) <= GRADES.index(Grade(b)) else b


def priority_for(*, important: bool, urgent: bool) -> str:
    if important:
        return Priority.P1 if urgent else Priority.P2
    return Priority.P3 if urgent else Priority.P4


def _flag_points(flag: str, setup: Setup) -> int:
    s = setup.scoring
    return {
        Flag.SAFETY: s.safety_points,
        Flag.REGULATOR: s.regulator_points,
        Flag.MEDIA: s.media_points,
        Flag.LEGAL: s.legal_points,
        Flag.GROUP: s.group_points,
        Flag.REPEAT: s.repeat_signal_points,
    }.get(Flag(flag), 0)


def _amount_points(amount: Decimal | None, setup: Setup) -> int:
    s = setup.scoring
    if amount is None:
        return 0
    for start, points in (
        (s.amount_huge, s.amount_huge_points),
        (s.amount_large, s.amount_large_points),
        (s.amount_medium, s.amount_medium_points),
    ):
        if amount >= start:
            return points
    return 0


def assess(facts: Facts, setup: Setup, prediction: Prediction | None) -> Reading:
    """Triage one complaint: category, flags, emotion, score, grade, priority and why."""
    text = Folded.of(facts.text)
    taxonomy = setup.taxonomy
    scoring = setup.scoring
    reading = Reading()
    reasons = reading.reasons
    score = 0
    floor: str = Grade.E
    rule_category = ""

    for rule in setup.rules:
        evidence = rule.evidence(text)
        if not evidence:
            continue
        reason: dict[str, Any] = {"kind": "rule", "rule": rule.name, "words": evidence[:5]}
        if rule.flag and rule.flag not in reading.flags:
            reading.flags.append(rule.flag)
            points = _flag_points(rule.flag, setup)
            score += points
            reason.update(flag=rule.flag, points=points)
        if rule.category and not rule_category and taxonomy.is_category(rule.category):
            rule_category = rule.category
            reason["category"] = rule.category
        if rule.grade_floor:
            floor = more_severe(floor, rule.grade_floor)
            reason["grade_floor"] = rule.grade_floor
        if len(reason) > 3:  # it did something beyond matching
            reasons.append(reason)

    # Category: staff's, a rule's, or the classifier's if it is sure enough.
    if facts.category:
        reading.category = facts.category
        reasons.append({"kind": "set_by_staff", "field": "category", "value": facts.category})
    elif rule_category:
        reading.category = rule_category
    elif prediction is not None and prediction.category:
        known = taxonomy.is_category(prediction.category)
        sure = known and prediction.confidence >= scoring.min_confidence
        reasons.append(
            {
                "kind": "model" if sure else "model_unsure" if known else "model_unknown",
                "model": prediction.model,
                "category": prediction.category,
                "confidence": round(prediction.confidence, 3),
                "features": list(prediction.features[:5]),
            }
        )
        if sure:
            reading.category = prediction.category
            reading.confidence = prediction.confidence
        else:
            reading.needs_review = True
    else:
        reading.needs_review = True
        reasons.append({"kind": "no_category"})
    reading.nature = facts.nature or taxonomy.nature_of(reading.category)
    if reading.category:
        points = (
            taxonomy.nodes[reading.category].points if reading.category in taxonomy.nodes else 0
        )
        if points:
            score += points
            reasons.append({"kind": "category", "category": reading.category, "points": points})

    # Amount, tier, history.
    points = _amount_points(facts.amount, setup)
    if points:
        score += points
        reasons.append({"kind": "amount", "amount": str(facts.amount), "points": points})
    if facts.tier == Tier.VIP and scoring.vip_points:
        score += scoring.vip_points
        reasons.append({"kind": "tier", "tier": facts.tier, "points": scoring.vip_points})
    recent = older = 0
    if facts.at is not None:
        recent = sum(1 for t in facts.earlier if facts.at - t <= timedelta(days=30))
        older = sum(1 for t in facts.earlier if timedelta(days=30) < facts.at - t <= timedelta(90))
    points = min(
        recent * scoring.repeat_30d_points + older * scoring.repeat_90d_points,
        scoring.repeat_max_points,
    )
    if recent or older:
        score += points
        reasons.append(
            {"kind": "repeat", "within_30": recent, "within_90": recent + older, "points": points}
        )
    if (recent or facts.messages >= 2) and Flag.REPEAT not in reading.flags:
        reading.flags.append(Flag.REPEAT)
        reasons.append({"kind": "repeat_contact", "messages": facts.messages, "within_30": recent})

    # Emotion.
    felt = read_emotion(text)
    reading.emotion = felt.level
    points = {
        Emotion.UPSET: scoring.upset_points,
        Emotion.ANGRY: scoring.angry_points,
        Emotion.THREATENING: scoring.threatening_points,
    }.get(felt.level, 0)
    if felt.level != Emotion.CALM:
        score += points
        reasons.append(
            {"kind": "emotion", "emotion": felt.level, "words": list(felt.words), "points": points}
        )

    # Grade and priority.
    reading.score = min(score, 32767)
    computed = more_severe(grade_for(score, setup), floor)
    if facts.grade:
        reading.grade = facts.grade
        reasons.append({"kind": "set_by_staff", "field": "grade", "value": facts.grade})
    else:
        reading.grade = computed
    important = GRADES.index(Grade(reading.grade)) <= GRADES.index(Grade(scoring.important_grade))
    urgent = (
        any(f in URGENT_FLAGS for f in reading.flags)
        or LEVELS.index(Emotion(reading.emotion)) >= LEVELS.index(Emotion(scoring.urgent_emotion))
        or facts.tier == Tier.VIP
        or recent > 0
    )
    if facts.priority:
        reading.priority = facts.priority
        reasons.append({"kind": "set_by_staff", "field": "priority", "value": facts.priority})
    else:
        reading.priority = priority_for(important=important, urgent=urgent)
        reasons.append({"kind": "priority", "important": important, "urgent": urgent})
    reasons.insert(0, {"kind": "score", "score": reading.score, "grade": computed})
    return reading
