"""Inbound SMS: from the webhook POST to the message being visible, with a real Celery worker.

    .venv/bin/python bench/inbound_latency.py           # about 1 minute

Starts gunicorn (sync, 4 workers) and `celery -A config worker --concurrency 2` on Redis db 14,
posts N inbound SMS webhooks at a steady rate, and polls PostgreSQL from this process for each
message (the Message row and its conversation are written in the event's transaction, so a
row seen here is what the inbox would show on its next poll). Prints p50/p95/max of
visible - posted, and of the pieces: the webhook answer, received → processed (event rows).
Prints figures; asserts nothing.
"""

from __future__ import annotations

import argparse
import http.client
import threading
import time
import uuid
from typing import TYPE_CHECKING
from urllib.parse import urlencode

import _common as common

if TYPE_CHECKING:
    import subprocess

NUMBER = "+46766861475"


def seed() -> str:
    from django_scopes import scopes_disabled

    from numbers.models import PhoneNumber

    with scopes_disabled():
        tenant = common.bench_tenant("Bench Latency")
        # No forward, webhook URL or automatic reply: the handler only stores the message,
        # touches the conversation and checks stop words (nothing leaves the machine).
        number = PhoneNumber.objects.create(
            tenant=tenant,
            provider_id="n-bench",
            number=NUMBER,
            country="se",
            has_sms=True,
            status="active",
        )
    return number.hook_token


def wait_worker(timeout: float, proc: subprocess.Popen[bytes]) -> None:
    from config.celery_app import app

    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"the Celery worker exited; see {common.LOG_DIR}")
        if app.control.ping(timeout=1.0):
            return
    raise RuntimeError("the Celery worker did not answer a ping")


class Poster:
    """Posts webhooks at a fixed rate from one thread; records when each was sent/answered."""

    def __init__(self, port: int, path: str) -> None:
        self.port, self.path = port, path
        self.conn: http.client.HTTPConnection | None = None

    def post(self, event_id: str, n: int) -> tuple[float, float, int]:
        body = urlencode(
            {
                "id": event_id,
                "from": f"+4670{n % 50:07d}",
                "to": NUMBER,
                "message": f"Latency probe {n}",
                "direction": "incoming",
                "created": time.strftime("%Y-%m-%d %H:%M:%S", time.gmtime()) + ".000000",
            }
        ).encode()
        for attempt in range(2):
            if self.conn is None:
                self.conn = http.client.HTTPConnection(common.HOST, self.port, timeout=10)
            sent = time.time()
            try:
                self.conn.request(
                    "POST",
                    self.path,
                    body=body,
                    headers={"Content-Type": "application/x-www-form-urlencoded"},
                )
                response = self.conn.getresponse()
                response.read()
            except OSError:
                self.conn.close()
                self.conn = None
                if attempt:
                    raise
                continue
            if response.will_close:
                self.conn.close()
                self.conn = None
            return sent, time.time(), response.status
        raise RuntimeError("unreachable")


def run(
    port: int, token: str, *, n: int, rate: float, prefix: str, poll: float, posters: int = 4
) -> dict:
    """Post n events at `rate`/s and poll until each is visible (or 60 s after the last).

    `posters` threads share the schedule (event i is due at start + i/rate), so a slow
    answer does not lower the rate (until every poster waits for an answer: then the
    "posted" rate printed is below --rate; add posters).
    """
    posted: dict[str, float] = {}
    answered: dict[str, float] = {}
    statuses: dict[int, int] = {}
    lock = threading.Lock()
    done_posting = threading.Event()

    start = time.monotonic() + 0.05
    finished = []

    def post_some(k: int) -> None:
        poster = Poster(port, f"/hooks/elks/{token}/sms/")
        try:
            for i in range(k, n, posters):
                delay = start + i / rate - time.monotonic()
                if delay > 0:
                    time.sleep(delay)
                event_id = f"{prefix}-{i}"
                sent, got, status = poster.post(event_id, i)
                with lock:
                    posted[event_id] = sent
                    answered[event_id] = got
                    statuses[status] = statuses.get(status, 0) + 1
        finally:
            with lock:
                finished.append(k)
                if len(finished) == posters:
                    done_posting.set()

    threads = [threading.Thread(target=post_some, args=(k,)) for k in range(posters)]
    visible: dict[str, float] = {}
    polls = 0
    with common.pg_connect() as conn:
        for thread in threads:
            thread.start()
        give_up = None
        while True:
            with lock:
                waiting = [e for e in posted if e not in visible]
            if waiting:
                rows = conn.execute(
                    "SELECT elks_id FROM messaging_message WHERE elks_id = ANY(%s)", [waiting]
                ).fetchall()
                polls += 1
                now = time.time()
                for (elks_id,) in rows:
                    visible[elks_id] = now
            if done_posting.is_set():
                if len(visible) == len(posted):
                    break
                give_up = give_up or time.monotonic() + 60
                if time.monotonic() > give_up:
                    break
            time.sleep(poll)
        for thread in threads:
            thread.join()
        events = conn.execute(
            "SELECT dedupe_key, extract(epoch FROM received), extract(epoch FROM processed), "
            "status FROM providers_webhookevent WHERE dedupe_key LIKE %s",
            [prefix + "-%"],
        ).fetchall()
    return {
        "posted": posted,
        "answered": answered,
        "visible": visible,
        "statuses": statuses,
        "events": events,
        "polls": polls,
    }


def processing_breakdown(token: str, n: int) -> None:
    """In this process, no broker: the cost of processing one stored inbound SMS event."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext
    from django_scopes import scopes_disabled

    from numbers.models import PhoneNumber
    from providers.models import WebhookEvent
    from providers.services import webhook_process, webhook_store

    with scopes_disabled():
        number = PhoneNumber.objects.get(hook_token=token)
    run = uuid.uuid4().hex[:6]
    for i in range(n + 20):
        webhook_store(
            provider="elks",
            kind="sms",
            dedupe_key=f"bd{run}-{i}",
            payload={
                "id": f"bd{run}-{i}",
                "from": f"+4670{i % 50:07d}",
                "to": NUMBER,
                "message": f"Breakdown {i}",
                "direction": "incoming",
                "created": "2025-01-01 12:00:00.000000",
            },
            tenant_id=number.tenant_id,
            number_id=number.pk,
        )
    ids = list(
        WebhookEvent.objects.filter(dedupe_key__startswith=f"bd{run}-")
        .order_by("id")
        .values_list("id", flat=True)
    )
    for event_id in ids[:19]:  # warm up
        webhook_process(event_id)
    with CaptureQueriesContext(connection) as captured:
        webhook_process(ids[19])
    statements = [q["sql"].split()[0] for q in captured.captured_queries]
    wall, cpu = time.perf_counter(), time.process_time()
    for event_id in ids[20:]:
        webhook_process(event_id)
    wall = (time.perf_counter() - wall) / n * 1000
    cpu = (time.process_time() - cpu) / n * 1000
    kinds = {k: statements.count(k) for k in dict.fromkeys(statements)}
    print(
        f"processing one inbound SMS in-process (webhook_process, {n} events): {wall:.1f} ms "
        f"wall, {cpu:.1f} ms CPU, {len(statements)} statements "
        f"({', '.join(f'{v} {k}' for k, v in kinds.items())}); "
        f"so 2 worker processes top out near {2000 / wall:.0f} events/s on 2 idle cores"
    )


def summary(label: str, values_s: list[float]) -> str:
    v = sorted(values_s)
    if not v:
        return f"{label:<34} (none)"
    p = common.percentile
    return (
        f"{label:<34} p50 {p(v, 50) * 1000:7.0f} ms   p95 {p(v, 95) * 1000:7.0f} ms   "
        f"max {v[-1] * 1000:7.0f} ms   (n={len(v)})"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("-n", type=int, default=200, help="webhooks to post (max 5000)")
    parser.add_argument("--rate", type=float, default=20.0, help="webhooks per second")
    parser.add_argument("--poll", type=float, default=0.01, help="seconds between DB polls")
    parser.add_argument("--posters", type=int, default=4, help="threads posting webhooks")
    parser.add_argument("--concurrency", type=int, default=2, help="Celery worker processes")
    parser.add_argument("--workers", type=int, default=4, help="gunicorn sync workers")
    parser.add_argument("--wait-quiet", type=float, default=180)
    parser.add_argument(
        "--breakdown", type=int, default=200, help="events processed in-process at the end; 0 skips"
    )
    parser.add_argument("--keep-db", action="store_true", help="do not drop the database")
    args = parser.parse_args()
    args.n = min(args.n, 5000)

    print("Inbound-to-visible latency benchmark ·", common.machine())
    common.recreate_database()
    common.flush_redis()
    common.django_setup()
    token = seed()
    env = common.bench_env()
    port = common.free_port()
    server = common.start(
        "gunicorn-latency", common.gunicorn_argv(port, "sync", args.workers, 1), env
    )
    worker = common.start(
        "celery-worker",
        common.celery_worker_argv(f"bench-{uuid.uuid4().hex[:6]}", concurrency=args.concurrency),
        env,
    )
    try:
        common.wait_http(f"http://{common.HOST}:{port}/healthz", proc=server)
        wait_worker(60, worker)
        quiet = common.wait_quiet(args.wait_quiet)
        # Warm up: imports, connections, the first drain of each worker process.
        run(port, token, n=10, rate=10, prefix=f"warm{uuid.uuid4().hex[:4]}", poll=args.poll)
        prefix = f"lat{uuid.uuid4().hex[:6]}"
        started = time.monotonic()
        with common.ForeignCPU() as foreign:
            r = run(
                port,
                token,
                n=args.n,
                rate=args.rate,
                prefix=prefix,
                poll=args.poll,
                posters=args.posters,
            )
        elapsed = time.monotonic() - started
    finally:
        common.stop(worker)
        common.stop(server)

    posted, answered, visible = r["posted"], r["answered"], r["visible"]
    print(
        f"gunicorn sync -w {args.workers}, celery prefork --concurrency {args.concurrency}; "
        f"{args.n} webhooks at {args.rate:g}/s; DB polled every {args.poll * 1000:.0f} ms "
        f"({r['polls']} polls in {elapsed:.1f} s); {quiet} before, other processes used "
        f"{foreign.share:.0%} of the cores during the run"
    )
    print(f"answers: {r['statuses']}; visible {len(visible)} of {len(posted)}")
    print(summary("webhook answer (POST → 200)", [answered[e] - posted[e] for e in posted]))
    events = {
        key: (received, processed, status) for key, received, processed, status in r["events"]
    }
    print(
        summary(
            "stored → processed (event rows)",
            [float(p - rc) for rc, p, _s in events.values() if p is not None],
        )
    )
    print(
        summary(
            "visible - posted (end to end)",
            [visible[e] - posted[e] for e in posted if e in visible],
        )
    )
    done = [(float(rc), float(p)) for rc, p, _s in events.values() if p is not None]
    if done:
        span = max(p for _rc, p in done) - min(rc for rc, _p in done)
        sent_span = max(posted.values()) - min(posted.values())
        print(
            f"rates: posted {len(posted) / max(sent_span, 1e-3):.0f}/s; processed {len(done)} "
            f"in {span:.1f} s from the first stored to the last processed = "
            f"{len(done) / max(span, 1e-3):.0f}/s (a backlog builds when posting is faster)"
        )
    statuses: dict[str, int] = {}
    for _rc, _p, s in events.values():
        statuses[s] = statuses.get(s, 0) + 1
    print(f"event rows: {statuses}")
    late = sorted(((visible.get(e, float("inf")) - posted[e]), e) for e in posted)[-3:]
    print("slowest: " + ", ".join(f"{e} {d * 1000:.0f} ms" for d, e in late))
    vals = sorted(visible[e] - posted[e] for e in posted if e in visible)
    p95 = common.percentile(vals, 95) if vals else float("inf")
    print(f"Target: p95 < 2 s -> {p95 * 1000:.0f} ms")
    print(
        "Note: the inbox page polls every 2 s (hx-trigger in templates/messaging/inbox.html), "
        "so a person sees a message 0 to 2 s after it is visible here."
    )
    if args.breakdown:
        processing_breakdown(token, min(args.breakdown, 2000))
    if not args.keep_db:
        common.drop_database()


if __name__ == "__main__":
    main()
