"""Re-encrypt every encrypted field with the newest FIELD_ENCRYPTION_KEY.

Rotation: put the new key first in FIELD_ENCRYPTION_KEY (comma-separated, the old one after
it), deploy, run this command, then remove the old key.
"""

from __future__ import annotations

from typing import Any

from django.apps import apps
from django.core.management.base import BaseCommand
from django.db import transaction

from core.crypto import EncryptedTextField


class Command(BaseCommand):
    help = "Re-encrypt stored secrets with the newest FIELD_ENCRYPTION_KEY."

    def handle(self, *args: Any, **options: Any) -> None:
        total = 0
        for model in apps.get_models():
            names = [f.name for f in model._meta.fields if isinstance(f, EncryptedTextField)]
            if not names:
                continue
            # The base manager is unscoped: rotation covers every tenant's rows on purpose.
            manager = model._base_manager
            with transaction.atomic():
                # Reading decrypts with any key; writing encrypts with the first (newest) one.
                for row in manager.select_for_update().only("pk", *names).iterator():
                    manager.filter(pk=row.pk).update(**{n: getattr(row, n) for n in names})
                    total += 1
        self.stdout.write(f"Re-encrypted secrets in {total} row(s).")
