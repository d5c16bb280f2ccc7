"""A 100,000-recipient campaign against the 46elks sandbox, sent by real Celery workers.

    .venv/bin/python bench/campaign.py                        # about 10 minutes at 200 msg/s
    .venv/bin/python bench/campaign.py --recipients 20000     # quicker
    .venv/bin/python bench/campaign.py --soft-time-limit 240  # the shipped task time limits

What it does (see docs/bench-campaigns.md):
  1. creates and migrates `switchboard_bench_campaign`, flushes Redis db 13;
  2. starts the 46elks sandbox as a separate process on a free loopback port (large balance,
     one callback attempt; delivery reports go to a closed port, so they fail at once and
     touch nothing), and measures its ceiling for POST /a1/sms (a few seconds, 4 threads);
  3. creates the tenant with console.tenants.tenant_create (a sandbox subaccount), COPYs
     N contacts into one list, creates the campaign (sender "Bench", template
     "Hi {first_name|there}, offer {code|X}") and times recipients_create (INSERT ... SELECT);
  4. starts `celery -A config worker -c 2` (production settings, DEBUG off), marks the campaign
     running and enqueues campaign_run tasks. campaign_run stops after max_seconds=240;
     in production the beat's campaigns_tick (every 15 s) enqueues one more worker per running
     campaign. No beat runs here (its other jobs would poll the sandbox); the loop below plays
     the tick's part, but only keeps ONE task waiting in the queue while rows are pending, so
     a freed worker slot starts the next task at once and no more than 2 run;
  5. samples every second: sent count, worker RSS (/proc VmRSS of the worker processes);
  6. prints launch time, sends/s against the configured rate, RSS over progress, duplicates
     (at the sandbox: messages per recipient in its SQLite file; in the app: elks ids), and
     the unknown/failed/left-in-sending counts.
Bounded: --max-minutes wall clock for the sending phase. Prints figures; asserts nothing.
"""

from __future__ import annotations

import argparse
import io
import json
import os
import random
import sqlite3
import statistics
import sys
import threading
import time
from datetime import UTC, datetime
from pathlib import Path

os.environ.setdefault("BENCH_DB", "switchboard_bench_campaign")
os.environ.setdefault("BENCH_REDIS", "redis://127.0.0.1:6379/13")

import itertools
import subprocess
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from accounts.models import Tenant
    from messaging.campaigns.models import Campaign

import _common as common

SANDBOX_USER = "bench-master"
SANDBOX_PASSWORD = "bench-master-secret"
TEMPLATE = "Hi {first_name|there}, offer {code|X}"
FIRST = ["Anna", "Erik", "Maja", "Lars", "Sara", "Johan", "Elin", "Oskar", "Ida", "Nils"]
LAST = ["Andersson", "Johansson", "Karlsson", "Nilsson", "Eriksson", "Larsson"]


# --- the sandbox ----------------------------------------------------------------------------


def sandbox_start(port: int, db_path: str, balance: int) -> subprocess.Popen[bytes]:
    argv = [sys.executable, "-m", "providers.elks.sandbox", "--port", str(port), "--db", db_path]
    argv += ["--username", SANDBOX_USER, "--password", SANDBOX_PASSWORD]
    argv += ["--balance", str(balance), "--callback-attempts", "1", "--fail-suffix", ""]
    proc = common.start("sandbox", argv, common.bench_env())
    common.wait_http(f"http://{common.HOST}:{port}/sandbox/health", proc=proc)
    return proc


def sandbox_probe(base: str, user: str, password: str, seconds: float, threads: int) -> float:
    """POST /a1/sms as fast as `threads` keep-alive clients can for `seconds`; returns sends/s.

    Sender "Probe", recipients outside the campaign's range: excluded from the duplicate check.
    """
    import requests

    deadline = time.monotonic() + seconds
    counts = [0] * threads

    def worker(t: int) -> None:
        session = requests.Session()
        session.auth = (user, password)
        n = 0
        while time.monotonic() < deadline and n < 100_000:
            n += 1
            to = f"+4673{t}{n:06d}"
            r = session.post(
                f"{base}/sms",
                data={
                    "from": "Probe",
                    "to": to,
                    "message": "probe",
                    "whendelivered": "http://127.0.0.1:9/x",
                },
                timeout=10,
            )
            if r.status_code == 200:
                counts[t] += 1

    started = time.monotonic()
    pool = [threading.Thread(target=worker, args=(t,)) for t in range(threads)]
    for th in pool:
        th.start()
    for th in pool:
        th.join()
    return sum(counts) / (time.monotonic() - started)


# --- data -----------------------------------------------------------------------------------


def seed(recipients: int, rate: int) -> tuple[Tenant, Campaign, float]:
    """Tenant (via tenant_create, so a real sandbox subaccount), N contacts in one list, campaign."""
    from django.db import connection
    from django.db.models import NOT_PROVIDED
    from django_scopes import scopes_disabled

    from accounts.models import User
    from console.tenants import tenant_create
    from messaging.campaigns.models import Campaign
    from messaging.contacts.models import Contact, ContactList

    staff = User.objects.create_superuser("staff@bench.test", "bench-password-123")
    created = tenant_create(
        name="Bench Campaign",
        usage_limit=10**12,
        owner_email="owner@bench-campaign.test",
        actor=staff,
        request=None,
    )
    tenant = created.tenant
    with scopes_disabled():
        clist = ContactList.objects.create(tenant=tenant, name="Everyone")
    rng = random.Random(7)
    now = datetime.now(UTC)
    # Columns the model adds later with a Python default (keeps the COPY working).
    given = {"tenant_id", "phone", "name", "fields", "opted_out", "created", "updated", "id"}
    extra = [
        f
        for f in Contact._meta.concrete_fields
        if f.column not in given and not f.null and f.default is not NOT_PROVIDED
    ]
    columns = ["tenant_id", "phone", "name", "fields", "opted_out", "created", "updated"]
    columns += [str(f.column) for f in extra]  # concrete fields always have a column
    extra_values = [f.get_db_prep_save(f.get_default(), connection) for f in extra]
    started = time.perf_counter()
    with common.pg_connect() as conn, conn.cursor() as cur:
        with cur.copy(f"COPY messaging_contact ({', '.join(columns)}) FROM STDIN") as copy:
            for i in range(recipients):
                name = f"{rng.choice(FIRST)} {rng.choice(LAST)}" if rng.random() < 0.8 else ""
                fields = {"code": f"C{i:06d}"} if rng.random() < 0.7 else {}
                copy.write_row(
                    [
                        tenant.pk,
                        f"+4670{i:07d}",
                        name,
                        json.dumps(fields),
                        False,
                        now,
                        now,
                        *extra_values,
                    ]
                )
        cur.execute(
            "INSERT INTO messaging_contactlistmember (contact_list_id, contact_id) "
            "SELECT %s, id FROM messaging_contact WHERE tenant_id = %s",
            [clist.pk, tenant.pk],
        )
        cur.execute("ANALYZE messaging_contact")
        cur.execute("ANALYZE messaging_contactlistmember")
    loaded = time.perf_counter() - started
    with scopes_disabled():
        campaign = Campaign.objects.create(
            tenant=tenant, name="Bench 100k", sender="Bench", template=TEMPLATE, rate=rate
        )
        campaign.lists.add(clist)
    return tenant, campaign, loaded


# --- the worker -----------------------------------------------------------------------------


def children(pid: int) -> list[int]:
    try:
        text = Path(f"/proc/{pid}/task/{pid}/children").read_text()
        return [int(p) for p in text.split()]
    except OSError:
        found = []
        for status in Path("/proc").glob("[0-9]*/status"):
            try:
                ppid = next(ln for ln in status.read_text().splitlines() if ln.startswith("PPid:"))
            except (OSError, StopIteration):
                continue
            if int(ppid.split()[1]) == pid:
                found.append(int(status.parent.name))
        return found


def rss_mb(pid: int) -> float:
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    except OSError:
        pass
    return 0.0


def task_durations() -> list[float]:
    """Seconds each campaign_run took, from the worker's `succeeded in Xs` log lines."""
    import re

    try:
        text = (common.LOG_DIR / "campaign-worker.log").read_text(errors="replace")
    except OSError:
        return []
    pattern = r"campaign_run\[[^\]]+\] succeeded in ([0-9.]+)s"
    return [float(x) for x in re.findall(pattern, text)]


def counts(campaign_id: int) -> dict[str, int]:
    with common.pg_connect() as conn:
        rows = conn.execute(
            "SELECT status, count(*) FROM messaging_campaignrecipient WHERE campaign_id = %s "
            "GROUP BY status",
            [campaign_id],
        ).fetchall()
    return dict(rows)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--recipients", type=int, default=100_000)
    parser.add_argument("--rate", type=int, default=200, help="CAMPAIGN_PROVIDER_RATE, msg/s")
    parser.add_argument("--batch", type=int, default=200, help="CAMPAIGN_CLAIM_BATCH")
    parser.add_argument("--concurrency", type=int, default=2, help="celery worker -c")
    parser.add_argument(
        "--soft-time-limit",
        type=int,
        default=290,
        help="CELERY_TASK_SOFT_TIME_LIMIT for the worker (shipped: 240, equal to campaign_run's "
        "max_seconds; see the doc). The hard limit is set 30 s above it.",
    )
    parser.add_argument("--probe-seconds", type=float, default=6.0)
    parser.add_argument("--max-minutes", type=float, default=16.0, help="bound on sending")
    parser.add_argument("--wait-quiet", type=float, default=120)
    parser.add_argument("--keep-db", action="store_true")
    args = parser.parse_args()
    args.recipients = max(1, min(args.recipients, 1_000_000))

    print("Campaign benchmark ·", common.machine())
    port = common.free_port()
    sandbox_db = f"/dev/shm/switchboard-bench-sandbox-{os.getpid()}.sqlite3"
    worker_env_extra = {
        "ELKS_API_URL": f"http://{common.HOST}:{port}/a1",
        "ELKS_USERNAME": SANDBOX_USER,
        "ELKS_PASSWORD": SANDBOX_PASSWORD,
        "PUBLIC_BASE_URL": "http://127.0.0.1:9",  # closed: delivery reports fail at once
        "CAMPAIGN_CLAIM_BATCH": str(args.batch),
        "CELERY_TASK_SOFT_TIME_LIMIT": str(args.soft_time_limit),
        "CELERY_TASK_TIME_LIMIT": str(args.soft_time_limit + 30),
    }
    try:
        run(args, port, sandbox_db, worker_env_extra)
    finally:
        common.stop_all()
        for suffix in ("", "-journal", "-wal", "-shm"):
            Path(sandbox_db + suffix).unlink(missing_ok=True)
        if not args.keep_db:
            common.drop_database()


def run(args: argparse.Namespace, port: int, sandbox_db: str, extra: dict[str, str]) -> None:
    common.recreate_database()
    common.flush_redis()
    sandbox = sandbox_start(port, sandbox_db, balance=10**14)
    print(f"Sandbox: {extra['ELKS_API_URL']} (separate process, SQLite in {sandbox_db})")

    quiet = common.wait_quiet(args.wait_quiet)
    # The probe needs credentials: the master's are enough (same code path for POST /sms).
    probe = sandbox_probe(
        extra["ELKS_API_URL"], SANDBOX_USER, SANDBOX_PASSWORD, args.probe_seconds, threads=4
    )
    rate = args.rate
    print(f"Sandbox ceiling, POST /a1/sms alone (4 keep-alive threads, {args.probe_seconds:.0f} s): "
          f"{probe:,.0f} sends/s")  # fmt: skip
    if probe * 0.75 < rate:
        rate = max(10, int(probe * 0.6) // 10 * 10)
        print(f"  → {args.rate}/s is too close to the sandbox's ceiling; using {rate}/s")
    extra["CAMPAIGN_PROVIDER_RATE"] = str(rate)
    common.django_setup(**extra)

    from django.utils import timezone
    from django_scopes import scope, scopes_disabled

    unscoped = scopes_disabled()  # this script reads across the tenant scope
    unscoped.__enter__()

    from messaging.campaigns.models import Campaign
    from messaging.campaigns.services import recipients_create

    tenant, campaign, loaded = seed(args.recipients, rate)
    print(f"Tenant {tenant.slug} (sandbox subaccount {tenant.elks_subaccount_id}); "
          f"{args.recipients:,} contacts COPYed in {loaded:.1f} s")  # fmt: skip

    t0 = time.perf_counter()
    with scope(tenant=tenant.pk):
        created = recipients_create(campaign=campaign)
    create_s = time.perf_counter() - t0
    Campaign.objects.filter(pk=campaign.pk).update(
        status=Campaign.Status.RUNNING,
        recipient_count=created,
        launched_at=timezone.now(),
        rate=rate,
        updated=timezone.now(),
    )
    launch_s = time.perf_counter() - t0
    print(f"recipients_create: {created:,} rows in {create_s:.2f} s ({created / create_s:,.0f} "
          f"rows/s); launch (rows + status) {launch_s:.2f} s")  # fmt: skip

    # --- the worker and the sending loop --------------------------------------------------
    argv = [sys.executable, "-m", "celery", "-A", "config", "worker", "-c", str(args.concurrency)]
    argv += ["--pool", "prefork", "-l", "info", "--without-gossip", "--without-mingle"]
    argv += ["-n", f"bench-campaign-{os.getpid()}@%h"]
    worker = common.start("campaign-worker", argv, common.bench_env(**extra))
    import redis

    broker = redis.Redis.from_url(common.REDIS_URL)
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline and len(children(worker.pid)) < args.concurrency:
        if worker.poll() is not None:
            raise RuntimeError(f"the worker exited; see {common.LOG_DIR}/campaign-worker.log")
        time.sleep(0.5)
    time.sleep(2)  # the worker connects to the broker
    print(f"Worker: celery -c {args.concurrency} (pid {worker.pid}, children "
          f"{children(worker.pid)}), rate {rate}/s, claim batch {args.batch}, soft time limit "
          f"{args.soft_time_limit} s")  # fmt: skip

    from messaging.tasks import campaign_run

    def enqueue() -> None:
        campaign_run.apply_async(kwargs={"tenant_id": tenant.pk, "campaign_id": campaign.pk})

    enqueued = 0
    for _ in range(args.concurrency):
        enqueue()
        enqueued += 1
    start = time.monotonic()
    samples: list[tuple[float, int, float, float]] = []  # (t, done, max child RSS, total RSS)
    last: dict[str, int] = {}
    stable = 0
    total = created
    while time.monotonic() - start < args.max_minutes * 60:
        time.sleep(1.0)
        last = counts(campaign.pk)
        done = sum(last.get(s, 0) for s in ("sent", "delivered", "failed", "skipped"))
        kids = children(worker.pid)
        per = [rss_mb(p) for p in kids]
        samples.append((time.monotonic() - start, done, max(per, default=0.0),
                        rss_mb(worker.pid) + sum(per)))  # fmt: skip
        pending = last.get("pending", 0)
        queued = broker.llen("celery")
        # The tick's part: while rows are pending keep one task waiting for a free slot.
        if pending and queued == 0:
            enqueue()
            enqueued += 1
        if len(samples) % 15 == 0:
            print(f"  t={samples[-1][0]:5.0f} s  done {done:>7,}  {dict(sorted(last.items()))}  "
                  f"RSS max child {samples[-1][2]:.0f} MB")  # fmt: skip
        status = Campaign.objects.filter(pk=campaign.pk).values_list("status", flat=True).get()
        if status == Campaign.Status.COMPLETED:
            break
        # Nothing pending and nothing moving (rows left in `sending` by a killed task): stop.
        stable = stable + 1 if not pending and samples[-1][1] == samples[-2][1] else 0
        if len(samples) > 2 and stable >= 10:
            break
    wall = time.monotonic() - start
    common.stop(worker)
    final = counts(campaign.pk)
    report(args, rate, probe, created, create_s, launch_s, campaign, final, samples, wall,
           enqueued, quiet, sandbox_db, total)  # fmt: skip
    common.stop(sandbox)


# [no-untyped-def] prints what run() measured; fourteen annotations would only repeat run().
def report(args, rate, probe, created, create_s, launch_s, campaign, final, samples, wall,  # type: ignore[no-untyped-def]
           enqueued, quiet, sandbox_db, total) -> None:  # fmt: skip
    with common.pg_connect() as conn:
        first, last_at, sent_rows, elks_ids, distinct_ids = conn.execute(
            "SELECT min(sent_at), max(sent_at), count(*) FILTER (WHERE status IN "
            "('sent','delivered')), count(elks_id), count(DISTINCT elks_id) "
            "FROM messaging_campaignrecipient WHERE campaign_id = %s",
            [campaign.pk],
        ).fetchone()
        launched = conn.execute(
            "SELECT launched_at, finished_at, status FROM messaging_campaign WHERE id = %s",
            [campaign.pk],
        ).fetchone()
    span = (last_at - first).total_seconds() if first and last_at else 0.0
    achieved = (sent_rows - 1) / span if span else 0.0
    # Per-second send rate in steady state (from the samples, first and last 5 s dropped).
    deltas = [b[1] - a[1] for a, b in itertools.pairwise(samples)]
    steady = deltas[5:-5] if len(deltas) > 12 else deltas
    # At the sandbox: every accepted POST /a1/sms from "Bench" is a row; > 1 per recipient
    # is a duplicate send.
    sb = sqlite3.connect(f"file:{sandbox_db}?mode=ro", uri=True)
    sb_total, sb_distinct = sb.execute(
        "SELECT count(*), count(DISTINCT recipient) FROM messages "
        "WHERE kind = 'sms' AND sender = 'Bench'"
    ).fetchone()
    sb_dupes = sb.execute(
        "SELECT count(*) FROM (SELECT recipient FROM messages WHERE kind = 'sms' AND "
        "sender = 'Bench' GROUP BY recipient HAVING count(*) > 1)"
    ).fetchone()[0]
    sb.close()

    def rss_at(fraction: float) -> str:
        target = fraction * total
        hit = next((s for s in samples if s[1] >= target), samples[-1] if samples else None)
        return f"{hit[2]:.0f} MB (t={hit[0]:.0f} s)" if hit else "-"

    peak = max((s[2] for s in samples), default=0.0)
    peak_total = max((s[3] for s in samples), default=0.0)
    out = io.StringIO()
    p = lambda *a: print(*a, file=out)  # noqa: E731
    p()
    p(f"=== Campaign, {created:,} recipients · {common.machine()}")
    p(f"({quiet} before the run)")
    p(f"sandbox ceiling (POST /a1/sms alone, 4 threads)  {probe:,.0f} sends/s")
    p(f"configured rate (CAMPAIGN_PROVIDER_RATE)          {rate}/s, claim batch {args.batch}, "
      f"celery -c {args.concurrency}, soft time limit {args.soft_time_limit} s")  # fmt: skip
    p(f"recipients_create                                 {create_s:.2f} s "
      f"({created / create_s:,.0f} rows/s)")  # fmt: skip
    p(f"launch (recipients_create + status update)        {launch_s:.2f} s")
    p(f"sending: first → last send                        {span:.1f} s for {sent_rows:,} "
      f"sent; loop wall {wall:.0f} s; campaign status {launched[2]}")  # fmt: skip
    p(f"sends/s achieved                                  {achieved:.1f}/s = "
      f"{achieved / rate:.0%} of {rate}/s (steady-state median of 1-s samples "
      f"{statistics.median(steady) if steady else 0:.0f}/s, min "
      f"{min(steady) if steady else 0}/s)")  # fmt: skip
    p(f"campaign_run tasks enqueued                       {enqueued}")
    durations = task_durations()
    if durations:
        over = sum(1 for d in durations if d > 240)
        p(f"campaign_run durations (worker log)               {len(durations)} finished, longest "
          f"{max(durations):.1f} s; {over} ran past 240 s (the shipped soft time limit, equal to "
          f"max_seconds: each of those would have been interrupted mid-batch)")  # fmt: skip
    try:
        log = (common.LOG_DIR / "campaign-worker.log").read_text(errors="replace")
    except OSError:
        log = ""
    p(f"soft time limit hits in the worker log            {log.count('Soft time limit')}; "
      f"tasks that raised {log.count('raised unexpected')}")  # fmt: skip
    p(f"worker RSS, largest child: peak {peak:.0f} MB; at 10% {rss_at(0.1)}, 50% {rss_at(0.5)}, "
      f"100% {rss_at(1.0)}; main + children peak {peak_total:.0f} MB")  # fmt: skip
    p(f"final statuses                                    {dict(sorted(final.items()))}")
    p(
        f"unknown {final.get('unknown', 0)}, failed {final.get('failed', 0)}, "
        f"left in sending {final.get('sending', 0)}, pending {final.get('pending', 0)}"
    )
    p(f"duplicates at the sandbox                         {sb_total - sb_distinct} "
      f"({sb_total:,} SMS from 'Bench' to {sb_distinct:,} recipients; {sb_dupes} recipients "
      f"with > 1)")  # fmt: skip
    p(
        f"app: rows with an elks id {elks_ids:,}, distinct {distinct_ids:,}; sandbox accepted "
        f"{sb_total:,} vs app sent {sent_rows:,} (difference = sends the app did not record)"
    )
    print(out.getvalue())
    common.LOG_DIR.mkdir(parents=True, exist_ok=True)
    (common.LOG_DIR / "campaign-result.txt").write_text(out.getvalue())
    progress = [(round(t), d, round(r)) for t, d, r, _ in samples]
    (common.LOG_DIR / "campaign-samples.json").write_text(json.dumps(progress))


if __name__ == "__main__":
    main()
