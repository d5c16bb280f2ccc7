import pytest
from cryptography.fernet import Fernet
from django.core.management import call_command
from django.db import connection
from django.test import override_settings

from accounts.models import Tenant
from core.crypto import mask
from tests.factories import TenantFactory

SECRET = "D81DEF1B65E19A83DBCEA0BE0D89D082"


def _raw_secret(tenant: Tenant) -> str:
    with connection.cursor() as cursor:
        cursor.execute("SELECT elks_secret FROM accounts_tenant WHERE id = %s", [tenant.pk])
        return cursor.fetchone()[0]


@pytest.mark.django_db
def test_secret_is_encrypted_at_rest_and_decrypts() -> None:
    tenant = TenantFactory(elks_secret=SECRET)
    raw = _raw_secret(tenant)
    assert SECRET not in raw
    assert raw.startswith("gAAAA")  # a Fernet token
    assert Tenant.objects.get(pk=tenant.pk).elks_secret == SECRET


@pytest.mark.django_db
def test_key_rotation_keeps_old_secrets_readable_and_reencrypts(settings) -> None:
    old_key = settings.FIELD_ENCRYPTION_KEYS[0]
    tenant = TenantFactory(elks_secret=SECRET)
    before = _raw_secret(tenant)

    new_key = Fernet.generate_key().decode()
    with override_settings(FIELD_ENCRYPTION_KEYS=[new_key, old_key]):
        # Old ciphertext still decrypts with the old key in second place.
        assert Tenant.objects.get(pk=tenant.pk).elks_secret == SECRET
        call_command("rotate_encryption_key", verbosity=0)
        after = _raw_secret(tenant)
        assert after != before and SECRET not in after

    # Once re-encrypted, the old key can be dropped.
    with override_settings(FIELD_ENCRYPTION_KEYS=[new_key]):
        assert Tenant.objects.get(pk=tenant.pk).elks_secret == SECRET


def test_mask_shows_only_the_last_characters() -> None:
    assert mask(SECRET).endswith("D082")
    assert SECRET[:-4] not in mask(SECRET)
    assert mask("") == ""
