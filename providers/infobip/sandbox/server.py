"""``InfobipSandbox``: a local Infobip Numbers API over real HTTP, with chaos and a control API.

In-process (tests)::

    sandbox = InfobipSandbox(port=0, api_key="sandbox-infobip-key").start()
    sandbox.base_url        # "http://127.0.0.1:PORT" -> give it to InfobipClient
    sandbox.set_chaos(rate=1, mode="timeout", methods=["POST"], timeout_sleep=1)
    sandbox.api_requests(method="POST", path="/numbers/1/numbers")
    sandbox.stop()

From a shell: ``python -m providers.infobip.sandbox --port 8047``.
"""

from __future__ import annotations

import hmac
import json
from collections.abc import Iterable, Mapping, Sequence
from decimal import Decimal
from typing import Any

from providers.sandbox.chaos import Chaos
from providers.sandbox.server import SandboxBase

from .api import Api, ApiError, Reply, dumps, error_body
from .config import CHAOS_MODES, SandboxSettings, chaos_path
from .http import Request
from .store import NumberRecord, Store, render

__all__ = ["DEFAULT_API_KEY", "DEFAULT_PREFIXES", "InfobipSandbox"]

DEFAULT_API_KEY = "sandbox-infobip-key"
DEFAULT_PREFIXES = ("/numbers/1/numbers", "/sms/1/numbers")
CONTROL_PREFIX = "/sandbox"
_CHAOS_ERRORS = {
    "429": ApiError(429, "TOO_MANY_REQUESTS", "Too many requests"),
    "500": ApiError(500, "GENERAL_ERROR", "Something went wrong. Please contact support."),
}
# A 503 usually comes from a load balancer in front of the API: HTML, not Infobip's JSON.
_HTML_503 = b"<html><body><h1>503 Service Temporarily Unavailable</h1></body></html>"


class InfobipSandbox(SandboxBase):
    name = "infobip-sandbox"

    def __init__(
        self,
        host: str = "127.0.0.1",
        port: int = 0,
        api_key: str = DEFAULT_API_KEY,
        prefixes: Sequence[str] = DEFAULT_PREFIXES,
        *,
        inventory: Sequence[NumberRecord] | None = None,
        settings: SandboxSettings | None = None,
    ) -> None:
        super().__init__(host=host, port=port)
        self.api_key = api_key
        self.prefixes = tuple(prefixes)
        self._defaults = settings or SandboxSettings()
        self.settings = SandboxSettings(**self._defaults.as_dict())
        self.chaos = Chaos(modes=CHAOS_MODES, seed=47, normalise=chaos_path)
        self.store = Store(inventory)
        self.api = Api(self.store, self.settings, self.prefixes)

    @property
    def base_url(self) -> str:
        """What to give ``InfobipClient(base_url=...)``: ``http://host:port``."""
        return self.url

    # -- helpers for tests and the demo ------------------------------------------------------

    def reset(self) -> None:
        """The default inventory, nothing owned, default settings, no chaos, empty log."""
        self.chaos.clear()
        self.settings.update(self._defaults.as_dict())
        self.store.reset()
        self._clear_log()

    def configure(self, **values: Any) -> dict[str, Any]:
        """Change settings: ``error_shape`` ("request_error" | "resources"),
        ``purchase_status`` (200 | 201), ``max_limit``."""
        self.settings.update(values)
        return self.settings.as_dict()

    def set_chaos(self, rate: float = 1.0, mode: str = "503", **values: Any) -> dict[str, Any]:
        """Fail a share (``rate`` 0..1) of API requests: ``mode`` slow | 429 | 500 | 503 |
        timeout. Options: ``latency`` (s, all modes), ``timeout_sleep`` (s: "timeout" still
        performs the operation, then answers this late), ``paths`` (request path prefixes),
        ``methods``, ``count`` (only the next N matching requests)."""
        self.chaos.set(rate=rate, mode=mode, **values)
        return self.chaos.as_dict()

    def clear_chaos(self) -> None:
        self.chaos.clear()

    def add_available(
        self,
        country: str,
        numbers: Iterable[str],
        capabilities: Sequence[str] = ("SMS",),
        prices: Mapping[str, Any] | None = None,
        **options: Any,
    ) -> list[str]:
        """Put numbers on sale; returns their number keys. ``prices`` takes ``pricePerMonth``,
        ``setupPrice``, ``currency`` (default 5 / 0 / EUR). Options: ``number_type``,
        ``shared``, ``keys`` (explicit number keys, one per number)."""
        return self.store.add_available(country, numbers, capabilities, prices, **options)

    def clear_available(self, country: str | None = None) -> None:
        """Nothing on sale (in ``country``, or anywhere)."""
        self.store.clear_available(country)

    def available_numbers(self, country: str | None = None) -> list[dict[str, Any]]:
        """Numbers on sale as the API would render them, sorted by number."""
        with self.store.lock:
            rows = list(self.store.available.values())
        rows = [r for r in rows if country is None or r.country == country.upper()]
        return [_plain(render(r, owned=False)) for r in sorted(rows, key=lambda r: r.number)]

    def owned_numbers(self) -> list[dict[str, Any]]:
        """Owned numbers in purchase order, as the API would render them."""
        return [_plain(render(r, owned=True)) for r in self.store.list_owned()]

    def owned_number(self, key_or_number: str) -> dict[str, Any] | None:
        """One owned number by key or by number (``+`` optional), else ``None``."""
        digits = key_or_number.lstrip("+")
        for record in self.store.list_owned():
            if key_or_number == record.number_key or digits == record.number:
                return _plain(render(record, owned=True))
        return None

    def give(self, number_key: str, *, application_id: str | None = None) -> dict[str, Any]:
        """Mark a number owned without an API call (seeding long owned lists quickly)."""
        record = self.store.buy(number_key, application_id=application_id, entity_id=None)
        if record is None:
            raise KeyError(f"{number_key} is not on sale")
        return _plain(render(record, owned=True))

    def api_requests(
        self, *, method: str | None = None, path: str | None = None
    ) -> list[dict[str, Any]]:
        """API requests received (not control ones), oldest first: seq, at, method, path
        (as sent, percent-encoded), params (repeated names become lists), body (parsed JSON
        when possible), auth_ok, status, chaos. ``path`` matches the path itself and anything
        below it (``/numbers/1/numbers`` also matches ``/numbers/1/numbers/<key>``)."""
        return self._logged(
            method=method,
            path_matches=lambda p: (
                path is None or p == path or p.startswith(path.rstrip("/") + "/")
            ),
        )

    # -- request handling (called by the HTTP layer) -----------------------------------------

    def dispatch(self, method: str, target: str, headers: Any, body: bytes) -> tuple[Reply, float]:
        return self.handle(Request.parse(method, target, headers, body))

    def handle(self, request: Request) -> tuple[Reply, float]:
        if request.path == CONTROL_PREFIX or request.path.startswith(CONTROL_PREFIX + "/"):
            return self._control(request), 0.0
        chaos = self.chaos.pick(request.method, request.path)
        late = 0.0
        auth_ok = self._authorized(request.authorization)
        if chaos is not None and chaos.latency:
            self.sleep(chaos.latency)
        if chaos is not None and chaos.mode == "503":
            reply = Reply(503, _HTML_503, "text/html")
        elif chaos is not None and chaos.mode in _CHAOS_ERRORS:
            reply = self._error(_CHAOS_ERRORS[chaos.mode])
        else:
            try:
                if not auth_ok:
                    raise ApiError(401, "UNAUTHORIZED", "Invalid login details")
                reply = self.api.handle(
                    request.method, request.path, request.query, request.content_type, request.body
                )
            except ApiError as exc:
                reply = self._error(exc)
            if chaos is not None and chaos.mode == "timeout":
                late = chaos.timeout_sleep
        self._log(request, auth_ok, reply.status, chaos.mode if chaos else None)
        return reply, late

    def _authorized(self, header: str) -> bool:
        scheme, _, key = header.partition(" ")
        return scheme.lower() == "app" and hmac.compare_digest(
            key.strip().encode(), self.api_key.encode()
        )

    def _error(self, error: ApiError) -> Reply:
        body = error_body(error, self.settings.error_shape)
        return Reply(error.status, body, "application/json" if body else "text/plain")

    def _log(self, request: Request, auth_ok: bool, status: int, chaos: str | None) -> None:
        params: dict[str, Any] = {}
        for name, value in request.query:
            if name in params:
                previous = params[name]
                params[name] = (
                    [*previous, value] if isinstance(previous, list) else [previous, value]
                )
            else:
                params[name] = value
        body: Any = None
        if request.body:
            try:
                body = json.loads(request.body)
            except ValueError:
                body = request.body[:1000].decode("utf-8", errors="replace")
        self._log_request(
            method=request.method,
            path=request.path,
            params=params,
            body=body,
            auth_ok=auth_ok,
            status=status,
            chaos=chaos,
        )

    # -- control API (unauthenticated: the sandbox is for loopback use) ----------------------

    def _control(self, request: Request) -> Reply:
        name = request.path[len(CONTROL_PREFIX) :].strip("/")
        try:
            data = json.loads(request.body) if request.body else {}
            if not isinstance(data, dict):
                raise ValueError("the JSON body must be an object")
            result = self._control_route(request.method, name, data)
        except (ValueError, TypeError, KeyError) as exc:
            return Reply(400, dumps({"error": str(exc)}))
        if result is None:
            return Reply(404, dumps({"error": "unknown sandbox control endpoint"}))
        return Reply(200, dumps(result))

    def _control_route(self, method: str, name: str, data: dict[str, Any]) -> Any:
        if (method, name) == ("POST", "reset"):
            self.reset()
            return {"ok": True}
        if (method, name) == ("POST", "chaos"):
            return self.set_chaos(**data)
        if (method, name) == ("DELETE", "chaos"):
            self.clear_chaos()
            return {"ok": True}
        if (method, name) == ("POST", "settings"):
            return self.configure(**data)
        if (method, name) == ("POST", "available"):
            keys = self.add_available(
                data["country"],
                data["numbers"],
                data.get("capabilities", ("SMS",)),
                data.get("prices"),
            )
            return {"numberKeys": keys}
        if (method, name) == ("GET", "state"):
            return {
                "available": self.available_numbers(),
                "owned": self.owned_numbers(),
                "settings": self.settings.as_dict(),
                "chaos": self.chaos.as_dict(),
            }
        if (method, name) == ("GET", "requests"):
            return self.api_requests()
        return None


def _plain(data: dict[str, Any]) -> dict[str, Any]:
    """The JSON the API would send, read back the way the client reads it (floats as Decimal)."""
    return json.loads(dumps(data), parse_float=Decimal)
