"""Background work for messaging: history sync, outbox sweep, retention, MMS images."""

from __future__ import annotations

import logging
from datetime import datetime, timedelta

from django.conf import settings
from django.core.files.base import ContentFile
from django.db import transaction
from django.db.models import Q
from django.utils import timezone
from django_scopes import scope, scopes_disabled

from accounts.models import Tenant
from messaging.campaigns.models import CampaignRecipient
from messaging.models import Message, MessageImage, MessagingSettings
from messaging.rating import message_rate
from messaging.services import conversation_touch, delivery_report_apply, settings_for
from numbers.models import PhoneNumber
from providers.clients import elks_for_tenant
from providers.elks.errors import ElksError
from providers.elks.ids import is_image_id
from providers.elks.types import Mms, Sms

log = logging.getLogger(__name__)

# Re-read a little before the last synced time: 46elks lists by creation, and a message
# created just before our last pass may have been listed after it.
SYNC_OVERLAP = timedelta(minutes=5)
# An `unknown` send matches history within this window of when we tried it.
UNKNOWN_MATCH_WINDOW = timedelta(minutes=10)
# A fetch holds its images this long, so the sweep does not start the same download.
MMS_IMAGE_LEASE = timedelta(minutes=5)
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
            return False, history_apply(message, item)
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
        # Never recorded here: a new event. A campaign send the sync saw first is rated by
        # the campaign (source `recipient:<pk>`) and merged into its Message later.
        if not _campaign_send(item):
            message_rate(message=message, cost=item.cost)
        conversation_touch(message)
        return True, False


def _campaign_send(item: Sms | Mms) -> bool:
    """Whether this listed send is (or may be) a campaign's: known by its id, or a recipient
    still in flight to that number from that sender (its worker may have died before it
    recorded the id). The campaign rates it when it settles; rating it here too would bill
    it twice."""
    if item.direction == "incoming":
        return False
    recipients = CampaignRecipient.objects.all()
    if recipients.filter(elks_id=item.id).exists():
        return True
    in_flight = [CampaignRecipient.Status.SENDING, CampaignRecipient.Status.UNKNOWN]
    return recipients.filter(
        phone=item.to or "", status__in=in_flight, campaign__sender=item.from_ or ""
    ).exists()


def _status_of(item: Sms | Mms) -> str:
    status = (item.status or "").lower()
    return status if status in {"created", "sent", "delivered", "failed"} else "sent"


def _match_unknown(tenant: Tenant, item: Sms | Mms) -> Message | None:
    """A send whose answer was lost is settled by finding it in the history: same to, from
    and text, created close to when we tried (see messaging.lifecycle). Only such messages
    are matched, never resent: `unknown`, or `sending` past its attempt (its worker may have
    died and recover has not seen it yet)."""
    if item.created is None:
        return None
    near = (item.created - UNKNOWN_MATCH_WINDOW, item.created + UNKNOWN_MATCH_WINDOW)
    return (
        Message.objects.select_for_update()
        .filter(
            Q(status=Message.Status.UNKNOWN)
            | Q(status=Message.Status.SENDING, attempted_at__isnull=False),
            Q(attempted_at__range=near) | Q(attempted_at=None, created__range=near),
            elks_id=None,
            other=item.to,
            ours=item.from_,
            body=item.message or "",
        )
        .order_by("created")
        .first()
    )


def history_apply(message: Message, item: Sms | Mms) -> bool:
    """Bring our row up to date with 46elks' record of it (a send the lifecycle lost the
    answer of gets its id and moves on from `unknown`). True when anything changed."""
    changed = False
    if message.elks_id is None:
        Message.objects.filter(pk=message.pk).update(elks_id=item.id)
        changed = True
    if message.status in (Message.Status.UNKNOWN, Message.Status.SENDING):
        Message.objects.filter(pk=message.pk, status=message.status).update(
            status=Message.Status.CREATED, error="", updated=timezone.now()
        )
        message.status = Message.Status.CREATED
        changed = True
    if item.cost is not None and message.cost != item.cost:
        Message.objects.filter(pk=message.pk).update(cost=item.cost)
        message.cost = item.cost
        changed = True
    if changed and _rated_here(message):
        # The real cost (or the accepted send an unknown answer hid): rated again with the
        # whole event; the core appends the difference, nothing when unchanged.
        message_rate(message=message, cost=message.cost)
    if message.direction == Message.Direction.OUT:
        status = _status_of(item)
        if status != "created" and delivery_report_apply(
            message=message, status=status, delivered=getattr(item, "delivered", None)
        ):
            changed = True
    return changed


def _rated_here(message: Message) -> bool:
    """A send this dashboard made (its reservation settles now) or a message rated before;
    not an unrated campaign mirror (its recipient is rated by the campaign)."""
    if message.campaign_recipient_id:
        return message.price is not None
    return message.direction == Message.Direction.OUT or message.price is not None


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


class MmsImagesPending(Exception):
    """Some images failed for a transient reason; the task retries them with backoff."""

    def __init__(self, delay: timedelta) -> None:
        super().__init__(f"MMS images pending; next attempt in {delay}")
        self.delay = delay


def mms_image_backoff(attempts: int) -> timedelta:
    """1, 2, 4 ... 60 minutes: eight attempts span about three hours."""
    return timedelta(minutes=min(60, 2 ** max(0, attempts - 1)))


def mms_images_fetch(*, message_id: int, now: datetime | None = None) -> int:
    """Download an inbound MMS's due images with the subaccount's credentials.

    Each image is fetched by its 46elks id through the client (the URL is the configured API
    base + id, never the callback's URL). A failure counts an attempt and schedules the next
    one with backoff; after ``MMS_IMAGE_MAX_ATTEMPTS``, or for a file that is not an image,
    ``error`` is set and the image shows as lost. Raises :class:`MmsImagesPending` when a
    transient error (timeout, 429, 5xx) left work for a retry.
    """
    now = now or timezone.now()
    message = Message.objects.select_related("tenant").get(pk=message_id)
    images = list(message.images.order_by("pk"))
    client = elks_for_tenant(message.tenant)
    listed: tuple[str, ...] | None = None
    fetched = 0
    retry_in: timedelta | None = None
    for position, image in enumerate(images):
        if image.downloaded or image.error or image.next_attempt > now:
            continue
        # Claim: a concurrent task or sweep skips an image another one is fetching.
        claimed = MessageImage.objects.filter(
            pk=image.pk, downloaded=None, error="", next_attempt__lte=now
        ).update(next_attempt=now + MMS_IMAGE_LEASE)
        if not claimed:
            continue
        attempts = image.attempts + 1
        try:
            if not image.elks_image_id:
                # No usable id in the callback: 46elks lists the MMS's image ids in order.
                if listed is None:
                    listed = client.mms_get(message.elks_id).images if message.elks_id else ()
                if position >= len(listed) or not is_image_id(listed[position]):
                    _image_give_up(image, attempts, "46elks lists no such image for this MMS.")
                    continue
                image.elks_image_id = listed[position]
            content = client.image_file(
                image.elks_image_id,
                image.file_type or "jpg",
                max_bytes=settings.MMS_MAX_BYTES * 5,
            )
        except ValueError as exc:  # a stored id the client refuses: never a URL
            _image_give_up(image, attempts, f"Refused: {exc}")
            continue
        except ElksError as exc:
            final = attempts >= settings.MMS_IMAGE_MAX_ATTEMPTS
            if final:
                _image_give_up(image, attempts, f"Download failed: {exc}")
                continue
            delay = mms_image_backoff(attempts)
            MessageImage.objects.filter(pk=image.pk).update(
                attempts=attempts,
                next_attempt=now + delay,
                last_error=f"Download failed: {exc}"[:500],
                elks_image_id=image.elks_image_id,
            )
            if exc.retryable:
                retry_in = min(retry_in or delay, delay)
            continue
        content_type = next((t for m, t in IMAGE_TYPES.items() if content.startswith(m)), "")
        if not content_type:
            _image_give_up(image, attempts, "Refused: not a JPEG, PNG or GIF image.")
            continue
        extension = content_type.split("/")[1].replace("jpeg", "jpg")
        image.file.save(f"{image.public_token}.{extension}", ContentFile(content), save=False)
        image.content_type = content_type
        image.size = len(content)
        image.downloaded = timezone.now()
        image.attempts = attempts
        image.error = image.last_error = ""
        image.save()
        fetched += 1
    if retry_in is not None:
        raise MmsImagesPending(retry_in)
    return fetched


def _image_give_up(image: MessageImage, attempts: int, reason: str) -> None:
    log.warning("MMS image %s given up after %s attempt(s): %s", image.pk, attempts, reason)
    MessageImage.objects.filter(pk=image.pk).update(
        attempts=attempts,
        error=reason[:500],
        last_error=reason[:500],
        elks_image_id=image.elks_image_id,
    )


def mms_images_sweep(*, now: datetime | None = None, limit: int = 200) -> int:
    """Beat: fetch inbound MMS images whose download is due (their task was lost, failed or
    is waiting for its backoff). Returns the number of images fetched."""
    now = now or timezone.now()
    with scopes_disabled():
        due = list(
            MessageImage.objects.filter(
                downloaded=None,
                error="",
                next_attempt__lte=now,
                message__direction=Message.Direction.IN,
            )
            .order_by("next_attempt")
            .values_list("tenant_id", "message_id")
            .distinct()[:limit]
        )
    fetched = 0
    for tenant_id, message_id in dict.fromkeys(due):
        with scope(tenant=tenant_id):
            try:
                fetched += mms_images_fetch(message_id=message_id, now=now)
            except MmsImagesPending:
                continue  # counted and rescheduled; the next sweep tries again
            except Exception:
                log.exception("MMS image sweep failed for message %s", message_id)
    return fetched
