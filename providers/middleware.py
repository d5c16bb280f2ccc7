"""Provider callbacks skip the browser middleware.

A callback under /hooks/ carries no cookie, session, CSRF token or tenant slug, and answers a
machine, so sessions, CSRF, auth, messages, CSP, htmx and the tenant middleware have nothing to
do for it; together they were the largest share of a trivial request's CPU (docs/bench.md).
Placed right after SecurityMiddleware (HTTPS redirect and HSTS still apply), this resolves
the URL and calls the view itself. The views authenticate by the token in their URL.
"""

from __future__ import annotations

from collections.abc import Callable

from django.http import Http404, HttpRequest, HttpResponse, HttpResponseNotFound
from django.urls import resolve

CALLBACK_PREFIX = "/hooks/"


class ProviderCallbackMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        if not request.path_info.startswith(CALLBACK_PREFIX):
            return self.get_response(request)
        request.get_host()  # ALLOWED_HOSTS still applies (CommonMiddleware is skipped)
        try:
            match = resolve(request.path_info)
            request.resolver_match = match
            return match.func(request, *match.args, **match.kwargs)
        except Http404:
            # Plain text: the HTML 404 page expects the browser middleware's request state.
            return HttpResponseNotFound("Not found", content_type="text/plain")
