"""Everything an API request goes through before and after its endpoint, in one place.

/a1/ (46elks-compatible) and /api/v1/ (JSON) serve machines: no cookie, session or CSRF
token, so like provider callbacks they skip the browser middleware (placed right after
SecurityMiddleware; the URL is resolved and the view called here). In order:

1. authenticate the key (HTTP Basic: key id and secret; or `Authorization: Bearer id:secret`);
2. refuse a tenant that is not active;
3. charge the key's and the tenant's token buckets (Redis, shared by all processes): 429 with
   Retry-After when either is empty;
4. claim the Idempotency-Key of a POST (api.idempotency);
5. run the endpoint inside the tenant's scope (the one tenancy mechanism: a key of tenant A
   cannot reach tenant B's rows, as with a signed-in user under /t/<slug>/);
6. log method, path, status and latency (never the body) and the key's use.

The OpenAPI description and its docs page are public and go through the normal stack.
"""

from __future__ import annotations

import base64
import binascii
import logging
import time
from collections.abc import Callable

from django.contrib.auth.models import AnonymousUser
from django.core.exceptions import RequestDataTooBig
from django.http import Http404, HttpRequest, HttpResponse
from django.urls import Resolver404, resolve
from django_scopes import scope
from redis.exceptions import RedisError

from accounts.models import Tenant
from api.errors import ApiDenied, Style, error
from api.idempotency import idempotent
from api.models import ApiKey
from api.services import key_authenticate, key_used, request_record, settings_for
from core.net import client_address
from core.ratelimit import Bucket, buckets_take

log = logging.getLogger(__name__)

ELKS_PREFIX = "/a1/"
JSON_PREFIX = "/api/v1/"
PUBLIC = ("/api/v1/openapi.json", "/api/v1/docs")
REALM = 'Basic realm="Switchboard API"'


def api_style(path: str) -> Style | None:
    if path.startswith(ELKS_PREFIX) or path == ELKS_PREFIX.rstrip("/"):
        return Style.ELKS
    if path.startswith(JSON_PREFIX) and not path.startswith(PUBLIC):
        return Style.PROBLEM
    return None


def credentials(request: HttpRequest) -> tuple[str, str] | None:
    header = request.META.get("HTTP_AUTHORIZATION", "")
    kind, _, value = header.partition(" ")
    if kind.lower() == "basic":
        try:
            decoded = base64.b64decode(value.strip(), validate=True).decode()
        except (binascii.Error, UnicodeDecodeError):
            return None
    elif kind.lower() == "bearer":
        decoded = value.strip()
    else:
        return None
    key_id, sep, secret = decoded.partition(":")
    if "\x00" in decoded:  # no key has one; PostgreSQL text cannot hold it
        return None
    return (key_id, secret) if sep and key_id and secret else None


class ApiMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        style = api_style(request.path_info)
        if style is None:
            return self.get_response(request)
        request.get_host()  # ALLOWED_HOSTS still applies (CommonMiddleware is skipped)
        started = time.perf_counter()
        request.user = AnonymousUser()  # endpoints act for the key, never for a session
        found = credentials(request)
        key = key_authenticate(*found) if found else None
        if key is None:
            answer = error(style, 401, "Invalid username or password")
            answer["WWW-Authenticate"] = REALM
            return answer
        ip = client_address(request) or None
        request.api_key = key  # type: ignore[attr-defined]  # api.request_types.KeyRequest
        request.tenant = key.tenant  # type: ignore[attr-defined]  # as above
        with scope(tenant=key.tenant_id):
            response = self._answer(request, key, style)
            self._log(request, key, response, started=started, ip=ip)
        return response

    @staticmethod
    def _log(
        request: HttpRequest, key: ApiKey, response: HttpResponse, *, started: float, ip: str | None
    ) -> None:
        latency = int((time.perf_counter() - started) * 1000)
        try:
            request_record(
                key=key,
                method=request.method or "",
                path=request.path_info,
                status=response.status_code,
                latency_ms=latency,
                ip=ip,
            )
            key_used(key=key, ip=ip)
        except Exception:  # the answer is already decided: a log failure must not change it
            log.exception("API request log failed for key %s", key.key_id)

    def _answer(self, request: HttpRequest, key: ApiKey, style: Style) -> HttpResponse:
        tenant = key.tenant
        if tenant.status != Tenant.Status.ACTIVE:
            return error(style, 403, f"This account is {tenant.get_status_display().lower()}.")
        wait = self._limited(key)
        if wait > 0:
            answer = error(style, 429, "Too many requests: slow down and retry after a pause.")
            answer["Retry-After"] = str(max(1, round(wait + 0.499)))
            return answer
        try:
            match = resolve(request.path_info)
        except (Resolver404, Http404):
            return error(style, 404, "Not found")
        request.resolver_match = match

        def run() -> HttpResponse:
            try:
                return match.func(request, *match.args, **match.kwargs)
            except ApiDenied as denied:
                return error(style, denied.status, denied.detail, title=denied.title)
            except Http404:
                return error(style, 404, "Not found")
            except RequestDataTooBig:
                return error(style, 413, "The request body is too large.")
            except Exception:
                # A bug, not the client's fault: logged with its traceback, answered in the
                # API's own style and kept in the tenant's request log like any answer.
                log.exception("API endpoint failed: %s %s", request.method, request.path_info)
                return error(style, 500, "Internal error: the request was not completed.")

        return idempotent(request, key, style, run)

    @staticmethod
    def _limited(key: ApiKey) -> float:
        limits = settings_for(key.tenant)
        buckets = [
            Bucket.per_second(f"api:key:{key.pk}", limits.key_rate, burst=limits.key_burst),
            Bucket.per_second(
                f"api:tenant:{key.tenant_id}", limits.tenant_rate, burst=limits.tenant_burst
            ),
        ]
        try:
            return buckets_take(buckets)
        except RedisError:
            log.warning("API rate limit unavailable (Redis): request let through")
            return 0.0
