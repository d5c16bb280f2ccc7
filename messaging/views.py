from django.http import HttpRequest, HttpResponse
from django.shortcuts import render


def inbox(request: HttpRequest, tenant_slug: str) -> HttpResponse:
    return render(request, "messaging/index.html", {"section": "messages"})


def campaign_list(request: HttpRequest, tenant_slug: str) -> HttpResponse:
    return render(request, "messaging/campaigns.html", {"section": "campaigns"})
