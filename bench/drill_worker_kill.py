"""Drill: kill -9 Celery workers mid-campaign and mid-drain, with a webhook burst meanwhile.

    .venv/bin/python bench/drill_worker_kill.py                    # queues as `make worker`
    .venv/bin/python bench/drill_worker_kill.py --layout single    # one worker, all queues

What it does (figures in docs/bench-campaigns.md, "Drill: workers killed"):
  1. creates and migrates the drill database, flushes its Redis db, starts the 46elks sandbox
     (separate process), gunicorn (sync, 4 workers), Celery beat (the real schedule: the
     campaign tick every 15 s and the webhook replay every 60 s are the recovery paths), and
     the workers: with `--layout split` one per queue group as `make worker` starts them
     (webhooks; campaigns; sending,default,sync), with `--layout single` one worker for all;
  2. seeds a tenant with a sandbox subaccount, an inbound number and N contacts, and launches
     a campaign through campaign_launch (rate 20/s: the provider's default);
  3. posts one inbound SMS webhook every 0.5 s for the whole run, and a burst of 300 at 60/s
     a few seconds in; polls PostgreSQL every 20 ms for each message (visible = in the inbox);
  4. kill -9s the whole campaigns worker (main process and pool) mid-campaign, and the whole
     webhooks worker during the burst (mid-drain); a supervisor's part is played by
     restarting each after --restart-delay seconds. Their unacknowledged tasks stay in Redis
     until the visibility timeout (an hour): only the database rows and the beat recover;
  5. waits for the campaign to complete, then prints inbound latency (p50/p95/max, and the
     worst during each outage), time from the kill to the next campaign send, sends per
     recipient at the sandbox (sent twice / never sent), and the GET /a1/sms calls.
Prints figures; asserts nothing.
"""

from __future__ import annotations

import argparse
import io
import json
import os
import signal
import sqlite3
import sys
import threading
import time
import urllib.request
import uuid
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import subprocess

    from accounts.models import Tenant

os.environ.setdefault("BENCH_DB", "switchboard_bench_drill")
os.environ.setdefault("BENCH_REDIS", "redis://127.0.0.1:6379/11")

import _common as common
import campaign as bench_campaign
from inbound_latency import NUMBER, Poster

QUEUE_GROUPS = {
    "split": {
        "webhooks": "webhooks",
        "campaigns": "campaigns",
        "main": "sending,default,sync",
    },
    "single": {"all": "webhooks,sending,campaigns,sync,default"},
}


def worker_argv(name: str, queues: str, concurrency: int) -> list[str]:
    argv = [sys.executable, "-m", "celery", "-A", "config", "worker", "-Q", queues]
    argv += ["-c", str(concurrency), "--pool", "prefork", "-l", "info"]
    return [
        *argv,
        "--without-gossip",
        "--without-mingle",
        "-n",
        f"drill-{name}-{uuid.uuid4().hex[:4]}@%h",
    ]


def seed_number(tenant: Tenant) -> str:
    from django_scopes import scopes_disabled

    from numbers.models import PhoneNumber

    with scopes_disabled():
        number = PhoneNumber.objects.create(
            tenant=tenant,
            provider_id="n-drill",
            number=NUMBER,
            country="se",
            has_sms=True,
            status="active",
        )
    return number.hook_token


class Inbound:
    """Posts inbound SMS webhooks (a steady trickle plus bursts) and records visibility."""

    def __init__(self, port: int, token: str) -> None:
        self.port, self.token = port, token
        self.posted: dict[str, float] = {}
        self.visible: dict[str, float] = {}
        self.failed_posts = 0
        self.lock = threading.Lock()
        self.stop = threading.Event()
        self.n = 0

    def _post(self, poster: Poster, prefix: str) -> None:
        with self.lock:
            self.n += 1
            n = self.n
        event_id = f"{prefix}-{n}"
        try:
            sent, _, status = poster.post(event_id, n)
        except OSError:
            status, sent = 0, time.time()
        with self.lock:
            if status == 200:
                self.posted[event_id] = sent
            else:
                self.failed_posts += 1

    def trickle(self, every: float) -> None:
        poster = Poster(self.port, f"/hooks/elks/{self.token}/sms/")
        while not self.stop.is_set():
            self._post(poster, "trickle")
            self.stop.wait(every)

    def burst(self, n: int, rate: float) -> None:
        def run(k: int, threads: int) -> None:
            poster = Poster(self.port, f"/hooks/elks/{self.token}/sms/")
            start = time.monotonic()
            for i in range(k, n, threads):
                delay = start + i / rate - time.monotonic()
                if delay > 0:
                    time.sleep(delay)
                self._post(poster, "burst")

        pool = [threading.Thread(target=run, args=(k, 4)) for k in range(4)]
        for t in pool:
            t.start()
        for t in pool:
            t.join()

    def poll(self) -> None:
        with common.pg_connect() as conn:
            while not self.stop.is_set() or self.waiting():
                waiting = self.waiting()
                if waiting:
                    rows = conn.execute(
                        "SELECT elks_id FROM messaging_message WHERE elks_id = ANY(%s)", [waiting]
                    ).fetchall()
                    now = time.time()
                    with self.lock:
                        for (elks_id,) in rows:
                            self.visible[elks_id] = now
                if self.stop.is_set() and time.time() > self.give_up:
                    return
                time.sleep(0.02)

    give_up = float("inf")

    def waiting(self) -> list[str]:
        with self.lock:
            return [e for e in self.posted if e not in self.visible]

    def latencies(self, since: float = 0.0, until: float = float("inf")) -> list[float]:
        with self.lock:
            return [
                self.visible[e] - t
                for e, t in self.posted.items()
                if e in self.visible and since <= t <= until
            ]


def sandbox_get(base: str, path: str) -> dict:
    with urllib.request.urlopen(f"{base}{path}", timeout=10) as response:
        return json.loads(response.read())


def kill_group(proc: subprocess.Popen[bytes]) -> None:
    """kill -9 the worker's main process and its pool (its own process group)."""
    os.killpg(proc.pid, signal.SIGKILL)
    proc.wait(timeout=5)


def stats(values: list[float]) -> str:
    if not values:
        return "none"
    ms = sorted(v * 1000 for v in values)
    return (
        f"p50 {common.percentile(ms, 50):.0f} ms, p95 {common.percentile(ms, 95):.0f} ms, "
        f"max {ms[-1]:.0f} ms (n={len(ms)})"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--layout", choices=sorted(QUEUE_GROUPS), default="split")
    parser.add_argument("--recipients", type=int, default=2000)
    parser.add_argument("--rate", type=int, default=20, help="CAMPAIGN_PROVIDER_RATE, msg/s")
    parser.add_argument("--kill-campaign-at", type=float, default=25.0, help="s after launch")
    parser.add_argument("--burst-at", type=float, default=40.0, help="s after launch")
    parser.add_argument("--burst", type=int, default=300)
    parser.add_argument(
        "--webhook-workers",
        type=int,
        choices=[1, 2],
        default=2,  # as `make worker` starts them
        help="split layout: webhooks workers (one of them is killed)",
    )
    parser.add_argument(
        "--post-latency",
        type=float,
        default=0.05,
        help="seconds the sandbox takes per POST /a1/sms, so a kill can catch one in flight",
    )
    parser.add_argument("--restart-delay", type=float, default=2.0)
    parser.add_argument("--max-minutes", type=float, default=8.0)
    parser.add_argument("--keep-db", action="store_true")
    args = parser.parse_args()
    port = common.free_port()
    sandbox_db = f"/dev/shm/switchboard-drill-sandbox-{os.getpid()}.sqlite3"
    try:
        run(args, port, sandbox_db)
    finally:
        common.stop_all()
        for suffix in ("", "-journal", "-wal", "-shm"):
            Path(sandbox_db + suffix).unlink(missing_ok=True)
        if not args.keep_db:
            common.drop_database()


def run(args: argparse.Namespace, sandbox_port: int, sandbox_db: str) -> None:
    print(f"Worker-kill drill ({args.layout} layout) ·", common.machine())
    common.recreate_database()
    common.flush_redis()
    sandbox = bench_campaign.sandbox_start(sandbox_port, sandbox_db, balance=10**14)
    sandbox_base = f"http://{common.HOST}:{sandbox_port}"
    if args.post_latency > 0:
        chaos = {"rate": 1, "mode": "slow", "latency": args.post_latency}
        request = urllib.request.Request(
            f"{sandbox_base}/sandbox/chaos",
            data=json.dumps({**chaos, "paths": ["sms"], "methods": ["POST"]}).encode(),
            headers={"Content-Type": "application/json"},
            method="POST",
        )
        urllib.request.urlopen(request, timeout=10).read()
    web_port = common.free_port()
    extra = {
        "ELKS_API_URL": f"{sandbox_base}/a1",
        "ELKS_USERNAME": bench_campaign.SANDBOX_USER,
        "ELKS_PASSWORD": bench_campaign.SANDBOX_PASSWORD,
        "PUBLIC_BASE_URL": "http://127.0.0.1:9",  # delivery reports fail at once, touch nothing
        "CAMPAIGN_PROVIDER_RATE": str(args.rate),
        "ALLOWED_HOSTS": common.HOST,
        "LOG_LEVEL": "INFO",
    }
    common.django_setup(**extra)
    env = common.bench_env(**extra)

    from django.db import transaction
    from django.utils import timezone
    from django_scopes import scope, scopes_disabled

    from messaging.campaigns.models import Campaign
    from messaging.campaigns.services import campaign_launch
    from messaging.senders.models import SenderName

    scopes_disabled().__enter__()
    tenant, campaign, _ = bench_campaign.seed(args.recipients, args.rate)
    SenderName.objects.create(
        tenant=tenant,
        name="Bench",
        key="bench",
        status=SenderName.Status.APPROVED,
        decided_at=timezone.now(),
    )
    token = seed_number(tenant)

    common.start("drill-web", common.gunicorn_argv(web_port, "sync", 4, 1), env)
    beat_file = common.LOG_DIR / f"drill-beat-{os.getpid()}"
    common.start(
        "drill-beat",
        [
            sys.executable,
            "-m",
            "celery",
            "-A",
            "config",
            "beat",
            "-l",
            "info",
            "-s",
            str(beat_file),
        ],
        env,
    )
    groups = dict(QUEUE_GROUPS[args.layout])
    if args.layout == "split" and args.webhook_workers == 2:
        groups["webhooks-b"] = "webhooks"  # a second one, as on another machine
    workers = {
        name: common.start(f"drill-worker-{name}", worker_argv(name, queues, 2), env)
        for name, queues in groups.items()
    }
    from config.celery_app import app

    deadline = time.monotonic() + 60
    while time.monotonic() < deadline and len(app.control.ping(timeout=1.0) or []) < len(groups):
        time.sleep(0.5)
    time.sleep(1)
    print(f"sandbox {sandbox_base}; web :{web_port}; workers {groups}; beat on")

    inbound = Inbound(web_port, token)
    threads = [
        threading.Thread(target=inbound.trickle, args=(0.5,), daemon=True),
        threading.Thread(target=inbound.poll, daemon=True),
    ]
    for t in threads:
        t.start()
    time.sleep(3)  # the inbox path warmed up before the campaign

    with scope(tenant=tenant.pk), transaction.atomic():
        campaign_launch(campaign=campaign, actor=None)
    launched = time.time()
    print(f"campaign {campaign.pk} launched: {args.recipients} recipients at {args.rate}/s")

    campaign_worker = "campaigns" if args.layout == "split" else "all"
    webhook_worker = "webhooks" if args.layout == "split" else "all"
    events: dict[str, float] = {}
    orphans: list[int] = []

    def restart(name: str) -> None:
        time.sleep(args.restart_delay)
        workers[name] = common.start(
            f"drill-worker-{name}-restarted", worker_argv(name, groups[name], 2), env
        )
        events[f"{name} restarted"] = time.time()

    def wait_until(offset: float) -> None:
        time.sleep(max(0.0, launched + offset - time.time()))

    def scenario() -> None:
        wait_until(args.kill_campaign_at)
        kill_group(workers[campaign_worker])
        events["campaign worker killed"] = time.time()
        time.sleep(0.3)
        with common.pg_connect() as conn:  # no campaign worker is alive: these were its rows
            orphans.extend(
                r[0]
                for r in conn.execute(
                    "SELECT id FROM messaging_campaignrecipient WHERE campaign_id = %s "
                    "AND status = 'sending'",
                    [campaign.pk],
                ).fetchall()
            )
        print(
            f"  t={time.time() - launched:5.1f} s kill -9 {campaign_worker} worker (mid-campaign)"
        )
        restart(campaign_worker)
        wait_until(args.burst_at)
        burst = threading.Thread(target=inbound.burst, args=(args.burst, 60.0))
        events["burst start"] = time.time()
        burst.start()
        time.sleep(2.0)
        kill_group(workers[webhook_worker])
        events["webhooks worker killed"] = time.time()
        print(f"  t={time.time() - launched:5.1f} s kill -9 {webhook_worker} worker (mid-drain)")
        restart(webhook_worker)
        burst.join()
        events["burst end"] = time.time()

    drill = threading.Thread(target=scenario, daemon=True)
    drill.start()
    status = ""
    while time.time() - launched < args.max_minutes * 60:
        time.sleep(2)
        with scopes_disabled():
            status = Campaign.objects.filter(pk=campaign.pk).values_list("status", flat=True).get()
        if int(time.time() - launched) % 20 < 2:
            print(f"  t={time.time() - launched:5.0f} s {bench_campaign.counts(campaign.pk)}")
        if status == Campaign.Status.COMPLETED and not drill.is_alive():
            break
    finished = time.time()
    inbound.stop.set()
    inbound.give_up = time.time() + 30
    for t in threads:
        t.join(timeout=40)
    report(
        args,
        campaign,
        launched,
        finished,
        status,
        events,
        inbound,
        sandbox_base,
        sandbox_db,
        orphans,
    )
    common.stop(sandbox)


# [no-untyped-def] prints what run() measured; ten annotations would only repeat run().
def report(  # type: ignore[no-untyped-def]
    args, campaign, launched, finished, status, events, inbound, sandbox_base, sandbox_db, orphans
):
    with common.pg_connect() as conn:
        final = dict(
            conn.execute(
                "SELECT status, count(*) FROM messaging_campaignrecipient WHERE campaign_id = %s "
                "GROUP BY status",
                [campaign.pk],
            ).fetchall()
        )
        phones = {
            r[0]
            for r in conn.execute(
                "SELECT phone FROM messaging_campaignrecipient WHERE campaign_id = %s",
                [campaign.pk],
            ).fetchall()
        }
        killed = events.get("campaign worker killed", launched)
        resumed = conn.execute(
            "SELECT extract(epoch FROM min(sent_at))::float FROM messaging_campaignrecipient "
            "WHERE campaign_id = %s AND sent_at > to_timestamp(%s)",
            [campaign.pk, killed + args.restart_delay / 2],
        ).fetchone()[0]
        last_before = conn.execute(
            "SELECT extract(epoch FROM max(sent_at))::float FROM messaging_campaignrecipient "
            "WHERE campaign_id = %s AND sent_at <= to_timestamp(%s)",
            [campaign.pk, killed + 1],
        ).fetchone()[0]
        done_at = conn.execute(
            "SELECT extract(epoch FROM finished_at)::float FROM messaging_campaign WHERE id = %s",
            [campaign.pk],
        ).fetchone()[0]
        orphan_sent = conn.execute(
            "SELECT extract(epoch FROM min(sent_at))::float, extract(epoch FROM max(sent_at))::float"
            " FROM messaging_campaignrecipient WHERE id = ANY(%s)",
            [orphans],
        ).fetchone()
        pending_events = conn.execute(
            "SELECT count(*) FROM providers_webhookevent WHERE status <> 'processed'"
        ).fetchone()[0]
    sb = sqlite3.connect(f"file:{sandbox_db}?mode=ro", uri=True)
    per = dict(
        sb.execute(
            "SELECT recipient, count(*) FROM messages WHERE kind = 'sms' AND sender = 'Bench' "
            "AND direction = 'outgoing' GROUP BY recipient"
        ).fetchall()
    )
    sb.close()
    twice = sum(1 for n in per.values() if n > 1)
    never = len(phones - set(per))
    gets = sandbox_get(sandbox_base, "/sandbox/requests?path=/a1/sms&method=GET")["data"]
    history = [g for g in gets if g.get("path", "").rstrip("/") == "/a1/sms"]
    out = io.StringIO()
    p = lambda *a: print(*a, file=out)  # noqa: E731
    p()
    layout = args.layout
    if layout == "split" and args.webhook_workers == 2:
        layout += ", two webhooks workers"
    p(f"=== Worker-kill drill, {layout} layout · {common.machine()}")
    p(f"sandbox POST /a1/sms latency {args.post_latency * 1000:.0f} ms; worker restart "
      f"{args.restart_delay:g} s after each kill")  # fmt: skip
    p(f"campaign: {len(phones):,} recipients at {args.rate}/s; final status {status}; "
      f"statuses {dict(sorted(final.items()))}")  # fmt: skip
    if done_at:
        p(f"campaign completed {done_at - launched:.0f} s after launch")
    kill_at = events.get("campaign worker killed")
    if kill_at and resumed:
        gap = f" (last send before it {kill_at - last_before:.1f} s earlier)" if last_before else ""
        p(f"campaign worker killed at t={kill_at - launched:.1f} s{gap}; first send after the "
          f"kill {resumed - kill_at:.1f} s later (restart after {args.restart_delay:g} s)")  # fmt: skip
    if orphans and orphan_sent[0] and kill_at:
        p(f"the killed worker's {len(orphans)} claimed rows: sent again from "
          f"{orphan_sent[0] - kill_at:.1f} s to {orphan_sent[1] - kill_at:.1f} s after the kill")  # fmt: skip
    p(f"sends per recipient at the sandbox: {len(per):,} recipients got an SMS; sent twice "
      f"{twice}; never sent {never}")  # fmt: skip
    p(f"GET /a1/sms (history) calls: {len(history)}")
    p(f"inbound webhooks: {len(inbound.posted):,} accepted (non-200 or refused: "
      f"{inbound.failed_posts}); visible {len(inbound.visible):,}; lost "
      f"{len(inbound.posted) - len(inbound.visible)}; events not processed {pending_events}")  # fmt: skip
    p(f"inbound visible after (all)              {stats(inbound.latencies())}")
    burst_start, burst_end = events.get("burst start"), events.get("burst end")
    if burst_start and burst_end:
        p(
            f"  during the burst                       {stats(inbound.latencies(burst_start, burst_end))}"
        )
    if kill_at:
        p(f"  campaign worker down (kill → +10 s)    "
          f"{stats(inbound.latencies(kill_at, kill_at + 10))}")  # fmt: skip
    hook_kill = events.get("webhooks worker killed")
    if hook_kill and burst_start:
        p(f"  burst, before the webhooks kill        "
          f"{stats(inbound.latencies(burst_start, hook_kill))}")  # fmt: skip
    if hook_kill:
        p(f"  webhooks worker down (kill → +10 s)    "
          f"{stats(inbound.latencies(hook_kill, hook_kill + 10))}")  # fmt: skip
    during = inbound.latencies(launched, done_at or finished)
    slow = sum(1 for v in during if v > 2.0)
    p(f"  while the campaign ran                 {stats(during)}; over 2 s: {slow}")
    p(
        "events: "
        + ", ".join(
            f"{k} t={v - launched:.1f} s" for k, v in sorted(events.items(), key=lambda kv: kv[1])
        )
    )
    print(out.getvalue())
    common.LOG_DIR.mkdir(parents=True, exist_ok=True)
    (common.LOG_DIR / f"drill-{args.layout}-result.txt").write_text(out.getvalue())


if __name__ == "__main__":
    main()
