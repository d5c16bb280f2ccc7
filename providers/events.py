"""The provider-event registry: which handler processes a stored callback of a given kind.

Each app declares its handlers in ONE module (`messaging/events.py`, `calls/events.py`) and
registers them from its AppConfig.ready, so the list of events an app reacts to is read in
one place and a typo fails at start-up, not when the first event arrives. The processor
(providers.services) asks `handler_for(provider, kind)` and drains only the kinds that have
a handler; other stored events (e.g. `voice_start`, answered in the request) stay as records.

A handler takes the stored event, runs inside its transaction and tenant scope, must be
idempotent (an event can be processed again after a crash) and raises PayloadError for a
payload that can never be processed: the event then fails with that reason, without retries.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING

from django.core.exceptions import ImproperlyConfigured

if TYPE_CHECKING:
    from providers.models import WebhookEvent

Handler = Callable[["WebhookEvent"], None]

_handlers: dict[tuple[str, str], Handler] = {}


class PayloadError(Exception):
    """The payload is missing or has a malformed field; the event fails with this reason."""


def register(provider: str, kind: str, handler: Handler) -> None:
    """Declare `handler` for events `provider:kind`; one handler per kind (re-registering the
    same function is harmless: an app's ready() may run again in tests)."""
    key = (provider, kind)
    known = _handlers.get(key)
    if known is not None and known is not handler:
        raise ImproperlyConfigured(
            f"Two handlers for {provider}:{kind}: {_name(known)} and {_name(handler)}"
        )
    _handlers[key] = handler


def handler_for(provider: str, kind: str) -> Handler:
    """The handler for a stored event; KeyError when none is registered."""
    return _handlers[(provider, kind)]


def handled_kinds() -> list[tuple[str, str]]:
    """(provider, kind) of every registered handler, in registration order."""
    return list(_handlers)


def require(payload: Mapping[str, object], *fields: str) -> list[str]:
    """The named fields as non-empty strings, or PayloadError naming the first missing one."""
    values = []
    for name in fields:
        value = payload.get(name)
        if not isinstance(value, str) or not value.strip():
            raise PayloadError(f'missing field "{name}"')
        values.append(value.strip())
    return values


def _name(handler: Handler) -> str:
    return f"{handler.__module__}.{getattr(handler, '__qualname__', handler)}"
