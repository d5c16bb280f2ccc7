"""46elks-compatible endpoints: the paths, form encoding, shapes and plain-text errors of
46elks' /a1/ API, answered from the tenant's own data at the tenant's own prices.

api.middleware has authenticated the key, rate-limited it, claimed the Idempotency-Key and
entered the tenant's scope: every query below goes through the tenant-scoped managers, so
another tenant's id is 404 like an unknown one. Views read parameters, check the scope, call
api.elks.sending (writes) or a queryset (reads) and render (api.elks.render).
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any, TypeVar

from django.conf import settings
from django.db.models import Count, Model, Q, QuerySet
from django.http import FileResponse, Http404, HttpResponse

from accounts.models import Membership
from api import idempotency
from api.elks import ids, paging, render, sending
from api.elks import params as p
from api.errors import ApiDenied, scope_require
from api.request_types import KeyRequest
from billing.selectors import period_usage
from calls.models import Call, Recording
from messaging.models import Message
from numbers.models import PhoneNumber

View = Callable[..., HttpResponse]
M = TypeVar("M", bound=Model)
BIGINT_MAX = 2**63 - 1
LISTED_NUMBERS = (
    PhoneNumber.Status.ACTIVE,
    PhoneNumber.Status.QUARANTINED,
    PhoneNumber.Status.RELEASING,
    PhoneNumber.Status.RELEASED,
)


def elks_json(data: object, status: int = 200) -> HttpResponse:
    return HttpResponse(json.dumps(data), status=status, content_type="application/json")


def methods(**handlers: View) -> View:
    """One URL, a handler per method; any other method is 405 in 46elks' words."""

    def view(request: KeyRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        handler = handlers.get((request.method or "").lower())
        if handler is None:
            raise ApiDenied(405, "Method not allowed")
        return handler(request, *args, **kwargs)

    return view


def _one(queryset: QuerySet[M], pk: int | None) -> M:
    if pk is None or pk > BIGINT_MAX:
        raise Http404
    found = queryset.filter(pk=pk).first()
    if found is None:
        raise Http404
    return found


def _owner(request: KeyRequest) -> str:
    return request.api_key.key_id  # the `id` GET /a1/me answers


# --- messages ------------------------------------------------------------------------------


def _messages(kind: str) -> QuerySet[Message]:
    queryset = Message.objects.filter(kind=kind)
    if kind == Message.Kind.MMS:
        queryset = queryset.annotate(image_count=Count("images"))
    return queryset


def _message_shape(request: KeyRequest, row: Message) -> render.Shape:
    return render.message(row, owner=_owner(request), image_count=getattr(row, "image_count", 0))


def _message_list(request: KeyRequest, kind: str, extra: set[str]) -> HttpResponse:
    scope_require(request, "read")
    params = p.request_params(request)
    p.allow(params, {"limit", "start", "end"} | extra)
    queryset = _messages(kind)
    if "to" in params:
        # 46elks' `to` filter: the message's recipient (ours for incoming, theirs outgoing).
        to = params["to"]
        queryset = queryset.filter(
            Q(other=to, direction=Message.Direction.OUT)
            | Q(ours=to, direction=Message.Direction.IN)
        )
    rows, nxt = paging.page(queryset, params)
    return elks_json(render.page([_message_shape(request, r) for r in rows], nxt))


def _message_item(request: KeyRequest, kind: str, item: str) -> HttpResponse:
    scope_require(request, "read")
    p.allow(p.request_params(request), set())
    row = _one(_messages(kind), ids.message_pk(item, kind=kind))
    return elks_json(_message_shape(request, row))


def sms_list(request: KeyRequest) -> HttpResponse:
    return _message_list(request, Message.Kind.SMS, {"to"})


def sms_item(request: KeyRequest, item: str) -> HttpResponse:
    return _message_item(request, Message.Kind.SMS, item)


def sms_post(request: KeyRequest) -> HttpResponse:
    scope_require(request, "send")
    tenant = request.tenant
    sms = sending.sms_request(tenant=tenant, params=p.request_params(request))
    if sms.dryrun:
        parts, price = sending.sms_dry_run(tenant=tenant, sms=sms)
        shape = render.sms_dry_run(
            sender=sms.sender, to=sms.to, text=sms.text, parts=parts, price=price
        )
        return elks_json(shape)
    key = idempotency.request_key(request)
    message = sending.sms_send(tenant=tenant, sms=sms, request_key=key)
    return elks_json(render.sms_created(message, owner=_owner(request)))


def mms_list(request: KeyRequest) -> HttpResponse:
    return _message_list(request, Message.Kind.MMS, set())


def mms_item(request: KeyRequest, item: str) -> HttpResponse:
    return _message_item(request, Message.Kind.MMS, item)


def mms_post(request: KeyRequest) -> HttpResponse:
    scope_require(request, "send")
    key = idempotency.request_key(request)
    message = sending.mms_send(
        tenant=request.tenant, params=p.request_params(request), request_key=key
    )
    row = _one(_messages(Message.Kind.MMS), message.pk)
    return elks_json(_message_shape(request, row))


# --- calls, recordings ---------------------------------------------------------------------


def calls_list(request: KeyRequest) -> HttpResponse:
    scope_require(request, "read")
    rows, nxt = paging.page(Call.objects.all(), _list_params(request))
    return elks_json(render.page([render.call(r) for r in rows], nxt))


def calls_item(request: KeyRequest, item: str) -> HttpResponse:
    scope_require(request, "read")
    p.allow(p.request_params(request), set())
    return elks_json(render.call(_one(Call.objects.all(), ids.call_pk(item))))


def calls_post(request: KeyRequest) -> HttpResponse:
    scope_require(request, "calls")
    key = idempotency.request_key(request)
    call = sending.call_place(
        tenant=request.tenant, params=p.request_params(request), request_key=key
    )
    return elks_json(render.call(call))


def recordings_list(request: KeyRequest) -> HttpResponse:
    scope_require(request, "read")
    rows, nxt = paging.page(Recording.objects.all(), _list_params(request))
    return elks_json(render.page([render.recording(r) for r in rows], nxt))


def recordings_item(request: KeyRequest, item: str) -> HttpResponse:
    scope_require(request, "read")
    p.allow(p.request_params(request), set())
    wav = item.endswith(".wav")
    row = _one(Recording.objects.all(), ids.recording_pk(item[:-4] if wav else item))
    if not wav:
        return elks_json(render.recording(row))
    if not row.file or row.audio_deleted:
        raise Http404
    return FileResponse(row.file.open("rb"), content_type="audio/wav")


# --- numbers, account ----------------------------------------------------------------------


def _numbers() -> QuerySet[PhoneNumber]:
    return PhoneNumber.objects.filter(status__in=LISTED_NUMBERS).exclude(number="")


def _numbers_scope(request: KeyRequest) -> None:
    if not (request.api_key.allows("numbers") or request.api_key.allows("read")):
        scope_require(request, "numbers")


def numbers_list(request: KeyRequest) -> HttpResponse:
    _numbers_scope(request)
    rows, nxt = paging.page(_numbers(), _list_params(request))
    return elks_json(render.page([render.number(r) for r in rows], nxt))


def numbers_item(request: KeyRequest, item: str) -> HttpResponse:
    _numbers_scope(request)
    p.allow(p.request_params(request), set())
    return elks_json(render.number(_one(_numbers(), ids.number_pk(item))))


def _list_params(request: KeyRequest) -> p.Params:
    params = p.request_params(request)
    p.allow(params, {"limit", "start", "end"})
    return params


def me_get(request: KeyRequest) -> HttpResponse:
    """The account as 46elks shows a subaccount its own: `balance` is what the tenant may
    still spend this period (its limit or prepaid balance, at its own prices), `balanceused`
    what it has spent and reserved, `usagelimit` its monthly limit (prepaid: none)."""
    scope_require(request, "read")
    p.allow(p.request_params(request), set())
    tenant = request.tenant
    usage = period_usage(tenant=tenant)
    owner = (
        Membership.objects.filter(tenant=tenant, role=Membership.Role.OWNER)
        .select_related("user")
        .order_by("pk")
        .first()
    )
    return elks_json(
        {
            "id": _owner(request),
            "displayname": tenant.name,
            "email": owner.user.email if owner else "",
            "mobilenumber": (owner.user.phone or "") if owner else "",
            "currency": settings.ELKS_DEFAULT_CURRENCY,
            "balance": usage.remaining,
            "trialactivated": render.ts(tenant.created),
            "balanceused": usage.committed,
            "usagelimit": None if usage.prepaid else usage.limit,
        }
    )


sms = methods(get=sms_list, post=sms_post)
sms_one = methods(get=sms_item)
mms = methods(get=mms_list, post=mms_post)
mms_one = methods(get=mms_item)
calls = methods(get=calls_list, post=calls_post)
calls_one = methods(get=calls_item)
numbers = methods(get=numbers_list)
numbers_one = methods(get=numbers_item)
recordings = methods(get=recordings_list)
recordings_one = methods(get=recordings_item)
me = methods(get=me_get)
