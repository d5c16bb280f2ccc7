"""One send rate shared by every worker: a token bucket in Redis (atomic Lua script).

Celery's own rate_limit is per worker process; the provider's limit is per account, so
the bucket lives in Redis where all workers see it. Without Redis (the demo, tests on
SQLite) an in-process bucket gives the same behaviour to the threads of one process.
"""

from __future__ import annotations

import threading
import time
from typing import TYPE_CHECKING

from django.conf import settings

from core.redis import redis_client

if TYPE_CHECKING:
    from redis import Redis

LUA = """
local tokens_key, ts_key = KEYS[1], KEYS[2]
local rate, capacity = tonumber(ARGV[1]), tonumber(ARGV[2])
local now, want = tonumber(ARGV[3]), tonumber(ARGV[4])
local tokens = tonumber(redis.call('GET', tokens_key) or capacity)
local last = tonumber(redis.call('GET', ts_key) or now)
tokens = math.min(capacity, tokens + math.max(0, now - last) * rate / 1000)
local wait = 0
if tokens >= want then
  tokens = tokens - want
else
  wait = math.ceil((want - tokens) * 1000 / rate)
end
local ttl = math.ceil(capacity * 1000 / rate) + 1000
redis.call('SET', tokens_key, tostring(tokens), 'PX', ttl)
redis.call('SET', ts_key, tostring(now), 'PX', ttl)
return wait
"""


class TokenBucket:
    def __init__(self, name: str, *, rate: float) -> None:
        self.name = name
        self.rate = max(0.001, float(rate))
        self.capacity = max(1.0, self.rate)  # a burst of one second's worth

    def try_acquire(self) -> float:
        """Take a token; 0 when granted, else the seconds to wait before asking again."""
        client = _redis()
        if client is None:
            return _local(self.name).try_acquire(self.rate, self.capacity)
        keys = [f"bucket:{self.name}:tokens", f"bucket:{self.name}:ts"]
        now_ms = int(time.time() * 1000)
        wait_ms = client.eval(LUA, 2, *keys, self.rate, self.capacity, now_ms, 1)
        return int(wait_ms) / 1000

    def acquire(self, *, timeout: float = 30.0) -> bool:
        deadline = time.monotonic() + timeout
        while True:
            wait = self.try_acquire()
            if wait <= 0:
                return True
            if time.monotonic() + wait > deadline:
                return False
            time.sleep(wait)


def _redis() -> Redis | None:
    return redis_client(timeout=2)


class _LocalBucket:
    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.tokens: float | None = None
        self.last = time.monotonic()

    def try_acquire(self, rate: float, capacity: float) -> float:
        with self.lock:
            now = time.monotonic()
            tokens = capacity if self.tokens is None else self.tokens
            tokens = min(capacity, tokens + (now - self.last) * rate)
            self.last = now
            if tokens >= 1:
                self.tokens = tokens - 1
                return 0.0
            self.tokens = tokens
            return (1 - tokens) / rate


_buckets: dict[str, _LocalBucket] = {}
_buckets_lock = threading.Lock()


def _local(name: str) -> _LocalBucket:
    with _buckets_lock:
        return _buckets.setdefault(name, _LocalBucket())


def provider_bucket() -> TokenBucket:
    """The platform-wide 46elks send rate."""
    return TokenBucket("elks-sms", rate=settings.CAMPAIGN_PROVIDER_RATE)
