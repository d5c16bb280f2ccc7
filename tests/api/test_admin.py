"""The API's models in Django admin: listed for superusers, the secret hash never shown."""

from __future__ import annotations

from tests.api.conftest import Keyed
from tests.conftest import World, client_for
from tests.factories import StaffFactory


def test_admin_lists_keys_without_their_hash(world: World, key_a: Keyed) -> None:
    key_a.client().get("/a1/me")
    admin = StaffFactory(email="root@reseller.example", is_superuser=True)
    client = client_for(admin)
    for url in ("/admin/api/apikey/", "/admin/api/apisettings/", "/admin/api/apirequest/"):
        assert client.get(url).status_code == 200, url
    page = client.get(f"/admin/api/apikey/{key_a.key.pk}/change/")
    assert page.status_code == 200
    assert key_a.key.secret_hash not in page.content.decode()
    assert key_a.key.key_id in page.content.decode()
