"""Reading a provider callback's body: every byte kept, the fields made storable, or a 4xx.

46elks posts form-encoded fields (application/x-www-form-urlencoded). A callback is stored
whatever its bytes: the raw body goes beside the parsed fields, and the fields are made
storable in PostgreSQL, whose `jsonb` and `text` refuse NUL (`\\u0000`) and lone surrogates
(an odd charset such as UTF-7 can decode to those): each becomes U+FFFD in the parsed form only.
A body that is not form data at all (JSON, plain text, no content type) is refused with 415 and
a reason, and nothing is stored: an empty payload would only fail later without saying why.
multipart/form-data is form data too (what most HTTP clients, Django's test client included,
send for a dict), so it is read as well.

Events without an id are de-duplicated on a SHA-256 of the URL path and the raw body: the same
post replayed is stored once, in every process and after restarts, and two different posts
are two events.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from urllib.parse import parse_qsl

from django.conf import settings
from django.core.exceptions import BadRequest, SuspiciousOperation
from django.http import HttpRequest, HttpResponse
from django.http.multipartparser import MultiPartParserError

FORM = "application/x-www-form-urlencoded"
MULTIPART = "multipart/form-data"
# The longest key a provider id keeps as is (WebhookEvent.dedupe_key is 200 characters).
_KEY_MAX = 200


@dataclass(frozen=True)
class Callback:
    fields: dict[str, str]  # storable: no NUL, no lone surrogate
    raw: bytes


class CallbackRefused(Exception):
    """The body cannot be read as form data; `response()` says why (4xx, plain text)."""

    def __init__(self, status: int, reason: str) -> None:
        super().__init__(reason)
        self.status = status
        self.reason = reason

    def response(self) -> HttpResponse:
        return HttpResponse(self.reason, status=self.status, content_type="text/plain")


def callback_read(request: HttpRequest) -> Callback:
    """The callback's fields and raw body, or CallbackRefused (413, 415 or 400)."""
    try:
        raw = request.body
    except SuspiciousOperation:  # RequestDataTooBig
        raise CallbackRefused(413, "Request body too large") from None
    content_type = request.content_type or ""
    if content_type == FORM:
        if raw.count(b"&") >= settings.DATA_UPLOAD_MAX_NUMBER_FIELDS:
            raise CallbackRefused(400, "Too many form fields")
        fields = _urlencoded(raw, request.content_params.get("charset", ""))
    elif content_type == MULTIPART:
        fields = _multipart(request)
    else:
        raise CallbackRefused(
            415,
            f"Unsupported content type {content_type or '(none)'!r}: "
            f"send the fields form-encoded ({FORM})",
        )
    return Callback(fields={storable(k): storable(v) for k, v in fields.items()}, raw=raw)


def storable(text: str) -> str:
    """`text` as PostgreSQL stores it in text and jsonb: NUL and lone surrogates → U+FFFD."""
    if "\x00" in text:
        text = text.replace("\x00", "\ufffd")
    if not text.isascii():
        try:
            text.encode("utf-8")
        except UnicodeEncodeError:
            text = "".join("\ufffd" if 0xD800 <= ord(c) <= 0xDFFF else c for c in text)
    return text


def dedupe_key(event_id: str | None, *, path: str, raw: bytes) -> str:
    """The provider's id when there is one; else a digest of what arrived (see the module)."""
    if event_id and len(event_id) <= _KEY_MAX:
        return event_id
    if event_id:  # not a provider id, but still the same key for the same id
        return "long-id:" + hashlib.sha256(event_id.encode()).hexdigest()
    return "no-id:" + body_digest(path=path, raw=raw)


def body_digest(*, path: str, raw: bytes) -> str:
    return hashlib.sha256(path.encode() + b"\n" + raw).hexdigest()


def token_plausible(token: str) -> bool:
    """Whether a URL token could be one of ours (64 characters at most, no NUL): the others
    answer 404 without a query, which NUL would make fail on PostgreSQL."""
    return 0 < len(token) <= 64 and "\x00" not in token


def _urlencoded(raw: bytes, charset: str) -> dict[str, str]:
    """Fields of a urlencoded body (the last value of a repeated name, like QueryDict.dict()).

    Tolerant where Django is strict (it refuses any charset but UTF-8): a declared charset is
    used when it is a working text codec, else UTF-8; undecodable bytes are replaced.
    """
    for codec in (charset, "utf-8") if charset else ("utf-8",):
        try:
            try:
                text = raw.decode(codec)
            except UnicodeDecodeError:
                text = raw.decode("latin-1")  # misbehaving senders; the raw body keeps the bytes
            return dict(parse_qsl(text, keep_blank_values=True, encoding=codec, errors="replace"))
        except (LookupError, UnicodeError, ValueError, TypeError):
            continue  # not a text codec (e.g. "rot13", "hex"): UTF-8 cannot fail
    raise AssertionError("unreachable: UTF-8 with replacement always decodes")


def _multipart(request: HttpRequest) -> dict[str, str]:
    charset = request.content_params.get("charset", "")
    if charset and not _text_codec(charset):
        request.encoding = "utf-8"
    try:
        return {key: str(value) for key, value in request.POST.items()}
    except (MultiPartParserError, SuspiciousOperation, BadRequest, UnicodeError, LookupError) as e:
        raise CallbackRefused(400, f"Malformed multipart body: {e}"[:300]) from None


def _text_codec(charset: str) -> bool:
    try:
        return "a=b".encode(charset).decode(charset) == "a=b"
    except (LookupError, UnicodeError, ValueError, TypeError):
        return False
