"""An Infobip request as the sandbox reads it; the server itself is ``providers.sandbox.http``."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any
from urllib.parse import parse_qsl, urlsplit


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
