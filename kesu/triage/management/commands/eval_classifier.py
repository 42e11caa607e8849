import json
import time
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from kesu.errors import InvalidInput
from kesu.triage import classifier
from kesu.triage.datasets import read_labelled_csv
from kesu.triage.models import ClassifierModel


class Command(BaseCommand):
    help = (
        "Score a stored classifier (the active version unless --model-version) on a labelled CSV; "
        "prints one JSON line: macro_f1, accuracy, per_class F1, labels, confusion (rows: "
        "truth, columns: prediction), size and texts_per_second."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--name", required=True)
        parser.add_argument("--data", required=True, help="UTF-8 CSV file with a header row")
        parser.add_argument(
            "--model-version", type=int, help="a version number (default: the active one)"
        )
        parser.add_argument("--text-column", default="text")
        parser.add_argument("--label-column", default="label")
        parser.add_argument(
            "--drop-label",
            action="append",
            default=[],
            help="skip rows with this label (repeatable), e.g. unknown",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        rows = ClassifierModel.objects.filter(name=options["name"])
        row = (
            rows.filter(version=options["model_version"]).first()
            if options["model_version"]
            else rows.filter(is_active=True).first()
        )
        if row is None:
            known = ", ".join(str(m) for m in ClassifierModel.objects.all()[:20]) or "none"
            wanted = (
                f"version {options['model_version']}"
                if options["model_version"]
                else "an active version"
            )
            raise CommandError(f"{options['name']!r} has no {wanted}; stored: {known}")
        try:
            texts, labels, skipped = read_labelled_csv(
                options["data"],
                text_column=options["text_column"],
                label_column=options["label_column"],
                drop_labels=options["drop_label"],
            )
        except InvalidInput as error:
            raise CommandError(error.detail) from None
        if not texts:
            raise CommandError(f"{options['data']} has no labelled rows")
        pipeline = classifier.load(row.blob)
        started = time.perf_counter()
        metrics = classifier.evaluate(pipeline, texts, labels)
        seconds = time.perf_counter() - started
        metrics.update(
            model=str(row),
            skipped=skipped,
            texts_per_second=round(len(texts) / seconds, 1) if seconds else None,
        )
        self.stdout.write(json.dumps(metrics, ensure_ascii=False))
