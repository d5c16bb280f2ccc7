"""`request.htmx` for views typed with the project's request classes."""

from __future__ import annotations

from django.http import HttpRequest
from django_htmx.middleware import HtmxDetails


def is_htmx(request: HttpRequest) -> bool:
    """True for a request htmx made (django-htmx's middleware sets `request.htmx`)."""
    details: HtmxDetails | None = getattr(request, "htmx", None)
    return bool(details)
