"""Staff: a tenant's API limits (validated, audited, applied), its keys and its requests."""

from __future__ import annotations

import pytest
from django_scopes import scopes_disabled

from accounts.models import AuditEvent
from api.forms import MAX_BURST, MAX_RATE
from api.models import ApiKey, ApiRequest
from tests.api.conftest import Keyed, make_key
from tests.conftest import World, client_for

LIMITS = {"key_rate": 10, "key_burst": 20, "tenant_rate": 20, "tenant_burst": 40}


def _url(world: World) -> str:
    return f"/staff/tenants/{world.tenant_a.slug}/api/"


def test_only_staff_reach_the_page(world: World) -> None:
    url = _url(world)
    assert client_for(world.owner_a).get(url).status_code == 404
    assert client_for(world.owner_a).post(url, LIMITS).status_code == 404
    assert client_for(None).get(url).status_code == 302
    assert client_for(world.staff).get("/staff/tenants/no-such-tenant/api/").status_code == 404


def test_the_tenant_page_links_here(world: World) -> None:
    html = client_for(world.staff).get(f"/staff/tenants/{world.tenant_a.slug}/").content.decode()
    assert f'href="{_url(world)}"' in html


def test_page_shows_limits_keys_without_secrets_and_requests(world: World, key_a: Keyed) -> None:
    other = make_key(world.tenant_b, label="Bravo ERP")
    assert key_a.client().get("/a1/me").status_code == 200
    html = client_for(world.staff).get(_url(world)).content.decode()
    assert 'name="key_rate" value="10"' in html and 'name="tenant_burst" value="40"' in html
    assert key_a.key.key_id in html and key_a.secret not in html
    assert other.key.key_id not in html
    assert "GET /a1/me" in html


def test_staff_change_limits_audited_and_the_next_request_obeys(world: World, key_a: Keyed) -> None:
    staff = client_for(world.staff)
    changed = {**LIMITS, "key_rate": 1, "key_burst": 1}
    response = staff.post(_url(world), changed, follow=True)
    assert "API limits saved" in response.content.decode()
    settings = world.tenant_a.api_settings
    settings.refresh_from_db()
    assert (settings.key_rate, settings.key_burst) == (1, 1)
    event = AuditEvent.objects.get(action=AuditEvent.Action.API_SETTINGS_CHANGED)
    assert event.actor == world.staff and event.tenant == world.tenant_a
    assert event.detail == {
        "before": {"key_rate": 10, "key_burst": 20},
        "after": {"key_rate": 1, "key_burst": 1},
    }
    client = key_a.client()
    assert client.get("/a1/me").status_code == 200
    limited = client.get("/a1/me")
    assert limited.status_code == 429 and int(limited["Retry-After"]) >= 1

    # Saving the same values again changes and audits nothing.
    assert "Nothing changed" in staff.post(_url(world), changed, follow=True).content.decode()
    assert AuditEvent.objects.filter(action=AuditEvent.Action.API_SETTINGS_CHANGED).count() == 1


@pytest.mark.parametrize(
    ("field", "value", "error"),
    [
        ("key_rate", 0, "greater than or equal to 1"),
        ("key_rate", -5, "greater than or equal to 1"),
        ("tenant_rate", MAX_RATE + 1, f"less than or equal to {MAX_RATE}"),
        ("tenant_burst", MAX_BURST + 1, f"less than or equal to {MAX_BURST}"),
        ("key_burst", "", "This field is required."),
        ("key_rate", "fast", "Enter a whole number."),
        ("key_burst", 5, "The burst must be at least the rate per second."),
        ("key_rate", 30, "A key cannot be faster than all keys together."),
        ("key_burst", 41, "A key&#x27;s burst cannot exceed the burst of all keys."),
    ],
)
def test_bad_limits_are_refused_with_a_reason(world: World, field, value, error) -> None:
    response = client_for(world.staff).post(_url(world), {**LIMITS, field: value})
    assert response.status_code == 400
    assert error in response.content.decode()
    assert not AuditEvent.objects.filter(action=AuditEvent.Action.API_SETTINGS_CHANGED).exists()


def test_staff_revoke_a_key_after_confirming(world: World, key_a: Keyed) -> None:
    staff = client_for(world.staff)
    url = f"/staff/tenants/{world.tenant_a.slug}/api/keys/{key_a.key.key_id}/revoke/"
    assert "Revoke “ERP”?" in staff.get(url).content.decode()
    response = staff.post(url, follow=True)
    assert response.redirect_chain[-1][0] == _url(world)
    with scopes_disabled():
        assert ApiKey.objects.get(pk=key_a.key.pk).revoked_by == world.staff
    assert key_a.client().get("/a1/me").status_code == 401
    event = AuditEvent.objects.get(action=AuditEvent.Action.API_KEY_REVOKED)
    assert event.actor == world.staff and event.tenant == world.tenant_a


def test_staff_revoke_under_the_wrong_tenant_is_404(world: World) -> None:
    other = make_key(world.tenant_b)
    url = f"/staff/tenants/{world.tenant_a.slug}/api/keys/{other.key.key_id}/revoke/"
    assert client_for(world.staff).post(url).status_code == 404
    assert (
        client_for(world.owner_b)
        .post(f"/staff/tenants/{world.tenant_b.slug}/api/keys/{other.key.key_id}/revoke/")
        .status_code
        == 404
    )
    with scopes_disabled():
        assert ApiKey.objects.get(pk=other.key.pk).revoked_at is None
        assert not ApiRequest.objects.exists()
