"""`make bench-triage`: the product's classifier recipe on the real third-party text sets.

For each set in ../shared/data (read in place; skipped with a message when absent):
5-fold stratified cross-validation on dev.csv (macro-F1 mean ± sd, accuracy), the time to
train on the whole of dev.csv, prediction throughput on one core (a batch, and one text at a
time as intake predicts), and the stored model's size. Nothing is tuned here: the recipe is
kesu.triage.classifier.build_pipeline, as `train_classifier` uses it.

Results go to bench/results/triage.json and are printed as Markdown for docs/triage.md.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import sys
import time
from pathlib import Path
from typing import Any

# One core: the figures are per core, and a web worker predicts on one.
for name in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(name, "1")

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "kesu.settings")

import django  # noqa: E402

django.setup()

import numpy as np  # noqa: E402
from sklearn.metrics import accuracy_score, f1_score  # noqa: E402
from sklearn.model_selection import StratifiedKFold  # noqa: E402

from bench.run import machine  # noqa: E402
from kesu.triage import classifier  # noqa: E402
from kesu.triage.datasets import read_labelled_csv  # noqa: E402

SHARED = ROOT.parent / "shared" / "data"
RESULTS = ROOT / "bench" / "results"
# (set, labels left out, reference macro-F1 of TF-IDF + linear SVM quoted in the data README,
#  the aim)
SETS = [
    ("zh-gov-messages", (), 0.866, 0.89),
    ("zh-shopping-negative", (), 0.877, 0.90),
    ("zh-car-quality-service", ("unknown",), 0.723, 0.76),
    ("zh-jd-disputes", (), 0.229, 0.30),
    ("en-cfpb-product", (), 0.474, 0.55),
]


def evaluate(name: str, drop: tuple[str, ...], folds: int, errors: int = 0) -> dict[str, Any]:
    texts, labels, skipped = read_labelled_csv(SHARED / name / "dev.csv", drop_labels=drop)
    y = np.asarray(labels)
    language = classifier.detect_language(texts)
    f1s, accuracies = [], []
    guesses = np.empty(len(y), dtype=object)
    splitter = StratifiedKFold(folds, shuffle=True, random_state=0)
    for number, (train, test) in enumerate(splitter.split(texts, y), start=1):
        model = classifier.fit([texts[i] for i in train], y[train].tolist(), language)
        predicted = model.predict([texts[i] for i in test])
        guesses[test] = predicted
        f1s.append(f1_score(y[test], predicted, average="macro"))
        accuracies.append(accuracy_score(y[test], predicted))
        print(f"  {name} fold {number}: macro-F1 {f1s[-1]:.4f}", file=sys.stderr, flush=True)
    if errors:
        show_errors(texts, y, guesses, errors)
        return {}
    started = time.perf_counter()
    model = classifier.fit(texts, labels, language)
    train_seconds = time.perf_counter() - started
    blob = classifier.dump(model)
    loaded = classifier.Loaded(classifier.load(blob), name)
    sample = texts[:2000]
    started = time.perf_counter()
    model.predict(sample)
    batch_rate = len(sample) / (time.perf_counter() - started)
    loaded.predict(sample[0])  # feature names, once per process
    single = []
    for text in sample[:500]:
        started = time.perf_counter()
        loaded.predict(text)  # one text, with its confidence and reasons, as intake does
        single.append((time.perf_counter() - started) * 1000)
    single.sort()
    return {
        "set": name,
        "language": language,
        "texts": len(texts),
        "labels": len(set(labels)),
        "skipped": skipped,
        "macro_f1": round(float(np.mean(f1s)), 4),
        "macro_f1_sd": round(float(np.std(f1s)), 4),
        "accuracy": round(float(np.mean(accuracies)), 4),
        "train_seconds": round(train_seconds, 2),
        "batch_texts_per_second": round(batch_rate),
        "single_p50_ms": round(single[len(single) // 2], 2),
        "single_p95_ms": round(single[int(len(single) * 0.95)], 2),
        "model_kib": len(blob) // 1024,
    }


def show_errors(texts: list[str], truth: np.ndarray, guesses: np.ndarray, count: int) -> None:
    """A fixed random sample (seed 1) of the out-of-fold errors, to read by hand."""
    wrong = [i for i in range(len(truth)) if guesses[i] != truth[i]]
    print(f"{len(wrong)} of {len(truth)} texts guessed wrong out of fold; {count} of them:")
    random.seed(1)
    for i in random.sample(wrong, min(count, len(wrong))):
        print(f"{truth[i]} -> {guesses[i]} | {texts[i][:80]}".replace("\n", " "))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--folds", type=int, default=5)
    parser.add_argument("--sets", nargs="*", default=[s[0] for s in SETS])
    parser.add_argument(
        "--errors", type=int, default=0, metavar="N",
        help="print N random out-of-fold errors per set instead of the figures",
    )  # fmt: skip
    args = parser.parse_args()
    if not SHARED.is_dir():
        print(f"{SHARED} is absent: no text sets to evaluate on; nothing done.")
        return
    rows = []
    for name, drop, reference, aim in SETS:
        if name not in args.sets:
            continue
        if not (SHARED / name / "dev.csv").exists():
            print(f"{name}: no dev.csv in {SHARED / name}; skipped.")
            continue
        row = evaluate(name, drop, args.folds, args.errors)
        if args.errors:
            continue
        row.update(reference=reference, aim=aim)
        rows.append(row)
        print(json.dumps(row, ensure_ascii=False), flush=True)
    if args.errors:
        return
    report = {"machine": machine(), "when": time.strftime("%Y-%m-%d %H:%M:%S"),
              "folds": args.folds, "sets": rows}  # fmt: skip
    RESULTS.mkdir(parents=True, exist_ok=True)
    (RESULTS / "triage.json").write_text(json.dumps(report, ensure_ascii=False, indent=1))
    print(
        "\n| set | texts | labels | macro-F1 (5-fold) | accuracy | reference | aim | train s "
        "| texts/s (batch) | one text p50 / p95 ms | model KiB |"
    )
    print("|---|---|---|---|---|---|---|---|---|---|---|")
    for r in rows:
        print(f"| {r['set']} | {r['texts']} | {r['labels']} | {r['macro_f1']:.3f} ± "
              f"{r['macro_f1_sd']:.3f} | {r['accuracy']:.3f} | {r['reference']:.3f} | "
              f"{r['aim']:.2f} | {r['train_seconds']} | {r['batch_texts_per_second']} | "
              f"{r['single_p50_ms']} / {r['single_p95_ms']} | {r['model_kib']} |")  # fmt: skip


if __name__ == "__main__":
    main()
