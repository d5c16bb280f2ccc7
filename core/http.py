"""Outbound HTTP: one transport base for the provider clients and the customer-webhook sender.

No Django. What every outbound call shares:

* a timeout on every request (a stuck peer never hangs a worker);
* one error taxonomy, :class:`TransportError`: ``status`` (HTTP status or None), ``retryable``
  (worth retrying with backoff: 429, 5xx, timeouts, connection failures) and ``maybe_accepted``
  (the peer may have acted on a write although no answer came back: a read timeout or a lost
  connection after sending; a connect timeout or a refused connection means nothing was sent).
  Each provider subclasses it (ElksError, InfobipError) and keeps its own messages and fields;
* ``Retry-After`` read the same way (:func:`retry_after`);
* :func:`pinned_post`: a POST to an address checked beforehand (customer webhooks resolve and
  vet the host first, then connect to that address only, so DNS cannot be rebound in between).

:class:`Transport` is the requests-based half the provider clients inherit: ``_send`` turns
requests' exceptions into the provider's timeout / connection / base error classes.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, ClassVar
from urllib.parse import urlsplit

import requests
import urllib3

_SENT_UNANSWERED = (urllib3.exceptions.ReadTimeoutError, urllib3.exceptions.ProtocolError)
MAYBE_PROCESSED = " It may still have been processed: check before retrying."


class TransportError(Exception):
    """Base class: anything that went wrong on an outbound HTTP call."""

    def __init__(
        self,
        message: str,
        *,
        status: int | None = None,
        retryable: bool,
        maybe_accepted: bool = False,
        method: str = "",
        path: str = "",
    ) -> None:
        super().__init__(message)
        self.message = message
        self.status = status
        self.retryable = retryable
        self.maybe_accepted = maybe_accepted
        self.method = method
        self.path = path

    def __str__(self) -> str:
        return self.message

    def __repr__(self) -> str:
        return (
            f"{type(self).__name__}({self.message!r}, status={self.status!r}, "
            f"retryable={self.retryable!r})"
        )


def retry_after(headers: Mapping[str, str]) -> float | None:
    """Seconds from a ``Retry-After: <seconds>`` header; None when absent or not a number."""
    value = headers.get("Retry-After")
    try:
        return max(0.0, float(value)) if value else None
    except ValueError:
        return None


class Transport:
    """requests-based sending for a provider client: subclasses name their error classes."""

    provider: ClassVar[str]  # as shown to users: "46elks", "Infobip"
    base_error: ClassVar[type[TransportError]]
    timeout_error: ClassVar[type[TransportError]]
    connection_error: ClassVar[type[TransportError]]
    invalid_response_error: ClassVar[type[TransportError]]
    invalid_body_field: ClassVar[str]  # the invalid-response error's field for the body excerpt

    timeout: float
    _session: requests.Session

    def _send(
        self, method: str, url: str, *, path: str, write: bool, **kwargs: Any
    ) -> requests.Response:
        """One request with the client's timeout; requests' failures become the provider's
        errors. ``write``: whether the call changes something upstream (see maybe_accepted)."""
        try:
            return self._session.request(method, url, timeout=self.timeout, **kwargs)
        except requests.Timeout as exc:
            # A connect timeout means nothing was sent; a read timeout on a write is ambiguous.
            maybe = write and not isinstance(exc, requests.ConnectTimeout)
            note = MAYBE_PROCESSED if maybe else ""
            raise self.timeout_error(
                f"{self.provider} did not answer within {self.timeout:g} seconds.{note}",
                retryable=True,
                maybe_accepted=maybe,
                method=method,
                path=path,
            ) from exc
        except requests.ConnectionError as exc:
            refused = "NewConnectionError" in repr(exc) or "NameResolution" in repr(exc)
            raise self.connection_error(
                f"Could not connect to {self.provider}. Try again in a moment.",
                retryable=True,
                maybe_accepted=write and not refused,
                method=method,
                path=path,
            ) from exc
        except requests.RequestException as exc:
            raise self.base_error(
                f"Request to {self.provider} failed: {exc}",
                retryable=False,
                method=method,
                path=path,
            ) from exc

    def _json_object(
        self, response: requests.Response, *, method: str, path: str, **json_options: Any
    ) -> dict[str, Any]:
        """The answer's JSON object; the provider's invalid-response error (not retryable: the
        same request would get the same answer) when it is not JSON or not an object."""
        try:
            body = response.json(**json_options)
        except ValueError as exc:
            raise self._invalid_response(
                f"{self.provider} sent an answer we could not read.",
                response=response,
                method=method,
                path=path,
                with_body=True,
            ) from exc
        if not isinstance(body, dict):
            raise self._invalid_response(
                f"{self.provider} sent an unexpected answer.",
                response=response,
                method=method,
                path=path,
                with_body=False,
            )
        return body

    def _invalid_response(
        self, message: str, *, response: requests.Response, method: str, path: str, with_body: bool
    ) -> TransportError:
        excerpt = {self.invalid_body_field: self._excerpt(response.text)} if with_body else {}
        return self.invalid_response_error(
            message,
            status=response.status_code,
            retryable=False,
            method=method,
            path=path,
            **excerpt,
        )

    def _excerpt(self, text: str) -> str:
        """What of an unreadable answer is kept on the error (and shown to staff)."""
        return text[:300]


def pinned_post(
    *,
    url: str,
    address: str,
    body: bytes,
    headers: Mapping[str, str],
    timeout: float,
    answer_limit: int,
) -> tuple[int, str]:
    """POST ``body`` to ``url`` but connect to ``address`` (checked by the caller); TLS is still
    verified against the URL's host. No redirects, no retries. Returns (status, the first
    ``answer_limit`` bytes of the answer as text); TransportError when no answer came back,
    ValueError for a URL urllib3 cannot use."""
    parts = urlsplit(url)
    host = parts.hostname or ""
    pool_timeout = urllib3.Timeout(connect=timeout, read=timeout)
    pool: urllib3.HTTPConnectionPool
    if parts.scheme == "https":
        pool = urllib3.HTTPSConnectionPool(
            address,
            parts.port or 443,
            timeout=pool_timeout,
            retries=False,
            cert_reqs="CERT_REQUIRED",
            ca_certs=_ca_bundle(),
            server_hostname=host,
            assert_hostname=host,
        )
    else:
        pool = urllib3.HTTPConnectionPool(
            address, parts.port or 80, timeout=pool_timeout, retries=False
        )
    path = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
    host_header = host if parts.port is None else f"{host}:{parts.port}"
    try:
        response = pool.urlopen(
            "POST",
            path,
            body=body,
            headers={**headers, "Host": host_header},
            redirect=False,
            retries=False,
            preload_content=False,
        )
        try:
            answer = response.read(answer_limit, decode_content=False)
        finally:
            response.release_conn()
    except (urllib3.exceptions.HTTPError, OSError) as exc:
        # Sent but unanswered (read timeout, connection lost mid-answer) may have been acted on.
        sent = isinstance(
            exc, urllib3.exceptions.ReadTimeoutError | urllib3.exceptions.ProtocolError
        )
        raise TransportError(
            f"{type(exc).__name__}: {exc}",
            retryable=True,
            maybe_accepted=sent,
            method="POST",
            path=path,
        ) from exc
    finally:
        pool.close()
    return response.status, answer.decode("utf-8", "replace").strip()


def _ca_bundle() -> str | None:
    try:
        import certifi
    except ImportError:  # pragma: no cover - requests brings certifi
        return None
    return certifi.where()
