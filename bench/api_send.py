"""POST /a1/sms and POST /api/v1/messages under gunicorn at 32 connections, beside the trivial view.

    .venv/bin/python bench/api_send.py                  # about 4 minutes

What it does (see docs/bench.md, "Tenant API"):
  1. creates and migrates `switchboard_bench`, flushes Redis db 14, starts the 46elks sandbox
     as its own process (SQLite in /dev/shm);
  2. creates a tenant with console.tenants.tenant_create (a real sandbox subaccount), rents an
     SMS number at the sandbox, gives the tenant a spending limit out of the way and raises its
     API rate limits above what the machine can serve, and creates an API key;
  3. starts gunicorn with production settings (DEBUG off, sync workers) and NO Celery worker:
     an accepted send is queued (Message row, spend reserved, task published to Redis) and
     answered, so the upstream call is off the request path;
  4. wrk at 32 connections, in interleaved rounds: GET /healthz (the trivial view), POST /a1/sms
     (form-encoded, HTTP Basic, a unique recipient per request) and POST /api/v1/messages (JSON,
     same key); requests/s, p50/p99, and the ratio to the trivial view of the same round (the
     lowest round is reported);
  5. then starts a Celery worker on the `sending` queue against the sandbox and waits until no
     message is queued or in flight, and checks "every accepted request sent exactly once":
     messages in the app = 2xx answers counted by wrk, each with one 46elks id, and the sandbox
     holds exactly one SMS per recipient;
  6. separately, the upstream call alone: the sandbox's POST /a1/sms from 4 threads (its ceiling),
     and the drain rate of the worker.
Prints figures; asserts nothing.
"""

from __future__ import annotations

import argparse
import base64
import os
import sqlite3
import time
import uuid
from pathlib import Path
from typing import Any

import _common as common
from campaign import SANDBOX_PASSWORD, SANDBOX_USER, sandbox_start

# One recipient prefix per load phase (+46 70P, then the wrk thread and a 5-digit counter: a
# valid Swedish mobile number), so every request in the run has its own recipient.
PHASE_PREFIXES = [f"+4670{phase}" for phase in range(10)]

LUA = r"""
function init(args)
  mode = args[1]
  prefix = args[2]
  from = args[3]
  auth = args[4]
  counter, ok, bad = 0, 0, 0
  wrk.method = "POST"
  wrk.headers["Authorization"] = auth
  if mode == "a1" then
    wrk.headers["Content-Type"] = "application/x-www-form-urlencoded"
  else
    wrk.headers["Content-Type"] = "application/json"
  end
end
function request()
  counter = counter + 1
  local to = prefix .. tid .. string.format("%05d", counter)
  local body
  if mode == "a1" then
    body = "from=" .. from:gsub("+", "%%2B") .. "&to=" .. to:gsub("+", "%%2B")
      .. "&message=Your+code+is+" .. counter
  else
    body = '{"from": "' .. from .. '", "to": "' .. to .. '", "body": "Your code is '
      .. counter .. '"}'
  end
  return wrk.format(nil, nil, nil, body)
end
"""

GET_LUA = r"""
function init(args)
  ok, bad = 0, 0
end
"""


def seed() -> tuple[Any, str, str]:
    """The tenant, its number and an API key's Authorization header."""
    from django_scopes import scope, scopes_disabled

    from accounts.models import User
    from api.services import key_create, settings_change
    from billing.models import BillingAccount
    from console.tenants import tenant_create
    from numbers.models import NumberPrice
    from numbers.services import number_rent

    staff = User.objects.create_superuser("staff@bench.test", "bench-password-123")
    tenant = tenant_create(
        name="Bench API",
        usage_limit=10**12,
        owner_email="owner@bench-api.test",
        actor=staff,
        request=None,
    ).tenant
    BillingAccount.objects.filter(tenant=tenant).update(monthly_limit=10**14)
    NumberPrice.objects.create(country="se", category="mobile", monthly_price=250_000)
    with scope(tenant=tenant.pk):
        number = number_rent(
            tenant=tenant,
            country="se",
            capabilities=["sms"],
            category="mobile",
            request_key=uuid.uuid4(),
            actor=staff,
        )
    settings_change(
        tenant=tenant,
        actor=staff,
        key_rate=100_000,
        key_burst=100_000,
        tenant_rate=100_000,
        tenant_burst=100_000,
    )
    with scopes_disabled():
        made = key_create(tenant=tenant, label="bench", scopes=["send", "read"], actor=staff)
    raw = f"{made.key.key_id}:{made.secret}".encode()
    return tenant, number.number, "Basic " + base64.b64encode(raw).decode()


def load(
    url: str, mode: str, *, prefix: str, sender: str, auth: str, seconds: int, conns: int
) -> dict[str, float]:
    if mode == "get":
        return common.wrk_run(
            url, lua=GET_LUA, args=[], duration=seconds, threads=min(4, conns), conns=conns
        )
    return common.wrk_run(
        url,
        lua=LUA,
        args=[mode, prefix, sender, auth],
        duration=seconds,
        threads=min(4, conns),
        conns=conns,
    )


def app_counts(tenant_id: int) -> dict[str, int]:
    with common.pg_connect() as conn:
        rows = conn.execute(
            "SELECT status, count(*) FROM messaging_message WHERE tenant_id = %s GROUP BY status",
            [tenant_id],
        ).fetchall()
    return {status: n for status, n in rows}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--duration", type=int, default=15, help="seconds per measured load")
    parser.add_argument("--warmup", type=int, default=3)
    parser.add_argument("--connections", type=int, default=32)
    parser.add_argument("--workers", type=int, default=4, help="gunicorn sync workers")
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--drain-minutes", type=float, default=10.0)
    parser.add_argument("--wait-quiet", type=float, default=120)
    parser.add_argument("--keep-db", action="store_true")
    args = parser.parse_args()
    args.rounds = max(1, min(args.rounds, 2))

    print("Tenant API send benchmark ·", common.machine())
    sandbox_port = common.free_port()
    sandbox_db = f"/dev/shm/switchboard-bench-api-sandbox-{os.getpid()}.sqlite3"
    extra = {
        "ELKS_API_URL": f"http://{common.HOST}:{sandbox_port}/a1",
        "ELKS_USERNAME": SANDBOX_USER,
        "ELKS_PASSWORD": SANDBOX_PASSWORD,
        "PUBLIC_BASE_URL": "http://127.0.0.1:9",  # closed: the sandbox's reports fail at once
    }
    try:
        run(args, sandbox_port, sandbox_db, extra)
    finally:
        common.stop_all()
        for suffix in ("", "-journal", "-wal", "-shm"):
            Path(sandbox_db + suffix).unlink(missing_ok=True)
        if not args.keep_db:
            common.drop_database()


def run(
    args: argparse.Namespace, sandbox_port: int, sandbox_db: str, extra: dict[str, str]
) -> None:
    common.recreate_database()
    common.flush_redis()
    sandbox_start(sandbox_port, sandbox_db, balance=10**14)
    common.django_setup(**extra)
    tenant, sender, auth = seed()
    print(f"Tenant {tenant.slug}, number {sender} (rented at the sandbox), API key with send/read")

    port = common.free_port()
    base = f"http://{common.HOST}:{port}"
    server = common.start(
        "gunicorn-api",
        common.gunicorn_argv(port, "sync", args.workers, 1),
        common.bench_env(**extra),
    )
    common.wait_http(base + "/healthz", proc=server)
    quiet = common.wait_quiet(args.wait_quiet)
    print(f"gunicorn sync -w {args.workers} on {base}; wrk 4 threads, {args.connections} "
          f"connections, {args.duration} s per load after {args.warmup} s warm-up; {quiet}")  # fmt: skip

    phases = iter(PHASE_PREFIXES)
    answered = 0
    rounds: list[dict[str, Any]] = []
    for n in range(args.rounds):
        result: dict[str, Any] = {}
        for name, path, mode in (
            ("trivial", "/healthz", "get"),
            ("a1", "/a1/sms", "a1"),
            ("v1", "/api/v1/messages", "v1"),
        ):
            prefix = next(phases) if mode != "get" else ""
            if n == 0:  # warm-up: the first round only, its sends counted like the others
                warm = load(base + path, mode, prefix=prefix, sender=sender, auth=auth,
                            seconds=args.warmup, conns=args.connections)  # fmt: skip
                answered += int(warm["ok"]) if mode != "get" else 0
                prefix = next(phases) if mode != "get" else ""
            figures = load(base + path, mode, prefix=prefix, sender=sender, auth=auth,
                           seconds=args.duration, conns=args.connections)  # fmt: skip
            figures["rps"] = figures["requests"] / figures["seconds"]
            if mode != "get":
                answered += int(figures["ok"])
            result[name] = figures
        for name in ("a1", "v1"):
            result[f"{name}_ratio"] = result[name]["rps"] / result["trivial"]["rps"]
        rounds.append(result)
        print(f"  round {n + 1}: trivial {result['trivial']['rps']:.0f} req/s; "
              f"/a1/sms {result['a1']['rps']:.0f} req/s ({result['a1_ratio']:.2f}x, p99 "
              f"{result['a1']['p99']:.1f} ms, {result['a1']['bad']:.0f} non-2xx); "
              f"/api/v1/messages {result['v1']['rps']:.0f} req/s ({result['v1_ratio']:.2f}x, "
              f"p99 {result['v1']['p99']:.1f} ms, {result['v1']['bad']:.0f} non-2xx)")  # fmt: skip
    common.stop(server)

    queued = app_counts(tenant.pk)
    stored = sum(queued.values())
    # wrk stops with requests in flight that the server still completes: its count is a lower
    # bound. The request log (api.ApiRequest) has every answer the server gave.
    with common.pg_connect() as conn:
        accepted = conn.execute(
            "SELECT count(*) FROM api_apirequest WHERE tenant_id = %s AND method = 'POST' "
            "AND status BETWEEN 200 AND 299",
            [tenant.pk],
        ).fetchone()[0]
    print(f"Answered 2xx: {accepted:,} by the request log ({answered:,} seen by wrk); "
          f"messages in the app: {stored:,} {queued}")  # fmt: skip

    # --- the upstream call, off the request path: a worker drains the queue ---------------
    worker = common.start(
        "api-send-worker",
        common.celery_worker_argv("bench-api", concurrency=2, queues="sending"),
        common.bench_env(**extra),
    )
    started = time.monotonic()
    deadline = started + args.drain_minutes * 60
    counts = queued
    while time.monotonic() < deadline:
        time.sleep(2)
        counts = app_counts(tenant.pk)
        waiting = counts.get("queued", 0) + counts.get("sending", 0)
        if worker.poll() is not None or waiting == 0:
            break
    drained = time.monotonic() - started
    common.stop(worker)
    sent = counts.get("created", 0) + counts.get("sent", 0) + counts.get("delivered", 0)

    with common.pg_connect() as conn:
        ids, distinct = conn.execute(
            "SELECT count(elks_id), count(DISTINCT elks_id) FROM messaging_message "
            "WHERE tenant_id = %s",
            [tenant.pk],
        ).fetchone()
    sb = sqlite3.connect(f"file:{sandbox_db}?mode=ro", uri=True)
    sb_total, sb_recipients = sb.execute(
        "SELECT count(*), count(DISTINCT recipient) FROM messages WHERE kind = 'sms' "
        "AND direction = 'outgoing'"
    ).fetchone()
    sb.close()

    low_a1 = min(rounds, key=lambda r: r["a1_ratio"])
    low_v1 = min(rounds, key=lambda r: r["v1_ratio"])
    print()
    print("Figures (the round with the lower ratio for each endpoint):")
    for name, row in (("a1", low_a1), ("v1", low_v1)):
        label = "POST /a1/sms" if name == "a1" else "POST /api/v1/messages"
        f, t = row[name], row["trivial"]
        print(f"  {label:<24} {f['rps']:7.0f} req/s  p50 {f['p50']:6.1f} ms  p99 {f['p99']:6.1f} ms"
              f"  ratio {row[name + '_ratio']:.2f}x of trivial ({t['rps']:.0f} req/s, p99 "
              f"{t['p99']:.1f} ms)  non-2xx {f['bad']:.0f}, socket errors {f['errors']:.0f}")  # fmt: skip
    print(f"  drain: {sent:,} sent by a 2-process worker in {drained:.0f} s "
          f"({sent / max(drained, 0.001):.0f}/s); left {counts}")  # fmt: skip
    print(f"  exactly once: 2xx answers {accepted:,} = messages {stored:,}: "
          f"{'yes' if accepted == stored else 'NO'}; 46elks ids {ids:,} (distinct {distinct:,}); "
          f"sandbox SMS {sb_total:,} to {sb_recipients:,} recipients: "
          f"{'yes' if sb_total == sb_recipients == ids == stored else 'NO'}")  # fmt: skip
    ok_ratio = low_a1["a1_ratio"] >= 0.3 and low_v1["v1_ratio"] >= 0.3
    ok_p99 = low_a1["a1"]["p99"] < 100 and low_v1["v1"]["p99"] < 100
    print(f"Targets: ratio >= 0.3x -> {'met' if ok_ratio else 'NOT met'}; p99 < 100 ms -> "
          f"{'met' if ok_p99 else 'NOT met'}")  # fmt: skip


if __name__ == "__main__":
    main()
