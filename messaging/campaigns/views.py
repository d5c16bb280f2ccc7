"""The tenant's Campaigns pages: list, compose, the campaign (summary or live progress),
per-recipient results and their CSV.

Views parse and authorise; messaging.campaigns.services decides (launch, pause, resume, cancel).
Launching, resuming and cancelling spend or forfeit money, so they need an owner; any member
may compose drafts and pause a running campaign (stopping is always safe).
"""

from __future__ import annotations

import re
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta
from functools import wraps
from typing import Any
from zoneinfo import ZoneInfo

from django.contrib import messages
from django.db import transaction
from django.db.models import Count, Q, Sum
from django.http import HttpRequest, HttpResponse, HttpResponseNotAllowed
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.views.decorators.http import require_GET, require_http_methods
from django.views.decorators.vary import vary_on_headers
from django_htmx.http import HttpResponseStopPolling

from accounts.access import role_required
from accounts.models import Membership
from core.csv_export import csv_lines, csv_response
from core.pagination import keyset_page
from messaging.campaigns.forms import CampaignForm
from messaging.campaigns.models import COST_EXPECTED, Campaign, CampaignRecipient
from messaging.campaigns.placeholders import template_render
from messaging.campaigns.selectors import campaign_preview, campaign_progress, campaign_summary
from messaging.campaigns.services import (
    CampaignError,
    campaign_cancel,
    campaign_launch,
    campaign_pause,
    campaign_resume,
)
from messaging.contacts.models import Contact, ContactList
from messaging.text import sms_size

OWNER = Membership.Role.OWNER
EDITABLE = (Campaign.Status.DRAFT, Campaign.Status.SCHEDULED)
LIVE = (Campaign.Status.LAUNCHING, Campaign.Status.RUNNING, Campaign.Status.PAUSED)
FINISHED = (Campaign.Status.COMPLETED, Campaign.Status.CANCELLED)
# After the last send, delivery reports still arrive for a while: keep the page live that long.
REPORT_WAIT = timedelta(minutes=2)
PAGE_SIZE = 50
RS = CampaignRecipient.Status
# The progress bar's segments, in the order they are drawn.
SEGMENTS = (
    (RS.DELIVERED, "Delivered", "#2e7d32"),
    (RS.SENT, "Sent", "#81c784"),
    (RS.FAILED, "Failed", "#c62828"),
    (RS.SKIPPED, "Skipped", "#9e9e9e"),
    (RS.UNKNOWN, "Unknown", "#e09100"),
    (RS.SENDING, "Sending", "#1565c0"),
    (RS.PENDING, "Queued", "#b0bec5"),
)


CampaignView = Callable[..., HttpResponse]


def campaign_page(*methods: str) -> Callable[[CampaignView], CampaignView]:
    """Load the campaign (404 for another tenant's id, whatever the method), then check the
    method; the view gets the campaign instead of its id."""
    allowed = [*methods, "HEAD"] if "GET" in methods else list(methods)

    def decorator(view: CampaignView) -> CampaignView:
        @wraps(view)
        def wrapper(request: HttpRequest, tenant_slug: str, campaign_id: int) -> HttpResponse:
            campaign = get_object_or_404(Campaign.objects.prefetch_related("lists"), pk=campaign_id)
            if request.method not in allowed:
                return HttpResponseNotAllowed(allowed)
            return view(request, campaign)

        return wrapper

    return decorator


def _detail(request: HttpRequest, campaign: Campaign) -> HttpResponse:
    return redirect("campaigns:detail", tenant_slug=request.tenant.slug, campaign_id=campaign.pk)


# --- the list ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class Row:
    campaign: Campaign
    total: int
    done: int
    sent: int
    failed: int
    price: int | None
    price_pending: bool

    @property
    def done_percent(self) -> int:
        return self.done * 100 // self.total if self.total else 0


@require_GET
def campaign_list(request: HttpRequest, tenant_slug: str) -> HttpResponse:
    page = keyset_page(Campaign.objects.all(), cursor=request.GET.get("after"), size=25)
    ids = [c.pk for c in page.items]
    counts: dict[int, dict[str, int]] = defaultdict(dict)
    prices: dict[int, int] = {}
    pending: set[int] = set()
    for cid, status, n, price, unknown in (
        CampaignRecipient.objects.filter(campaign_id__in=ids)
        .values_list("campaign_id", "status")
        # Pending: no cost reported yet, so the price is missing or still an estimate.
        .annotate(n=Count("id"), spent=Sum("price"), unknown=Count("id", filter=Q(cost=None)))
        .values_list("campaign_id", "status", "n", "spent", "unknown")
    ):
        counts[cid][status] = n
        if price is not None:  # a real zero counts; None is not rated
            prices[cid] = prices.get(cid, 0) + price
        if unknown and status in COST_EXPECTED:
            pending.add(cid)
    rows = []
    for campaign in page.items:
        c = counts.get(campaign.pk, {})
        sent = c.get(RS.SENT, 0) + c.get(RS.DELIVERED, 0)
        rows.append(
            Row(
                campaign=campaign,
                total=sum(c.values()),
                done=sent + c.get(RS.FAILED, 0) + c.get(RS.SKIPPED, 0),
                sent=sent,
                failed=c.get(RS.FAILED, 0),
                price=prices.get(campaign.pk),
                price_pending=campaign.pk in pending,
            )
        )
    # Totals of the campaigns on this page (not of every recipient ever: that table is big).
    known = [r.price for r in rows if r.price is not None]
    totals = {
        "recipients": sum(r.total for r in rows),
        "sent": sum(r.sent for r in rows),
        "failed": sum(r.failed for r in rows),
        "price": sum(known) if known else None,
        "price_pending": any(r.price_pending for r in rows),
    }
    context = {
        "section": "campaigns",
        "rows": rows,
        "page": page,
        "totals": totals,
        "campaign_count": Campaign.objects.count() if rows else 0,
        "has_lists": ContactList.objects.exists(),
    }
    return render(request, "messaging/campaigns.html", context)


# --- compose ----------------------------------------------------------------------------------


def _preview_context(template: str, list_ids: list[int]) -> dict[str, Any]:
    """Three real recipients of the chosen lists with the text each would get.

    The form is not saved yet, so this mirrors campaign_preview with the typed lists and text
    (the campaign page itself shows campaign_preview for the saved campaign).
    """
    contacts = (
        Contact.objects.filter(lists__in=list_ids, opted_out=False).distinct().order_by("phone")
        if list_ids
        else Contact.objects.none()
    )
    previews = [(c, template_render(template, c.template_values())) for c in contacts[:3]]
    return {"preview": _with_sizes(previews), "counter": _counter(template, previews)}


def _with_sizes(previews: list[tuple[Contact, str]]) -> list[dict[str, Any]]:
    return [{"contact": c, "text": text, "size": sms_size(text)} for c, text in previews]


def _counter(template: str, previews: list[tuple[Contact, str]]) -> dict[str, Any]:
    # Placeholders change the length: count the longest text a previewed recipient would get.
    texts = [text for _, text in previews] or [template]
    longest = max(texts, key=lambda t: (sms_size(t).parts, len(t)))
    size = sms_size(longest)
    return {
        "characters": len(longest),
        "encoding": size.encoding,
        "parts": size.parts,
        "from_preview": bool(previews),
    }


def _list_ids(values: list[str]) -> list[int]:
    return [int(v) for v in values if v.isdigit()][:100]


def _compose(request: HttpRequest, campaign: Campaign | None) -> HttpResponse:
    tenant = request.tenant
    form = CampaignForm(request.POST or None, tenant=tenant, instance=campaign)
    if request.method == "POST" and form.is_valid():
        with transaction.atomic():
            if campaign is not None:
                # The beat may start a scheduled campaign meanwhile: edit only what is still ours.
                locked = Campaign.objects.select_for_update().filter(pk=campaign.pk).first()
                if locked is None or locked.status not in EDITABLE:
                    messages.error(request, "The campaign has started; it can no longer change.")
                    return _detail(request, campaign)
            saved = form.save(commit=False)
            if saved.pk is None:
                saved.created_by = request.user
            was_scheduled = saved.status == Campaign.Status.SCHEDULED
            # Any change goes back to draft: the summary and the limit are checked again at launch.
            saved.status = Campaign.Status.DRAFT
            saved.save()
            saved.lists.set(form.cleaned_data["lists"])
        note = " It is a draft again: launch it to schedule it." if was_scheduled else ""
        messages.success(request, f"Campaign “{saved.name}” saved.{note}")
        return _detail(request, saved)
    if request.method == "POST":
        template, list_ids = (
            request.POST.get("template", ""),
            _list_ids(request.POST.getlist("lists")),
        )
    elif campaign is not None:
        template, list_ids = campaign.template, [cl.pk for cl in campaign.lists.all()]
    else:
        template, list_ids = "", []
    context = {
        "section": "campaigns",
        "form": form,
        "campaign": campaign,
        "has_lists": ContactList.objects.exists(),
        **_preview_context(template, list_ids),
    }
    status = 400 if request.method == "POST" else 200
    return render(request, "messaging/campaigns/compose.html", context, status=status)


@require_http_methods(["GET", "POST"])
def campaign_new(request: HttpRequest, tenant_slug: str) -> HttpResponse:
    return _compose(request, None)


@campaign_page("GET", "POST")
def campaign_edit(request: HttpRequest, campaign: Campaign) -> HttpResponse:
    if campaign.status not in EDITABLE:
        messages.error(request, "Only drafts and scheduled campaigns can be edited.")
        return _detail(request, campaign)
    return _compose(request, campaign)


@require_GET
def campaign_compose_preview(request: HttpRequest, tenant_slug: str) -> HttpResponse:
    """HTMX: the preview panel and counter for the text and lists typed so far."""
    context = _preview_context(
        request.GET.get("template", "")[:5000], _list_ids(request.GET.getlist("lists"))
    )
    return render(request, "messaging/campaigns/compose.html#preview", context)


# --- the campaign -----------------------------------------------------------------------------


def _progress_context(campaign: Campaign) -> dict[str, Any]:
    progress = campaign_progress(campaign=campaign)
    total = int(progress["total"])
    segments = []
    offset = 0.0
    for key, label, colour in SEGMENTS:
        n = int(progress.get(key, 0))
        width = (n * 100 / total) if total else 0.0
        segments.append(
            {
                "key": key,
                "label": label,
                "colour": colour,
                "count": n,
                "x": f"{offset:.3f}",
                "w": f"{width:.3f}",
            }
        )
        offset += width
    awaiting_reports = bool(
        progress.get("sent")
        and campaign.finished_at
        and timezone.now() - campaign.finished_at < REPORT_WAIT
    )
    live = campaign.status not in FINISHED or awaiting_reports
    # Summing prices reads every row: done once the campaign has stopped, not every second.
    spent = spent_pending = None
    if not live:
        sums = CampaignRecipient.objects.filter(campaign=campaign).aggregate(
            s=Sum("price"), unknown=Count("id", filter=Q(cost=None, status__in=COST_EXPECTED))
        )
        spent, spent_pending = sums["s"], bool(sums["unknown"])
    return {
        "progress": progress,
        "segments": segments,
        "spent": spent,
        "spent_pending": spent_pending,
        "live": live,
        "awaiting_reports": campaign.status in FINISHED and awaiting_reports,
    }


@campaign_page("GET")
def campaign_detail(request: HttpRequest, campaign: Campaign) -> HttpResponse:
    return _detail_page(request, campaign)


def _detail_page(
    request: HttpRequest, campaign: Campaign, *, error: str = "", status: int = 200
) -> HttpResponse:
    context: dict[str, Any] = {
        "section": "campaigns",
        "campaign": campaign,
        "can_manage": request.tenant_access.can_manage,
        "error": error,
    }
    if campaign.status in EDITABLE:
        context["summary"] = campaign_summary(campaign=campaign)
        context["preview"] = _with_sizes(campaign_preview(campaign=campaign, count=3))
    else:
        context.update(_progress_context(campaign))
    return render(request, "messaging/campaigns/detail.html", context, status=status)


@campaign_page("GET")
def campaign_progress_view(request: HttpRequest, campaign: Campaign) -> HttpResponse:
    """HTMX, every second while the campaign runs; 286 (stop polling) once it has finished and
    its delivery reports are in (or have had REPORT_WAIT to arrive)."""
    context = {
        "campaign": campaign,
        "can_manage": request.tenant_access.can_manage,
        **_progress_context(campaign),
    }
    response = render(request, "messaging/campaigns/detail.html#progress", context)
    if not context["live"]:
        return HttpResponseStopPolling(response.content)
    return response


@role_required(OWNER)
@campaign_page("POST")
def campaign_launch_view(request: HttpRequest, campaign: Campaign) -> HttpResponse:
    try:
        campaign_launch(campaign=campaign, actor=request.user)
    except CampaignError as exc:
        campaign.refresh_from_db()
        return _detail_page(request, campaign, error=str(exc), status=400)
    campaign.refresh_from_db()
    if campaign.status == Campaign.Status.SCHEDULED:
        when = timezone.localtime(campaign.scheduled_at, ZoneInfo(campaign.time_zone))
        messages.success(
            request, f"Scheduled: sending starts {when:%Y-%m-%d %H:%M} ({campaign.time_zone})."
        )
    else:
        messages.success(request, f"Sending to {campaign.recipient_count} recipients.")
    return _detail(request, campaign)


@campaign_page("POST")
def campaign_pause_view(request: HttpRequest, campaign: Campaign) -> HttpResponse:
    try:
        campaign_pause(
            campaign=campaign, actor=request.user, reason=f"Paused by {request.user.email}."
        )
    except CampaignError as exc:
        messages.error(request, str(exc))
    else:
        messages.success(request, "Paused: no new messages are sent until you resume.")
    return _detail(request, campaign)


@role_required(OWNER)
@campaign_page("POST")
def campaign_resume_view(request: HttpRequest, campaign: Campaign) -> HttpResponse:
    try:
        campaign_resume(campaign=campaign, actor=request.user)
    except CampaignError as exc:
        messages.error(request, str(exc))
    else:
        messages.success(request, "Resumed.")
    return _detail(request, campaign)


@role_required(OWNER)
@campaign_page("GET", "POST")
def campaign_cancel_view(request: HttpRequest, campaign: Campaign) -> HttpResponse:
    """GET asks for confirmation (no script needed); POST cancels."""
    if request.method == "GET":
        if campaign.status in FINISHED:
            return _detail(request, campaign)
        progress = campaign_progress(campaign=campaign)
        context = {"section": "campaigns", "campaign": campaign, "progress": progress}
        return render(request, "messaging/campaigns/cancel.html", context)
    try:
        campaign_cancel(campaign=campaign, actor=request.user)
    except CampaignError as exc:
        messages.error(request, str(exc))
    else:
        messages.success(request, "Cancelled: recipients not yet sent will not get the message.")
    return _detail(request, campaign)


# --- per-recipient results --------------------------------------------------------------------


@dataclass(frozen=True)
class RecipientFilters:
    status: str
    digits: str

    @classmethod
    def from_query(cls, query: Any) -> RecipientFilters:
        status = query.get("status", "")
        if status not in CampaignRecipient.Status.values:
            status = ""
        digits = re.sub(r"\D", "", query.get("phone", ""))[:20]
        return cls(status=status, digits=digits)

    @property
    def active(self) -> bool:
        return bool(self.status or self.digits)

    def apply(self, qs: Any) -> Any:
        if self.status:
            qs = qs.filter(status=self.status)
        if self.digits:
            qs = qs.filter(phone__contains=self.digits)
        return qs


def _after(value: str | None) -> int | None:
    return int(value) if value and value.isdigit() else None


@vary_on_headers("HX-Request")
@campaign_page("GET")
def campaign_recipients(request: HttpRequest, campaign: Campaign) -> HttpResponse:
    filters = RecipientFilters.from_query(request.GET)
    qs = filters.apply(CampaignRecipient.objects.filter(campaign=campaign))
    # Keyset on id (the recipient_queue index is (campaign, status, id)): flat at any depth.
    after = _after(request.GET.get("after"))
    if after is not None:
        qs = qs.filter(id__gt=after)
    rows = list(qs.order_by("id")[: PAGE_SIZE + 1])
    items, more = rows[:PAGE_SIZE], len(rows) > PAGE_SIZE
    query = request.GET.copy()
    query.pop("after", None)
    context = {
        "section": "campaigns",
        "campaign": campaign,
        "items": items,
        "next_after": items[-1].pk if more and items else None,
        "is_first": after is None,
        "filters": filters,
        "filter_query": query.urlencode(),
        "statuses": CampaignRecipient.Status.choices,
        "progress": campaign_progress(campaign=campaign),
    }
    template = (
        "messaging/campaigns/recipients.html#results"
        if request.htmx
        else "messaging/campaigns/recipients.html"
    )
    return render(request, template, context)


# The tenant's price, never 46elks' cost.
RECIPIENT_FIELDS = ("phone", "status", "elks_id", "price", "sent_at", "delivered_at", "error")


@campaign_page("GET")
def campaign_recipients_csv(request: HttpRequest, campaign: Campaign) -> HttpResponse:
    filters = RecipientFilters.from_query(request.GET)
    qs = (
        filters.apply(CampaignRecipient.objects.filter(campaign=campaign))
        .order_by("id")
        .values_list(*RECIPIENT_FIELDS)
    )
    stamp = timezone.now().strftime("%Y%m%d-%H%M")
    return csv_response(
        csv_lines(RECIPIENT_FIELDS, qs.iterator(chunk_size=2000)),
        f"campaign-{campaign.pk}-recipients-{stamp}.csv",
    )
