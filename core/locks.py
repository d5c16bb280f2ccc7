"""A non-blocking lock for periodic jobs: an overlapping run is skipped, not stacked.

It uses Django's cache `add` (SET NX on Redis in production), so it holds across every worker
and machine sharing the cache. The TTL frees the lock if its holder dies.
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import Iterator
from contextlib import contextmanager

from django.core.cache import cache

log = logging.getLogger(__name__)


@contextmanager
def skip_if_running(name: str, *, ttl: int) -> Iterator[bool]:
    """Yield True when this caller holds the lock, False when another run does."""
    key = f"lock:{name}"
    token = uuid.uuid4().hex
    try:
        acquired = cache.add(key, token, timeout=ttl)
    except Exception:
        # Cache down: nobody can tell whether a run holds the lock, so skip rather than stack
        # (and the page that asked still answers instead of failing).
        log.warning("Lock %s: cache unreachable, skipping", name, exc_info=True)
        acquired = False
    try:
        yield acquired
    finally:
        # Release only our own lock: after a TTL expiry another run may hold it.
        try:
            if acquired and cache.get(key) == token:
                cache.delete(key)
        except Exception:
            log.warning("Lock %s: cache unreachable, left to expire", name, exc_info=True)
