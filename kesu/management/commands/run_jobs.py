import threading
from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandParser

from kesu import scheduler


class Command(BaseCommand):
    help = "Run the periodic jobs (outbox delivery, clean-ups) in the foreground, for deployments "
    "whose web processes do not run them."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--once", action="store_true", help="run every job once and exit")

    def handle(self, *args: Any, **options: Any) -> None:
        if options["once"]:
            scheduler.run_once({})
            return
        self.stdout.write(f"Running jobs every {settings.KESU_JOB_INTERVAL} s; Ctrl-C stops.")
        try:
            scheduler.loop(settings.KESU_JOB_INTERVAL, threading.Event())
        except KeyboardInterrupt:
            self.stdout.write("Stopped.")
