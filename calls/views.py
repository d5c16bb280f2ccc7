from django.http import HttpRequest, HttpResponse
from django.shortcuts import render


def call_log(request: HttpRequest, tenant_slug: str) -> HttpResponse:
    return render(request, "calls/index.html", {"section": "calls"})
