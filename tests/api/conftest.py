"""API fixtures: a key per tenant and a client that sends it."""

from __future__ import annotations

import base64
from dataclasses import dataclass

import pytest
from django.test import Client

from accounts.models import Tenant
from api.models import ApiKey, Scope
from api.services import key_create
from tests.conftest import World


@dataclass
class Keyed:
    key: ApiKey
    secret: str

    @property
    def auth(self) -> str:
        raw = f"{self.key.key_id}:{self.secret}".encode()
        return "Basic " + base64.b64encode(raw).decode()

    def client(self, **extra: str) -> Client:
        return Client(HTTP_AUTHORIZATION=self.auth, **extra)


def make_key(tenant: Tenant, *, scopes: list[str] | None = None, label: str = "ERP") -> Keyed:
    made = key_create(tenant=tenant, label=label, scopes=scopes or list(Scope.values), actor=None)
    return Keyed(key=made.key, secret=made.secret)


@pytest.fixture
def key_a(world: World) -> Keyed:
    return make_key(world.tenant_a)


@pytest.fixture
def key_b(world: World) -> Keyed:
    return make_key(world.tenant_b)
