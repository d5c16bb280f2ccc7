"""Who sent a request: the client address, also behind trusted proxies."""

from __future__ import annotations

from django.conf import settings
from django.http import HttpRequest


def client_address(request: HttpRequest) -> str:
    """REMOTE_ADDR, or the last untrusted hop of X-Forwarded-For behind trusted proxies."""
    remote = request.META.get("REMOTE_ADDR", "")
    trusted = set(settings.TRUSTED_PROXIES)
    if remote not in trusted:
        return remote
    hops = [h.strip() for h in request.META.get("HTTP_X_FORWARDED_FOR", "").split(",") if h]
    for hop in reversed(hops):
        if hop not in trusted:
            return hop
    return remote
