"""The stdlib HTTP layer every sandbox uses: read a request, hand it to the sandbox, write the
reply (late, when chaos says "timeout")."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, Protocol

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Reply:
    status: int
    body: bytes = b""
    content_type: str = "application/json"


class Sandbox(Protocol):
    def dispatch(self, method: str, target: str, headers: Any, body: bytes) -> tuple[Reply, float]:
        """The reply, and how many seconds to hold it back (chaos "timeout")."""
        ...

    def reply_headers(self, reply: Reply) -> dict[str, str]: ...

    def sleep(self, seconds: float) -> None: ...


class Handler(BaseHTTPRequestHandler):
    server: SandboxHTTPServer
    protocol_version = "HTTP/1.1"  # keep-alive, so clients' sessions reuse connections
    disable_nagle_algorithm = True  # headers and body go out in two writes: avoid 40 ms stalls

    def _serve(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length) if length else b""
        sandbox = self.server.sandbox
        try:
            reply, delay = sandbox.dispatch(self.command, self.path, self.headers, body)
        except Exception:
            log.exception("sandbox request failed")
            reply, delay = Reply(500, b"Internal sandbox error", "text/plain"), 0.0
        if delay:
            # Chaos "timeout": the work is done, the answer comes too late for the client.
            sandbox.sleep(delay)
        try:
            self.send_response(reply.status)
            if reply.body or reply.status != 204:
                self.send_header("Content-Type", reply.content_type)
            self.send_header("Content-Length", str(len(reply.body)))
            for name, value in sandbox.reply_headers(reply).items():
                self.send_header(name, value)
            self.end_headers()
            self.wfile.write(reply.body)
        except (BrokenPipeError, ConnectionResetError):
            pass  # the client gave up (timeout chaos)

    do_GET = do_POST = do_PUT = do_DELETE = do_PATCH = _serve

    def version_string(self) -> str:
        return self.server.server_name_header

    def log_message(self, format: str, *args: Any) -> None:
        log.debug("%s %s", self.address_string(), format % args)


class SandboxHTTPServer(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True

    def __init__(self, address: tuple[str, int], sandbox: Sandbox, name: str) -> None:
        self.sandbox = sandbox
        self.server_name_header = name
        super().__init__(address, Handler)
