"""What-if variants of the web app, for the ingestion benchmark only (never for production).

The application is config.wsgi's, with the changes named in BENCH_WHATIF (comma-separated)
patched in at start-up, so a proposed code change can be measured under the same load before
anyone makes it:

  lean    the webhook's number lookup loads only the columns an SMS callback uses, without
          the tenant and greeting joins (until 9ed5259 numbers.selectors.number_for_hook_token
          selected ~60 columns over three tables for every callback; since then the code does
          this itself and the variant changes nothing)
  nohc    CONN_HEALTH_CHECKS off: no `SELECT 1` before the first query of every request
          (the default since 9ed5259)
  cache   the number lookup's result is kept in the worker process for 10 s, by token
          (after `lean` when both are named; a released number keeps answering for 10 s)
  fastwake  the same wake (SET NX with the same key and expiry, publish when it was free)
          through one redis-py client kept by the process, instead of Django's cache API,
          which builds a new client (with its ~170 response callbacks) and pickles per call
  nowake  no wake per stored event (the upper bound of what a cheaper wake could save)
  bare    /hooks/ requests go through SecurityMiddleware only (no sessions, CSRF, auth,
          messages, CSP, htmx or tenant resolution, none of which a provider callback uses)

Served by: gunicorn whatif_wsgi:application (webhook_ingest.py does this for `sync:4@lean`).
"""

from __future__ import annotations

import importlib
import inspect
import os

from django.conf import settings
from django.db import connections

from config.wsgi import application

# After Django is set up (config seats the `numbers` app over the standard-library module).
hooks = importlib.import_module("numbers.webhooks")

WHATIF = {v.strip() for v in os.environ.get("BENCH_WHATIF", "").split(",") if v.strip()}
unknown = WHATIF - {"lean", "nohc", "cache", "fastwake", "nowake", "bare"}
if unknown:
    raise SystemExit(f"unknown BENCH_WHATIF variant(s): {', '.join(sorted(unknown))}")

# Since 9ed5259 the selector takes `full=` and the view asks for the lean row except for calls.
_HAS_LEAN_PATH = "full" in inspect.signature(hooks.number_for_hook_token).parameters

if "lean" in WHATIF and not _HAS_LEAN_PATH:  # on later commits the code already does this
    from django.db.models import Q
    from django.utils import timezone
    from django_scopes import scopes_disabled

    from numbers.models import PhoneNumber

    def lean_number_for_hook_token(token: str) -> PhoneNumber | None:
        with scopes_disabled():
            return (
                PhoneNumber.objects.filter(
                    Q(hook_token=token)
                    | Q(previous_hook_token=token, previous_hook_token_until__gt=timezone.now())
                )
                .only(
                    "id",
                    "tenant_id",
                    "number",
                    "status",
                    "has_sms",
                    "sms_autoreply_enabled",
                    "sms_autoreply_text",
                )
                .first()
            )

    hooks.number_for_hook_token = lean_number_for_hook_token

if "cache" in WHATIF:
    import time

    _lookup = hooks.number_for_hook_token
    _cache: dict[tuple[str, object], tuple[float, object]] = {}

    def cached_number_for_hook_token(token: str, **kwargs: object):  # type: ignore[no-untyped-def]
        key = (token, kwargs.get("full"))
        now = time.monotonic()
        hit = _cache.get(key)
        if hit is not None and hit[0] > now:
            return hit[1]
        number = _lookup(token, **kwargs)
        if len(_cache) > 10_000:
            _cache.clear()
        _cache[key] = (now + 10.0, number)
        return number

    hooks.number_for_hook_token = cached_number_for_hook_token

if "nohc" in WHATIF:
    settings.DATABASES["default"]["CONN_HEALTH_CHECKS"] = False
    for conn in connections.all(initialized_only=True):
        conn.settings_dict["CONN_HEALTH_CHECKS"] = False

if "fastwake" in WHATIF:
    import logging

    import redis
    from django.core.cache import cache

    import providers.services as services

    _client = redis.Redis.from_url(settings.REDIS_URL)
    _key = cache.make_and_validate_key(services.WAKE_KEY)
    _ms = int(settings.WEBHOOK_WAKE_SECONDS * 1000)

    def fast_wake_processor() -> None:
        try:
            if not _client.set(_key, b"1", nx=True, px=_ms):
                return
            from providers.tasks import webhooks_drain

            webhooks_drain.apply_async(retry=False)
        except Exception:
            logging.getLogger(__name__).warning("Could not wake the processor", exc_info=True)

    services.wake_processor = fast_wake_processor

if "nowake" in WHATIF:
    import providers.services as services

    services.wake_processor = lambda: None

if "bare" in WHATIF:
    from django.core.handlers.wsgi import WSGIHandler

    _full = application
    _middleware = settings.MIDDLEWARE
    settings.MIDDLEWARE = ["django.middleware.security.SecurityMiddleware"]
    try:
        _bare = WSGIHandler()  # reads settings.MIDDLEWARE once, here
    finally:
        settings.MIDDLEWARE = _middleware

    def application(environ, start_response):  # type: ignore[no-untyped-def]
        handler = _bare if environ.get("PATH_INFO", "").startswith("/hooks/") else _full
        return handler(environ, start_response)


__all__ = ["application"]
