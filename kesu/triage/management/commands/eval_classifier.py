import json
import time
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from kesu.errors import InvalidInput
from kesu.triage import classifier
from kesu.triage.datasets import add_csv_options, read_csv_options
from kesu.triage.models import ClassifierModel


class Command(BaseCommand):
    help = (
        "Score a stored classifier (the active version unless --model-version) on a labelled CSV; "
        "prints one JSON line: macro_f1, accuracy, per_class F1, labels, confusion (rows: "
        "truth, columns: prediction), size and texts_per_second."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--name", required=True)
        parser.add_argument(
            "--model-version", type=int, help="a version number (default: the active one)"
        )
        add_csv_options(parser, data_required=True)

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
            texts, labels, skipped = read_csv_options(options)
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
