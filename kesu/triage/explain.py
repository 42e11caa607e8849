"""Triage reasons in words: the stored codes and numbers, rendered in the reader's language."""

from __future__ import annotations

from typing import Any

from django.utils.translation import gettext as _
from django.utils.translation import pgettext

from kesu.complaints.events import FIELD_LABELS, field_value
from kesu.complaints.models import Complaint, Emotion, Flag
from kesu.lists import series
from kesu.triage import risk
from kesu.triage.selectors import taxonomy


def _separator() -> str:
    return pgettext("between reasons", "; ")


def _words(words: list[str]) -> str:
    return series(f"“{w}”" for w in words)


def reason_text(reason: dict[str, Any]) -> str:
    """One reason as a short sentence."""
    kind = reason.get("kind")
    points = reason.get("points")
    plus = f" (+{points})" if points else ""
    labels = taxonomy()
    if kind == "score":
        return _("Score %(score)s gives grade %(grade)s") % reason
    if kind == "rule":
        parts: list[str] = []
        if reason.get("flag") in Flag.values:
            parts.append(str(Flag(reason["flag"]).label))
        if reason.get("category"):
            parts.append(_("category %(c)s") % {"c": labels.label(reason["category"])})
        if reason.get("grade_floor"):
            parts.append(_("grade at least %(g)s") % {"g": reason["grade_floor"]})
        return (
            _("Rule “%(rule)s”: mentions %(words)s → %(what)s")
            % {
                "rule": reason.get("rule", ""),
                "words": _words(reason.get("words", [])),
                "what": _separator().join(str(p) for p in parts),
            }
            + plus
        )
    if kind in ("model", "model_unsure", "model_unknown"):
        values = {
            "model": reason.get("model", ""),
            "category": labels.label(reason.get("category", "")),
            "pct": round(100 * float(reason.get("confidence", 0))),
            "words": _words(reason.get("features", [])),
        }
        if kind == "model":
            return _("Classifier %(model)s: %(category)s, %(pct)s%% sure (words: %(words)s)") % (
                values
            )
        if kind == "model_unknown":
            return (
                _(
                    "Classifier %(model)s suggests %(category)s, which is not an active category "
                    "— needs review"
                )
                % values
            )
        return (
            _("Classifier %(model)s is unsure: %(category)s, only %(pct)s%% — needs review")
            % values
        )
    if kind == "no_category":
        return _("No rule or classifier gave a category — needs review")
    if kind == "category":
        return _("Category %(c)s") % {"c": labels.label(reason.get("category", ""))} + plus
    if kind == "amount":
        return _("Amount ¥%(amount)s") % {"amount": reason.get("amount", "")} + plus
    if kind == "tier":
        return _("VIP customer") + plus
    if kind == "repeat":
        return (
            _("%(n30)s earlier complaint(s) in 30 days, %(n90)s in 90 days")
            % {
                "n30": reason.get("within_30", 0),
                "n90": reason.get("within_90", 0),
            }
            + plus
        )
    if kind == "repeat_contact":
        return _("Repeated contact: %(m)s follow-up message(s), %(n)s complaint(s) in 30 days") % {
            "m": reason.get("messages", 0),
            "n": reason.get("within_30", 0),
        }
    if kind == "emotion":
        emotion = reason.get("emotion", "")
        label = Emotion(emotion).label if emotion in Emotion.values else emotion
        return (
            _("Emotion: %(e)s (%(words)s)")
            % {
                "e": label,
                "words": _words(reason.get("words", [])),
            }
            + plus
        )
    if kind == "set_by_staff":
        return _("%(field)s set by staff: %(value)s") % {
            "field": FIELD_LABELS.get(reason.get("field", ""), reason.get("field", "")),
            "value": field_value(reason.get("field", ""), reason.get("value", "")),
        }
    if kind == "priority":
        return _("Priority from importance (%(i)s) × urgency (%(u)s)") % {
            "i": _("important") if reason.get("important") else _("not important"),
            "u": _("urgent") if reason.get("urgent") else _("not urgent"),
        }
    return str(reason)


def headline(grade: str, reasons: list[dict[str, Any]]) -> str:
    """“Grade B because: mentions 12315; amount ¥3,000; …” — the reasons that weighed most."""
    weighty = [
        r
        for r in reasons
        if r.get("points") or r.get("grade_floor") or r.get("kind") == "set_by_staff"
    ]
    weighty.sort(key=lambda r: -int(r.get("points") or 0))
    short = []
    for r in weighty[:4]:
        if r.get("kind") == "rule":
            short.append(_("mentions %(words)s") % {"words": _words(r.get("words", [])[:2])})
        else:
            short.append(reason_text(r))
    if not short:
        return _("Grade %(grade)s: nothing raised it") % {"grade": grade}
    return _("Grade %(grade)s because: %(why)s") % {"grade": grade, "why": _separator().join(short)}


def triage_view(complaint: Complaint) -> dict[str, Any]:
    """What the case page shows of triage: labels, flags, the headline and every reason."""
    tree = taxonomy()
    reasons = complaint.triage_reasons or []
    return {
        "nature": tree.label(complaint.nature) if complaint.nature else "",
        "category": tree.label(complaint.category) if complaint.category else "",
        "confidence": round(complaint.category_confidence * 100)
        if complaint.category_confidence is not None
        else None,
        "flags": [(f, Flag(f).label) for f in complaint.flags.split() if f in Flag.values],
        "emotion": complaint.get_emotion_display(),
        "headline": headline(complaint.grade, reasons),
        "reasons": [reason_text(r) for r in reasons],
        "risk_text": _separator().join(risk.reason_text(r) for r in complaint.risk_reasons or []),
    }
