from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError, CommandParser

from kesu.demo import loader


class Command(BaseCommand):
    help = "Load the demo organisation, one login per role and ~300 demo complaints."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--count", type=int, default=300)
        parser.add_argument("--days", type=int, default=60)
        parser.add_argument("--seed", type=int, default=2026)
        parser.add_argument(
            "--if-empty",
            action="store_true",
            help="do nothing when the database already has users or complaints",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        if loader.demo_loaded():
            if options["if_empty"]:
                self.stdout.write("Demo data: the database already has data; nothing loaded.")
                return
            raise CommandError("the database already has users or complaints")
        count = loader.load(count=options["count"], days=options["days"], seed=options["seed"])
        self.stdout.write(self.style.SUCCESS(f"Demo data: {count} complaints loaded."))
        print_logins(self)


def print_logins(command: BaseCommand) -> None:
    rows = loader.logins()
    if not rows:
        return
    command.stdout.write(f"Demo logins (password: {settings.KESU_DEMO_PASSWORD}):")
    for username, role, name in rows:
        command.stdout.write(f"  {username:<10} {name} · {role}")
