"""Schemas every /api/v1/ module shares: the problem document and the declared error answers.

Each operation lists the error statuses it can answer (`responses={200: X, **ERRORS}`), so the
OpenAPI description says what a client will meet and schema-driven tests can hold us to it.
"""

from __future__ import annotations

from ninja import Schema


class Problem(Schema):
    """RFC 9457 problem details (`application/problem+json`)."""

    type: str = "about:blank"
    title: str
    status: int
    detail: str


# Every authenticated operation can answer these.
ERRORS: dict[int, type[Problem]] = {
    400: Problem,
    401: Problem,
    403: Problem,
    404: Problem,
    409: Problem,
    422: Problem,
    429: Problem,
}


class Cursor(Schema):
    """Cursor paging: pass `next` back as `cursor` for the following page; null at the end."""

    next: str | None = None
