"""The ids a tenant's systems see for messages: 46elks-looking (`s…` for SMS, `m…` for MMS).

The /a1/ API answers with them and the `whendelivered` report carries them, so both use this
one definition. They are the primary key in 32 hex digits: ids are not secret (every lookup is
scoped to the tenant), they only need to look like 46elks' and decode without a query.
"""

from __future__ import annotations

import re

from messaging.models import Message

PREFIX = {Message.Kind.SMS: "s", Message.Kind.MMS: "m"}
_PATTERN = re.compile(r"^([sm])([0-9a-f]{32})$")


def message_public_id(message: Message) -> str:
    return f"{PREFIX[Message.Kind(message.kind)]}{message.pk:032x}"


def message_pk(public_id: str, *, kind: str) -> int | None:
    """The pk behind a public id of this kind, or None when it is not one."""
    found = _PATTERN.match(public_id)
    if found is None or found.group(1) != PREFIX[Message.Kind(kind)]:
        return None
    return int(found.group(2), 16)
