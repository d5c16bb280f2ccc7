"""The portal's API page: keys (create once, list, revoke), members' access, the examples and
the request log."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from django.utils import timezone
from django_scopes import scopes_disabled

from accounts.models import AuditEvent
from api.models import ApiKey, ApiRequest, Scope
from api.portal_views import LOG_PAGE_SIZE, SECRET_PLACEHOLDER, curl_examples
from api.services import settings_change
from messaging.senders.models import SenderName
from numbers.models import PhoneNumber
from tests.api.conftest import Keyed, make_key
from tests.conftest import World, client_for

PAGE = "/t/acme/api/"
CREATE = "/t/acme/api/keys/new/"


def _created_secret(html: str) -> str:
    found = re.search(r'id="new-key-secret"[^>]*>([0-9a-f]{64})<', html)
    assert found, "the new secret is not on the page"
    return found.group(1)


def test_owner_sees_keys_create_form_and_examples(world: World, key_a: Keyed) -> None:
    response = client_for(world.owner_a).get(PAGE)
    assert response.status_code == 200
    html = response.content.decode()
    assert "ERP" in html and key_a.key.key_id in html
    assert f"{key_a.key.secret_prefix}…" in html
    assert key_a.secret not in html
    assert 'id="create-key"' in html and 'id="members-access"' in html
    for scope in Scope:
        assert scope.label in html  # the permissions in plain words
    # The examples name the newest active key and a placeholder for its secret.
    assert f"-u {key_a.key.key_id}:{SECRET_PLACEHOLDER}" in html
    assert "/a1/sms" in html and "/api/v1/messages" in html
    assert 'href="/api/v1/docs"' in html and 'href="#elks-compat"' in html
    assert "cost" not in html.lower()


def test_member_sees_no_keys_until_the_owner_allows_it(world: World, key_a: Keyed) -> None:
    key_a.client().get("/a1/me")  # in the request log, which members see without key names
    member = client_for(world.member_a)
    html = member.get(PAGE).content.decode()
    assert 'id="keys-hidden"' in html
    assert key_a.key.key_id not in html
    assert "/a1/me" in html and key_a.key.label not in html
    assert 'id="create-key"' not in html and 'id="members-access"' not in html
    assert "YOUR_KEY_ID:YOUR_SECRET" in html

    settings_change(tenant=world.tenant_a, actor=world.owner_a, members_see_keys=True)
    html = member.get(PAGE).content.decode()
    assert 'id="keys-hidden"' not in html
    assert key_a.key.key_id in html and key_a.key.label in html
    assert "Revoke…" not in html and 'id="create-key"' not in html


def test_members_never_create_revoke_or_change_access(world: World, key_a: Keyed) -> None:
    member = client_for(world.member_a)
    assert member.post(CREATE, {"label": "x", "scopes": ["send"]}).status_code == 403
    revoke = f"/t/acme/api/keys/{key_a.key.key_id}/revoke/"
    assert member.get(revoke).status_code == 403
    assert member.post(revoke).status_code == 403
    assert member.post("/t/acme/api/members/", {"members_see_keys": "on"}).status_code == 403
    with scopes_disabled():
        assert ApiKey.objects.count() == 1
        assert ApiKey.objects.get().revoked_at is None


def test_create_shows_the_secret_once_and_the_next_get_does_not(world: World) -> None:
    owner = client_for(world.owner_a)
    response = owner.post(CREATE, {"label": "Booking system", "scopes": ["send", "read"]})
    assert response.status_code == 200
    assert "no-store" in response["Cache-Control"]
    html = response.content.decode()
    secret = _created_secret(html)
    with scopes_disabled():
        key = ApiKey.objects.get(label="Booking system")
    assert key.scopes == ["send", "read"] and key.created_by == world.owner_a
    assert "you will not see it again" in html
    assert key.key_id in html
    # The examples carry the real key id and secret, this once.
    assert f"-u {key.key_id}:{secret}" in html
    assert AuditEvent.objects.filter(action=AuditEvent.Action.API_KEY_CREATED).count() == 1

    again = owner.get(PAGE).content.decode()
    assert secret not in again
    assert 'id="new-key"' not in again
    assert f"-u {key.key_id}:{SECRET_PLACEHOLDER}" in again


@pytest.mark.parametrize(
    ("data", "error"),
    [
        ({"label": "", "scopes": ["send"]}, "Give the key a name"),
        ({"label": "ERP"}, "Choose at least one permission."),
        ({"label": "ERP", "scopes": ["root"]}, "Select a valid choice"),
        ({"label": "x" * 81, "scopes": ["send"]}, "at most 80 characters"),
        ({"label": "   ", "scopes": ["send"]}, "Give the key a name"),
    ],
)
def test_a_bad_key_form_is_shown_again_with_its_error(world: World, data, error) -> None:
    response = client_for(world.owner_a).post(CREATE, data)
    assert response.status_code == 400
    html = response.content.decode()
    assert error in html
    assert 'id="new-key"' not in html
    with scopes_disabled():
        assert not ApiKey.objects.exists()


def test_revoke_asks_first_then_refuses_the_key(world: World, key_a: Keyed) -> None:
    owner = client_for(world.owner_a)
    url = f"/t/acme/api/keys/{key_a.key.key_id}/revoke/"
    confirm = owner.get(url)
    assert confirm.status_code == 200
    assert "Revoke “ERP”?" in confirm.content.decode()
    with scopes_disabled():
        assert ApiKey.objects.get().revoked_at is None  # a GET changes nothing

    response = owner.post(url, follow=True)
    assert response.redirect_chain[-1][0] == PAGE
    html = response.content.decode()
    assert "is revoked" in html and "Revoked" in html
    with scopes_disabled():
        assert ApiKey.objects.get().revoked_by == world.owner_a
    assert key_a.client().get("/a1/me").status_code == 401
    assert "already revoked" in owner.post(url, follow=True).content.decode()
    assert AuditEvent.objects.filter(action=AuditEvent.Action.API_KEY_REVOKED).count() == 1


def test_another_tenants_key_is_404(world: World) -> None:
    other = make_key(world.tenant_b)
    url = f"/t/acme/api/keys/{other.key.key_id}/revoke/"
    owner = client_for(world.owner_a)
    assert owner.get(url).status_code == 404
    assert owner.post(url).status_code == 404
    assert other.key.key_id not in owner.get(PAGE).content.decode()
    with scopes_disabled():
        assert ApiKey.objects.get().revoked_at is None


def test_the_owner_switches_members_access_audited(world: World) -> None:
    owner = client_for(world.owner_a)
    response = owner.post("/t/acme/api/members/", {"members_see_keys": "on"}, follow=True)
    assert "Members can now see the API keys." in response.content.decode()
    world.tenant_a.refresh_from_db()
    assert world.tenant_a.api_settings.members_see_keys
    owner.post("/t/acme/api/members/", {})
    world.tenant_a.api_settings.refresh_from_db()
    assert not world.tenant_a.api_settings.members_see_keys
    events = AuditEvent.objects.filter(action=AuditEvent.Action.API_SETTINGS_CHANGED)
    assert [e.detail["after"] for e in events.order_by("pk")] == [
        {"members_see_keys": True},
        {"members_see_keys": False},
    ]
    owner.post("/t/acme/api/members/", {})  # no change: no audit
    assert events.count() == 2


def test_the_example_sends_from_the_first_active_sms_number(world: World) -> None:
    with scopes_disabled():
        SenderName.objects.create(
            tenant=world.tenant_a, key="acme", name="Acme", status=SenderName.Status.APPROVED
        )
    html = client_for(world.owner_a).get(PAGE).content.decode()
    assert "from=Acme" in html  # no number yet: the approved name
    with scopes_disabled():
        PhoneNumber.objects.create(
            tenant=world.tenant_a,
            provider_id="n1",
            number="+46766861004",
            country="se",
            has_sms=True,
            status=PhoneNumber.Status.ACTIVE,
        )
    html = client_for(world.owner_a).get(PAGE).content.decode()
    assert "from=+46766861004" in html
    assert "&quot;from&quot;: &quot;+46766861004&quot;" in html


def test_curl_examples_quote_what_the_shell_would_split() -> None:
    examples = curl_examples(
        base="https://sb.example", key_id="kabc", secret="s3cret", sender="Acme Taxi"
    )
    assert examples.check == "curl https://sb.example/a1/me \\\n  -u kabc:s3cret"
    assert "--data-urlencode 'from=Acme Taxi'" in examples.elks_sms
    assert "--data-urlencode to=+46700000000" in examples.elks_sms
    assert (
        '-d \'{"from": "Acme Taxi", "to": "+46700000000", "body": "Hello from our booking'
        in examples.json_sms
    )


def _requests(world: World, key: Keyed, count: int) -> None:
    now = timezone.now()
    with scopes_disabled():
        ApiRequest.objects.bulk_create(
            ApiRequest(
                tenant=world.tenant_a,
                key=key.key,
                method="GET",
                path=f"/a1/sms/s{i}",
                status=200 if i % 2 else 404,
                latency_ms=i,
                created=now - timedelta(seconds=count - i),
            )
            for i in range(count)
        )


def test_recent_requests_are_paged_newest_first(world: World, key_a: Keyed) -> None:
    _requests(world, key_a, LOG_PAGE_SIZE + 5)
    owner = client_for(world.owner_a)
    html = owner.get(PAGE).content.decode()
    newest = f"/a1/sms/s{LOG_PAGE_SIZE + 4}"
    assert newest in html and html.index(newest) < html.index(f"/a1/sms/s{LOG_PAGE_SIZE + 3}")
    assert "/a1/sms/s4<" not in html
    cursor = re.search(r'hx-get="/t/acme/api/\?after=([^"]+)"', html)
    assert cursor
    older = owner.get(f"{PAGE}?after={cursor.group(1)}", HTTP_HX_REQUEST="true")
    part = older.content.decode()
    assert part.lstrip().startswith('<article id="requests">')  # the partial only
    assert "/a1/sms/s4<" in part and "/a1/sms/s0<" in part and newest not in part
    assert "Older →" not in part and "← Newest" in part


def test_the_request_log_costs_the_same_queries_at_any_size(
    world: World, key_a: Keyed, django_assert_max_num_queries
) -> None:
    owner = client_for(world.owner_a)
    owner.get(PAGE)  # warm the session and the settings row
    _requests(world, key_a, 2)
    with django_assert_max_num_queries(12) as small:
        owner.get(PAGE)
    _requests(world, key_a, 3 * LOG_PAGE_SIZE)
    with django_assert_max_num_queries(len(small.captured_queries)):
        response = owner.get(PAGE)
    assert response.content.decode().count('<code class="wrap">GET /a1/sms/') == LOG_PAGE_SIZE


def test_no_requests_yet_says_so(world: World) -> None:
    html = client_for(world.owner_a).get(PAGE).content.decode()
    assert 'id="requests-empty"' in html and "No API requests yet." in html
