from datetime import timedelta
from typing import Any

from django.core.management.base import BaseCommand, CommandParser

from providers.services import webhooks_drain


class Command(BaseCommand):
    help = "Process stored webhook events that are still pending (default: older than 1 minute)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--all", action="store_true", help="Include events just received.")

    def handle(self, *args: Any, **options: Any) -> None:
        older = None if options["all"] else timedelta(minutes=1)
        count = webhooks_drain(older_than=older, limit=1_000_000)
        self.stdout.write(f"Processed {count} pending event(s).")
