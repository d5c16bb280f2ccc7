"""Import a small CSV, compose and launch a campaign, and watch its progress bar reach 100%."""

from __future__ import annotations

import re

import pytest
from django_scopes import scope
from playwright.sync_api import expect

from messaging.campaigns import services as campaigns
from messaging.campaigns.models import Campaign
from tests.e2e.conftest import screenshot, shop_create, sign_in
from tests.factories import approved_sender

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]

PASSWORD = "a-long-owner-pass-phrase"
CSV = (
    "phone;name\n"
    "070-000 00 01;Alva Berg\n"
    "070-000 00 02;Bo Ek\n"
    "070-000 00 03;\n"
    "070-000 00 04;Dag Lind\n"
    "070-000 00 05;Eva Ström\n"
    "070-000 00 06;Fia Holm\n"
    "not a number;Nobody\n"
)


def test_a_campaign_runs_to_100_percent_live(
    page, live_server, elks, settings, tmp_path, monkeypatch
) -> None:
    base = live_server.url
    settings.CELERY_TASK_ALWAYS_EAGER = True  # the import and delivery reports run inline
    settings.PUBLIC_BASE_URL = base  # delivery reports come back to the live server
    settings.MEDIA_ROOT = str(tmp_path)  # where the uploaded CSV is kept
    settings.CAMPAIGN_CLAIM_BATCH = 2  # small batches, so the worker can be stopped between
    elks.configure(event_delay=0.3)
    shop = shop_create(name="Café Nord", owner_email="owner@cafenord.example", password=PASSWORD)
    tenant = shop.tenant
    approved_sender(tenant, "CafeNord")

    # Eager Celery would send the whole campaign inside the Launch request, leaving nothing to
    # watch: the test plays the worker instead, in steps, while the page polls.
    enqueued: list[int] = []
    monkeypatch.setattr(campaigns, "enqueue_workers", lambda c, workers=2: enqueued.append(c.pk))

    sign_in(page, base, "owner@cafenord.example", PASSWORD)

    # Import the CSV: upload, map the columns into a new list; the import runs inline (eager).
    page.goto(f"{base}/t/{tenant.slug}/contacts/import/")
    page.get_by_label("CSV file").set_input_files(
        files=[{"name": "guests.csv", "mimeType": "text/csv", "buffer": CSV.encode()}]
    )
    page.get_by_role("button", name="Upload").click()
    page.get_by_label("Add the contacts to").select_option("new")
    page.get_by_label("New list name").fill("Guests")
    page.get_by_label("Country of numbers in national format").select_option("SE")
    page.get_by_role("button", name="Import").click()
    expect(page.locator("#progress")).to_contain_text("Created 6 · updated 0 · rejected 1")

    page.get_by_role("link", name="Campaigns").first.click()
    expect(page.get_by_text("No campaigns yet")).to_be_visible()
    page.get_by_role("button", name="New campaign").first.click()

    page.get_by_label("Name", exact=True).fill("Friday jazz")
    page.locator("#id_sender").select_option("CafeNord")  # an approved sender name
    page.get_by_label("Guests").check()
    page.locator("#id_template").fill("Hi {first_name|friend}, jazz tonight at 8!")
    preview = page.locator("#campaign-preview")
    expect(preview).to_contain_text("Hi Alva, jazz tonight at 8!")  # live, before saving
    expect(preview).to_contain_text("Hi friend, jazz tonight at 8!")
    expect(preview.locator('[data-counter="parts"]')).to_have_text("1")
    page.get_by_label("Send rate (messages per second)").fill("2")
    page.get_by_role("button", name="Save and review").click()

    expect(page.locator('[data-summary="recipients"]')).to_have_text("6")
    expect(page.get_by_text("Fits in your remaining limit.")).to_be_visible()
    page.get_by_role("button", name="Launch now").click()
    expect(page.get_by_text("Sending to 6 recipients.")).to_be_visible()
    progress = page.locator("#progress")
    expect(progress).to_have_attribute("data-status", "running")
    expect(progress).to_have_attribute("data-done", "0")
    with scope(tenant=tenant.pk):
        campaign = Campaign.objects.get()
    assert enqueued == [campaign.pk]

    with scope(tenant=tenant.pk):
        campaigns.campaign_run(campaign_id=campaign.pk, max_seconds=0.05)  # one batch
    # The bar moves without a reload.
    expect(progress).to_have_attribute("data-done", re.compile(r"^[1-9]\d?$"))
    expect(progress.locator('[data-count="pending"]')).not_to_have_text("6")

    with scope(tenant=tenant.pk):
        for _ in range(10):
            campaigns.campaign_run(campaign_id=campaign.pk)
            campaign.refresh_from_db()
            if campaign.status == Campaign.Status.COMPLETED:
                break
    expect(progress).to_have_attribute("data-done", "100", timeout=10_000)
    expect(progress).to_have_attribute("data-status", "completed")
    expect(progress.locator("[data-progress-percent]")).to_have_text("100%")
    # Delivery reports arrive afterwards; the page keeps polling until they are in.
    expect(progress.locator('[data-count="delivered"]')).to_have_text("6", timeout=15_000)
    expect(progress).not_to_have_attribute("hx-trigger", "every 1s", timeout=5_000)
    expect(progress.locator("[data-spent]")).to_have_text("2.63 SEK")  # 6 x 0.4375, the price
    screenshot(page, "campaign-run")

    page.get_by_role("button", name="Recipients and results").click()
    expect(page.locator("#recipients tbody tr")).to_have_count(6)
    expect(page.locator("#recipient-totals")).to_contain_text("6 delivered")
