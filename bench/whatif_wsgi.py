"""What-if variants of the web app, for the ingestion benchmark only (never for production).

The application is config.wsgi's, with the changes named in BENCH_WHATIF (comma-separated)
applied at start-up, so each piece of the webhook path can be measured under the same load.
Since the fast-path commit the code ships every optimisation the earlier variants proposed;
the variants now take one away at a time, to show what each is worth:

  nocache   no per-process cache of the number behind a token (HOOK_NUMBER_CACHE_SECONDS=0):
            one lean SELECT per callback
  perevent  the wake asks Redis for every stored event (as before the wake window: one
            round trip per webhook) instead of once per process per window
  fullmw    no ProviderCallbackMiddleware: /hooks/ goes through the whole browser middleware
            stack (sessions, CSRF, auth, messages, CSP, htmx, the tenant middleware)
  noprep    the store's INSERT bound client-side by Django (parsed and planned per request)
            instead of prepared once per connection (WEBHOOK_PREPARED_INSERT=false)
  nowake    no wake per stored event (the upper bound of what a cheaper wake could save;
            not a proposal: events would wait for the one-minute replay)

Served by: gunicorn whatif_wsgi:application (webhook_ingest.py does this for `sync:4@nocache`).
"""

from __future__ import annotations

import os

from django.conf import settings

WHATIF = {v.strip() for v in os.environ.get("BENCH_WHATIF", "").split(",") if v.strip()}
unknown = WHATIF - {"nocache", "perevent", "fullmw", "noprep", "nowake"}
if unknown:
    raise SystemExit(f"unknown BENCH_WHATIF variant(s): {', '.join(sorted(unknown))}")

if "fullmw" in WHATIF:
    # Before the handler below is built: it reads settings.MIDDLEWARE once.
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.base")
    import django

    django.setup()
    settings.MIDDLEWARE = [
        m for m in settings.MIDDLEWARE if m != "providers.middleware.ProviderCallbackMiddleware"
    ]

from config.wsgi import application  # noqa: E402

if "nocache" in WHATIF:
    settings.HOOK_NUMBER_CACHE_SECONDS = 0

if "noprep" in WHATIF:
    settings.WEBHOOK_PREPARED_INSERT = False

if "perevent" in WHATIF:
    from providers import wake

    wake._MARGIN_SECONDS = 1e9  # never trust a known window: one Lua call per event

if "nowake" in WHATIF:
    import providers.services as services

    services.wake_processor = lambda: None


__all__ = ["application"]
