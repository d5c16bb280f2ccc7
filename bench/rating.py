"""What rating costs: inbound-webhook processing and a campaign's send rate, with and without.

    .venv/bin/python bench/rating.py                      # SQLite in memory, about a minute
    DATABASE_URL=postgres://postgres@127.0.0.1:5432/sb_h1 .venv/bin/python bench/rating.py
                                                          # PostgreSQL (a test_ database)

One run, one process, a fresh test database (Django's test database creation: SQLite in
memory, or `test_<name>` on the PostgreSQL server DATABASE_URL names, dropped at the end):
  1. inbound: N pending inbound SMS events (the tenant's plan charges inbound SMS, so every
     message really appends a usage entry and a daily delta) drained in batches of 500 by
     `webhooks_process_batch`, as the webhook worker does: ms of CPU and wall time and SQL
     statements per event;
  2. campaign: M recipients sent by `campaign_run` in one worker, against a stub 46elks
     client that answers at once (so the figure is the engine's own cost, which is what
     rating adds to; a real provider's latency would only dilute the ratio): sends/s.
Each is measured with rating off and on, alternately, --repeats times (the best of each is
kept). Rating off is `BILLING_RATING_ENABLED = False`, a switch that exists for this
benchmark only: events are not rated, reservations are still taken and given back. The
target (issue 15): rating adds at most 10%. Prints figures; asserts nothing.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import Any
from unittest import mock

ROOT = Path(__file__).resolve().parent.parent
NUMBER = "+46766861475"


class Statements:
    """Counts the SQL statements run."""

    def __init__(self) -> None:
        self.count = 0

    def __call__(
        self, execute: Callable[..., Any], sql: str, params: Any, many: bool, context: Any
    ) -> Any:
        self.count += 1
        return execute(sql, params, many, context)


class StubElks:
    """Answers every send at once, as 46elks would: an id, the cost, one part."""

    page_size = 100

    def sms_send(self, **kwargs: Any) -> Any:
        from providers.elks.types import Sms

        return Sms(
            id=f"s{uuid.uuid4().hex}",
            status="created",
            from_=kwargs.get("from_"),
            to=kwargs.get("to"),
            message=kwargs.get("message"),
            direction="outgoing",
            created=None,
            cost=3500,
            parts=1,
        )


def setup() -> tuple[Any, Any]:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.test")
    sys.path.insert(0, str(ROOT))
    import django

    django.setup()
    from django.db import connection
    from django.test.utils import setup_test_environment

    setup_test_environment()
    if connection.vendor == "postgresql":  # not the test suite's test_<name>: both may run
        connection.settings_dict["TEST"]["NAME"] = (
            f"bench_rating_{connection.settings_dict['NAME']}"
        )
    connection.creation.create_test_db(verbosity=0, autoclobber=True, serialize=False)
    return seed(), connection


def seed() -> Any:
    from django.conf import settings
    from django_scopes import scopes_disabled

    from accounts.models import Tenant
    from billing.models import BillingAccount, RatePlanVersion
    from messaging.models import MessagingSettings
    from messaging.senders.models import SenderName
    from numbers.models import PhoneNumber

    settings.CAMPAIGN_PROVIDER_RATE = 1_000_000
    settings.CAMPAIGN_CLAIM_BATCH = 500
    with scopes_disabled():
        tenant = Tenant.objects.create(
            name="Bench Rating", slug="bench-rating", usage_limit=10**15, elks_subaccount_id="a1"
        )
        BillingAccount.objects.filter(pk=tenant.pk).update(monthly_limit=10**15)
        account = BillingAccount.objects.get(pk=tenant.pk)
        # The plan charges inbound SMS: every inbound message appends an entry.
        RatePlanVersion.objects.filter(plan_id=account.plan_id).update(sms_in_price=500)
        MessagingSettings.objects.get_or_create(tenant=tenant)
        PhoneNumber.objects.create(
            tenant=tenant,
            provider_id="n-bench",
            number=NUMBER,
            country="se",
            has_sms=True,
            status="active",
        )
        SenderName.objects.create(tenant=tenant, name="Bench", key="bench", status="approved")
    return tenant


def store(tenant: Any, prefix: str, n: int) -> None:
    """n pending inbound SMS events, as the webhook view stores them (500 senders)."""
    from django_scopes import scopes_disabled

    from numbers.models import PhoneNumber
    from providers.services import webhook_store

    with scopes_disabled(), mock.patch("providers.services.wake_processor", lambda: None):
        number = PhoneNumber.objects.get(tenant=tenant, number=NUMBER)
        for i in range(n):
            webhook_store(
                provider="elks",
                kind="sms",
                dedupe_key=f"{prefix}-{i}",
                payload={
                    "id": f"{prefix}-{i}",
                    "from": f"+4670{i % 500:07d}",
                    "to": NUMBER,
                    "message": f"Hello from the bench {i}",
                    "direction": "incoming",
                    "created": "2025-01-01 12:00:00.000000",
                },
                tenant_id=tenant.pk,
                number_id=number.pk,
            )


def inbound(tenant: Any, connection: Any, n: int, label: str) -> tuple[float, float, float]:
    """(ms CPU, ms wall, statements) per event for draining n inbound SMS events."""
    from django_scopes import scopes_disabled

    from providers.services import webhooks_process_batch

    store(tenant, label, n)
    counter = Statements()
    with scopes_disabled(), connection.execute_wrapper(counter):
        cpu, wall = time.process_time(), time.perf_counter()
        while webhooks_process_batch(size=500):
            pass
        cpu, wall = time.process_time() - cpu, time.perf_counter() - wall
    return cpu / n * 1000, wall / n * 1000, counter.count / n


def campaign(tenant: Any, m: int, label: str) -> tuple[float, float]:
    """(sends/s wall, sends/s CPU) for one worker sending an m-recipient campaign."""
    from django.utils import timezone
    from django_scopes import scope

    from messaging.campaigns import services as engine
    from messaging.campaigns.models import Campaign
    from messaging.contacts.models import Contact, ContactList

    with scope(tenant=tenant.pk):
        contacts = ContactList.objects.create(tenant=tenant, name=f"List {label}")
        Contact.objects.bulk_create(
            [Contact(tenant=tenant, phone=f"+4673{i:07d}", name=f"N{i}") for i in range(m)],
            ignore_conflicts=True,
        )
        contacts.contacts.add(*Contact.objects.filter(phone__startswith="+4673"))
        sale = Campaign.objects.create(
            tenant=tenant, name=label, sender="Bench", template="Hi {first_name|there}!", rate=10**6
        )
        sale.lists.add(contacts)
        engine.recipients_create(campaign=sale)
        Campaign.objects.filter(pk=sale.pk).update(
            status=Campaign.Status.RUNNING, launched_at=timezone.now()
        )
        with mock.patch.object(engine, "elks_for_tenant", lambda tenant: StubElks()):
            cpu, wall = time.process_time(), time.perf_counter()
            sent = engine.campaign_run(campaign_id=sale.pk, max_seconds=10**6)
            cpu, wall = time.process_time() - cpu, time.perf_counter() - wall
    assert sent == m, f"sent {sent} of {m}"
    return sent / wall, sent / cpu


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--inbound", type=int, default=2000, help="inbound SMS events per run")
    parser.add_argument("--recipients", type=int, default=2000, help="campaign recipients")
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args()

    tenant, connection = setup()
    from django.conf import settings
    from django_scopes import scopes_disabled

    from billing.ledger.models import UsageEntry

    print(f"Rating benchmark · {connection.vendor} · {args.inbound} inbound SMS · "
          f"{args.recipients} campaign recipients · best of {args.repeats}")  # fmt: skip
    inbound(tenant, connection, 200, "warm")  # warm caches and code paths
    best_in: dict[bool, tuple[float, float, float]] = {}
    best_camp: dict[bool, tuple[float, float]] = {}
    for repeat in range(args.repeats):
        for enabled in (False, True):
            settings.BILLING_RATING_ENABLED = enabled
            tag = f"{'on' if enabled else 'off'}{repeat}"
            figures = inbound(tenant, connection, args.inbound, f"in-{tag}")
            if enabled not in best_in or figures[0] < best_in[enabled][0]:
                best_in[enabled] = figures
            rate = campaign(tenant, args.recipients, f"camp-{tag}")
            if enabled not in best_camp or rate[1] > best_camp[enabled][1]:
                best_camp[enabled] = rate
    with scopes_disabled():
        entries = UsageEntry.objects.count()
    for enabled in (False, True):
        cpu, wall, statements = best_in[enabled]
        print(
            f"inbound, rating {'on ' if enabled else 'off'}: {cpu:6.3f} ms CPU, {wall:6.3f} ms "
            f"wall, {statements:5.2f} statements per event"
        )
    off, on = best_in[False], best_in[True]
    print(
        f"inbound ratio on/off: CPU x{on[0] / off[0]:.3f}, wall x{on[1] / off[1]:.3f}, "
        f"statements x{on[2] / off[2]:.3f}"
    )
    for enabled in (False, True):
        wall_rate, cpu_rate = best_camp[enabled]
        print(
            f"campaign, rating {'on ' if enabled else 'off'}: {wall_rate:7.1f} sends/s wall, "
            f"{cpu_rate:7.1f} sends/s of CPU"
        )
    off_c, on_c = best_camp[False], best_camp[True]
    print(
        f"campaign ratio on/off: send rate wall x{on_c[0] / off_c[0]:.3f}, "
        f"CPU x{on_c[1] / off_c[1]:.3f}"
    )
    print(f"usage entries written: {entries}")
    connection.creation.destroy_test_db(connection.settings_dict["NAME"], verbosity=0)


if __name__ == "__main__":
    main()
