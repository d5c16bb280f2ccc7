"""Delivery reports for a big campaign: posted at a steady rate, applied by the batched drain.

    .venv/bin/python bench/campaign_reports.py           # about 5 minutes (100,000 recipients)

Seeds a campaign whose N recipients were all sent (each with its 46elks id and its Message in
the log), starts gunicorn (sync, 4 workers) and `celery worker -Q webhooks -c 2`, and posts
one report per recipient to /hooks/elks/cdlr/<token>/ at --rate per second: `delivered` for
most, `failed` for every 20th; plus, shuffled in, a late `sent` for every 10th recipient
(after its final report: it must not move it back) and a repeat of every 10th final report
(a replay: stored once). Prints the webhook answers, how long after the last post the
backlog was empty, and checks every recipient and every logged Message against what was
posted (final status reached, none moved back). Prints figures; asserts nothing.
"""

from __future__ import annotations

import argparse
import http.client
import random
import threading
import time
import uuid
from urllib.parse import urlencode

import _common as common


def seed(n: int) -> tuple[str, list[str]]:
    """A running campaign with n sent recipients and their log Messages; (token, elks ids)."""
    from django.utils import timezone
    from django_scopes import scopes_disabled

    from messaging.campaigns.models import Campaign, CampaignRecipient
    from messaging.models import Message

    now = timezone.now()
    with scopes_disabled():
        tenant = common.bench_tenant("Bench Reports")
        campaign = Campaign.objects.create(
            tenant=tenant,
            name="Black friday",
            sender="Shop",
            template="Hi!",
            status=Campaign.Status.RUNNING,
            recipient_count=n,
            launched_at=now,
        )
        ids = [f"s{uuid.uuid4().hex[:20]}" for _ in range(n)]
        for start in range(0, n, 5000):
            chunk = range(start, min(n, start + 5000))
            recipients = CampaignRecipient.objects.bulk_create(
                CampaignRecipient(
                    tenant=tenant,
                    campaign=campaign,
                    phone=f"+4670{i:07d}",
                    status=CampaignRecipient.Status.SENT,
                    body="Hi!",
                    elks_id=ids[i],
                    cost=3500,
                    sent_at=now,
                )
                for i in chunk
            )
            Message.objects.bulk_create(
                Message(
                    tenant=tenant,
                    kind=Message.Kind.SMS,
                    direction=Message.Direction.OUT,
                    status=Message.Status.SENT,
                    source=Message.Source.CAMPAIGN,
                    campaign_recipient=r,
                    ours="Shop",
                    other=r.phone,
                    body="Hi!",
                    parts=1,
                    elks_id=r.elks_id,
                    cost=3500,
                    sent_at=now,
                    created=now,
                )
                for r in recipients
            )
    return campaign.callback_token, ids


def reports(ids: list[str]) -> list[tuple[str, str]]:
    """(elks id, status) in posting order: finals, replays and late `sent`s, shuffled so a
    recipient's late `sent` comes after its final report."""
    rng = random.Random(7)
    finals = [(elks_id, "failed" if i % 20 == 0 else "delivered") for i, elks_id in enumerate(ids)]
    order = list(finals)
    rng.shuffle(order)
    position = {elks_id: k for k, (elks_id, _s) in enumerate(order)}
    extras: list[tuple[int, tuple[str, str]]] = []
    for i, (elks_id, status) in enumerate(finals):
        if i % 10 == 3:
            extras.append((position[elks_id] + rng.randint(1, 2000), (elks_id, "sent")))
        if i % 10 == 7:
            extras.append((position[elks_id] + rng.randint(0, 2000), (elks_id, status)))
    slots: dict[int, list[tuple[str, str]]] = {}
    for at, item in extras:
        slots.setdefault(at, []).append(item)
    out: list[tuple[str, str]] = []
    for k, item in enumerate(order):
        out.append(item)
        out += slots.pop(k, [])
    for k in sorted(slots):
        out += slots[k]
    return out


def post_all(port: int, token: str, items: list[tuple[str, str]], rate: float, threads: int):  # type: ignore[no-untyped-def]
    """Post on a fixed schedule (item i at start + i/rate) from `threads` connections."""
    path = f"/hooks/elks/cdlr/{token}/"
    statuses: dict[int, int] = {}
    latencies: list[float] = []
    lock = threading.Lock()
    start = time.monotonic() + 0.1

    def poster(k: int) -> None:
        conn = http.client.HTTPConnection(common.HOST, port, timeout=10)
        mine: list[float] = []
        seen: dict[int, int] = {}
        for i in range(k, len(items), threads):
            delay = start + i / rate - time.monotonic()
            if delay > 0:
                time.sleep(delay)
            elks_id, status = items[i]
            fields = {"id": elks_id, "status": status}
            if status == "delivered":
                fields["delivered"] = "2026-11-28T10:00:00"
            sent = time.perf_counter()
            try:
                conn.request(
                    "POST",
                    path,
                    body=urlencode(fields).encode(),
                    headers={"Content-Type": "application/x-www-form-urlencoded"},
                )
                response = conn.getresponse()
                response.read()
                code = response.status
            except OSError:
                conn.close()
                conn = http.client.HTTPConnection(common.HOST, port, timeout=10)
                code = 0
            mine.append(time.perf_counter() - sent)
            seen[code] = seen.get(code, 0) + 1
        with lock:
            latencies.extend(mine)
            for code, count in seen.items():
                statuses[code] = statuses.get(code, 0) + count

    workers = [threading.Thread(target=poster, args=(k,)) for k in range(threads)]
    for w in workers:
        w.start()
    for w in workers:
        w.join()
    return statuses, sorted(latencies), time.monotonic() - start


def store_all(token: str, items: list[tuple[str, str]], rate: float):  # type: ignore[no-untyped-def]
    """--direct: store each report as the callback view does (webhook_store, in this process,
    waking the drain the same way) on the same schedule: the arrival rate without HTTP."""
    from django_scopes import scopes_disabled

    from messaging.campaigns.models import Campaign
    from providers.services import webhook_store

    with scopes_disabled():
        tenant_id = Campaign.objects.get(callback_token=token).tenant_id
    latencies: list[float] = []
    start = time.monotonic() + 0.1
    for i, (elks_id, status) in enumerate(items):
        delay = start + i / rate - time.monotonic()
        if delay > 0:
            time.sleep(delay)
        payload: dict[str, object] = {"id": elks_id, "status": status, "_token": token}
        if status == "delivered":
            payload["delivered"] = "2026-11-28T10:00:00"
        began = time.perf_counter()
        webhook_store(
            provider="elks",
            kind="cdlr",
            dedupe_key=f"{elks_id}:{status}",
            payload=payload,
            tenant_id=tenant_id,
        )
        latencies.append(time.perf_counter() - began)
    return {200: len(items)}, sorted(latencies), time.monotonic() - start


def check(ids: list[str]) -> None:
    with common.pg_connect() as conn:
        recipients = dict(
            conn.execute("SELECT elks_id, status FROM messaging_campaignrecipient").fetchall()
        )
        logged = dict(
            conn.execute(
                "SELECT elks_id, status FROM messaging_message WHERE source = 'campaign'"
            ).fetchall()
        )
        events = dict(
            conn.execute(
                "SELECT status, count(*) FROM providers_webhookevent GROUP BY status"
            ).fetchall()
        )
    wrong_recipient = wrong_log = 0
    for i, elks_id in enumerate(ids):
        want = "failed" if i % 20 == 0 else "delivered"
        wrong_recipient += recipients.get(elks_id) != want
        wrong_log += logged.get(elks_id) != want
    print(f"event rows: {events}")
    print(
        f"recipients at their final report's status: {len(ids) - wrong_recipient} of {len(ids)}"
        f"; log Messages: {len(ids) - wrong_log} of {len(ids)} (a late `sent` moved none back)"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("-n", type=int, default=100_000, help="campaign recipients")
    parser.add_argument("--rate", type=float, default=500.0, help="reports posted per second")
    parser.add_argument("--posters", type=int, default=16)
    parser.add_argument(
        "--direct",
        action="store_true",
        help="store the reports in this process instead of posting them (no web tier: the "
        "arrival rate holds even when gunicorn cannot take it on this machine)",
    )
    parser.add_argument("--concurrency", type=int, default=2, help="Celery worker processes")
    parser.add_argument("--wait-quiet", type=float, default=60)
    parser.add_argument("--keep-db", action="store_true")
    args = parser.parse_args()

    print("Campaign delivery-report benchmark ·", common.machine())
    common.recreate_database()
    common.flush_redis()
    common.django_setup()
    seeded = time.monotonic()
    token, ids = seed(args.n)
    items = reports(ids)
    print(
        f"seeded {args.n} sent recipients in {time.monotonic() - seeded:.0f} s; "
        f"{len(items)} reports to post at {args.rate:g}/s"
    )
    env = common.bench_env()
    port = common.free_port()
    server = common.start("gunicorn-reports", common.gunicorn_argv(port, "sync", 4, 1), env)
    worker = common.start(
        "celery-reports",
        common.celery_worker_argv(
            f"reports-{uuid.uuid4().hex[:6]}", concurrency=args.concurrency, queues="webhooks"
        ),
        env,
    )
    try:
        common.wait_http(f"http://{common.HOST}:{port}/healthz", proc=server)
        print(common.wait_quiet(args.wait_quiet))
        if args.direct:
            statuses, latencies, posting = store_all(token, items, args.rate)
        else:
            statuses, latencies, posting = post_all(port, token, items, args.rate, args.posters)
        last_post = time.monotonic()
        peak = 0
        while True:
            left = common.pending_events()
            peak = max(peak, left)
            if not left or time.monotonic() - last_post > 600:
                break
            time.sleep(0.2)
        drained = time.monotonic() - last_post
    finally:
        common.stop(worker)
        common.stop(server)
    p = common.percentile
    print(
        f"posted {len(items)} in {posting:.0f} s = {len(items) / posting:.0f}/s; answers "
        f"{statuses}; {'store' if args.direct else 'webhook'} p50 "
        f"{p(latencies, 50) * 1000:.0f} ms, "
        f"p99 {p(latencies, 99) * 1000:.0f} ms"
    )
    print(
        f"backlog when posting ended: {peak} pending; empty {drained:.1f} s after the last "
        f"report (target: within 60 s){'' if not left else f'; {left} STILL PENDING'}"
    )
    check(ids)
    if not args.keep_db:
        common.drop_database()


if __name__ == "__main__":
    main()
