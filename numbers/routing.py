"""Inbound SMS routing in words: what happens to an SMS sent to a number.

Pure functions of the number's routing fields, the ones messaging.inbound reads when an SMS
arrives (a forward and an auto-reply need SMS on the number; the inbox keeps every message).
The call plan in words is calls.routing.voice_steps, walked from the action itself.
"""

from __future__ import annotations

from dataclasses import dataclass

from numbers.models import PhoneNumber


@dataclass(frozen=True)
class SmsStep:
    kind: str  # "inbox" | "forward" | "webhook" | "autoreply"
    value: str = ""


def sms_steps(number: PhoneNumber) -> list[SmsStep]:
    """Every step an inbound SMS goes through, in the order messaging.inbound takes them;
    empty when the number cannot receive SMS."""
    if not number.has_sms:
        return []
    steps = [SmsStep(kind="inbox")]
    if number.sms_forward_to:
        steps.append(SmsStep(kind="forward", value=number.sms_forward_to))
    if number.sms_webhook_url:
        steps.append(SmsStep(kind="webhook", value=number.sms_webhook_url))
    if number.sms_autoreply_enabled and number.sms_autoreply_text.strip():
        steps.append(SmsStep(kind="autoreply", value=number.sms_autoreply_text.strip()))
    return steps
