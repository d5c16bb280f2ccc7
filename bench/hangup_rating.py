"""What rating adds to processing 46elks hang-up callbacks: the same drain with and without it.

    .venv/bin/python bench/hangup_rating.py               # about 1 minute
    .venv/bin/python bench/hangup_rating.py --events 2000 --rounds 5

Creates and migrates `switchboard_bench_hangup` (Redis db 11, flushed), one tenant on a plan
with a listed minute price and one voice number. Each round stores --events hang-up callbacks
through the real webhook endpoint (answered calls, each forwarded to one answered leg), then
times `webhooks_drain` over them, alternating rounds with rating (calls.billing.call_rate, as
shipped) and without it (call_rate replaced by a no-op), so both see the same machine. Prints
events/s per mode, the median ratio and the queries per event; asserts nothing.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import time
from typing import Any

os.environ.setdefault("BENCH_DB", "switchboard_bench_hangup")
os.environ.setdefault("BENCH_REDIS", "redis://127.0.0.1:6379/11")

import _common as common

NUMBER = "+46766861475"


def seed() -> Any:
    from datetime import date

    from django_scopes import scopes_disabled

    from billing.models import BillingAccount, PlanPrice, RatePlan, RatePlanVersion
    from billing.services import account_for
    from numbers.models import PhoneNumber

    tenant = common.bench_tenant("Bench Hangup")
    plan = RatePlan.objects.create(name="Bench voice")
    version = RatePlanVersion.objects.create(
        plan=plan, effective_from=date(2000, 1, 1), markup_bp=2500, call_connection_fee=1000
    )
    PlanPrice.objects.create(version=version, kind="call_minute", country="se", price=12_000)
    account_for(tenant)
    BillingAccount.objects.filter(pk=tenant.pk).update(plan=plan, monthly_limit=10**15)
    with scopes_disabled():
        return PhoneNumber.objects.create(
            tenant=tenant,
            provider_id="n-bench-hangup",
            number=NUMBER,
            country="se",
            has_voice=True,
            status="active",
        )


def store(number: Any, prefix: str, count: int) -> None:
    from django.test import Client

    client = Client(HTTP_HOST=common.HOST)
    url = f"/hooks/elks/{number.hook_token}/hangup/"
    for i in range(count):
        seconds = 20 + i % 300
        payload = {
            "id": f"{prefix}-{i}",
            "direction": "incoming",
            "from": f"+4670{i % 5000:07d}",
            "to": NUMBER,
            "created": "2026-11-25T10:00:00",
            "state": "success",
            "start": "2026-11-25T10:00:02",
            "duration": str(seconds + 3),
            "cost": str(1500 * (seconds // 60 + 1)),
            "actions": json.dumps([{"connect": "+46701111111", "result": "success"}]),
            "legs": json.dumps([{"duration": seconds, "state": "success", "to": "+46701111111"}]),
        }
        response = client.post(url, payload)
        assert response.status_code == 200, response.status_code


def drain(count: int) -> tuple[float, int]:
    from django.db import connection
    from django.test.utils import CaptureQueriesContext
    from django_scopes import scopes_disabled

    from providers.services import webhooks_drain

    with scopes_disabled(), CaptureQueriesContext(connection) as queries:
        started = time.perf_counter()
        done = webhooks_drain(limit=count + 1)
        elapsed = time.perf_counter() - started
    assert done == count, (done, count)
    return elapsed, len(queries)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--events", type=int, default=1000)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--keep-db", action="store_true")
    args = parser.parse_args()

    common.recreate_database()
    common.flush_redis()
    common.django_setup()
    import calls.events

    shipped = calls.events.call_rate
    number = seed()
    rates: dict[str, list[float]] = {"rated": [], "unrated": []}
    per_event: dict[str, float] = {}
    for round_no in range(args.rounds):
        for mode in ("unrated", "rated") if round_no % 2 else ("rated", "unrated"):
            calls.events.call_rate = shipped if mode == "rated" else (lambda **kw: None)
            store(number, f"{mode}{round_no}", args.events)
            elapsed, queries = drain(args.events)
            rates[mode].append(args.events / elapsed)
            per_event[mode] = queries / args.events
    calls.events.call_rate = shipped

    from django_scopes import scopes_disabled

    from billing.ledger.models import UsageEntry

    with scopes_disabled():
        entries = UsageEntry.objects.filter(kind="call").count()
    print(common.machine())
    print(f"hang-up events per round: {args.events}, rounds: {args.rounds}")
    for mode, values in rates.items():
        print(
            f"{mode:>8}: {statistics.median(values):8.1f} events/s (median; "
            f"{', '.join(f'{v:.1f}' for v in values)}), {per_event[mode]:.1f} queries/event"
        )
    ratio = statistics.median(rates["unrated"]) / statistics.median(rates["rated"])
    print(f"drain time with rating / without: {ratio:.3f} ({(ratio - 1) * 100:+.1f}%)")
    print(f"ledger entries written: {entries} (expected {args.events * args.rounds})")
    if not args.keep_db:
        common.drop_database()


if __name__ == "__main__":
    main()
