"""POST /a1/sms, /a1/mms and /a1/calls: 46elks' parameters checked with the sandbox's texts,
then the same services as the web pages (sender names, opt-out ledger, parts limit, spend
reservation). A refusal by a service is a 4xx with its own sentence: 403 when it is the
spending limit or balance (46elks answers a usage limit with 403), 400 for the rest.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass

from django.conf import settings
from django.db import transaction

from accounts.models import Tenant
from api.elks import params as p
from api.errors import ApiDenied
from billing.services import SpendRefused, spend_reserve_or_refuse
from calls.models import Call
from calls.services import CallError, click_to_call
from core.url_safety import UnsafeURL, public_addresses
from messaging.images import ImageBytes, ImageRefused, data_uri_image, images_attach
from messaging.models import Message
from messaging.services import (
    SendError,
    optout_blocked,
    parts_check,
    price_estimate,
    sender_resolve,
    sms_queue,
)
from messaging.text import sms_size
from numbers.models import PhoneNumber

SMS_PARAMS = {"from", "to", "message", "whendelivered", "flashsms", "dryrun", "dontlog"}
MMS_PARAMS = {"from", "to", "message", "image"}
URL_MAX = Message._meta.get_field("whendelivered").max_length or 500
CALL_PARAMS = {"from", "to", "voice_start", "whenhangup", "timeout"}


def refused(exc: SendError | CallError) -> ApiDenied:
    status = 403 if isinstance(exc.__cause__, SpendRefused) else 400
    return ApiDenied(status, str(exc))


def sender_check(*, tenant: Tenant, sender: str, capability: str) -> PhoneNumber | None:
    """The sandbox's `from` rules: one of the tenant's active numbers with the capability, or
    a well-formed text sender id (whether the name is approved is sms_queue's rule)."""
    p.sender_format(sender)
    if not sender.startswith("+"):
        return None
    number = PhoneNumber.objects.filter(
        tenant=tenant, number=sender, status=PhoneNumber.Status.ACTIVE
    ).first()
    if number is None:
        raise p.bad('Invalid "from": not one of your active numbers')
    if capability not in number.capabilities:
        raise p.bad(f'Invalid "from": number has no "{capability}" capability')
    return number


def customer_url(value: str, key: str) -> str:
    """An http(s) URL we may later post to (core.url_safety: public address, allowed port)."""
    p.url(value, key)
    if len(value) > URL_MAX:
        raise p.bad(f'Invalid "{key}": longer than {URL_MAX} characters')
    try:
        public_addresses(value, allow_private=settings.CUSTOMER_WEBHOOK_ALLOW_PRIVATE)
    except UnsafeURL as exc:
        raise p.bad(f'Invalid "{key}": {exc}') from None
    return value


# --- SMS ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class SmsRequest:
    sender: str
    to: str
    text: str
    whendelivered: str
    flash: bool
    dryrun: bool
    dontlog: bool
    number: PhoneNumber | None = None  # `from` when it is one of the tenant's numbers


def sms_request(*, tenant: Tenant, params: p.Params) -> SmsRequest:
    p.allow(params, SMS_PARAMS)
    sender = p.require(params, "from")
    to = p.e164(p.require(params, "to"), "to")
    text = p.require(params, "message")
    number = sender_check(tenant=tenant, sender=sender, capability="sms")
    whendelivered = ""
    if "whendelivered" in params:
        whendelivered = customer_url(params["whendelivered"], "whendelivered")
    flash = p.yes_no(params, "flashsms")
    dryrun = p.yes_no(params, "dryrun")
    if params.get("dontlog", "message") != "message":
        raise p.bad('Invalid "dontlog": the only value is "message"')
    return SmsRequest(sender, to, text, whendelivered, flash, dryrun, "dontlog" in params, number)


def sms_send(*, tenant: Tenant, sms: SmsRequest, request_key: uuid.UUID) -> Message:
    try:
        [message] = sms_queue(
            tenant=tenant,
            sender=sms.sender,
            recipients=[sms.to],
            body=sms.text,
            request_key=request_key,
            actor=None,
            flash=sms.flash,
            delivery_report=True,
            source=Message.Source.API,
            whendelivered=sms.whendelivered,
            dontlog=sms.dontlog,
            sender_number=sms.number,
        )
    except SendError as exc:
        raise refused(exc) from exc
    return message


def sms_dry_run(*, tenant: Tenant, sms: SmsRequest) -> tuple[int, int]:
    """(parts, the tenant's estimated price): every rule a send meets, nothing stored or sent.

    The spend check is the real reservation, rolled back: the same rule, no lasting effect.
    """
    try:
        sender_resolve(tenant=tenant, value=sms.sender, number=sms.number)
        parts = parts_check(tenant=tenant, body=sms.text)
        blocked = optout_blocked(tenant=tenant, phones=[sms.to], source=Message.Source.API)
        if blocked:
            raise SendError(
                "These recipients opted out and cannot be messaged: " + ", ".join(sorted(blocked))
            )
        price = price_estimate(tenant_id=tenant.pk, body=sms.text, recipients=[sms.to])
        with transaction.atomic():
            try:
                spend_reserve_or_refuse(tenant_id=tenant.pk, amount=price, what="this message")
            except SpendRefused as exc:
                raise SendError(str(exc)) from exc
            transaction.set_rollback(True)
    except SendError as exc:
        raise refused(exc) from exc
    return parts or sms_size(sms.text).parts, price


# --- MMS ---------------------------------------------------------------------------------


# 46elks' texts for an image that is not one we send (messaging.images.ImageRefused).
IMAGE_REFUSALS = {
    "not_base64_uri": 'Invalid "image": a data: URI must be base64 (data:image/png;base64,...)',
    "bad_base64": 'Invalid "image": not valid base64',
    "too_large": 'Invalid "image": at most {kb} kB',
    "not_an_image": 'Invalid "image": only JPEG, PNG and GIF images can be sent',
}


def mms_image(value: str) -> tuple[ImageBytes | None, str]:
    """(the image of a data: URI, "") or (None, the URL 46elks fetches)."""
    if not value.startswith("data:"):
        return None, p.url(value, "image")
    try:
        return data_uri_image(value), ""
    except ImageRefused as exc:
        kb = settings.MMS_MAX_BYTES // 1000
        raise p.bad(IMAGE_REFUSALS[exc.reason].format(kb=kb)) from None


def mms_send(*, tenant: Tenant, params: p.Params, request_key: uuid.UUID) -> Message:
    p.allow(params, MMS_PARAMS)
    sender = p.require(params, "from")
    to = p.e164(p.require(params, "to"), "to")
    if not params.get("message") and not params.get("image"):
        raise p.missing("message")
    sender_check(tenant=tenant, sender=sender, capability="mms")
    image, image_url = mms_image(params["image"]) if params.get("image") else (None, "")
    try:
        with transaction.atomic():  # the image is attached before the send is published
            [message] = sms_queue(
                tenant=tenant,
                sender=sender,
                recipients=[to],
                body=params.get("message", ""),
                request_key=request_key,
                actor=None,
                kind=Message.Kind.MMS,
                source=Message.Source.API,
            )
            if image is not None or image_url:
                images_attach(queued=[message], image=image, source_url=image_url)
    except SendError as exc:
        raise refused(exc) from exc
    return message


# --- calls -------------------------------------------------------------------------------


def call_place(*, tenant: Tenant, params: p.Params, request_key: uuid.UUID) -> Call:
    """46elks' call API mapped onto click-to-call: `to` is rung first and, when it answers,
    connected to voice_start's `connect` number with our number as the caller id. Other
    voice_start actions and URLs need a call plan the console does not run: refused."""
    p.allow(params, CALL_PARAMS)
    sender = p.e164(p.require(params, "from"), "from")
    to = p.e164(p.require(params, "to"), "to")
    voice_start = p.require(params, "voice_start")
    if not voice_start.lstrip().startswith("{"):
        raise p.bad(
            'Invalid "voice_start": only an inline {"connect": "+46..."} action is supported '
            "here, not a URL"
        )
    action = p.json_action(voice_start, "voice_start")
    connect = action.get("connect")
    if set(action) - {"connect", "callerid"} or not isinstance(connect, str):
        raise p.bad('Invalid "voice_start": only {"connect": "+46..."} is supported here')
    p.e164(connect, "voice_start")
    if action.get("callerid", sender) != sender:
        raise p.bad('Invalid "voice_start": the caller id is always "from"')
    number = sender_check(tenant=tenant, sender=sender, capability="voice")
    assert number is not None  # an E.164 `from` is a number
    if "whenhangup" in params:
        raise p.bad('Unsupported parameter "whenhangup": see the console\'s call log')
    timeout = 30
    if "timeout" in params:
        value = params["timeout"]
        if not p.small_number(value) or not 1 <= int(value) <= 120:
            raise p.bad('Invalid "timeout": seconds between 1 and 120')
        timeout = int(value)
    try:
        return click_to_call(
            tenant=tenant,
            user=None,
            number=number,
            to=connect,
            agent=to,
            request_key=request_key,
            timeout=timeout,
        )
    except CallError as exc:
        raise refused(exc) from exc
