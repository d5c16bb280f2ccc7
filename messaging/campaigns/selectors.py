"""Reads for the campaign pages: the pre-launch summary and cost, a preview, live progress."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import timedelta

from django.db.models import Count, Q, QuerySet, Sum
from django.utils import timezone

from accounts.models import Tenant
from billing.ledger.services import Rater
from billing.selectors import period_usage
from messaging.campaigns.models import COST_EXPECTED, Campaign, CampaignRecipient
from messaging.campaigns.placeholders import template_render
from messaging.contacts.models import Contact
from messaging.rating import send_quote
from messaging.text import sms_size


@dataclass(frozen=True)
class Summary:
    recipients: int
    opted_out: int
    duplicates: int
    invalid: int
    parts: int
    estimated_cost: int  # the tenant's price (its plan), not 46elks' cost
    remaining: int
    fits: bool
    shortfall: int
    max_parts: int = 0  # the longest recipient's text, in parts
    longest_phone: str = ""  # whose text that is


@dataclass(frozen=True)
class AudienceCost:
    parts: int
    cost: int
    max_parts: int
    longest_phone: str


def audience_cost(*, campaign: Campaign) -> AudienceCost:
    """What the sends will cost the tenant: each recipient's own text, its parts and the
    tenant's price to its destination, summed (a sample or the longest text times the count
    is off as soon as lengths, encodings or countries differ)."""
    contacts = Contact.objects.filter(
        pk__in=campaign_audience(campaign).values("pk"), opted_out=False
    ).only("phone", "name", "fields")
    parts = cost = longest = 0
    longest_phone = ""
    rater = Rater()  # the plan read once; each quote is arithmetic
    for contact in contacts.iterator(chunk_size=2000):
        body = template_render(campaign.template, contact.template_values())
        n = sms_size(body).parts
        parts += n
        cost += send_quote(tenant_id=campaign.tenant_id, to=contact.phone, body=body, rater=rater)
        if n > longest:
            longest, longest_phone = n, contact.phone
    return AudienceCost(parts=parts, cost=cost, max_parts=longest, longest_phone=longest_phone)


def campaign_audience(campaign: Campaign) -> QuerySet[Contact]:
    return Contact.objects.filter(lists__in=campaign.lists.all())


def remaining_limit(tenant: Tenant) -> int:
    """What the tenant may still spend this period, at its price: the billing account's
    monthly limit (or prepaid balance) less what is billed and reserved."""
    return period_usage(tenant=tenant).remaining


def campaign_summary(*, campaign: Campaign) -> Summary:
    audience = campaign_audience(campaign)
    memberships = audience.count()  # one per (list, contact): duplicates across lists count
    distinct = audience.values("phone").distinct()
    unique_count = distinct.count()
    blocked = audience.filter(opted_out=True).values("phone").distinct().count()
    recipients = unique_count - blocked
    sized = audience_cost(campaign=campaign)
    parts, cost = sized.parts, sized.cost
    remaining = remaining_limit(campaign.tenant)
    return Summary(
        recipients=recipients,
        opted_out=blocked,
        duplicates=memberships - unique_count,
        invalid=0,
        parts=parts,
        estimated_cost=cost,
        remaining=remaining,
        fits=cost <= remaining,
        shortfall=max(0, cost - remaining),
        max_parts=sized.max_parts,
        longest_phone=sized.longest_phone,
    )


def campaign_preview(*, campaign: Campaign, count: int = 3) -> list[tuple[Contact, str]]:
    contacts = (
        campaign_audience(campaign).filter(opted_out=False).distinct().order_by("phone")[:count]
    )
    return [(c, template_render(campaign.template, c.template_values())) for c in contacts]


# A recipient in one of these states is done with (for the progress bar).
RECIPIENT_FINISHED = (
    CampaignRecipient.Status.SENT,
    CampaignRecipient.Status.DELIVERED,
    CampaignRecipient.Status.FAILED,
    CampaignRecipient.Status.SKIPPED,
)


def campaign_progress(*, campaign: Campaign) -> dict[str, int | float]:
    counts = dict(
        CampaignRecipient.objects.filter(campaign=campaign)
        .values_list("status")
        .annotate(n=Count("id"))
        .values_list("status", "n")
    )
    total = sum(counts.values())
    finished = sum(counts.get(s, 0) for s in RECIPIENT_FINISHED)
    progress: dict[str, int | float] = {
        s: counts.get(s, 0) for s in CampaignRecipient.Status.values
    }
    recent = CampaignRecipient.objects.filter(
        campaign=campaign, sent_at__gte=timezone.now() - timedelta(seconds=10)
    ).count()
    progress.update(
        total=total,
        done_percent=(finished * 100 // total) if total else 0,
        rate_per_second=round(recent / 10, 1),
    )
    return progress


@dataclass
class CampaignTotals:
    """A campaign's recipients per status and the tenant's price of its sends so far."""

    counts: dict[str, int] = field(default_factory=dict)
    price: int | None = None  # None: nothing rated yet (a real 0 stays 0)
    price_pending: bool = False  # some accepted sends have no reported cost yet


def campaign_totals(campaign_ids: Sequence[int]) -> dict[int, CampaignTotals]:
    """Totals of these campaigns in one grouped query (the tenant's price, never 46elks' cost)."""
    totals: dict[int, CampaignTotals] = {pk: CampaignTotals() for pk in campaign_ids}
    for cid, status, n, price, unrated in (
        CampaignRecipient.objects.filter(campaign_id__in=campaign_ids)
        .values_list("campaign_id", "status")
        .annotate(n=Count("id"), spent=Sum("price"), unrated=Count("id", filter=Q(cost=None)))
        .values_list("campaign_id", "status", "n", "spent", "unrated")
    ):
        found = totals[cid]
        found.counts[status] = n
        if price is not None:
            found.price = (found.price or 0) + price
        if unrated and status in COST_EXPECTED:
            found.price_pending = True
    return totals
