"""Usage pages and the margin report at 1,000 and at 1,000,000 ledger entries per tenant.

    .venv/bin/python bench/usage_pages.py                    # 3 tenants, a few minutes
    .venv/bin/python bench/usage_pages.py --big 200000       # quicker

Creates and migrates `switchboard_bench_usage` (Redis db 4, flushed) with `--tenants`
tenants made by bench/pages.py's make_tenant (owner login, three numbers). Phase one COPYs
`--small` usage entries per tenant, spread over the last `--days` days, every kind and number,
and the squashed `DailyUsage` rows they imply (what `usage-squash` leaves); phase two COPYs
more entries up to `--big` per tenant and rebuilds the daily rows. After each phase it times,
through Django's test Client (whole middleware stack, DEBUG off, bench/pages.py's time_page,
median of `--runs` after a warm-up): the tenant's usage page, its chart JSON and CSV, staff's
usage page of the tenant, and the margin report over three months with its chart and CSV.
Prints each page's median, query count and the big/small ratio (target: within 1.5x, same
number of queries). Asserts nothing.
"""

from __future__ import annotations

import argparse
import os
import random
import time
from collections import defaultdict
from datetime import date, datetime, timedelta
from types import SimpleNamespace
from typing import Any

os.environ.setdefault("BENCH_DB", "switchboard_bench_usage")
os.environ.setdefault("BENCH_REDIS", "redis://127.0.0.1:6379/4")

import _common as common
import pages

KINDS = [  # kind, share, provider cost range, price multiplier (per mille)
    ("sms_out", 55, (3500, 7000), 1400),
    ("sms_in", 25, (0, 0), 0),
    ("mms_out", 3, (25_000, 40_000), 1300),
    ("mms_in", 2, (0, 0), 0),
    ("call", 14, (500, 30_000), 1500),
    ("number", 1, (300_000, 300_000), 1200),
]
Key = tuple[int, date, str, int | None]


def load(
    tenants: list[pages.Tenant],
    *,
    count: int,
    first_seq: int,
    days: int,
    sums: dict[Key, list[int]],
    seed: int,
) -> float:
    """COPY `count` entries per tenant, adding their figures to `sums` (the daily rows)."""
    from django.utils import timezone

    from billing.ledger.models import UsageEntry

    rng = random.Random(seed)
    now = timezone.now().replace(microsecond=0)
    kinds = [k for k, share, *_ in KINDS for _ in range(share)]
    spec = {k: (cost, mult) for k, _, cost, mult in KINDS}
    started = time.perf_counter()
    columns = (
        "tenant_id, kind, source, seq, number_id, country, quantity, provider_cost, price, "
        "estimated, occurred_at, day, created"
    )
    more, fill = pages.defaults_for(UsageEntry, columns)
    with (
        common.pg_connect() as conn,
        conn.cursor() as cur,
        cur.copy(f"COPY billing_usageentry ({columns}{more}) FROM STDIN") as copy,
    ):
        for tenant in tenants:
            for i in range(first_seq, first_seq + count):
                kind = rng.choice(kinds)
                (low, high), mult = spec[kind]
                cost = rng.randint(low, high) if high else 0
                price = cost * mult // 1000
                at = now - timedelta(seconds=rng.randrange(days * 86400))
                day = timezone.localtime(at).date()
                number_id = (
                    None if kind == "sms_out" and i % 7 == 0 else rng.choice(tenant.numbers)[0]
                )
                quantity = rng.randint(1, 3) if kind != "call" else rng.randint(5, 600)
                copy.write_row(
                    (
                        tenant.pk, kind, f"bench:{i}", 0, number_id, "se", quantity,
                        cost, price, False, at, day, at, *fill,
                    )
                )  # fmt: skip
                acc = sums[(tenant.pk, day, kind, number_id)]
                acc[0] += 1
                acc[1] += quantity
                acc[2] += cost
                acc[3] += price
    with common.pg_connect() as conn:
        # Done here rather than by autovacuum in the middle of the timings.
        conn.execute("VACUUM (ANALYZE) billing_usageentry")
    return time.perf_counter() - started


def write_daily(sums: dict[Key, list[int]]) -> int:
    """Replace the daily rows with one squashed row per key, and the monthly rows they sum
    to, as usage-squash leaves them."""
    from billing.ledger.models import DailyUsage

    columns = "tenant_id, day, kind, number_id, events, quantity, provider_cost, price, squashed"
    more, fill = pages.defaults_for(DailyUsage, columns)
    with common.pg_connect() as conn, conn.cursor() as cur:
        cur.execute("TRUNCATE billing_dailyusage")
        with cur.copy(f"COPY billing_dailyusage ({columns}{more}) FROM STDIN") as copy:
            for (tenant_id, day, kind, number_id), (events, qty, cost, price) in sums.items():
                copy.write_row(
                    (tenant_id, day, kind, number_id, events, qty, cost, price, True, *fill)
                )
    months: dict[tuple[int, date, str], list[int]] = defaultdict(lambda: [0, 0, 0, 0])
    for (tenant_id, day, kind, _), figures in sums.items():
        acc = months[(tenant_id, day.replace(day=1), kind)]
        for i, figure in enumerate(figures):
            acc[i] += figure
    columns = "tenant_id, period, kind, events, quantity, provider_cost, price"
    with common.pg_connect() as conn, conn.cursor() as cur:
        cur.execute("TRUNCATE billing_monthlyusage")
        with cur.copy(f"COPY billing_monthlyusage ({columns}) FROM STDIN") as copy:
            for (tenant_id, period, kind), (events, qty, cost, price) in months.items():
                copy.write_row((tenant_id, period, kind, events, qty, cost, price))
    with common.pg_connect() as conn:
        conn.execute("VACUUM (ANALYZE) billing_dailyusage")
        conn.execute("VACUUM (ANALYZE) billing_monthlyusage")
    return len(sums)


class Draining:
    """A test Client whose CSV downloads are read to the end (time_page reads `.content`)."""

    def __init__(self, user: Any) -> None:
        from django.test import Client

        self.client = Client()
        self.client.force_login(user)

    def get(self, url: str) -> Any:
        response: Any = self.client.get(url)
        if getattr(response, "streaming", False):
            body = b"".join(response.streaming_content)
            return SimpleNamespace(status_code=response.status_code, content=body)
        return response


def measure(tenant: pages.Tenant, runs: int) -> list[pages.Timing]:
    from accounts.models import User

    owner: Any = Draining(User.objects.get(pk=tenant.owner_id))
    staff: Any = Draining(User.objects.get(email="staff@bench.test"))
    period = datetime.now().strftime("%Y-%m")
    base = f"/t/{tenant.slug}/billing/usage"
    margin = "/staff/billing/margin"
    timings = [
        pages.time_page(owner, tenant, pages.Page(name, url), "", runs)
        for name, url in [
            ("tenant usage page", f"{base}/?period={period}"),
            ("tenant usage chart", f"{base}/chart.json?period={period}"),
            ("tenant usage CSV", f"{base}/export.csv?period={period}"),
            ("tenant billing page (spend card)", f"/t/{tenant.slug}/billing/"),
            ("tenant overview spend chart", f"/t/{tenant.slug}/charts/spend.json"),
        ]
    ]
    timings += [
        pages.time_page(staff, tenant, pages.Page(name, url), "", runs)
        for name, url in [
            ("staff usage page", f"/staff/tenants/{tenant.slug}/usage/?period={period}"),
            ("margin report 3 months", f"{margin}/"),
            ("margin report by revenue", f"{margin}/?sort=-revenue"),
            ("margin chart", f"{margin}/chart.json"),
            ("margin CSV", f"{margin}/export.csv"),
        ]
    ]
    return timings


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--tenants", type=int, default=3)
    parser.add_argument("--small", type=int, default=1_000)
    parser.add_argument("--big", type=int, default=1_000_000)
    parser.add_argument("--days", type=int, default=90)
    parser.add_argument("--runs", type=int, default=7)
    parser.add_argument("--wait-quiet", type=float, default=60)
    parser.add_argument("--keep-db", action="store_true")
    args = parser.parse_args()

    print("Usage pages benchmark ·", common.machine())
    try:
        common.recreate_database()
        common.flush_redis()
        common.django_setup(ALLOWED_HOSTS=f"{common.HOST},testserver")
        from accounts.models import User

        tenants = [pages.make_tenant(f"u{k}", f"bench-usage-{k}") for k in range(args.tenants)]
        User.objects.create_user("staff@bench.test", "bench-password-123", is_staff=True)
        sums: dict[Key, list[int]] = defaultdict(lambda: [0, 0, 0, 0])
        results = {}
        loaded = 0
        for size in (args.small, args.big):
            secs = load(
                tenants, count=size - loaded, first_seq=loaded, days=args.days, sums=sums,
                seed=size,
            )  # fmt: skip
            loaded = size
            rows = write_daily(sums)
            print(
                f"\n=== {size:,} entries per tenant ({size * args.tenants:,} in all, COPY "
                f"{secs:.1f} s), {rows:,} daily rows"
            )
            print(" ", common.wait_quiet(args.wait_quiet))
            results[size] = measure(tenants[0], args.runs)
            for t in results[size]:
                print(
                    f"  {t.page:<34} {t.median_ms:>7.1f} ms  {t.queries} queries, slowest "
                    f"{t.slowest_query_ms:.2f} ms, status {t.status}, {t.kbytes:.1f} KB"
                )
        print(f"\n=== Ratio {args.big:,} / {args.small:,} entries per tenant (target <= 1.5x)")
        for small, big in zip(results[args.small], results[args.big], strict=True):
            ratio = big.median_ms / small.median_ms if small.median_ms else 0.0
            same = "same" if big.queries == small.queries else "DIFFERENT"
            print(
                f"  {small.page:<34} {small.median_ms:>7.1f} -> {big.median_ms:>7.1f} ms  "
                f"{ratio:.2f}x   queries {small.queries} -> {big.queries} ({same})"
            )
    finally:
        common.stop_all()
        if not args.keep_db:
            common.drop_database()


if __name__ == "__main__":
    main()
