"""A number's callback URLs at 46elks: one token per number authenticates every event.

Pure functions of the number; set at 46elks when the number is rented or its routing
changes (numbers.services), answered by numbers.webhooks and calls.webhooks.
"""

from __future__ import annotations

import re

from django.conf import settings

from numbers.models import PhoneNumber


def hook_url(number: PhoneNumber, kind: str) -> str:
    return f"{settings.PUBLIC_BASE_URL}/hooks/elks/{number.hook_token}/{kind}/"


# The token in a callback URL is the only key to our hooks: whoever has it can post events
# for the number. Users never see it; staff see it behind "Technical details".
_HOOK_TOKEN = re.compile(r"(/hooks/elks/)[^/\s\"'?#]+(?=/)")


def redact_callback_tokens(text: str) -> str:
    """``text`` with every callback token replaced by "…" (the URL's shape stays readable)."""
    return _HOOK_TOKEN.sub(r"\1…", text)


def callback_urls(number: PhoneNumber) -> dict[str, str]:
    """What 46elks holds for a number: every inbound event comes to this dashboard.

    Only for the number's capabilities: 46elks refuses e.g. an mms_url on a number without MMS.
    """
    urls = {}
    if number.has_sms:
        urls["sms_url"] = hook_url(number, "sms")
    if number.has_mms:
        urls["mms_url"] = hook_url(number, "mms")
    if number.has_voice:
        urls["voice_start"] = hook_url(number, "voice")
    return urls
