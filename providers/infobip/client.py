"""A small, typed client for Infobip's Numbers API (buy and manage phone numbers).

Plain ``requests``, no Django. Usage::

    client = InfobipClient(base_url="https://xxxxx.api.infobip.com", api_key=...)
    client.available(country="SE", capabilities=["SMS"], number=None, limit=10, page=0)
                                                    -> NumberPage
    client.owned(limit=50, page=0, number=None)     -> NumberPage
    client.iter_owned()                             -> Iterator[InfobipNumber] (every page)
    client.get(number_key)                          -> InfobipNumber
    client.purchase(number_key=... | number=..., application_id=None, entity_id=None)
                                                    -> InfobipNumber   (costs money!)
    client.update(number_key, application_id=..., entity_id=...) -> InfobipNumber
    client.cancel(number_key, missing_ok=False)     -> None
    client.find_owned(number)                       -> InfobipNumber | None

Every request has a timeout and raises an :mod:`providers.infobip.errors` exception on failure;
nothing is retried here (callers decide, see ``InfobipError.retryable``). Purchases have no
idempotency key: after a timeout or 5xx (``maybe_accepted``) call :meth:`find_owned` before
buying again. Infobip allows about 1 request/s on lists and writes: a 429 is normal under load.

``numbers_prefix`` is a setting because Infobip has served the same operations under
``/numbers/1/numbers`` (current) and ``/sms/1/numbers`` (older docs).
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from decimal import Decimal
from typing import Any
from urllib.parse import quote

import requests

from core.http import Transport, retry_after

from .errors import (
    InfobipAuthError,
    InfobipConnectionError,
    InfobipError,
    InfobipInvalidRequest,
    InfobipInvalidResponse,
    InfobipNotFound,
    InfobipRateLimited,
    InfobipServerError,
    InfobipTimeout,
)
from .types import InfobipNumber, NumberPage, digits

__all__ = ["DEFAULT_NUMBERS_PREFIX", "LEGACY_NUMBERS_PREFIX", "InfobipClient"]

DEFAULT_NUMBERS_PREFIX = "/numbers/1/numbers"
LEGACY_NUMBERS_PREFIX = "/sms/1/numbers"
_TEXT_MAX = 300
_MAX_PAGES = 1000  # a paging walk stops here even if Infobip keeps answering full pages


class InfobipClient(Transport):
    provider = "Infobip"
    base_error = InfobipError
    timeout_error = InfobipTimeout
    connection_error = InfobipConnectionError
    invalid_response_error = InfobipInvalidResponse
    invalid_body_field = "text"

    def __init__(
        self,
        *,
        base_url: str,
        api_key: str,
        timeout: float = 10.0,
        numbers_prefix: str = DEFAULT_NUMBERS_PREFIX,
        session: requests.Session | None = None,
    ) -> None:
        if not base_url:
            raise ValueError("base_url is required (the account's https://xxxxx.api.infobip.com)")
        self.base_url = base_url.rstrip("/")
        self.timeout = timeout
        self.numbers_prefix = "/" + numbers_prefix.strip("/")
        self._api_key = api_key
        self._session = session or requests.Session()

    def __repr__(self) -> str:
        return f"InfobipClient(base_url={self.base_url!r}, numbers_prefix={self.numbers_prefix!r})"

    # -- numbers -----------------------------------------------------------------------------

    def available(
        self,
        *,
        country: str,
        capabilities: Sequence[str] | None = None,
        number: str | None = None,
        limit: int = 10,
        page: int = 0,
    ) -> NumberPage:
        """Numbers for sale in ``country`` (ISO-2) offering every capability given (``SMS``,
        ``VOICE``, ``MMS``); ``number`` keeps those whose digits contain it."""
        params = {
            "country": country.upper(),
            # A list is sent as a repeated parameter: capabilities=SMS&capabilities=VOICE.
            "capabilities": [c.upper() for c in capabilities] if capabilities else None,
            "number": digits(number) if number else None,
            "limit": limit,
            "page": page,
        }
        body = self._json("GET", f"{self.numbers_prefix}/available", params=params)
        return NumberPage.from_api(body, page=page, limit=limit)

    def owned(self, *, limit: int = 50, page: int = 0, number: str | None = None) -> NumberPage:
        """One page of the numbers this account owns."""
        params = {"limit": limit, "page": page, "number": digits(number) if number else None}
        body = self._json("GET", self.numbers_prefix, params=params)
        return NumberPage.from_api(body, page=page, limit=limit)

    def iter_owned(self, *, limit: int = 50, number: str | None = None) -> Iterator[InfobipNumber]:
        """Every owned number, walking the pages lazily (each number once)."""
        seen: set[str] = set()
        for page_no in range(_MAX_PAGES):
            page = self.owned(limit=limit, page=page_no, number=number)
            for item in page.numbers:
                # A purchase or cancel between two pages shifts rows: skip repeats.
                if item.number_key and item.number_key in seen:
                    continue
                seen.add(item.number_key)
                yield item
            if len(page.numbers) < limit or not page.has_more:
                return

    def get(self, number_key: str) -> InfobipNumber:
        """One owned number; :class:`InfobipNotFound` if this account does not own it."""
        return InfobipNumber.from_api(self._json("GET", self._number_path(number_key)))

    def purchase(
        self,
        *,
        number_key: str | None = None,
        number: str | None = None,
        application_id: str | None = None,
        entity_id: str | None = None,
    ) -> InfobipNumber:
        """Buy a number (a monthly charge). Give ``number_key`` from :meth:`available`, or for
        US numbers the ``number`` itself. NOT idempotent: on an error with ``maybe_accepted``
        look the number up with :meth:`find_owned` before trying again."""
        if (number_key is None) == (number is None):
            raise ValueError("give exactly one of number_key or number")
        body: dict[str, Any] = (
            {"numberKey": number_key} if number_key is not None else {"number": digits(number)}
        )
        body.update(_present(applicationId=application_id, entityId=entity_id))
        answer = self._json("POST", self.numbers_prefix, json_body=body, expect=(200, 201))
        return InfobipNumber.from_api(answer)

    def update(
        self,
        number_key: str,
        *,
        application_id: str | None = None,
        entity_id: str | None = None,
    ) -> InfobipNumber:
        """Change a number's ``applicationId``/``entityId`` (the only fields PUT takes)."""
        body = _present(applicationId=application_id, entityId=entity_id)
        if not body:
            raise ValueError("nothing to update: give application_id and/or entity_id")
        path = self._number_path(number_key)
        response = self._request("PUT", path, json_body=body, expect=(200, 201, 204))
        if response.status_code == 204 or not response.content.strip():
            return self.get(number_key)  # tolerate an empty answer: read the result back
        return InfobipNumber.from_api(self._parse(response, "PUT", path))

    def cancel(self, number_key: str, *, missing_ok: bool = False) -> None:
        """Give the number back (it becomes available to others). With ``missing_ok`` a 404 is
        taken as "already cancelled", e.g. when repeating a DELETE whose answer was lost."""
        try:
            self._request("DELETE", self._number_path(number_key), expect=(200, 202, 204))
        except InfobipNotFound:
            if not missing_ok:
                raise

    def find_owned(self, number: str) -> InfobipNumber | None:
        """The owned number equal to ``number`` (any format: ``+46…``, digits), else ``None``.
        Use it after a purchase that timed out to learn whether it went through."""
        wanted = digits(number)
        if not wanted:
            raise ValueError("number must contain digits")
        # ``number`` filters by "contains": several numbers may match; keep the exact one.
        for item in self.iter_owned(number=wanted):
            if item.number == wanted:
                return item
        return None

    # -- transport ---------------------------------------------------------------------------

    def _number_path(self, number_key: str) -> str:
        if not number_key:
            raise ValueError("number_key is required")
        # Keys are opaque and may hold "%", "/" or "+": encode everything.
        return f"{self.numbers_prefix}/{quote(number_key, safe='')}"

    def _request(
        self,
        method: str,
        path: str,
        *,
        params: Mapping[str, Any] | None = None,
        json_body: Mapping[str, Any] | None = None,
        expect: tuple[int, ...] = (200,),
    ) -> requests.Response:
        url = f"{self.base_url}{path}"
        query = {k: v for k, v in (params or {}).items() if v is not None}
        write = method != "GET"
        response = self._send(
            method,
            url,
            path=path,
            write=write,
            params=query or None,
            json=json_body,
            headers={"Authorization": f"App {self._api_key}", "Accept": "application/json"},
        )
        if response.status_code >= 400:
            raise error_for(response, method, path)
        if response.status_code not in expect:
            raise InfobipInvalidResponse(
                f"Infobip answered with an unexpected HTTP {response.status_code}.",
                status=response.status_code,
                retryable=False,
                text=_short(response.text),
                method=method,
                path=path,
            )
        return response

    def _json(self, method: str, path: str, **kwargs: Any) -> dict[str, Any]:
        return self._parse(self._request(method, path, **kwargs), method, path)

    def _parse(self, response: requests.Response, method: str, path: str) -> dict[str, Any]:
        return self._json_object(response, method=method, path=path, parse_float=Decimal)

    def _excerpt(self, text: str) -> str:
        return _short(text)


def _present(**values: str | None) -> dict[str, str]:
    return {k: v for k, v in values.items() if v is not None}


def _short(text: str | None) -> str:
    return " ".join((text or "").split())[:_TEXT_MAX]


def parse_error_body(body: object) -> tuple[str | None, str, dict[str, list[str]]]:
    """(message id / error code, text, validation errors) from either documented error shape:

    - ``{"requestError": {"serviceException": {"messageId", "text", "validationErrors"}}}``
    - the Resources API ``{"errorCode", "description", "action", "violations": [{property,
      violation}]}``

    Anything else gives ``(None, "", {})``.
    """
    if not isinstance(body, Mapping):
        return None, "", {}
    request_error = body.get("requestError")
    if isinstance(request_error, Mapping):
        exc = request_error.get("serviceException") or request_error.get("policyException")
        if isinstance(exc, Mapping):
            message_id = exc.get("messageId")
            return (
                str(message_id) if message_id is not None else None,
                str(exc.get("text") or ""),
                _validation_errors(exc.get("validationErrors")),
            )
    if "errorCode" in body or "description" in body or "violations" in body:
        code = body.get("errorCode")
        description = str(body.get("description") or "").strip()
        action = str(body.get("action") or "").strip()
        if description and action and not description.endswith("."):
            description += "."
        text = " ".join(part for part in (description, action) if part)
        errors: dict[str, list[str]] = {}
        for item in body.get("violations") or []:
            if isinstance(item, Mapping):
                prop = str(item.get("property") or item.get("field") or "")
                errors.setdefault(prop, []).append(str(item.get("violation") or ""))
        return (str(code) if code is not None else None, text, errors)
    return None, "", {}


def _validation_errors(value: object) -> dict[str, list[str]]:
    if not isinstance(value, Mapping):
        return {}
    errors: dict[str, list[str]] = {}
    for key, problems in value.items():
        if isinstance(problems, list | tuple):
            errors[str(key)] = [str(p) for p in problems]
        elif problems is not None:
            errors[str(key)] = [str(problems)]
    return errors


def _describe(text: str, errors: Mapping[str, list[str]]) -> str:
    details = "; ".join(
        f"{field}: {', '.join(problems)}" if field else ", ".join(problems)
        for field, problems in errors.items()
    )
    if text and details:
        return f"{text.rstrip('.')} ({details})"
    return text or details


def error_for(response: requests.Response, method: str, path: str) -> InfobipError:
    """Map an HTTP error answer to the matching exception, keeping Infobip's explanation."""
    status = response.status_code
    try:
        body = response.json() if response.content.strip() else None
    except ValueError:
        body = None
    message_id, text, errors = parse_error_body(body)
    if not text and body is None:
        text = (
            _short(response.text) if "html" not in response.headers.get("Content-Type", "") else ""
        )
    detail = _describe(text, errors)
    common: dict[str, Any] = {
        "status": status,
        "message_id": message_id,
        "validation_errors": errors,
        "text": text,
        "method": method,
        "path": path,
    }
    write = method != "GET"
    if status in (401, 403):
        verb = "rejected the API key" if status == 401 else "refused access"
        extra = f": {detail}" if detail else "."
        return InfobipAuthError(
            f"Infobip {verb}{extra} Check the key and its numbers:manage scope.",
            retryable=False,
            **common,
        )
    if status == 404:
        return InfobipNotFound(
            f"Not found at Infobip ({method} {path}).", retryable=False, **common
        )
    if status == 429:
        return InfobipRateLimited(
            "Infobip is limiting how fast we call it. Try again shortly.",
            retry_after=retry_after(response.headers),
            **common,
        )
    if status >= 500:
        note = " It may still have been processed: check before retrying." if write else ""
        return InfobipServerError(
            f"Infobip had a problem on their side (HTTP {status}). Try again shortly.{note}",
            retryable=True,
            maybe_accepted=write,
            **common,
        )
    message = (
        f"Infobip rejected the request: {detail}"
        if detail
        else f"Infobip rejected the request (HTTP {status})."
    )
    return InfobipInvalidRequest(message, retryable=False, **common)
