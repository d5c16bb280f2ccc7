"""/api/v1/usage, the docs page, the public description and problem details everywhere."""

from __future__ import annotations

import json
from typing import Any

from django.test import Client
from django.utils import timezone
from django_scopes import scopes_disabled

from api.models import Scope
from billing.ledger.models import DailyUsage
from billing.models import BillingAccount
from billing.selectors import period_usage
from tests.api.conftest import make_key
from tests.conftest import World


def test_usage_this_period_by_kind_at_the_tenants_price(world: World) -> None:
    today = timezone.localdate()
    with scopes_disabled():
        DailyUsage.objects.create(
            tenant=world.tenant_a,
            day=today,
            kind="sms_out",
            events=3,
            quantity=4,
            provider_cost=777_777,
            price=18_000,
        )
        DailyUsage.objects.create(
            tenant=world.tenant_b, day=today, kind="call", events=1, quantity=60, price=5_000
        )
    BillingAccount.objects.filter(pk=world.tenant_a.pk).update(reserved=2_000)
    response = make_key(world.tenant_a).client().get("/api/v1/usage")
    assert response.status_code == 200
    body = response.json()
    usage = period_usage(tenant=world.tenant_a)
    assert body["period"] == usage.period.isoformat()
    assert (body["mode"], body["reserved"], body["remaining"]) == (
        "postpaid",
        2_000,
        usage.remaining,
    )
    assert body["limit"] == usage.limit and body["balance"] is None
    assert body["by_kind"] == [
        {"kind": "sms_out", "label": "SMS sent", "events": 3, "quantity": 4, "price": 18_000}
    ]
    assert "777777" not in response.content.decode() and "provider_cost" not in body


def test_usage_needs_the_read_scope(world: World) -> None:
    client = make_key(world.tenant_a, scopes=[Scope.SEND]).client()
    assert client.get("/api/v1/usage").status_code == 403


def test_the_description_is_public_and_lists_every_operation() -> None:
    response = Client().get("/api/v1/openapi.json")
    assert response.status_code == 200
    paths = response.json()["paths"]
    assert {"/api/v1/messages", "/api/v1/numbers/{number_id}", "/api/v1/usage"} <= set(paths)


def test_the_docs_page_works_under_the_csp() -> None:
    response = Client().get("/api/v1/docs")
    assert response.status_code == 200
    page = response.content.decode()
    assert "redoc.standalone.js" in page and "js/redoc-init.js" in page
    assert "<script>" not in page and "<style" not in page  # nothing inline
    policy = response["Content-Security-Policy"]
    directives = dict(
        (part.split()[0], part.split()[1:]) for part in policy.split(";") if part.strip()
    )
    assert directives["script-src"] == ["'self'"]
    assert "'unsafe-inline'" in directives["style-src"]
    assert "blob:" in directives["worker-src"]
    # Only this page is relaxed.
    other = Client().get("/accounts/login/")
    assert "'unsafe-inline'" not in other.get("Content-Security-Policy", "")


def test_an_unknown_method_is_a_problem_with_allow(world: World) -> None:
    response = make_key(world.tenant_a).client().delete("/api/v1/messages")
    assert response.status_code == 405
    assert response["Content-Type"] == "application/problem+json"
    assert set(response["Allow"].replace(" ", "").split(",")) == {"GET", "POST"}
    assert response.json()["status"] == 405


def test_a_malformed_json_body_is_a_problem(world: World) -> None:
    client = make_key(world.tenant_a).client()
    response = client.post("/api/v1/messages", "{not json", content_type="application/json")
    assert response.status_code == 400
    assert response["Content-Type"] == "application/problem+json"
    assert response.json()["detail"] == "The request body is not valid JSON."
    listed: Any = client.post("/api/v1/messages", json.dumps([1]), content_type="application/json")
    assert listed.status_code == 422
    assert listed["Content-Type"] == "application/problem+json"
