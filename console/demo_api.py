"""The demo's tenant API: a key for Acme and a few requests made with it, so the API page,
its curl examples and its request log have something to show."""

from __future__ import annotations

from urllib.parse import urlsplit

from django.conf import settings
from django.test import Client
from django_scopes import scope

from accounts.models import Tenant, User
from api.models import ApiKey, Scope
from api.services import key_create


def demo_api_key(*, tenant: Tenant, owner: User) -> tuple[str, str] | None:
    """Create Acme's "Booking system" key once and use it; (key id, secret) when created now
    (the secret cannot be shown again later), None when it exists from an earlier run."""
    with scope(tenant=tenant.pk):
        if ApiKey.objects.filter(label="Booking system").exists():
            return None
        made = key_create(
            tenant=tenant, label="Booking system", scopes=list(Scope.values), actor=owner
        )
    # Requests through the whole stack (the middleware logs them as the API page shows).
    host = urlsplit(settings.PUBLIC_BASE_URL).netloc or "127.0.0.1"
    client = Client(HTTP_AUTHORIZATION=_basic(made.key.key_id, made.secret), HTTP_HOST=host)
    client.get("/a1/me")
    client.get("/a1/sms?limit=5")
    client.get("/api/v1/usage")
    client.get("/api/v1/messages/0")  # a 404 in the log too
    return made.key.key_id, made.secret


def _basic(user: str, password: str) -> str:
    import base64

    return "Basic " + base64.b64encode(f"{user}:{password}".encode()).decode()
