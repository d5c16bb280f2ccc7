"""The stdlib HTTP layer: parse requests strictly, route ``/a1`` and ``/sandbox``, answer."""

from __future__ import annotations

import base64
import binascii
import json
import logging
import re
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import TYPE_CHECKING, Any
from urllib.parse import parse_qsl, urlsplit

from .api_base import Reply
from .rules import ApiError

if TYPE_CHECKING:
    from .server import SandboxServer

log = logging.getLogger(__name__)

FORM = "application/x-www-form-urlencoded"
# Content types under which 46elks' own sample code sends form-encoded bodies ("" = no header).
FORM_LIKE = (FORM, "", "text/plain")
# Phone number parameters: an unencoded "+" (curl -d to=+46700000000) arrives as a space.
PHONE_FIELDS = frozenset({"to", "from", "number"})
_SPACE_PLUS = re.compile(r" ([0-9]+)")


class Request:
    """What the sandbox needs from one HTTP request."""

    def __init__(self, method: str, target: str, headers: Any, body: bytes) -> None:
        url = urlsplit(target)
        self.method = method
        self.path = url.path
        self.query = url.query
        self.body = body
        self.content_type = (headers.get("Content-Type") or "").split(";")[0].strip().lower()
        self.authorization = headers.get("Authorization") or ""
        # 46elks: "All calls ... can be made with GET, just add /POST to the end of any API
        # resource", parameters url-encoded in the query (docs: Using GET instead of POST).
        self.get_as_post = (
            method == "GET" and self.path.startswith("/a1/") and self.path.endswith("/POST")
        )
        if self.get_as_post:
            self.method, self.path = "POST", self.path[: -len("/POST")]

    def credentials(self) -> tuple[str, str]:
        scheme, _, value = self.authorization.partition(" ")
        if scheme.lower() != "basic" or not value:
            raise ApiError(401, "Authentication required (HTTP Basic)")
        try:
            decoded = base64.b64decode(value.strip(), validate=True).decode("utf-8")
        except (binascii.Error, UnicodeDecodeError):
            raise ApiError(401, "Malformed Basic authorization header") from None
        username, sep, password = decoded.partition(":")
        if not sep:
            raise ApiError(401, "Malformed Basic authorization header")
        return username, password

    def api_params(self) -> dict[str, str]:
        """Query string for GET, form body for POST, read as 46elks' own examples send them.

        46elks' samples post form data with ``Content-Type: application/x-www-form-urlencoded``
        (curl -d, requests, Unirest, PHP, Ruby), with no Content-Type at all (Elixir's
        HTTPotion, Node's https.request) or as ``text/plain`` (Node's fetch with a string
        body): all are form-encoded text and parsed as such. JSON (46elks documents no JSON
        requests), multipart and other types, and query strings on a POST, are refused.
        """
        if self.get_as_post:
            return _pairs(self.query)
        if self.method == "POST":
            if self.query:
                raise ApiError(400, "Send parameters form-encoded in the request body")
            if self.body and self.content_type not in FORM_LIKE:
                if "json" in self.content_type:
                    raise ApiError(400, f"JSON is not accepted: send {FORM}")
                raise ApiError(400, f"Unsupported content type: send {FORM}")
            if self.body.lstrip()[:1] in (b"{", b"["):
                raise ApiError(400, f"JSON is not accepted: send {FORM}")
            return _pairs(self.body.decode("utf-8", errors="replace"))
        return _pairs(self.query)

    def control_params(self) -> dict[str, Any]:
        """The control API accepts JSON or form bodies, and query parameters."""
        params: dict[str, Any] = dict(parse_qsl(self.query, keep_blank_values=True))
        if self.body:
            if self.content_type == "application/json" or self.body.lstrip()[:1] == b"{":
                try:
                    data = json.loads(self.body)
                except ValueError:
                    raise ApiError(400, "Invalid JSON body") from None
                if not isinstance(data, dict):
                    raise ApiError(400, "JSON body must be an object")
                params.update(data)
            else:
                params.update(parse_qsl(self.body.decode("utf-8"), keep_blank_values=True))
        return params


def _pairs(text: str) -> dict[str, str]:
    params: dict[str, str] = {}
    for key, value in parse_qsl(text, keep_blank_values=True):
        if key in params:
            raise ApiError(400, f'Duplicate key "{key}"')
        # 46elks' curl examples send "+46..." unencoded, which form decoding turns into
        # " 46..."; 46elks accepts it, so a space before digits is read back as the "+".
        if key in PHONE_FIELDS and (match := _SPACE_PLUS.fullmatch(value)):
            value = "+" + match.group(1)
        params[key] = value
    return params


class Handler(BaseHTTPRequestHandler):
    server: SandboxHTTPServer
    protocol_version = "HTTP/1.1"  # keep-alive, so clients' sessions reuse connections
    disable_nagle_algorithm = True  # headers and body go out in two writes: avoid 40 ms stalls
    server_version = "46elks-sandbox"

    def _serve(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length) if length else b""
        request = Request(self.command, self.path, self.headers, body)
        sandbox = self.server.sandbox
        try:
            if request.path == "/a1" or request.path.startswith("/a1/"):
                reply, delay = sandbox.handle_api(request)
            elif request.path.startswith("/sandbox"):
                reply, delay = sandbox.handle_control(request), 0.0
            else:
                reply, delay = Reply(404, b"Not found", "text/plain"), 0.0
        except Exception:
            log.exception("sandbox request failed")
            reply, delay = Reply(500, b"Internal sandbox error", "text/plain"), 0.0
        if delay:
            # Chaos "timeout": the work is done, the answer comes too late for the client.
            sandbox.sleep(delay)
        try:
            self.send_response(reply.status)
            self.send_header("Content-Type", reply.content_type)
            self.send_header("Content-Length", str(len(reply.body)))
            if reply.status == 401:
                self.send_header("WWW-Authenticate", 'Basic realm="46elks sandbox"')
            if reply.status == 429:
                self.send_header("Retry-After", "1")
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

    def __init__(self, address: tuple[str, int], sandbox: SandboxServer) -> None:
        self.sandbox = sandbox
        super().__init__(address, Handler)
