"""Upload size limits enforced from the Content-Length header, before any of the body is read.

Django parses a multipart body the first time anything touches `request.POST` or
`request.FILES` (the CSRF check does, before the view runs) and writes every file part to
memory or a temp file, however large; a form's `file.size` check only runs after that. So:

1. A view that accepts files declares its limit: `@upload_limit(bytes)` (an int, or a callable
   read per request for limits that live in settings).
2. `UploadLimitMiddleware.process_view`, listed before CsrfViewMiddleware, compares the
   request's Content-Length with that limit plus room for the other form fields, or with
   `REQUEST_MAX_BYTES` for every other view, and answers 413 with templates/413.html without
   reading the body.
3. The decorator checks again when the view runs, so a view is protected even where the
   middleware is not installed (tests building their own stack, another entry point).
4. Forms still check `file.size` for a clear message next to the field.

A body without Content-Length is not read at all under WSGI (Django treats it as empty), so the
header is the only size a request can claim.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import Any

from django.conf import settings
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render

LIMIT_ATTR = "upload_limit_bytes"
# Room for the multipart framing and the form's other fields next to the file.
FORM_ALLOWANCE = 256 * 1024
BODY_METHODS = frozenset({"POST", "PUT", "PATCH"})

Limit = int | Callable[[], int]
View = Callable[..., HttpResponse]


def upload_limit(max_file_bytes: Limit) -> Callable[[View], View]:
    """Mark a view as accepting files of at most `max_file_bytes` and refuse larger bodies."""

    def decorator(view: View) -> View:
        @wraps(view)
        def wrapped(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
            refused = refusal(request, max_file_bytes)
            return refused or view(request, *args, **kwargs)

        # functools.wraps copies __dict__, so outer decorators keep the mark for the middleware.
        setattr(wrapped, LIMIT_ATTR, max_file_bytes)
        return wrapped

    return decorator


def _file_limit(limit: Limit) -> int:
    return limit() if callable(limit) else limit


def default_max_bytes() -> int:
    """The body size any view without `@upload_limit` accepts (settings.REQUEST_MAX_BYTES)."""
    configured = getattr(settings, "REQUEST_MAX_BYTES", None)
    if configured:
        return int(configured)
    return (settings.DATA_UPLOAD_MAX_MEMORY_SIZE or 0) + FORM_ALLOWANCE


def content_length(request: HttpRequest) -> int:
    try:
        return max(int(request.META.get("CONTENT_LENGTH") or 0), 0)
    except ValueError:
        return 0  # Django reads nothing for a malformed length either


def refusal(request: HttpRequest, file_limit: Limit | None) -> HttpResponse | None:
    """A 413 page when the declared body is larger than allowed, else None."""
    if request.method not in BODY_METHODS:
        return None
    size = content_length(request)
    if file_limit is None:
        allowed, shown = default_max_bytes(), None
    else:
        shown = _file_limit(file_limit)
        allowed = shown + FORM_ALLOWANCE
    if size <= allowed:
        return None
    return render(
        request,
        "413.html",
        {"limit": shown, "size": size},
        status=413,
    )


class UploadLimitMiddleware:
    """Refuse oversized bodies by their Content-Length before the CSRF check reads them."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        return self.get_response(request)

    def process_view(
        self,
        request: HttpRequest,
        view_func: Callable[..., HttpResponse],
        view_args: tuple[Any, ...],
        view_kwargs: dict[str, Any],
    ) -> HttpResponse | None:
        return refusal(request, getattr(view_func, LIMIT_ATTR, None))
