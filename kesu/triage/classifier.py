"""The trainable text classifier: features, training, judging, prediction with its reasons.

Recipe (docs/triage.md has the figures it reaches on the real text sets): texts are folded
(NFKC, lower case, every run of digits as 0; Chinese texts cut to their first 300 characters,
where the category is told — which also bounds jieba's time on a 20,000-character complaint);
Chinese becomes jieba words plus character 1–3-grams, English word uni- and bigrams (CFPB's
XXXX masks dropped), each TF-IDF weighted (sublinear term frequency, except the characters'
raw counts) and seen at least twice; a linear SVM with balanced class weights scores every
label, its C chosen by an internal 3-fold split of the training data. The confidence is a
softmax of those scores whose scale is fitted to the same out-of-fold scores, so that "70 %
sure" is right about 70 % of the time; the reasons are the features that pushed the chosen
label up most. A version is trained on 80 % of the data, judged on the other 20 % against
the active version, and stored refitted on all of it.
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
from sklearn.model_selection import StratifiedKFold, cross_val_predict, train_test_split
from sklearn.pipeline import FeatureUnion, Pipeline
from sklearn.svm import LinearSVC

from kesu.triage.engine import Prediction

jieba.setLogLevel(60)
MAX_CHARS_ZH = 300
_DIGITS = re.compile(r"\d+")
_MASK = re.compile(r"\bx{2,}\b")
_CJK = re.compile(r"[\u3400-\u9fff\uf900-\ufaff]")


def normalise(text: str) -> str:
    return _DIGITS.sub("0", unicodedata.normalize("NFKC", str(text or "")).lower())


def normalise_zh(text: str) -> str:
    return normalise(text)[:MAX_CHARS_ZH]


def normalise_en(text: str) -> str:
    return _MASK.sub(" ", normalise(text))


def tokenize_zh(text: str) -> list[str]:
    """jieba's words (precise mode), without the spaces."""
    return [w for w in jieba.lcut(text) if w.strip()]


def detect_language(texts: Sequence[str]) -> str:
    """zh when at least a fifth of the letters are Chinese characters, else en."""
    sample = "".join(texts[:500])
    letters = sum(1 for ch in sample if ch.isalpha())
    chinese = len(_CJK.findall(sample))
    return "zh" if letters and chinese / letters >= 0.2 else "en"


class SoftmaxLinearSVC(LinearSVC):  # type: ignore[misc]  # sklearn has no type hints
    """A linear SVM that picks its C and gives a confidence, both from its training data.

    An internal stratified 3-fold split of the training data (only the SVM is refitted there,
    on the same features) scores each C of `choices` by macro-F1; the best is refitted on all
    of it. `predict_proba` is a softmax of scale × the decision scores, the scale being the one
    that minimises the log-loss of the winning C's out-of-fold scores.
    """

    def __init__(
        self,
        C: float = 0.5,  # noqa: N803 - scikit-learn's parameter names
        class_weight: Any = "balanced",
        max_iter: int = 2000,
        choices: tuple[float, ...] = (0.1, 0.2, 0.5),
    ) -> None:
        super().__init__(C=C, class_weight=class_weight, max_iter=max_iter)
        self.choices = choices

    def fit(self, X: Any, y: Any, sample_weight: Any = None) -> SoftmaxLinearSVC:  # noqa: N803
        labels = np.asarray(y)
        smallest = int(np.unique(labels, return_counts=True)[1].min())
        scores = None
        if smallest >= 2:
            folds = StratifiedKFold(min(3, smallest), shuffle=True, random_state=0)
            classes = np.unique(labels)
            best_f1 = -1.0
            for c in self.choices or (float(getattr(self, "C", 0.5)),):
                svm = LinearSVC(C=c, class_weight=self.class_weight, max_iter=self.max_iter)
                found = _two_columns(
                    cross_val_predict(svm, X, labels, cv=folds, method="decision_function")
                )
                f1 = f1_score(labels, classes[found.argmax(axis=1)], average="macro")
                if f1 > best_f1 + 1e-9:
                    best_f1, self.C, scores = f1, c, found
        super().fit(X, y, sample_weight=sample_weight)
        self.scale_ = 4.0  # for labels too rare to fit it on
        if scores is not None:
            truth = np.searchsorted(self.classes_, labels)
            best = np.inf
            for scale in np.geomspace(0.5, 50, 41):
                z = scale * scores
                z = z - z.max(axis=1, keepdims=True)
                loss = -(z[np.arange(len(truth)), truth] - np.log(np.exp(z).sum(axis=1))).mean()
                if loss < best:
                    best, self.scale_ = loss, float(scale)
        return self

    def predict_proba(self, X: Any) -> np.ndarray:  # noqa: N803
        z = self.scale_ * _two_columns(self.decision_function(X))
        z = z - z.max(axis=1, keepdims=True)
        e = np.exp(z)
        probabilities: np.ndarray = e / e.sum(axis=1, keepdims=True)
        return probabilities


def _two_columns(scores: Any) -> np.ndarray:
    array: np.ndarray = np.asarray(scores)
    if array.ndim == 1:  # two labels: one score, for the second
        array = np.column_stack([-array, array])
    return array


def _tfidf(**options: Any) -> TfidfVectorizer:
    settings: dict[str, Any] = {
        "lowercase": False, "sublinear_tf": True, "min_df": 2, "dtype": np.float32, **options
    }  # fmt: skip
    return TfidfVectorizer(**settings)


def build_pipeline(language: str) -> Pipeline:
    if language == "zh":
        features = FeatureUnion(
            [
                ("words", _tfidf(preprocessor=normalise_zh, tokenizer=tokenize_zh,
                                 token_pattern=None)),
                # Characters by raw count, words sublinearly: better on the long petitions
                # of zh-gov-messages, flat elsewhere (docs/triage.md, §8).
                ("chars", _tfidf(preprocessor=normalise_zh, analyzer="char",
                                 ngram_range=(1, 3), sublinear_tf=False)),
            ]
        )  # fmt: skip
    else:
        features = FeatureUnion(
            [
                ("words", _tfidf(preprocessor=normalise_en, token_pattern=r"(?u)\b\w+\b",  # noqa: S106
                                 ngram_range=(1, 2))),
            ]
        )  # fmt: skip
    return Pipeline([("features", features), ("model", SoftmaxLinearSVC())])


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
    """A stored version ready to predict one text at a time, with the reasons.

    Intake predicts one complaint per request, where scikit-learn's per-call overhead (sparse
    matrices, validation, a FeatureUnion) costs more than the arithmetic. So the fitted
    vocabularies, IDF weights and coefficients are read out once, and one text's TF-IDF vector
    and scores are computed directly from them — the same numbers as the pipeline's (a test
    compares them), in a fraction of the time (docs/triage.md).
    """

    def __init__(self, pipeline: Pipeline, label: str) -> None:
        self.pipeline = pipeline
        self.label = label
        model = pipeline.named_steps["model"]
        self.classes = [str(c) for c in model.classes_]
        self.coef = np.asarray(model.coef_)
        self.intercept = np.asarray(model.intercept_)
        self.scale = float(getattr(model, "scale_", 4.0))
        self.parts: list[_Part] = []
        offset = 0
        for _name, vectorizer in pipeline.named_steps["features"].transformer_list:
            self.parts.append(_Part(vectorizer, offset))
            offset += len(vectorizer.vocabulary_)

    def vector(self, text: str) -> tuple[np.ndarray, np.ndarray]:
        """The text's non-zero features: (columns, TF-IDF values), as the pipeline makes them."""
        columns: list[np.ndarray] = []
        values: list[np.ndarray] = []
        for part in self.parts:
            found = part.weigh(text)
            if found is not None:
                columns.append(found[0] + part.offset)
                values.append(found[1])
        if not columns:
            return np.zeros(0, dtype=np.intp), np.zeros(0)
        return np.concatenate(columns), np.concatenate(values)

    def _softmax(self, columns: np.ndarray, values: np.ndarray) -> np.ndarray:
        scores = np.asarray(self.coef[:, columns] @ values + self.intercept).reshape(-1)
        if len(scores) == 1:  # two labels: one score, for the second (see _two_columns)
            scores = np.array([-scores[0], scores[0]])
        z = self.scale * scores
        e = np.exp(z - z.max())
        result: np.ndarray = e / e.sum()
        return result

    def probabilities(self, text: str) -> np.ndarray:
        """Each label's probability, in the order of `classes`."""
        return self._softmax(*self.vector(text))

    def predict(self, text: str, top: int = 5) -> Prediction:
        columns, values = self.vector(text)
        probabilities = self._softmax(columns, values)
        best = int(probabilities.argmax())
        if not len(columns):
            # Not one word the model knows: its scores are its biases, not a reading.
            return Prediction(self.classes[best], 0.0, (), self.label)
        row = self.coef[0] * (1 if best == 1 else -1) if len(self.coef) == 1 else self.coef[best]
        contributions = values * row[columns]
        order = np.argsort(-contributions)[:top]
        words = [self._term(int(columns[i])) for i in order if contributions[i] > 0]
        return Prediction(
            category=self.classes[best],
            confidence=float(probabilities[best]),
            features=tuple(dict.fromkeys(w for w in words if w)),
            model=self.label,
        )

    def _term(self, column: int) -> str:
        for part in reversed(self.parts):
            if column >= part.offset:
                return part.term(column - part.offset).strip()
        return ""


class _Part:
    """One TfidfVectorizer of the FeatureUnion, read out for one-text-at-a-time use."""

    def __init__(self, vectorizer: TfidfVectorizer, offset: int) -> None:
        self.analyzer = vectorizer.build_analyzer()
        self.vocabulary: dict[str, int] = vectorizer.vocabulary_
        self.idf = np.asarray(vectorizer.idf_, dtype=np.float64)
        self.sublinear = bool(vectorizer.sublinear_tf)
        self.norm = vectorizer.norm
        self.offset = offset
        self._terms: list[str] | None = None

    def weigh(self, text: str) -> tuple[np.ndarray, np.ndarray] | None:
        counts: dict[int, int] = {}
        vocabulary = self.vocabulary
        for term in self.analyzer(text):
            column = vocabulary.get(term)
            if column is not None:
                counts[column] = counts.get(column, 0) + 1
        if not counts:
            return None
        columns = np.fromiter(counts.keys(), dtype=np.intp, count=len(counts))
        tf = np.fromiter(counts.values(), dtype=np.float64, count=len(counts))
        if self.sublinear:
            tf = 1.0 + np.log(tf)
        weights = tf * self.idf[columns]
        if self.norm == "l2":
            weights /= np.sqrt((weights * weights).sum())
        elif self.norm == "l1":
            weights /= np.abs(weights).sum()
        return columns, weights

    def term(self, column: int) -> str:
        if self._terms is None:
            terms = [""] * len(self.vocabulary)
            for term, index in self.vocabulary.items():
                terms[index] = term
            self._terms = terms
        return self._terms[column]


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
