"""The sign-in throttle shared by every sign-in path.

The authentication backend (accounts/backends.py) calls it, so the portal's login page,
/admin/login/ and any later path (API basic auth) count against the same limits:
LOGIN_FAILURE_LIMIT failures per account and per client address within LOGIN_FAILURE_WINDOW.

1. The account key is the user's pk when the identifier names a user, however the database
   matched it (PostgreSQL's case-insensitive match folds U+017F long s to 's' and U+0131
   dotless i to 'i'), else the identifier's NFKC casefold: look-alikes share one counter.
2. The address key is the client's address behind the trusted proxies (core.net),
   not the proxy's own address, which would lock everybody out at once.
3. Counters live in the cache (Redis). When the cache raises, they live in the database
   (SignInFailure): the page still answers and the limit still holds. This process then
   leaves the cache alone for CACHE_RETRY_SECONDS, so a Redis that does not answer costs one
   socket timeout (CACHE_SOCKET_TIMEOUT) now and then, not one per cache call.
"""

from __future__ import annotations

import hashlib
import logging
import time
import unicodedata
from datetime import timedelta

from django.conf import settings
from django.core.cache import cache
from django.db import transaction
from django.db.models import F
from django.http import HttpRequest
from django.utils import timezone

from accounts.models import SignInFailure, User
from core.net import client_address

log = logging.getLogger(__name__)

CACHE_RETRY_SECONDS = 10.0
_cache_down_until = 0.0


def _cache_up() -> bool:
    return time.monotonic() >= _cache_down_until


def _cache_failed() -> None:
    global _cache_down_until
    log.warning("Sign-in throttle: cache unreachable, counting in the database", exc_info=True)
    _cache_down_until = time.monotonic() + CACHE_RETRY_SECONDS


def forget_cache_failure() -> None:
    """Tests: try the cache again at once."""
    global _cache_down_until
    _cache_down_until = 0.0


def account_key(*, identifier: str, user: User | None) -> str:
    if user is not None:
        return f"login-fail:user:{user.pk}"
    folded = unicodedata.normalize("NFKC", identifier.strip()).casefold()
    return "login-fail:id:" + hashlib.sha256(folded.encode()).hexdigest()[:40]


def throttle_keys(*, request: HttpRequest | None, identifier: str, user: User | None) -> list[str]:
    keys = [account_key(identifier=identifier, user=user)]
    address = client_address(request) if request is not None else ""
    if address:
        keys.append(f"login-fail:ip:{address}")
    return keys


def resolve_user(identifier: str) -> User | None:
    """The user the backend would match for this identifier, by the database's own rules."""
    try:
        return User._default_manager.get_by_natural_key(identifier)
    except (User.DoesNotExist, User.MultipleObjectsReturned):
        return None


def is_blocked(keys: list[str]) -> bool:
    limit = settings.LOGIN_FAILURE_LIMIT
    if _cache_up():
        try:
            counts = cache.get_many(keys)
        except Exception:
            _cache_failed()
        else:
            return any((counts.get(k) or 0) >= limit for k in keys)
    return SignInFailure.objects.filter(
        key__in=keys, expires__gt=timezone.now(), count__gte=limit
    ).exists()


def failure_record(keys: list[str]) -> None:
    window = settings.LOGIN_FAILURE_WINDOW
    if _cache_up():
        try:
            for key in keys:
                # add() starts the window; incr() keeps its expiry (atomic on Redis).
                cache.add(key, 0, timeout=window)
                try:
                    cache.incr(key)
                except ValueError:  # expired between add and incr
                    cache.set(key, 1, timeout=window)
            return
        except Exception:
            _cache_failed()
    _db_failure_record(keys, window=window)


def success_record(keys: list[str]) -> None:
    """Forget the account's failures. The address keeps its count: one good account of the
    attacker's own must not reset the limit for guessing at everybody else's."""
    if _cache_up():
        try:
            cache.delete(keys[0])
        except Exception:
            _cache_failed()
    SignInFailure.objects.filter(key=keys[0]).delete()


def _db_failure_record(keys: list[str], *, window: int) -> None:
    now = timezone.now()
    expires = now + timedelta(seconds=window)
    SignInFailure.objects.filter(expires__lte=now).delete()
    for key in keys:
        with transaction.atomic():
            row, created = SignInFailure.objects.select_for_update().get_or_create(
                key=key, defaults={"count": 1, "expires": expires}
            )
            if not created:
                SignInFailure.objects.filter(pk=row.pk).update(count=F("count") + 1)
