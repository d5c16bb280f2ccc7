"""Waking the webhook processor: one drain per window, and no Redis call per stored event.

A stored event must reach a drain without the request depending on the broker. The rule that
keeps every event reachable:

* A *window* is a Redis key holding a random id, set with SET NX and an expiry of
  WEBHOOK_WAKE_SECONDS. Whoever opens it publishes one drain task for that window.
* That drain keeps looking for pending events while its window is open and looks once more
  after it has closed (expired, or replaced by a newer window). An event committed while the
  window is open is therefore seen by that drain.
* A web process that finds the window open learns, in the same Lua call, how long it stays
  open, and until then stores events without asking Redis again: each of those events is
  committed before the window closes, so the window's drain sees it.

Under load that is one Redis call per web process per window instead of one per event
(docs/bench.md: about a fifth of the webhook's cost). Without Redis (local tests) the window
lives in Django's cache and only its opener skips. In eager mode (the demo: no worker) each new
event is drained by the request that stored it.

If the broker refuses the publish, the window is closed again and the event waits for the
beat's replay (events pending for over a minute), as it does while the worker is down.
"""

from __future__ import annotations

import logging
import time
import uuid

import redis
from django.conf import settings
from django.core.cache import cache

from core.redis import redis_client
from core.tasks import publish_now

log = logging.getLogger(__name__)

WINDOW_KEY = "switchboard:webhooks:window"
# How often an open window's drain looks for new events (their latency while it is open).
POLL_SECONDS = 0.05
# Skip Redis until slightly before the window's expiry, never after it.
_MARGIN_SECONDS = 0.01

# Open the window if it is closed (-1), else how many ms it stays open.
_OPEN = """
if redis.call('SET', KEYS[1], ARGV[1], 'NX', 'PX', ARGV[2]) then return -1 end
return redis.call('PTTL', KEYS[1])
"""
_CLOSE_IF_MINE = """
if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end
return 0
"""

# This process: monotonic time until which a window is known to be open.
_open_until = 0.0


def wake_processor() -> None:
    """After a new event's commit: make sure a drain will see it. Never raises."""
    global _open_until
    if settings.CELERY_TASK_ALWAYS_EAGER:
        _publish(window=None)
        return
    now = time.monotonic()
    if now < _open_until:
        return
    window = uuid.uuid4().hex
    seconds = settings.WEBHOOK_WAKE_SECONDS
    try:
        remaining = _open(window, seconds)
    except Exception:  # Redis down: the event is stored; the replay picks it up
        log.warning("Could not wake the webhook processor", exc_info=True)
        return
    if remaining is None:  # opened here: publish its drain
        if not _publish(window=window):
            _close(window)
            return
        remaining = seconds
    _open_until = now + remaining - _MARGIN_SECONDS


def window_open(window: str) -> bool:
    """Whether this drain's window is still open (its key holds this window's id)."""
    client = _redis()
    if client is None:
        return cache.get(WINDOW_KEY) == window
    return client.get(WINDOW_KEY) == window.encode()


def forget_window() -> None:
    """Tests: this process forgets what it knew about the window."""
    global _open_until
    _open_until = 0.0


def _publish(*, window: str | None) -> bool:
    from providers.tasks import webhooks_drain

    return publish_now(webhooks_drain, **({"window": window} if window else {}))


def _open(window: str, seconds: float) -> float | None:
    """None when this call opened the window, else the seconds it stays open."""
    client = _redis()
    if client is None:
        # Django's cache cannot tell the expiry, so only the opener skips.
        return None if cache.add(WINDOW_KEY, window, timeout=seconds) else 0.0
    remaining_ms = client.eval(_OPEN, 1, WINDOW_KEY, window, max(1, int(seconds * 1000)))
    return None if remaining_ms < 0 else remaining_ms / 1000


def _close(window: str) -> None:
    try:
        client = _redis()
        if client is None:
            if cache.get(WINDOW_KEY) == window:
                cache.delete(WINDOW_KEY)
        else:
            client.eval(_CLOSE_IF_MINE, 1, WINDOW_KEY, window)
    except Exception:
        log.warning("Could not close the webhook wake window", exc_info=True)


def _redis() -> redis.Redis | None:
    # Short timeouts: this runs in the callback's request.
    return redis_client(timeout=0.5)
