"""The JSON API (/api/v1/): django-ninja builds the endpoints' validation and the OpenAPI 3
description from the code. api.middleware has authenticated the key, charged the rate limits,
claimed the Idempotency-Key and entered the tenant's scope before an endpoint runs; the auth
classes here only hand ninja that key (and describe the schemes in the OpenAPI document).
Errors are problem details (RFC 9457): `api.errors.problem`."""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any

from django.http import Http404, HttpRequest, HttpResponse, HttpResponseNotAllowed
from django.urls import URLPattern, URLResolver
from ninja import NinjaAPI
from ninja.errors import AuthenticationError, HttpError, ValidationError
from ninja.security import HttpBasicAuth, HttpBearer

from api.errors import ApiDenied, problem
from api.v1 import calls, campaigns, contacts, messages, numbers, recordings, usage
from api.v1.docs import CspRedoc, docs_csp


class KeyBasic(HttpBasicAuth):
    """HTTP Basic: the key id as user name, the key secret as password (as at 46elks)."""

    def __call__(self, request: HttpRequest) -> Any:
        return getattr(request, "api_key", None)

    def authenticate(self, request: HttpRequest, username: str, password: str) -> Any:
        return getattr(request, "api_key", None)


class KeyBearer(HttpBearer):
    """`Authorization: Bearer <key id>:<key secret>`."""

    def __call__(self, request: HttpRequest) -> Any:
        return getattr(request, "api_key", None)

    def authenticate(self, request: HttpRequest, token: str) -> Any:
        return getattr(request, "api_key", None)


DESCRIPTION = """
The Switchboard tenant API. Authenticate with an API key from the portal's API page: HTTP Basic
with the key id as user name and the secret as password (or `Authorization: Bearer id:secret`).

* Every POST accepts an `Idempotency-Key` header: a retry within 24 hours gets the first answer
  and never sends twice.
* Rate limits apply per key and per account: `429 Too Many Requests` with `Retry-After`.
* Money is in 1/10000 of the account's currency (as at 46elks), at your own prices.
* Errors are `application/problem+json` with a `detail` that says what to fix.
"""


def _problem_405(view: Callable[..., Any]) -> Callable[..., Any]:
    """ninja answers a known path with an unknown method itself, in plain text: say it as a
    problem too, keeping the Allow header."""

    @functools.wraps(view)
    def wrapped(request: HttpRequest, *args: Any, **kwargs: Any) -> Any:
        response = view(request, *args, **kwargs)
        if isinstance(response, HttpResponseNotAllowed):
            allowed = response["Allow"]
            response = problem(405, f"{request.method} is not allowed here; use {allowed}.")
            response["Allow"] = allowed
        return response

    return wrapped


class SwitchboardApi(NinjaAPI):
    def _get_urls(self) -> list[URLResolver | URLPattern]:
        patterns = super()._get_urls()
        for pattern in patterns:
            if isinstance(pattern, URLPattern):
                pattern.callback = _problem_405(pattern.callback)
        return patterns


api = SwitchboardApi(
    title="Switchboard API",
    version="1",
    description=DESCRIPTION,
    urls_namespace="api_v1",
    auth=[KeyBasic(), KeyBearer()],
    docs=CspRedoc(),
    docs_url="/docs",
    docs_decorator=docs_csp,
    openapi_url="/openapi.json",
)

for module, prefix in (
    (messages, "/messages"),
    (numbers, "/numbers"),
    (calls, "/calls"),
    (recordings, "/recordings"),
    (contacts, "/contacts"),
    (campaigns, "/campaigns"),
    (usage, "/usage"),
):
    api.add_router(prefix, module.router)


def _field(loc: tuple[object, ...] | list[object]) -> str | None:
    """`to` for ("body", "payload", "to"): where the field is, not the handler's argument."""
    parts = list(loc)[1:]
    if loc and loc[0] == "body" and len(parts) > 1:
        parts = parts[1:]
    return ".".join(str(p) for p in parts) or None


@api.exception_handler(ValidationError)
def _invalid(request: HttpRequest, exc: ValidationError) -> HttpResponse:
    errors = [{"field": _field(e.get("loc", ())), "message": e.get("msg")} for e in exc.errors]
    first = errors[0] if errors else {"field": None, "message": "Invalid request"}
    where = f"{first['field']}: " if first["field"] else ""
    return problem(422, f"{where}{first['message']}", errors=errors)


@api.exception_handler(ApiDenied)
def _denied(request: HttpRequest, exc: ApiDenied) -> HttpResponse:
    return problem(exc.status, exc.detail, title=exc.title)


@api.exception_handler(HttpError)
def _http_error(request: HttpRequest, exc: HttpError) -> HttpResponse:
    detail = str(exc.message)
    if detail.startswith("Cannot parse request body"):
        detail = "The request body is not valid JSON."
    return problem(exc.status_code, detail)


@api.exception_handler(AuthenticationError)
def _unauthenticated(request: HttpRequest, exc: AuthenticationError) -> HttpResponse:
    return problem(401, "Invalid username or password")


@api.exception_handler(Http404)
def _not_found(request: HttpRequest, exc: Http404) -> HttpResponse:
    return problem(404, "Not found")
