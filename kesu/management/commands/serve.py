from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandParser

from kesu import scheduler
from kesu.management.commands.load_demo import print_logins


class Command(BaseCommand):
    help = "Serve Kesu with waitress and run the background jobs in the same process."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--host", default="127.0.0.1")
        parser.add_argument("--port", type=int, default=8000)
        parser.add_argument("--threads", type=int, default=8)
        parser.add_argument(
            "--no-jobs", action="store_true", help="do not run the embedded background loop"
        )

    def handle(self, *args: Any, **options: Any) -> None:
        from waitress import serve

        from kesu.wsgi import application

        if not options["no_jobs"]:
            scheduler.start_in_background(settings.KESU_JOB_INTERVAL)
        url = f"http://{options['host']}:{options['port']}/"
        self.stdout.write(self.style.SUCCESS(f"Kesu is serving on {url}"))
        self.stdout.write(f"  customers: {url}complain/   staff: {url}login/   API: {url}api/docs")
        print_logins(self)
        self.stdout.flush()
        serve(
            application,
            host=options["host"],
            port=options["port"],
            threads=options["threads"],
            ident="kesu",
        )
