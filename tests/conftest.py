"""Shared fixtures: two tenants with an owner and a member each, a staff user, the sandbox.

Any provider call a test did not arrange fails loudly: the test settings point 46elks at a
closed port until a test asks for the `elks` fixture.
"""

from __future__ import annotations

from dataclasses import dataclass

import pytest
from django.test import Client
from django_scopes import scope

from accounts.models import Membership, Tenant, User
from console.tenants import tenant_create
from numbers.models import NumberPrice
from tests.factories import MembershipFactory, StaffFactory, TenantFactory, UserFactory

pytest_plugins = ["tests.elks_fixtures", "tests.infobip_fixtures", "tests.webhook_receiver"]


@dataclass
class World:
    tenant_a: Tenant
    tenant_b: Tenant
    staff: User
    owner_a: User
    member_a: User
    owner_b: User


@pytest.fixture
def world(db: None) -> World:
    tenant_a = TenantFactory(name="Acme", slug="acme")
    tenant_b = TenantFactory(name="Bravo", slug="bravo")
    owner_a = UserFactory(email="owner@acme.example")
    member_a = UserFactory(email="member@acme.example")
    owner_b = UserFactory(email="owner@bravo.example")
    MembershipFactory(user=owner_a, tenant=tenant_a, role=Membership.Role.OWNER)
    MembershipFactory(user=member_a, tenant=tenant_a, role=Membership.Role.MEMBER)
    MembershipFactory(user=owner_b, tenant=tenant_b, role=Membership.Role.OWNER)
    return World(
        tenant_a=tenant_a,
        tenant_b=tenant_b,
        staff=StaffFactory(email="staff@reseller.example"),
        owner_a=owner_a,
        member_a=member_a,
        owner_b=owner_b,
    )


def client_for(user: User | None) -> Client:
    client = Client()
    if user is not None:
        client.force_login(user)
    return client


@pytest.fixture
def elks(elks_sandbox, settings):
    """Point the app at a fresh 46elks sandbox (real HTTP on loopback)."""
    from tests.elks_fixtures import ELKS_SANDBOX_PASSWORD, ELKS_SANDBOX_USERNAME

    settings.ELKS_API_URL = elks_sandbox.base_url
    settings.ELKS_USERNAME = ELKS_SANDBOX_USERNAME
    settings.ELKS_PASSWORD = ELKS_SANDBOX_PASSWORD
    settings.ELKS_TIMEOUT = 2.0
    settings.ELKS_PAGE_TIMEOUT = 1.0
    return elks_sandbox


@pytest.fixture(autouse=True)
def _clear_cache() -> None:
    from django.core.cache import cache

    from calls.billing import forget_batch_rater
    from core.ratelimit import local_buckets_forget
    from numbers.selectors import forget_hook_numbers
    from providers.wake import forget_window

    cache.clear()  # on Redis this also closes the webhook wake window (same database)
    forget_hook_numbers()
    forget_batch_rater()
    forget_window()
    local_buckets_forget()


def pytest_report_header(config) -> str:
    from django.conf import settings

    db = settings.DATABASES["default"]
    cache = settings.CACHES["default"]["BACKEND"].rsplit(".", 1)[-1]
    return f"database: {db['ENGINE'].rsplit('.', 1)[-1]} {db.get('NAME')}; cache: {cache}"


@pytest.fixture
def infobip(infobip_sandbox, settings):
    """Point the app at a fresh Infobip sandbox."""
    from tests.infobip_fixtures import INFOBIP_SANDBOX_API_KEY

    settings.INFOBIP_BASE_URL = infobip_sandbox.base_url
    settings.INFOBIP_API_KEY = INFOBIP_SANDBOX_API_KEY
    settings.INFOBIP_TIMEOUT = 2.0
    return infobip_sandbox


@pytest.fixture
def prices(db: None) -> None:
    for country, category, price in [
        ("se", "mobile", 250_000),
        ("se", "fixed", 150_000),
        ("no", "mobile", 300_000),
    ]:
        NumberPrice.objects.create(country=country, category=category, monthly_price=price)


@pytest.fixture
def live_tenant(world: World, elks, prices, settings):
    """A tenant with a real subaccount at the sandbox, and the test inside its scope."""
    settings.PUBLIC_BASE_URL = "https://switchboard.example.com"
    tenant = tenant_create(
        name="Taxi Nord",
        usage_limit=10_000_000,
        owner_email="owner@taxinord.example",
        actor=world.staff,
        request=None,
    ).tenant
    with scope(tenant=tenant.pk):
        yield tenant


@pytest.fixture
def rented_number(world: World, live_tenant):
    """An SMS, MMS and voice number rented at the sandbox by the live tenant's owner."""
    import uuid

    from numbers.services import number_rent

    return number_rent(
        tenant=live_tenant,
        country="se",
        capabilities=["sms", "mms", "voice"],
        category="mobile",
        request_key=uuid.uuid4(),
        actor=world.owner_a,
    )
