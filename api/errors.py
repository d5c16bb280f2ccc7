"""Error answers in each API's style: 46elks' plain text on /a1/, problem details on /api/v1/."""

from __future__ import annotations

import json
from enum import Enum

from django.http import HttpResponse

PROBLEM_TYPE = "application/problem+json"


class Style(Enum):
    ELKS = "elks"  # /a1/: a status and a short plain-text reason, as 46elks answers
    PROBLEM = "problem"  # /api/v1/: RFC 9457 problem details


class ApiDenied(Exception):
    """Raised by an endpoint (a missing scope, a refused send); the middleware answers it."""

    def __init__(self, status: int, detail: str, *, title: str | None = None) -> None:
        super().__init__(detail)
        self.status = status
        self.detail = detail
        self.title = title


TITLES = {
    400: "Bad request",
    401: "Unauthorized",
    402: "Payment required",
    403: "Forbidden",
    404: "Not found",
    405: "Method not allowed",
    409: "Conflict",
    413: "Request too large",
    415: "Unsupported media type",
    422: "Unprocessable request",
    429: "Too many requests",
    500: "Internal error",
}


def elks_error(status: int, text: str) -> HttpResponse:
    return HttpResponse(text, status=status, content_type="text/plain; charset=utf-8")


def problem(status: int, detail: str, *, title: str | None = None, **extra: object) -> HttpResponse:
    body = {
        "type": "about:blank",
        "title": title or TITLES.get(status, "Error"),
        "status": status,
        "detail": detail,
    } | extra
    return HttpResponse(json.dumps(body), status=status, content_type=PROBLEM_TYPE)


def error(style: Style, status: int, detail: str, *, title: str | None = None) -> HttpResponse:
    if style is Style.ELKS:
        return elks_error(status, detail)
    return problem(status, detail, title=title)


def scope_require(request: object, scope: str) -> None:
    """403 unless the request's key has `scope` (api.models.Scope)."""
    key = getattr(request, "api_key", None)
    if key is None or not key.allows(scope):
        raise ApiDenied(403, f"This API key does not have the “{scope}” permission.")
