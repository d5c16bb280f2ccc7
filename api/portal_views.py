"""The portal's API page: /t/<slug>/api/ (keys, the curl examples, recent requests).

Owners create and revoke keys; members see the keys only when an owner allowed it, and never
a secret: a new key's secret is in the one answer to its creation (never cached) and nowhere
else, since only its hash is stored.
"""

from __future__ import annotations

import json
import shlex
from dataclasses import dataclass

from django.conf import settings
from django.contrib import messages
from django.http import HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET, require_http_methods, require_POST
from django.views.decorators.vary import vary_on_headers

from accounts.access import role_required
from accounts.models import Membership
from accounts.request_types import TenantRequest
from api import services as api_services
from api.forms import KeyCreateForm, MembersSeeKeysForm
from api.htmx import is_htmx
from api.models import ApiKey, Scope
from api.selectors import example_sender, keys_list, request_log_page

OWNER = Membership.Role.OWNER
LOG_PAGE_SIZE = 25
DOCS_URL = "/api/v1/docs"
# What the examples show until a key exists, or in place of a secret shown before.
KEY_ID_PLACEHOLDER = "YOUR_KEY_ID"
SECRET_PLACEHOLDER = "YOUR_SECRET"
SENDER_PLACEHOLDER = "YOUR_NUMBER"
RECIPIENT_PLACEHOLDER = "+46700000000"
EXAMPLE_TEXT = "Hello from our booking system"


@dataclass(frozen=True)
class Permission:
    short: str  # "Send", for the list
    label: str  # what it allows, in plain words


@dataclass(frozen=True)
class KeyRow:
    key: ApiKey
    permissions: list[Permission]


@dataclass(frozen=True)
class CurlExamples:
    check: str  # GET /a1/me: does the key work?
    elks_sms: str  # POST /a1/sms, 46elks' own form
    json_sms: str  # POST /api/v1/messages


def curl_examples(*, base: str, key_id: str, secret: str, sender: str | None) -> CurlExamples:
    """Commands to paste into a shell: every value is shell-quoted, form values URL-encoded."""
    auth = shlex.quote(f"{key_id}:{secret}")
    sender = sender or SENDER_PLACEHOLDER
    body = json.dumps({"from": sender, "to": RECIPIENT_PLACEHOLDER, "body": EXAMPLE_TEXT})
    return CurlExamples(
        check=f"curl {base}/a1/me \\\n  -u {auth}",
        elks_sms="\n".join(
            [
                f"curl {base}/a1/sms \\",
                f"  -u {auth} \\",
                f"  --data-urlencode {shlex.quote('from=' + sender)} \\",
                f"  --data-urlencode {shlex.quote('to=' + RECIPIENT_PLACEHOLDER)} \\",
                f"  --data-urlencode {shlex.quote('message=' + EXAMPLE_TEXT)}",
            ]
        ),
        json_sms="\n".join(
            [
                f"curl {base}/api/v1/messages \\",
                f"  -u {auth} \\",
                '  -H "Content-Type: application/json" \\',
                f"  -d {shlex.quote(body)}",
            ]
        ),
    )


def _permissions(key: ApiKey) -> list[Permission]:
    return [Permission(short=s.value.capitalize(), label=s.label) for s in Scope if key.allows(s)]


def _page_context(
    request: TenantRequest,
    *,
    form: KeyCreateForm | None = None,
    new: api_services.NewKey | None = None,
) -> dict[str, object]:
    tenant = request.tenant
    owner = request.tenant_access.can_manage
    api_settings = api_services.settings_for(tenant)
    show_keys = owner or api_settings.members_see_keys
    keys = keys_list(tenant=tenant) if show_keys else []
    if new is not None:
        key_id, secret = new.key.key_id, new.secret
    else:
        active = next((k for k in keys if k.is_active), None)
        key_id, secret = (active.key_id if active else KEY_ID_PLACEHOLDER), SECRET_PLACEHOLDER
    sender = example_sender(tenant=tenant)
    return {
        "section": "api",
        "owner": owner,
        "show_keys": show_keys,
        "keys": [KeyRow(key=k, permissions=_permissions(k)) for k in keys],
        "new": new,
        "form": form or KeyCreateForm(),
        "settings_form": MembersSeeKeysForm(
            initial={"members_see_keys": api_settings.members_see_keys}
        ),
        "members_see_keys": api_settings.members_see_keys,
        "examples": curl_examples(
            base=settings.PUBLIC_BASE_URL,
            key_id=key_id,
            secret=secret,
            sender=sender,
        ),
        "sender_missing": sender is None,
        "recipient_placeholder": RECIPIENT_PLACEHOLDER,
        "base_url": settings.PUBLIC_BASE_URL,
        "docs_url": DOCS_URL,
        "log": request_log_page(tenant=tenant, cursor=request.GET.get("after"), size=LOG_PAGE_SIZE),
    }


@require_GET
@vary_on_headers("HX-Request")
def api_page(request: TenantRequest, tenant_slug: str) -> HttpResponse:
    context = _page_context(request)
    # The pager of recent requests swaps only its own table.
    template = "api/page.html#requests" if is_htmx(request) else "api/page.html"
    return render(request, template, context)


@require_POST
@role_required(OWNER)
@never_cache
def key_create_view(request: TenantRequest, tenant_slug: str) -> HttpResponse:
    # The answer carries the secret, once: no redirect (it would have to carry the secret),
    # and never_cache (no-store) so no cache or back button keeps it.
    form = KeyCreateForm(request.POST)
    if form.is_valid():
        try:
            new = api_services.key_create(
                tenant=request.tenant,
                label=form.cleaned_data["label"],
                scopes=form.cleaned_data["scopes"],
                actor=request.user,
                request=request,
            )
        except api_services.KeyRefused as refused:
            form.add_error(None, str(refused))
        else:
            return render(request, "api/page.html", _page_context(request, new=new))
    return render(request, "api/page.html", _page_context(request, form=form), status=400)


@require_http_methods(["GET", "HEAD", "POST"])
@role_required(OWNER)
def key_revoke_view(request: TenantRequest, tenant_slug: str, key_id: str) -> HttpResponse:
    """A confirmation page, then the revocation (refused at once on the next request)."""
    key: ApiKey = get_object_or_404(ApiKey.objects.select_related("created_by"), key_id=key_id)
    if request.method == "POST":
        if api_services.key_revoke(key=key, actor=request.user, request=request):
            messages.success(request, f"“{key.label}” is revoked: requests with it are refused.")
        else:
            messages.info(request, f"“{key.label}” was already revoked.")
        return redirect("api_portal:page", tenant_slug=tenant_slug)
    return render(
        request,
        "api/key_revoke.html",
        {
            "section": "api",
            "key": key,
            "base_template": "portal_base.html",
            "cancel_url": reverse("api_portal:page", args=[tenant_slug]),
        },
    )


@require_POST
@role_required(OWNER)
def members_access_view(request: TenantRequest, tenant_slug: str) -> HttpResponse:
    form = MembersSeeKeysForm(request.POST)
    form.is_valid()  # a lone unticked checkbox is always valid: False
    allowed = bool(form.cleaned_data.get("members_see_keys"))
    if allowed != api_services.settings_for(request.tenant).members_see_keys:
        api_services.settings_change(
            tenant=request.tenant, actor=request.user, request=request, members_see_keys=allowed
        )
    note = "Members can now see the API keys." if allowed else "Members no longer see the keys."
    messages.success(request, note)
    return redirect("api_portal:page", tenant_slug=tenant_slug)
