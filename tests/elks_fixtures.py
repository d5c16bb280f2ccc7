"""Pytest fixtures for the 46elks sandbox (no Django needed).

Register with ``pytest_plugins = ["tests.elks_fixtures"]``. Fixtures:

- ``elks_sandbox_server`` (session): one ``SandboxServer`` on a free port, short test timings.
- ``elks_sandbox``: the same server, reset (state, settings, chaos, logs) before each test.
- ``elks_master_client``: an ``ElksClient`` for the master account, pointed at the sandbox.
- ``elks_callback_receiver``: a local HTTP server that records callbacks and answers as told.
"""

from __future__ import annotations

import threading
from collections import deque
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qsl, urlsplit

import pytest

from providers.elks import ElksClient
from providers.elks.sandbox import SandboxConfig, SandboxServer

# Same credentials as config/settings/test.py, so Django can point at the sandbox unchanged.
ELKS_SANDBOX_USERNAME = "sandbox-master"
ELKS_SANDBOX_PASSWORD = "sandbox-master-secret"

# Fast timings keep the provider suite well under 30 s.
ELKS_SANDBOX_TEST_CONFIG = SandboxConfig(
    event_delay=0.02,
    callback_backoff=0.02,
    callback_attempts=3,
    callback_timeout=2.0,
)


@pytest.fixture(scope="session")
def elks_sandbox_server() -> Iterator[SandboxServer]:
    server = SandboxServer(
        host="127.0.0.1",
        port=0,
        db=":memory:",
        master_username=ELKS_SANDBOX_USERNAME,
        master_password=ELKS_SANDBOX_PASSWORD,
        config=SandboxConfig(**ELKS_SANDBOX_TEST_CONFIG.as_dict()),
    ).start()
    yield server
    server.stop()


@pytest.fixture
def elks_sandbox(elks_sandbox_server: SandboxServer) -> Iterator[SandboxServer]:
    elks_sandbox_server.reset()
    yield elks_sandbox_server
    elks_sandbox_server.clear_chaos()


@pytest.fixture
def elks_master_client(elks_sandbox: SandboxServer) -> ElksClient:
    return ElksClient(
        base_url=elks_sandbox.base_url,
        username=ELKS_SANDBOX_USERNAME,
        password=ELKS_SANDBOX_PASSWORD,
        timeout=3.0,
    )


@dataclass
class ReceivedCallback:
    path: str
    form: dict[str, str]
    headers: dict[str, str]


@dataclass
class CallbackReceiver:
    """Records form POSTs; answers from a per-path queue, else ``default``."""

    host: str = "127.0.0.1"
    received: list[ReceivedCallback] = field(default_factory=list)
    default: tuple[int, str, str] = (200, "", "text/plain")
    _answers: dict[str, deque[tuple[int, str, str]]] = field(default_factory=dict)
    _cond: threading.Condition = field(default_factory=threading.Condition)
    _httpd: ThreadingHTTPServer | None = None

    def url(self, path: str = "/") -> str:
        assert self._httpd is not None
        return f"http://{self.host}:{self._httpd.server_address[1]}{path}"

    def respond(
        self,
        path: str,
        status: int = 200,
        body: str = "",
        *,
        content_type: str = "text/plain",
        times: int = 1,
    ) -> None:
        """Answer the next ``times`` POSTs to ``path`` with this status and body."""
        with self._cond:
            queue = self._answers.setdefault(path, deque())
            queue.extend([(status, body, content_type)] * times)

    def _next_answer(self, path: str) -> tuple[int, str, str]:
        with self._cond:
            queue = self._answers.get(path)
            return queue.popleft() if queue else self.default

    def _record(self, callback: ReceivedCallback) -> None:
        with self._cond:
            self.received.append(callback)
            self._cond.notify_all()

    def wait_for(
        self, count: int, path: str | None = None, timeout: float = 5.0
    ) -> list[ReceivedCallback]:
        """Wait for at least ``count`` callbacks (to ``path`` if given) and return them."""

        def matching() -> list[ReceivedCallback]:
            return [c for c in self.received if path is None or c.path == path]

        with self._cond:
            self._cond.wait_for(lambda: len(matching()) >= count, timeout=timeout)
            return matching()

    def start(self) -> CallbackReceiver:
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length).decode()
                path = urlsplit(self.path).path
                receiver._record(
                    ReceivedCallback(
                        path,
                        dict(parse_qsl(body, keep_blank_values=True)),
                        dict(self.headers.items()),
                    )
                )
                status, text, content_type = receiver._next_answer(path)
                data = text.encode()
                self.send_response(status)
                self.send_header("Content-Type", content_type)
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def log_message(self, format: str, *args: Any) -> None:
                pass

        self._httpd = ThreadingHTTPServer((self.host, 0), Handler)
        self._httpd.daemon_threads = True
        threading.Thread(
            target=self._httpd.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
        ).start()
        return self

    def stop(self) -> None:
        if self._httpd is not None:
            self._httpd.shutdown()
            self._httpd.server_close()


@pytest.fixture
def elks_callback_receiver() -> Iterator[CallbackReceiver]:
    receiver = CallbackReceiver().start()
    yield receiver
    receiver.stop()
