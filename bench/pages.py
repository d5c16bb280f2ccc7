"""The message pages at 1,000 and at 1,000,000 messages: median time and queries per page.

    .venv/bin/python bench/pages.py                     # about 5 minutes (the 1M load)
    .venv/bin/python bench/pages.py --big 200000        # quicker

Creates and migrates `switchboard_bench`, creates two tenants, bulk-loads each with COPY
(psycopg 3 `cursor.copy()`): a small one (1,000 messages, 200 conversations) and a big one
(1,000,000 messages, 2,000 conversations), with timestamps over 90 days, both directions and
the usual statuses. Each page is requested with Django's test Client as the tenant's owner,
in this process, through the whole middleware stack (DEBUG off): one warm-up, then the median
of 5; the queries are counted on one more request with CaptureQueriesContext.

Tables are loaded by one function each (TABLES) and pages are listed by one function per
table (PAGES): the call log adds `load_calls` and `call_pages` there when it is built.
Prints figures; asserts nothing.
"""

from __future__ import annotations

import argparse
import random
import statistics
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any, cast

if TYPE_CHECKING:
    from django.db.models import Model
    from django.test import Client

import _common as common

BODIES = [
    "Hi! Your table for two is booked at 19:00.",
    "Can you pick me up at the station?",
    "STOP",
    "Thanks, see you tomorrow",
    "Your order #{n} has shipped and arrives Friday.",
    "Is the car ready yet?",
    "Reminder: your appointment is tomorrow at 10:30.",
    "OK 👍",
    "Where are you? I'm outside.",
    "Your verification code is {n}.",
    "Happy birthday! 🎉 Enjoy 20% off this week with code BDAY{n}.",
    "Can we move the delivery to Monday?",
    "Yes",
    "No thanks",
    "Taxi booked: a black Volvo, reg ABC {n}, arrives in 6 minutes.",
    "Please call me back when you can.",
]
OUT_STATUSES = (["delivered"] * 85) + (["sent"] * 5) + (["failed"] * 4) + (["created"] * 4)
OUT_STATUSES += ["unknown", "queued"]
OUT_SOURCES = (["dashboard"] * 60) + (["campaign"] * 30) + (["autoreply"] * 5) + (["forward"] * 5)


@dataclass
class Tenant:
    """A loaded tenant and what the pages need to know about it."""

    label: str
    pk: int
    slug: str
    owner_id: int
    numbers: list[tuple[int, str]]
    messages: int = 0
    conversations: int = 0
    load_seconds: float = 0.0
    extra: dict[str, object] = field(default_factory=dict)


# --- bulk loading ---------------------------------------------------------------------------


def next_id(conn: common.Connection, table: str) -> int:
    return conn.execute(f"SELECT coalesce(max(id), 0) + 1 FROM {table}").fetchone()[0]


def reset_sequence(conn: common.Connection, table: str) -> None:
    conn.execute(
        f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), "
        f"(SELECT coalesce(max(id), 1) FROM {table}))"
    )


def secondary_indexes(conn: common.Connection, table: str) -> list[tuple[str, str]]:
    """(name, definition) of the table's indexes that back no constraint."""
    return conn.execute(
        "SELECT i.relname, pg_get_indexdef(i.oid) FROM pg_index x "
        "JOIN pg_class i ON i.oid = x.indexrelid JOIN pg_class t ON t.oid = x.indrelid "
        "WHERE t.relname = %s AND NOT EXISTS "
        "(SELECT 1 FROM pg_constraint c WHERE c.conindid = x.indexrelid) ORDER BY 1",
        [table],
    ).fetchall()


def defaults_for(model: type[Model], columns: str) -> tuple[str, tuple[object, ...]]:
    """Columns the loader does not fill (added to the model later), with the model defaults.

    Keeps the COPY working when a migration adds a NOT NULL column with a Python default.
    """
    from django.db import connection
    from django.db.models import NOT_PROVIDED

    given = {c.strip() for c in columns.split(",")}
    names, values = [], []
    for f in model._meta.concrete_fields:
        if f.column in given or f.null or f.default is NOT_PROVIDED:
            continue
        names.append(f.column)
        values.append(f.get_db_prep_save(f.get_default(), connection))
    return "".join(f", {n}" for n in names), tuple(values)


def load_messaging(
    tenant: Tenant, *, messages: int, conversations: int, seed: int, rebuild: bool = False
) -> None:
    """COPY `conversations` conversations and `messages` messages for the tenant.

    Messages are spread over the last 90 days, ids in time order (as they would be inserted),
    with a skewed share per conversation (a few busy threads, a long tail), ~45% inbound.
    Each conversation's last_message_at/preview/direction match its newest message.
    With `rebuild`, the indexes that back no constraint are dropped before the COPY and built
    again after it (the usual way to bulk-load; the unique ones stay and are checked).
    """
    from messaging.models import Conversation, Message

    rng = random.Random(seed)
    now = datetime.now(UTC).replace(microsecond=0)
    span = 90 * 24 * 3600
    # Skewed conversation sizes; every conversation has at least one message.
    weights = [1 / (i + 1) ** 0.7 for i in range(conversations)]
    conv_of = list(range(conversations)) + rng.choices(
        range(conversations), weights=weights, k=messages - conversations
    )
    rng.shuffle(conv_of)
    offsets = sorted(rng.random() * span for _ in range(messages))  # oldest first
    inbound = [rng.random() < 0.45 for _ in range(messages)]
    others = rng.sample(range(10_000_000), conversations)

    def body(i: int) -> str:
        return BODIES[(i * 7919) % len(BODIES)].replace("{n}", str(10_000 + i % 90_000))

    def created(i: int) -> datetime:
        return now - timedelta(seconds=span - offsets[i])

    last: dict[int, int] = {}
    for i, c in enumerate(conv_of):
        last[c] = i  # offsets ascend, so the last index is the newest message
    with common.pg_connect() as conn:
        conv_base = next_id(conn, "messaging_conversation")
        msg_base = next_id(conn, "messaging_message")
        dropped = []
        if rebuild:
            for table in ("messaging_message", "messaging_conversation"):
                for name, definition in secondary_indexes(conn, table):
                    conn.execute(f'DROP INDEX "{name}"')
                    dropped.append(definition)
        started = time.monotonic()
        cur = conn.cursor()
        columns = (
            "id, tenant_id, ours, other, number_id, last_message_at, last_preview, "
            "last_direction, unread, updated"
        )
        more, fill = defaults_for(Conversation, columns)
        columns += more
        with cur.copy(f"COPY messaging_conversation ({columns}) FROM STDIN") as copy:
            for c in range(conversations):
                number_id, ours = tenant.numbers[c % len(tenant.numbers)]
                i = last[c]
                unread = rng.choice((0, 0, 0, 1, 2)) if inbound[i] else 0
                copy.write_row(
                    (
                        conv_base + c,
                        tenant.pk,
                        ours,
                        f"+4670{others[c]:07d}",
                        number_id,
                        created(i),
                        body(i)[:120],
                        "in" if inbound[i] else "out",
                        unread,
                        created(i),
                        *fill,
                    )
                )
        columns = (
            "id, tenant_id, kind, direction, status, source, conversation_id, number_id, ours, "
            "other, body, body_blanked, flash, elks_id, cost, parts, error, request_key, "
            "callback_token, sender_id, created, sent_at, delivered_at, failed_at, read_at, "
            "updated"
        )
        more, fill_message = defaults_for(Message, columns)
        columns += more
        second = timedelta(seconds=1)
        with cur.copy(f"COPY messaging_message ({columns}) FROM STDIN") as copy:
            for i in range(messages):
                pk = msg_base + i
                c = conv_of[i]
                number_id, ours = tenant.numbers[c % len(tenant.numbers)]
                at = created(i)
                text = body(i)
                kind = "mms" if i % 37 == 0 else "sms"
                parts = 1 if len(text) < 60 or i % 3 else 2
                if inbound[i]:
                    status, source, sender = "received", "inbound", None
                    sent = delivered = failed = None
                    read = at + 60 * second if messages - i > 50 else None
                    cost = None
                else:
                    status = OUT_STATUSES[(i * 31) % len(OUT_STATUSES)]
                    source = OUT_SOURCES[(i * 17) % len(OUT_SOURCES)]
                    sender = tenant.owner_id if source == "dashboard" else None
                    sent = at + second if status in ("sent", "delivered") else None
                    delivered = at + 4 * second if status == "delivered" else None
                    failed = at + 3 * second if status == "failed" else None
                    read, cost = None, 3500 * parts
                copy.write_row(
                    (
                        pk,
                        tenant.pk,
                        kind,
                        "in" if inbound[i] else "out",
                        status,
                        source,
                        conv_base + c,
                        number_id,
                        ours,
                        f"+4670{others[c]:07d}",
                        text,
                        False,
                        False,
                        None if status == "queued" else f"b{tenant.pk}x{pk:010x}",
                        cost,
                        parts,
                        "Delivery failed (unreachable handset)" if status == "failed" else "",
                        None,
                        f"bt{pk:010x}",
                        sender,
                        at,
                        sent,
                        delivered,
                        failed,
                        read,
                        delivered or failed or sent or at,
                        *fill_message,
                    )
                )
        reset_sequence(conn, "messaging_conversation")
        reset_sequence(conn, "messaging_message")
        copied = time.monotonic() - started
        started = time.monotonic()
        conn.execute("SET maintenance_work_mem = '256MB'")
        for definition in dropped:
            conn.execute(definition)
        rebuilt = time.monotonic() - started
        conn.execute("VACUUM ANALYZE messaging_conversation")
        conn.execute("VACUUM ANALYZE messaging_message")
    tenant.messages += messages
    tenant.conversations += conversations
    tenant.load_seconds += copied
    how = (
        f"with the {len(dropped)} non-unique indexes dropped, rebuilt in {rebuilt:.1f} s"
        if dropped
        else "into the fully indexed tables"
    )
    print(
        f"  {tenant.label}: COPY {conversations:,} conversations + {messages:,} messages in "
        f"{copied:.1f} s ({(messages + conversations) / copied:,.0f} rows/s) {how}"
    )


def load_calls(tenant: Tenant, *, size: int, seed: int) -> None:
    """Hook for the call log: COPY `size` calls for the tenant, then list it in TABLES.

    The call log is benchmarked on its own for now by bench/call_log.py (same building
    blocks: make_tenant, deep_row, Page, time_page, explain), so this run stays short.
    """
    return None


# One loader per table; each gets (tenant, size, seed). Add ("calls", load_calls) here.
TABLES: list[tuple[str, Callable[..., None]]] = [
    (
        "messaging",
        lambda tenant, size, seed: load_messaging(
            tenant,
            messages=size,
            conversations=min(2000, max(1, size // 5)),
            seed=seed,
            rebuild=size >= 100_000,
        ),
    ),
]


def make_tenant(label: str, slug: str) -> Tenant:
    from django_scopes import scopes_disabled

    from accounts.models import Membership, User
    from accounts.models import Tenant as TenantModel
    from numbers.models import PhoneNumber

    with scopes_disabled():
        tenant = TenantModel.objects.create(
            name=f"Bench {label}",
            slug=slug,
            status=TenantModel.Status.ACTIVE,
            usage_limit=1_000_000_000,
            elks_subaccount_id=f"a-{slug}",
            elks_secret="bench-subaccount-secret-0123456789",
        )
        owner = User.objects.create_user(f"owner@{slug}.test", "bench-password-123")
        Membership.objects.create(user=owner, tenant=tenant, role=Membership.Role.OWNER)
        numbers = []
        for k in range(3):
            number = PhoneNumber.objects.create(
                tenant=tenant,
                provider_id=f"n-{slug}-{k}",
                number=f"+4676686{tenant.pk:02d}{k:02d}",
                country="se",
                has_sms=True,
                status="active",
            )
            numbers.append((number.pk, number.number))
    return Tenant(label=label, pk=tenant.pk, slug=slug, owner_id=owner.pk, numbers=numbers)


# --- pages ----------------------------------------------------------------------------------


@dataclass
class Page:
    name: str
    url: str | None  # through the view with the test Client
    selector: Callable[[], Iterable[object]] | None = None  # fallback: the selector alone
    expect: int = 200


def views_available() -> bool:
    from django.urls import NoReverseMatch, reverse

    try:
        reverse("messaging:inbox", kwargs={"tenant_slug": "x"})
        reverse("messaging:log", kwargs={"tenant_slug": "x"})
    except NoReverseMatch:
        return False
    return True


def deep_row(sql: str, params: list[object], depth: int) -> tuple[datetime, int]:
    """The (key, id) of the row at position `depth` (1-based) in a keyset order."""
    with common.pg_connect() as conn:
        row = conn.execute(sql + " OFFSET %s LIMIT 1", [*params, depth - 1]).fetchone()
    return row[0], row[1]


def message_pages(tenant: Tenant, use_views: bool) -> list[Page]:
    """The inbox (conversations) and the log (messages): first and deep pages."""
    from urllib.parse import quote

    from django.urls import reverse

    from core.pagination import encode_cursor, keyset_page
    from messaging.models import Conversation, Message

    # Deep = 90% of the way down: row 1,800 of 2,000 conversations, message #900,000 of 1M.
    inbox_depth = max(1, tenant.conversations * 9 // 10)
    log_depth = max(1, tenant.messages * 9 // 10)
    key, pk = deep_row(
        "SELECT last_message_at, id FROM messaging_conversation WHERE tenant_id = %s "
        "ORDER BY last_message_at DESC, id DESC",
        [tenant.pk],
        inbox_depth,
    )
    inbox_cursor = encode_cursor(key, pk)
    key, pk = deep_row(
        "SELECT created, id FROM messaging_message WHERE tenant_id = %s "
        "ORDER BY created DESC, id DESC",
        [tenant.pk],
        log_depth,
    )
    log_cursor = encode_cursor(key, pk)
    with common.pg_connect() as conn:
        version, busiest = conn.execute(
            "SELECT max(updated), (SELECT conversation_id FROM messaging_message "
            "WHERE tenant_id = %s GROUP BY 1 ORDER BY count(*) DESC LIMIT 1) "
            "FROM messaging_conversation WHERE tenant_id = %s",
            [tenant.pk, tenant.pk],
        ).fetchone()
    tenant.extra["depths"] = (inbox_depth, log_depth)
    if not use_views:
        # Called inside the tenant's scope by time_page (the managers refuse otherwise).
        def inbox(cursor: str | None) -> Callable[[], Iterable[object]]:
            return lambda: (
                keyset_page(
                    Conversation.objects.filter(tenant_id=tenant.pk),
                    cursor=cursor,
                    size=50,
                    field="last_message_at",
                ).items
            )

        def log(cursor: str | None) -> Callable[[], Iterable[object]]:
            return lambda: (
                keyset_page(
                    Message.objects.filter(tenant_id=tenant.pk), cursor=cursor, size=50
                ).items
            )

        return [
            Page("inbox first", None, inbox(None)),
            Page(f"inbox deep (row {inbox_depth:,})", None, inbox(inbox_cursor)),
            Page("log first", None, log(None)),
            Page(f"log deep (row {log_depth:,})", None, log(log_cursor)),
        ]
    inbox_url = reverse("messaging:inbox", kwargs={"tenant_slug": tenant.slug})
    log_url = reverse("messaging:log", kwargs={"tenant_slug": tenant.slug})
    pages = [
        Page("inbox first", inbox_url),
        Page(f"inbox deep (row {inbox_depth:,})", f"{inbox_url}?after={inbox_cursor}"),
        Page("log first", log_url),
        Page(f"log deep (row {log_depth:,})", f"{log_url}?after={log_cursor}"),
        # Extras, not in the target: the 2-second poll, a filtered log, the busiest thread.
        Page(
            "+ inbox poll, no change", f"{inbox_url}?since={quote(version.isoformat())}", None, 204
        ),
        Page("+ log filtered status=failed", f"{log_url}?status=failed"),
    ]
    try:
        thread = reverse(
            "messaging:thread", kwargs={"tenant_slug": tenant.slug, "conversation_id": busiest}
        )
        pages.append(Page("+ thread, busiest conversation", thread))
    except Exception:  # no thread view: skip the extra
        pass
    return pages


def call_pages(tenant: Tenant, use_views: bool) -> list[Page]:
    """Hook for the call log: its first and deep pages, like message_pages.

    Empty while bench/call_log.py measures the call log separately (see load_calls).
    """
    return []


# One function per table: each returns the pages to time for a tenant. Add call_pages here.
PAGES: list[Callable[[Tenant, bool], list[Page]]] = [message_pages, call_pages]


# --- timing ---------------------------------------------------------------------------------


@dataclass
class Timing:
    size: str
    page: str
    median_ms: float
    runs_ms: list[float]
    queries: int
    slowest_query_ms: float
    slowest_sql: str
    status: int
    kbytes: float
    foreign: float = 0.0


def time_page(client: Client, tenant: Tenant, page: Page, size: str, runs: int) -> Timing:
    from django.db import connection
    from django.test.utils import CaptureQueriesContext
    from django_scopes import scope

    def once() -> tuple[int, int]:
        if page.url is not None:
            response = client.get(page.url)
            return response.status_code, len(response.content)
        assert page.selector is not None  # a page without a URL is timed by its selector
        with scope(tenant=tenant.pk):
            items = list(page.selector())
        return 200, len(items)

    status, size_bytes = once()  # warm-up
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        status, size_bytes = once()
        times.append((time.perf_counter() - start) * 1000)
    query_ms: list[float] = []

    def timer(
        execute: Callable[..., Any], sql: str, params: Any, many: bool, context: dict[str, Any]
    ) -> Any:
        start = time.perf_counter()
        try:
            return execute(sql, params, many, context)
        finally:
            query_ms.append((time.perf_counter() - start) * 1000)

    with CaptureQueriesContext(connection) as captured, connection.execute_wrapper(timer):
        once()
    queries = [q["sql"] for q in captured.captured_queries]
    slowest = max(range(len(query_ms)), key=query_ms.__getitem__, default=None)
    return Timing(
        size=size,
        page=page.name,
        median_ms=statistics.median(times),
        runs_ms=times,
        queries=len(queries),
        slowest_query_ms=query_ms[slowest] if slowest is not None else 0.0,
        slowest_sql=queries[slowest]
        if slowest is not None and len(queries) == len(query_ms)
        else "",
        status=status,
        kbytes=size_bytes / 1024 if page.url else size_bytes,
    )


def measure(tenant: Tenant, size: str, args: argparse.Namespace, use_views: bool) -> list[Timing]:
    """Every page of every table for one tenant; a page is timed again (at most twice) when
    other processes took more than --max-foreign of the cores meanwhile."""
    from django.test import Client

    from accounts.models import User

    client = Client()
    client.force_login(User.objects.get(pk=tenant.owner_id))
    results = []
    for pages in PAGES:
        for page in pages(tenant, use_views):
            for attempt in range(3):
                with common.ForeignCPU() as foreign:
                    timing = time_page(client, tenant, page, size, args.runs)
                timing.foreign = foreign.share
                if (
                    foreign.share <= args.max_foreign
                    or attempt == 2
                    or not common.quiet_budget_left()
                ):
                    break
                common.wait_quiet(args.wait_quiet)
            results.append(timing)
    return results


def explain(sql: str) -> list[str]:
    """The plan's scan lines for one captured query (with ANALYZE, so real row counts)."""
    with common.pg_connect() as conn:
        plan = [r[0] for r in conn.execute("EXPLAIN (ANALYZE, BUFFERS) " + sql).fetchall()]
    keep = [ln.strip() for ln in plan if "Scan" in ln or "Execution Time" in ln or "Sort" in ln]
    return keep[:6]


def keyset_check(tenant: Tenant) -> None:
    """The deep log query three ways, straight in PostgreSQL: which form seeks the index.

    Until 038326e core.pagination.keyset_page filtered only `created < x OR (created = x
    AND id < y)`; since then it adds the `created <= x` bound. All three return the same rows.
    """
    _inbox_depth, depth = cast(tuple[int, int], tenant.extra["depths"])
    key, pk = deep_row(
        "SELECT created, id FROM messaging_message WHERE tenant_id = %s "
        "ORDER BY created DESC, id DESC",
        [tenant.pk],
        depth,
    )
    forms = [
        (
            "before 038326e: created < x OR (created = x AND id < y)",
            "(created < %(x)s OR (created = %(x)s AND id < %(y)s))",
        ),
        (
            "since 038326e: created <= x AND (created < x OR id < y)",
            "created <= %(x)s AND (created < %(x)s OR id < %(y)s)",
        ),
        ("row comparison (created, id) < (x, y)", "(created, id) < (%(x)s, %(y)s)"),
    ]
    print(f"Keyset predicate at row {depth:,} of {tenant.messages:,} (EXPLAIN ANALYZE, best of 3):")
    with common.pg_connect() as conn:
        for label, predicate in forms:
            sql = (
                "EXPLAIN (ANALYZE, BUFFERS) SELECT * FROM messaging_message "
                f"WHERE tenant_id = %(t)s AND {predicate} ORDER BY created DESC, id DESC LIMIT 51"
            )
            best, plan = float("inf"), []
            for _ in range(3):
                lines = [r[0] for r in conn.execute(sql, {"t": tenant.pk, "x": key, "y": pk})]
                ms = float(lines[-1].split(":")[1].split()[0])
                if ms < best:
                    best, plan = ms, lines
            buffers = next((ln.strip() for ln in plan if "Buffers" in ln), "")
            cond = next((ln.strip() for ln in plan if "Index Cond" in ln), "")
            print(f"  {label:<58} {best:9.2f} ms  {buffers}")
            print(f"  {'':<58} {cond[:110]}")


def redundant_indexes(conn: common.Connection) -> list[tuple[str, str]]:
    """Non-unique indexes on messaging_message that another index makes unnecessary.

    A single-column index whose column leads a longer index, and the varchar_pattern_ops
    copies Django adds for unique CharFields (used only by LIKE/startswith lookups).
    """
    rows = conn.execute(
        "SELECT i.relname, pg_get_indexdef(i.oid), x.indkey::int[], x.indisunique "
        "FROM pg_index x JOIN pg_class i ON i.oid = x.indexrelid "
        "JOIN pg_class t ON t.oid = x.indrelid WHERE t.relname = 'messaging_message'"
    ).fetchall()
    found = []
    for name, definition, keys, unique in rows:
        if unique:
            continue
        covered = any(
            other != name and len(k) > len(keys) and k[: len(keys)] == keys
            for other, _d, k, _u in rows
        )
        if covered or "varchar_pattern_ops" in definition:
            found.append((name, definition))
    return found


def index_experiment(source: Tenant, n: int) -> None:
    """Server-side cost of the indexes: INSERT … SELECT n of the loaded messages again.

    Copies the first n messages of `source` under new ids (and tokens) into a scratch
    tenant, with every index and then without the redundant ones; best of two rounds each.
    No Python in the loop, so this is the database's own cost of maintaining the indexes.
    """
    with common.pg_connect() as conn:
        redundant = redundant_indexes(conn)
        total = (
            len(secondary_indexes(conn, "messaging_message"))
            + conn.execute(
                "SELECT count(*) FROM pg_constraint c JOIN pg_class t ON t.oid = c.conrelid "
                "WHERE t.relname = 'messaging_message' AND c.contype IN ('p', 'u')"
            ).fetchone()[0]
        )
    print(f"Insert cost of the indexes on messaging_message ({total} indexes), {n:,} rows")
    print(f"  {len(redundant)} look redundant (a longer index leads with the same column, or")
    print("  a varchar_pattern_ops copy of a unique column that is never LIKE-queried):")
    for name, definition in redundant:
        print(f"    {name}: {definition.split(' USING ')[1]}")
    scratch = make_tenant("index test", "bench-index-test")
    with common.pg_connect() as conn:
        columns = [
            name
            for (name,) in conn.execute(
                "SELECT column_name FROM information_schema.columns "
                "WHERE table_name = 'messaging_message' ORDER BY ordinal_position"
            )
            if name not in ("id", "tenant_id", "elks_id", "callback_token")
        ]
    best = {"all": float("inf"), "without": float("inf")}
    with common.pg_connect() as conn:
        for round_ in range(2):
            for variant in ("all", "without"):
                if variant == "without":
                    for name, _definition in redundant:
                        conn.execute(f'DROP INDEX "{name}"')
                tag = f"r{round_}{variant[0]}"
                started = time.monotonic()
                conn.execute(
                    f"INSERT INTO messaging_message (tenant_id, elks_id, callback_token, "
                    f"{', '.join(columns)}) SELECT %s, elks_id || %s, callback_token || %s, "
                    f"{', '.join(columns)} FROM messaging_message WHERE tenant_id = %s "
                    "AND id < (SELECT min(id) + %s FROM messaging_message WHERE tenant_id = %s)",
                    [scratch.pk, tag, tag, source.pk, n, source.pk],
                )
                best[variant] = min(best[variant], time.monotonic() - started)
                if variant == "without":
                    for _name, definition in redundant:
                        conn.execute(definition)
        conn.execute("DELETE FROM messaging_message WHERE tenant_id = %s", [scratch.pk])
    print(
        f"  -> {best['all']:.2f} s with all {total} ({n / best['all']:,.0f} rows/s), "
        f"{best['without']:.2f} s without the {len(redundant)} ({n / best['without']:,.0f} "
        f"rows/s): {best['all'] / best['without']:.2f}x"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--small", type=int, default=1000, help="messages of the small tenant")
    parser.add_argument("--big", type=int, default=1_000_000, help="messages of the big tenant")
    parser.add_argument("--runs", type=int, default=5, help="timed runs per page (median)")
    parser.add_argument("--wait-quiet", type=float, default=180)
    parser.add_argument(
        "--max-foreign",
        type=float,
        default=0.10,
        help="time a page again when other processes used more than this share of the cores",
    )
    parser.add_argument("--keep-db", action="store_true", help="do not drop the database")
    parser.add_argument(
        "--selectors", action="store_true", help="time the selectors even if the views exist"
    )
    parser.add_argument(
        "--index-experiment",
        type=int,
        default=100_000,
        help="messages to insert with and without the redundant indexes at the end; 0 to skip",
    )
    args = parser.parse_args()
    args.big = min(args.big, 5_000_000)

    print("Message pages benchmark ·", common.machine())
    common.recreate_database()
    common.flush_redis()
    common.django_setup(ALLOWED_HOSTS=f"{common.HOST},testserver")
    use_views = views_available() and not args.selectors
    print(
        "Timing the views (test Client, whole middleware stack)"
        if use_views
        else "The views are not there: timing the selectors (keyset_page) directly"
    )
    small = make_tenant(f"{args.small:,}", "bench-small")
    big = make_tenant(f"{args.big:,}", "bench-big")
    results: list[Timing] = []

    for _name, loader in TABLES:
        loader(small, args.small, 1)
    quiet = common.wait_quiet(args.wait_quiet)
    results += measure(small, f"{args.small:,}", args, use_views)

    for _name, loader in TABLES:
        loader(big, args.big, 2)
    quiet_big = common.wait_quiet(args.wait_quiet)
    results += measure(big, f"{args.big:,}", args, use_views)
    results += measure(small, f"{args.small:,} beside {args.big:,}", args, use_views)

    print()
    print(f"({quiet} before the small run; {quiet_big} before the big run)")
    width = max(len(r.page) for r in results) + 2
    head = f"{'size':<22} {'page':<{width}} {'median ms':>9} {'queries':>7} {'slowest q ms':>12}"
    print(head + f" {'status':>6} {'KB':>6} {'other CPU':>9}")
    for r in results:
        print(
            f"{r.size:<22} {r.page:<{width}} {r.median_ms:9.1f} {r.queries:7d} "
            f"{r.slowest_query_ms:12.2f} {r.status:6d} {r.kbytes:6.0f} {r.foreign:9.0%}"
        )
    print()
    print(f"Target: {args.big:,} within 1.5x of {args.small:,} (median ms)")
    small_rows = {r.page.split(" (")[0]: r for r in results if r.size == f"{args.small:,}"}
    big_rows = [r for r in results if r.size == f"{args.big:,}"]
    for r in big_rows:
        base = small_rows.get(r.page.split(" (")[0])
        if base:
            ratio = r.median_ms / base.median_ms
            print(
                f"  {r.page.split(' (')[0]:<34} {base.median_ms:7.1f} -> {r.median_ms:7.1f} ms "
                f"= {ratio:.2f}x"
            )
    print()
    print(f"Plans of the slowest query per page at {args.big:,}:")
    for r in big_rows:
        if r.slowest_sql:
            print(f"  {r.page}: {r.slowest_query_ms:.2f} ms")
            for line in explain(r.slowest_sql):
                print(f"      {line[:150]}")
    print()
    keyset_check(big)
    if args.index_experiment:
        print()
        index_experiment(big, min(args.index_experiment, 500_000, big.messages))
    if not args.keep_db:
        common.drop_database()


if __name__ == "__main__":
    main()
