from __future__ import annotations

import pytest
from django_scopes import scope

from accounts.models import Tenant
from accounts.services import tenant_create
from numbers.models import NumberPrice
from tests.conftest import World


@pytest.fixture
def prices(db: None) -> None:
    for country, category, price in [
        ("se", "mobile", 250_000),
        ("se", "fixed", 150_000),
        ("no", "mobile", 300_000),
    ]:
        NumberPrice.objects.create(country=country, category=category, monthly_price=price)


@pytest.fixture
def live_tenant(world: World, elks, prices, settings) -> Tenant:  # type: ignore[no-untyped-def]
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
