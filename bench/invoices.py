"""Drafting a month's invoices: 1,000 tenants, 10,000,000 ledger entries in all.

    .venv/bin/python bench/invoices.py                        # about 5 minutes, mostly the load
    .venv/bin/python bench/invoices.py --entries 1000000      # quicker

Creates and migrates `switchboard_bench_invoices` (PostgreSQL; Redis db 13, flushed), makes
`--tenants` tenants (one in five prepaid, with top-ups) with three numbers each, and fills
the ledger on the server with INSERT ... SELECT over generate_series: `--entries` usage
entries (SMS out and in, MMS, calls; one in twenty billed in the month after, which the
drafting must leave out), and the `DailyUsage` rows they imply: squashed rows for every day
but the month's last, whose entries stay one delta row each (as before the squash job runs),
so the drafting sums both kinds. Then it times `billing.invoices.services.invoices_draft` for
the month, a second run (idempotent: nothing drafted), issuing 100 drafts, and one PDF.
Prints figures; the target is drafting under 60 s.
"""

from __future__ import annotations

import argparse
import os
import statistics
import time
from datetime import date

os.environ.setdefault("BENCH_DB", "switchboard_bench_invoices")
os.environ.setdefault("BENCH_REDIS", "redis://127.0.0.1:6379/13")

import _common as common

TARGET_SECONDS = 60.0


def make_tenants(n: int) -> list[int]:
    """Tenants (accounts come with them), three numbers each, every fifth prepaid."""
    from django.db import transaction
    from django_scopes import scopes_disabled

    from accounts.models import Tenant
    from billing.models import BillingAccount, TopUp
    from numbers.models import PhoneNumber

    with scopes_disabled(), transaction.atomic():
        tenants = [
            Tenant.objects.create(
                name=f"Bench {i:04d}", slug=f"bench-{i:04d}", status=Tenant.Status.ACTIVE,
                usage_limit=1_000_000_000, elks_subaccount_id=f"a-bench-{i:04d}",
                elks_secret="bench-subaccount-secret-0123456789",
            )
            for i in range(n)
        ]  # fmt: skip
        PhoneNumber.objects.bulk_create(
            PhoneNumber(
                tenant=t, provider_id=f"n-{t.pk}-{k}", number=f"+46766{t.pk:05d}{k}",
                country="se", has_sms=True, status="active",
            )
            for t in tenants
            for k in range(3)
        )  # fmt: skip
        prepaid = [t.pk for t in tenants[::5]]
        BillingAccount.objects.filter(pk__in=prepaid).update(mode="prepaid", balance=5_000_000)
        TopUp.objects.bulk_create(
            TopUp(tenant_id=pk, amount=2_000_000, note="Bench top-up") for pk in prepaid
        )
    return [t.pk for t in tenants]


LEDGER_SQL = """
INSERT INTO billing_usageentry
  (tenant_id, kind, source, seq, number_id, country, quantity, provider_cost, price,
   estimated, occurred_at, day, created)
SELECT m.tenant_id,
       k.kind,
       'bench:' || g,
       0,
       CASE WHEN mod(j, 7) = 0 THEN NULL ELSE m.first_number + mod(j / 20, 3) END,
       'se',
       CASE k.kind WHEN 'call' THEN 30 + mod(g, 271) WHEN 'sms_out' THEN 1 + mod(g, 3) ELSE 1 END,
       k.cost,
       k.cost + k.cost / 4 + mod(g, 97),
       false,
       d.day + make_interval(secs => mod(g, 86400)),
       d.day,
       now()
FROM generate_series(%(start)s::bigint, %(stop)s::bigint) AS g
-- j counts each tenant's entries: kinds, numbers and days vary within every tenant.
CROSS JOIN LATERAL (SELECT g / %(tenants)s AS j) AS jj
JOIN bench_tenant_map m ON m.idx = mod(g, %(tenants)s)
CROSS JOIN LATERAL (
  SELECT CASE
    WHEN mod(j, 20) < 12 THEN 'sms_out' WHEN mod(j, 20) < 16 THEN 'sms_in'
    WHEN mod(j, 20) < 19 THEN 'call' ELSE 'mms_out' END AS kind,
    CASE
    WHEN mod(j, 20) < 12 THEN 3500 WHEN mod(j, 20) < 16 THEN 0
    WHEN mod(j, 20) < 19 THEN 2000 + mod(g, 5000) ELSE 15000 END AS cost
) k
CROSS JOIN LATERAL (
  SELECT CASE WHEN mod(j, 20) = 7 THEN %(after)s::date + mod(j / 60, 10)::int
              ELSE %(period)s::date + mod(j / 60, %(days)s)::int END AS day
) d
"""

DAILY_SQL = """
INSERT INTO billing_dailyusage
  (tenant_id, day, kind, number_id, events, quantity, provider_cost, price, squashed)
SELECT tenant_id, day, kind, number_id, count(*), sum(quantity), sum(provider_cost),
       sum(price), true
FROM billing_usageentry WHERE day <> %(last)s
GROUP BY tenant_id, day, kind, number_id
"""
DELTA_SQL = """
INSERT INTO billing_dailyusage
  (tenant_id, day, kind, number_id, events, quantity, provider_cost, price, squashed)
SELECT tenant_id, day, kind, number_id, 1, quantity, provider_cost, price, false
FROM billing_usageentry WHERE day = %(last)s
"""


def common_indexes(conn: common.Connection, table: str) -> list[tuple[str, str]]:
    """(name, definition) of the table's indexes that back no constraint."""
    return conn.execute(
        "SELECT i.relname, pg_get_indexdef(i.oid) FROM pg_index x "
        "JOIN pg_class i ON i.oid = x.indexrelid JOIN pg_class t ON t.oid = x.indrelid "
        "WHERE t.relname = %s AND NOT EXISTS "
        "(SELECT 1 FROM pg_constraint c WHERE c.conindid = x.indexrelid) ORDER BY 1",
        [table],
    ).fetchall()


def fill_ledger(
    tenant_ids: list[int], *, entries: int, period: date, chunk: int
) -> dict[str, float]:
    from billing.periods import next_period

    after = next_period(period)
    days = (after - period).days
    last = after.toordinal() - 1
    figures: dict[str, float] = {}
    with common.pg_connect() as conn:
        conn.execute("DROP TABLE IF EXISTS bench_tenant_map")
        conn.execute(
            "CREATE UNLOGGED TABLE bench_tenant_map (idx int PRIMARY KEY, tenant_id int,"
            " first_number int)"
        )
        rows = conn.execute(
            "SELECT tenant_id, min(id) FROM numbers_phonenumber GROUP BY tenant_id"
            " ORDER BY tenant_id"
        ).fetchall()
        first = dict(rows)
        with conn.cursor() as cur, cur.copy("COPY bench_tenant_map FROM STDIN") as copy:
            for idx, pk in enumerate(tenant_ids):
                copy.write_row((idx, pk, first[pk]))
        # Load without the indexes and the unique constraint, then build them once: the same
        # end state as appending entry by entry, minutes sooner.
        indexes = common_indexes(conn, "billing_usageentry")
        uniques = conn.execute(
            "SELECT conname, pg_get_constraintdef(oid) FROM pg_constraint"
            " WHERE conrelid = 'billing_usageentry'::regclass AND contype = 'u'"
        ).fetchall()
        for name, _ in indexes:
            conn.execute(f'DROP INDEX "{name}"')
        for name, _ in uniques:
            conn.execute(f'ALTER TABLE billing_usageentry DROP CONSTRAINT "{name}"')
        started = time.perf_counter()
        for start in range(0, entries, chunk):
            stop = min(entries, start + chunk) - 1
            conn.execute(
                LEDGER_SQL,
                {"start": start, "stop": stop, "tenants": len(tenant_ids), "period": period,
                 "after": after, "days": days},
            )  # fmt: skip
            print(f"  ledger: {stop + 1:>11,} entries  {time.perf_counter() - started:6.1f} s")
        figures["ledger_s"] = time.perf_counter() - started
        started = time.perf_counter()
        for _, definition in indexes:
            conn.execute(definition)
        for name, definition in uniques:
            conn.execute(f'ALTER TABLE billing_usageentry ADD CONSTRAINT "{name}" {definition}')
        figures["index_s"] = time.perf_counter() - started
        started = time.perf_counter()
        conn.execute(DAILY_SQL, {"last": date.fromordinal(last)})
        conn.execute(DELTA_SQL, {"last": date.fromordinal(last)})
        figures["daily_s"] = time.perf_counter() - started
        conn.execute("ANALYZE billing_usageentry")
        conn.execute("ANALYZE billing_dailyusage")
        conn.execute("DROP TABLE bench_tenant_map")
        for name, sql in {
            "entries": "SELECT count(*) FROM billing_usageentry",
            "daily_squashed": "SELECT count(*) FROM billing_dailyusage WHERE squashed",
            "daily_delta": "SELECT count(*) FROM billing_dailyusage WHERE NOT squashed",
        }.items():
            figures[name] = conn.execute(sql).fetchone()[0]
    return figures


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tenants", type=int, default=1000)
    parser.add_argument("--entries", type=int, default=10_000_000)
    parser.add_argument("--chunk", type=int, default=1_000_000)
    parser.add_argument("--issue", type=int, default=100)
    parser.add_argument("--keep-db", action="store_true")
    args = parser.parse_args()

    print(common.machine())
    common.recreate_database()
    common.flush_redis()
    common.django_setup()

    from django.db import connection, reset_queries
    from django.test.utils import CaptureQueriesContext
    from django_scopes import scopes_disabled

    from billing.invoices.documents import invoice_pdf
    from billing.invoices.models import Invoice, InvoiceLine
    from billing.invoices.selectors import invoice_lines
    from billing.invoices.services import invoice_issue, invoices_draft
    from billing.periods import current_period, previous_period

    period = previous_period(current_period("Europe/Stockholm"))
    started = time.perf_counter()
    tenant_ids = make_tenants(args.tenants)
    print(f"tenants: {len(tenant_ids):,} in {time.perf_counter() - started:.1f} s")
    load = fill_ledger(tenant_ids, entries=args.entries, period=period, chunk=args.chunk)
    print(
        f"ledger: {load['entries']:,} usage entries in {load['ledger_s']:.1f} s (+ indexes "
        f"{load['index_s']:.1f} s); daily usage "
        f"{load['daily_squashed']:,} squashed + {load['daily_delta']:,} delta rows in "
        f"{load['daily_s']:.1f} s"
    )

    reset_queries()
    with CaptureQueriesContext(connection) as queries:
        started = time.perf_counter()
        report = invoices_draft(period=period)
        draft_s = time.perf_counter() - started
    with scopes_disabled():
        invoices = Invoice.objects.filter(period=period, kind="invoice").count()
        statements = Invoice.objects.filter(period=period, kind="statement").count()
        lines = InvoiceLine.objects.filter(invoice__period=period).count()
    verdict = "PASS" if draft_s < TARGET_SECONDS else "FAIL"
    print(
        f"draft {period:%Y-%m}: {report.drafted:,} documents ({invoices:,} invoices, "
        f"{statements:,} statements), {lines:,} lines, {len(queries):,} queries in "
        f"{draft_s:.2f} s  [{verdict}: target < {TARGET_SECONDS:.0f} s]"
    )
    started = time.perf_counter()
    again = invoices_draft(period=period)
    print(
        f"draft again: {again.drafted} drafted, {again.existing:,} already there in "
        f"{time.perf_counter() - started:.2f} s"
    )

    with scopes_disabled():
        ids = list(
            Invoice.objects.filter(period=period).order_by("id").values_list("id", flat=True)
        )
    issue_ms = []
    for invoice_id in ids[: args.issue]:
        started = time.perf_counter()
        invoice_issue(invoice_id=invoice_id, actor=None)
        issue_ms.append((time.perf_counter() - started) * 1000)
    if issue_ms:
        print(
            f"issue: {len(issue_ms)} invoices, median {statistics.median(issue_ms):.1f} ms, "
            f"max {max(issue_ms):.1f} ms"
        )
        with scopes_disabled():
            first = Invoice.objects.get(pk=ids[0])
            started = time.perf_counter()
            pdf = invoice_pdf(first, invoice_lines(first))
        print(f"pdf: {len(pdf):,} bytes in {(time.perf_counter() - started) * 1000:.0f} ms")
    if not args.keep_db:
        common.drop_database()


if __name__ == "__main__":
    try:
        main()
    finally:
        common.stop_all()
