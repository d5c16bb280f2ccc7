"""``SandboxServer``: a local 46elks look-alike over real HTTP, plus a control API.

In-process (tests)::

    server = SandboxServer(host="127.0.0.1", port=0, db=":memory:",
                           master_username="u", master_password="p").start()
    server.base_url            # "http://127.0.0.1:PORT/a1" -> give it to ElksClient
    server.inbound_sms(to=..., from_=..., message=...)
    server.wait_for_deliveries(2, kind="delivery")
    server.stop()

From a shell: ``python -m providers.elks.sandbox --port 8046 --db sandbox.sqlite3``.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from typing import Any

from providers.sandbox.chaos import Chaos
from providers.sandbox.http import Reply
from providers.sandbox.server import SandboxBase

from . import render
from .api import Api
from .callbacks import Dispatcher
from .config import CHAOS_MODES, SandboxConfig, chaos_path
from .http import Request
from .rules import ApiError, new_id, new_secret, sms_parts
from .simulate import Simulator
from .store import Master, Store, default_pool


class SandboxServer(SandboxBase):
    name = "46elks-sandbox"

    def __init__(
        self,
        *,
        host: str = "127.0.0.1",
        port: int = 0,
        db: str = ":memory:",
        master_username: str = "sandbox-master",
        master_password: str = "sandbox-master-secret",
        balance: int = 100_000_000,
        numbers_per_country: int = 20,
        pool: Sequence[tuple[str, str, str, str]] | None = None,
        config: SandboxConfig | None = None,
    ) -> None:
        """``pool`` rows are (number, country, category, capabilities), e.g.
        ``("+46766861001", "se", "mobile", "sms,mms,voice")``."""
        super().__init__(host=host, port=port)
        self._defaults = config or SandboxConfig()
        self.config = SandboxConfig(**self._defaults.as_dict())
        self.chaos = Chaos(modes=CHAOS_MODES, seed=46, normalise=chaos_path)
        master = Master(master_username, master_password, balance=balance)
        self.store = Store(
            db, master, pool if pool is not None else default_pool(numbers_per_country)
        )
        self.dispatcher = Dispatcher(self.config)
        self.sim = Simulator(self.store, self.config, self.dispatcher, lambda: self.public_api_url)
        self.api = Api(self.store, self.config, self.sim)

    def _closed(self) -> None:
        self.dispatcher.close()
        self.store.close()

    @property
    def base_url(self) -> str:
        """The API root to give ``ElksClient``: ``http://host:port/a1``."""
        return f"{self.url}/a1"

    @property
    def control_url(self) -> str:
        return f"{self.url}/sandbox"

    @property
    def public_api_url(self) -> str:
        """API root used in callback payloads (wav/image URLs)."""
        return (self.config.public_url or self.url).rstrip("/") + "/a1"

    # -- state helpers for tests and the demo ------------------------------------------------

    def reset(self) -> None:
        """Fresh account and pool, default settings, no chaos, empty logs."""
        self.dispatcher.reset()
        self.chaos.clear()
        for key, value in self._defaults.as_dict().items():
            setattr(self.config, key, value)
        self.store.reset()
        self._clear_log()

    def configure(self, **values: Any) -> dict[str, Any]:
        """Change ``SandboxConfig`` fields (page_size, callback_backoff, fail_suffix...)."""
        self.config.update(values)
        return self.config.as_dict()

    def set_chaos(self, **values: Any) -> dict[str, Any]:
        """rate (0..1), mode (slow|429|500|502|503|timeout), latency, timeout_sleep,
        paths (API prefixes like "sms"), methods."""
        self.chaos.set(**values)
        return self.chaos.as_dict()

    def clear_chaos(self) -> None:
        self.chaos.clear()

    def set_balance(self, balance: int) -> None:
        self.store.execute("UPDATE account SET balance = ?", (balance,))

    def set_pool(
        self,
        country: str,
        numbers: Sequence[str] = (),
        *,
        category: str = "mobile",
        capabilities: str = "sms,mms,voice",
    ) -> None:
        """Replace the free numbers of a country; ``numbers=()`` means "none left"."""
        self.store.set_pool(country, [(n, country, category, capabilities) for n in numbers])

    def create_subaccount(self, name: str, usagelimit: int | None = None) -> dict[str, Any]:
        row = {
            "id": "a" + new_id("")[:31],
            "name": name,
            "secret": new_secret(),
            "usagelimit": usagelimit,
            "balanceused": None,
            "active": 1,
            "created": self.store.now(),
            "deactivated": None,
        }
        self.store.insert("subaccounts", row)
        return render.subaccount(row, with_usage=False)

    def seed_sms(
        self,
        count: int,
        *,
        owner: str | None = None,
        to: str = "+46700000001",
        sender: str = "+46700000002",
        direction: str = "incoming",
    ) -> list[str]:
        """Insert ``count`` stored SMS (oldest first) without callbacks; returns their ids."""
        owner = owner or self.store.master.id
        ids = []
        with self.store.lock:
            for n in range(count):
                text = f"Seeded message {n}"
                row = {
                    "id": new_id("s"),
                    "kind": "sms",
                    "owner": owner,
                    "direction": direction,
                    "sender": sender,
                    "recipient": to,
                    "message": text,
                    "status": "delivered" if direction != "incoming" else None,
                    "cost": 3500 if direction != "incoming" else None,
                    "parts": sms_parts(text)[0],
                    "created": self.store.now(),
                    "delivered": None,
                    "whendelivered": None,
                    "flashsms": 0,
                    "images": None,
                }
                self.store.insert("messages", row)
                ids.append(row["id"])
        return ids

    def get(self, table: str, row_id: str) -> dict[str, Any] | None:
        """A raw stored row (tables: subaccounts, numbers, messages, calls, recordings, images)."""
        return self.store.get(table, row_id)

    def account(self) -> dict[str, Any]:
        return self.store.account()

    # -- simulated traffic -------------------------------------------------------------------

    def inbound_sms(self, *, to: str, from_: str, message: str) -> dict[str, Any]:
        return self.sim.inbound_sms(to=to, from_=from_, message=message)

    def inbound_mms(
        self, *, to: str, from_: str, message: str | None = None, images: int = 1
    ) -> dict[str, Any]:
        return self.sim.inbound_mms(to=to, from_=from_, message=message, images=images)

    def inbound_call(self, *, to: str, from_: str) -> dict[str, Any]:
        return self.sim.inbound_call(to=to, from_=from_)

    # -- logs --------------------------------------------------------------------------------

    def deliveries(self, kind: str | None = None, ref: str | None = None) -> list[dict[str, Any]]:
        """Every callback attempt: kind (sms, mms, delivery, voice, recording, hangup), ref
        (the SMS/MMS/call id), url, data, attempt, status, ok, error, body."""
        return self.dispatcher.deliveries(kind, ref)

    def wait_for_deliveries(
        self,
        count: int = 1,
        *,
        kind: str | None = None,
        ref: str | None = None,
        ok: bool | None = None,
        timeout: float = 5.0,
    ) -> list[dict[str, Any]]:
        """Wait until at least ``count`` matching attempts exist; return them (maybe fewer)."""

        def matching(entries: list[dict[str, Any]]) -> list[dict[str, Any]]:
            return [
                e
                for e in entries
                if (kind is None or e["kind"] == kind)
                and (ref is None or e["ref"] == ref)
                and (ok is None or e["ok"] == ok)
            ]

        self.dispatcher.wait_for(lambda entries: len(matching(entries)) >= count, timeout)
        return matching(self.dispatcher.deliveries())

    def wait_idle(self, timeout: float = 5.0) -> bool:
        """Wait until no background job (reports, callbacks, calls) is running."""
        return self.dispatcher.wait_idle(timeout)

    def api_requests(
        self, *, path: str | None = None, method: str | None = None
    ) -> list[dict[str, Any]]:
        """The ``/a1`` requests received: method, path, params, user, status, chaos."""
        return self._logged(
            method=method,
            path_matches=lambda p: path is None or p.lower().startswith(path.lower()),
        )

    # -- request handling (called by the HTTP layer) -----------------------------------------

    def dispatch(self, method: str, target: str, headers: Any, body: bytes) -> tuple[Reply, float]:
        request = Request(method, target, headers, body)
        if request.path == "/a1" or request.path.startswith("/a1/"):
            return self.handle_api(request)
        if request.path.startswith("/sandbox"):
            return self.handle_control(request), 0.0
        return Reply(404, b"Not found", "text/plain"), 0.0

    def reply_headers(self, reply: Reply) -> dict[str, str]:
        if reply.status == 401:
            return {"WWW-Authenticate": 'Basic realm="46elks sandbox"'}
        if reply.status == 429:
            return {"Retry-After": "1"}
        return {}

    def handle_api(self, request: Request) -> tuple[Reply, float]:
        parts = [p for p in request.path[3:].split("/") if p]
        chaos = self.chaos.pick(request.method, "/".join(parts))
        user, params, late = "", {}, 0.0
        if chaos is not None and chaos.latency:
            self.sleep(chaos.latency)
        if chaos is not None and chaos.mode.isdigit():
            reply = _text(int(chaos.mode), _CHAOS_TEXT.get(chaos.mode, "Server error"))
        else:
            try:
                user, password = request.credentials()
                caller = self.api.authenticate(user, password)
                params = request.api_params()
                reply = self.api.handle(caller, request.method, parts, params)
            except ApiError as exc:
                reply = _text(exc.status, exc.text)
            if chaos is not None and chaos.mode == "timeout":
                late = chaos.timeout_sleep
        self._log_request(
            method=request.method,
            path=request.path,
            params=dict(params),
            user=user,
            status=reply.status,
            chaos=chaos.mode if chaos else None,
        )
        return reply, late

    def handle_control(self, request: Request) -> Reply:
        from .control import CONTROL_ROUTES

        name = request.path[len("/sandbox") :].strip("/")
        route: Callable[[SandboxServer, str, dict[str, Any]], Any] | None = CONTROL_ROUTES.get(name)
        if route is None:
            return _text(404, "Unknown sandbox control endpoint")
        try:
            result = route(self, request.method, request.control_params())
        except ApiError as exc:
            return _text(exc.status, exc.text)
        except (ValueError, TypeError) as exc:
            return _text(400, str(exc))
        return Reply(200, json.dumps(result, default=str).encode())


_CHAOS_TEXT = {
    "429": "Too many requests",
    "500": "Internal server error",
    "502": "Bad gateway",
    "503": "Service temporarily unavailable",
}


def _text(status: int, text: str) -> Reply:
    return Reply(status, text.encode(), "text/plain; charset=utf-8")
