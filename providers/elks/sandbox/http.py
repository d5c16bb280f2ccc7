"""46elks requests as the sandbox reads them: Basic auth, form bodies the way 46elks' own
examples send them, GET-as-POST. The server itself is ``providers.sandbox.http``."""

from __future__ import annotations

import base64
import binascii
import json
import re
from typing import Any
from urllib.parse import parse_qsl, urlsplit

from .rules import ApiError

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
