"""Errors raised by :class:`providers.infobip.client.InfobipClient`.

Every error is an :class:`InfobipError` with ``status`` (HTTP status or ``None``), ``retryable``
(worth retrying with backoff: 429, 5xx, timeouts, connection failures), ``message_id`` (Infobip's
``messageId`` such as ``BAD_REQUEST``, or the Resources API ``errorCode`` such as ``E400``),
``text`` (Infobip's own explanation) and ``validation_errors`` (``{field: [problem, ...]}``).
``str(err)`` is a sentence fit to show a user.

``maybe_accepted`` is true when Infobip may have processed a write although we got no answer
(a POST/PUT/DELETE that timed out or lost its connection after sending). Buying a number is not
idempotent: in that case check :meth:`InfobipClient.find_owned` before trying again.
"""

from __future__ import annotations

from collections.abc import Mapping

from core.http import TransportError

__all__ = [
    "InfobipAuthError",
    "InfobipConnectionError",
    "InfobipError",
    "InfobipInvalidRequest",
    "InfobipInvalidResponse",
    "InfobipNotFound",
    "InfobipRateLimited",
    "InfobipServerError",
    "InfobipTimeout",
]


class InfobipError(TransportError):
    """Base class: anything that went wrong talking to Infobip."""

    def __init__(
        self,
        message: str,
        *,
        status: int | None = None,
        retryable: bool,
        message_id: str | None = None,
        validation_errors: Mapping[str, list[str]] | None = None,
        maybe_accepted: bool = False,
        text: str = "",
        method: str = "",
        path: str = "",
    ) -> None:
        super().__init__(
            message,
            status=status,
            retryable=retryable,
            maybe_accepted=maybe_accepted,
            method=method,
            path=path,
        )
        self.message_id = message_id
        self.validation_errors: dict[str, list[str]] = dict(validation_errors or {})
        self.text = text

    def __repr__(self) -> str:
        return (
            f"{type(self).__name__}({self.message!r}, status={self.status!r}, "
            f"message_id={self.message_id!r}, retryable={self.retryable!r})"
        )


class InfobipAuthError(InfobipError):
    """401/403: the API key was rejected or lacks the ``numbers:manage`` scope. Not retryable."""


class InfobipNotFound(InfobipError):
    """404: no such number key (Infobip often sends no body). Not retryable."""


class InfobipInvalidRequest(InfobipError):
    """400 and other 4xx: Infobip refused the request; ``text`` and ``validation_errors`` say
    why (e.g. a number that is no longer available). Not retryable."""


class InfobipRateLimited(InfobipError):
    """429: over the account's request rate (1 req/s for lists and writes). Retryable;
    ``retry_after`` is in seconds when the answer carried a ``Retry-After`` header."""

    def __init__(self, message: str, *, retry_after: float | None = None, **kwargs: object) -> None:
        kwargs.setdefault("status", 429)
        kwargs["retryable"] = True
        super().__init__(message, **kwargs)
        self.retry_after = retry_after


class InfobipServerError(InfobipError):
    """5xx: a problem on Infobip's side. Retryable with backoff, but a purchase that got a 5xx
    may still have gone through: check ``find_owned`` first (``maybe_accepted`` is set)."""


class InfobipTimeout(InfobipError):
    """No answer within the client timeout. Retryable, but see ``maybe_accepted``."""


class InfobipConnectionError(InfobipError):
    """Could not reach Infobip (refused, DNS, reset). Retryable; ``maybe_accepted`` as above."""


class InfobipInvalidResponse(InfobipError):
    """A 2xx answer we could not understand (not JSON, or not an object). Not retryable."""
