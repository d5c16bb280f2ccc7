"""Tenant isolation across every URL under /t/<tenant_slug>/, discovered from the resolver."""

from __future__ import annotations

import re
from dataclasses import dataclass

import pytest
from django.urls import URLPattern, URLResolver, get_resolver
from django_scopes import scope, scopes_disabled
from django_scopes.exceptions import ScopeError

from billing.models import UsageSnapshot
from tests.conftest import World, client_for
from tests.tenant_url_samples import SAMPLES

PARAM = re.compile(r"<(?:(?P<conv>\w+):)?(?P<name>\w+)>")


@dataclass(frozen=True)
class TenantRoute:
    name: str
    route: str
    view: object

    @property
    def required_role(self) -> str | None:
        return getattr(self.view, "required_tenant_role", None)

    def path(self, **values: object) -> str:
        return "/" + PARAM.sub(lambda m: str(values[m.group("name")]), self.route)


def _walk(patterns: list, prefix: str = "", ns: str = "") -> list[TenantRoute]:
    routes = []
    for p in patterns:
        route = prefix + str(p.pattern)
        if isinstance(p, URLResolver):
            sub_ns = f"{ns}{p.namespace}:" if p.namespace else ns
            routes += _walk(p.url_patterns, route, sub_ns)
        elif isinstance(p, URLPattern) and "<slug:tenant_slug>" in route:
            routes.append(TenantRoute(name=f"{ns}{p.name}", route=route, view=p.callback))
    return routes


TENANT_ROUTES = _walk(get_resolver().url_patterns)


def test_the_sweep_finds_the_tenant_pages() -> None:
    names = {r.name for r in TENANT_ROUTES}
    assert {"portal:dashboard", "portal:members", "numbers:list", "billing:overview"} <= names


def _values(route: TenantRoute, tenant) -> dict[str, object]:
    values: dict[str, object] = {"tenant_slug": tenant.slug}
    for match in PARAM.finditer(route.route):
        name = match.group("name")
        if name == "tenant_slug":
            continue
        assert name in SAMPLES, f"add a sample for <{name}> to tests/tenant_url_samples.py"
        with scopes_disabled():
            values[name] = SAMPLES[name](tenant)
    return values


@pytest.mark.parametrize("route", TENANT_ROUTES, ids=lambda r: r.name)
def test_outsider_gets_404(world: World, route: TenantRoute) -> None:
    url = route.path(**_values(route, world.tenant_a))
    client = client_for(world.owner_b)
    assert client.get(url).status_code == 404
    assert client.post(url).status_code == 404


OBJECT_ROUTES = [r for r in TENANT_ROUTES if len(PARAM.findall(r.route)) > 1]


@pytest.mark.parametrize("route", OBJECT_ROUTES, ids=lambda r: r.name)
def test_another_tenants_object_under_my_slug_is_404(world: World, route: TenantRoute) -> None:
    values = _values(route, world.tenant_b)
    values["tenant_slug"] = world.tenant_a.slug
    client = client_for(world.owner_a)
    assert client.get(route.path(**values)).status_code in (404, 405)
    assert client.post(route.path(**values)).status_code == 404


@pytest.mark.parametrize("route", TENANT_ROUTES, ids=lambda r: r.name)
def test_anonymous_is_sent_to_sign_in(world: World, route: TenantRoute) -> None:
    url = route.path(**_values(route, world.tenant_a))
    response = client_for(None).get(url)
    assert response.status_code == 302
    assert response["Location"].startswith("/accounts/login/?next=")


@pytest.mark.parametrize("route", TENANT_ROUTES, ids=lambda r: r.name)
def test_role_is_enforced(world: World, route: TenantRoute) -> None:
    url = route.path(**_values(route, world.tenant_a))
    member = client_for(world.member_a)
    if route.required_role == "owner":
        assert member.post(url).status_code == 403
        return
    assert member.get(url).status_code in (200, 405)


@pytest.mark.parametrize("route", TENANT_ROUTES, ids=lambda r: r.name)
def test_unknown_tenant_slug_is_404(world: World, route: TenantRoute) -> None:
    values = _values(route, world.tenant_a)
    values["tenant_slug"] = "no-such-tenant"
    assert client_for(world.owner_a).get(route.path(**values)).status_code == 404
    assert client_for(world.staff).get(route.path(**values)).status_code == 404


def test_suspended_tenant_is_forbidden_to_members_but_open_to_staff(world: World) -> None:
    world.tenant_a.status = "suspended"
    world.tenant_a.save()
    client = client_for(world.owner_a)
    assert client.get("/t/acme/").status_code in (302, 403)  # the session no longer holds
    assert client_for(world.staff).get("/t/acme/").status_code == 200


def test_tenant_owned_query_outside_a_scope_fails_loudly(world: World) -> None:
    with pytest.raises(ScopeError):
        list(UsageSnapshot.objects.all())


def test_scope_filters_tenant_owned_rows(world: World) -> None:
    UsageSnapshot.objects.create(tenant=world.tenant_a, balanceused=1)
    UsageSnapshot.objects.create(tenant=world.tenant_b, balanceused=2)
    with scope(tenant=world.tenant_a.pk):
        assert [s.balanceused for s in UsageSnapshot.objects.all()] == [1]
