"""Reading and checking /a1/ parameters the way the 46elks sandbox does, with its texts.

46elks takes form-encoded bodies on POST and query strings on GET; it answers a bad request
with a 400 and a short plain-text reason. Everything here raises api.errors.ApiDenied, which
the middleware answers in that style (`Missing key "to"`, `Unknown parameter "x"`, ...).
"""

from __future__ import annotations

import json
import re
from collections.abc import Collection
from datetime import UTC, datetime
from urllib.parse import parse_qsl

from django.http import HttpRequest

from api.errors import ApiDenied

Params = dict[str, str]

FORM = "application/x-www-form-urlencoded"
# Content types under which 46elks' own sample code sends form bodies ("" = no header).
FORM_LIKE = (FORM, "", "text/plain")
# An unencoded "+" (curl -d to=+46700000000) arrives as a space; 46elks reads it back.
PHONE_FIELDS = frozenset({"to", "from", "number"})
_SPACE_PLUS = re.compile(r" ([0-9]+)")
E164 = re.compile(r"^\+[1-9][0-9]{6,14}$")
SENDER_ID = re.compile(r"^[A-Za-z][A-Za-z0-9]{2,10}$")
URL = re.compile(r"^https?://[^\s/]+(/\S*)?$")
PAGE_MAX = 100


def bad(text: str) -> ApiDenied:
    return ApiDenied(400, text)


def request_params(request: HttpRequest) -> Params:
    """Query string for GET, the form body for POST; JSON, multipart and a query on a POST are
    refused as the sandbox refuses them."""
    if request.method != "POST":
        return _pairs(request.META.get("QUERY_STRING", ""))
    if request.META.get("QUERY_STRING"):
        raise bad("Send parameters form-encoded in the request body")
    body = request.body
    content_type = request.META.get("CONTENT_TYPE", "").split(";")[0].strip().lower()
    if body and content_type not in FORM_LIKE:
        if "json" in content_type:
            raise bad(f"JSON is not accepted: send {FORM}")
        raise bad(f"Unsupported content type: send {FORM}")
    if body.lstrip()[:1] in (b"{", b"["):
        raise bad(f"JSON is not accepted: send {FORM}")
    return _pairs(body.decode("utf-8", errors="replace"))


def _pairs(text: str) -> Params:
    params: Params = {}
    for key, value in parse_qsl(text, keep_blank_values=True):
        if "\x00" in key or "\x00" in value:
            # PostgreSQL text cannot hold NUL: refused here rather than failing in the query.
            raise bad(f'Invalid "{key.replace(chr(0), "")}": contains a NUL character')
        if key in params:
            raise bad(f'Duplicate key "{key}"')
        if key in PHONE_FIELDS and (match := _SPACE_PLUS.fullmatch(value)):
            value = "+" + match.group(1)
        params[key] = value
    return params


def allow(params: Params, allowed: Collection[str]) -> None:
    for key in params:
        if key not in allowed:
            raise bad(f'Unknown parameter "{key}"')


def missing(key: str) -> ApiDenied:
    return bad(f'Missing key "{key}"')


def require(params: Params, key: str) -> str:
    value = params.get(key, "")
    if not value.strip():
        raise missing(key)
    return value


def e164(value: str, key: str) -> str:
    if not E164.fullmatch(value):
        raise bad(f'Invalid "{key}": phone numbers must be in E.164 format (+46...)')
    return value


def sender_format(value: str) -> None:
    """The shape of `from` (a number or a text sender id); whose it is is checked after."""
    if value.startswith("+"):
        e164(value, "from")
    elif not SENDER_ID.fullmatch(value):
        raise bad(
            'Invalid "from": use one of your numbers in E.164 format, or 3-11 letters '
            "and digits not starting with a digit"
        )


def url(value: str, key: str) -> str:
    if not URL.match(value):
        raise bad(f'Invalid "{key}": must be an http(s) URL')
    return value


def yes_no(params: Params, key: str) -> bool:
    if key not in params:
        return False
    if params[key] not in ("yes", "no"):
        raise bad(f'Invalid "{key}": must be "yes" or "no"')
    return params[key] == "yes"


def json_action(value: str, key: str) -> dict[str, object]:
    try:
        parsed = json.loads(value)
    except ValueError:
        raise bad(f'Invalid "{key}": not valid JSON') from None
    if not isinstance(parsed, dict):
        raise bad(f'Invalid "{key}": JSON action must be an object')
    return parsed


def small_number(value: str) -> bool:
    """1 to 4 ASCII digits (str.isdigit also accepts "²", which int() refuses)."""
    return re.fullmatch(r"[0-9]{1,4}", value) is not None


def limit(params: Params) -> int:
    if "limit" not in params:
        return PAGE_MAX
    value = params["limit"]
    if not small_number(value) or not 1 <= int(value) <= PAGE_MAX:
        raise bad(f"limit must be between 1 and {PAGE_MAX}")
    return int(value)


def query_time(params: Params, key: str) -> datetime | None:
    """A `start`/`end` filter: ISO 8601, zoneless meaning UTC (46elks' own format)."""
    if key not in params:
        return None
    try:
        parsed = datetime.fromisoformat(params[key].replace("Z", "+00:00"))
        if parsed.tzinfo is None:
            return parsed.replace(tzinfo=UTC)
        return parsed.astimezone(UTC)
    except (ValueError, OverflowError):  # year 1 or 9999 with an offset overflows
        raise bad(f'Invalid "{key}" timestamp') from None
