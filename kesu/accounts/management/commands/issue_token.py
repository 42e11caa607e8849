from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from kesu.accounts.models import User
from kesu.accounts.services import issue_token


class Command(BaseCommand):
    help = "Print a new API token for a user (the token is on the last line)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("username")
        parser.add_argument("--name", default="cli", help="a label to recognise the token by")

    def handle(self, *args: Any, **options: Any) -> None:
        try:
            user = User.objects.get(username=options["username"], is_active=True)
        except User.DoesNotExist:
            raise CommandError(f"no active user named {options['username']!r}") from None
        token = issue_token(user=user, name=options["name"])
        self.stderr.write(f"API token for {user.username} ({user.role}):")
        self.stdout.write(token)
