"""GET /api/v1/messages at 1,000 and at 1,000,000 messages: first and deep pages, median time.

    .venv/bin/python bench/api_pages.py                 # about 5 minutes (the 1M load)
    .venv/bin/python bench/api_pages.py --big 200000    # quicker

Creates and migrates `switchboard_bench`, loads a small (1,000 messages) and a big
(1,000,000 messages) tenant with bench/pages.py's COPY loader, gives each an API key, and
requests the JSON API's message list through the whole stack (api.middleware: key, rate
limits, scope, request log) with Django's test Client in this process (DEBUG off): the first
page, a page 90% of the way down (its cursor from the list's own keyset order), and a filtered
first page; one warm-up, then the median of --runs; queries counted on one more request.
Prints figures; asserts nothing.
"""

from __future__ import annotations

import argparse
import base64
import statistics
import time

import _common as common
import pages


def key_for(tenant: pages.Tenant) -> str:
    from django_scopes import scopes_disabled

    from accounts.models import Tenant
    from api.services import key_create, settings_change

    with scopes_disabled():
        model = Tenant.objects.get(pk=tenant.pk)
        settings_change(
            tenant=model, actor=None, key_rate=100_000, key_burst=100_000,
            tenant_rate=100_000, tenant_burst=100_000,
        )  # fmt: skip
        made = key_create(tenant=model, label="bench", scopes=["read"], actor=None)
    raw = f"{made.key.key_id}:{made.secret}".encode()
    return "Basic " + base64.b64encode(raw).decode()


def deep_cursor(tenant: pages.Tenant, depth: int) -> str:
    from core.pagination import encode_cursor

    created, pk = pages.deep_row(
        "SELECT created, id FROM messaging_message WHERE tenant_id = %s "
        "ORDER BY created DESC, id DESC",
        [tenant.pk],
        depth,
    )
    return encode_cursor(created, pk)


def time_url(auth: str, url: str, runs: int) -> tuple[float, int, int, int]:
    """(median ms, queries, status, items) for GET url with the key."""
    from django.db import connection
    from django.test import Client
    from django.test.utils import CaptureQueriesContext

    client = Client(HTTP_AUTHORIZATION=auth)
    response = client.get(url)  # warm-up
    times = []
    for _ in range(runs):
        started = time.perf_counter()
        response = client.get(url)
        times.append((time.perf_counter() - started) * 1000)
    with CaptureQueriesContext(connection) as captured:
        response = client.get(url)
    items = len(response.json().get("items", [])) if response.status_code == 200 else 0
    return statistics.median(times), len(captured.captured_queries), response.status_code, items


def measure(tenant: pages.Tenant, total: int, runs: int) -> list[tuple[str, float, int, int, int]]:
    auth = key_for(tenant)
    depth = max(1, total * 9 // 10)
    cursor = deep_cursor(tenant, depth)
    urls = [
        ("first page (100)", "/api/v1/messages?limit=100"),
        (f"deep page (row {depth:,})", f"/api/v1/messages?limit=100&cursor={cursor}"),
        ("+ filtered direction=in", "/api/v1/messages?limit=100&direction=in"),
    ]
    return [(name, *time_url(auth, url, runs)) for name, url in urls]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--small", type=int, default=1000)
    parser.add_argument("--big", type=int, default=1_000_000)
    parser.add_argument("--runs", type=int, default=15)
    parser.add_argument("--wait-quiet", type=float, default=120)
    parser.add_argument("--keep-db", action="store_true")
    args = parser.parse_args()
    args.big = min(args.big, 5_000_000)

    print("API message list benchmark ·", common.machine())
    common.recreate_database()
    common.flush_redis()
    common.django_setup(ALLOWED_HOSTS=f"{common.HOST},testserver")
    try:
        small = pages.make_tenant(f"{args.small:,}", "bench-small")
        big = pages.make_tenant(f"{args.big:,}", "bench-big")
        pages.load_messaging(small, messages=args.small, conversations=max(1, args.small // 5),
                             seed=1)  # fmt: skip
        pages.load_messaging(big, messages=args.big, conversations=2000, seed=2,
                             rebuild=args.big >= 100_000)  # fmt: skip
        with common.pg_connect() as conn:
            conn.execute("ANALYZE messaging_message")
        quiet = common.wait_quiet(args.wait_quiet)
        rows: dict[str, list[tuple[str, float, int, int, int]]] = {
            f"{args.small:,}": measure(small, args.small, args.runs),
            f"{args.big:,}": measure(big, args.big, args.runs),
        }
    finally:
        common.stop_all()
        if not args.keep_db:
            common.drop_database()
    print(f"({quiet}; median of {args.runs} requests each, test Client through the middleware)")
    print(
        f"{'messages':>10}  {'page':<28} {'median ms':>9} {'queries':>7} {'status':>6} {'items':>5}"
    )
    for size, measured in rows.items():
        for name, ms, queries, status, items in measured:
            print(f"{size:>10}  {name:<28} {ms:9.2f} {queries:7d} {status:6d} {items:5d}")
    print()
    small_rows, big_rows = rows[f"{args.small:,}"], rows[f"{args.big:,}"]
    print(f"Target: {args.big:,} within 1.5x of {args.small:,}")
    for (name, ms_small, *_), (_, ms_big, *_) in zip(small_rows, big_rows, strict=True):
        ratio = ms_big / ms_small
        print(f"  {name.split(' (')[0]:<26} {ms_small:7.2f} -> {ms_big:7.2f} ms = {ratio:.2f}x "
              f"{'met' if ratio <= 1.5 else 'NOT met'}")  # fmt: skip


if __name__ == "__main__":
    main()
