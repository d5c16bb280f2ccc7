"""The readable docs page at /api/v1/docs: Redoc, served under our Content-Security-Policy.

ninja's own Redoc page starts Redoc from an inline script and styles itself inline, which the
site's CSP (script-src and style-src 'self') blocks. This page loads Redoc and a static init
file from our own origin, and the view relaxes only what Redoc itself needs at run time: its
CSS-in-JS injects <style> elements (style-src 'unsafe-inline') and its search runs in a Web
Worker started from a blob: URL (worker-src blob:). Scripts stay 'self' only.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from csp.decorators import csp_update
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from ninja.openapi.docs import DocsBase

if TYPE_CHECKING:
    from ninja import NinjaAPI

REDOC_CSP = {"style-src": ["'unsafe-inline'"], "worker-src": ["'self'", "blob:"]}
docs_csp = csp_update(REDOC_CSP)


class CspRedoc(DocsBase):
    def render_page(self, request: HttpRequest, api: NinjaAPI, **kwargs: Any) -> HttpResponse:
        context = {"api": api, "openapi_url": self.get_openapi_url(api, kwargs)}
        return render(request, "api/docs.html", context)
