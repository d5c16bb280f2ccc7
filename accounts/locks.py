"""A non-blocking lock for periodic jobs: an overlapping run is skipped, not stacked.

It uses Django's cache `add` (SET NX on Redis in production), so it holds across every worker
and machine sharing the cache. The TTL frees the lock if its holder dies.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from contextlib import contextmanager

from django.core.cache import cache


@contextmanager
def skip_if_running(name: str, *, ttl: int) -> Iterator[bool]:
    """Yield True when this caller holds the lock, False when another run does."""
    key = f"lock:{name}"
    token = uuid.uuid4().hex
    acquired = cache.add(key, token, timeout=ttl)
    try:
        yield acquired
    finally:
        # Release only our own lock: after a TTL expiry another run may hold it.
        if acquired and cache.get(key) == token:
            cache.delete(key)
