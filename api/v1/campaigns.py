"""/api/v1/campaigns/: list, get (status, counts, price so far), create, launch, pause, resume,
cancel.

A campaign is validated by the compose page's own form (messaging.campaigns.forms.CampaignForm:
sender among the tenant's numbers and approved names, placeholders, parts limit, lists of
this tenant, schedule, quiet hours, rate) and driven by the services the campaign page
calls, so the pre-flight and spend checks of a launch (recipients, the longest text, the
remaining usage limit) and the opt-out rules of the sending engine are the same. Reads need
the `read` scope, everything else `send`. Prices are the tenant's, never 46elks' cost.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, time
from typing import Annotated, Any, Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from django.db import transaction
from django.http import HttpResponse
from django.shortcuts import get_object_or_404
from ninja import Field, Path, Query, Router, Schema, Status
from pydantic import AfterValidator, AwareDatetime, StringConstraints, WithJsonSchema

from api.errors import ApiDenied, problem, scope_require
from api.request_types import KeyRequest
from api.v1.inputs import MAX_ID, NO_NUL, PAGE_DEFAULT, PAGE_MAX, ObjectId, Unicode, cursor_check
from api.v1.schemas import ERRORS, Cursor, Problem
from core.pagination import keyset_page
from messaging.campaigns.forms import CampaignForm
from messaging.campaigns.models import Campaign, CampaignRecipient
from messaging.campaigns.selectors import CampaignTotals, campaign_summary, campaign_totals
from messaging.campaigns.services import (
    CampaignError,
    campaign_cancel,
    campaign_launch,
    campaign_pause,
    campaign_resume,
)
from messaging.services import settings_for

router = Router(tags=["Campaigns"])

RS = CampaignRecipient.Status
LAUNCHABLE = (Campaign.Status.DRAFT, Campaign.Status.SCHEDULED)
# Form fields that are one property here.
FIELD_NAMES = {"send_date": "scheduled_at", "send_time": "scheduled_at", "__all__": None}


WALL_CLOCK = r"^([01][0-9]|2[0-3]):[0-5][0-9](:[0-5][0-9](\.[0-9]{1,6})?)?$"


def _wall_clock(value: time | None) -> time | None:
    if value is not None and value.tzinfo is not None:
        raise ValueError("Give a wall-clock time without an offset, e.g. 21:00.")
    return value


Name = Annotated[
    str,
    StringConstraints(strip_whitespace=True, min_length=1, max_length=120, pattern=NO_NUL),
    Unicode,
]
Sender = Annotated[
    str,
    StringConstraints(strip_whitespace=True, min_length=1, max_length=20, pattern=NO_NUL),
    Unicode,
]
Template = Annotated[str, StringConstraints(min_length=1, max_length=5000, pattern=NO_NUL), Unicode]
Zone = Annotated[str, StringConstraints(min_length=1, max_length=50, pattern=NO_NUL), Unicode]
WallClock = Annotated[
    time,
    AfterValidator(_wall_clock),
    WithJsonSchema({"type": "string", "pattern": WALL_CLOCK, "examples": ["21:00"]}),
]
CursorParam = Annotated[str, StringConstraints(max_length=200, pattern=NO_NUL), Unicode]
CampaignId = Annotated[int, Path(ge=1, le=MAX_ID)]


# --- schemas ----------------------------------------------------------------------------------


class CampaignIn(Schema):
    name: Name
    sender: Sender = Field(description="One of your numbers (E.164) or an approved sender name.")
    template: Template = Field(
        description="The text; placeholders from contact fields: {first_name|there}."
    )
    lists: Annotated[list[ObjectId], Field(min_length=1, max_length=100)] = Field(
        description="Ids of your contact lists to send to (a number on several gets one SMS)."
    )
    scheduled_at: AwareDatetime | None = Field(
        None, description="Start sending then (launch first); omitted: when launched."
    )
    time_zone: Zone | None = Field(
        None, description="IANA zone for the schedule and quiet hours; default: your account's."
    )
    quiet_start: WallClock | None = Field(None, description="No sends from this time…")
    quiet_end: WallClock | None = Field(None, description="…until this one (both or neither).")
    quiet_zone: Literal["tenant", "recipient"] = Field(
        "tenant", description="Quiet hours in the campaign's time zone or each recipient's."
    )
    rate: int = Field(5, ge=1, le=2_147_483_647, description="Messages per second (capped).")


class FieldError(Schema):
    field: str | None = None
    message: str | None = None


class FormProblem(Problem):
    """422: each refused property with its reason; nothing was saved."""

    errors: list[FieldError] = Field(default_factory=list)


class Counts(Schema):
    queued: int
    sending: int
    sent: int = Field(description="Accepted by the network, no delivery report yet.")
    delivered: int
    failed: int
    skipped: int = Field(description="Not sent: opted out meanwhile, or the campaign cancelled.")
    unknown: int = Field(description="Sent, the answer lost: settled from 46elks' history.")
    total: int


class Estimate(Schema):
    """Before launch: who would get it and what it would cost, at your prices."""

    recipients: int
    opted_out: int
    duplicates: int
    parts: int
    price: int
    remaining: int = Field(description="What you may still spend this period.")
    fits: bool


class CampaignOut(Schema):
    id: int
    name: str
    status: str = Field(
        description="draft, scheduled, launching, running, paused, completed or cancelled."
    )
    pause_reason: str
    sender: str
    template: str
    lists: list[int]
    scheduled_at: datetime | None
    time_zone: str
    quiet_start: time | None
    quiet_end: time | None
    quiet_zone: str
    rate: int
    recipient_count: int
    counts: Counts
    estimated_price: int = Field(description="Estimated at launch, in 1/10000 of `currency`.")
    price: int | None = Field(description="The price of the sends so far; null: none rated.")
    price_pending: bool = Field(description="Some sends have no final price yet.")
    currency: str
    estimate: Estimate | None = Field(None, description="Drafts and scheduled campaigns only.")
    created: datetime
    launched_at: datetime | None
    finished_at: datetime | None


class CampaignPage(Cursor):
    items: list[CampaignOut]


class CampaignQuery(Schema):
    status: (
        Literal["draft", "scheduled", "launching", "running", "paused", "completed", "cancelled"]
        | None
    ) = None
    cursor: CursorParam | None = None
    limit: int = Field(PAGE_DEFAULT, ge=1, le=PAGE_MAX)


# --- helpers ----------------------------------------------------------------------------------


def _counts(totals: CampaignTotals) -> Counts:
    c = totals.counts
    return Counts(
        queued=c.get(RS.PENDING, 0),
        sending=c.get(RS.SENDING, 0),
        sent=c.get(RS.SENT, 0),
        delivered=c.get(RS.DELIVERED, 0),
        failed=c.get(RS.FAILED, 0),
        skipped=c.get(RS.SKIPPED, 0),
        unknown=c.get(RS.UNKNOWN, 0),
        total=sum(c.values()),
    )


def _out(campaign: Campaign, totals: CampaignTotals, *, estimate: bool = False) -> CampaignOut:
    guess = None
    if estimate and campaign.status in LAUNCHABLE:
        summary = campaign_summary(campaign=campaign)
        guess = Estimate(
            recipients=summary.recipients,
            opted_out=summary.opted_out,
            duplicates=summary.duplicates,
            parts=summary.parts,
            price=summary.estimated_cost,
            remaining=summary.remaining,
            fits=summary.fits,
        )
    return CampaignOut(
        id=campaign.pk,
        name=campaign.name,
        status=campaign.status,
        pause_reason=campaign.pause_reason,
        sender=campaign.sender,
        template=campaign.template,
        lists=sorted(cl.pk for cl in campaign.lists.all()),
        scheduled_at=campaign.scheduled_at,
        time_zone=campaign.time_zone,
        quiet_start=campaign.quiet_start,
        quiet_end=campaign.quiet_end,
        quiet_zone=campaign.quiet_zone,
        rate=campaign.rate,
        recipient_count=campaign.recipient_count,
        counts=_counts(totals),
        estimated_price=campaign.estimated_cost,
        price=totals.price,
        price_pending=totals.price_pending,
        currency=campaign.tenant.currency,
        estimate=guess,
        created=campaign.created,
        launched_at=campaign.launched_at,
        finished_at=campaign.finished_at,
    )


def _one(campaign_id: int) -> Campaign:
    return get_object_or_404(
        Campaign.objects.select_related("tenant").prefetch_related("lists"), pk=campaign_id
    )


def _answer(campaign_id: int) -> CampaignOut:
    campaign = _one(campaign_id)
    return _out(campaign, campaign_totals([campaign.pk])[campaign.pk], estimate=True)


def _form_data(request: KeyRequest, payload: CampaignIn) -> dict[str, Any]:
    """The compose form's fields for this payload (the schedule as a date and a wall-clock
    time in the campaign's zone, as the page asks for it)."""
    zone_name = payload.time_zone or settings_for(request.tenant).time_zone
    data: dict[str, Any] = {
        "name": payload.name,
        "sender": payload.sender,
        "template": payload.template,
        "lists": [str(pk) for pk in payload.lists],
        "time_zone": zone_name,
        "quiet_start": payload.quiet_start.isoformat() if payload.quiet_start else "",
        "quiet_end": payload.quiet_end.isoformat() if payload.quiet_end else "",
        "quiet_zone": payload.quiet_zone,
        "rate": str(payload.rate),
        "send_date": "",
        "send_time": "",
    }
    if payload.scheduled_at is None:
        return data
    try:
        zone = ZoneInfo(zone_name)
    except (ZoneInfoNotFoundError, ValueError):
        return data  # the form refuses the zone
    try:
        local = payload.scheduled_at.astimezone(zone)
    except (ValueError, OverflowError):
        raise ApiDenied(422, "scheduled_at: not a time a campaign can start at.") from None
    data["send_date"] = local.date().isoformat()
    data["send_time"] = local.time().isoformat()
    return data


def _refused(form: CampaignForm) -> HttpResponse:
    errors = [
        {"field": FIELD_NAMES.get(name, name), "message": message}
        for name, messages in form.errors.items()
        for message in messages
    ]
    first = errors[0]
    where = f"{first['field']}: " if first["field"] else ""
    return problem(422, f"{where}{first['message']}", errors=errors)


# --- reads ------------------------------------------------------------------------------------


@router.get("", response={200: CampaignPage, **ERRORS}, summary="List campaigns")
def campaigns_list(request: KeyRequest, query: Query[CampaignQuery]) -> CampaignPage:
    """Newest first, with each campaign's counts and price so far."""
    scope_require(request, "read")
    campaigns = Campaign.objects.select_related("tenant").prefetch_related("lists")
    if query.status:
        campaigns = campaigns.filter(status=query.status)
    page = keyset_page(campaigns, cursor=cursor_check(query.cursor), size=query.limit)
    totals = campaign_totals([c.pk for c in page.items])
    return CampaignPage(items=[_out(c, totals[c.pk]) for c in page.items], next=page.next_cursor)


@router.get("/{int:campaign_id}", response={200: CampaignOut, **ERRORS}, summary="Get a campaign")
def campaigns_get(request: KeyRequest, campaign_id: CampaignId) -> CampaignOut:
    """Its status, recipients per status and price so far; a draft's estimate."""
    scope_require(request, "read")
    return _answer(campaign_id)


# --- writes -----------------------------------------------------------------------------------


@router.post(
    "",
    response={201: CampaignOut, **ERRORS, 422: FormProblem},
    summary="Create a campaign (a draft)",
)
def campaigns_create(
    request: KeyRequest, payload: CampaignIn
) -> Status[CampaignOut] | HttpResponse:
    """Validated as the compose page does; 422 lists each refused property. Launch it next."""
    scope_require(request, "send")
    form = CampaignForm(_form_data(request, payload), tenant=request.tenant)
    if not form.is_valid():
        return _refused(form)
    with transaction.atomic():
        campaign = form.save(commit=False)
        campaign.status = Campaign.Status.DRAFT
        campaign.save()
        campaign.lists.set(form.cleaned_data["lists"])
    return Status(201, _answer(campaign.pk))


def _transition(
    request: KeyRequest,
    campaign_id: int,
    act: Callable[[Campaign], object],
    *,
    refused: int = 409,
) -> CampaignOut:
    """Launch, pause, resume or cancel: the `send` scope, the tenant's campaign, the service,
    and its refusal as `refused` with the service's own sentence."""
    scope_require(request, "send")
    campaign = _one(campaign_id)
    try:
        act(campaign)
    except CampaignError as exc:
        raise ApiDenied(refused, str(exc)) from exc
    return _answer(campaign.pk)


@router.post("/{int:campaign_id}/launch", response={200: CampaignOut, **ERRORS}, summary="Launch")
def campaigns_launch(request: KeyRequest, campaign_id: CampaignId) -> CampaignOut:
    """Checks what the campaign page checks (someone to send to, every text within the parts
    limit, the estimated price within what you may still spend: 422 with the reason), then
    starts sending, or schedules it when it has a future `scheduled_at`."""

    def launch(campaign: Campaign) -> None:
        if campaign.status not in LAUNCHABLE:
            raise ApiDenied(
                409, f"The campaign is {campaign.status}: only a draft can be launched."
            )
        campaign_launch(campaign=campaign, actor=None)

    return _transition(request, campaign_id, launch, refused=422)


@router.post("/{int:campaign_id}/pause", response={200: CampaignOut, **ERRORS}, summary="Pause")
def campaigns_pause(request: KeyRequest, campaign_id: CampaignId) -> CampaignOut:
    """No new messages go out until it is resumed (within ten sends)."""
    reason = f"Paused through the API (key {request.api_key.key_id})."
    return _transition(
        request,
        campaign_id,
        lambda campaign: campaign_pause(campaign=campaign, actor=None, reason=reason),
    )


@router.post("/{int:campaign_id}/resume", response={200: CampaignOut, **ERRORS}, summary="Resume")
def campaigns_resume(request: KeyRequest, campaign_id: CampaignId) -> CampaignOut:
    return _transition(
        request, campaign_id, lambda campaign: campaign_resume(campaign=campaign, actor=None)
    )


@router.post("/{int:campaign_id}/cancel", response={200: CampaignOut, **ERRORS}, summary="Cancel")
def campaigns_cancel(request: KeyRequest, campaign_id: CampaignId) -> CampaignOut:
    """Recipients not yet sent will not get the message (they are counted as skipped)."""
    return _transition(
        request, campaign_id, lambda campaign: campaign_cancel(campaign=campaign, actor=None)
    )
