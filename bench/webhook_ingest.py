"""Inbound webhook ingestion under gunicorn, against the trivial view (/healthz) as baseline.

    .venv/bin/python bench/webhook_ingest.py            # about 4 minutes

What it does (see docs/bench.md): creates and migrates the `switchboard_bench` database,
flushes Redis db 14, creates one tenant and one number, then
  1. an in-process breakdown (no HTTP): the cost of each piece of the webhook path per request;
  2. gunicorn with production settings (DEBUG off) and, for each worker configuration, a
     fixed-duration load on GET /healthz and on POST /hooks/elks/<token>/sms/ with a unique
     46elks id per request (wrk with a Lua script, or a bounded Python client without wrk),
     in interleaved rounds (the lowest ratio is reported); requests/s, p50/p99 latency, the
     ratio webhook/trivial, and the events found in the database against the requests wrk
     saw answered.
No Celery worker runs: the wake publish goes to Redis and events stay pending (store first).
Prints figures; asserts nothing.
"""

from __future__ import annotations

import argparse
import http.client
import shutil
import sys
import threading
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from io import BytesIO
from pathlib import Path
from typing import Any
from urllib.parse import urlencode, urlsplit

import _common as common

NUMBER = "+46766861475"

# Unique 46elks ids per request: <run prefix>t<thread>-<counter> (wrk_run adds the harness).
LUA = r"""
function init(args)
  prefix = (args[1] or "s") .. "t" .. tid .. "-"
  mode = args[2] or "get"
  counter, ok, bad = 0, 0, 0
  if mode == "post" then
    wrk.method = "POST"
    wrk.headers["Content-Type"] = "application/x-www-form-urlencoded"
  end
end
function request()
  if mode ~= "post" then
    return wrk.format()
  end
  counter = counter + 1
  local body = "id=" .. prefix .. counter
    .. "&from=%2B4670" .. string.format("%07d", counter % 500)
    .. "&to=%2B46766861475&message=Hello+from+the+bench+" .. counter
    .. "&direction=incoming&created=2025-01-01+12%3A00%3A00.000000"
  return wrk.format(nil, nil, nil, body)
end
"""


@dataclass
class Load:
    requests: int  # completed (answered) requests
    ok: int  # 2xx answers
    bad: int  # other answers
    errors: int  # socket errors and timeouts
    seconds: float
    p50_ms: float
    p99_ms: float
    client: str
    foreign: float = 0.0  # share of the cores other processes used meanwhile
    prefix: str = ""
    cpu: dict[str, float] | None = None  # CPU seconds per group (see ForeignCPU)

    @property
    def rps(self) -> float:
        return self.requests / self.seconds if self.seconds else 0.0


# --- load generators ------------------------------------------------------------------------


def run_wrk(url: str, *, mode: str, prefix: str, duration: int, threads: int, conns: int) -> Load:
    r = common.wrk_run(
        url, lua=LUA, args=[prefix, mode], duration=duration, threads=threads, conns=conns
    )
    return Load(
        requests=int(r["requests"]),
        ok=int(r["ok"]),
        bad=int(r["bad"]),
        errors=int(r["errors"]),
        seconds=r["seconds"],
        p50_ms=r["p50"],
        p99_ms=r["p99"],
        client=f"wrk -t{threads} -c{conns}",
    )


def webhook_body(event_id: str, n: int) -> bytes:
    return urlencode(
        {
            "id": event_id,
            "from": f"+4670{n % 500:07d}",
            "to": NUMBER,
            "message": f"Hello from the bench {n}",
            "direction": "incoming",
            "created": "2025-01-01 12:00:00.000000",
        }
    ).encode()


def run_python(url: str, *, mode: str, prefix: str, duration: int, conns: int) -> Load:
    """Bounded fallback: `conns` threads, each one request at a time, for `duration` seconds.

    Much slower than wrk (the GIL and http.client share the 2 cores with the server), so its
    requests/s is a lower bound; at most 200,000 requests in all.
    """
    parsed = urlsplit(url)
    deadline = time.monotonic() + duration
    budget = threading.Semaphore(200_000)
    lock = threading.Lock()
    latencies: list[float] = []
    counts = {"ok": 0, "bad": 0, "errors": 0}

    def worker(tid: int) -> None:
        conn = http.client.HTTPConnection(parsed.hostname or common.HOST, parsed.port, timeout=5)
        local: list[float] = []
        ok = bad = errors = n = 0
        while time.monotonic() < deadline and budget.acquire(blocking=False):
            n += 1
            headers = {"Host": parsed.netloc}
            body = None
            if mode == "post":
                body = webhook_body(f"{prefix}t{tid}-{n}", n)
                headers["Content-Type"] = "application/x-www-form-urlencoded"
            start = time.perf_counter()
            try:
                conn.request("POST" if body else "GET", parsed.path, body=body, headers=headers)
                response = conn.getresponse()
                response.read()
                local.append(time.perf_counter() - start)
                if 200 <= response.status < 300:
                    ok += 1
                else:
                    bad += 1
                if response.will_close:
                    conn.close()
            except OSError:
                errors += 1
                conn.close()
        with lock:
            latencies.extend(local)
            counts["ok"] += ok
            counts["bad"] += bad
            counts["errors"] += errors

    started = time.monotonic()
    workers = [threading.Thread(target=worker, args=(i + 1,)) for i in range(conns)]
    for w in workers:
        w.start()
    for w in workers:
        w.join()
    elapsed = time.monotonic() - started
    latencies.sort()
    return Load(
        requests=len(latencies),
        ok=counts["ok"],
        bad=counts["bad"],
        errors=counts["errors"],
        seconds=elapsed,
        p50_ms=common.percentile(latencies, 50) * 1000,
        p99_ms=common.percentile(latencies, 99) * 1000,
        client=f"python ({conns} threads)",
    )


def load(
    url: str, *, mode: str, prefix: str, duration: int, conns: int, args: argparse.Namespace
) -> Load:
    if args.client == "wrk":
        threads = max(1, min(args.threads, conns))
        return run_wrk(
            url, mode=mode, prefix=prefix, duration=duration, threads=threads, conns=conns
        )
    return run_python(url, mode=mode, prefix=prefix, duration=duration, conns=conns)


# --- setup ----------------------------------------------------------------------------------


def seed() -> str:
    """One active tenant and one active SMS number; returns the number's hook token."""
    from django_scopes import scopes_disabled

    from numbers.models import PhoneNumber

    with scopes_disabled():
        tenant = common.bench_tenant("Bench Ingest")
        number = PhoneNumber.objects.create(
            tenant=tenant,
            provider_id="n-bench",
            number=NUMBER,
            country="se",
            has_sms=True,
            status="active",
        )
    return number.hook_token


def stored(prefix: str) -> int:
    with common.pg_connect() as conn:
        row = conn.execute(
            "SELECT count(*) FROM providers_webhookevent "
            "WHERE provider = 'elks' AND kind = 'sms' AND dedupe_key LIKE %s",
            [prefix + "%"],
        ).fetchone()
    return row[0]


# --- in-process breakdown -------------------------------------------------------------------


def breakdown(token: str, iterations: int) -> None:
    """Microseconds per request for each piece of the path, in this process (no HTTP, no load).

    The WSGI handler is the one gunicorn calls, so middleware, URL resolving and the view are
    all in; only the HTTP parsing and the socket are not.
    """
    import redis
    from django.conf import settings
    from django.core.cache import cache
    from django.core.handlers.wsgi import WSGIHandler
    from django.db import connection

    from numbers.selectors import forget_hook_numbers, number_for_hook_token
    from providers import wake
    from providers.services import webhook_store

    handler = WSGIHandler()
    path = f"/hooks/elks/{token}/sms/"

    def environ(method: str, path: str, body: bytes = b"") -> dict[str, object]:
        env: dict[str, object] = {
            "REQUEST_METHOD": method,
            "PATH_INFO": path,
            "QUERY_STRING": "",
            "SERVER_NAME": common.HOST,
            "SERVER_PORT": "8000",
            "HTTP_HOST": common.HOST,
            "REMOTE_ADDR": "127.0.0.1",
            "SERVER_PROTOCOL": "HTTP/1.1",
            "wsgi.url_scheme": "http",
            "wsgi.input": BytesIO(body),
            "wsgi.errors": sys.stderr,
        }
        if body:
            env["CONTENT_TYPE"] = "application/x-www-form-urlencoded"
            env["CONTENT_LENGTH"] = str(len(body))
        return env

    def call(env: dict[str, object]) -> None:
        status: list[str] = []
        # [arg-type] a lambda is a start_response to WSGI, not to the stubs' StartResponse protocol.
        response = handler(env, lambda s, h, exc=None: status.append(s))  # type: ignore[arg-type]  # a minimal WSGI start_response
        b"".join(response)
        response.close()
        if not status[0].startswith("200"):
            raise RuntimeError(f"{env['PATH_INFO']} answered {status[0]}")

    def timed(label: str, fn: Callable[[int], object], n: int = iterations) -> tuple[float, float]:
        for i in range(min(200, n)):  # warm up (connections, caches)
            fn(-i - 1)
        start, cpu = time.perf_counter(), time.process_time()
        for i in range(n):
            fn(i)
        us = (time.perf_counter() - start) / n * 1e6
        cpu_us = (time.process_time() - cpu) / n * 1e6
        print(f"  {label:<58} {us:8.0f} {cpu_us:8.0f}")
        return us, cpu_us

    run = uuid.uuid4().hex[:6]
    print(f"In-process cost per request ({iterations} iterations each, single thread, no HTTP):")
    print(f"  {'':<58} {'wall µs':>8} {'CPU µs':>8}")
    t_health = timed(
        "GET /healthz through the WSGI handler", lambda i: call(environ("GET", "/healthz"))
    )
    t_hook = timed(
        "POST webhook through the WSGI handler (as shipped)",
        lambda i: call(environ("POST", path, webhook_body(f"bd{run}-{i}", i))),
    )
    fast_path = "providers.middleware.ProviderCallbackMiddleware"
    full_middleware = settings.MIDDLEWARE
    settings.MIDDLEWARE = [m for m in full_middleware if m != fast_path]
    try:
        slow_handler = WSGIHandler()  # reads settings.MIDDLEWARE once, here
    finally:
        settings.MIDDLEWARE = full_middleware

    def slow_call(i: int) -> None:
        response = slow_handler(
            environ("POST", path, webhook_body(f"bm{run}-{i}", i)),
            lambda s, h, exc=None: None,  # type: ignore[arg-type]  # as in call() above
        )
        b"".join(response)
        response.close()

    t_mw = timed("  same through all 12 middleware (no fast path)", slow_call)

    def select_one(i: int) -> None:
        with connection.cursor() as c:
            c.execute("SELECT 1")

    t_rtt = timed("  one PostgreSQL round trip (SELECT 1)", select_one)
    number_for_hook_token(token, full=False)  # the process cache holds it now
    t_hit = timed(
        "  number lookup, kept by the process (the hot path)",
        lambda i: number_for_hook_token(token, full=False),
    )
    cached_for = settings.HOOK_NUMBER_CACHE_SECONDS
    settings.HOOK_NUMBER_CACHE_SECONDS = 0
    forget_hook_numbers()
    try:
        t_miss = timed(
            "    not kept: the lean SELECT (7 columns, no joins)",
            lambda i: number_for_hook_token(token, full=False),
        )
    finally:
        settings.HOOK_NUMBER_CACHE_SECONDS = cached_for
    timed(
        "    the full row calls use (3 tables, ~60 columns)",
        lambda i: number_for_hook_token(token),
    )
    payload: dict[str, object] = {"id": "x", "from": "+46700000001", "to": NUMBER, "message": "Hi"}
    wake._open(uuid.uuid4().hex, 600)  # as under load: a window is open and known
    wake._open_until = time.monotonic() + 600

    def store(i: int) -> None:
        webhook_store(provider="elks", kind="sms", dedupe_key=f"bs{run}-{i}", payload=payload)

    t_store = timed("  webhook_store: prepared INSERT … RETURNING (+ wake)", store)
    settings.WEBHOOK_PREPARED_INSERT = False
    try:
        t_noprep = timed(
            "    same with the INSERT bound client-side (not prepared)",
            lambda i: webhook_store(
                provider="elks", kind="sms", dedupe_key=f"bc{run}-{i}", payload=payload
            ),
        )
    finally:
        settings.WEBHOOK_PREPARED_INSERT = True
    t_known = timed("  wake, window known open (most events)", lambda i: wake.wake_processor())
    t_wake = timed(
        "  wake asking Redis (once per process per window)",
        lambda i: wake._open("bench-window", 600),
    )
    t_add = timed(
        "    one SET NX through Django's cache API instead",
        lambda i: cache.add("bench-window", 1, timeout=600),
    )
    wake.forget_window()
    redis.Redis.from_url(common.REDIS_URL).delete(wake.WINDOW_KEY)

    from providers.tasks import webhooks_drain

    def publish(i: int) -> None:
        webhooks_drain.apply_async(retry=False)

    t_pub = timed("  one Celery publish to Redis (at most 1/s)", publish, n=min(iterations, 500))
    redis.Redis.from_url(common.REDIS_URL).delete("celery")  # drop the queued publishes
    print(
        f"  → CPU per request: webhook {t_hook[1]:.0f} µs = {t_hook[1] / t_health[1]:.1f}x the "
        f"trivial view ({t_health[1]:.0f}); without the fast path {t_mw[1]:.0f}; number "
        f"lookup {t_hit[1]:.0f} kept vs {t_miss[1]:.0f} queried; store + wake "
        f"{t_store[1]:.0f} ({t_noprep[1]:.0f} unprepared); wake {t_known[1]:.0f} while the "
        f"window is known, {t_wake[1]:.0f} asking Redis ({t_add[1]:.0f} through the cache API)"
    )
    checks = connection.settings_dict.get("CONN_HEALTH_CHECKS")
    print(
        f"  → waits per request: CONN_HEALTH_CHECKS is {'on' if checks else 'off'} (on: one "
        f"SELECT 1 ≈ {t_rtt[0]:.0f} µs per request); the INSERT, its commit (fsync) and the "
        f"wake ≈ {t_store[0] - t_store[1]:.0f} µs; a Celery publish {t_pub[0]:.0f} µs "
        "(once per wake window)"
    )
    print(
        f"  → single-thread ceiling: trivial {1e6 / t_health[0]:.0f}/s, webhook "
        f"{1e6 / t_hook[0]:.0f}/s (ratio {t_health[0] / t_hook[0]:.2f})"
    )


# --- main -----------------------------------------------------------------------------------


@dataclass
class ServerState:
    """What might stall a round, read from PostgreSQL and /proc (see docs/bench.md)."""

    checkpoints: int = 0
    checkpoint_write_ms: float = 0.0
    checkpoint_sync_ms: float = 0.0
    wal_mb: float = 0.0
    wal_fpi: int = 0
    sessions: int = 0
    workers: frozenset[int] = frozenset()
    replaced: int = 0
    listen_drops: int = 0  # SYNs dropped at a full accept queue: each costs the client 1 s

    def since(self, before: ServerState) -> ServerState:
        return ServerState(
            checkpoints=self.checkpoints - before.checkpoints,
            checkpoint_write_ms=self.checkpoint_write_ms - before.checkpoint_write_ms,
            checkpoint_sync_ms=self.checkpoint_sync_ms - before.checkpoint_sync_ms,
            wal_mb=self.wal_mb - before.wal_mb,
            wal_fpi=self.wal_fpi - before.wal_fpi,
            sessions=self.sessions - before.sessions,
            replaced=len(before.workers - self.workers),
            listen_drops=self.listen_drops - before.listen_drops,
        )

    def __str__(self) -> str:
        checkpoint = (
            f"{self.checkpoints} checkpoint(s) (write {self.checkpoint_write_ms:.0f} ms, sync "
            f"{self.checkpoint_sync_ms:.0f} ms)"
            if self.checkpoints
            else "no checkpoint"
        )
        return (
            f"{checkpoint}, WAL {self.wal_mb:.1f} MB ({self.wal_fpi} full-page images), "
            f"{self.sessions} new PostgreSQL sessions, {self.replaced} gunicorn workers "
            f"replaced, {self.listen_drops} connections dropped at the listen queue"
        )


def listen_drops() -> int:
    """TcpExt ListenDrops from /proc/net/netstat (this machine, all sockets)."""
    try:
        lines = Path("/proc/net/netstat").read_text().splitlines()
    except OSError:
        return 0
    for names, values in zip(lines[::2], lines[1::2], strict=False):
        if names.startswith("TcpExt:"):
            row = dict(zip(names.split()[1:], values.split()[1:], strict=False))
            return int(row.get("ListenDrops", 0))
    return 0


def force_checkpoint() -> None:
    with common.pg_connect() as conn:
        conn.execute("CHECKPOINT")


def server_state(server_pid: int) -> ServerState:
    with common.pg_connect() as conn:
        checkpoints, write_ms, sync_ms = conn.execute(
            "SELECT checkpoints_timed + checkpoints_req, checkpoint_write_time, "
            "checkpoint_sync_time FROM pg_stat_bgwriter"
        ).fetchone()
        wal_bytes, wal_fpi = conn.execute("SELECT wal_bytes, wal_fpi FROM pg_stat_wal").fetchone()
        (sessions,) = conn.execute(
            "SELECT sessions FROM pg_stat_database WHERE datname = current_database()"
        ).fetchone()
    workers = set()
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if int(fields[1]) == server_pid:
            workers.add(int(stat.parent.name))
    return ServerState(
        listen_drops=listen_drops(),
        checkpoints=int(checkpoints),
        checkpoint_write_ms=float(write_ms),
        checkpoint_sync_ms=float(sync_ms),
        wal_mb=float(wal_bytes) / 1e6,
        wal_fpi=int(wal_fpi),
        sessions=int(sessions),
        workers=frozenset(workers),
    )


def parse_configs(values: list[str]) -> list[tuple[str, int, int, str]]:
    """'sync:4', 'gthread:2x8' or 'sync:4@nocache+noprep' → (class, workers, threads, what-if)."""
    configs = []
    for value in values:
        value, _, whatif = value.partition("@")
        kind, _, rest = value.partition(":")
        workers, _, threads = rest.partition("x")
        configs.append((kind, int(workers or 4), int(threads or 1), whatif.replace("+", ",")))
    return configs


def measure(
    label: str,
    config: tuple[str, int, int, str],
    token: str,
    args: argparse.Namespace,
) -> dict[str, Any]:
    """One gunicorn configuration: healthz and webhook at full concurrency, then at low."""
    kind, workers, threads, whatif = config
    port = common.free_port()
    base = f"http://{common.HOST}:{port}"
    hook = base + f"/hooks/elks/{token}/sms/"
    app = "whatif_wsgi:application" if whatif else "config.wsgi"
    server = common.start(
        f"gunicorn-{kind}-{workers}x{threads}{'-' + whatif.replace(',', '-') if whatif else ''}",
        common.gunicorn_argv(port, kind, workers, threads, app),
        common.bench_env(BENCH_WHATIF=whatif),
    )
    result: dict[str, Any] = {"label": label}
    try:
        common.wait_http(base + "/healthz", proc=server)
        result["quiet"] = common.wait_quiet(args.wait_quiet)
        run = uuid.uuid4().hex[:6]
        conns = args.connections

        def phase(url: str, mode: str, prefix: str, conns: int) -> Load:
            """Warm up, then measure; again (up to twice) if other processes took the CPU."""
            for attempt in range(3):
                if args.warmup:
                    load(
                        url,
                        mode=mode,
                        prefix=f"w{attempt}{prefix}",
                        duration=args.warmup,
                        conns=conns,
                        args=args,
                    )
                with common.ForeignCPU() as foreign:
                    measured = load(
                        url,
                        mode=mode,
                        prefix=f"{prefix}" if attempt == 0 else f"{prefix}r{attempt}",
                        duration=args.duration,
                        conns=conns,
                        args=args,
                    )
                measured.foreign = foreign.share
                measured.cpu = foreign.cpu
                measured.prefix = prefix if attempt == 0 else f"{prefix}r{attempt}"
                if (
                    foreign.share <= args.max_foreign
                    or attempt == 2
                    or not common.quiet_budget_left()
                ):
                    return measured
                print(
                    f"  ({label}: other processes used {foreign.share:.0%} of the cores "
                    "during the run; measuring again)"
                )
                common.wait_quiet(args.wait_quiet)
            raise AssertionError("unreachable")

        # Interleaved rounds: the machine's speed drifts by itself (the same trivial view
        # varies by ±20% minute to minute), so each round pairs the two endpoints back to back
        # and the round with the lower ratio is the one reported.
        rounds = []
        for n in range(args.rounds):
            trivial = phase(base + "/healthz", "get", f"g{n}", conns)
            before = server_state(server.pid)
            forced = None
            if n + 1 in args.checkpoint_rounds:
                # The experiment for a stalled round: a checkpoint in the middle of the load.
                forced = threading.Timer(args.warmup + args.duration / 3, force_checkpoint)
                forced.start()
            hooked = phase(hook, "post", f"s{run}{n}", conns)
            if forced is not None:
                forced.join()
            during = server_state(server.pid).since(before)
            time.sleep(1.0)  # let requests still in flight at the cut-off finish
            rounds.append((hooked.rps / trivial.rps, trivial, hooked, stored(hooked.prefix + "t")))
            print(
                f"  round {n + 1}: ratio {rounds[-1][0]:.2f}, webhook {hooked.rps:.0f} req/s, "
                f"p50 {hooked.p50_ms:.1f} ms, p99 {hooked.p99_ms:.1f} ms; during it: {during}"
                + (" [CHECKPOINT forced]" if forced is not None else "")
            )
        result["ratios"] = [r[0] for r in rounds]
        _, result["trivial"], result["hook"], result["stored"] = min(rounds, key=lambda r: r[0])
        result["lost"] = sum(max(0, r[2].ok - r[3]) for r in rounds)
        if args.low_connections and not whatif:  # the baseline code only
            low = args.low_connections
            result["trivial_low"] = phase(base + "/healthz", "get", "gl", low)
            result["hook_low"] = phase(hook, "post", f"l{run}", low)
            time.sleep(1.0)
            result["stored_low"] = stored(result["hook_low"].prefix + "t")
    finally:
        common.stop(server)
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--duration", type=int, default=15, help="seconds per measured load")
    parser.add_argument("--warmup", type=int, default=3, help="seconds of unmeasured load first")
    parser.add_argument("--threads", type=int, default=4, help="wrk threads")
    parser.add_argument("--connections", type=int, default=32)
    parser.add_argument(
        "--low-connections",
        type=int,
        default=4,
        help="also measure at this concurrency (service time without queueing; configurations "
        "without a what-if only); 0 to skip",
    )
    parser.add_argument(
        "--gunicorn",
        action="append",
        metavar="CLASS:WORKERS[xTHREADS]",
        help="worker configuration(s) to measure, e.g. sync:4 or gthread:2x8 (repeatable); "
        "default sync:4; append @nocache, @perevent, @fullmw, @noprep or @nowake (joined "
        "with +) to serve bench/whatif_wsgi.py's variants of the code",
    )
    parser.add_argument(
        "--rounds",
        type=int,
        default=2,
        help="interleaved healthz/webhook rounds at full concurrency; the lowest ratio counts",
    )
    parser.add_argument(
        "--checkpoint-rounds",
        default="",
        help="comma-separated rounds (1-based) in which a CHECKPOINT is forced a third of the "
        "way into the webhook load (the stall experiment of docs/bench.md)",
    )
    parser.add_argument("--client", choices=["auto", "wrk", "python"], default="auto")
    parser.add_argument("--breakdown", type=int, default=2000, help="iterations; 0 to skip")
    parser.add_argument(
        "--wait-quiet", type=float, default=180, help="max seconds to wait for idle cores"
    )
    parser.add_argument(
        "--max-foreign",
        type=float,
        default=0.10,
        help="measure a phase again when other processes used more than this share of the "
        "cores during it (at most 2 retries)",
    )
    parser.add_argument("--keep-db", action="store_true", help="do not drop the database")
    args = parser.parse_args()
    if args.client == "auto":
        args.client = "wrk" if shutil.which("wrk") else "python"
    args.duration = min(args.duration, 120)
    args.checkpoint_rounds = {int(x) for x in args.checkpoint_rounds.split(",") if x.strip()}
    configs = parse_configs(args.gunicorn or ["sync:4"])

    print("Webhook ingestion benchmark ·", common.machine())
    common.recreate_database()
    common.flush_redis()
    common.django_setup()
    token = seed()
    if args.breakdown:
        print(common.wait_quiet(args.wait_quiet))
        breakdown(token, args.breakdown)
        print()

    print(
        f"Load: {args.client}, {args.duration} s measured after {args.warmup} s warm-up per "
        f"phase, {args.connections} connections (and {args.low_connections}); 127.0.0.1 only; "
        "no Celery worker running."
    )
    results = []
    for config in configs:
        kind, workers, threads, whatif = config
        label = f"{kind} -w {workers}" + (f" --threads {threads}" if kind == "gthread" else "")
        label += f" [{whatif.replace(',', '+')}]" if whatif else ""
        results.append(measure(label, config, token, args))

    print()
    print(
        f"{'gunicorn':<30} {'endpoint':<9} {'conns':>5} {'req/s':>8} {'p50 ms':>8} "
        f"{'p99 ms':>8} {'other CPU':>9} {'non-2xx':>7}"
    )
    for r in results:
        for name, key, conns in (
            ("healthz", "trivial", args.connections),
            ("webhook", "hook", args.connections),
            ("healthz", "trivial_low", args.low_connections),
            ("webhook", "hook_low", args.low_connections),
        ):
            if key in r:
                x = r[key]
                print(
                    f"{r['label']:<30} {name:<9} {conns:>5} {x.rps:8.0f} {x.p50_ms:8.1f} "
                    f"{x.p99_ms:8.1f} {x.foreign:9.0%} {x.bad + x.errors:7d}"
                    + ("  <- FAILED REQUESTS, see the server log" if x.bad + x.errors else "")
                )
        ratio = r["hook"].rps / r["trivial"].rps
        line = f"{'':<30} ratio webhook/trivial = {ratio:.2f} at {args.connections} connections"
        if len(r["ratios"]) > 1:
            line += f" (lowest of {len(r['ratios'])} rounds: " + ", ".join(
                f"{x:.2f}" for x in r["ratios"]
            )
            line += ")"
        if "hook_low" in r:
            ratio_low = r["hook_low"].rps / r["trivial_low"].rps
            line += f", {ratio_low:.2f} at {args.low_connections}"
        print(line + f"  ({r['quiet']})")
    print()
    print(f"CPU per request at {args.connections} connections, in ms (from /proc; all processes):")
    print(
        f"{'gunicorn':<30} {'endpoint':<9} {'gunicorn':>8} {'postgres':>8} {'redis':>6} "
        f"{'wrk':>6} {'total':>6} {'cores busy':>10}"
    )
    for r in results:
        for name, key in (("healthz", "trivial"), ("webhook", "hook")):
            x = r[key]
            if not x.cpu or not x.requests:
                continue
            per = {g: v * 1000 / x.requests for g, v in x.cpu.items()}
            total = per["app"] + per["postgres"] + per["redis"] + per["bench"]
            busy = (sum(x.cpu.values()) - x.cpu["other"]) / x.seconds
            print(
                f"{r['label']:<30} {name:<9} {per['app']:8.2f} {per['postgres']:8.2f} "
                f"{per['redis']:6.2f} {per['bench']:6.2f} {total:6.2f} {busy:10.2f}"
            )
    print()
    for r in results:
        for key, skey in (("hook", "stored"), ("hook_low", "stored_low")):
            if key not in r:
                continue
            hook, n_stored = r[key], r[skey]
            extra = n_stored - hook.ok
            print(
                f"{r['label']} ({hook.client}): events stored = {n_stored}, requests sent = "
                f"{hook.requests} (2xx {hook.ok}), non-2xx = {hook.bad}, socket errors = "
                f"{hook.errors}; lost = {max(0, hook.ok - n_stored)}"
                + (f" ({extra} stored but unanswered at the cut-off)" if extra > 0 else "")
                + (
                    f"; lost in all {len(r['ratios'])} rounds = {r['lost']}"
                    if key == "hook" and len(r["ratios"]) > 1
                    else ""
                )
            )
        t = r["trivial"]
        print(f"{r['label']}: healthz non-2xx = {t.bad}, socket errors = {t.errors}")
    print()
    best = next((r for r in results if "[" not in r["label"]), results[0])
    ratio = best["hook"].rps / best["trivial"].rps
    print(
        f"Targets ({best['label']}): ratio >= 0.5 -> {ratio:.2f}; webhook p99 < 100 ms -> "
        f"{best['hook'].p99_ms:.1f} ms; nothing lost -> "
        f"{'yes' if best['stored'] >= best['hook'].ok and not best['lost'] else 'NO'}"
        + (
            f" (but {best['hook'].bad + best['hook'].errors} requests failed)"
            if best["hook"].bad + best["hook"].errors
            else ""
        )
    )
    print(f"Server logs: {common.LOG_DIR}")
    if not args.keep_db:
        common.drop_database()


if __name__ == "__main__":
    main()
