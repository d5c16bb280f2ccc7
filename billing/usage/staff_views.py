"""Staff's usage page per tenant (price, provider cost and margin side by side) and the margin
report over every tenant: thin views over billing.usage.selectors."""

from __future__ import annotations

from datetime import date

from django.http import HttpRequest, HttpResponse, JsonResponse, StreamingHttpResponse
from django.shortcuts import get_object_or_404, render
from django.urls import reverse
from django.utils import timezone

from accounts.access import staff_required
from accounts.models import Tenant
from billing.periods import previous_period
from billing.selectors import period_usage
from billing.usage import selectors
from billing.usage.exports import margin_csv, usage_csv


def _tenant_period(request: HttpRequest, slug: str) -> tuple[Tenant, date, date]:
    tenant = get_object_or_404(Tenant, slug=slug)
    current = period_usage(tenant=tenant).period
    return tenant, selectors.parse_period(request.GET.get("period"), current), current


@staff_required
def tenant_usage(request: HttpRequest, slug: str) -> HttpResponse:
    tenant, period, current = _tenant_period(request, slug)
    report = selectors.usage_report(tenant=tenant, period=period, current=current)
    query = f"?period={period:%Y-%m}"
    return render(
        request,
        "billing/staff_usage.html",
        {
            "t": tenant,
            "report": report,
            "staff": True,
            "usage": period_usage(tenant=tenant),
            "chart_url": reverse("staff:tenant_usage_chart", args=[slug]) + query,
            "export_url": reverse("staff:tenant_usage_export", args=[slug]) + query,
        },
    )


@staff_required
def tenant_usage_chart(request: HttpRequest, slug: str) -> JsonResponse:
    tenant, period, _ = _tenant_period(request, slug)
    return JsonResponse(selectors.usage_chart(tenant=tenant, period=period, staff=True))


@staff_required
def tenant_usage_export(request: HttpRequest, slug: str) -> StreamingHttpResponse:
    tenant, period, current = _tenant_period(request, slug)
    report = selectors.usage_report(tenant=tenant, period=period, current=current)
    return usage_csv(report, staff=True)


def _months(request: HttpRequest) -> tuple[date, date, str]:
    """`?from=2026-01&to=2026-11&sort=-margin`; defaults: the last three months, by margin."""
    current = timezone.localdate().replace(day=1)
    last = selectors.parse_period(request.GET.get("to"), current)
    first = selectors.parse_period(
        request.GET.get("from"), current, previous_period(previous_period(last))
    )
    if first > last:
        first, last = last, first
    sort = request.GET.get("sort", "-margin")
    if sort.lstrip("-") not in selectors.MARGIN_SORTS:
        sort = "-margin"
    return first, last, sort


@staff_required
def margin(request: HttpRequest) -> HttpResponse:
    first, last, sort = _months(request)
    rows = selectors.margin_report(first=first, last=last, sort=sort)
    query = f"from={first:%Y-%m}&to={last:%Y-%m}"
    months, month = [], timezone.localdate().replace(day=1)
    for _ in range(selectors.MAX_PERIODS):
        months.append(month)
        month = previous_period(month)
    columns = [
        (key, label, f"?{query}&sort={'' if sort == '-' + key else '-'}{key}")
        for key, label in (
            ("tenant", "Tenant"),
            ("month", "Month"),
            ("revenue", "Revenue"),
            ("cost", "Provider cost"),
            ("margin", "Margin"),
        )
    ]
    return render(
        request,
        "billing/staff_margin.html",
        {
            "staff_section": "margin",
            "rows": rows,
            "totals": selectors.margin_totals(rows),
            "first": first,
            "last": last,
            "months": months,
            "sort": sort,
            "columns": columns,
            "query": query,
            "chart_url": reverse("staff:margin_chart") + f"?{query}",
        },
    )


@staff_required
def margin_chart(request: HttpRequest) -> JsonResponse:
    first, last, _ = _months(request)
    return JsonResponse(
        selectors.margin_chart(
            selectors.margin_report(first=first, last=last, sort="month"), first=first, last=last
        )
    )


@staff_required
def margin_export(request: HttpRequest) -> StreamingHttpResponse:
    first, last, sort = _months(request)
    rows = selectors.margin_report(first=first, last=last, sort=sort)
    return margin_csv(rows, name=f"margin-{first:%Y-%m}-{last:%Y-%m}.csv")
