"""Reads for the campaign pages: the pre-launch summary and cost, a preview, live progress."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

from django.db.models import Count, QuerySet
from django.utils import timezone

from accounts.models import Tenant
from billing.selectors import live_usage
from messaging.campaigns.models import Campaign, CampaignRecipient
from messaging.campaigns.placeholders import template_render
from messaging.contacts.models import Contact
from messaging.services import sms_part_price
from messaging.text import sms_size


@dataclass(frozen=True)
class Summary:
    recipients: int
    opted_out: int
    duplicates: int
    invalid: int
    parts: int
    estimated_cost: int
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
    """What the sends will cost: each recipient's own text, its parts and its destination's
    price, summed (a sample or the longest text times the count is off as soon as lengths,
    encodings or countries differ)."""
    contacts = Contact.objects.filter(
        pk__in=campaign_audience(campaign).values("pk"), opted_out=False
    ).only("phone", "name", "fields")
    parts = cost = longest = 0
    longest_phone = ""
    for contact in contacts.iterator(chunk_size=2000):
        n = sms_size(template_render(campaign.template, contact.template_values())).parts
        parts += n
        cost += n * sms_part_price(contact.phone)
        if n > longest:
            longest, longest_phone = n, contact.phone
    return AudienceCost(parts=parts, cost=cost, max_parts=longest, longest_phone=longest_phone)


def campaign_audience(campaign: Campaign) -> QuerySet[Contact]:
    return Contact.objects.filter(lists__in=campaign.lists.all())


def remaining_limit(tenant: Tenant) -> int:
    """The live figure (46elks' last count plus what was sent since), not the synced one."""
    return live_usage(tenant=tenant).remaining


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
