"""``SandboxBase``: start/stop a sandbox on a port (in a thread or blocking) and keep the log of
the API requests it answered."""

from __future__ import annotations

import threading
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any, Self

from .http import Reply, SandboxHTTPServer

_LOG_MAX = 10000


class SandboxBase:
    name = "sandbox"  # the Server header and the thread name

    def __init__(self, *, host: str, port: int) -> None:
        self.host = host
        self._requested_port = port
        self._httpd: SandboxHTTPServer | None = None
        self._thread: threading.Thread | None = None
        self._log_lock = threading.Lock()
        self._requests: list[dict[str, Any]] = []
        self._seq = 0
        self._stopping = threading.Event()

    # -- what a sandbox provides ------------------------------------------------------------

    def dispatch(self, method: str, target: str, headers: Any, body: bytes) -> tuple[Reply, float]:
        raise NotImplementedError

    def reply_headers(self, reply: Reply) -> dict[str, str]:
        return {}

    def _closed(self) -> None:
        """Called once the server has stopped: release stores, callback threads..."""

    # -- lifecycle ---------------------------------------------------------------------------

    def start(self) -> Self:
        self._stopping.clear()
        self._httpd = SandboxHTTPServer((self.host, self._requested_port), self, self.name)
        self._thread = threading.Thread(
            target=self._httpd.serve_forever,
            kwargs={"poll_interval": 0.1},  # a quick stop() matters more than idle wake-ups
            name=self.name,
            daemon=True,
        )
        self._thread.start()
        return self

    def serve_forever(self) -> None:
        """Blocking variant for the command line."""
        self._httpd = SandboxHTTPServer((self.host, self._requested_port), self, self.name)
        try:
            self._httpd.serve_forever()
        finally:
            self._httpd.server_close()

    def stop(self) -> None:
        self._stopping.set()  # wakes handlers sleeping in "timeout" chaos
        if self._httpd is not None:
            self._httpd.shutdown()
            self._httpd.server_close()
        if self._thread is not None:
            self._thread.join(timeout=5)
        self._closed()

    def __enter__(self) -> Self:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    @property
    def port(self) -> int:
        if self._httpd is None:
            raise RuntimeError("the sandbox is not started")
        return int(self._httpd.server_address[1])

    @property
    def url(self) -> str:
        host = "127.0.0.1" if self.host in ("", "0.0.0.0") else self.host
        return f"http://{host}:{self.port}"

    def sleep(self, seconds: float) -> None:
        self._stopping.wait(seconds)

    # -- the request log ---------------------------------------------------------------------

    def _log_request(self, **entry: Any) -> None:
        with self._log_lock:
            self._seq += 1
            self._requests.append({"seq": self._seq, "at": datetime.now(UTC).isoformat(), **entry})
            del self._requests[:-_LOG_MAX]

    def _logged(
        self, *, method: str | None, path_matches: Callable[[str], bool]
    ) -> list[dict[str, Any]]:
        with self._log_lock:
            return [
                dict(e)
                for e in self._requests
                if (method is None or e["method"] == method.upper()) and path_matches(e["path"])
            ]

    def _clear_log(self) -> None:
        with self._log_lock:
            self._requests.clear()
