"""Background work for messaging: history sync, outbox sweep, retention, MMS images."""

from __future__ import annotations

import logging
from datetime import timedelta
from urllib.parse import urlsplit

import requests
from django.conf import settings
from django.core.files.base import ContentFile
from django.db import transaction
from django.utils import timezone
from django_scopes import scope, scopes_disabled

from accounts.models import Tenant
from messaging.models import Message, MessagingSettings
from messaging.services import conversation_touch, delivery_report_apply, settings_for
from numbers.models import PhoneNumber
from providers.clients import elks_for_tenant
from providers.elks.errors import ElksError
from providers.elks.types import Mms, Sms

log = logging.getLogger(__name__)

# Re-read a little before the last synced time: 46elks lists by creation, and a message
# created just before our last pass may have been listed after it.
SYNC_OVERLAP = timedelta(minutes=5)
# An `unknown` send matches history within this window of when we tried it.
UNKNOWN_MATCH_WINDOW = timedelta(minutes=10)
IMAGE_TYPES = {b"\xff\xd8\xff": "image/jpeg", b"\x89PNG": "image/png", b"GIF8": "image/gif"}


def outbox_sweep(*, older_than: timedelta = timedelta(minutes=1)) -> int:
    """Send messages left queued (their enqueue was lost); claims make this safe to repeat."""
    from messaging.services import message_send

    cutoff = timezone.now() - older_than
    with scopes_disabled():
        queued = list(
            Message.objects.filter(status=Message.Status.QUEUED, created__lt=cutoff)
            .order_by("created")
            .values_list("tenant_id", "pk")[:1000]
        )
    for tenant_id, pk in queued:
        with scope(tenant=tenant_id):
            message_send(message_id=pk)
    return len(queued)


def history_sync_all() -> str:
    with scopes_disabled():
        tenants = list(
            Tenant.objects.filter(status=Tenant.Status.ACTIVE).exclude(elks_subaccount_id=None)
        )
    totals = [0, 0]
    for tenant in tenants:
        with scope(tenant=tenant.pk):
            try:
                created, updated = history_sync(tenant=tenant)
            except ElksError as exc:
                log.warning("History sync of tenant %s failed: %s", tenant.pk, exc)
                continue
        totals[0] += created
        totals[1] += updated
    return f"History: {totals[0]} new message(s), {totals[1]} updated."


def history_sync(*, tenant: Tenant) -> tuple[int, int]:
    """Upsert the tenant's SMS and MMS from 46elks by id, newer than the last sync."""
    prefs = settings_for(tenant)
    client = elks_for_tenant(tenant)
    created = updated = 0
    for field, listing, kind in (
        ("history_synced_until", client.sms_list, Message.Kind.SMS),
        ("mms_history_synced_until", client.mms_list, Message.Kind.MMS),
    ):
        since = getattr(prefs, field)
        newest = since
        for item in listing(end=(since - SYNC_OVERLAP) if since else None):
            was_new, was_updated = _upsert(tenant, item, kind)
            created += was_new
            updated += was_updated
            if item.created and (newest is None or item.created > newest):
                newest = item.created
        if newest != since:
            MessagingSettings.objects.filter(pk=prefs.pk).update(**{field: newest})
    return created, updated


def _upsert(tenant: Tenant, item: Sms | Mms, kind: str) -> tuple[bool, bool]:
    if not item.id:
        return False, False
    with transaction.atomic():
        message = Message.objects.select_for_update().filter(elks_id=item.id).first()
        if message is None and item.direction != "incoming":
            message = _match_unknown(tenant, item)
        if message is not None:
            return False, _refresh(message, item)
        incoming = item.direction == "incoming"
        ours, other = (item.to, item.from_) if incoming else (item.from_, item.to)
        number = PhoneNumber.objects.filter(tenant=tenant, number=ours).first()
        message = Message.objects.create(
            tenant=tenant,
            kind=kind,
            direction=Message.Direction.IN if incoming else Message.Direction.OUT,
            status=Message.Status.RECEIVED if incoming else _status_of(item),
            source=Message.Source.HISTORY,
            number=number,
            ours=ours or "",
            other=other or "",
            body=item.message or "",
            elks_id=item.id,
            cost=item.cost,
            parts=getattr(item, "parts", None),
            created=item.created or timezone.now(),
            read_at=timezone.now(),  # history is not news
        )
        conversation_touch(message)
        return True, False


def _status_of(item: Sms | Mms) -> str:
    status = (item.status or "").lower()
    return status if status in {"created", "sent", "delivered", "failed"} else "sent"


def _match_unknown(tenant: Tenant, item: Sms | Mms) -> Message | None:
    """A send that timed out is settled by finding it in the history: same to, from and text,
    created close to when we tried. Only such messages are matched, never resent."""
    if item.created is None:
        return None
    return (
        Message.objects.select_for_update()
        .filter(
            status=Message.Status.UNKNOWN,
            elks_id=None,
            other=item.to,
            ours=item.from_,
            body=item.message or "",
            created__gte=item.created - UNKNOWN_MATCH_WINDOW,
            created__lte=item.created + UNKNOWN_MATCH_WINDOW,
        )
        .order_by("created")
        .first()
    )


def _refresh(message: Message, item: Sms | Mms) -> bool:
    changed = False
    if message.elks_id is None:
        Message.objects.filter(pk=message.pk).update(elks_id=item.id)
        changed = True
    if message.status == Message.Status.UNKNOWN:
        Message.objects.filter(pk=message.pk).update(
            status=Message.Status.CREATED, error="", updated=timezone.now()
        )
        message.status = Message.Status.CREATED
        changed = True
    if item.cost is not None and message.cost != item.cost:
        Message.objects.filter(pk=message.pk).update(cost=item.cost)
        changed = True
    if message.direction == Message.Direction.OUT:
        status = _status_of(item)
        if status != "created" and delivery_report_apply(
            message=message, status=status, delivered=getattr(item, "delivered", None)
        ):
            changed = True
    return changed


def retention_apply() -> int:
    """Blank bodies older than each tenant's retention period; metadata and costs stay."""
    total = 0
    with scopes_disabled():
        for prefs in MessagingSettings.objects.exclude(retention_days=None):
            cutoff = timezone.now() - timedelta(days=prefs.retention_days)
            total += Message.objects.filter(
                tenant_id=prefs.tenant_id, created__lt=cutoff, body_blanked=False
            ).update(body="", body_blanked=True)
    return total


def mms_images_fetch(*, message_id: int) -> int:
    """Download an inbound MMS's images with the subaccount's credentials, from 46elks only."""
    message = Message.objects.select_related("tenant").get(pk=message_id)
    api_host = urlsplit(settings.ELKS_API_URL).hostname
    fetched = 0
    for image in message.images.filter(downloaded=None):
        if urlsplit(image.source_url).hostname != api_host:
            image.error = "Refused: the image is not on the 46elks API host."
            image.save(update_fields=["error"])
            continue
        try:
            response = requests.get(
                image.source_url,
                auth=(message.tenant.elks_subaccount_id, message.tenant.elks_secret),
                timeout=settings.ELKS_TIMEOUT,
                allow_redirects=False,
            )
            response.raise_for_status()
        except requests.RequestException as exc:
            image.error = f"Download failed: {exc}"[:500]
            image.save(update_fields=["error"])
            raise
        content_type = next(
            (t for magic, t in IMAGE_TYPES.items() if response.content.startswith(magic)), ""
        )
        if not content_type or len(response.content) > settings.MMS_MAX_BYTES * 5:
            image.error = "Refused: not a JPEG, PNG or GIF image, or too large."
            image.save(update_fields=["error"])
            continue
        extension = content_type.split("/")[1].replace("jpeg", "jpg")
        image.file.save(
            f"{image.public_token}.{extension}", ContentFile(response.content), save=False
        )
        image.content_type = content_type
        image.size = len(response.content)
        image.downloaded = timezone.now()
        image.error = ""
        image.save()
        fetched += 1
    return fetched
