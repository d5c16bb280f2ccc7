"""Chart rollups: one day's recompute at 200,000 messages and 20,000 calls for 50 tenants.

    .venv/bin/python bench/traffic_rollup.py                      # about 2 minutes
    .venv/bin/python bench/traffic_rollup.py --messages 50000     # quicker

Creates and migrates `switchboard_bench_traffic` (Redis db 12, flushed), 50 tenants made by
bench/pages.py's make_tenant (owner login, three numbers), and COPYs for them `--messages`
messages and `--calls` calls today (local day) plus `--history` times as many messages spread
over the 30 days before, so the window query has older rows to skip. Then it times, median of
`--runs` after a warm-up: console.traffic.services.traffic_rollup for today alone, the beat
job's window (yesterday and today), a 30-day rebuild; and the chart endpoints through Django's
test Client (whole middleware stack, DEBUG off) with bench/pages.py's time_page. Prints the
plan of the messages query. Prints figures; asserts nothing.
"""

from __future__ import annotations

import argparse
import os
import random
import statistics
import time
from datetime import timedelta

os.environ.setdefault("BENCH_DB", "switchboard_bench_traffic")
os.environ.setdefault("BENCH_REDIS", "redis://127.0.0.1:6379/12")

import _common as common
import pages

STATUSES = ["delivered"] * 85 + ["failed"] * 5 + ["sent"] * 8 + ["unknown"] * 2


def load(tenants: list[pages.Tenant], *, today: int, history: int, calls: int, seed: int) -> float:
    """COPY messages (today's and older) and today's calls, spread over the tenants."""
    from django.utils import timezone

    from calls.models import Call
    from messaging.models import Message

    rng = random.Random(seed)
    now = timezone.now().replace(microsecond=0)
    midnight = timezone.localtime(now).replace(hour=0, minute=0, second=0)
    today_span = max(1, int((now - midnight).total_seconds()))
    started = time.perf_counter()
    with common.pg_connect() as conn, conn.cursor() as cur:
        columns = (
            "tenant_id, kind, direction, status, source, number_id, ours, other, body, cost, "
            "parts, callback_token, created, updated, error"
        )
        more, fill = pages.defaults_for(Message, columns)
        with cur.copy(f"COPY messaging_message ({columns}{more}) FROM STDIN") as copy:
            for i in range(today + history):
                tenant = tenants[i % len(tenants)]
                if i < today:
                    created = midnight + timedelta(seconds=rng.randrange(today_span))
                else:
                    created = midnight - timedelta(seconds=rng.randrange(30 * 86400))
                incoming = rng.random() < 0.4
                number_id, ours = rng.choice(tenant.numbers)
                status = "received" if incoming else rng.choice(STATUSES)
                copy.write_row(
                    (
                        tenant.pk,
                        "mms" if rng.random() < 0.05 else "sms",
                        "in" if incoming else "out",
                        status,
                        "inbound" if incoming else "api",
                        number_id,
                        ours,
                        f"+4670{rng.randrange(10_000_000):07d}",
                        "bench",
                        None if incoming or status == "failed" else rng.randint(3500, 7000),
                        None if incoming else rng.randint(1, 3),
                        f"bench-{seed}-{i}",
                        created,
                        created,
                        "",
                        *fill,
                    )
                )
        columns = (
            "tenant_id, direction, state, source, number_id, ours, other, created, duration, "
            "cost, updated, error, agent_phone"
        )
        more, fill = pages.defaults_for(Call, columns)
        with cur.copy(f"COPY calls_call ({columns}{more}) FROM STDIN") as copy:
            for i in range(calls):
                tenant = tenants[i % len(tenants)]
                created = midnight + timedelta(seconds=rng.randrange(today_span))
                number_id, ours = rng.choice(tenant.numbers)
                answered = rng.random() < 0.7
                copy.write_row(
                    (
                        tenant.pk,
                        "in" if rng.random() < 0.6 else "out",
                        "success" if answered else "failed",
                        "inbound",
                        number_id,
                        ours,
                        f"+4670{rng.randrange(10_000_000):07d}",
                        created,
                        rng.randint(5, 600) if answered else 0,
                        rng.randint(500, 30_000) if answered else 0,
                        created,
                        "",
                        "",
                        *fill,
                    )
                )
        cur.execute("ANALYZE messaging_message")
        cur.execute("ANALYZE calls_call")
    return time.perf_counter() - started


def timed(label: str, fn: object, runs: int) -> None:
    assert callable(fn)
    rows = fn()  # warm-up
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        fn()
        times.append((time.perf_counter() - start) * 1000)
    runs_ms = " ".join(f"{t:.0f}" for t in times)
    print(f"  {label:<44} {statistics.median(times):>8.0f} ms   ({runs_ms})   {rows} rows")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--tenants", type=int, default=50)
    parser.add_argument("--messages", type=int, default=200_000)
    parser.add_argument("--calls", type=int, default=20_000)
    parser.add_argument("--history", type=int, default=2, help="older messages, × --messages")
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--wait-quiet", type=float, default=120)
    parser.add_argument("--keep-db", action="store_true")
    args = parser.parse_args()

    print("Traffic rollup benchmark ·", common.machine())
    try:
        common.recreate_database()
        common.flush_redis()
        common.django_setup(ALLOWED_HOSTS=f"{common.HOST},testserver")
        from django.test import Client
        from django.utils import timezone

        from accounts.models import User
        from console.traffic.services import (
            traffic_rollup,
            traffic_rollup_rebuild,
            traffic_rollup_recent,
        )

        tenants = [pages.make_tenant(f"t{k}", f"bench-traffic-{k}") for k in range(args.tenants)]
        secs = load(
            tenants,
            today=args.messages,
            history=args.messages * args.history,
            calls=args.calls,
            seed=1,
        )
        print(
            f"  COPY {args.messages:,} messages today, {args.messages * args.history:,} older, "
            f"{args.calls:,} calls today, {args.tenants} tenants: {secs:.1f} s"
        )
        print(" ", common.wait_quiet(args.wait_quiet))
        today = timezone.localdate()
        print(f"\n=== Rollup · {args.messages:,} messages + {args.calls:,} calls today")
        timed("today only", lambda: traffic_rollup(first=today, last=today), args.runs)
        timed("beat window (yesterday + today)", traffic_rollup_recent, args.runs)
        timed("rebuild 30 days", lambda: traffic_rollup_rebuild(30), max(1, args.runs // 2))

        from django.db import connection

        start = timezone.localtime().replace(hour=0, minute=0, second=0, microsecond=0)
        end = start + timedelta(days=1)
        ids = ",".join(str(t.pk) for t in tenants)
        with connection.cursor() as cur:
            cur.execute(
                "EXPLAIN (ANALYZE, BUFFERS) SELECT tenant_id, number_id, count(*) "
                f"FROM messaging_message WHERE tenant_id IN ({ids}) "
                "AND created >= %s AND created < %s GROUP BY 1, 2",
                [start, end],
            )
            plan = [r[0] for r in cur.fetchall()]
        print("  messages query plan: " + " | ".join(ln.strip() for ln in plan[:6]))

        print("\n=== Chart endpoints (median of runs, whole middleware stack)")
        tenant = tenants[0]
        client = Client()
        client.force_login(User.objects.get(pk=tenant.owner_id))
        staff = User.objects.create_user("staff@bench.test", "bench-password-123", is_staff=True)
        staff_client = Client()
        staff_client.force_login(staff)
        base = f"/t/{tenant.slug}/charts"
        number_id = tenant.numbers[0][0]
        timings = [
            pages.time_page(client, tenant, pages.Page(name, url), "", args.runs)
            for name, url in [
                ("overview messages 30 days", f"{base}/messages.json?days=30"),
                ("overview messages 60 days", f"{base}/messages.json?days=60"),
                ("overview calls 30 days", f"{base}/calls.json"),
                ("overview spend this month", f"{base}/spend.json"),
                ("number 30 days", f"{base}/numbers/{number_id}.json"),
            ]
        ]
        timings += [
            pages.time_page(staff_client, tenant, pages.Page(name, url), "", args.runs)
            for name, url in [
                ("staff traffic per tenant 30 days", "/staff/charts/traffic.json"),
                ("staff spend per tenant 60 days", "/staff/charts/spend.json?days=60"),
            ]
        ]
        for t in timings:
            print(
                f"  {t.page:<36} {t.median_ms:>7.1f} ms  {t.queries} queries, slowest "
                f"{t.slowest_query_ms:.2f} ms, status {t.status}, {t.kbytes:.1f} KB"
            )
    finally:
        common.stop_all()
        if not args.keep_db:
            common.drop_database()


if __name__ == "__main__":
    main()
