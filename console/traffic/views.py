"""Chart data endpoints (JSON): thin views over console.traffic.selectors.

Read-only, so any method answers the same; the object lookup comes first, so another tenant's
number is a 404 whatever the method (the isolation sweep checks GET and POST).
"""

from __future__ import annotations

from django.http import Http404, HttpRequest, JsonResponse
from django.shortcuts import get_object_or_404

from accounts.access import staff_required
from accounts.request_types import TenantRequest
from console.traffic import selectors
from messaging.campaigns.models import Campaign
from numbers.models import PhoneNumber


def overview_chart(request: TenantRequest, tenant_slug: str, chart: str) -> JsonResponse:
    data = selectors.overview_chart(
        tenant=request.tenant,
        chart=chart,
        days=selectors.parse_range(request.GET.get("days")),
    )
    if data is None:
        raise Http404("No such chart.")
    return JsonResponse(data)


def number_chart(request: HttpRequest, tenant_slug: str, number_id: int) -> JsonResponse:
    number = get_object_or_404(PhoneNumber, pk=number_id)
    return JsonResponse(
        selectors.number_chart(number=number, days=selectors.parse_range(request.GET.get("days")))
    )


@staff_required
def staff_chart(request: HttpRequest, chart: str) -> JsonResponse:
    data = selectors.staff_chart(chart=chart, days=selectors.parse_range(request.GET.get("days")))
    if data is None:
        raise Http404("No such chart.")
    return JsonResponse(data)


def campaign_chart(request: HttpRequest, tenant_slug: str, campaign_id: int) -> JsonResponse:
    campaign = get_object_or_404(Campaign, pk=campaign_id)
    return JsonResponse(selectors.campaign_chart(campaign=campaign))
