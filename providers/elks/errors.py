"""Errors raised by :class:`providers.elks.client.ElksClient`.

Every error is an :class:`ElksError` with ``status`` (HTTP status or ``None``), ``retryable``
(worth retrying with backoff: 429, 5xx, timeouts, connection failures) and ``reason`` (46elks'
plain-text error body, e.g. ``Missing key "to"``). ``str(err)`` is a sentence fit to show a user.

``maybe_accepted`` is true when 46elks may have processed the request even though we got no
answer (a POST that timed out or lost its connection after sending). For calls that cost money
(SMS, MMS, calls, number rental) never retry blindly in that case: check the lists first.
"""

from __future__ import annotations

from core.http import TransportError

__all__ = [
    "ElksAuthError",
    "ElksConnectionError",
    "ElksError",
    "ElksForbidden",
    "ElksInvalidRequest",
    "ElksInvalidResponse",
    "ElksNotFound",
    "ElksRateLimited",
    "ElksServerError",
    "ElksTimeout",
]


class ElksError(TransportError):
    """Base class: anything that went wrong talking to 46elks."""

    def __init__(
        self,
        message: str,
        *,
        status: int | None = None,
        retryable: bool,
        reason: str = "",
        method: str = "",
        path: str = "",
        maybe_accepted: bool = False,
    ) -> None:
        super().__init__(
            message,
            status=status,
            retryable=retryable,
            maybe_accepted=maybe_accepted,
            method=method,
            path=path,
        )
        self.reason = reason


class ElksAuthError(ElksError):
    """401: the (sub)account credentials were rejected. Not retryable."""


class ElksForbidden(ElksAuthError):
    """403: authenticated but refused, e.g. a usage limit reached or a subaccount managing
    subaccounts. ``reason`` holds 46elks' explanation. Not retryable."""


class ElksNotFound(ElksError):
    """404: no such object (or it belongs to another subaccount)."""


class ElksInvalidRequest(ElksError):
    """400 and other 4xx: 46elks refused the parameters; ``reason`` says why."""


class ElksRateLimited(ElksError):
    """429: too many requests. Retryable; ``retry_after`` is in seconds when 46elks said so."""

    def __init__(
        self,
        message: str,
        *,
        retry_after: float | None = None,
        status: int | None = 429,
        reason: str = "",
        method: str = "",
        path: str = "",
    ) -> None:
        super().__init__(
            message, status=status, retryable=True, reason=reason, method=method, path=path
        )
        self.retry_after = retry_after


class ElksServerError(ElksError):
    """5xx: a problem on 46elks' side. Retryable with backoff."""


class ElksTimeout(ElksError):
    """No answer within the client timeout. Retryable, but see ``maybe_accepted``: a POST that
    timed out after being sent may still have been accepted (and charged) by 46elks."""


class ElksConnectionError(ElksError):
    """Could not reach 46elks (refused, DNS, reset). Retryable; ``maybe_accepted`` as above."""


class ElksInvalidResponse(ElksError):
    """A 2xx answer we could not understand (not JSON). Not retryable."""
