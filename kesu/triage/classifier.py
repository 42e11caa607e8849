"""The trainable text classifier: features, training, judging, prediction with its reasons.

Recipe (docs/triage.md has the figures it reaches): texts are folded (NFKC, lower case,
digits as 0); Chinese texts become jieba words plus character 1–3-grams, English texts word
uni- and bigrams, each TF-IDF weighted with sublinear term frequency; a linear model scores
every label. The confidence is the softmax of those scores; the reasons are the features that
pushed the chosen label up most. A version is trained on 80 % of the data, judged on the other
20 % against the active version, and stored refitted on all of it.
"""

from __future__ import annotations

import io
import re
import threading
import time
import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import jieba
import joblib
import numpy as np
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.metrics import accuracy_score, confusion_matrix, f1_score
from sklearn.model_selection import train_test_split
from sklearn.pipeline import FeatureUnion, Pipeline
from sklearn.svm import LinearSVC

from kesu.triage.engine import Prediction

jieba.setLogLevel(60)
_DIGITS = re.compile(r"\d+")
_CJK = re.compile(r"[\u3400-\u9fff\uf900-\ufaff]")
_WORD = re.compile(r"\w", re.UNICODE)


def normalise(text: str) -> str:
    return _DIGITS.sub("0", unicodedata.normalize("NFKC", text).lower())


def tokenize_zh(text: str) -> list[str]:
    """jieba's words (precise mode), without spaces and punctuation."""
    return [w for w in jieba.lcut(text) if _WORD.search(w)]


def detect_language(texts: Sequence[str]) -> str:
    """zh when at least a fifth of the letters are Chinese characters, else en."""
    sample = "".join(texts[:500])
    letters = sum(1 for ch in sample if ch.isalpha())
    chinese = len(_CJK.findall(sample))
    return "zh" if letters and chinese / letters >= 0.2 else "en"


def build_pipeline(language: str) -> Pipeline:
    if language == "zh":
        features = FeatureUnion(
            [
                (
                    "words",
                    TfidfVectorizer(
                        preprocessor=normalise,
                        tokenizer=tokenize_zh,
                        token_pattern=None,
                        ngram_range=(1, 1),
                        sublinear_tf=True,
                        min_df=1,
                    ),
                ),
                (
                    "chars",
                    TfidfVectorizer(
                        preprocessor=normalise,
                        analyzer="char_wb",
                        ngram_range=(1, 3),
                        sublinear_tf=True,
                        min_df=2,
                    ),
                ),
            ]
        )
    else:
        features = FeatureUnion(
            [
                (
                    "words",
                    TfidfVectorizer(
                        preprocessor=normalise,
                        ngram_range=(1, 2),
                        sublinear_tf=True,
                        min_df=2,
                        stop_words="english",
                    ),
                ),
            ]
        )
    model = LinearSVC(C=0.5, class_weight="balanced")
    return Pipeline([("features", features), ("model", model)])


def _softmax(scores: np.ndarray, temperature: float = 0.25) -> np.ndarray:
    z = scores / temperature
    z = z - z.max(axis=1, keepdims=True)
    e = np.exp(z)
    probabilities: np.ndarray = e / e.sum(axis=1, keepdims=True)
    return probabilities


def evaluate(pipeline: Pipeline, texts: Sequence[str], labels: Sequence[str]) -> dict[str, Any]:
    """macro_f1, accuracy, per-class F1 and the confusion matrix (rows: truth, columns: guess)."""
    predicted = pipeline.predict(list(texts))
    names = sorted(set(labels) | set(predicted))
    per_class = f1_score(labels, predicted, labels=names, average=None, zero_division=0)
    return {
        "macro_f1": round(float(f1_score(labels, predicted, average="macro", zero_division=0)), 4),
        "accuracy": round(float(accuracy_score(labels, predicted)), 4),
        "per_class": {n: round(float(f), 4) for n, f in zip(names, per_class, strict=True)},
        "labels": names,
        "confusion": confusion_matrix(labels, predicted, labels=names).tolist(),
        "size": len(labels),
    }


@dataclass(frozen=True)
class Split:
    train_texts: list[str]
    train_labels: list[str]
    test_texts: list[str]
    test_labels: list[str]


def hold_back(texts: Sequence[str], labels: Sequence[str], share: float = 0.2) -> Split:
    """A fixed stratified split (seed 0) when every label has two texts, else a plain one."""
    counts: dict[str, int] = {}
    for label in labels:
        counts[label] = counts.get(label, 0) + 1
    stratify = list(labels) if min(counts.values()) >= 2 else None
    tr_x, te_x, tr_y, te_y = train_test_split(
        list(texts), list(labels), test_size=share, random_state=0, stratify=stratify
    )
    return Split(tr_x, tr_y, te_x, te_y)


def fit(texts: Sequence[str], labels: Sequence[str], language: str) -> Pipeline:
    pipeline = build_pipeline(language)
    pipeline.fit(list(texts), list(labels))
    return pipeline


def dump(pipeline: Pipeline) -> bytes:
    buffer = io.BytesIO()
    joblib.dump(pipeline, buffer, compress=3)
    return buffer.getvalue()


def load(blob: bytes | memoryview) -> Pipeline:
    # The blob was written by `dump` into our own database, never taken from a user.
    pipeline: Pipeline = joblib.load(io.BytesIO(bytes(blob)))
    return pipeline


class Loaded:
    """A stored version ready to predict, with its feature names for the reasons."""

    def __init__(self, pipeline: Pipeline, label: str) -> None:
        self.pipeline = pipeline
        self.label = label
        self.classes = [str(c) for c in pipeline.named_steps["model"].classes_]
        self._names: np.ndarray | None = None

    @property
    def names(self) -> np.ndarray:
        if self._names is None:
            self._names = np.asarray(self.pipeline.named_steps["features"].get_feature_names_out())
        return self._names

    def predict(self, text: str, top: int = 5) -> Prediction:
        features = self.pipeline.named_steps["features"].transform([text])
        model = self.pipeline.named_steps["model"]
        scores = np.asarray(model.decision_function(features))
        if scores.ndim == 1:
            scores = np.column_stack([-scores, scores])
        probabilities = _softmax(scores)[0]
        best = int(probabilities.argmax())
        coef = model.coef_
        row = coef[0] * (1 if best == 1 else -1) if coef.shape[0] == 1 else coef[best]
        contributions = features.multiply(row).tocsr()
        order = np.argsort(-contributions.data)[:top]
        words = [
            _feature_word(self.names[contributions.indices[i]])
            for i in order
            if contributions.data[i] > 0
        ]
        return Prediction(
            category=self.classes[best],
            confidence=float(probabilities[best]),
            features=tuple(dict.fromkeys(w for w in words if w)),
            model=self.label,
        )


def _feature_word(name: str) -> str:
    # FeatureUnion names features "words__退款" / "chars__退 "; show the text only.
    return name.split("__", 1)[-1].strip()


# --- The active version, loaded once per process ------------------------------------------------

CHECK_EVERY = 30.0
_lock = threading.Lock()
_active: dict[str, tuple[float, int | None, Loaded | None]] = {}


def active(name: str) -> Loaded | None:
    """The active version of `name` (checked against the database every CHECK_EVERY seconds)."""
    from kesu.triage.models import ClassifierModel

    now = time.monotonic()
    seen = _active.get(name)
    if seen is not None and now - seen[0] < CHECK_EVERY:
        return seen[2]
    with _lock:
        row = (
            ClassifierModel.objects.filter(name=name, is_active=True)
            .values_list("pk", "version")
            .first()
        )
        if row is None:
            _active[name] = (now, None, None)
            return None
        pk, version = row
        if seen is not None and seen[1] == pk:
            _active[name] = (now, pk, seen[2])
            return seen[2]
        blob = ClassifierModel.objects.values_list("blob", flat=True).get(pk=pk)
        loaded = Loaded(load(blob), f"{name} v{version}")
        _active[name] = (now, pk, loaded)
        return loaded


def forget() -> None:
    _active.clear()
