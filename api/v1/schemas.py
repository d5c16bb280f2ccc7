"""Schemas every /api/v1/ module shares: the problem document and the declared error answers,
the page envelope, and the input types that keep what a database cannot store out.

Each operation lists the error statuses it can answer (`responses={200: X, **ERRORS}`), so the
OpenAPI description says what a client will meet and schema-driven tests can hold us to it.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Annotated, Any

from django.db.models import TextChoices
from ninja import Path, Schema
from pydantic import AfterValidator, Field, WithJsonSchema

from billing.ledger.models import UsageKind
from billing.models import BillingAccount
from calls.models import Call, Recording
from messaging.models import Message
from numbers.models import Category, PhoneNumber

# The largest id a row can have (a signed 64-bit key): a larger one would overflow the query.
MAX_ID = 2**63 - 1
MAX_PAGE = 100


class Problem(Schema):
    """RFC 9457 problem details (`application/problem+json`)."""

    type: str = "about:blank"
    title: str
    status: int
    detail: str


# Every authenticated operation can answer these.
ERRORS: dict[int, type[Problem]] = {
    400: Problem,
    401: Problem,
    403: Problem,
    404: Problem,
    409: Problem,
    422: Problem,
    429: Problem,
}


# Declared on each POST, so the reference shows it and the fuzzing sends it.
IDEMPOTENCY_KEY = {
    "parameters": [
        {
            "in": "header",
            "name": "Idempotency-Key",
            "required": False,
            "description": "Any string of 1 to 255 characters: a retry with the same key within "
            "24 hours gets the first answer and never sends twice.",
            "schema": {"type": "string", "minLength": 1, "maxLength": 255},
        }
    ]
}


class Cursor(Schema):
    """Cursor paging: pass `next` back as `cursor` for the following page; null at the end."""

    next: str | None = None


def _no_nul(value: str) -> str:
    # PostgreSQL cannot store NUL in text; Django's forms refuse it the same way.
    if "\x00" in value:
        raise ValueError("must not contain NUL characters")
    return value


# Free text from a client (message bodies, labels): anything printable, no NUL.
Text = Annotated[str, AfterValidator(_no_nul)]
# A phone number or a sender name as typed: what sender and filter lookups accept.
Address = Annotated[str, Field(min_length=1, max_length=20, pattern=r"^\+?[0-9A-Za-z]+$")]
# A row id in a path.
Id = Annotated[int, Path(ge=1, le=MAX_ID)]


def _member(choices: type[TextChoices]) -> Callable[[str], str]:
    values = set(choices.values)

    def check(value: str) -> str:
        if value not in values:
            raise ValueError(f"must be one of: {', '.join(sorted(values))}")
        return value

    return check


def _enum(choices: type[TextChoices]) -> WithJsonSchema:
    schema: dict[str, Any] = {"type": "string", "enum": list(choices.values)}
    return WithJsonSchema(schema)


# The models' choices as inline enums: several are called Status or Kind, and one named
# OpenAPI component per Python name would let one overwrite another.
MessageKind = Annotated[str, AfterValidator(_member(Message.Kind)), _enum(Message.Kind)]
MessageDirection = Annotated[
    str, AfterValidator(_member(Message.Direction)), _enum(Message.Direction)
]
MessageStatus = Annotated[str, AfterValidator(_member(Message.Status)), _enum(Message.Status)]
MessageSource = Annotated[str, AfterValidator(_member(Message.Source)), _enum(Message.Source)]
CallDirection = Annotated[str, AfterValidator(_member(Call.Direction)), _enum(Call.Direction)]
CallState = Annotated[str, AfterValidator(_member(Call.State)), _enum(Call.State)]
CallSource = Annotated[str, AfterValidator(_member(Call.Source)), _enum(Call.Source)]
RecordingKind = Annotated[str, AfterValidator(_member(Recording.Kind)), _enum(Recording.Kind)]
NumberStatus = Annotated[
    str, AfterValidator(_member(PhoneNumber.Status)), _enum(PhoneNumber.Status)
]
NumberCategory = Annotated[str, AfterValidator(_member(Category)), _enum(Category)]
UsageKindName = Annotated[str, AfterValidator(_member(UsageKind)), _enum(UsageKind)]
AccountMode = Annotated[
    str, AfterValidator(_member(BillingAccount.Mode)), _enum(BillingAccount.Mode)
]
