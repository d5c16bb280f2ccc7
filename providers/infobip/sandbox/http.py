"""The stdlib HTTP layer of the Infobip sandbox: read a request, hand it over, write the reply."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import TYPE_CHECKING, Any
from urllib.parse import parse_qsl, urlsplit

from .api import Reply

if TYPE_CHECKING:
    from .server import InfobipSandbox

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Request:
    method: str
    path: str  # still percent-encoded: a number key may contain "%2F" or "%25"
    query: list[tuple[str, str]]
    content_type: str
    authorization: str
    body: bytes

    @classmethod
    def parse(cls, method: str, target: str, headers: Any, body: bytes) -> Request:
        url = urlsplit(target)
        return cls(
            method=method,
            path=url.path,
            query=parse_qsl(url.query, keep_blank_values=True),
            content_type=(headers.get("Content-Type") or "").split(";")[0].strip().lower(),
            authorization=headers.get("Authorization") or "",
            body=body,
        )


class Handler(BaseHTTPRequestHandler):
    server: SandboxHTTPServer
    protocol_version = "HTTP/1.1"  # keep-alive, so clients' sessions reuse connections
    disable_nagle_algorithm = True  # headers and body go out in two writes: avoid 40 ms stalls
    server_version = "infobip-sandbox"

    def _serve(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length) if length else b""
        request = Request.parse(self.command, self.path, self.headers, body)
        sandbox = self.server.sandbox
        try:
            reply, delay = sandbox.handle(request)
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
            self.end_headers()
            self.wfile.write(reply.body)
        except (BrokenPipeError, ConnectionResetError):
            pass  # the client gave up (timeout chaos)

    do_GET = do_POST = do_PUT = do_DELETE = do_PATCH = _serve

    def log_message(self, format: str, *args: Any) -> None:
        log.debug("%s %s", self.address_string(), format % args)


class SandboxHTTPServer(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True

    def __init__(self, address: tuple[str, int], sandbox: InfobipSandbox) -> None:
        self.sandbox = sandbox
        super().__init__(address, Handler)
