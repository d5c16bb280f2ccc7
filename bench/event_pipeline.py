"""Event pipeline: ingestion rate against processing rate, with the full inbound semantics.

    .venv/bin/python bench/event_pipeline.py             # about 3 minutes

One run, one database (see _common), one number that forwards every SMS to a phone, answers
automatically and posts to a customer webhook (stop words, opt-out ledger and conversation
update as always):
  1. in-process, no broker: the cost of one inbound SMS event processed one at a time
     (`webhook_process`, the path before batching) and in batches (`webhooks_process_batch`):
     ms of CPU and SQL statements per event;
  2. ingestion: gunicorn (sync, 4 workers) and no Celery worker, inbound SMS webhooks posted
     for --duration seconds on 32 connections: requests/s and p99 (events stay pending);
  3. processing: that backlog drained by `celery worker -Q webhooks --concurrency C` for each
     C in --concurrency (a fresh backlog of the same size, stored in-process, for every C
     after the first), one drain task per process, timed until nothing is pending.
The forwards and automatic replies are queued for the `sending` queue, which no worker here
consumes (in production other workers send them). Prints figures; asserts nothing.
"""

from __future__ import annotations

import argparse
import time
import uuid
from collections.abc import Callable
from typing import Any

import _common as common
from webhook_ingest import load

NUMBER = "+46766861475"


def seed() -> str:
    from django_scopes import scopes_disabled

    from messaging.models import MessagingSettings
    from numbers.models import PhoneNumber

    with scopes_disabled():
        tenant = common.bench_tenant("Bench Pipeline")
        MessagingSettings.objects.get_or_create(tenant=tenant)
        number = PhoneNumber.objects.create(
            tenant=tenant,
            provider_id="n-bench",
            number=NUMBER,
            country="se",
            has_sms=True,
            status="active",
            sms_forward_to="+46709999999",
            sms_autoreply_enabled=True,
            sms_autoreply_text="Thanks! We will answer within the hour.",
            sms_webhook_url="https://hooks.example.com/sms",
        )
    return number.hook_token


def store(token: str, prefix: str, n: int) -> None:
    """n pending inbound SMS events, as the webhook view stores them (500 senders)."""
    from django_scopes import scopes_disabled

    from numbers.models import PhoneNumber
    from providers.services import webhook_store

    with scopes_disabled():
        number = PhoneNumber.objects.get(hook_token=token)
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
            tenant_id=number.tenant_id,
            number_id=number.pk,
        )


class Statements:
    """Counts the SQL statements run (Django's query log stops at 9,000)."""

    def __init__(self) -> None:
        self.count = 0

    def __call__(
        self, execute: Callable[..., Any], sql: str, params: Any, many: bool, context: Any
    ) -> Any:
        self.count += 1
        return execute(sql, params, many, context)


def cost_per_event(token: str, n: int) -> None:
    """Part 1: one at a time against batches, on the same kind of events."""
    from django.db import connection
    from django_scopes import scopes_disabled

    from providers.models import WebhookEvent
    from providers.services import webhook_process, webhooks_process_batch

    store(token, "warm", 40)
    with scopes_disabled():
        webhooks_process_batch(size=40)
        store(token, "one", n)
        ids = list(
            WebhookEvent.objects.filter(dedupe_key__startswith="one-", status="pending")
            .order_by("id")
            .values_list("id", flat=True)
        )
        one = Statements()
        cpu, wall = time.process_time(), time.perf_counter()
        with connection.execute_wrapper(one):
            for event_id in ids:
                webhook_process(event_id)
        one_cpu = (time.process_time() - cpu) / n * 1000
        one_wall = (time.perf_counter() - wall) / n * 1000
        store(token, "batch", n)
        size = min(n, 500)
        many = Statements()
        cpu, wall = time.process_time(), time.perf_counter()
        with connection.execute_wrapper(many):
            while webhooks_process_batch(size=size):
                pass
        batch_cpu = (time.process_time() - cpu) / n * 1000
        batch_wall = (time.perf_counter() - wall) / n * 1000
    print(
        f"one at a time:     {one_cpu:5.2f} ms CPU, {one_wall:5.2f} ms wall, "
        f"{one.count / n:5.2f} statements per event"
    )
    print(
        f"batches of {size:<4}:   {batch_cpu:5.2f} ms CPU, {batch_wall:5.2f} ms wall, "
        f"{many.count / n:5.2f} statements per event "
        f"(x{one_cpu / max(batch_cpu, 1e-9):.1f} less CPU)"
    )


def drain(env: dict[str, str], concurrency: int, backlog: int) -> float:
    """Part 3: events/s for `concurrency` worker processes draining the pending backlog."""
    from config.celery_app import app

    worker = common.start(
        f"celery-pipeline-c{concurrency}",
        common.celery_worker_argv(
            f"pipeline-{uuid.uuid4().hex[:6]}",
            concurrency=concurrency,
            queues="webhooks",
            options=["--prefetch-multiplier", "1"],
        ),
        env,
    )
    try:
        deadline = time.monotonic() + 60
        while not app.control.ping(timeout=1.0):
            if worker.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(f"the Celery worker did not start; see {common.LOG_DIR}")
        started = time.monotonic()
        for _ in range(concurrency):
            app.send_task("providers.tasks.webhooks_drain", queue="webhooks")
        left = backlog
        while left:
            time.sleep(0.2)
            left = common.pending_events()
            if time.monotonic() - started > 600:
                print(f"  gave up with {left} pending")
                break
        elapsed = time.monotonic() - started
    finally:
        common.stop(worker)
    rate = (backlog - left) / elapsed
    print(
        f"processing, celery prefork -Q webhooks -c {concurrency}: {backlog - left} events "
        f"in {elapsed:.1f} s = {rate:.0f} events/s"
    )
    return rate


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--cost-events", type=int, default=1000, help="events for part 1")
    parser.add_argument("--duration", type=int, default=10, help="seconds of ingestion")
    parser.add_argument("--connections", type=int, default=32)
    parser.add_argument("--workers", type=int, default=4, help="gunicorn sync workers")
    parser.add_argument("--concurrency", default="2,1", help="worker processes to try, in order")
    parser.add_argument("--wait-quiet", type=float, default=120)
    parser.add_argument("--keep-db", action="store_true")
    args = parser.parse_args()

    print("Event pipeline benchmark ·", common.machine())
    common.recreate_database()
    common.flush_redis()
    common.django_setup()
    token = seed()
    env = common.bench_env()
    print(common.wait_quiet(args.wait_quiet))

    print("\n1. Cost of one inbound SMS event with the full semantics (in-process)")
    cost_per_event(token, args.cost_events)

    print(f"\n2. Ingestion: gunicorn sync -w {args.workers}, no worker, {args.connections} conns")
    before = common.pending_events()
    port = common.free_port()
    server = common.start(
        "gunicorn-pipeline", common.gunicorn_argv(port, "sync", args.workers, 1), env
    )
    try:
        common.wait_http(f"http://{common.HOST}:{port}/healthz", proc=server)
        url = f"http://{common.HOST}:{port}/hooks/elks/{token}/sms/"
        client = argparse.Namespace(client="python", threads=4)
        load(url, mode="post", prefix="ingwarm", duration=2, conns=args.connections, args=client)
        result = load(
            url,
            mode="post",
            prefix=f"ing{uuid.uuid4().hex[:4]}",
            duration=args.duration,
            conns=args.connections,
            args=client,
        )
    finally:
        common.stop(server)
    backlog = common.pending_events() - before
    ingest = result.ok / result.seconds
    print(
        f"ingestion: {result.ok} answered 2xx ({result.bad} other, {result.errors} errors) in "
        f"{result.seconds:.1f} s = {ingest:.0f}/s, p50 {result.p50_ms:.1f} ms, "
        f"p99 {result.p99_ms:.1f} ms ({result.client}); {backlog} events stored, pending"
    )

    print("\n3. Processing the backlog with the full semantics")
    rates = {}
    for i, c in enumerate(int(x) for x in args.concurrency.split(",")):
        if i:
            store(token, f"again{i}", backlog)
        rates[c] = drain(env, c, common.pending_events())
    for c, rate in rates.items():
        print(
            f"-c {c}: {rate:.0f} events/s = {rate / ingest:.2f}x the ingestion rate "
            f"(target >= 0.5x), {rate / 98:.1f}x the 98/s before batching"
        )
    if not args.keep_db:
        common.drop_database()


if __name__ == "__main__":
    main()
