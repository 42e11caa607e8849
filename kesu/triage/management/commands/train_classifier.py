import json
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from kesu.errors import InvalidInput
from kesu.triage import services
from kesu.triage.datasets import add_csv_options, read_csv_options


class Command(BaseCommand):
    help = (
        "Train a new version of a classifier from a CSV file, or (without --data) from the "
        "complaints whose category a person confirmed. It becomes active unless it is worse "
        "than the active version on a held-back 20 %."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--name",
            default=services.CATEGORY_MODEL,
            help=f"classifier name (triage uses {services.CATEGORY_MODEL!r})",
        )
        add_csv_options(parser, data_required=False)
        parser.add_argument("--activate", choices=["auto", "always", "never"], default="auto")
        parser.add_argument(
            "--target",
            choices=services.TARGETS,
            default="category",
            help="without --data: which of the people's labels to learn (default category)",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        try:
            if options["data"]:
                texts, labels, skipped = read_csv_options(options)
                source = options["data"]
            else:
                texts, labels = services.confirmed_examples(options["target"])
                skipped = 0
                source = f"confirmed complaints ({options['target']})"
            trained = services.train_classifier(
                name=options["name"],
                texts=texts,
                labels=labels,
                source=source,
                activate=options["activate"],
            )
        except InvalidInput as error:
            raise CommandError(error.detail) from None
        model = trained.model
        metrics = model.metrics
        self.stderr.write(
            f"{model} trained on {model.train_size} texts ({skipped} rows skipped) "
            f"in {metrics['seconds']} s; {len(model.labels)} labels; {model.size // 1024} KiB"
        )
        self.stderr.write(
            f"held back {metrics['size']} texts: macro-F1 {metrics['macro_f1']}, "
            f"accuracy {metrics['accuracy']}"
        )
        if trained.active_metrics is not None and trained.active_before is not None:
            before = trained.active_metrics
            self.stderr.write(
                f"active {trained.active_before} on the same texts: macro-F1 "
                f"{before['macro_f1']}, accuracy {before['accuracy']}"
            )
        self.stderr.write(model.decision)
        self.stdout.write(
            json.dumps(
                {
                    "name": model.name,
                    "version": model.version,
                    "active": model.is_active,
                    "train_size": model.train_size,
                    "macro_f1": metrics["macro_f1"],
                    "accuracy": metrics["accuracy"],
                    "seconds": metrics["seconds"],
                    "decision": model.decision,
                },
                ensure_ascii=False,
            )
        )
