"""Typed 46elks callback payloads: what is required, what gets a default, what fails."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from providers.elks.callbacks import (
    DeliveryReport,
    HangupEvent,
    InboundMms,
    InboundSms,
    RecordingEvent,
    callback_time,
)
from providers.events import PayloadError


def test_callback_time_reads_46elks_times_and_gives_none_for_the_unreadable() -> None:
    assert callback_time("2026-11-25 10:00:00.5") == datetime(2026, 11, 25, 10, 0, 0, 500000, UTC)
    for value in ("", None, "yesterday", "2026-13-45 10:00:00"):
        assert callback_time(value) is None


def test_inbound_sms_requires_id_sender_and_recipient() -> None:
    sms = InboundSms.from_form({"id": "s1", "from": "+46701", "to": "+46702", "created": "x"})
    assert (sms.message, sms.created, sms.created_text) == ("", None, "x")
    with pytest.raises(PayloadError, match='"from"'):
        InboundSms.from_form({"id": "s1", "to": "+46702"})


def test_inbound_mms_keeps_its_image_urls_in_name_order() -> None:
    mms = InboundMms.from_form(
        {"id": "m1", "from": "+1", "to": "+2", "image2": "b", "image1": "a", "image3": ""}
    )
    assert mms.images == ("a", "b")


def test_a_delivery_report_with_an_unknown_status_fails() -> None:
    report = DeliveryReport.from_form({"id": "s1", "status": "delivered", "delivered": "bad"})
    assert (report.delivered, report.delivered_given) == (None, True)
    with pytest.raises(PayloadError, match="unknown status"):
        DeliveryReport.from_form({"id": "s1", "status": "lost"})


def test_a_hangup_parses_json_lists_and_refuses_a_malformed_start() -> None:
    hangup = HangupEvent.from_form(
        {"id": "c1", "direction": "outgoing", "duration": "12", "cost": "1.5", "legs": "[1]"}
    )
    assert (hangup.state, hangup.incoming, hangup.duration, hangup.cost) == (
        "failed",
        False,
        12,
        None,
    )
    assert (hangup.legs, hangup.actions) == ([1], [])
    with pytest.raises(PayloadError, match="malformed timestamp"):
        HangupEvent.from_form({"id": "c1", "start": "soon"})


def test_a_recording_is_known_by_its_46elks_id_not_its_url() -> None:
    event = RecordingEvent.from_form(
        {"callid": "c1", "wav": "https://elsewhere.example/recordings/c1-r2.wav"}
    )
    assert (event.recording_id, event.duration) == ("c1-r2", 0)
    with pytest.raises(PayloadError, match='"wav"'):
        RecordingEvent.from_form({"callid": "c1"})
