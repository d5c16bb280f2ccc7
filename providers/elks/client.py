"""A small, typed client for the 46elks REST API (https://api.46elks.com/a1).

Plain ``requests``, no Django. Usage::

    client = ElksClient(base_url="https://api.46elks.com/a1", username=..., password=...)
    client.me()                                            -> Account
    client.subaccount_create(name=..., usagelimit=None)    -> Subaccount
    client.subaccounts(active=None)                        -> Iterator[Subaccount] (all pages)
    client.subaccount_get(id) / subaccount_update(id, name=, usagelimit=int|"none", secret=,
                                                  active=)
    client.for_subaccount(sub_id, secret)                  -> ElksClient acting as the subaccount
    client.number_allocate(country=, capabilities=[...], category=, sms_url=, mms_url=,
                           voice_start=, sms_replies=, name=)   -> Number
    client.numbers() / number_get(id) / number_update(id, ...) / number_deactivate(id)
    client.sms_send(from_=, to=, message=, whendelivered=, flashsms=, dryrun=, dontlog=) -> Sms
    client.sms_list(to=, start=, end=) / sms_get(id)
    client.mms_send(from_=, to=, message=, image=) / mms_list() / mms_get(id)
    client.call_create(from_=, to=, voice_start=, whenhangup=, timeout=) / calls() / call_get(id)
    client.recordings() / recording_get(id) / recording_wav(id, max_bytes=) -> bytes
    client.images() / image_get(id) / image_file(id, ext="jpg", max_bytes=) -> bytes

Downloads (``recording_wav``, ``image_file``) take a 46elks object id, never a URL: the URL is
built from ``base_url`` and the id (checked by :mod:`providers.elks.ids`), and a redirect is
followed only when it stays under ``base_url``, so credentials never go to another origin.

Every request has a timeout and raises an :mod:`providers.elks.errors` exception on failure.
List methods are lazy generators that follow 46elks' ``next`` cursor through all pages.
Optional string settings take ``None`` for "leave unchanged"; pass ``"none"`` to clear one.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator, Mapping, Sequence
from datetime import datetime
from typing import Any, Literal, TypeVar
from urllib.parse import urljoin

import requests

from core.http import Transport, retry_after

from .errors import (
    ElksAuthError,
    ElksConnectionError,
    ElksError,
    ElksForbidden,
    ElksInvalidRequest,
    ElksInvalidResponse,
    ElksNotFound,
    ElksRateLimited,
    ElksServerError,
    ElksTimeout,
)
from .ids import IMAGE_EXTENSIONS, is_image_id, is_recording_id
from .types import (
    Account,
    Call,
    Image,
    Mms,
    Number,
    Recording,
    Sms,
    Subaccount,
    format_timestamp,
    parse_timestamp,
)

__all__ = ["DEFAULT_BASE_URL", "MAX_PAGE_SIZE", "ElksClient"]

DEFAULT_BASE_URL = "https://api.46elks.com/a1"
MAX_PAGE_SIZE = 100
_REASON_MAX = 300
MAX_DOWNLOAD_REDIRECTS = 3
DEFAULT_MAX_DOWNLOAD_BYTES = 50 * 1024 * 1024

T = TypeVar("T")
When = datetime | str | None
Action = str | Mapping[str, Any]


def _yes_no(value: bool | None) -> str | None:
    return None if value is None else ("yes" if value else "no")


def _action(value: Action | None) -> str | None:
    # voice_start / sms_url accept a URL or an inline JSON action.
    if value is None or isinstance(value, str):
        return value
    return json.dumps(value, separators=(",", ":"))


class ElksClient(Transport):
    provider = "46elks"
    base_error = ElksError
    timeout_error = ElksTimeout
    connection_error = ElksConnectionError
    invalid_response_error = ElksInvalidResponse
    invalid_body_field = "reason"

    def __init__(
        self,
        *,
        base_url: str = DEFAULT_BASE_URL,
        username: str,
        password: str,
        timeout: float = 10.0,
        session: requests.Session | None = None,
        page_size: int = MAX_PAGE_SIZE,
    ) -> None:
        if not 1 <= page_size <= MAX_PAGE_SIZE:
            raise ValueError(f"page_size must be 1..{MAX_PAGE_SIZE}")
        self.base_url = base_url.rstrip("/")
        self.username = username
        self.timeout = timeout
        self.page_size = page_size
        self._password = password
        if session is None:
            session = requests.Session()
            # Proxy settings are not read from the environment on every call (measured: 10%
            # of a campaign send's CPU); the provider is reached directly.
            session.trust_env = False
        self._session = session

    def __repr__(self) -> str:
        return f"ElksClient(base_url={self.base_url!r}, username={self.username!r})"

    def for_subaccount(self, subaccount_id: str, secret: str) -> ElksClient:
        """A client acting as a subaccount (same URL, timeout and session)."""
        return ElksClient(
            base_url=self.base_url,
            username=subaccount_id,
            password=secret,
            timeout=self.timeout,
            session=self._session,
            page_size=self.page_size,
        )

    # -- transport ---------------------------------------------------------------------------

    def _request(
        self,
        method: str,
        path: str,
        *,
        params: Mapping[str, Any] | None = None,
        data: Mapping[str, Any] | None = None,
        url: str | None = None,
        download: bool = False,
    ) -> requests.Response:
        url = url or f"{self.base_url}/{path.lstrip('/')}"
        form = {k: v for k, v in (data or {}).items() if v is not None}
        query = {k: v for k, v in (params or {}).items() if v is not None}
        response = self._send(
            method,
            url,
            path=path,
            write=method == "POST",  # 46elks changes things by POST only
            params=query or None,
            data=form if method == "POST" else None,
            auth=(self.username, self._password),
            headers={"Accept": "*/*" if download else "application/json"},
            # Downloads follow redirects by hand (see _download); nothing else expects one.
            allow_redirects=not download,
            stream=download,
        )
        if response.status_code >= 400:
            raise _error_for(response, method, path)
        return response

    def _json(self, method: str, path: str, **kwargs: Any) -> dict[str, Any]:
        response = self._request(method, path, **kwargs)
        return self._json_object(response, method=method, path=path)

    def _paginate(
        self, path: str, parse: Callable[[Mapping[str, Any]], T], params: Mapping[str, Any]
    ) -> Iterator[T]:
        """Follow 46elks' cursor: newest first, ``next`` goes back as ``start``.

        46elks' ``start`` means "created before", so pages do not overlap. For safety against
        a server that repeats the edge row anyway, ids yielded on the previous page are
        skipped; and the walk ends when ``next`` is not older than the ``start`` just sent (or
        was seen before), so a cursor that does not advance can never loop forever.
        """
        query = dict(params)
        query.setdefault("limit", self.page_size)
        previous_ids: set[str] = set()
        cursors: set[str] = set()
        while True:
            body = self._json("GET", path, params=query)
            rows = body.get("data") or []
            page_ids: set[str] = set()
            for row in rows:
                if not isinstance(row, Mapping):
                    continue
                row_id = str(row.get("id", ""))
                if row_id and (row_id in previous_ids or row_id in page_ids):
                    continue
                page_ids.add(row_id)
                yield parse(row)
            cursor = body.get("next")
            if not isinstance(cursor, str) or not cursor or not rows or cursor in cursors:
                return
            if not _is_older(cursor, query.get("start")):
                return
            cursors.add(cursor)
            previous_ids = page_ids
            query["start"] = cursor

    @staticmethod
    def _window(start: When, end: When) -> dict[str, Any]:
        return {
            "start": format_timestamp(start) if start is not None else None,
            "end": format_timestamp(end) if end is not None else None,
        }

    # -- account -----------------------------------------------------------------------------

    def me(self) -> Account:
        return Account.from_api(self._json("GET", "me"))

    # -- subaccounts -------------------------------------------------------------------------

    def subaccount_create(self, *, name: str, usagelimit: int | None = None) -> Subaccount:
        body = self._json("POST", "subaccounts", data={"name": name, "usagelimit": usagelimit})
        return Subaccount.from_api(body)

    def subaccounts(self, *, active: bool | None = None) -> Iterator[Subaccount]:
        return self._paginate("subaccounts", Subaccount.from_api, {"active": _yes_no(active)})

    def subaccount_get(self, subaccount_id: str) -> Subaccount:
        return Subaccount.from_api(self._json("GET", f"subaccounts/{subaccount_id}"))

    def subaccount_update(
        self,
        subaccount_id: str,
        *,
        name: str | None = None,
        usagelimit: int | Literal["none"] | None = None,
        secret: str | None = None,
        active: bool | None = None,
    ) -> Subaccount:
        """``usagelimit="none"`` removes the cap; ``secret="new"`` rotates the secret;
        ``active=False`` is permanent and refused while the subaccount holds numbers."""
        data = {"name": name, "usagelimit": usagelimit, "secret": secret, "active": _yes_no(active)}
        return Subaccount.from_api(self._json("POST", f"subaccounts/{subaccount_id}", data=data))

    # -- numbers -----------------------------------------------------------------------------

    def number_allocate(
        self,
        *,
        country: str,
        capabilities: Sequence[str],
        category: str | None = None,
        sms_url: Action | None = None,
        mms_url: str | None = None,
        voice_start: Action | None = None,
        sms_replies: bool | None = None,
        name: str | None = None,
    ) -> Number:
        """Rent a number (a monthly charge at 46elks)."""
        data = {
            "country": country.lower(),
            "capabilities": ",".join(capabilities),
            "category": category,
            "sms_url": _action(sms_url),
            "mms_url": mms_url,
            "voice_start": _action(voice_start),
            "sms_replies": _yes_no(sms_replies),
            "name": name,
        }
        return Number.from_api(self._json("POST", "numbers", data=data))

    def numbers(self) -> Iterator[Number]:
        return self._paginate("numbers", Number.from_api, {})

    def number_get(self, number_id: str) -> Number:
        return Number.from_api(self._json("GET", f"numbers/{number_id}"))

    def number_update(
        self,
        number_id: str,
        *,
        sms_url: Action | None = None,
        mms_url: str | None = None,
        voice_start: Action | None = None,
        sms_replies: bool | None = None,
        name: str | None = None,
        active: bool | None = None,
    ) -> Number:
        """Change a number's settings; ``"none"`` clears a URL. ``active=False`` deallocates
        irreversibly (prefer :meth:`number_deactivate`, which says so)."""
        data = {
            "sms_url": _action(sms_url),
            "mms_url": mms_url,
            "voice_start": _action(voice_start),
            "sms_replies": _yes_no(sms_replies),
            "name": name,
            "active": _yes_no(active),
        }
        return Number.from_api(self._json("POST", f"numbers/{number_id}", data=data))

    def number_deactivate(self, number_id: str) -> Number:
        """Give the number back to 46elks. Irreversible."""
        return Number.from_api(self._json("POST", f"numbers/{number_id}", data={"active": "no"}))

    # -- SMS ---------------------------------------------------------------------------------

    def sms_send(
        self,
        *,
        from_: str,
        to: str,
        message: str,
        whendelivered: str | None = None,
        flashsms: bool = False,
        dryrun: bool = False,
        dontlog: bool = False,
    ) -> Sms:
        """Send one SMS (costs money unless ``dryrun``). A dry run returns ``estimated_cost``
        and ``parts`` and an empty ``id``. ``dontlog`` keeps the text out of 46elks' logs."""
        data = {
            "from": from_,
            "to": to,
            "message": message,
            "whendelivered": whendelivered,
            "flashsms": "yes" if flashsms else None,
            "dryrun": "yes" if dryrun else None,
            "dontlog": "message" if dontlog else None,
        }
        return Sms.from_api(self._json("POST", "sms", data=data))

    def sms_list(
        self, *, to: str | None = None, start: When = None, end: When = None
    ) -> Iterator[Sms]:
        return self._paginate("sms", Sms.from_api, {"to": to, **self._window(start, end)})

    def sms_get(self, sms_id: str) -> Sms:
        return Sms.from_api(self._json("GET", f"sms/{sms_id}"))

    # -- MMS ---------------------------------------------------------------------------------

    def mms_send(
        self, *, from_: str, to: str, message: str | None = None, image: str | None = None
    ) -> Mms:
        """Send an MMS with a text and/or an image URL (costs money)."""
        data = {"from": from_, "to": to, "message": message, "image": image}
        return Mms.from_api(self._json("POST", "mms", data=data))

    def mms_list(self, *, start: When = None, end: When = None) -> Iterator[Mms]:
        return self._paginate("mms", Mms.from_api, self._window(start, end))

    def mms_get(self, mms_id: str) -> Mms:
        return Mms.from_api(self._json("GET", f"mms/{mms_id}"))

    # -- calls and recordings ----------------------------------------------------------------

    def call_create(
        self,
        *,
        from_: str,
        to: str,
        voice_start: Action,
        whenhangup: str | None = None,
        timeout: int | None = None,
    ) -> Call:
        """Start an outgoing call; ``voice_start`` is fetched when the callee answers and
        ``timeout`` is the seconds to wait for pickup."""
        data = {
            "from": from_,
            "to": to,
            "voice_start": _action(voice_start),
            "whenhangup": whenhangup,
            "timeout": timeout,
        }
        return Call.from_api(self._json("POST", "calls", data=data))

    def calls(self, *, start: When = None, end: When = None) -> Iterator[Call]:
        return self._paginate("calls", Call.from_api, self._window(start, end))

    def call_get(self, call_id: str) -> Call:
        return Call.from_api(self._json("GET", f"calls/{call_id}"))

    def recordings(self, *, start: When = None, end: When = None) -> Iterator[Recording]:
        return self._paginate("recordings", Recording.from_api, self._window(start, end))

    def recording_get(self, recording_id: str) -> Recording:
        return Recording.from_api(self._json("GET", f"recordings/{recording_id}"))

    def recording_wav(
        self, recording_id: str, *, max_bytes: int = DEFAULT_MAX_DOWNLOAD_BYTES
    ) -> bytes:
        """The recording's audio (46elks keeps it 72 hours), by id: ``<callid>-r<n>``."""
        if not is_recording_id(recording_id):
            raise ValueError(f"not a 46elks recording id: {recording_id[:80]!r}")
        return self._download(f"recordings/{recording_id}.wav", max_bytes=max_bytes)

    # -- images ------------------------------------------------------------------------------

    def images(self, *, start: When = None, end: When = None) -> Iterator[Image]:
        return self._paginate("images", Image.from_api, self._window(start, end))

    def image_get(self, image_id: str) -> Image:
        return Image.from_api(self._json("GET", f"images/{image_id}"))

    def image_file(
        self, image_id: str, ext: str = "jpg", *, max_bytes: int = DEFAULT_MAX_DOWNLOAD_BYTES
    ) -> bytes:
        """An MMS image file by id (``<mms id>-i<n>``); ``ext`` is jpg, jpeg, png or gif."""
        ext = ext.lstrip(".").lower()
        if not is_image_id(image_id) or ext not in IMAGE_EXTENSIONS:
            raise ValueError(f"not a 46elks image reference: {image_id[:80]!r}.{ext[:8]!r}")
        return self._download(f"images/{image_id}.{ext}", max_bytes=max_bytes)

    # -- downloads ---------------------------------------------------------------------------

    def _download(self, path: str, *, max_bytes: int) -> bytes:
        """GET a file under ``base_url`` with our credentials.

        Redirects are followed only while they stay under ``base_url`` + "/": that prefix
        fixes scheme, host and port for every URL parser (the authority ends at its "/"), so
        no crafted Location (``user@host``, backslashes, another port, http) can receive the
        credentials. Any other redirect is refused, never followed without them either.
        """
        prefix = f"{self.base_url}/"
        url = f"{prefix}{path}"
        for _ in range(MAX_DOWNLOAD_REDIRECTS + 1):
            if not _under(url, prefix):
                raise ElksInvalidResponse(
                    "46elks redirected the download to another address; it was not followed.",
                    retryable=False,
                    method="GET",
                    path=path,
                )
            response = self._request("GET", path, url=url, download=True)
            if not response.is_redirect:
                return _read_capped(response, max_bytes, path)
            location = response.headers.get("Location", "")
            response.close()
            url = urljoin(url, location)
        raise ElksInvalidResponse(
            "46elks redirected the download too many times.",
            retryable=True,
            method="GET",
            path=path,
        )


def _under(url: str, prefix: str) -> bool:
    """Whether ``url`` is plainly below ``prefix`` (no characters parsers read differently)."""
    return (
        url.startswith(prefix)
        and url.isascii()
        and not any(c in url for c in "\\@ \t\r\n")
        and ".." not in url[len(prefix) :].split("?")[0]
    )


def _read_capped(response: requests.Response, max_bytes: int, path: str) -> bytes:
    chunks: list[bytes] = []
    size = 0
    try:
        for chunk in response.iter_content(64 * 1024):
            size += len(chunk)
            if size > max_bytes:
                raise ElksInvalidResponse(
                    f"The file at 46elks is larger than {max_bytes} bytes; not downloaded.",
                    retryable=False,
                    method="GET",
                    path=path,
                )
            chunks.append(chunk)
    except requests.RequestException as exc:
        raise ElksConnectionError(
            "The download from 46elks was interrupted. Try again in a moment.",
            retryable=True,
            method="GET",
            path=path,
        ) from exc
    finally:
        response.close()
    return b"".join(chunks)


def _is_older(cursor: str, start: object) -> bool:
    """Whether a ``next`` cursor lies before the ``start`` that produced its page."""
    if start is None:
        return True
    older, newer = parse_timestamp(cursor), parse_timestamp(start)
    if older is None or newer is None:
        return cursor != start  # unreadable: at least never ask for the same page again
    return older < newer


def _error_for(response: requests.Response, method: str, path: str) -> ElksError:
    """Map an HTTP error answer to the matching exception, keeping 46elks' text as reason."""
    status = response.status_code
    reason = " ".join((response.text or "").split())[:_REASON_MAX]
    common: dict[str, Any] = {"status": status, "reason": reason, "method": method, "path": path}
    if status == 401:
        return ElksAuthError(
            "46elks rejected the API credentials. Check the username and password.",
            retryable=False,
            **common,
        )
    if status == 403:
        text = f"46elks refused the request: {reason}" if reason else "46elks refused the request."
        return ElksForbidden(text, retryable=False, **common)
    if status == 404:
        return ElksNotFound(f"Not found at 46elks ({path}).", retryable=False, **common)
    if status == 429:
        return ElksRateLimited(
            "46elks is limiting how fast we send. Try again shortly.",
            retry_after=retry_after(response.headers),
            **common,
        )
    if status >= 500:
        return ElksServerError(
            f"46elks had a problem on their side (HTTP {status}). Try again shortly.",
            retryable=True,
            **common,
        )
    text = (
        f"46elks rejected the request: {reason}"
        if reason
        else f"46elks rejected the request (HTTP {status})."
    )
    return ElksInvalidRequest(text, retryable=False, **common)
