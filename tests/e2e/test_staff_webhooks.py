"""Staff webhooks page: a waiting retry shows its attempts and next try; raw bodies are readable."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from providers.models import WebhookEvent
from providers.services import webhook_store
from tests.e2e.conftest import screenshot, sign_in
from tests.factories import StaffFactory

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]

PASSWORD = "correct horse battery"


def test_staff_see_retries_and_raw_bodies(page, live_server) -> None:  # type: ignore[no-untyped-def]
    StaffFactory(email="staff@reseller.example", password=PASSWORD)
    raw = b"id=s1&from=%2B46700000001&message=Hej%00d%C3%A5"
    webhook_store(
        provider="elks",
        kind="sms",
        dedupe_key="s1",
        payload={"id": "s1", "from": "+46700000001", "message": "Hej\ufffddå"},
        raw=raw,
    )
    WebhookEvent.objects.filter(dedupe_key="s1").update(
        attempts=3,
        error="OperationalError: could not obtain lock on row",
        next_attempt=timezone.now() + timedelta(minutes=2),
    )
    sign_in(page, live_server.url, "staff@reseller.example", PASSWORD)
    page.goto(f"{live_server.url}/staff/webhooks/?status=pending")
    row = page.locator("#events tbody tr").first
    expect(row).to_contain_text("OperationalError: could not obtain lock")
    expect(row).to_contain_text("next ")
    row.get_by_text("show").click()
    expect(row).to_contain_text(f"Raw body ({len(raw)} bytes)")
    for width in (1366, 390):
        page.set_viewport_size({"width": width, "height": 900})
        screenshot(page, f"staff-webhooks-{width}")
