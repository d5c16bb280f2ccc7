"""What every API request goes through: keys, scopes, tenant state, rate limits, the log."""

from __future__ import annotations

import base64

from django.test import Client
from django_scopes import scopes_disabled

from accounts.models import AuditEvent, Tenant
from api.models import ApiKey, ApiRequest, Scope
from api.services import key_revoke, secret_hash, settings_change
from tests.api.conftest import Keyed, make_key
from tests.conftest import World


def test_the_secret_is_stored_only_as_a_hash(world: World, key_a: Keyed) -> None:
    with scopes_disabled():
        stored = ApiKey.objects.get(pk=key_a.key.pk)
    assert stored.secret_hash == secret_hash(key_a.secret)
    assert key_a.secret not in {stored.secret_hash, stored.key_id, stored.label}
    assert stored.secret_prefix == key_a.secret[:6]
    assert len(key_a.secret) == 64
    assert AuditEvent.objects.filter(
        action=AuditEvent.Action.API_KEY_CREATED, tenant=world.tenant_a
    ).exists()


def test_me_answers_with_the_key_and_the_tenants_remaining_spend(world: World, key_a) -> None:
    response = key_a.client().get("/a1/me")
    assert response.status_code == 200, response.content
    body = response.json()
    assert body["id"] == key_a.key.key_id
    assert body["displayname"] == "Acme"
    assert isinstance(body["balance"], int)


def test_bad_credentials_get_46elks_plain_text_on_a1_and_problem_json_on_v1(world) -> None:
    wrong = "Basic " + base64.b64encode(b"kdoesnotexist:nope").decode()
    for headers in ({}, {"HTTP_AUTHORIZATION": wrong}, {"HTTP_AUTHORIZATION": "Basic !!"}):
        a1 = Client(**headers).get("/a1/me")
        assert a1.status_code == 401
        assert a1["Content-Type"].startswith("text/plain")
        assert a1.content == b"Invalid username or password"
        assert a1["WWW-Authenticate"].startswith("Basic")
        v1 = Client(**headers).get("/api/v1/messages")
        assert v1.status_code == 401
        assert v1["Content-Type"] == "application/problem+json"
        assert v1.json()["status"] == 401


def test_a_revoked_key_is_refused_at_once(world: World, key_a: Keyed) -> None:
    client = key_a.client()
    assert client.get("/a1/me").status_code == 200
    assert key_revoke(key=key_a.key, actor=world.owner_a)
    assert client.get("/a1/me").status_code == 401
    assert not key_revoke(key=key_a.key, actor=world.owner_a)  # once
    assert AuditEvent.objects.filter(action=AuditEvent.Action.API_KEY_REVOKED).count() == 1


def test_bearer_credentials_work_too(world: World, key_a: Keyed) -> None:
    bearer = f"Bearer {key_a.key.key_id}:{key_a.secret}"
    assert Client(HTTP_AUTHORIZATION=bearer).get("/a1/me").status_code == 200


def test_a_scope_the_key_lacks_is_403(world: World) -> None:
    keyed = make_key(world.tenant_a, scopes=[Scope.SEND])
    response = keyed.client().get("/a1/me")
    assert response.status_code == 403
    assert "read" in response.content.decode()


def test_a_suspended_tenants_keys_are_refused(world: World, key_a: Keyed) -> None:
    Tenant.objects.filter(pk=world.tenant_a.pk).update(status=Tenant.Status.SUSPENDED)
    response = key_a.client().get("/a1/me")
    assert response.status_code == 403
    assert "suspended" in response.content.decode()


def test_unknown_paths_are_404_in_the_apis_own_style(world: World, key_a: Keyed) -> None:
    a1 = key_a.client().get("/a1/nothing-here")
    assert (a1.status_code, a1.content) == (404, b"Not found")
    v1 = key_a.client().get("/api/v1/nothing-here")
    assert v1.status_code == 404
    assert v1["Content-Type"] == "application/problem+json"


def test_throttling_answers_429_with_retry_after(world: World, key_a: Keyed) -> None:
    settings_change(tenant=world.tenant_a, actor=world.staff, key_rate=1, key_burst=2)
    client = key_a.client()
    statuses = [client.get("/a1/me").status_code for _ in range(4)]
    assert statuses[:2] == [200, 200]
    assert statuses[2:] == [429, 429]
    limited = client.get("/a1/me")
    assert int(limited["Retry-After"]) >= 1
    assert limited.content.startswith(b"Too many requests")


def test_the_tenant_bucket_is_shared_by_its_keys(world: World, key_a: Keyed) -> None:
    settings_change(tenant=world.tenant_a, actor=world.staff, tenant_rate=1, tenant_burst=2)
    other = make_key(world.tenant_a, label="Second")
    assert key_a.client().get("/a1/me").status_code == 200
    assert other.client().get("/a1/me").status_code == 200
    assert other.client().get("/a1/me").status_code == 429
    assert key_a.client().get("/a1/me").status_code == 429


def test_each_request_is_logged_without_its_body(world: World, key_a: Keyed) -> None:
    key_a.client().get("/a1/me?secret=should-not-be-kept")  # 400: /a1/ knows no "secret"
    with scopes_disabled():
        row = ApiRequest.objects.get()
    assert (row.method, row.path, row.status, row.tenant_id) == (
        "GET",
        "/a1/me",
        400,
        1 * row.tenant_id,
    )
    assert row.tenant_id == world.tenant_a.pk
    assert "secret" not in row.path
    assert row.latency_ms >= 0


def test_use_from_a_new_address_is_audited_once(world: World, key_a: Keyed) -> None:
    first = key_a.client(REMOTE_ADDR="203.0.113.5")
    first.get("/a1/me")
    first.get("/a1/me")
    key_a.client(REMOTE_ADDR="198.51.100.7").get("/a1/me")
    first.get("/a1/me")
    audited = AuditEvent.objects.filter(action=AuditEvent.Action.API_KEY_NEW_ADDRESS)
    assert sorted(e.detail["address"] for e in audited) == ["198.51.100.7", "203.0.113.5"]
    with scopes_disabled():
        assert ApiKey.objects.get(pk=key_a.key.pk).last_used_at is not None


def test_a_claim_left_running_by_a_dead_process_is_taken_over_after_a_while(
    world: World, key_a: Keyed
) -> None:
    """A worker killed mid-request leaves its Idempotency-Key claim running: retries hear 409
    for a few minutes, then one retry runs it (a send keeps its request key: never twice)."""
    from datetime import timedelta

    from django.utils import timezone

    from api.idempotency import STALE
    from api.models import IdempotentRequest

    client = key_a.client()
    first = client.post("/api/v1/contacts", {"phone": "+46700000003"}, "application/json",
                        HTTP_IDEMPOTENCY_KEY="k-1")  # fmt: skip
    assert first.status_code == 201
    claim = IdempotentRequest.objects.get()
    IdempotentRequest.objects.filter(pk=claim.pk).update(state="running", created=timezone.now())
    again = client.post("/api/v1/contacts", {"phone": "+46700000003"}, "application/json",
                        HTTP_IDEMPOTENCY_KEY="k-1")  # fmt: skip
    assert again.status_code == 409 and again["Retry-After"] == "1"
    IdempotentRequest.objects.filter(pk=claim.pk).update(
        created=timezone.now() - STALE - timedelta(seconds=1)
    )
    taken = client.post("/api/v1/contacts", {"phone": "+46700000003"}, "application/json",
                        HTTP_IDEMPOTENCY_KEY="k-1")  # fmt: skip
    # It ran again (the endpoint's own 409: the contact exists, no second one was made).
    assert taken.status_code == 409 and "already" in taken.json()["detail"]
    assert IdempotentRequest.objects.get().state == "done"


def test_inputs_python_or_postgresql_cannot_take_are_400_not_500(world: World, key_a: Keyed):
    client = key_a.client()
    queries = ["limit=%C2%B2", "limit=" + "9" * 5000, "to=%00"]
    queries += ["start=0001-01-01T00:00:00%2B14:00", "end=9999-12-31T23:59:59-14:00"]
    for query in queries:
        answer = client.get(f"/a1/sms?{query}")
        assert answer.status_code == 400, (query, answer.content)
    nul = "Basic " + base64.b64encode(b"k\x00:x").decode()
    assert Client(HTTP_AUTHORIZATION=nul).get("/a1/me").status_code == 401


def test_a_bug_in_an_endpoint_is_answered_in_the_apis_style_and_logged(
    world: World, key_a: Keyed, monkeypatch
) -> None:
    import api.elks.views as views

    def broken(*args: object, **kwargs: object) -> None:
        raise RuntimeError("a bug")

    monkeypatch.setattr(views, "period_usage", broken)
    answer = key_a.client().get("/a1/me")
    assert (answer.status_code, answer["Content-Type"]) == (500, "text/plain; charset=utf-8")
    with scopes_disabled():
        assert ApiRequest.objects.get().status == 500
