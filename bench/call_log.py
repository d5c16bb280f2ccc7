"""The call log page (/t/<slug>/calls/) at 1,000 and at 1,000,000 calls: median ms, queries.

    .venv/bin/python bench/call_log.py                  # about 3 minutes (the 1M COPY)
    .venv/bin/python bench/call_log.py --big 200000     # quicker

Creates and migrates `switchboard_bench_calls` (Redis db 12, flushed), two tenants made by
bench/pages.py's make_tenant (owner login, three numbers), and COPYs calls_call rows for each:
1,000 and 1,000,000, spread over 90 days with ids in time order, ~60% incoming, states
answered/not answered/busy/unknown, click-to-call and history sources for outgoing calls.
The view is requested with Django's test Client logged in as the owner, in this process
(DEBUG off, whole middleware stack), with bench/pages.py's time_page: one warm-up, the median
of 5, and the queries of one more request (CaptureQueriesContext). Pages: the first page and
a deep page whose `?after=` cursor (core.pagination.encode_cursor) is the key of the row
at 90% depth (row 900,000 of 1M; row 900 of 1,000). Prints figures; asserts nothing.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import time
from datetime import UTC, datetime, timedelta

os.environ.setdefault("BENCH_DB", "switchboard_bench_calls")
os.environ.setdefault("BENCH_REDIS", "redis://127.0.0.1:6379/12")

import _common as common
import pages

STATES_IN = ["success"] * 70 + ["failed"] * 18 + ["busy"] * 8 + ["unknown"] * 2 + ["ongoing"] * 2
STATES_OUT = ["success"] * 60 + ["failed"] * 25 + ["busy"] * 12 + ["unknown"] * 3


def load_calls(tenant: pages.Tenant, size: int, seed: int) -> float:
    rng = random.Random(seed)
    now = datetime.now(UTC).replace(microsecond=0)
    span = 90 * 24 * 3600
    offsets = sorted((rng.random() * span for _ in range(size)), reverse=True)  # oldest first
    columns = (
        "tenant_id, elks_id, direction, state, source, number_id, ours, other, agent_phone, "
        "created, start, duration, cost, legs, actions, error, updated"
    )
    started = time.perf_counter()
    with common.pg_connect() as conn, conn.cursor() as cur:
        with cur.copy(f"COPY calls_call ({columns}) FROM STDIN") as copy:
            for i, offset in enumerate(offsets):
                created = now - timedelta(seconds=offset)
                incoming = rng.random() < 0.6
                state = rng.choice(STATES_IN if incoming else STATES_OUT)
                number_id, ours = rng.choice(tenant.numbers)
                answered = state == "success"
                duration = rng.randint(5, 900) if answered else (0 if state != "ongoing" else None)
                source = "inbound" if incoming else ("click" if rng.random() < 0.8 else "history")
                legs = (
                    json.dumps([{"from": ours, "to": "+46701234567", "state": state}])
                    if answered
                    else "[]"
                )
                copy.write_row(
                    [
                        tenant.pk,
                        f"c{tenant.pk}x{i}",
                        "in" if incoming else "out",
                        state,
                        source,
                        number_id,
                        ours,
                        f"+4670{rng.randrange(10_000_000):07d}",
                        "+46709999999" if source == "click" else "",
                        created,
                        created + timedelta(seconds=3) if answered else None,
                        duration,
                        rng.randint(500, 30_000) if answered else 0,
                        legs,
                        "[]",
                        "",
                        created + timedelta(seconds=(duration or 0) + 4),
                    ]
                )
        cur.execute("ANALYZE calls_call")
    return time.perf_counter() - started


def call_pages(tenant: pages.Tenant, size: int) -> list[pages.Page]:
    from django.urls import reverse

    from core.pagination import encode_cursor

    depth = max(1, size * 9 // 10)
    key, pk = pages.deep_row(
        "SELECT created, id FROM calls_call WHERE tenant_id = %s ORDER BY created DESC, id DESC",
        [tenant.pk],
        depth,
    )
    url = reverse("calls:log", kwargs={"tenant_slug": tenant.slug})
    return [
        pages.Page("call log first page", url),
        pages.Page(f"call log deep (row {depth:,})", f"{url}?after={encode_cursor(key, pk)}"),
        pages.Page("+ filtered state=busy", f"{url}?state=busy"),
    ]


def keyset_forms(tenant: pages.Tenant, size: int) -> None:
    """The deep page's keyset condition as the view writes it, and two index-friendly forms."""
    import statistics

    depth = max(1, size * 9 // 10)
    key, pk = pages.deep_row(
        "SELECT created, id FROM calls_call WHERE tenant_id = %s ORDER BY created DESC, id DESC",
        [tenant.pk],
        depth,
    )
    base = "SELECT id FROM calls_call WHERE tenant_id = %s AND "
    order = " ORDER BY created DESC, id DESC LIMIT 51"
    forms = {
        "as the view: created < k OR (created = k AND id < i)": (
            "(created < %s OR (created = %s AND id < %s))", [key, key, pk]),
        "plus created <= k (an index bound)": (
            "created <= %s AND (created < %s OR (created = %s AND id < %s))", [key, key, key, pk]),
        "row value: (created, id) < (k, i)": ("(created, id) < (%s, %s)", [key, pk]),
    }  # fmt: skip
    print(f"\nkeyset condition at row {depth:,} of {size:,} (the id query alone, median of 5):")
    with common.pg_connect() as conn:
        for label, (cond, params) in forms.items():
            sql, values = base + cond + order, [tenant.pk, *params]
            times = []
            for _ in range(5):
                start = time.perf_counter()
                conn.execute(sql, values).fetchall()
                times.append((time.perf_counter() - start) * 1000)
            plan = [r[0] for r in conn.execute("EXPLAIN (ANALYZE) " + sql, values).fetchall()]
            scan = next((ln.strip() for ln in plan if "Scan" in ln), "")
            rows = next((ln.strip() for ln in plan if "Rows Removed" in ln), "")
            print(f"  {label:<56} {statistics.median(times):8.2f} ms  {scan[:70]} {rows}")


def measure(tenant: pages.Tenant, size: int, label: str, runs: int) -> list[pages.Timing]:
    from django.test import Client

    from accounts.models import User

    client = Client()
    client.force_login(User.objects.get(pk=tenant.owner_id))
    return [pages.time_page(client, tenant, page, label, runs) for page in call_pages(tenant, size)]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--small", type=int, default=1000)
    parser.add_argument("--big", type=int, default=1_000_000)
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--wait-quiet", type=float, default=120)
    parser.add_argument("--keep-db", action="store_true")
    args = parser.parse_args()
    args.big = min(args.big, 5_000_000)

    print("Call log benchmark ·", common.machine())
    try:
        common.recreate_database()
        common.flush_redis()
        common.django_setup(ALLOWED_HOSTS=f"{common.HOST},testserver")
        small = pages.make_tenant(f"{args.small:,}", "bench-calls-small")
        big = pages.make_tenant(f"{args.big:,}", "bench-calls-big")
        secs = load_calls(small, args.small, 1)
        print(f"  COPY {args.small:,} calls in {secs:.1f} s")
        quiet = common.wait_quiet(args.wait_quiet)
        results = measure(small, args.small, f"{args.small:,}", args.runs)
        secs = load_calls(big, args.big, 2)
        print(f"  COPY {args.big:,} calls in {secs:.1f} s ({args.big / secs:,.0f} rows/s)")
        quiet_big = common.wait_quiet(args.wait_quiet)
        results += measure(big, args.big, f"{args.big:,}", args.runs)
        results += measure(small, args.small, f"{args.small:,} beside {args.big:,}", args.runs)

        print()
        print(f"=== Call log · {common.machine()}")
        print(f"({quiet} before the small run; {quiet_big} before the big run)")
        width = max(len(r.page) for r in results) + 2
        print(f"{'calls':<22} {'page':<{width}} {'median ms':>9} {'runs ms':<34} {'queries':>7} "
              f"{'slowest q ms':>12} {'status':>6} {'KB':>6}")  # fmt: skip
        for r in results:
            runs = " ".join(f"{x:.1f}" for x in r.runs_ms)
            print(f"{r.size:<22} {r.page:<{width}} {r.median_ms:>9.1f} {runs:<34} "
                  f"{r.queries:>7} {r.slowest_query_ms:>12.2f} {r.status:>6} {r.kbytes:>6.1f}")  # fmt: skip
        by = {(r.size, r.page.split(" (")[0]): r.median_ms for r in results}
        for page in ("call log first page", "call log deep", "+ filtered state=busy"):
            small_ms = by.get((f"{args.small:,}", page))
            big_ms = by.get((f"{args.big:,}", page))
            if small_ms and big_ms:
                print(f"ratio {args.big:,} / {args.small:,}, {page}: {big_ms / small_ms:.2f}×")
        slow = max(
            (r for r in results if r.size == f"{args.big:,}"), key=lambda r: r.slowest_query_ms
        )
        print(f"\nslowest query at {args.big:,} ({slow.page}, {slow.slowest_query_ms:.1f} ms):")
        print("  " + slow.slowest_sql[:300] + " …")
        print("  plan: " + " | ".join(pages.explain(slow.slowest_sql)))
        keyset_forms(big, args.big)
    finally:
        common.stop_all()
        if not args.keep_db:
            common.drop_database()


if __name__ == "__main__":
    main()
