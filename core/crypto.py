"""Encryption of secrets at rest (subaccount secrets, provider API keys).

Values are Fernet tokens made with the first key of `FIELD_ENCRYPTION_KEYS`; every key in the
list can decrypt, so a new key is rotated in by putting it first, running
`manage.py rotate_encryption_key`, then dropping the old key. The keys are separate from
SECRET_KEY so that leaking one does not leak the other.
"""

from __future__ import annotations

import base64
from functools import lru_cache

from cryptography.fernet import Fernet, InvalidToken, MultiFernet
from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.core.signals import setting_changed
from django.db import models


def _fernet_for(key: str) -> Fernet:
    raw = key.strip().encode()
    try:
        return Fernet(raw)
    except ValueError:
        # Accept 32 raw bytes in urlsafe base64 without padding too.
        try:
            return Fernet(base64.urlsafe_b64encode(base64.urlsafe_b64decode(raw + b"==")))
        except ValueError as exc:
            raise ImproperlyConfigured("FIELD_ENCRYPTION_KEY holds an invalid Fernet key") from exc


@lru_cache(maxsize=1)
def _multi() -> MultiFernet:
    keys = [k for k in settings.FIELD_ENCRYPTION_KEYS if k.strip()]
    if not keys:
        raise ImproperlyConfigured("FIELD_ENCRYPTION_KEY is not set")
    return MultiFernet([_fernet_for(k) for k in keys])


def _reset_cache(*, setting: str, **kwargs: object) -> None:
    if setting == "FIELD_ENCRYPTION_KEYS":
        _multi.cache_clear()


setting_changed.connect(_reset_cache)


def encrypt(value: str) -> str:
    return _multi().encrypt(value.encode()).decode()


def decrypt(token: str) -> str:
    try:
        return _multi().decrypt(token.encode()).decode()
    except InvalidToken as exc:
        raise ImproperlyConfigured(
            "A stored secret cannot be decrypted with any FIELD_ENCRYPTION_KEY"
        ) from exc


def mask(value: str | None) -> str:
    """What a page may show of a secret: its length hidden, its last 4 characters."""
    if not value:
        return ""
    return "••••••••" + value[-4:]


class EncryptedTextField(models.TextField):
    """A text column holding a Fernet token; Python code sees the clear value.

    Lookups other than isnull make no sense on ciphertext and are not supported.
    """

    def from_db_value(
        self, value: str | None, expression: object, connection: object
    ) -> str | None:
        if value is None or value == "":
            return value
        return decrypt(value)

    def get_prep_value(self, value: object) -> str | None:
        value = super().get_prep_value(value)
        if value is None or value == "":
            return value
        return encrypt(str(value))
