from django.http import HttpRequest, HttpResponse
from django.shortcuts import render


def number_list(request: HttpRequest, tenant_slug: str) -> HttpResponse:
    return render(request, "numbers/index.html", {"section": "numbers"})
