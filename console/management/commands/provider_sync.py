from typing import Any

from django.core.management.base import BaseCommand

from console.sync import provider_sync


class Command(BaseCommand):
    help = "Pull every tenant's 46elks subaccount usage and limit (skips if a sync is running)."

    def handle(self, *args: Any, **options: Any) -> None:
        self.stdout.write(str(provider_sync()))
