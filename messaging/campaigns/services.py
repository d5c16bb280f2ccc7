"""Campaigns: summary, launch, and a sending engine that sends every recipient exactly once.

How a recipient is sent at most once, whatever dies when:
- launch creates one row per (campaign, phone) with a unique constraint (INSERT ... SELECT);
- the rows then go through the lease every outbound send shares, single messages too
  (`messaging.lease`; `RECIPIENT` describes these rows: pending → sending → sent, failed,
  skipped or unknown). On it:
- a worker claims a batch with one conditional UPDATE (`pending → sending`, FOR UPDATE SKIP
  LOCKED on PostgreSQL), so two workers never hold the same row;
- a worker renews its claims while it works; just before each provider call it commits
  `attempted_at` on that row (only if the row is still its own claim), and it records the
  answer only for its own claim;
- a claim neither renewed nor attempted within the lease belongs to a dead worker: rows it
  never attempted go straight back to `pending` (they were never sent), and the beat tick
  starts a worker for the campaign at once; rows it attempted become `unknown` and are never
  resent blindly: one paged walk of 46elks' history per campaign, over the window of their
  attempts, marks each found one sent (`history_match`, shared with single messages), and
  returns the ones certainly absent to `pending` so they are sent once.
And at least once: nothing is dropped; 429s put the row back in its place.
"""

from __future__ import annotations

import logging
import time
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import phonenumbers
from celery.exceptions import SoftTimeLimitExceeded
from django.conf import settings
from django.core.cache import cache
from django.db import connection, transaction
from django.db.models import Q
from django.utils import timezone
from phonenumbers import timezone as phone_timezones

from accounts.models import Tenant, User
from billing.ledger.bulk import NewUsage
from billing.services import spend_release, spend_reserve
from core.ratelimit import TokenBucket
from core.tasks import publish_now
from messaging.campaigns.log import campaign_message_record, campaign_messages_backfill
from messaging.campaigns.models import Campaign, CampaignRecipient
from messaging.campaigns.placeholders import (
    BRACED,
    PLACEHOLDER,
    template_fields,
    template_known_fields,
    template_render,
)
from messaging.campaigns.selectors import campaign_summary
from messaging.contacts.models import Contact, ContactListMember
from messaging.lease import (
    Lease,
    lease_attempt,
    lease_claim_batch,
    lease_expired,
    lease_finish,
    lease_recover,
    lease_release,
    lease_renew,
    lease_settle,
)
from messaging.lifecycle import history_margin, history_match
from messaging.models import Message
from messaging.ratelimit import provider_bucket
from messaging.rating import (
    recipient_rate,
    recipient_send_price,
    recipient_send_record,
    send_quote,
)
from messaging.services import (
    SendError,
    optout_blocked,
    parts_check,
    parts_limit,
    sender_resolve,
)
from providers.clients import elks_for_tenant
from providers.elks.client import ElksClient
from providers.elks.errors import ElksError, ElksRateLimited
from providers.elks.types import Sms

log = logging.getLogger(__name__)

RECIPIENT = Lease(
    model=CampaignRecipient,
    queued=CampaignRecipient.Status.PENDING,
    sending=CampaignRecipient.Status.SENDING,
    unknown=CampaignRecipient.Status.UNKNOWN,
    seconds_setting="CAMPAIGN_SENDING_LEASE_SECONDS",
    # A row back in the queue holds no reservation: whoever put it back released it.
    reset={"reserved": 0, "error": ""},
)


class CampaignError(Exception):
    """Refused; fit for the page."""


def template_check(*, tenant: Tenant, template: str) -> None:
    """Refuse placeholders no contact can fill (they would silently render empty), and a
    text that is over the tenant's parts limit even before its fields are filled in."""
    known = template_known_fields(tenant)
    unknown = [f for f in template_fields(template) if f not in known]
    malformed = [m.group(0) for m in BRACED.finditer(template) if not PLACEHOLDER.fullmatch(m[0])]
    listing = ", ".join(f"{{{f}}}" for f in known)
    if unknown:
        names = ", ".join(f"{{{f}}}" for f in unknown)
        raise CampaignError(
            f"Unknown placeholder{'s' if len(unknown) > 1 else ''} {names}: no contact has "
            f"such a field. Known fields: {listing}."
        )
    if malformed:
        raise CampaignError(
            f"{', '.join(malformed)} is not a placeholder (use letters, digits and _ only). "
            f"Known fields: {listing}."
        )
    try:
        parts_check(tenant=tenant, body=template_render(template, {}))
    except SendError as exc:
        raise CampaignError(str(exc)) from exc


# --- launch and controls -------------------------------------------------------------------


def campaign_launch(*, campaign: Campaign, actor: User | None, now: datetime | None = None) -> None:
    if campaign.status not in (Campaign.Status.DRAFT, Campaign.Status.SCHEDULED):
        raise CampaignError("Only a draft or scheduled campaign can be launched.")
    if not campaign.template.strip():
        raise CampaignError("Write the message first.")
    if not campaign.lists.exists():
        raise CampaignError("Choose at least one contact list.")
    try:
        sender_resolve(tenant=campaign.tenant, value=campaign.sender)
    except SendError as exc:
        raise CampaignError(str(exc)) from exc
    template_check(tenant=campaign.tenant, template=campaign.template)
    summary = campaign_summary(campaign=campaign)
    if summary.recipients == 0:
        raise CampaignError("No one to send to: the lists are empty or everyone opted out.")
    limit = parts_limit(campaign.tenant)
    if summary.max_parts > limit:
        raise CampaignError(
            f"Some messages would be too long: the text for {summary.longest_phone} is "
            f"{summary.max_parts} SMS parts, and this account sends at most {limit} parts per "
            "message. Shorten the text or the contact fields it uses, or ask us to raise the "
            "limit."
        )
    if not summary.fits:
        raise CampaignError(
            f"The campaign exceeds the remaining usage limit by {summary.shortfall / 10_000:.2f} "
            f"{campaign.tenant.currency}."
        )
    campaign.estimated_cost = summary.estimated_cost
    campaign.rate = max(1, min(campaign.rate, settings.CAMPAIGN_PROVIDER_RATE))
    if campaign.scheduled_at and campaign.scheduled_at > (now or timezone.now()):
        campaign.status = Campaign.Status.SCHEDULED
        campaign.save(update_fields=["status", "estimated_cost", "rate", "updated"])
        return
    _start(campaign)


def _start(campaign: Campaign) -> None:
    claimed = Campaign.objects.filter(
        pk=campaign.pk, status__in=[Campaign.Status.DRAFT, Campaign.Status.SCHEDULED]
    ).update(status=Campaign.Status.LAUNCHING, updated=timezone.now())
    if not claimed:
        return  # another tick started it
    created = recipients_create(campaign=campaign)
    Campaign.objects.filter(pk=campaign.pk).update(
        status=Campaign.Status.RUNNING,
        recipient_count=created,
        launched_at=timezone.now(),
        estimated_cost=campaign.estimated_cost,
        rate=campaign.rate,
        updated=timezone.now(),
    )
    campaign.refresh_from_db()
    transaction.on_commit(lambda: enqueue_workers(campaign))


def recipients_create(*, campaign: Campaign, batch: int = 50_000) -> int:
    """One row per distinct phone of the campaign's lists, in INSERT ... SELECT batches.

    Nothing is loaded into Python: the database copies contact ids and phones; the unique
    (campaign, phone) constraint with ON CONFLICT DO NOTHING makes re-running harmless.
    """
    table = CampaignRecipient._meta.db_table
    contacts = Contact._meta.db_table
    members = ContactListMember._meta.db_table
    lists = list(campaign.lists.values_list("pk", flat=True))
    placeholders = ",".join(["%s"] * len(lists))
    low, high = _id_range(campaign)
    sql = (
        f"INSERT INTO {table} (tenant_id, campaign_id, contact_id, phone, status, body, "
        "reserved, error) "
        f"SELECT DISTINCT c.tenant_id, %s, c.id, c.phone, 'pending', '', 0, '' "
        f"FROM {contacts} c JOIN {members} m ON m.contact_id = c.id "
        f"WHERE m.contact_list_id IN ({placeholders}) AND c.tenant_id = %s AND c.opted_out = %s "
        "AND c.id >= %s AND c.id < %s "
        "ON CONFLICT (campaign_id, phone) DO NOTHING"
    )
    with connection.cursor() as cursor:
        for start in range(low, high + 1, batch):
            cursor.execute(
                sql, [campaign.pk, *lists, campaign.tenant_id, False, start, start + batch]
            )
    return CampaignRecipient.objects.filter(campaign=campaign).count()


def _id_range(campaign: Campaign) -> tuple[int, int]:
    from django.db.models import Max, Min

    agg = Contact.objects.filter(tenant=campaign.tenant).aggregate(lo=Min("id"), hi=Max("id"))
    return agg["lo"] or 0, agg["hi"] or 0


def enqueue_workers(campaign: Campaign, workers: int = 2) -> None:
    from messaging.tasks import campaign_run

    for _ in range(workers):
        # A refused publish: the beat tick starts workers for running campaigns.
        if not publish_now(campaign_run, tenant_id=campaign.tenant_id, campaign_id=campaign.pk):
            return


def campaign_pause(*, campaign: Campaign, actor: User | None, reason: str = "") -> None:
    updated = Campaign.objects.filter(
        pk=campaign.pk,
        status__in=[Campaign.Status.RUNNING, Campaign.Status.SCHEDULED, Campaign.Status.LAUNCHING],
    ).update(
        status=Campaign.Status.PAUSED,
        pause_reason=reason or f"Paused by {actor.email if actor else 'the system'}.",
        updated=timezone.now(),
    )
    if not updated:
        raise CampaignError("Only a running or scheduled campaign can be paused.")
    campaign.refresh_from_db()


def campaign_resume(*, campaign: Campaign, actor: User | None) -> None:
    updated = Campaign.objects.filter(pk=campaign.pk, status=Campaign.Status.PAUSED).update(
        status=Campaign.Status.RUNNING, pause_reason="", updated=timezone.now()
    )
    if not updated:
        raise CampaignError("Only a paused campaign can be resumed.")
    campaign.refresh_from_db()
    if not campaign.launched_at:  # paused before it started: keep to its schedule
        Campaign.objects.filter(pk=campaign.pk).update(status=Campaign.Status.SCHEDULED)
        campaign.refresh_from_db()
        if not campaign.scheduled_at or campaign.scheduled_at <= timezone.now():
            _start(campaign)
        return
    transaction.on_commit(lambda: enqueue_workers(campaign))


def campaign_cancel(*, campaign: Campaign, actor: User | None) -> None:
    updated = Campaign.objects.filter(
        pk=campaign.pk,
        status__in=[
            Campaign.Status.DRAFT,
            Campaign.Status.SCHEDULED,
            Campaign.Status.RUNNING,
            Campaign.Status.PAUSED,
        ],
    ).update(status=Campaign.Status.CANCELLED, finished_at=timezone.now(), updated=timezone.now())
    if not updated:
        raise CampaignError("This campaign can no longer be cancelled.")
    # What was not sent will not be: those recipients are skipped.
    CampaignRecipient.objects.filter(
        campaign=campaign, status=CampaignRecipient.Status.PENDING
    ).update(status=CampaignRecipient.Status.SKIPPED, error="Campaign cancelled")
    campaign.refresh_from_db()


# --- the sending engine --------------------------------------------------------------------


def _quiet(campaign: Campaign, zone: str, now: datetime) -> datetime | None:
    """When quiet hours end in `zone`, if `now` is inside them."""
    if not (campaign.quiet_start and campaign.quiet_end):
        return None
    local = now.astimezone(ZoneInfo(zone))
    start, end = campaign.quiet_start, campaign.quiet_end
    t = local.time()
    inside = (start <= t < end) if start < end else (t >= start or t < end)
    if not inside:
        return None
    end_at = local.replace(hour=end.hour, minute=end.minute, second=0, microsecond=0)
    if end_at <= local:
        end_at += timedelta(days=1)
    return end_at.astimezone(ZoneInfo("UTC"))


def recipient_zone(phone: str, fallback: str) -> str:
    try:
        zones = phone_timezones.time_zones_for_number(phonenumbers.parse(phone, None))
    except phonenumbers.NumberParseException:
        return fallback
    zone = zones[0] if zones else fallback
    return fallback if zone.startswith("Etc/") else zone


def claim_batch(*, campaign: Campaign, size: int) -> list[int]:
    """Move up to `size` pending recipients to `sending` for this worker alone."""
    now = timezone.now()
    due = Q(not_before=None) | Q(not_before__lte=now)
    return lease_claim_batch(RECIPIENT, among=Q(campaign=campaign) & due, size=size, now=now)


def _reserve(tenant_id: int, amount: int) -> bool:
    """Reserve the send's estimated price on the tenant's billing account, in one
    conditional UPDATE against its monthly limit or balance (billing.services)."""
    return spend_reserve(tenant_id=tenant_id, amount=amount)


def _release(tenant_id: int, amount: int) -> None:
    spend_release(tenant_id=tenant_id, amount=amount)


def dlr_url(campaign: Campaign) -> str:
    return f"{settings.PUBLIC_BASE_URL}/hooks/elks/cdlr/{campaign.callback_token}/"


def campaign_run(*, campaign_id: int, max_seconds: float = 240.0) -> int:
    """A worker: claim batches and send until done, paused, quiet, or out of time.

    It stops claiming while a whole batch still fits in its time (the task's soft time
    limit is well above `max_seconds`), so a batch is never cut off half sent.
    """
    started = time.monotonic()
    sent = 0
    campaign = Campaign.objects.select_related("tenant").get(pk=campaign_id)
    bucket = TokenBucket(f"campaign-{campaign.pk}", rate=campaign.rate)
    provider = provider_bucket()
    client = elks_for_tenant(campaign.tenant)
    zone = campaign.time_zone
    batch_seconds = settings.CAMPAIGN_CLAIM_BATCH / max(1, campaign.rate) + 5
    while True:
        campaign.refresh_from_db(fields=["status", "rate"])
        if campaign.status != Campaign.Status.RUNNING:
            return sent
        if campaign.quiet_zone == Campaign.QuietZone.TENANT and _quiet(
            campaign, zone, timezone.now()
        ):
            return sent  # the tick resumes after quiet hours
        ids = claim_batch(campaign=campaign, size=settings.CAMPAIGN_CLAIM_BATCH)
        if not ids:
            _maybe_complete(campaign)
            return sent
        sent += _send_batch(campaign, ids, client, bucket, provider)
        if time.monotonic() - started + batch_seconds >= max_seconds:
            return sent  # another batch might not finish in time: the next task takes it


def _send_batch(
    campaign: Campaign,
    ids: list[int],
    client: ElksClient,
    bucket: TokenBucket,
    provider: TokenBucket,
) -> int:
    recipients = list(
        CampaignRecipient.objects.filter(pk__in=ids).select_related("contact").order_by("id")
    )
    blocked = optout_blocked(
        tenant=campaign.tenant, phones=[r.phone for r in recipients], source=Message.Source.CAMPAIGN
    )
    started = {"index": -1}  # the last recipient whose provider call began
    rating = NewUsage()  # the batch's plan and account, read once
    try:
        return _send_each(campaign, recipients, blocked, client, bucket, provider, started, rating)
    except SoftTimeLimitExceeded:
        # The task is being stopped. Rows after the last call that began were never
        # attempted: back in their place. That call itself stays `sending` (it may have
        # been accepted) and is settled like any lost answer.
        _unclaim(recipients[started["index"] + 1 :])
        raise


def _send_each(
    campaign: Campaign,
    recipients: list[CampaignRecipient],
    blocked: set[str],
    client: ElksClient,
    bucket: TokenBucket,
    provider: TokenBucket,
    started: dict[str, int],
    rating: NewUsage,
) -> int:
    """Send a claimed batch in id order, one step per concern; returns the sends made."""
    sent = 0
    renewed = time.monotonic()
    for index, recipient in enumerate(recipients):
        rest = recipients[index:]
        if time.monotonic() - renewed >= settings.CAMPAIGN_SENDING_LEASE_SECONDS / 3:
            _renew(rest)
            renewed = time.monotonic()
        # Pause and cancel take effect within ten sends.
        if index % 10 == 0 and not _still_running(campaign):
            _unclaim(rest)
            return sent
        if _skip_opted_out(recipient, blocked) or _defer_quiet(campaign, recipient):
            continue
        body = _body(campaign, recipient)
        estimate = send_quote(
            tenant_id=campaign.tenant_id, to=recipient.phone, body=body, rater=rating.rater
        )
        if not _reserve(campaign.tenant_id, estimate):
            _pause_over_limit(campaign, rest)
            return sent
        bucket.acquire()
        provider.acquire()
        if not _attempt(recipient, body=body, reserved=estimate):
            _release(campaign.tenant_id, estimate)  # no longer ours: its lease ran out
            continue
        started["index"] = index
        try:
            sent += _provider_send(
                campaign, recipient, client, body=body, estimate=estimate, rating=rating
            )
        except ElksRateLimited as exc:
            _release(campaign.tenant_id, estimate)
            _unclaim(rest)
            time.sleep(min(10.0, exc.retry_after or 1.0))
            return sent
    return sent


def _still_running(campaign: Campaign) -> bool:
    campaign.refresh_from_db(fields=["status"])
    return campaign.status == Campaign.Status.RUNNING


def _skip_opted_out(recipient: CampaignRecipient, blocked: set[str]) -> bool:
    if recipient.phone in blocked or (recipient.contact and recipient.contact.opted_out):
        _finish(recipient, CampaignRecipient.Status.SKIPPED, error="Opted out")
        return True
    return False


def _defer_quiet(campaign: Campaign, recipient: CampaignRecipient) -> bool:
    """Inside quiet hours in the recipient's zone: back to pending until they end."""
    if campaign.quiet_zone != Campaign.QuietZone.RECIPIENT:
        return False
    zone = recipient_zone(recipient.phone, campaign.time_zone)
    resume_at = _quiet(campaign, zone, timezone.now())
    if not resume_at:
        return False
    lease_release(RECIPIENT, [recipient], not_before=resume_at)
    return True


def _body(campaign: Campaign, recipient: CampaignRecipient) -> str:
    contact = recipient.contact
    values = contact.template_values() if contact else {"phone": recipient.phone}
    return template_render(campaign.template, values)


def _pause_over_limit(campaign: Campaign, rest: list[CampaignRecipient]) -> None:
    _unclaim(rest)
    Campaign.objects.filter(pk=campaign.pk, status=Campaign.Status.RUNNING).update(
        status=Campaign.Status.PAUSED,
        pause_reason="Usage limit reached: raise the limit, then resume.",
        updated=timezone.now(),
    )


def _provider_send(
    campaign: Campaign,
    recipient: CampaignRecipient,
    client: ElksClient,
    *,
    body: str,
    estimate: int,
    rating: NewUsage | None = None,
) -> int:
    """The provider call and its recorded outcome: 1 if sent. A 429 is the caller's to handle
    (it stops the batch); an answer that may hide an accepted send becomes `unknown`."""
    try:
        result = client.sms_send(
            from_=campaign.sender,
            to=recipient.phone,
            message=body,
            whendelivered=dlr_url(campaign),
        )
    except ElksRateLimited:
        raise
    except ElksError as exc:
        error = str(exc)[:300]
        if exc.maybe_accepted:
            status = CampaignRecipient.Status.UNKNOWN
            _finish(recipient, status, body=body, reserved=estimate, error=error)
        else:
            _release(campaign.tenant_id, estimate)
            _finish(recipient, CampaignRecipient.Status.FAILED, body=body, error=error)
        return 0
    recipient.body = body
    rating = rating or NewUsage()
    with transaction.atomic():  # the accepted send and its usage entry, together
        _finish(
            recipient,
            CampaignRecipient.Status.SENT,
            rating=(rating, estimate),
            body=body,
            elks_id=result.id or None,
            cost=result.cost,
            price=recipient_send_price(recipient, cost=result.cost, batch=rating),
            reserved=estimate,
            sent_at=timezone.now(),
        )
    return 1


def _finish(
    recipient: CampaignRecipient,
    status: str,
    *,
    rating: tuple[NewUsage, int] | None = None,
    **fields: object,
) -> None:
    """Record the outcome. `rating` (the batch that priced the accepted send into `fields`,
    its reservation): append its entry and settle the reservation with the outcome, before
    it is mirrored into the log (which copies its price)."""
    finished = lease_finish(RECIPIENT, recipient, status=status, **fields)
    if rating is not None:
        batch, release = rating
        if finished:
            recipient_send_record(recipient, release=release, batch=batch)
        else:
            batch.pending.clear()  # no longer our claim: its outcome is not ours to rate
    if finished and status != CampaignRecipient.Status.SKIPPED:
        campaign_message_record(recipient_id=recipient.pk)  # into the message log


def _renew(recipients: list[CampaignRecipient]) -> None:
    """Extend this worker's lease on the rows it still holds (a dead worker stops renewing)."""
    lease_renew(RECIPIENT, recipients)


def _attempt(recipient: CampaignRecipient, *, body: str, reserved: int) -> bool:
    """Commit that the provider call is about to start, if the row is still this worker's
    claim (not re-queued after an expired lease). The text and reservation are kept for
    reconciliation, should the answer never be recorded."""
    return lease_attempt(RECIPIENT, recipient, body=body, reserved=reserved)


def _unclaim(recipients: list[CampaignRecipient]) -> None:
    """Rows this worker will not send now go back to pending in their place (same ids)."""
    lease_release(RECIPIENT, recipients)


def _maybe_complete(campaign: Campaign) -> None:
    open_rows = CampaignRecipient.objects.filter(
        campaign=campaign,
        status__in=[
            CampaignRecipient.Status.PENDING,
            CampaignRecipient.Status.SENDING,
            CampaignRecipient.Status.UNKNOWN,
        ],
    ).exists()
    if not open_rows:
        completed = Campaign.objects.filter(pk=campaign.pk, status=Campaign.Status.RUNNING).update(
            status=Campaign.Status.COMPLETED, finished_at=timezone.now(), updated=timezone.now()
        )
        if completed:
            campaign_messages_backfill(campaign=campaign)  # sends a dead worker left unlogged


# --- the beat tick: schedules, quiet hours, stale claims, reconciliation ---------------------


def campaigns_tick(*, now: datetime | None = None) -> int:
    from django_scopes import scope, scopes_disabled

    now = now or timezone.now()
    lease = timedelta(seconds=settings.CAMPAIGN_SENDING_LEASE_SECONDS)
    started = 0
    with scopes_disabled():
        orphaned = recipients_recover(now=now)
        due = list(Campaign.objects.filter(status=Campaign.Status.SCHEDULED, scheduled_at__lte=now))
        running = list(Campaign.objects.filter(status=Campaign.Status.RUNNING))
        settle = now - timedelta(seconds=settings.CAMPAIGN_RECONCILE_AFTER_SECONDS)
        unknown = list(
            # One filter() call: the conditions must hold for the same recipient row.
            Campaign.objects.filter(
                Q(recipients__attempted_at__lte=settle)
                | Q(recipients__attempted_at__isnull=True, recipients__claimed_at__lte=settle),
                recipients__status=CampaignRecipient.Status.UNKNOWN,
            )
            .distinct()
            .select_related("tenant")
        )
    for campaign in due:
        with scope(tenant=campaign.tenant_id), transaction.atomic():
            try:
                campaign_launch(campaign=campaign, actor=None, now=now)
            except CampaignError as exc:
                Campaign.objects.filter(pk=campaign.pk).update(
                    status=Campaign.Status.PAUSED, pause_reason=f"Could not start: {exc}"
                )
                continue
            started += 1
    for campaign in unknown:
        with scope(tenant=campaign.tenant_id):
            reconcile_unknown(campaign=campaign, now=now)
    for campaign in running:
        if campaign.quiet_zone == Campaign.QuietZone.TENANT and _quiet(
            campaign, campaign.time_zone, now
        ):
            continue
        with scope(tenant=campaign.tenant_id):
            pending = CampaignRecipient.objects.filter(
                campaign=campaign, status=CampaignRecipient.Status.PENDING
            )
            if campaign.pk in orphaned and pending.exists():
                # Its worker died: resume now, not when the slow path below comes round.
                if cache.add(f"campaign-resume:{campaign.pk}", 1, timeout=lease.seconds):
                    enqueue_workers(campaign, workers=1)
            # At most one extra worker per campaign per worker lifetime, not one per tick.
            elif pending.exists() and cache.add(f"campaign-tick:{campaign.pk}", 1, timeout=240):
                enqueue_workers(campaign, workers=1)
            else:
                _maybe_complete(campaign)
    return started


def recipients_recover(*, now: datetime) -> set[int]:
    """Rows whose worker died (the lease's recover): never attempted → back to `pending`
    (nothing was sent); attempted without an answer → `unknown`, for the history.
    Returns the campaigns that lost a worker."""
    expired = lease_expired(RECIPIENT, now=now)
    campaigns = set(expired.order_by().values_list("campaign_id", flat=True).distinct())
    if campaigns:
        lease_recover(RECIPIENT, now=now)
    return campaigns


def reconcile_unknown(*, campaign: Campaign, now: datetime | None = None) -> int:
    """Settle `unknown` sends from 46elks' history: found → sent; surely absent → pending.

    One paged walk of GET /sms over the window of the attempts, for all of the campaign's
    unknown rows at once (asking per recipient on every tick cost one call per row per
    tick); when the rows are fewer than the pages that walk would take (a killed worker
    leaves one or two), one `to`-filtered call per row over its own window instead. A send
    is matched by recipient, sender and text near its attempt; an SMS settles one row only.
    A row is returned to `pending` only once CAMPAIGN_RECONCILE_AFTER_SECONDS have passed
    since its attempt and the whole walk succeeded.
    """
    now = now or timezone.now()
    rows = list(
        CampaignRecipient.objects.filter(
            campaign=campaign, status=CampaignRecipient.Status.UNKNOWN
        ).select_related("contact")
    )
    if not rows:
        return 0
    attempts = {r.pk: r.attempted_at or r.claimed_at or now for r in rows}
    margin = history_margin()
    first, last = min(attempts.values()) - margin, min(now, max(attempts.values()) + margin)
    client = elks_for_tenant(campaign.tenant)
    # Our own sends in the window: a lower bound on the pages a walk of it would take.
    pages = 1 + CampaignRecipient.objects.filter(sent_at__range=(first, last)).count() // max(
        1, client.page_size
    )
    if len(rows) >= pages:
        windows = [(None, first, last)]
    else:
        windows = [
            (r.phone, attempts[r.pk] - margin, min(now, attempts[r.pk] + margin)) for r in rows
        ]
    found: dict[tuple[str, str], list[Sms]] = {}
    try:
        for to, after, before in windows:
            for sms in client.sms_list(to=to, start=before, end=after):
                if sms.direction in (None, "outgoing") and sms.from_ == campaign.sender and sms.id:
                    found.setdefault((sms.to or "", sms.message or ""), []).append(sms)
    except ElksError as exc:
        log.warning("Reconciling campaign %s failed: %s", campaign.pk, exc)
        return 0
    ids = [sms.id for group in found.values() for sms in group]
    taken = set(CampaignRecipient.objects.filter(elks_id__in=ids).values_list("elks_id", flat=True))
    settle = timedelta(seconds=settings.CAMPAIGN_RECONCILE_AFTER_SECONDS)
    settled = 0
    for recipient in rows:
        attempted = attempts[recipient.pk]
        body = recipient.body or template_render(
            campaign.template,
            recipient.contact.template_values()
            if recipient.contact
            else {"phone": recipient.phone},
        )
        match = history_match(
            found.get((recipient.phone, body), []),
            to=recipient.phone,
            sender=campaign.sender,
            body=body,
            attempted=attempted,
            margin=margin,
            taken=taken,
        )
        if match is not None:
            taken.add(match.id)
            recipient.body = body
            with transaction.atomic():  # the found send and its usage entry, together
                if lease_settle(
                    RECIPIENT,
                    recipient,
                    status=CampaignRecipient.Status.SENT,
                    elks_id=match.id,
                    cost=match.cost,
                    sent_at=match.created,
                    error="",
                ):
                    recipient_rate(recipient=recipient, cost=match.cost, release=recipient.reserved)
                    campaign_message_record(recipient_id=recipient.pk)
                    settled += 1
        elif now - attempted >= settle:
            # 46elks has no such message well after the attempt: it was never sent. Its
            # reservation is released only if the row moved (a late answer may have won).
            reserved = recipient.reserved
            if lease_settle(RECIPIENT, recipient, status=CampaignRecipient.Status.PENDING):
                _release(campaign.tenant_id, reserved)
                settled += 1
    return settled
