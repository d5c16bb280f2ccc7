"""Staff: every running, scheduled and paused campaign across tenants, with a Pause button.

Pages under /staff/ run with tenant scopes disabled (accounts.middleware), so the querysets
here see every tenant's rows.
"""

from __future__ import annotations

from collections import defaultdict

from django.contrib import messages
from django.db.models import Count, Sum
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_GET, require_POST

from accounts.access import staff_required
from accounts.models import AuditEvent
from accounts.services import audit_record
from messaging.campaigns.models import Campaign, CampaignRecipient
from messaging.campaigns.selectors import RECIPIENT_FINISHED
from messaging.campaigns.services import CampaignError, campaign_pause

SHOWN = (
    Campaign.Status.LAUNCHING,
    Campaign.Status.RUNNING,
    Campaign.Status.SCHEDULED,
    Campaign.Status.PAUSED,
)
PAUSABLE = (Campaign.Status.LAUNCHING, Campaign.Status.RUNNING, Campaign.Status.SCHEDULED)


@require_GET
@staff_required
def campaigns(request: HttpRequest) -> HttpResponse:
    rows = list(
        Campaign.objects.filter(status__in=SHOWN)
        .select_related("tenant")
        .order_by("status", "scheduled_at", "-created")[:500]
    )
    counts: dict[int, dict[str, int]] = defaultdict(dict)
    # Staff see the tenant's price, 46elks' cost and the margin side by side.
    money: dict[int, dict[str, int]] = defaultdict(lambda: {"price": 0, "cost": 0})
    for cid, status, n, price, cost in (
        CampaignRecipient.objects.filter(campaign__in=[c.pk for c in rows])
        .values_list("campaign_id", "status")
        .annotate(n=Count("id"), price=Sum("price"), cost=Sum("cost"))
        .values_list("campaign_id", "status", "n", "price", "cost")
    ):
        counts[cid][status] = n
        money[cid]["price"] += price or 0
        money[cid]["cost"] += cost or 0
    items = []
    for campaign in rows:
        c = counts.get(campaign.pk, {})
        total = sum(c.values())
        done = sum(c.get(s, 0) for s in RECIPIENT_FINISHED)
        items.append(
            {
                "campaign": campaign,
                "total": total,
                "done": done,
                "percent": done * 100 // total if total else 0,
                "unknown": c.get(CampaignRecipient.Status.UNKNOWN, 0),
                "failed": c.get(CampaignRecipient.Status.FAILED, 0),
                "pausable": campaign.status in PAUSABLE,
                "price": money[campaign.pk]["price"],
                "cost": money[campaign.pk]["cost"],
                "margin": money[campaign.pk]["price"] - money[campaign.pk]["cost"],
            }
        )
    return render(request, "staff/campaigns.html", {"items": items})


@require_POST
@staff_required
def pause(request: HttpRequest, campaign_id: int) -> HttpResponse:
    campaign = get_object_or_404(Campaign.objects.select_related("tenant"), pk=campaign_id)
    try:
        campaign_pause(campaign=campaign, actor=request.user, reason="Paused by staff")
    except CampaignError as exc:
        messages.error(request, str(exc))
    else:
        audit_record(
            action=AuditEvent.Action.CAMPAIGN_PAUSED,
            actor=request.user,
            tenant=campaign.tenant,
            request=request,
            campaign=campaign.pk,
            name=campaign.name,
        )
        messages.success(request, f"“{campaign.name}” of {campaign.tenant.name} is paused.")
    return redirect("staff_campaigns:list")
