"""Idempotency-Key on POST: the first answer is stored and replayed to retries for 24 hours.

The key is claimed by an INSERT on a unique (API key, Idempotency-Key) row before the endpoint
runs, committed at once: of concurrent retries exactly one runs, the others get 409 while it
runs and its stored answer afterwards. A 5xx or an exception deletes the claim so the retry
runs again. Endpoints that send also derive their send's request key from the Idempotency-Key
(`request_key`), so even a lost claim never sends twice.
"""

from __future__ import annotations

import hashlib
import uuid
from collections.abc import Callable
from datetime import datetime, timedelta

from django.db import IntegrityError, transaction
from django.http import HttpRequest, HttpResponse
from django.utils import timezone

from api.errors import Style, error
from api.models import ApiKey, IdempotentRequest

HEADER = "Idempotency-Key"
TTL = timedelta(hours=24)
# A claim still running after this long belongs to a process that died (requests time out far
# sooner): a retry takes it over instead of hearing 409 for a day.
STALE = timedelta(minutes=5)
MAX_LENGTH = 255
NAMESPACE = uuid.UUID("6f1d6c3e-6a0e-4f7e-9d43-3f3c6b1f0a51")


def request_key(request: HttpRequest) -> uuid.UUID:
    """The request key a send is claimed by: derived from the Idempotency-Key when given."""
    key: ApiKey | None = getattr(request, "api_key", None)
    given = getattr(request, "idempotency_key", None)
    if key is None or not given:
        return uuid.uuid4()
    return uuid.uuid5(NAMESPACE, f"{key.pk}:{given}")


def fingerprint(request: HttpRequest) -> str:
    digest = hashlib.sha256()
    for part in (request.method or "", request.path_info, request.META.get("QUERY_STRING", "")):
        digest.update(part.encode() + b"\0")
    digest.update(request.body)
    return digest.hexdigest()


def idempotent(
    request: HttpRequest, key: ApiKey, style: Style, run: Callable[[], HttpResponse]
) -> HttpResponse:
    given = request.headers.get(HEADER)
    if request.method != "POST" or given is None:
        return run()
    given = given.strip()
    if not given or len(given) > MAX_LENGTH:
        return error(style, 400, f"{HEADER} must be 1 to {MAX_LENGTH} characters.")
    printed = fingerprint(request)
    now = timezone.now()
    IdempotentRequest.objects.filter(key=key, idempotency_key=given, created__lt=now - TTL).delete()
    try:
        with transaction.atomic():
            claim = IdempotentRequest.objects.create(
                key=key, idempotency_key=given, fingerprint=printed, created=now
            )
    except IntegrityError:
        taken = _take_over(key=key, given=given, printed=printed, now=now)
        if taken is None:
            return _earlier(key=key, given=given, printed=printed, style=style)
        claim = taken
    request.idempotency_key = given  # type: ignore[attr-defined]  # read by request_key
    try:
        response = run()
    except BaseException:
        IdempotentRequest.objects.filter(pk=claim.pk).delete()
        raise
    if response.status_code >= 500 or response.streaming:
        IdempotentRequest.objects.filter(pk=claim.pk).delete()
        return response
    IdempotentRequest.objects.filter(pk=claim.pk).update(
        state=IdempotentRequest.State.DONE,
        status=response.status_code,
        content_type=response.get("Content-Type", ""),
        body=response.content,
    )
    return response


def _take_over(*, key: ApiKey, given: str, printed: str, now: datetime) -> IdempotentRequest | None:
    """A claim whose process died while running (killed worker, timeout) is taken over by a
    retry once STALE has passed, by one conditional UPDATE: only one retry wins. Running the
    endpoint again is safe for sends: their request key is the same, so 46elks is not asked
    twice."""
    taken = IdempotentRequest.objects.filter(
        key=key,
        idempotency_key=given,
        fingerprint=printed,
        state=IdempotentRequest.State.RUNNING,
        created__lt=now - STALE,
    ).update(created=now)
    if not taken:
        return None
    return IdempotentRequest.objects.filter(key=key, idempotency_key=given).first()


def _earlier(*, key: ApiKey, given: str, printed: str, style: Style) -> HttpResponse:
    earlier = IdempotentRequest.objects.filter(key=key, idempotency_key=given).first()
    if earlier is None or earlier.state == IdempotentRequest.State.RUNNING:
        answer = error(
            style, 409, f"A request with this {HEADER} is still being processed; retry shortly."
        )
        answer["Retry-After"] = "1"
        return answer
    if earlier.fingerprint != printed:
        return error(
            style,
            422,
            f"This {HEADER} was already used for a different request; use a new key.",
        )
    replay = HttpResponse(
        bytes(earlier.body), status=earlier.status or 200, content_type=earlier.content_type
    )
    replay["Idempotent-Replayed"] = "true"
    return replay


def idempotency_prune() -> int:
    """Beat: forget answers older than 24 hours."""
    cutoff = timezone.now() - TTL
    deleted, _ = IdempotentRequest.objects.filter(created__lt=cutoff).delete()
    return deleted
