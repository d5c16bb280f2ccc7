"""The sign-in throttle: one for every path, per real client, per account, cache or not."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from django.conf import settings as django_settings
from django.db import connection
from django.test import Client

from accounts import throttle
from accounts.models import AuditEvent, Membership, SignInFailure
from tests.conftest import World, client_for
from tests.factories import MembershipFactory, UserFactory

PASSWORD = "correct horse battery"
LONG_S = "\u017f"  # LATIN SMALL LETTER LONG S: upper() is "S"
DOTLESS_I = "\u0131"  # LATIN SMALL LETTER DOTLESS I: upper() is "I"
PROXY = "127.0.0.1"  # the test client's REMOTE_ADDR: here, the TLS proxy

DEAD_REDIS = {
    "default": {
        "BACKEND": "django.core.cache.backends.redis.RedisCache",
        "LOCATION": "redis://127.0.0.1:1/0",  # nothing listens on port 1
        "OPTIONS": {"socket_timeout": 0.5, "socket_connect_timeout": 0.5},
    }
}


@pytest.fixture
def dead_redis(settings) -> Iterator[None]:
    # The settings fixture (not override_settings) so nested changes are undone in order.
    settings.CACHES = DEAD_REDIS
    yield
    throttle.forget_cache_failure()


def _portal(client: Client, email: str, password: str = PASSWORD, **extra: str):
    return client.post("/accounts/login/", {"username": email, "password": password}, **extra)


def _admin(client: Client, email: str, password: str = PASSWORD, **extra: str):
    data = {"username": email, "password": password, "next": "/admin/"}
    return client.post("/admin/login/?next=/admin/", data, **extra)


def _signed_in(client: Client) -> bool:
    return "_auth_user_id" in client.session


# --- 19: every path shares one throttle ----------------------------------------------------


def test_admin_login_is_throttled(world: World, settings) -> None:
    settings.LOGIN_FAILURE_LIMIT = 3
    client = Client()
    for _ in range(3):
        assert _admin(client, world.staff.email, "wrong").status_code == 200
    response = _admin(client, world.staff.email)  # the right password now waits too
    assert response.status_code == 200
    assert not _signed_in(client)


def test_portal_and_admin_failures_add_up(world: World, settings) -> None:
    settings.LOGIN_FAILURE_LIMIT = 4
    # Different addresses: only the per-account counter can stop this.
    for n in range(2):
        _portal(Client(), world.staff.email, "wrong", REMOTE_ADDR=f"10.0.0.{n + 1}")
        _admin(Client(), world.staff.email, "wrong", REMOTE_ADDR=f"10.0.1.{n + 1}")
    client = Client()
    response = _portal(client, world.staff.email, REMOTE_ADDR="10.0.2.1")
    assert "Too many failed sign-ins" in response.content.decode()
    admin = Client()
    _admin(admin, world.staff.email, REMOTE_ADDR="10.0.2.2")
    assert not _signed_in(admin)


def test_a_success_clears_the_account_count(world: World, settings) -> None:
    settings.LOGIN_FAILURE_LIMIT = 3
    for _ in range(2):
        _portal(Client(), "owner@acme.example", "wrong", REMOTE_ADDR="10.0.0.1")
    assert _portal(Client(), "owner@acme.example", REMOTE_ADDR="10.0.0.2").status_code == 302
    for _ in range(2):
        _portal(Client(), "owner@acme.example", "wrong", REMOTE_ADDR="10.0.0.3")
    assert _portal(Client(), "owner@acme.example", REMOTE_ADDR="10.0.0.4").status_code == 302


# --- 20: the client's address behind the trusted proxy ----------------------------------------


def test_behind_the_proxy_one_attacker_does_not_lock_out_everybody(world: World, settings) -> None:
    settings.TRUSTED_PROXIES = [PROXY]
    settings.LOGIN_FAILURE_LIMIT = 3
    attacker = {"HTTP_X_FORWARDED_FOR": "203.0.113.5"}
    for n in range(3):
        _portal(Client(), f"guess{n}@acme.example", "wrong", **attacker)
    # The attacker's address is throttled, even for an account it never tried...
    response = _portal(Client(), "member@acme.example", **attacker)
    assert "Too many failed sign-ins" in response.content.decode()
    # ...everybody else behind the same proxy is not.
    client = Client()
    assert _portal(client, "owner@acme.example", HTTP_X_FORWARDED_FOR="198.51.100.7").url == "/"
    assert _signed_in(client)


def test_a_forged_forwarded_for_is_not_believed(world: World, settings) -> None:
    settings.TRUSTED_PROXIES = [PROXY]
    settings.LOGIN_FAILURE_LIMIT = 3
    # The client writes its own X-Forwarded-For; the proxy appends the address it saw.
    for n in range(3):
        forged = {"HTTP_X_FORWARDED_FOR": f"192.0.2.{n}, 203.0.113.5"}
        _portal(Client(), f"guess{n}@acme.example", "wrong", **forged)
    response = _portal(
        Client(), "member@acme.example", HTTP_X_FORWARDED_FOR="192.0.2.99, 203.0.113.5"
    )
    assert "Too many failed sign-ins" in response.content.decode()


def test_without_trusted_proxies_forwarded_for_is_ignored(world: World, settings) -> None:
    settings.TRUSTED_PROXIES = []
    settings.LOGIN_FAILURE_LIMIT = 3
    for n in range(3):
        _portal(Client(), f"guess{n}@acme.example", "wrong", HTTP_X_FORWARDED_FOR=f"192.0.2.{n}")
    response = _portal(Client(), "owner@acme.example", HTTP_X_FORWARDED_FOR="198.51.100.7")
    assert "Too many failed sign-ins" in response.content.decode()


def test_the_audit_log_records_the_client_behind_the_proxy(world: World, settings) -> None:
    settings.TRUSTED_PROXIES = [PROXY]
    client = client_for(world.owner_a)
    response = client.post(
        "/t/acme/members/invite/",
        {"email": "new@acme.example", "role": "member"},
        HTTP_X_FORWARDED_FOR="198.51.100.7",
    )
    assert response.status_code == 302
    event = AuditEvent.objects.get(action=AuditEvent.Action.MEMBER_INVITED)
    assert event.ip == "198.51.100.7"


# --- 21: one counter per account, whatever the spelling ---------------------------------------


@pytest.mark.skipif(
    "postgresql" not in django_settings.DATABASES["default"]["ENGINE"],
    reason="PostgreSQL's case-insensitive match folds these look-alikes",
)
def test_look_alikes_share_the_account_counter_on_postgresql(world: World, settings) -> None:
    user = UserFactory(email="miss@acme.example")
    MembershipFactory(user=user, tenant=world.tenant_a, role=Membership.Role.MEMBER)
    variants = [
        "miss@acme.example",
        f"mi{LONG_S}{LONG_S}@acme.example",
        f"m{DOTLESS_I}ss@acme.example",
        f"MI{LONG_S}S@acme.example",
    ]
    # The database finds the same user for every spelling (so each could sign in)...
    assert {type(user)._default_manager.get_by_natural_key(v).pk for v in variants} == {user.pk}
    assert connection.vendor == "postgresql"
    settings.LOGIN_FAILURE_LIMIT = 3
    # ...so failures under any of them count against that one account (fresh address each).
    for n, variant in enumerate(variants[1:]):
        _portal(Client(), variant, "wrong", REMOTE_ADDR=f"10.0.3.{n + 1}")
    response = _portal(Client(), "miss@acme.example", REMOTE_ADDR="10.0.3.9")
    assert "Too many failed sign-ins" in response.content.decode()
    response = _portal(Client(), f"m{DOTLESS_I}ss@acme.example", REMOTE_ADDR="10.0.3.10")
    assert "Too many failed sign-ins" in response.content.decode()


def test_unknown_identifiers_are_counted_in_folded_form(world: World, settings) -> None:
    settings.LOGIN_FAILURE_LIMIT = 3
    for n, variant in enumerate(
        [f"gho{LONG_S}t@acme.example", "GHOST@acme.example", "ghost@acme.example"]
    ):
        _portal(Client(), variant, "wrong", REMOTE_ADDR=f"10.0.4.{n + 1}")
    response = _portal(Client(), f"Gho{LONG_S}t@acme.example", "wrong", REMOTE_ADDR="10.0.4.9")
    assert "Too many failed sign-ins" in response.content.decode()


# --- 22: Redis down ---------------------------------------------------------------------------


def test_sign_in_works_while_redis_is_down(world: World, dead_redis: None) -> None:
    response = _portal(Client(), "owner@acme.example", "wrong")
    assert response.status_code == 200
    assert "do not match" in response.content.decode()
    client = Client()
    assert _portal(client, "owner@acme.example").status_code == 302
    assert client.get("/", follow=True).status_code == 200
    admin = Client()
    assert _admin(admin, "staff@reseller.example").status_code == 302
    assert _signed_in(admin)


def test_the_throttle_holds_in_the_database_while_redis_is_down(
    world: World, dead_redis: None, settings
) -> None:
    settings.LOGIN_FAILURE_LIMIT = 3
    for n in range(3):
        _portal(Client(), "owner@acme.example", "wrong", REMOTE_ADDR=f"10.0.5.{n + 1}")
    assert SignInFailure.objects.filter(key__startswith="login-fail:user:").get().count == 3
    response = _portal(Client(), "owner@acme.example", REMOTE_ADDR="10.0.5.9")
    assert "Too many failed sign-ins" in response.content.decode()
    admin = Client()
    _admin(admin, "owner@acme.example", REMOTE_ADDR="10.0.5.10")
    assert not _signed_in(admin)


def test_staff_sync_page_answers_while_redis_is_down(world: World, dead_redis: None) -> None:
    response = client_for(world.staff).post("/staff/sync/", follow=True)
    assert response.status_code == 200
    assert "Skipped" in response.content.decode()
