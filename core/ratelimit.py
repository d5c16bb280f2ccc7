"""Token buckets shared by every process: Redis with an atomic Lua script.

A process-local limiter would let each gunicorn worker or Celery process spend the whole
allowance; the buckets live in Redis where all of them see the same count. Several buckets can
be charged at once (an API key's and its tenant's): either all of them have a token and each
loses one, or none is charged and the caller learns how long to wait. Without Redis (the demo,
tests on SQLite) in-process buckets give the same behaviour to the threads of one process.
"""

from __future__ import annotations

import math
import threading
import time
from dataclasses import dataclass

from core.redis import redis_client

# KEYS: per bucket its tokens key and its timestamp key. ARGV: per bucket its rate (tokens/s)
# and capacity. Returns 0 when every bucket gave a token, else the ms to wait. The clock is
# Redis's own: web hosts whose clocks disagree would otherwise refill a bucket twice.
LUA = """
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local n = #KEYS / 2
local state, wait = {}, 0
for i = 1, n do
  local rate, capacity = tonumber(ARGV[2 * i - 1]), tonumber(ARGV[2 * i])
  local tokens = tonumber(redis.call('GET', KEYS[2 * i - 1]) or capacity)
  local last = tonumber(redis.call('GET', KEYS[2 * i]) or now)
  tokens = math.min(capacity, tokens + math.max(0, now - last) * rate / 1000)
  if tokens < 1 then
    wait = math.max(wait, math.ceil((1 - tokens) * 1000 / rate))
  end
  state[i] = {tokens, rate, capacity}
end
for i = 1, n do
  local tokens, rate, capacity = state[i][1], state[i][2], state[i][3]
  if wait == 0 then tokens = tokens - 1 end
  local ttl = math.ceil(capacity * 1000 / rate) + 1000
  redis.call('SET', KEYS[2 * i - 1], tostring(tokens), 'PX', ttl)
  redis.call('SET', KEYS[2 * i], tostring(now), 'PX', ttl)
end
return wait
"""


@dataclass(frozen=True)
class Bucket:
    """`rate` tokens per second, holding at most `capacity` (the burst)."""

    name: str
    rate: float
    capacity: float

    @classmethod
    def per_second(cls, name: str, rate: float, *, burst: float | None = None) -> Bucket:
        rate = max(0.001, float(rate))
        return cls(name, rate, max(1.0, float(burst) if burst else rate))


def buckets_take(buckets: list[Bucket]) -> float:
    """One token from each bucket, all or none: 0.0 when granted, else seconds to wait."""
    client = redis_client(timeout=2)
    if client is None:
        return _local_take(buckets)
    keys: list[str] = []
    args: list[float] = []
    for bucket in buckets:
        keys += [f"bucket:{bucket.name}:tokens", f"bucket:{bucket.name}:ts"]
        args += [bucket.rate, bucket.capacity]
    wait_ms = client.eval(LUA, len(keys), *keys, *args)
    return int(wait_ms) / 1000


class TokenBucket:
    """One bucket with a blocking `acquire` (a worker pacing its sends)."""

    def __init__(self, name: str, *, rate: float) -> None:
        self.bucket = Bucket.per_second(name, rate)
        self.name = name
        self.rate = self.bucket.rate
        self.capacity = self.bucket.capacity

    def try_acquire(self) -> float:
        """Take a token; 0 when granted, else the seconds to wait before asking again."""
        return buckets_take([self.bucket])

    def acquire(self, *, timeout: float = 30.0) -> bool:
        deadline = time.monotonic() + timeout
        while True:
            wait = self.try_acquire()
            if wait <= 0:
                return True
            if time.monotonic() + wait > deadline:
                return False
            time.sleep(wait)


# --- without Redis ---------------------------------------------------------------------------

_local: dict[str, tuple[float, float]] = {}  # name -> (tokens, monotonic time)
_local_lock = threading.Lock()


def _local_take(buckets: list[Bucket]) -> float:
    with _local_lock:
        now = time.monotonic()
        state = []
        wait = 0.0
        for b in buckets:
            tokens, last = _local.get(b.name, (b.capacity, now))
            tokens = min(b.capacity, tokens + (now - last) * b.rate)
            if tokens < 1:
                wait = max(wait, math.ceil((1 - tokens) * 1000 / b.rate) / 1000)
            state.append((b.name, tokens))
        for name, tokens in state:
            _local[name] = (tokens - 1 if wait == 0 else tokens, now)
        return wait


def local_buckets_forget() -> None:
    """Tests: start every in-process bucket full."""
    with _local_lock:
        _local.clear()
