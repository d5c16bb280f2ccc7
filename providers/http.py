"""Whether a webhook caller is on the optional allow-list (the address comes from core.net)."""

from __future__ import annotations

import ipaddress

from django.conf import settings
from django.http import HttpRequest

from core.net import client_address


def source_allowed(request: HttpRequest) -> bool:
    allowed = settings.WEBHOOK_ALLOWED_IPS
    if not allowed:
        return True
    try:
        address = ipaddress.ip_address(client_address(request))
    except ValueError:
        return False
    return any(address in ipaddress.ip_network(entry, strict=False) for entry in allowed)
