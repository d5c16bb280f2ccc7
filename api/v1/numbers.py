"""/api/v1/numbers: the tenant's numbers, and their routing changed as on the number page.

A PATCH is validated by the number page's own form (`numbers.forms.RoutingForm`: E.164
forwards, a public webhook URL, capability checks) over the number's current routing with the
given fields changed, then saved through `numbers.services.number_route`, which also tells
46elks. See docs/api.md.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from django.shortcuts import get_object_or_404
from ninja import Query, Router, Schema
from pydantic import Field

from api.errors import ApiDenied, problem
from api.request_types import KeyRequest
from api.v1.paging import page_of
from api.v1.schemas import ERRORS, MAX_PAGE, Id, NumberCategory, NumberStatus, Text
from billing.ledger.services import Rater
from numbers.billing import number_month_price
from numbers.forms import MAX_FORWARDS, RoutingForm
from numbers.models import PhoneNumber
from numbers.services import NumberError, number_route

router = Router(tags=["Numbers"])


def _scope_read(request: KeyRequest) -> None:
    key = request.api_key
    if not (key.allows("read") or key.allows("numbers")):
        raise ApiDenied(403, "This API key does not have the “read” or “numbers” permission.")


class Forward(Schema):
    to: Text = Field(max_length=40, description="A phone number, called in turn.")
    timeout: int = Field(20, ge=5, le=120, description="Seconds to ring before the next.")


class Routing(Schema):
    sms_forward_to: str = Field(description="Inbound SMS are also forwarded to this number.")
    sms_webhook_url: str = Field(description="Inbound SMS and MMS are also posted here.")
    sms_autoreply_enabled: bool
    sms_autoreply_text: str
    voice_forwards: list[Forward] = Field(description="Inbound calls ring these in turn.")
    voicemail_enabled: bool
    voicemail_greeting: int | None = Field(description="A greeting id; null: built in.")
    record_calls: bool


class NumberOut(Schema):
    id: int
    number: str
    country: str
    category: NumberCategory
    capabilities: list[str]
    status: NumberStatus
    label: str
    note: str
    monthly_price: int | None = Field(description="Your price per month, 1/10000 currency.")
    created: datetime
    routing: Routing

    @staticmethod
    def of(number: PhoneNumber, rater: Rater | None = None) -> dict[str, object]:
        return {
            "id": number.pk,
            "number": number.number,
            "country": number.country,
            "category": number.category,
            "capabilities": number.capabilities,
            "status": number.status,
            "label": number.label,
            "note": number.note,
            "monthly_price": number_month_price(number, rater),
            "created": number.created,
            "routing": {
                "sms_forward_to": number.sms_forward_to,
                "sms_webhook_url": number.sms_webhook_url,
                "sms_autoreply_enabled": number.sms_autoreply_enabled,
                "sms_autoreply_text": number.sms_autoreply_text,
                "voice_forwards": [
                    {"to": f.get("to", ""), "timeout": f.get("timeout", 20)}
                    for f in number.voice_forwards
                    if isinstance(f, dict)
                ],
                "voicemail_enabled": number.voicemail_enabled,
                "voicemail_greeting": number.voicemail_greeting_id,
                "record_calls": number.record_calls,
            },
        }


class NumberPage(Schema):
    items: list[NumberOut]
    next: str | None = None


class RoutingPatch(Schema):
    """Only the fields given change; the others keep their current value."""

    label: Text | None = Field(None, max_length=50)
    note: Text | None = Field(None, max_length=2000)
    sms_forward_to: Text | None = Field(None, max_length=40)
    sms_webhook_url: Text | None = Field(None, max_length=500)
    sms_autoreply_enabled: bool | None = None
    sms_autoreply_text: Text | None = Field(None, max_length=480)
    voice_forwards: list[Forward] | None = Field(None, max_length=MAX_FORWARDS)
    voicemail_enabled: bool | None = None
    voicemail_greeting: int | None = Field(None, ge=1, le=2**63 - 1)
    record_calls: bool | None = None


@router.get("", response={200: NumberPage, **ERRORS}, summary="List numbers")
def number_list(
    request: KeyRequest,
    cursor: str | None = Query(None, max_length=200),
    limit: int = Query(50, ge=1, le=MAX_PAGE),
    status: NumberStatus | None = None,
) -> dict[str, object]:
    """Newest first; released numbers too (filter with `status=active`)."""
    _scope_read(request)
    qs = PhoneNumber.objects.filter(tenant=request.tenant)
    if status:
        qs = qs.filter(status=status)
    page = page_of(qs, cursor=cursor, limit=limit)
    rater = Rater()
    return {"items": [NumberOut.of(n, rater) for n in page.items], "next": page.next_cursor}


@router.get("/{number_id}", response={200: NumberOut, **ERRORS}, summary="Get a number")
def number_get(request: KeyRequest, number_id: Id) -> dict[str, object]:
    _scope_read(request)
    return NumberOut.of(get_object_or_404(PhoneNumber, pk=number_id, tenant=request.tenant))


def _form_data(number: PhoneNumber, patch: dict[str, Any]) -> dict[str, Any]:
    """The routing form as the number page would post it: current values, then the patch.
    A checkbox is posted only when on, as a browser does."""
    current = NumberOut.of(number)["routing"]
    assert isinstance(current, dict)
    values: dict[str, Any] = {"label": number.label, "note": number.note, **current, **patch}
    data: dict[str, Any] = {}
    for field in ("label", "note", "sms_forward_to", "sms_webhook_url", "sms_autoreply_text"):
        data[field] = values[field] or ""
    for field in ("sms_autoreply_enabled", "voicemail_enabled", "record_calls"):
        if values[field]:
            data[field] = "on"
    data["voicemail_greeting"] = values["voicemail_greeting"] or ""
    for i, forward in enumerate(values["voice_forwards"], start=1):
        data[f"forward_{i}"] = forward["to"]
        data[f"timeout_{i}"] = forward.get("timeout", 20)
    return data


@router.patch(
    "/{number_id}", response={200: NumberOut, **ERRORS}, summary="Change a number's routing"
)
def number_patch(request: KeyRequest, number_id: Id, payload: RoutingPatch) -> Any:
    """Validated as the number page's routing form; saved here and sent to 46elks."""
    if not request.api_key.allows("numbers"):
        raise ApiDenied(403, "This API key does not have the “numbers” permission.")
    number = get_object_or_404(PhoneNumber, pk=number_id, tenant=request.tenant)
    if number.status != PhoneNumber.Status.ACTIVE:
        raise ApiDenied(409, "Only an active number can be routed.")
    patch = payload.model_dump(exclude_unset=True)
    if "voice_forwards" in patch and patch["voice_forwards"] is None:
        patch["voice_forwards"] = []
    form = RoutingForm(_form_data(number, patch), instance=number)
    if not form.is_valid():
        errors = [
            {"field": None if field == "__all__" else _api_field(field), "message": message}
            for field, messages in form.errors.items()
            for message in messages
        ]
        first = errors[0]
        where = f"{first['field']}: " if first["field"] else ""
        return problem(422, f"{where}{first['message']}", errors=errors)
    try:
        number_route(number=number, actor=None, api_key=request.api_key.key_id, **form.routing())
    except NumberError as exc:
        raise ApiDenied(400, str(exc)) from None
    number.refresh_from_db()
    return NumberOut.of(number)


def _api_field(field: str) -> str:
    """forward_2 / timeout_2 on the form are voice_forwards.1.to / .timeout here."""
    for prefix, name in (("forward_", "to"), ("timeout_", "timeout")):
        if field.startswith(prefix) and field[len(prefix) :].isdigit():
            return f"voice_forwards.{int(field[len(prefix) :]) - 1}.{name}"
    return field
