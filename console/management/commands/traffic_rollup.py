"""Backfill the chart rollups: `manage.py traffic_rollup --days 60`."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandParser

from console.traffic.services import traffic_rollup_rebuild


class Command(BaseCommand):
    help = "Recompute the daily traffic rollups of the last N days (today included)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--days", type=int, default=60)

    def handle(self, *args: Any, **options: Any) -> None:
        days = options["days"]
        if days < 1 or days > 3660:
            self.stderr.write("--days must be between 1 and 3660.")
            return
        rows = traffic_rollup_rebuild(days)
        self.stdout.write(f"Rolled up {days} days: {rows} rows.")
