"""A tenant never sees 46elks' cost: every page, partial, JSON endpoint and CSV export a tenant
can reach is rendered for its owner and a member, with distinctive provider costs on its
messages, calls, campaign sends and ledger entries, and must not contain any of them.

Not a browser test: the test client renders everything a browser would fetch (pages, their
HTMX partials with HX-Request, chart JSON, CSV downloads), faster. The page walk is the
isolation sweep's (tests/accounts/test_isolation.py: every route under /t/<slug>/, object ids
from tests/tenant_url_samples.py), so a new tenant page is checked as soon as it is routed.

The provider cost is 987654 (98.7654 in the currency) on every row, so it shows as "98.77" or
"98.7654" in money and "987654" raw; sums of two or three rows as 197.53 / 296.30. The tenant
price is 123400 (12.34), which shares no digits run with them.
"""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from django.test import Client
from django.utils import timezone
from django_scopes import scopes_disabled

from accounts.models import Tenant
from billing.ledger.models import DailyUsage, UsageEntry
from billing.services import account_for
from calls.models import Call
from messaging.campaigns.models import Campaign, CampaignRecipient
from messaging.models import Message
from numbers.models import PhoneNumber
from tests.accounts.test_isolation import TENANT_ROUTES, _values
from tests.conftest import World, client_for

pytestmark = pytest.mark.django_db

COST, PRICE = 987_654, 123_400
# 98.77 / 98.7654 / 987654 and sums of 2 and 3 (197.53, 296.30), in any grouping.
LEAKS = re.compile(
    r"98[.,]77(?!\d)|98[.,]7654|987\D?654|197[.,]53(?!\d)|197[.,]5308|296[.,]30(?!\d)|296[.,]2962"
)
# Query strings that exports and filtered pages take, to reach their non-default branches.
VARIANTS = ("", "?period=", "?direction=out", "?direction=in", "?format=csv")


def _seed(tenant: Tenant) -> None:
    """Cost-bearing rows of every kind, each with the distinctive provider cost."""
    now = timezone.now()
    account = account_for(tenant)
    with scopes_disabled():
        number = PhoneNumber.objects.create(
            tenant=tenant, provider_id="n-cost", number="+46766869999", country="se",
            has_sms=True, has_voice=True, status=PhoneNumber.Status.ACTIVE,
        )  # fmt: skip
        for direction, status, source in (
            (Message.Direction.OUT, Message.Status.DELIVERED, Message.Source.DASHBOARD),
            (Message.Direction.IN, Message.Status.RECEIVED, Message.Source.INBOUND),
        ):
            Message.objects.create(
                tenant=tenant, direction=direction, status=status, source=source,
                number=number, ours=number.number, other="+46700000001", body="cost probe",
                cost=COST,
            )  # fmt: skip
        for leg, origin in (
            (Call.Direction.OUT, Call.Source.CLICK_TO_CALL),
            (Call.Direction.IN, Call.Source.INBOUND),
        ):
            Call.objects.create(
                tenant=tenant, direction=leg, state=Call.State.SUCCESS, source=origin,
                number=number, ours=number.number, other="+46700000001", start=now,
                duration=61, cost=COST, elks_id=f"c-cost-{leg}",
            )  # fmt: skip
        campaign = Campaign.objects.create(
            tenant=tenant, name="Cost probe", sender="Shop", template="Hej",
            status=Campaign.Status.COMPLETED, recipient_count=1, estimated_cost=COST,
            launched_at=now - timedelta(minutes=5), finished_at=now,
        )  # fmt: skip
        CampaignRecipient.objects.create(
            tenant=tenant, campaign=campaign, phone="+46700000002",
            status=CampaignRecipient.Status.DELIVERED, cost=COST, sent_at=now,
            delivered_at=now,
        )  # fmt: skip
        for i, kind in enumerate(("sms_out", "sms_in", "call", "number")):
            UsageEntry.objects.create(
                tenant=tenant, kind=kind, source=f"probe:{i}", number=number, quantity=1,
                provider_cost=COST, price=PRICE, occurred_at=now,
                day=timezone.localdate(now, timezone=_zone(account.time_zone)),
            )  # fmt: skip
            DailyUsage.objects.create(
                tenant=tenant, day=timezone.localdate(now, timezone=_zone(account.time_zone)),
                kind=kind, number=number, events=1, quantity=1, provider_cost=COST,
                price=PRICE,
            )  # fmt: skip


def _zone(name: str):  # a ZoneInfo
    from zoneinfo import ZoneInfo

    return ZoneInfo(name)


def _body(response) -> str:  # HttpResponse or StreamingHttpResponse
    if getattr(response, "streaming", False):
        return b"".join(response.streaming_content).decode(errors="replace")
    return response.content.decode(errors="replace")


def _leaks(client: Client, path: str) -> list[str]:
    found = []
    for variant in VARIANTS:
        for headers in ({}, {"HTTP_HX_REQUEST": "true"}):
            response = client.get(path + variant, **headers)
            if response.status_code >= 300:
                continue
            body = _body(response)
            for match in LEAKS.finditer(body):
                start = max(0, match.start() - 60)
                context = body[start : match.end() + 20].replace("\n", " ")
                found.append(f"{path}{variant} {'(htmx)' if headers else ''}: …{context}…")
    return found


def test_a_tenant_never_sees_a_provider_cost(world: World) -> None:
    tenant = world.tenant_a
    _seed(tenant)
    paths = sorted({route.path(**_values(route, tenant)) for route in TENANT_ROUTES})
    assert f"/t/{tenant.slug}/billing/usage/" in paths and len(paths) > 40
    found: list[str] = []
    for user in (world.owner_a, world.member_a):
        client = client_for(user)
        for path in paths:
            found += _leaks(client, path)
    # One sample per URL (without its query variants), so the message stays readable.
    first: dict[str, str] = {}
    for line in found:
        first.setdefault(line.split(" ")[0].split("?")[0], line)
    assert not found, f"provider cost shown on {len(first)} tenant URLs:\n" + "\n".join(
        first.values()
    )


def test_the_probe_finds_a_leak(world: World) -> None:
    """The staff usage page shows provider cost: the same probe must see it there."""
    _seed(world.tenant_a)
    assert _leaks(client_for(world.staff), f"/staff/tenants/{world.tenant_a.slug}/usage/")
