"""The voice_start answer under gunicorn: requests/s, p50/p99, and every call stored.

    .venv/bin/python bench/voice_start.py                 # about 1 minute

Creates and migrates `switchboard_bench_voice` (Redis db 12, flushed), one tenant and one
active voice number routed to two forwards, then voicemail, with call recording on (the
longest plan voice_action builds), and runs gunicorn (production settings, DEBUG off,
`--workers 4` as in the README) on a free loopback port. Each load posts form-encoded
voice_start callbacks with a unique callid per request to /hooks/elks/<hook_token>/voice/
for --duration seconds (wrk with a Lua script, or a bounded Python client without wrk), then
counts the WebhookEvent voice_start rows and the Call rows of that load against the 2xx
answers. Prints figures; asserts nothing.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import time
import urllib.request
import uuid

os.environ.setdefault("BENCH_DB", "switchboard_bench_voice")
os.environ.setdefault("BENCH_REDIS", "redis://127.0.0.1:6379/12")

import _common as common

NUMBER = "+46766861475"

LUA = r"""
-- Unique callids per request: <run prefix>t<thread>-<counter>.
function init(args)
  prefix = (args[1] or "v") .. "t" .. tid .. "-"
  counter, ok, bad = 0, 0, 0
  wrk.method = "POST"
  wrk.headers["Content-Type"] = "application/x-www-form-urlencoded"
end
function request()
  counter = counter + 1
  local body = "callid=" .. prefix .. counter
    .. "&from=%2B4670" .. string.format("%07d", counter % 5000)
    .. "&to=%2B46766861475&direction=incoming&created=2025-01-01+12%3A00%3A00.000000"
  return wrk.format(nil, nil, nil, body)
end
"""


def seed() -> tuple[str, int]:
    from django_scopes import scopes_disabled

    from accounts.models import Tenant
    from numbers.models import PhoneNumber

    with scopes_disabled():
        tenant = Tenant.objects.create(
            name="Bench Voice",
            slug="bench-voice",
            status=Tenant.Status.ACTIVE,
            usage_limit=1_000_000_000,
            elks_subaccount_id="a-bench-voice",
            elks_secret="bench-subaccount-secret-0123456789",
        )
        number = PhoneNumber.objects.create(
            tenant=tenant,
            provider_id="n-bench-voice",
            number=NUMBER,
            country="se",
            has_sms=True,
            has_voice=True,
            status="active",
            voice_forwards=[
                {"to": "+46701234567", "timeout": 20},
                {"to": "+46707654321", "timeout": 15},
            ],
            voicemail_enabled=True,
            record_calls=True,
        )
    return number.hook_token, tenant.pk


def run_wrk(url: str, prefix: str, duration: int, threads: int, conns: int) -> dict:
    r = common.wrk_run(url, lua=LUA, args=[prefix], duration=duration, threads=threads, conns=conns)
    # Non-2xx answers are counted as `bad` by the harness, and as errors here too.
    return {**r, "errors": r["errors"] + r["bad"], "client": f"wrk -t{threads} -c{conns}"}


def run_python(url: str, prefix: str, duration: int, conns: int) -> dict:
    """Bounded fallback without wrk: `conns` threads, one request at a time each."""
    import http.client
    import threading
    from urllib.parse import urlencode, urlsplit

    parsed = urlsplit(url)
    deadline = time.monotonic() + duration
    lock = threading.Lock()
    lat: list[float] = []
    tally = {"ok": 0, "bad": 0, "errors": 0}

    def worker(tid: int) -> None:
        conn = http.client.HTTPConnection(parsed.hostname or common.HOST, parsed.port, timeout=5)
        n, local = 0, []
        ok = bad = err = 0
        while time.monotonic() < deadline and n < 100_000:
            n += 1
            body = urlencode({"callid": f"{prefix}t{tid}-{n}", "from": f"+4670{n % 5000:07d}",
                              "to": NUMBER, "direction": "incoming",
                              "created": "2025-01-01 12:00:00.000000"}).encode()  # fmt: skip
            start = time.perf_counter()
            try:
                conn.request("POST", parsed.path, body=body, headers={
                    "Content-Type": "application/x-www-form-urlencoded"})  # fmt: skip
                response = conn.getresponse()
                response.read()
                local.append(time.perf_counter() - start)
                ok, bad = (ok + 1, bad) if response.status < 300 else (ok, bad + 1)
            except OSError:
                err += 1
                conn.close()
        with lock:
            lat.extend(local)
            tally["ok"] += ok
            tally["bad"] += bad
            tally["errors"] += err

    started = time.monotonic()
    pool = [threading.Thread(target=worker, args=(i + 1,)) for i in range(conns)]
    for t in pool:
        t.start()
    for t in pool:
        t.join()
    lat.sort()
    ms = [x * 1000 for x in lat]
    return {"requests": len(lat), **tally, "seconds": time.monotonic() - started,
            "p50": common.percentile(ms, 50), "p90": common.percentile(ms, 90),
            "p99": common.percentile(ms, 99), "max": ms[-1] if ms else 0.0,
            "client": f"python ({conns} threads)"}  # fmt: skip


def stored(prefix: str) -> tuple[int, int]:
    with common.pg_connect() as conn:
        events = conn.execute(
            "SELECT count(*) FROM providers_webhookevent WHERE provider = 'elks' "
            "AND kind = 'voice_start' AND dedupe_key LIKE %s",
            [prefix + "%"],
        ).fetchone()[0]
        calls = conn.execute(
            "SELECT count(*) FROM calls_call WHERE elks_id LIKE %s", [prefix + "%"]
        ).fetchone()[0]
    return events, calls


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--duration", type=int, default=15)
    parser.add_argument("--workers", type=int, default=4, help="gunicorn sync workers")
    parser.add_argument(
        "--connections", default="4,16", help="comma-separated loads (open connections)"
    )
    parser.add_argument("--client", choices=["wrk", "python"], default=None)
    parser.add_argument("--wait-quiet", type=float, default=120)
    parser.add_argument("--keep-db", action="store_true")
    args = parser.parse_args()
    client = args.client or ("wrk" if shutil.which("wrk") else "python")

    print("voice_start benchmark ·", common.machine())
    try:
        common.recreate_database()
        common.flush_redis()
        common.django_setup()
        token, _tenant_id = seed()
        port = common.free_port()
        env = common.bench_env()
        argv = common.gunicorn_argv(port, "sync", args.workers, 1)
        server = common.start("voice-gunicorn", argv, env)
        common.wait_http(f"http://{common.HOST}:{port}/healthz", proc=server)
        url = f"http://{common.HOST}:{port}/hooks/elks/{token}/voice/"
        # One request by hand: the answer is the whole plan.
        req = urllib.request.Request(
            url,
            data=b"callid=check-1&from=%2B46700000001&to=%2B46766861475&direction=incoming",
            headers={"Content-Type": "application/x-www-form-urlencoded"},
        )
        with urllib.request.urlopen(req, timeout=5) as response:
            plan = json.loads(response.read())
        print(f"answer ({len(json.dumps(plan))} bytes): {json.dumps(plan)[:220]}…")
        # Warm-up: every worker connected to PostgreSQL and Redis.
        warm = f"w{uuid.uuid4().hex[:6]}"
        if client == "wrk":
            run_wrk(url, warm, 3, 2, 8)
        else:
            run_python(url, warm, 3, 8)
        results = []
        for conns in [int(c) for c in args.connections.split(",") if c.strip()]:
            quiet = common.wait_quiet(args.wait_quiet)
            prefix = f"v{uuid.uuid4().hex[:6]}"
            if client == "wrk":
                r = run_wrk(url, prefix, args.duration, min(2, conns), conns)
            else:
                r = run_python(url, prefix, args.duration, conns)
            time.sleep(0.5)
            events, calls = stored(prefix)
            r.update(conns=conns, events=events, calls=calls, quiet=quiet)
            results.append(r)
            print(f"  {r['client']}: {r['requests'] / r['seconds']:,.0f} req/s, "
                  f"p50 {r['p50']:.1f} ms, p99 {r['p99']:.1f} ms")  # fmt: skip
        common.stop(server)
        print()
        print(f"=== voice_start · gunicorn sync × {args.workers} · {common.machine()}")
        print(f"{'client':<16} {'req/s':>7} {'p50 ms':>7} {'p90 ms':>7} {'p99 ms':>7} "
              f"{'max ms':>7} {'2xx':>7} {'non2xx':>6} {'errors':>6} {'events':>7} "
              f"{'calls':>7}  machine")  # fmt: skip
        for r in results:
            print(f"{r['client']:<16} {r['requests'] / r['seconds']:>7,.0f} {r['p50']:>7.1f} "
                  f"{r['p90']:>7.1f} {r['p99']:>7.1f} {r['max']:>7.1f} {r['ok']:>7,} "
                  f"{r['bad']:>6} {r['errors']:>6} {r['events']:>7,} {r['calls']:>7,}  "
                  f"{r['quiet']}")  # fmt: skip
        print("events/calls = rows stored for that load's callids; each should equal 2xx.")
    finally:
        common.stop_all()
        if not args.keep_db:
            common.drop_database()


if __name__ == "__main__":
    main()
