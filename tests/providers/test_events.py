"""The provider-event registry: each app registers its handlers at start-up."""

from __future__ import annotations

import pytest
from django.core.exceptions import ImproperlyConfigured

from calls.events import call_hangup, recording_received
from messaging.campaigns.reports import campaign_delivery_report
from messaging.inbound import delivery_report, inbound_mms, inbound_sms
from providers import events


def test_every_handled_kind_is_registered_by_its_app() -> None:
    registered = {kind: events.handler_for(*kind) for kind in events.handled_kinds()}
    assert registered == {
        ("elks", "sms"): inbound_sms,
        ("elks", "mms"): inbound_mms,
        ("elks", "dlr"): delivery_report,
        ("elks", "cdlr"): campaign_delivery_report,
        ("elks", "hangup"): call_hangup,
        ("elks", "recording"): recording_received,
        ("elks", "voicemail"): recording_received,
    }


def test_a_second_handler_for_a_kind_is_refused() -> None:
    events.register("elks", "sms", inbound_sms)  # the same one again: harmless
    with pytest.raises(ImproperlyConfigured, match="elks:sms"):
        events.register("elks", "sms", inbound_mms)


def test_a_kind_without_a_handler_has_none() -> None:
    with pytest.raises(KeyError):
        events.handler_for("elks", "voice_start")
