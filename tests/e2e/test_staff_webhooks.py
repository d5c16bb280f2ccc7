"""Staff webhooks page: a waiting retry shows its attempts and next try; raw bodies are readable."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from providers.models import WebhookEvent
from providers.services import webhook_store
from tests.e2e.conftest import screenshot, sign_in
from tests.factories import StaffFactory, WebhookEventFactory

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]

PASSWORD = "correct horse battery"


def test_staff_see_retries_and_raw_bodies(page, live_server) -> None:
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


def test_the_backlog_panel_refreshes_itself(page, live_server) -> None:
    StaffFactory(email="staff@reseller.example", password=PASSWORD)
    now = timezone.now()
    WebhookEventFactory(received=now - timedelta(minutes=3, seconds=12))
    WebhookEventFactory(next_attempt=now + timedelta(minutes=2), attempts=1)
    WebhookEventFactory(status="failed", error="Invalid payload: missing field 'from'")
    for ago in (timedelta(seconds=30), timedelta(minutes=3)):
        WebhookEventFactory(status="processed", processed=now - ago)
    sign_in(page, live_server.url, "staff@reseller.example", PASSWORD)
    page.goto(f"{live_server.url}/staff/webhooks/")
    expect(page.locator("#backlog-pending")).to_contain_text("1 of them waits for a retry")
    expect(page.locator("#backlog-oldest")).to_contain_text("3 min 1")
    expect(page.locator("#backlog-rate")).to_contain_text("2 in 5 minutes")
    expect(page.locator("#backlog-failed strong")).to_have_text("1")
    WebhookEventFactory(status="failed")
    expect(page.locator("#backlog-failed strong")).to_have_text("2", timeout=8_000)  # no reload
    expect(page.locator("#backlog")).to_contain_text("Failed (2)")
    for width in (1366, 390):
        page.set_viewport_size({"width": width, "height": 900})
        screenshot(page, f"staff-webhooks-backlog-{width}")
