"""Where a POST goes back to: a `next` URL the form carried, if it stays on this site.

Never the Referer header: it is whatever the browser (or a page that linked here) sent, so a
redirect to it can send staff to another site that looks like ours.
"""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest
from django.shortcuts import resolve_url
from django.utils.http import url_has_allowed_host_and_scheme


def next_url(request: HttpRequest, fallback: str, *args: Any, **kwargs: Any) -> str:
    """The form's `next` when it is a URL on this host, else the named route `fallback`."""
    candidate = request.POST.get("next") or request.GET.get("next") or ""
    if candidate and url_has_allowed_host_and_scheme(
        candidate, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        return candidate
    return resolve_url(fallback, *args, **kwargs)
