"""The process's redis-py clients, for code that talks to Redis directly (Lua scripts, flags).

Django's cache API builds a new client per call (~0.4 ms of CPU each, docs/bench.md); these
callers keep one per URL and timeout for the life of the process. redis-py's connection pool
re-opens its sockets in a forked child, so a client made before a fork stays safe after it.
"""

from __future__ import annotations

import functools

import redis
from django.conf import settings


def redis_client(*, timeout: float) -> redis.Redis | None:
    """The client for settings.REDIS_URL, or None without Redis (callers fall back)."""
    url = settings.REDIS_URL
    return _client(url, timeout) if url else None


@functools.cache
def _client(url: str, timeout: float) -> redis.Redis:
    return redis.Redis.from_url(url, socket_timeout=timeout, socket_connect_timeout=timeout)
