"""Inbound SMS and MMS posted to a customer's own webhook URL: signed, retried for a day, logged.

Flow: the inbound transaction records intent (`deliveries_enqueue`, one WebhookDelivery per
message and URL, no HTTP); after commit a worker (`deliveries_send_due`, also on a 30 s beat)
claims due rows with a conditional UPDATE and posts them outside any transaction.

Claiming: a row is due when PENDING and `next_attempt <= now`. The claim moves `next_attempt`
forward by a lease (timeout + margin) and counts the attempt in the same UPDATE, so a second
worker finds it not due; a worker that dies mid-send leaves it due again when the lease ends.

Safety at send time (DNS can change since the URL was saved): the port must be allowed and
the host must resolve only to public addresses (safety.py beside this module), the connection
goes to the address we checked (no second lookup for the HTTP client to be rebound to),
redirects are not followed, a short timeout applies and at most a few hundred bytes of the
answer are read. `CUSTOMER_WEBHOOK_ALLOW_PRIVATE` (tests and the local demo only) lifts the
address and port checks and allows plain http://.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import logging
import random
import secrets
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import TypeVar

from django.conf import settings
from django.core import signing
from django.db import transaction
from django.db.models import F, QuerySet
from django.http import HttpRequest
from django.urls import reverse
from django.utils import timezone
from django_scopes import scopes_disabled

from accounts.models import Tenant, User
from accounts.services import audit_record
from core.http import TransportError, pinned_post
from core.url_safety import UnsafeURL, connect_address, public_addresses
from messaging.customer_webhooks.models import (
    Attempted,
    CustomerWebhook,
    EventDelivery,
    WebhookDelivery,
)
from messaging.customer_webhooks.selectors import webhook_for
from messaging.models import Message, MessageImage

logger = logging.getLogger(__name__)

EVENT_SMS_RECEIVED = "sms.received"
EVENT_MMS_RECEIVED = "mms.received"
IMAGE_URL_SALT = "messaging.customer_webhooks.image"
# An MMS's first post waits this long at most for its images to be downloaded.
MMS_IMAGE_WAIT = timedelta(minutes=10)
USER_AGENT = "Switchboard-Webhooks/1"
TIMESTAMP_HEADER = "X-Switchboard-Timestamp"
SIGNATURE_HEADER = "X-Switchboard-Signature"
SIGNATURE_VERSION = "v1"
# After a rotation the previous secret signs too, so receivers can switch over.
ROTATION_OVERLAP = timedelta(hours=24)
FIRST_BACKOFF_SECONDS = 30
MAX_BACKOFF_SECONDS = 3600
# What we keep of a failed answer: enough to read, not a copy of the customer's response.
ERROR_LIMIT = 500
# A worker stops taking new rows after this long, well inside Celery's soft time limit;
# the next beat carries on.
SEND_BUDGET_SECONDS = 120

NO_SECRET = "No signing secret yet: an owner must create one on the Webhooks page."

Status = Attempted.Status
Queued = TypeVar("Queued", bound=Attempted)


# --- signing ----------------------------------------------------------------------------------


def sign(*, secret: str, timestamp: int | str, body: bytes) -> str:
    """Hex HMAC-SHA256 of `<timestamp>.` + body, keyed with the secret's UTF-8 bytes."""
    message = f"{timestamp}.".encode() + body
    return hmac.new(secret.encode(), message, hashlib.sha256).hexdigest()


def signature_header(
    *, webhook: CustomerWebhook, timestamp: int, body: bytes, now: datetime | None = None
) -> str:
    """`v1=<hex>`, plus `,v1=<hex>` with the previous secret during the rotation overlap."""
    now = now or timezone.now()
    values = [f"{SIGNATURE_VERSION}={sign(secret=webhook.secret, timestamp=timestamp, body=body)}"]
    if webhook.previous_secret and now < webhook.rotated + ROTATION_OVERLAP:
        previous = sign(secret=webhook.previous_secret, timestamp=timestamp, body=body)
        values.append(f"{SIGNATURE_VERSION}={previous}")
    return ",".join(values)


def secret_rotate(
    *, tenant: Tenant, actor: User | None = None, request: HttpRequest | None = None
) -> str:
    """Create or rotate the tenant's signing secret; returns the new secret (show it once)."""
    new_secret = secrets.token_urlsafe(32)
    now = timezone.now()
    with scopes_disabled(), transaction.atomic():
        webhook = CustomerWebhook.objects.select_for_update().filter(tenant=tenant).first()
        if webhook is None:
            CustomerWebhook.objects.create(tenant=tenant, secret=new_secret, rotated=now)
            action = "webhook.secret_created"
        else:
            webhook.previous_secret = webhook.secret
            webhook.secret = new_secret
            webhook.rotated = now
            webhook.save(update_fields=["previous_secret", "secret", "rotated"])
            action = "webhook.secret_rotated"
        audit_record(action=action, actor=actor, tenant=tenant, request=request)
    return new_secret


# --- enqueue ----------------------------------------------------------------------------------


def deliveries_enqueue(*, message: Message) -> int:
    """Record that an inbound SMS or MMS must be posted to its number's webhook. No HTTP here.

    Called inside the inbound transaction; safe to call twice (one row per message and URL).
    Outgoing messages are not posted.
    """
    number = message.number
    if number is None or not number.sms_webhook_url or message.direction != Message.Direction.IN:
        return 0
    now = timezone.now()
    with scopes_disabled():
        _, created = WebhookDelivery.objects.get_or_create(
            message=message,
            url=number.sms_webhook_url,
            defaults={
                "tenant_id": message.tenant_id,
                "number": number,
                "next_attempt": now,
                "created": now,
            },
        )
    return int(created)


def deliveries_enqueue_many(*, messages: list[Message]) -> int:
    """deliveries_enqueue for many stored inbound messages in one INSERT (a batch of events)."""
    now = timezone.now()
    rows = [
        WebhookDelivery(
            tenant_id=m.tenant_id,
            number=m.number,
            message=m,
            url=m.number.sms_webhook_url,
            next_attempt=now,
            created=now,
        )
        for m in messages
        if m.number is not None and m.number.sms_webhook_url and m.direction == Message.Direction.IN
    ]
    with scopes_disabled():
        WebhookDelivery.objects.bulk_create(rows, ignore_conflicts=True)
    return len(rows)


# --- sending (shared by inbound-message and event deliveries) ---------------------------------


def deliveries_send_due(*, now: datetime | None = None, limit: int = 200) -> int:
    """Post every due inbound delivery once (oldest due first); returns how many attempts were
    made."""
    now = now or timezone.now()
    with scopes_disabled():
        return deliveries_sweep(
            rows=WebhookDelivery.objects.select_related("message", "number"),
            now=now,
            limit=limit,
            claim=lambda pk: _claim(pk=pk, now=now),
            handle=lambda delivery: _handle(delivery=delivery, now=now),
        )


def deliveries_sweep(
    *,
    rows: QuerySet[Queued],
    now: datetime,
    limit: int,
    claim: Callable[[int], bool],
    handle: Callable[[Queued], bool],
) -> int:
    """Claim each due row of `rows` (oldest due first) and hand it to `handle`, which returns
    whether it made an attempt; returns how many were made. Runs with scopes disabled."""
    started = time.monotonic()
    attempts = 0
    due = list(
        rows.filter(status=Status.PENDING, next_attempt__lte=now)
        .order_by("next_attempt", "pk")
        .values_list("pk", flat=True)[:limit]
    )
    for pk in due:
        if time.monotonic() - started > SEND_BUDGET_SECONDS:
            break
        if not claim(pk):
            continue  # another worker has it
        delivery = rows.get(pk=pk)
        try:
            attempts += handle(delivery)
        except Exception as exc:
            # One broken row must not stop the batch every 30 s: back it off like a failure
            # (logged by id, not URL: a URL may hold the customer's token).
            logger.exception("webhook delivery %s crashed", delivery.pk)
            delivery_record(delivery=delivery, now=now, code=None, error=f"Internal error: {exc!r}")
            attempts += 1
    return attempts


def _handle(*, delivery: WebhookDelivery, now: datetime) -> bool:
    """One claimed inbound delivery: stop, wait for its images, or post it."""
    if delivery.number.sms_webhook_url != delivery.url:
        # The customer changed or removed the URL: stop retrying the old one.
        delivery_record(
            delivery=delivery,
            now=now,
            code=None,
            error="The number no longer posts to this URL.",
            final=True,
        )
        return False
    if _images_pending(delivery=delivery, now=now):
        _postpone(delivery=delivery, now=now)
        return False
    _attempt(delivery=delivery, now=now)
    return True


def delivery_send(*, delivery: Attempted, now: datetime | None = None) -> None:
    """One attempt at a due delivery (inbound or event), if no other worker holds it;
    refreshes `delivery`."""
    now = now or timezone.now()
    with scopes_disabled():
        if isinstance(delivery, WebhookDelivery):
            if _claim(pk=delivery.pk, now=now):
                claimed = WebhookDelivery.objects.select_related("message", "number").get(
                    pk=delivery.pk
                )
                _attempt(delivery=claimed, now=now)
        elif delivery_claim(model=type(delivery), pk=delivery.pk, now=now):
            # Event deliveries live beside this module; imported here, they import us.
            from messaging.customer_webhooks.endpoints import event_delivery_handle

            claimed_event = EventDelivery.objects.select_related("endpoint").get(pk=delivery.pk)
            event_delivery_handle(delivery=claimed_event, now=now)
        delivery.refresh_from_db()


def delivery_resend(*, delivery: Attempted) -> bool:
    """Put a delivered or failed delivery back in the queue and try it once now.

    Returns False when it was still pending (its retries are running; nothing is sent).
    """
    now = timezone.now()
    with scopes_disabled():
        reset = (
            type(delivery)
            ._default_manager.filter(pk=delivery.pk, status__in=[Status.FAILED, Status.DELIVERED])
            .update(status=Status.PENDING, next_attempt=now, delivered_at=None)
        )
    if not reset:
        with scopes_disabled():
            delivery.refresh_from_db()
        return False
    delivery_send(delivery=delivery, now=now)
    return True


def delivery_claim(*, model: type[Attempted], pk: int, now: datetime) -> bool:
    """Take one due delivery for this worker: exactly one row changed, or someone else has it.

    The claim moves `next_attempt` past a lease and counts the attempt in the same UPDATE."""
    lease = timedelta(seconds=_timeout() * 2 + 30)
    changed = model._default_manager.filter(
        pk=pk, status=Status.PENDING, next_attempt__lte=now
    ).update(next_attempt=now + lease, attempts=F("attempts") + 1)
    return changed == 1


def _claim(*, pk: int, now: datetime) -> bool:
    return delivery_claim(model=WebhookDelivery, pk=pk, now=now)


def _images_pending(*, delivery: WebhookDelivery, now: datetime) -> bool:
    """An MMS waits (up to MMS_IMAGE_WAIT) until its images are here, so its URLs work."""
    message = delivery.message
    if message.kind != Message.Kind.MMS or now >= delivery.created + MMS_IMAGE_WAIT:
        return False
    return message.images.filter(downloaded=None, error="").exists()


def _postpone(*, delivery: WebhookDelivery, now: datetime) -> None:
    """Give the claim back without counting it as an attempt."""
    WebhookDelivery.objects.filter(pk=delivery.pk, attempts=delivery.attempts).update(
        next_attempt=now + timedelta(seconds=FIRST_BACKOFF_SECONDS),
        attempts=F("attempts") - 1,
    )


def _attempt(*, delivery: WebhookDelivery, now: datetime) -> None:
    """Post a claimed delivery and record the outcome (never raises for the customer's side)."""
    body = json.dumps(payload_for(delivery=delivery), separators=(",", ":")).encode()
    code, error = signed_post(
        tenant_id=delivery.tenant_id,
        url=delivery.url,
        body=body,
        content_type="application/json",
        now=now,
    )
    delivery_record(delivery=delivery, now=now, code=code, error=error)


def signed_post(
    *,
    tenant_id: int,
    url: str,
    body: bytes,
    content_type: str,
    now: datetime,
    unsigned_ok: bool = False,
) -> tuple[int | None, str]:
    """POST `body` signed with the tenant's secret; (status or None, error or "").

    `unsigned_ok`: a 46elks `whendelivered` report, whose receiver was written for 46elks (which
    signs nothing, so the URL carries the customer's own token): posted unsigned while the
    tenant has no secret, signed once it has one."""
    webhook = webhook_for(tenant_id=tenant_id)
    if webhook is None and not unsigned_ok:
        # Never unsigned: the receiver could not tell our posts from anyone's.
        return None, NO_SECRET
    headers = {"Content-Type": content_type, "User-Agent": USER_AGENT}
    if webhook is not None:
        timestamp = int(time.time())
        headers[TIMESTAMP_HEADER] = str(timestamp)
        headers[SIGNATURE_HEADER] = signature_header(
            webhook=webhook, timestamp=timestamp, body=body, now=now
        )
    try:
        code, answer = _post(url=url, body=body, headers=headers)
    except (UnsafeURL, TransportError) as exc:
        return None, str(exc)
    except (OSError, ValueError) as exc:
        return None, f"{type(exc).__name__}: {exc}"
    if 200 <= code < 300:
        return code, ""
    error = f"HTTP {code}"
    if 300 <= code < 400:
        error += " (redirects are not followed)"
    if answer:
        error += f": {answer}"
    return code, error


def delivery_record(
    *,
    delivery: Attempted,
    now: datetime,
    code: int | None,
    error: str,
    final: bool = False,
) -> None:
    """The outcome of a claimed attempt: delivered, retried after a backoff, or given up."""
    fields: dict[str, object] = {"last_status_code": code, "last_error": error[:ERROR_LIMIT]}
    if not error:
        fields.update(status=Status.DELIVERED, delivered_at=timezone.now())
    elif final or now >= _deadline(delivery):
        fields.update(status=Status.FAILED)
    else:
        # One last try at the deadline rather than none after the last backoff.
        fields.update(
            next_attempt=min(now + backoff(attempts=delivery.attempts), _deadline(delivery))
        )
    # Only while our claim stands: if the lease ran out and another worker took the row, its
    # result is the one to keep.
    type(delivery)._default_manager.filter(pk=delivery.pk, attempts=delivery.attempts).update(
        **fields
    )
    if error:
        logger.info("webhook delivery %s failed: %s", delivery, error[:200])


def _deadline(delivery: Attempted) -> datetime:
    hours = getattr(settings, "CUSTOMER_WEBHOOK_RETRY_HOURS", 24)
    return delivery.created + timedelta(hours=hours)


def backoff(*, attempts: int) -> timedelta:
    """30 s, 1 min, 2 min ... capped at 1 h; ±20 % jitter so failures do not retry in step."""
    base = FIRST_BACKOFF_SECONDS * 2 ** max(attempts - 1, 0)
    seconds = min(base, MAX_BACKOFF_SECONDS) * random.uniform(0.8, 1.2)
    return timedelta(seconds=min(seconds, MAX_BACKOFF_SECONDS))


def payload_for(*, delivery: WebhookDelivery) -> dict[str, object]:
    message = delivery.message
    payload: dict[str, object] = {
        "event": EVENT_SMS_RECEIVED,
        "id": message.elks_id,
        "from": message.other,
        "to": message.ours,
        "message": message.body,
        "created": message.created.astimezone(UTC).isoformat(timespec="seconds"),
        "number_label": delivery.number.label,
    }
    if message.kind == Message.Kind.MMS:
        payload["event"] = EVENT_MMS_RECEIVED
        payload["images"] = [
            {
                "url": image_url(image=image) if image.downloaded else None,
                "content_type": image.content_type,
                "size": image.size,
            }
            for image in message.images.order_by("pk")
        ]
    return payload


def image_url(*, image: MessageImage) -> str:
    """A signed link to an inbound MMS image, valid for MMS_IMAGE_URL_DAYS (no sign-in)."""
    token = signing.dumps(image.pk, salt=IMAGE_URL_SALT, compress=False)
    path = reverse("mms_webhook_image", kwargs={"token": token})
    return f"{settings.PUBLIC_BASE_URL}{path}"


def image_for_url(*, token: str) -> MessageImage | None:
    """The inbound image a signed link names, or None when tampered with or expired."""
    try:
        pk = signing.loads(
            token, salt=IMAGE_URL_SALT, max_age=timedelta(days=settings.MMS_IMAGE_URL_DAYS)
        )
    except signing.BadSignature:
        return None
    with scopes_disabled():
        return (
            MessageImage.objects.filter(pk=pk, message__direction=Message.Direction.IN)
            .exclude(file="")
            .first()
        )


# --- HTTP, with the address pinned --------------------------------------------------------------


def _timeout() -> float:
    return float(getattr(settings, "CUSTOMER_WEBHOOK_TIMEOUT", 5.0))


def resolve_public(url: str) -> str:
    """The address to connect to; UnsafeURL unless the port is allowed and every address of the
    host is public (rules in safety.py, checked again here against DNS
    rebinding since the URL was saved)."""
    allow_private = getattr(settings, "CUSTOMER_WEBHOOK_ALLOW_PRIVATE", False)
    addresses = public_addresses(url, allow_private=allow_private)
    return connect_address(addresses[0])


def _post(*, url: str, body: bytes, headers: dict[str, str]) -> tuple[int, str]:
    """POST to the checked address; returns (status, start of the answer)."""
    return pinned_post(
        url=url,
        address=resolve_public(url),
        body=body,
        headers=headers,
        timeout=_timeout(),
        answer_limit=ERROR_LIMIT,
    )
