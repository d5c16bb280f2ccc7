"""The provider-event registry: which handler processes a stored callback of a given kind.

Each app declares its handlers in ONE module (`messaging/events.py`, `calls/events.py`) and
registers them from its AppConfig.ready, so the list of events an app reacts to is read in
one place and a typo fails at start-up, not when the first event arrives. The processor
(providers.services) asks `handler_for(provider, kind)` and drains only the kinds that have
a handler; other stored events (e.g. `voice_start`, answered in the request) stay as records.

A handler takes the stored event, runs inside its transaction and tenant scope, must be
idempotent (an event can be processed again after a crash) and raises PayloadError for a
payload that can never be processed: the event then fails with that reason, without retries.

A kind may also have a *batch* handler (`register_batch`): the drain hands it every claimed
event of that kind at once, in arrival order, inside one transaction and with scopes disabled
(it must key every query on the events' tenants). It does set-based work (one lookup per
batch, bulk inserts) and must leave the same state as the one-event handler applied to the
same events in the same order. It reports the events it refuses with `Failures.fail`; if it
raises, the drain rolls its work back and runs the one-event handler per event instead, so a
poisoned event fails alone.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING

from django.core.exceptions import ImproperlyConfigured

if TYPE_CHECKING:
    from providers.models import WebhookEvent

Handler = Callable[["WebhookEvent"], None]


class Failures:
    """What a batch handler refused: event id → reason (the event fails without retries)."""

    def __init__(self) -> None:
        self.reasons: dict[int, str] = {}

    def fail(self, event: WebhookEvent, reason: str) -> None:
        self.reasons[event.pk] = reason


BatchHandler = Callable[[list["WebhookEvent"], Failures], None]


class Refused(Exception):
    """The event is refused for good with this reason, worded as it should be shown."""


def one_of_batch(batch: BatchHandler, event: WebhookEvent) -> None:
    """A kind's one-event handler when its batch handler does the work: a batch of one, so
    the one-event and the batched paths are the same code and cannot drift apart."""
    refused = Failures()
    batch([event], refused)
    if event.pk in refused.reasons:
        raise Refused(refused.reasons[event.pk])


_handlers: dict[tuple[str, str], Handler] = {}
_batch_handlers: dict[tuple[str, str], BatchHandler] = {}


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


def register_batch(provider: str, kind: str, handler: BatchHandler) -> None:
    """Declare the set-based form of a kind's handler (the one-event handler stays required:
    staff retries and a batch that raised use it)."""
    key = (provider, kind)
    known = _batch_handlers.get(key)
    if known is not None and known is not handler:
        raise ImproperlyConfigured(
            f"Two batch handlers for {provider}:{kind}: {_name(known)} and {_name(handler)}"
        )
    _batch_handlers[key] = handler


def batch_handler_for(provider: str, kind: str) -> BatchHandler | None:
    return _batch_handlers.get((provider, kind))


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


def _name(handler: Handler | BatchHandler) -> str:
    return f"{handler.__module__}.{getattr(handler, '__qualname__', handler)}"
